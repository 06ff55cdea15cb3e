"""Pure-Python reference of GOST R 34.10-2012 signatures on a short Weierstrass curve.

This is the readable twin of the C core (``_ec_c``) and implements the curve backend interface described in
:mod:`signagent.gost._backend`: ``CurveEngine(p, a, b, q, gx, gy)`` with big-endian byte-string arguments.

Arithmetic.  Points are kept in Jacobian coordinates (X, Y, Z) standing for the affine point (X/Z^2, Y/Z^3), so
that adding and doubling need no field inversion; Z == 0 is the point at infinity O.  Scalar multiplication is
a fixed 4-bit window (15 precomputed multiples, then 4 doublings and at most one addition per nibble); the base
point's table is built once per engine.  Verification computes z1*P + z2*Q with both windows interleaved
(Shamir's trick), sharing the doublings.

This module is *not* constant time (Python integers never are); it is the fallback when the native core is not
built and the oracle the native core is tested against.  GOST R 34.10-2012 section numbers below refer to the
standard's text (section 6.1 signing, 6.2 verification).
"""

from __future__ import annotations

import secrets

from ..errors import (
    InvalidInputError,
    InvalidKeyError,
    InvalidLengthError,
    InvalidPointError,
    InvalidSignatureFormatError,
    InvalidTypeError,
)

__all__ = ["CurveEngine"]

_BYTES_LIKE = (bytes, bytearray, memoryview)
_WINDOW = 4  # bits per window of the scalar multiplication
_INFINITY = (1, 1, 0)  # Jacobian representation of O (any point with Z == 0)


class CurveEngine:
    """Arithmetic and GOST R 34.10-2012 signing/verification on y^2 = x^3 + a*x + b over GF(p).

    Every argument is a big-endian byte string of one common length ``size`` (32 or 64); (gx, gy) is the base
    point P of prime order q.
    """

    __slots__ = ("_a", "_b", "_g_table", "_gx", "_gy", "_p", "_q", "_qbits", "size")

    def __init__(self, p: bytes, a: bytes, b: bytes, q: bytes, gx: bytes, gy: bytes) -> None:
        args = (p, a, b, q, gx, gy)
        for value in args:
            if not isinstance(value, _BYTES_LIKE):
                raise InvalidTypeError("curve parameters must be bytes")
        sizes = {len(value) for value in args}
        if len(sizes) != 1 or next(iter(sizes)) not in (32, 64):
            raise InvalidLengthError("curve parameters must all be 32 or all be 64 bytes long")
        self.size = len(p)
        self._p, self._a, self._b, self._q, self._gx, self._gy = (int.from_bytes(v, "big") for v in args)
        if self._p <= 3 or self._p % 2 == 0 or not 1 < self._q or self._a >= self._p or self._b >= self._p:
            raise InvalidInputError("invalid curve parameters")
        if not self._on_curve(self._gx, self._gy):
            raise InvalidPointError("the base point is not on the curve")
        self._qbits = self._q.bit_length()
        self._g_table: list[tuple[int, int, int]] | None = None

    # --- byte-string helpers -----------------------------------------------------------------------------------

    def _int(self, value: object, what: str) -> int:
        """A big-endian ``size``-byte argument as an int (typed errors for anything else)."""
        if not isinstance(value, _BYTES_LIKE):
            raise InvalidTypeError(f"{what} must be bytes, not {type(value).__name__}")
        if len(value) != self.size:
            raise InvalidLengthError(f"{what} must be {self.size} bytes long, not {len(value)}")
        return int.from_bytes(value, "big")

    def _scalar_in_range(self, value: object, what: str, error: type[InvalidInputError]) -> int:
        """A scalar that must satisfy 0 < value < q."""
        n = self._int(value, what)
        if not 0 < n < self._q:
            raise error(f"{what} must be in the range 1..q-1")
        return n

    def _point_bytes(self, point: tuple[int, int, int]) -> bytes | None:
        affine = self._to_affine(point)
        if affine is None:
            return None
        return affine[0].to_bytes(self.size, "big") + affine[1].to_bytes(self.size, "big")

    # --- field and group arithmetic -------------------------------------------------------------------------------

    def _on_curve(self, x: int, y: int) -> bool:
        p = self._p
        return 0 <= x < p and 0 <= y < p and (y * y - (x * x * x + self._a * x + self._b)) % p == 0

    def _to_affine(self, point: tuple[int, int, int]) -> tuple[int, int] | None:
        x, y, z = point
        if z == 0:
            return None
        p = self._p
        zi = pow(z, -1, p)
        zi2 = zi * zi % p
        return x * zi2 % p, y * zi2 * zi % p

    def _double(self, point: tuple[int, int, int]) -> tuple[int, int, int]:
        # Jacobian doubling for a general a: M = 3*X^2 + a*Z^4, S = 4*X*Y^2, X3 = M^2 - 2S,
        # Y3 = M*(S - X3) - 8*Y^4, Z3 = 2*Y*Z.
        x, y, z = point
        if z == 0 or y == 0:
            return _INFINITY
        p = self._p
        yy = y * y % p
        s = 4 * x * yy % p
        zz = z * z % p
        m = (3 * x * x + self._a * zz * zz) % p
        x3 = (m * m - 2 * s) % p
        y3 = (m * (s - x3) - 8 * yy * yy) % p
        z3 = 2 * y * z % p
        return x3, y3, z3

    def _add(self, p1: tuple[int, int, int], p2: tuple[int, int, int]) -> tuple[int, int, int]:
        # Jacobian addition: U1 = X1*Z2^2, U2 = X2*Z1^2, S1 = Y1*Z2^3, S2 = Y2*Z1^3, H = U2 - U1, R = S2 - S1,
        # X3 = R^2 - H^3 - 2*U1*H^2, Y3 = R*(U1*H^2 - X3) - S1*H^3, Z3 = H*Z1*Z2.
        x1, y1, z1 = p1
        x2, y2, z2 = p2
        if z1 == 0:
            return p2
        if z2 == 0:
            return p1
        p = self._p
        z1z1 = z1 * z1 % p
        z2z2 = z2 * z2 % p
        u1 = x1 * z2z2 % p
        u2 = x2 * z1z1 % p
        s1 = y1 * z2 * z2z2 % p
        s2 = y2 * z1 * z1z1 % p
        h = (u2 - u1) % p
        r = (s2 - s1) % p
        if h == 0:
            # Same x: either the same point (double it) or opposite points (sum is O).
            return self._double(p1) if r == 0 else _INFINITY
        hh = h * h % p
        hhh = h * hh % p
        v = u1 * hh % p
        x3 = (r * r - hhh - 2 * v) % p
        y3 = (r * (v - x3) - s1 * hhh) % p
        z3 = h * z1 * z2 % p
        return x3, y3, z3

    def _table(self, point: tuple[int, int, int]) -> list[tuple[int, int, int]]:
        """[O, P, 2P, ..., 15P] for the fixed window."""
        table = [_INFINITY, point]
        for _ in range(2, 1 << _WINDOW):
            table.append(self._add(table[-1], point))
        return table

    def _base_table(self) -> list[tuple[int, int, int]]:
        if self._g_table is None:
            self._g_table = self._table((self._gx, self._gy, 1))
        return self._g_table

    def _nibbles(self, k: int, bits: int) -> list[int]:
        count = (bits + _WINDOW - 1) // _WINDOW
        mask = (1 << _WINDOW) - 1
        return [(k >> (_WINDOW * i)) & mask for i in range(count - 1, -1, -1)]

    def _multiply(self, k: int, table: list[tuple[int, int, int]]) -> tuple[int, int, int]:
        """k * T where table = self._table(T); k >= 0."""
        acc = _INFINITY
        for nibble in self._nibbles(k, k.bit_length()):
            for _ in range(_WINDOW):
                acc = self._double(acc)
            if nibble:
                acc = self._add(acc, table[nibble])
        return acc

    def _multiply2(
        self, k1: int, table1: list[tuple[int, int, int]], k2: int, table2: list[tuple[int, int, int]]
    ) -> tuple[int, int, int]:
        """k1 * T1 + k2 * T2 with shared doublings (Shamir's trick)."""
        bits = max(k1.bit_length(), k2.bit_length())
        acc = _INFINITY
        for n1, n2 in zip(self._nibbles(k1, bits), self._nibbles(k2, bits), strict=True):
            for _ in range(_WINDOW):
                acc = self._double(acc)
            if n1:
                acc = self._add(acc, table1[n1])
            if n2:
                acc = self._add(acc, table2[n2])
        return acc

    def _random_scalar(self) -> int:
        """Uniform k in [1, q-1] from the OS CSPRNG by rejection sampling (no modular bias)."""
        while True:
            k = secrets.randbits(self._qbits)
            if 0 < k < self._q:
                return k

    # --- the backend interface ------------------------------------------------------------------------------------

    def public_key(self, d: bytes) -> bytes:
        """Q = d*P as X||Y (big-endian halves); 0 < d < q (GOST R 34.10-2012 section 5.3)."""
        dv = self._scalar_in_range(d, "private key d", InvalidKeyError)
        out = self._point_bytes(self._multiply(dv, self._base_table()))
        assert out is not None  # 0 < d < q and P has order q
        return out

    def check_point(self, x: bytes, y: bytes) -> bool:
        """True when (x, y) is on the curve (coordinates < p), is not O, and q*(x, y) = O."""
        xv, yv = self._int(x, "x coordinate"), self._int(y, "y coordinate")
        if not self._on_curve(xv, yv):
            return False
        return self._multiply(self._q, self._table((xv, yv, 1)))[2] == 0

    def mul(self, k: bytes, x: bytes, y: bytes) -> bytes | None:
        """k*(x, y) as X||Y, or None for the point at infinity; (x, y) must be on the curve."""
        kv = self._int(k, "scalar k")
        xv, yv = self._int(x, "x coordinate"), self._int(y, "y coordinate")
        if not self._on_curve(xv, yv):
            raise InvalidPointError("the point is not on the curve")
        return self._point_bytes(self._multiply(kv, self._table((xv, yv, 1))))

    def sign(self, d: bytes, e: bytes, k: bytes | None = None) -> bytes:
        """GOST R 34.10-2012 section 6.1, steps 3-6: signature s||r (big-endian halves, 2*size bytes).

        e = alpha mod q (0 replaced by 1) is computed by the caller (steps 1-2). With ``k=None`` the nonce is
        drawn from the OS CSPRNG and redrawn while r or s is 0; a given k (known-answer tests only) that yields
        r == 0 or s == 0 raises :class:`~signagent.errors.InvalidInputError`.
        """
        dv = self._scalar_in_range(d, "private key d", InvalidKeyError)
        ev = self._scalar_in_range(e, "digest value e", InvalidInputError)
        kv = None if k is None else self._scalar_in_range(k, "nonce k", InvalidInputError)
        q = self._q
        table = self._base_table()
        while True:
            nonce = self._random_scalar() if kv is None else kv
            # Step 4: C = k*P, r = x_C mod q. (C is never O: 0 < k < q and P has order q.)
            c = self._to_affine(self._multiply(nonce, table))
            assert c is not None
            r = c[0] % q
            # Step 5: s = (r*d + k*e) mod q.
            s = (r * dv + nonce * ev) % q
            if r != 0 and s != 0:
                return s.to_bytes(self.size, "big") + r.to_bytes(self.size, "big")
            if kv is not None:
                raise InvalidInputError("this nonce k gives r = 0 or s = 0; choose another")

    def verify(self, qx: bytes, qy: bytes, e: bytes, sig: bytes) -> bool:
        """GOST R 34.10-2012 section 6.2 for sig = s||r: True only for a valid signature of e under Q.

        Returns False (never raises) for a well-formed but wrong signature and for a public key that is not on the
        curve; raises typed errors only for wrong types or lengths and for e outside 1..q-1.
        """
        xv, yv = self._int(qx, "x coordinate"), self._int(qy, "y coordinate")
        ev = self._scalar_in_range(e, "digest value e", InvalidInputError)
        if not isinstance(sig, _BYTES_LIKE):
            raise InvalidTypeError(f"signature must be bytes, not {type(sig).__name__}")
        n = self.size
        if len(sig) != 2 * n:
            raise InvalidSignatureFormatError(f"signature must be {2 * n} bytes long, not {len(sig)}")
        sig = bytes(sig)
        s = int.from_bytes(sig[:n], "big")
        r = int.from_bytes(sig[n:], "big")
        q = self._q
        # Step 1: 0 < r < q and 0 < s < q, otherwise the signature is wrong.
        if not (0 < r < q and 0 < s < q):
            return False
        if not self._on_curve(xv, yv):  # also excludes O, which has no affine coordinates
            return False
        # Steps 3-4: v = e^-1 mod q, z1 = s*v mod q, z2 = -r*v mod q.
        v = pow(ev, -1, q)
        z1 = s * v % q
        z2 = -r * v % q
        # Step 5: C = z1*P + z2*Q, R = x_C mod q; step 6: valid iff R == r.
        c = self._to_affine(self._multiply2(z1, self._base_table(), z2, self._table((xv, yv, 1))))
        if c is None:
            return False
        return c[0] % q == r

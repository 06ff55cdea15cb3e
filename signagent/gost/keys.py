"""GOST R 34.10-2012 private and public keys: the public signing contract of DESIGN.md section 3.

Byte orders (``tests/vectors/README.md``; they are those of X.509, CMS and PKCS#8 with GOST keys):

* private key ``raw`` = d little-endian, exactly ``curve.size`` bytes (the PKCS#8 privateKey content that
  OpenSSL's GOST engine writes);
* public key ``raw`` = X || Y, each little-endian ``curve.size`` bytes (the SPKI inner OCTET STRING);
* ``digest`` = the Streebog output bytes exactly as ``.digest()`` returns them; GOST R 34.10-2012 section 6.1
  step 2 reads them as the integer alpha little-endian, e = alpha mod q, and e = 1 when that is 0;
* signature = s || r, each half big-endian ``curve.size`` bytes (X.509/CMS form).

GOST R 34.10-2001 verification is the same algorithm on the CryptoPro curves with a GOST R 34.11-94 digest
(32 bytes, used the same way), so :meth:`PublicKey.verify_digest` serves legacy certificates as well.

The arithmetic runs in the backend chosen by :mod:`signagent.gost._backend` (C core or pure-Python reference);
this module only converts bytes and checks arguments, and keeps that per-call work small.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Any

from ..errors import (
    InvalidInputError,
    InvalidKeyError,
    InvalidLengthError,
    InvalidPointError,
    InvalidSignatureFormatError,
)
from ._bytes_like import as_bytes
from .curves import Curve, as_curve

__all__ = ["PrivateKey", "PublicKey"]




def _digest_to_e(digest: object, size: int, q: int) -> bytes:
    """GOST R 34.10-2012 section 6.1 steps 1-2: e = alpha mod q (0 -> 1), as big-endian bytes for the engine."""
    digest = as_bytes(digest, "digest")
    if len(digest) != size:
        raise InvalidLengthError(f"the digest must be {size} bytes long for this curve, not {len(digest)}")
    e = int.from_bytes(digest, "little") % q
    return (e or 1).to_bytes(size, "big")


class PublicKey:
    """A validated point Q of order q on a GOST R 34.10 curve."""

    __slots__ = ("_curve", "_engine", "_qx_be", "_qy_be", "_raw")

    _curve: Curve
    _engine: Any
    _qx_be: bytes
    _qy_be: bytes
    _raw: bytes

    def __init__(self) -> None:
        raise TypeError("use PublicKey.from_bytes() or PrivateKey.public_key()")

    @classmethod
    def _from_be(cls, curve: Curve, engine: Any, xy_be: bytes) -> PublicKey:
        """Build from the engine's X||Y big-endian output (already known to be a valid point)."""
        self = object.__new__(cls)
        n = curve.size
        self._curve = curve
        self._engine = engine
        self._qx_be = xy_be[:n]
        self._qy_be = xy_be[n:]
        self._raw = xy_be[n - 1 :: -1] + xy_be[: n - 1 : -1]  # each half reversed: little-endian X || Y
        return self

    @classmethod
    def from_bytes(cls, curve: Curve | str, raw: object) -> PublicKey:
        """Import X||Y (each little-endian, 2*curve.size bytes), validating the point.

        Raises InvalidTypeError (not bytes), InvalidLengthError (wrong length) or InvalidPointError (a coordinate
        >= p, not on the curve, the point at infinity, or not of order q).
        """
        c = as_curve(curve)
        raw = as_bytes(raw, "public key")
        n = c.size
        if len(raw) != 2 * n:
            raise InvalidLengthError(f"a public key on {c.name} is {2 * n} bytes (X || Y), not {len(raw)}")
        xy_be = raw[n - 1 :: -1] + raw[: n - 1 : -1]
        engine = c.engine
        # check_point: coordinates < p, on the curve, not O, q*Q = O (rejects small-order components on the
        # cofactor-4 TC 26 curves). (0, 0) is never on these curves (b != 0), so O cannot sneak in as zeros.
        if not engine.check_point(xy_be[:n], xy_be[n:]):
            raise InvalidPointError(f"not a valid public key point on {c.name}", curve=c.name)
        self = cls._from_be(c, engine, xy_be)
        self._raw = raw
        return self

    def to_bytes(self) -> bytes:
        """X||Y, each little-endian (the SubjectPublicKeyInfo OCTET STRING content)."""
        return self._raw

    @property
    def curve(self) -> Curve:
        """The parameter set of this key."""
        return self._curve

    @property
    def x(self) -> int:
        """Affine x coordinate of Q."""
        return int.from_bytes(self._qx_be, "big")

    @property
    def y(self) -> int:
        """Affine y coordinate of Q."""
        return int.from_bytes(self._qy_be, "big")

    def verify_digest(self, digest: object, signature: object) -> bool:
        """GOST R 34.10-2012 section 6.2 (and GOST R 34.10-2001): is ``signature`` (s||r) valid for ``digest``?

        Returns False for a well-formed but wrong signature (including r or s out of range). Raises
        InvalidTypeError for non-bytes arguments, InvalidLengthError for a digest that is not curve.size bytes,
        InvalidSignatureFormatError for a signature that is not 2*curve.size bytes.
        """
        c = self._curve
        e = _digest_to_e(digest, c.size, c.q)
        signature = as_bytes(signature, "signature")
        if len(signature) != 2 * c.size:
            raise InvalidSignatureFormatError(
                f"a signature on {c.name} is {2 * c.size} bytes (s || r), not {len(signature)}"
            )
        return bool(self._engine.verify(self._qx_be, self._qy_be, e, signature))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PublicKey):
            return NotImplemented
        return self._curve == other._curve and self._raw == other._raw

    def __hash__(self) -> int:
        return hash((self._curve.oid, self._raw))

    def __repr__(self) -> str:
        return f"PublicKey(curve={self._curve.name!r}, x=0x{self._qx_be.hex()}, y=0x{self._qy_be.hex()})"


class PrivateKey:
    """A GOST R 34.10-2012 signing key d, 0 < d < q. Its repr never shows d."""

    __slots__ = ("_curve", "_d_be", "_engine", "_public")

    _curve: Curve
    _d_be: bytes
    _engine: Any
    _public: PublicKey | None

    def __init__(self) -> None:
        raise TypeError("use PrivateKey.generate() or PrivateKey.from_bytes()")

    @classmethod
    def _from_int(cls, c: Curve, d: int) -> PrivateKey:
        if not 0 < d < c.q:
            raise InvalidKeyError(f"the private key must be in 1..q-1 for {c.name}", curve=c.name)
        self = object.__new__(cls)
        self._curve = c
        self._d_be = d.to_bytes(c.size, "big")
        self._engine = c.engine
        self._public = None
        return self

    @classmethod
    def generate(cls, curve: Curve | str) -> PrivateKey:
        """A new key from the OS CSPRNG: d uniform in 1..q-1 by rejection sampling (no modular bias)."""
        c = as_curve(curve)
        bits = c.q.bit_length()
        while True:
            d = secrets.randbits(bits)
            if 0 < d < c.q:
                return cls._from_int(c, d)

    @classmethod
    def from_bytes(cls, curve: Curve | str, raw: object, *, reduce_mod_q: bool = False) -> PrivateKey:
        """Import d little-endian, exactly curve.size bytes (PKCS#8 content in OpenSSL's GOST layout).

        Raises InvalidTypeError (not bytes), InvalidLengthError (other length) or InvalidKeyError (d == 0 or
        d >= q: GOST R 34.10-2012 section 5.3 defines the key as 0 < d < q, and such values are never reduced
        silently).

        ``reduce_mod_q=True`` accepts a d >= q and keeps d mod q (still rejecting a multiple of q). Some producers
        do not reduce: on the TC 26 curves with cofactor 4 (256-bit paramSetA, 512-bit paramSetC) q is about
        2^254 / 2^510, so a random 32/64-byte d is >= q three times in four -- the RFC 9215 Appendix A paramSetA
        example key is one, and OpenSSL's GOST engine accepts it. Signatures and the public key are the same for d
        and d mod q (P has order q); :meth:`to_bytes` then returns the reduced value.
        """
        c = as_curve(curve)
        raw = as_bytes(raw, "private key")
        if len(raw) != c.size:
            raise InvalidLengthError(f"a private key on {c.name} is {c.size} bytes, not {len(raw)}")
        d = int.from_bytes(raw, "little")
        return cls._from_int(c, d % c.q if reduce_mod_q else d)

    def to_bytes(self) -> bytes:
        """d little-endian, curve.size bytes."""
        return self._d_be[::-1]

    @property
    def curve(self) -> Curve:
        """The parameter set of this key."""
        return self._curve

    def public_key(self) -> PublicKey:
        """Q = d*P (computed once, then cached)."""
        pub = self._public
        if pub is None:
            pub = PublicKey._from_be(self._curve, self._engine, self._engine.public_key(self._d_be))
            self._public = pub
        return pub

    def sign_digest(self, digest: object) -> bytes:
        """GOST R 34.10-2012 section 6.1 signature s||r of a digest (curve.size bytes, Streebog output as is).

        The nonce comes from the OS CSPRNG inside the backend. Raises InvalidTypeError / InvalidLengthError for a
        digest of the wrong type or length.
        """
        c = self._curve
        return self._engine.sign(self._d_be, _digest_to_e(digest, c.size, c.q))

    def _sign_digest_with_k(self, digest: object, k: int) -> bytes:
        """Signature with a chosen nonce k (1..q-1): only for known-answer tests of the standard's examples."""
        c = self._curve
        if not isinstance(k, int) or not 0 < k < c.q:
            raise InvalidInputError("the nonce k must be an int in 1..q-1")
        return self._engine.sign(self._d_be, _digest_to_e(digest, c.size, c.q), k.to_bytes(c.size, "big"))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PrivateKey):
            return NotImplemented
        return self._curve == other._curve and hmac.compare_digest(self._d_be, other._d_be)

    def __hash__(self) -> int:
        return hash((self._curve.oid, self._d_be))

    def __repr__(self) -> str:
        return f"PrivateKey(curve={self._curve.name!r})"

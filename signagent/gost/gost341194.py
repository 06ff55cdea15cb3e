"""GOST R 34.11-94 hash function (RFC 5831), pure Python, for verifying legacy GOST R 34.10-2001 signatures.

The state PKI's older roots and CAs sign with GOST R 34.10-2001 over this hash (1.2.643.2.2.3), always with the
CryptoPro parameter set id-GostR3411-94-CryptoProParamSet (1.2.643.2.2.30.1, RFC 4357 §11.2).  The test
parameter set of the standard's own examples (id-GostR3411-94-TestParamSet, 1.2.643.2.2.30.0) is here too, so
that RFC 5831's examples can be checked.

Byte order and edge cases follow OpenSSL's GOST engine (``md_gost94``) and CryptoPro: a 256-bit block is the
little-endian reading of 32 message bytes, the starting vector is zero, the hash code is output little-endian
(the reverse of the hex that RFC 5831 §7.3 prints).  The empty message is hashed as the standard says, with
one all-zero block, as OpenSSL's engine does; some older implementations skip that block and give another value
for the empty message only (981e5f3c... instead of 3f25bc1f... with the CryptoPro set), which never matters for
signed data.

This code is only used on small inputs (certificates, CRLs), so it favours clarity over speed (~0.2 MB/s).
"""

from __future__ import annotations

from ..errors import InvalidTypeError, UnknownAlgorithmError
from ._bytes_like import as_bytes

__all__ = ["GOST341194", "PARAMSETS", "gost341194"]

# GOST 28147-89 substitution boxes K1..K8 (K1 acts on the least significant 4 bits), RFC 4357 §11.2.
_CRYPTOPRO_SBOXES = (
    (10, 4, 5, 6, 8, 1, 3, 7, 13, 12, 14, 0, 9, 2, 11, 15),
    (5, 15, 4, 0, 2, 13, 11, 9, 1, 7, 6, 3, 12, 14, 10, 8),
    (7, 15, 12, 14, 9, 4, 1, 0, 3, 11, 5, 2, 6, 10, 8, 13),
    (4, 10, 7, 12, 0, 15, 2, 8, 14, 1, 6, 5, 13, 11, 9, 3),
    (7, 6, 4, 11, 9, 12, 2, 10, 1, 8, 0, 14, 15, 13, 3, 5),
    (7, 6, 2, 4, 13, 9, 15, 0, 10, 1, 5, 11, 8, 14, 12, 3),
    (13, 14, 4, 1, 7, 0, 5, 10, 3, 12, 8, 15, 6, 2, 9, 11),
    (1, 3, 10, 9, 5, 11, 4, 15, 8, 6, 7, 14, 13, 0, 2, 12),
)
# The parameter set of the examples of GOST R 34.11-94 Appendix A (RFC 5831 §7.3, §11.2 of RFC 4357).
_TEST_SBOXES = (
    (4, 10, 9, 2, 13, 8, 0, 14, 6, 11, 1, 12, 7, 15, 5, 3),
    (14, 11, 4, 12, 6, 13, 15, 10, 2, 3, 8, 1, 0, 7, 5, 9),
    (5, 8, 1, 13, 10, 3, 4, 2, 14, 15, 12, 7, 6, 0, 9, 11),
    (7, 13, 10, 1, 0, 8, 9, 15, 14, 4, 6, 12, 11, 2, 5, 3),
    (6, 12, 7, 1, 5, 15, 13, 8, 4, 10, 9, 14, 0, 3, 11, 2),
    (4, 11, 10, 0, 7, 2, 1, 13, 3, 6, 8, 5, 9, 12, 15, 14),
    (13, 11, 4, 1, 3, 15, 5, 9, 0, 10, 14, 7, 6, 8, 2, 12),
    (1, 15, 13, 0, 5, 7, 10, 4, 9, 2, 3, 14, 6, 11, 8, 12),
)

# Names and OIDs accepted for the ``paramset`` argument.
PARAMSETS: dict[str, tuple[tuple[int, ...], ...]] = {
    "cryptopro": _CRYPTOPRO_SBOXES,
    "id-GostR3411-94-CryptoProParamSet": _CRYPTOPRO_SBOXES,
    "1.2.643.2.2.30.1": _CRYPTOPRO_SBOXES,
    "test": _TEST_SBOXES,
    "id-GostR3411-94-TestParamSet": _TEST_SBOXES,
    "1.2.643.2.2.30.0": _TEST_SBOXES,
}

_M32 = 0xFFFFFFFF
_M64 = (1 << 64) - 1
_M256 = (1 << 256) - 1
# RFC 5831 §6.1: the constant C_3 of the key generation (C_2 = C_4 = 0), as the standard prints it.
_C3 = 0xFF00FFFF000000FFFF0000FF00FFFF0000FF00FF00FF00FFFF00FF00FF00FF00
# RFC 5831 §6.1: P sends byte phi(p) of its input to byte p of its output, phi(i + 1 + 4(k - 1)) = 8i + k
# (1-based); 0-based, output byte i + 4k comes from input byte 8i + k (i = 0..3, k = 0..7).
_PHI = tuple(8 * (p % 4) + p // 4 for p in range(32))


def _round_tables(sboxes: tuple[tuple[int, ...], ...]) -> tuple[tuple[int, ...], ...]:
    """f(x) = rotl11(S(x)) of GOST 28147-89 as four byte tables: S acts on nibbles and the rotation is linear,
    so f(x) is the XOR over the four bytes of x of the rotated substitutions of that byte alone."""
    tables = []
    for byte in range(4):
        low, high = sboxes[2 * byte], sboxes[2 * byte + 1]
        row = []
        for v in range(256):
            s = (low[v & 15] | high[v >> 4] << 4) << (8 * byte)
            row.append(((s << 11) | (s >> 21)) & _M32)
        tables.append(tuple(row))
    return tuple(tables)


_ROUND_TABLES = {id(sb): _round_tables(sb) for sb in (_CRYPTOPRO_SBOXES, _TEST_SBOXES)}


def _encrypt(tables: tuple[tuple[int, ...], ...], key: int, block: int) -> int:
    """GOST 28147-89 simple-substitution encryption of one 64-bit block (RFC 5830 §6.1), little-endian halves."""
    t0, t1, t2, t3 = tables
    subkeys = [(key >> (32 * i)) & _M32 for i in range(8)]
    n1, n2 = block & _M32, block >> 32
    # 32 rounds: the key words K0..K7 three times, then K7..K0.
    for k in subkeys * 3 + subkeys[::-1]:
        x = (n1 + k) & _M32
        n1, n2 = n2 ^ t0[x & 255] ^ t1[(x >> 8) & 255] ^ t2[(x >> 16) & 255] ^ t3[x >> 24], n1
    # The last round does not swap the halves: undo the swap of the loop.
    return n1 << 32 | n2


def _a(y: int) -> int:
    """A(y4 || y3 || y2 || y1) = (y1 xor y2) || y4 || y3 || y2 on 64-bit words (RFC 5831 §6.1)."""
    return (y >> 64) | (((y ^ (y >> 64)) & _M64) << 192)


def _p(y: int) -> int:
    """The byte permutation P of the key generation (RFC 5831 §6.1)."""
    yb = y.to_bytes(32, "little")
    return int.from_bytes(bytes(yb[src] for src in _PHI), "little")


def _psi(y: int) -> int:
    """psi(y16 || ... || y1) = (y1 xor y2 xor y3 xor y4 xor y13 xor y16) || y16 || ... || y2 (RFC 5831 §6.3)."""
    top = (y ^ (y >> 16) ^ (y >> 32) ^ (y >> 48) ^ (y >> 192) ^ (y >> 240)) & 0xFFFF
    return (y >> 16) | (top << 240)


def _step(tables: tuple[tuple[int, ...], ...], h: int, m: int) -> int:
    """The step hash function chi(M, H) (RFC 5831 §6): key generation, encryption, mixing."""
    # §6.1 key generation: K_1 = P(H xor M); U <- A(U) xor C_i, V <- A(A(V)), K_i = P(U xor V) for i = 2, 3, 4.
    u, v = h, m
    keys = [_p(u ^ v)]
    for c in (0, _C3, 0):
        u = _a(u) ^ c
        v = _a(_a(v))
        keys.append(_p(u ^ v))
    # §6.2 encryption: s_i = E_{K_i}(h_i) for the four 64-bit words of H (h_1 least significant).
    s = 0
    for i, key in enumerate(keys):
        s |= _encrypt(tables, key, (h >> (64 * i)) & _M64) << (64 * i)
    # §6.3 mixing: chi(M, H) = psi^61(H xor psi(M xor psi^12(S))).
    for _ in range(12):
        s = _psi(s)
    s = _psi(m ^ s) ^ h
    for _ in range(61):
        s = _psi(s)
    return s




class GOST341194:
    """A hashlib-style GOST R 34.11-94 hash object (32-byte hash code, 32-byte blocks).

    ``paramset`` names the S-boxes: ``"cryptopro"`` (default; 1.2.643.2.2.30.1) or ``"test"``
    (1.2.643.2.2.30.0), by name or OID.  ``digest()`` does not finalise the object.
    """

    digest_size = 32
    block_size = 32
    name = "gost341194"

    __slots__ = ("_buffer", "_h", "_length", "_paramset", "_sigma", "_tables")

    def __init__(self, data: object = b"", paramset: str = "cryptopro") -> None:
        if not isinstance(paramset, str):
            raise InvalidTypeError("paramset must be a str (a name or an OID)", got=type(paramset).__name__)
        sboxes = PARAMSETS.get(paramset) or PARAMSETS.get(paramset.lower())
        if sboxes is None:
            raise UnknownAlgorithmError(f"unknown GOST R 34.11-94 parameter set {paramset!r}", paramset=paramset)
        self._paramset = paramset
        self._tables = _ROUND_TABLES[id(sboxes)]
        self._h = 0  # the starting vector: zero, as CryptoPro and OpenSSL use
        self._sigma = 0  # the sum of the message blocks mod 2^256 (Sigma of RFC 5831 §7)
        self._length = 0  # the message length in bits mod 2^256 (L of RFC 5831 §7)
        self._buffer = b""
        self.update(data)

    def update(self, data: object) -> None:
        """Add ``data`` (any bytes-like object) to the message."""
        buf = self._buffer + as_bytes(data, "the data to hash")
        full = len(buf) - len(buf) % 32
        for off in range(0, full, 32):
            m = int.from_bytes(buf[off : off + 32], "little")
            self._h = _step(self._tables, self._h, m)
            self._sigma = (self._sigma + m) & _M256
            self._length = (self._length + 256) & _M256
        self._buffer = buf[full:]

    def digest(self) -> bytes:
        """The hash code in the byte order OpenSSL's ``md_gost94`` prints."""
        h, sigma, length = self._h, self._sigma, self._length
        if self._buffer or not self._length:
            # RFC 5831 §7 stage 3: the last block M is padded with zero bits up to 256 (at the high end of the
            # number) and hashed.  A last block of exactly 256 bits was already hashed by update(); the empty
            # message still has its (all-zero) block hashed, as the standard and OpenSSL's engine do.
            m = int.from_bytes(self._buffer, "little")
            h = _step(self._tables, h, m)
            sigma = (sigma + m) & _M256
            length = (length + 8 * len(self._buffer)) & _M256
        h = _step(self._tables, h, length)
        h = _step(self._tables, h, sigma)
        return h.to_bytes(32, "little")

    def hexdigest(self) -> str:
        """``digest()`` as lowercase hex."""
        return self.digest().hex()

    def copy(self) -> GOST341194:
        """An independent copy of the current state."""
        other = GOST341194.__new__(GOST341194)
        other._paramset, other._tables = self._paramset, self._tables
        other._h, other._sigma, other._length, other._buffer = self._h, self._sigma, self._length, self._buffer
        return other


def gost341194(data: bytes = b"", paramset: str = "cryptopro") -> GOST341194:
    """A new GOST R 34.11-94 hash object (CryptoPro parameter set unless ``paramset`` says otherwise)."""
    return GOST341194(data, paramset)

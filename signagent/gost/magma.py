"""The 64-bit block cipher of GOST R 34.12-2015 ("Magma", RFC 8891) and its GOST 28147-89 form in CFB mode.

Magma is GOST 28147-89 with the S-box fixed to the TC 26 "Z" parameter set (id-tc26-gost-28147-param-Z,
1.2.643.7.1.2.5.1.1). Both describe the same 32-round Feistel network; they differ only in how bytes map to
numbers:

* GOST R 34.12-2015 / RFC 8891 read the key and blocks big-endian: the key's first four bytes are K1, the block's
  first four bytes are its high half a1 (:class:`Magma`, checked against RFC 8891 section A);
* GOST 28147-89 implementations (CryptoPro, OpenSSL's GOST engine, RFC 4357 containers) read every 32-bit word
  little-endian: key word k0 = key[0:4] little-endian, block half n1 = block[0:4] little-endian -- which amounts
  to reversing the whole block (:func:`gost28147_cfb_decrypt` / ``_encrypt``).

Only what key files need is here: single-block encryption and CFB-64 (GOST 28147-89 section 5 "гаммирование с
обратной связью") over short messages. The engine applies CryptoPro key meshing (RFC 4357 section 2.3) after every
1024 bytes; messages that long are refused rather than half-supported. This is pure Python: fine for a key file of
a hundred bytes, never meant for bulk data.

Exports: Magma, gost28147_cfb_encrypt, gost28147_cfb_decrypt, BLOCK_SIZE, KEY_SIZE.
"""

from __future__ import annotations

from ..errors import InvalidInputError, InvalidLengthError
from ._bytes_like import as_bytes

__all__ = ["BLOCK_SIZE", "KEY_SIZE", "Magma", "gost28147_cfb_decrypt", "gost28147_cfb_encrypt"]

BLOCK_SIZE = 8
KEY_SIZE = 32
_MASK32 = 0xFFFFFFFF
# Longest message before CryptoPro key meshing would apply (RFC 4357 section 2.3.2: every 1024 bytes).
_MESHING_INTERVAL = 1024

# GOST R 34.12-2015 section 4.1.1: the substitutions pi'_0 .. pi'_7; pi'_i acts on bits 4i..4i+3 of a word.
_PI = (
    (12, 4, 6, 2, 10, 5, 11, 9, 14, 8, 13, 7, 0, 3, 15, 1),
    (6, 8, 2, 3, 9, 10, 5, 12, 1, 14, 4, 7, 11, 13, 0, 15),
    (11, 3, 5, 8, 2, 15, 10, 13, 14, 1, 7, 4, 12, 9, 6, 0),
    (12, 8, 2, 1, 13, 4, 15, 6, 7, 0, 10, 5, 3, 14, 9, 11),
    (7, 15, 5, 10, 8, 1, 6, 13, 0, 9, 3, 14, 11, 4, 2, 12),
    (5, 13, 15, 6, 9, 2, 12, 10, 11, 7, 8, 1, 4, 3, 14, 0),
    (8, 14, 2, 5, 6, 9, 1, 12, 15, 4, 11, 0, 13, 10, 3, 7),
    (1, 7, 14, 13, 0, 5, 8, 3, 4, 15, 10, 6, 9, 12, 11, 2),
)


def _byte_tables() -> tuple[tuple[int, ...], ...]:
    """Four 256-entry tables: byte j of a word through two S-boxes at once, placed back at its position."""
    tables = []
    for j in range(4):
        lo, hi = _PI[2 * j], _PI[2 * j + 1]
        tables.append(tuple((lo[b & 15] | hi[b >> 4] << 4) << (8 * j) for b in range(256)))
    return tuple(tables)


_T0, _T1, _T2, _T3 = _byte_tables()


def _g(k: int, a: int) -> int:
    """g[k](a) = (t(a + k mod 2^32)) <<< 11 (GOST R 34.12-2015 section 4.2)."""
    x = (a + k) & _MASK32
    x = _T0[x & 0xFF] | _T1[(x >> 8) & 0xFF] | _T2[(x >> 16) & 0xFF] | _T3[x >> 24]
    return ((x << 11) | (x >> 21)) & _MASK32


def _schedule(k1_to_k8: tuple[int, ...]) -> tuple[int, ...]:
    """Round keys K1..K32: K1..K8 three times, then K8..K1 (GOST R 34.12-2015 section 4.3)."""
    return k1_to_k8 * 3 + k1_to_k8[::-1]


def _encrypt_halves(round_keys: tuple[int, ...], a1: int, a0: int) -> tuple[int, int]:
    """The 32 rounds on (a1, a0); the last round does not swap (G* of section 4.4)."""
    for k in round_keys:
        a1, a0 = a0, a1 ^ _g(k, a0)
    return a0, a1


class Magma:
    """GOST R 34.12-2015 Magma with the standard's byte order (block encryption only: CFB needs no more)."""

    __slots__ = ("_round_keys",)

    def __init__(self, key: bytes) -> None:
        key = as_bytes(key, "Magma key")
        if len(key) != KEY_SIZE:
            raise InvalidLengthError(f"a Magma key is {KEY_SIZE} bytes, not {len(key)}")
        words = tuple(int.from_bytes(key[i : i + 4], "big") for i in range(0, KEY_SIZE, 4))
        self._round_keys = _schedule(words)

    def encrypt_block(self, block: bytes) -> bytes:
        """E_K(block) for one 8-byte block (big-endian: block[0:4] is the high half)."""
        if len(block) != BLOCK_SIZE:
            raise InvalidLengthError(f"a Magma block is {BLOCK_SIZE} bytes, not {len(block)}")
        b1, b0 = _encrypt_halves(self._round_keys, int.from_bytes(block[:4], "big"), int.from_bytes(block[4:], "big"))
        return b1.to_bytes(4, "big") + b0.to_bytes(4, "big")


class _Gost28147:
    """The same cipher in GOST 28147-89's little-endian word order, Z S-box."""

    __slots__ = ("_round_keys",)

    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_SIZE:
            raise InvalidLengthError(f"a GOST 28147-89 key is {KEY_SIZE} bytes, not {len(key)}")
        words = tuple(int.from_bytes(key[i : i + 4], "little") for i in range(0, KEY_SIZE, 4))
        self._round_keys = _schedule(words)

    def encrypt_block(self, block: bytes) -> bytes:
        # N1 = block[0:4], N2 = block[4:8] little-endian; N1 enters the first round function (it is a0).
        n1 = int.from_bytes(block[:4], "little")
        n2 = int.from_bytes(block[4:], "little")
        b1, b0 = _encrypt_halves(self._round_keys, n2, n1)
        return b0.to_bytes(4, "little") + b1.to_bytes(4, "little")


def _cfb(key: bytes, iv: bytes, data: bytes, decrypt: bool) -> bytes:
    key = as_bytes(key, "GOST 28147-89 key")
    iv = as_bytes(iv, "GOST 28147-89 IV")
    data = as_bytes(data, "data")
    if len(iv) != BLOCK_SIZE:
        raise InvalidLengthError(f"a GOST 28147-89 CFB IV is {BLOCK_SIZE} bytes, not {len(iv)}")
    if len(data) > _MESHING_INTERVAL:
        raise InvalidInputError("GOST 28147-89 CFB over more than 1024 bytes needs CryptoPro key meshing, "
                                "which is not implemented (key files are far shorter)")
    cipher = _Gost28147(key)
    out = bytearray()
    feedback = iv
    for i in range(0, len(data), BLOCK_SIZE):
        chunk = data[i : i + BLOCK_SIZE]
        gamma = cipher.encrypt_block(feedback)
        produced = bytes(a ^ b for a, b in zip(chunk, gamma, strict=False))
        out += produced
        # CFB: the next register is the ciphertext block (the input when decrypting, the output when encrypting).
        feedback = chunk if decrypt else produced
    return bytes(out)


def gost28147_cfb_encrypt(key: bytes, iv: bytes, data: bytes) -> bytes:
    """GOST 28147-89 CFB-64 encryption with the Z S-box (as OpenSSL's engine ``gost89`` with the TC 26 set)."""
    return _cfb(key, iv, data, decrypt=False)


def gost28147_cfb_decrypt(key: bytes, iv: bytes, data: bytes) -> bytes:
    """Inverse of :func:`gost28147_cfb_encrypt`."""
    return _cfb(key, iv, data, decrypt=True)

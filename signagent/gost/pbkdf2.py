"""PBKDF2 with HMAC_GOSTR3411_2012_512 as the pseudorandom function (R 50.1.111-2016).

R 50.1.111-2016 uses the construction of PBKDF2 (RFC 8018 §5.2) unchanged, with PRF = HMAC_GOSTR3411_2012_512
(hLen = 64 bytes).  It is what GOST-protected PKCS#12 / PKCS#8 containers use to turn a password into a key.
"""

from __future__ import annotations

from ..errors import InvalidInputError, InvalidLengthError, InvalidTypeError
from ._bytes_like import as_bytes
from .hmac_streebog import new as hmac_new

__all__ = ["pbkdf2_streebog512"]

_HLEN = 64
# RFC 8018 §5.2 step 1: dkLen > (2^32 - 1) * hLen is "derived key too long".
_MAX_DKLEN = (2**32 - 1) * _HLEN




def _require_count(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidTypeError(f"{what} must be an int, not {type(value).__name__}", got=type(value).__name__)
    return value


def pbkdf2_streebog512(password: bytes, salt: bytes, iterations: int, dklen: int) -> bytes:
    """The ``dklen``-byte key derived from ``password`` and ``salt`` with ``iterations`` rounds.

    Raises :class:`signagent.errors.InvalidTypeError` for a password or salt that is not bytes (encode text
    first: R 50.1.111-2016 leaves the encoding to the application) or non-int counts,
    :class:`signagent.errors.InvalidInputError` for ``iterations < 1`` and
    :class:`signagent.errors.InvalidLengthError` for ``dklen`` out of 1 .. (2^32 - 1) * 64.
    """
    password = as_bytes(password, "password")
    salt = as_bytes(salt, "salt")
    iterations = _require_count(iterations, "iterations")
    dklen = _require_count(dklen, "dklen")
    if iterations < 1:
        raise InvalidInputError("PBKDF2 needs at least one iteration", iterations=iterations)
    if not 1 <= dklen <= _MAX_DKLEN:
        raise InvalidLengthError("PBKDF2 derived key length out of range", dklen=dklen)

    # The keyed HMAC state is computed once and copied for every PRF call (the key is always the password).
    keyed = hmac_new(password, None, 64)
    blocks = []
    for index in range(1, -(-dklen // _HLEN) + 1):
        # T_i = U_1 xor ... xor U_c, U_1 = PRF(P, S || INT(i)), U_j = PRF(P, U_(j-1))  (RFC 8018 §5.2 step 3)
        mac = keyed.copy()
        mac.update(salt + index.to_bytes(4, "big"))
        u = mac.digest()
        t = int.from_bytes(u, "big")
        for _ in range(iterations - 1):
            mac = keyed.copy()
            mac.update(u)
            u = mac.digest()
            t ^= int.from_bytes(u, "big")
        blocks.append(t.to_bytes(_HLEN, "big"))
    return b"".join(blocks)[:dklen]

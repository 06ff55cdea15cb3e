"""HMAC over Streebog: HMAC_GOSTR3411_2012_256 and HMAC_GOSTR3411_2012_512 (RFC 7836 §4.1.1, R 50.1.113-2016).

These are plain HMAC (RFC 2104) with the Streebog hash as H and its 64-byte block, so the standard library's
:mod:`hmac` does the work with our hash constructors as ``digestmod``.  Output bytes are in the order
implementations use (RFC 7836 Appendix A prints them that way too).
"""

from __future__ import annotations

import hmac

from ..errors import InvalidInputError, InvalidTypeError
from ._bytes_like import as_bytes
from .streebog import streebog256, streebog512

__all__ = ["hmac_streebog256", "hmac_streebog512", "new"]

_CONSTRUCTORS = {32: streebog256, 64: streebog512}




def new(key: bytes, msg: bytes | None = None, digest_size: int = 32) -> hmac.HMAC:
    """A standard-library HMAC object over Streebog-256 (``digest_size=32``) or Streebog-512 (``64``).

    ``key`` and ``msg`` are bytes-like; ``str`` raises :class:`signagent.errors.InvalidTypeError`, a digest size
    other than 32 or 64 :class:`signagent.errors.InvalidInputError`.
    """
    if isinstance(digest_size, bool) or not isinstance(digest_size, int):
        raise InvalidTypeError("digest_size must be an int (32 or 64)", got=type(digest_size).__name__)
    constructor = _CONSTRUCTORS.get(digest_size)
    if constructor is None:
        raise InvalidInputError("HMAC-Streebog digest_size must be 32 or 64", got=digest_size)
    mac = hmac.new(as_bytes(key, "an HMAC key"), digestmod=constructor)
    if msg is not None:
        mac.update(msg)  # our hash objects reject non-bytes input with InvalidTypeError
    return mac


def hmac_streebog256(key: bytes, msg: bytes) -> bytes:
    """HMAC_GOSTR3411_2012_256(key, msg): 32 bytes (RFC 7836 §4.1.1)."""
    return new(key, msg, 32).digest()


def hmac_streebog512(key: bytes, msg: bytes) -> bytes:
    """HMAC_GOSTR3411_2012_512(key, msg): 64 bytes (RFC 7836 §4.1.1)."""
    return new(key, msg, 64).digest()

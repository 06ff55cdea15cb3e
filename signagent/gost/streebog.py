"""GOST R 34.11-2012 ("Streebog") hash functions, hashlib-style.

The objects come from the backend chosen by :mod:`signagent.gost._backend` (the C core, or the pure-Python
reference under ``SIGNAGENT_PURE=1``); both behave the same way: ``update``, ``digest``, ``hexdigest``, ``copy``,
``name``, ``digest_size``, ``block_size``.  They also work as the ``digestmod`` of the standard :mod:`hmac`
module.

Byte order: ``digest()`` returns the hash code exactly as OpenSSL's GOST engine, CryptoPro and every X.509/CMS
producer do, which is the reverse of the hex printed in the standard's examples (see
``tests/vectors/README.md``).  These bytes are what GOST R 34.10-2012 signs (read little-endian as the number e).
"""

from __future__ import annotations

from typing import Protocol

from ..errors import InvalidTypeError, UnknownAlgorithmError
from ._backend import streebog_impl

__all__ = ["ALGORITHMS", "StreebogHash", "new", "streebog256", "streebog512"]


class StreebogHash(Protocol):
    """What a Streebog hash object offers (the subset of hashlib's interface that signagent relies on)."""

    name: str
    digest_size: int
    block_size: int

    def update(self, data: bytes, /) -> None: ...
    def digest(self) -> bytes: ...
    def hexdigest(self) -> str: ...
    def copy(self) -> StreebogHash: ...


def streebog256(data: bytes = b"") -> StreebogHash:
    """A new GOST R 34.11-2012 hash object with a 256-bit (32-byte) hash code, fed with ``data``.

    ``data`` may be any bytes-like object; ``str`` and other types raise
    :class:`signagent.errors.InvalidTypeError`.
    """
    return streebog_impl.Streebog(32, data)


def streebog512(data: bytes = b"") -> StreebogHash:
    """A new GOST R 34.11-2012 hash object with a 512-bit (64-byte) hash code, fed with ``data``.

    ``data`` may be any bytes-like object; ``str`` and other types raise
    :class:`signagent.errors.InvalidTypeError`.
    """
    return streebog_impl.Streebog(64, data)


# Our names, OpenSSL's digest names (``openssl dgst -md_gost12_256``) and the names of the digest OIDs
# (id-tc26-gost3411-12-256/512, 1.2.643.7.1.1.2.2/.3), all mapped to the hash code length in bytes.
ALGORITHMS: dict[str, int] = {
    "streebog256": 32,
    "streebog512": 64,
    "md_gost12_256": 32,
    "md_gost12_512": 64,
    "id-tc26-gost3411-12-256": 32,
    "id-tc26-gost3411-12-512": 64,
    "1.2.643.7.1.1.2.2": 32,
    "1.2.643.7.1.1.2.3": 64,
}


def new(name: str, data: bytes = b"") -> StreebogHash:
    """A hash object by name, like :func:`hashlib.new`: ``"streebog256"``/``"streebog512"``, OpenSSL's
    ``"md_gost12_256"``/``"md_gost12_512"``, or the digest OID (or its tc26 name).

    Names are matched case-insensitively.  An unknown name raises
    :class:`signagent.errors.UnknownAlgorithmError`; a name that is not a ``str``,
    :class:`signagent.errors.InvalidTypeError`.
    """
    if not isinstance(name, str):
        raise InvalidTypeError("the hash name must be a str", got=type(name).__name__)
    size = ALGORITHMS.get(name.lower())
    if size is None:
        raise UnknownAlgorithmError(f"unknown Streebog hash name {name!r}", name=name)
    return streebog_impl.Streebog(size, data)

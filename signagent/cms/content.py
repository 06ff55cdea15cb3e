"""The signed content, read for hashing: bytes, a binary stream or a file path, in 1 MiB chunks.

Reading with ``readinto`` into one reused buffer keeps memory constant whatever the size (as
:mod:`signagent.service.hashing` does), and every digest algorithm the signers use is fed from the same read,
so the content is read once.

Exports: hash_content, hash_stream.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any, BinaryIO

from signagent.errors import InvalidTypeError, SignAgentError
from signagent.fileio import CHUNK, iter_chunks, open_input

from .digests import new_hash

__all__ = ["hash_content", "hash_stream"]


def hash_content(content: object, oids_wanted: set[str]) -> dict[str, bytes]:
    """Digest of ``content`` (bytes, binary stream or path) for each supported digest OID, in one pass of
    1 MiB reads; unsupported OIDs are left out of the result. FileAccessError for an unreadable path."""
    hashes = {}
    for oid in oids_wanted:
        try:
            hashes[oid] = new_hash(oid)
        except SignAgentError:
            continue
    if isinstance(content, bytes | bytearray | memoryview):
        view = memoryview(content).cast("B")
        for i in range(0, view.nbytes, CHUNK):
            for h in hashes.values():
                h.update(view[i:i + CHUNK])
    elif isinstance(content, str | os.PathLike):
        with open_input(content) as f:
            hash_stream(f, hashes.values())
    elif hasattr(content, "read"):
        hash_stream(content, hashes.values())  # type: ignore[arg-type]
    else:
        raise InvalidTypeError("content must be bytes, a binary stream or a path")
    return {oid: h.digest() for oid, h in hashes.items()}


def hash_stream(stream: BinaryIO, hashes: Iterable[Any]) -> None:
    """Feed everything readable from ``stream`` to every hash object, in 1 MiB chunks."""
    hashes = list(hashes)
    for chunk in iter_chunks(stream):
        for h in hashes:
            h.update(chunk)

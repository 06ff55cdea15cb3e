"""The signed content, read for hashing: bytes, a binary stream or a file path, in 1 MiB chunks.

Reading with ``readinto`` into one reused buffer keeps memory constant whatever the size (as
:mod:`signagent.service.hashing` does), and every digest algorithm the signers use is fed from the same read,
so the content is read once.

A content may also be known only by its digest (:class:`ContentDigest`): CryptoPro's ``VerifyHash`` and
``CoSignHash`` check or add a signature of a document the page hashed itself, without handing the document over.

Exports: ContentDigest, hash_content, hash_stream.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, BinaryIO

from signagent.errors import InvalidTypeError, SignAgentError
from signagent.fileio import CHUNK, iter_chunks, open_input

from .digests import digest_by_oid, new_hash

__all__ = ["ContentDigest", "hash_content", "hash_stream"]


@dataclass(frozen=True)
class ContentDigest:
    """The signed content known only by its digest: ``value`` computed with the digest algorithm ``oid``.

    Stands for the content wherever a detached signature's content is asked for (verification, co-signing). A
    signer whose digestAlgorithm is another one cannot be checked against it."""

    oid: str
    value: bytes

    def __post_init__(self) -> None:
        spec = digest_by_oid(self.oid)  # UnknownAlgorithmError for an OID signagent cannot compute
        if not isinstance(self.value, bytes) or len(self.value) != spec.size:
            raise InvalidTypeError(f"a {spec.name} digest is {spec.size} bytes")


def hash_content(content: object, oids_wanted: set[str]) -> dict[str, bytes]:
    """Digest of ``content`` (bytes, binary stream or path) for each supported digest OID, in one pass of
    1 MiB reads; unsupported OIDs are left out of the result. FileAccessError for an unreadable path. A
    :class:`ContentDigest` gives its own digest, if wanted, and nothing else."""
    if isinstance(content, ContentDigest):
        return {content.oid: content.value} if content.oid in oids_wanted else {}
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

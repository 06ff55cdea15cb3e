"""The few DER encodings (X.690) the CMS writer assembles by hand: lengths, headers, SET OF.

The outer SignedData is written piece by piece (so that a big attached content streams through without ever
being held in memory, and so that co-signing keeps the existing SignerInfos byte for byte); the inner pieces are
encoded by asn1crypto. The one decoding here, :func:`dotted_oid`, serves the reader of received signatures
(:mod:`.received`) and the attribute view alike.

Exports: length_octets, header, tlv, set_of, implicit_set, dotted_oid.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

__all__ = ["dotted_oid", "header", "implicit_set", "length_octets", "set_of", "tlv"]

TAG_INTEGER, TAG_OCTET_STRING, TAG_SEQUENCE, TAG_SET = 0x02, 0x04, 0x30, 0x31
TAG_CONTEXT_0_CONSTRUCTED, TAG_CONTEXT_1_CONSTRUCTED = 0xA0, 0xA1


def length_octets(n: int) -> bytes:
    """Definite-form length (X.690 clause 8.1.3): short form below 128, else 0x80|k followed by k octets."""
    if n < 0x80:
        return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def header(tag: int, n: int) -> bytes:
    """Identifier and length octets of an element whose contents are ``n`` octets long."""
    # the short form and the 1- and 2-octet long forms inline: a SignerInfo is built from some twenty small elements
    if n < 0x80:
        return bytes((tag, n))
    if n < 0x100:
        return bytes((tag, 0x81, n))
    if n < 0x10000:
        return bytes((tag, 0x82, n >> 8, n & 0xFF))
    return bytes((tag,)) + length_octets(n)


def tlv(tag: int, contents: bytes) -> bytes:
    """A whole element: header then contents."""
    return header(tag, len(contents)) + contents


def _sorted(encodings: Iterable[bytes]) -> bytes:
    # X.690 clause 11.6: the components of a DER SET OF are ordered by their encodings as octet strings.
    return b"".join(sorted(encodings))


def set_of(encodings: Iterable[bytes]) -> bytes:
    """A DER SET OF the given encoded elements (universal tag 17)."""
    return tlv(TAG_SET, _sorted(encodings))


def implicit_set(tag: int, encodings: Iterable[bytes]) -> bytes:
    """A DER SET OF under an IMPLICIT context tag (e.g. ``[0] IMPLICIT SignedAttributes``)."""
    return tlv(tag, _sorted(encodings))


@functools.lru_cache(maxsize=256)
def dotted_oid(contents: bytes) -> str | None:
    """The dotted form of OBJECT IDENTIFIER contents (X.690 clause 8.19), as asn1crypto's ``dotted`` gives it;
    None when they are not minimal DER (a leading 0x80 in a subidentifier, a last octet with bit 8 set)."""
    if not contents or contents[-1] & 0x80:
        return None
    arcs: list[int] = []
    value, fresh = 0, True
    for octet in contents:
        if fresh and octet == 0x80:
            return None
        value = (value << 7) | (octet & 0x7F)
        fresh = not octet & 0x80
        if fresh:
            arcs.append(value)
            value = 0
    first = arcs[0]  # X.690 8.19.4: the first subidentifier packs the first two arcs
    head = [first // 40, first % 40] if first < 80 else [2, first - 80]
    return ".".join(str(a) for a in head + arcs[1:])

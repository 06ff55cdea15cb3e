"""A minimal DER reader and writer for tests (X.690), independent of asn1crypto and of signagent.asn1.

Oracles and known-answer tests build and pick apart GOST keys, certificates and requests with it, so that a bug
in the project's own ASN.1 layer cannot hide behind the same bug in the test. Definite lengths only (all DER has);
single-byte tags (everything read here).
"""

from __future__ import annotations


def tlv(tag: int, content: bytes) -> bytes:
    """One element: tag byte, DER length, content."""
    n = len(content)
    if n < 0x80:
        length = bytes([n])
    else:
        raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
        length = bytes([0x80 | len(raw)]) + raw
    return bytes([tag]) + length + content


def seq(*items: bytes) -> bytes:
    """A SEQUENCE of already encoded items."""
    return tlv(0x30, b"".join(items))


def oid(dotted: str) -> bytes:
    """An OBJECT IDENTIFIER element: base-128 arcs, high bit marks continuation (X.690 clause 8.19)."""
    arcs = [int(a) for a in dotted.split(".")]
    out = bytearray([40 * arcs[0] + arcs[1]])
    for arc in arcs[2:]:
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        out += bytes(reversed(chunk))
    return tlv(0x06, bytes(out))


def read(data: bytes, pos: int = 0) -> tuple[int, bytes, int]:
    """One element at ``pos``: (tag byte, content, position after it)."""
    tag = data[pos]
    length = data[pos + 1]
    pos += 2
    if length & 0x80:
        count = length & 0x7F
        length = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    return tag, data[pos : pos + length], pos + length


def children(content: bytes) -> list[tuple[int, bytes]]:
    """The (tag, content) items of a constructed value's content."""
    items = []
    pos = 0
    while pos < len(content):
        tag, value, pos = read(content, pos)
        items.append((tag, value))
    return items

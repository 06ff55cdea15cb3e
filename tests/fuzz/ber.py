"""A BER TLV tree for the fuzz mutators and oracles: parse, edit, write back; independent of asn1crypto.

tests/der.py reads definite-length DER with one-byte tags; CMS seeds are BER (OpenSSL ``-stream`` writes
indefinite lengths), so this tree also keeps indefinite lengths, multi-byte tags and non-minimal length forms, and
writes every untouched node back exactly as it was read (re-encoding a seed gives the seed). Edited nodes get DER
lengths through :func:`tests.der.tlv`'s rule unless the mutation chose another length form.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field

from tests import der

MAX_DEPTH = 200  # the mutators' parser never recurses deeper than this (mutations may nest 5,000 levels)
ORACLE_DEPTH = 6000  # the oracles read any depth a mutation makes (see :func:`parse_deep`)


class BerError(ValueError):
    """Not parseable as BER by this reader."""


@dataclass
class Node:
    tag: bytes  # identifier octets as read
    constructed: bool
    value: bytes = b""  # primitive content
    children: list[Node] = field(default_factory=list)
    indefinite: bool = False
    length_octets: int = 0  # 0: short form; n: long form with n octets (kept when it still fits)
    raw_length: bytes | None = None  # a length field forced by a mutation (written verbatim)
    trailer: bytes = b""  # bytes a mutation appended after the node's content inside its own TLV
    opened: bool = False  # a primitive OCTET/BIT STRING whose content was parsed as a nested element

    @property
    def tag_number_byte(self) -> int:
        return self.tag[0]

    def content(self) -> bytes:
        if self.constructed:
            return b"".join(c.encode() for c in self.children) + self.trailer
        return self.value + self.trailer

    def encode(self) -> bytes:
        if not self.tag:  # raw octets (the unused-bits octet of an opened BIT STRING)
            return self.value + self.trailer
        body = self.content()
        if self.raw_length is not None:
            return self.tag + self.raw_length + body
        if self.indefinite:
            return self.tag + b"\x80" + body + b"\x00\x00"
        return self.tag + encode_length(len(body), self.length_octets) + body

    def walk(self) -> list[Node]:
        """Pre-order list of this node and its descendants (the mutators address nodes by index in it)."""
        out: list[Node] = []
        stack = [self]
        while stack:
            node = stack.pop()
            out.append(node)
            stack.extend(reversed(node.children))
        return out


def encode_length(n: int, octets: int = 0) -> bytes:
    """A definite length: short form, or the long form with ``octets`` octets when that is enough, else minimal."""
    if octets == 0 and n < 0x80:
        return bytes([n])
    minimal = (n.bit_length() + 7) // 8 or 1
    octets = max(octets, minimal)
    return bytes([0x80 | octets]) + n.to_bytes(octets, "big")


def _header(data: bytes, pos: int) -> tuple[bytes, bool, int | None, int, int]:
    """(tag octets, constructed, length or None for indefinite, length octets, content start)."""
    if pos >= len(data):
        raise BerError("truncated tag")
    start = pos
    first = data[pos]
    pos += 1
    if first & 0x1F == 0x1F:
        while True:
            if pos >= len(data):
                raise BerError("truncated tag")
            pos += 1
            if not data[pos - 1] & 0x80:
                break
            if pos - start > 6:
                raise BerError("tag too long")
    tag = data[start:pos]
    if pos >= len(data):
        raise BerError("truncated length")
    lb = data[pos]
    pos += 1
    if lb == 0x80:
        return tag, bool(first & 0x20), None, 0, pos
    if lb < 0x80:
        return tag, bool(first & 0x20), lb, 0, pos
    count = lb & 0x7F
    if count == 0x7F or pos + count > len(data):
        raise BerError("bad length")
    return tag, bool(first & 0x20), int.from_bytes(data[pos : pos + count], "big"), count, pos + count


def _parse(data: bytes, pos: int, depth: int, limit: int = MAX_DEPTH) -> tuple[Node, int]:
    if depth > limit:
        raise BerError("too deep")
    tag, constructed, length, octets, pos = _header(data, pos)
    if length is None:
        if not constructed:
            raise BerError("indefinite primitive")
        node = Node(tag, True, indefinite=True)
        while True:
            if data[pos : pos + 2] == b"\x00\x00":
                return node, pos + 2
            if pos >= len(data):
                raise BerError("missing end-of-contents")
            child, pos = _parse(data, pos, depth + 1, limit)
            node.children.append(child)
    end = pos + length
    if end > len(data):
        raise BerError("length beyond the data")
    node = Node(tag, constructed, length_octets=octets)
    if not constructed:
        node.value = data[pos:end]
        return node, end
    while pos < end:
        child, pos = _parse(data, pos, depth + 1, limit)
        node.children.append(child)
    if pos != end:
        raise BerError("child runs past its parent")
    return node, end


def parse(data: bytes) -> Node:
    """The one element that ``data`` must consist of (BerError otherwise)."""
    node, end = _parse(data, 0, 0)
    if end != len(data):
        raise BerError("trailing data")
    return node


@contextlib.contextmanager
def deep() -> Iterator[None]:
    """Let the oracles' recursive walks (parse_deep, canonical) go :data:`ORACLE_DEPTH` levels deep: Python 3.11
    calls between Python functions do not use the C stack, so only the interpreter's limit needs raising."""
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old, 3 * ORACLE_DEPTH))
    try:
        yield
    finally:
        sys.setrecursionlimit(old)


def parse_deep(data: bytes) -> Node:
    """:func:`parse` for oracles: any nesting up to :data:`ORACLE_DEPTH` (use inside :func:`deep`)."""
    node, end = _parse(data, 0, 0, ORACLE_DEPTH)
    if end != len(data):
        raise BerError("trailing data")
    return node


def parse_nested(data: bytes) -> Node:
    """Like :func:`parse`, then also opens primitive OCTET STRING / BIT STRING values that hold one whole BER
    element (extension values, SPKI keys, the SignedData inside eContent) so the mutators reach inside them.
    Opened nodes re-encode to the same bytes."""
    root = parse(data)
    for node in root.walk():
        if node.constructed or node.tag not in (b"\x04", b"\x03"):
            continue
        inner = node.value[1:] if node.tag == b"\x03" else node.value
        if node.tag == b"\x03" and node.value[:1] != b"\x00":
            continue
        if len(inner) < 2 or inner[0] not in (0x30, 0x31, 0x02, 0x03, 0x04, 0x06, 0x0C, 0xA0):
            continue
        try:
            child = parse(inner)
        except (BerError, IndexError):
            continue
        if child.encode() != inner:
            continue
        node.constructed = True  # write-through wrapper: a primitive whose content is the child
        node.children = ([Node(b"", False, value=b"\x00")] if node.tag == b"\x03" else []) + [child]
        node.value = b""
        node.opened = True
    return root


def tlv(tag: int, content: bytes) -> bytes:
    """One DER element (the shared test writer)."""
    return der.tlv(tag, content)


def flatten_string(node: Node) -> bytes | None:
    """The octets of an OCTET STRING, primitive or constructed (BER segments concatenated); None if not one."""
    if node.tag == b"\x04" and not node.constructed:
        return node.value
    if node.tag in (b"\x04", b"\x24") and (node.constructed or node.opened):
        if node.opened:
            return node.content()
        parts = []
        for child in node.children:
            part = flatten_string(child)
            if part is None:
                return None
            parts.append(part)
        return b"".join(parts)
    return None


def canonical(node: Node) -> bytes:
    """A DER-like canonical encoding for comparing BER values: definite minimal lengths, SET OF (and the
    IMPLICIT [0] signedAttrs) sorted, constructed OCTET STRINGs flattened."""
    if node.tag in (b"\x24",) or (node.tag == b"\x04" and node.constructed and not node.opened):
        flat = flatten_string(node)
        if flat is not None:
            return tlv(0x04, flat)
    if node.opened:
        return node.tag + encode_length(len(node.content())) + node.content()
    if not node.constructed:
        return node.tag + encode_length(len(node.value)) + node.value + (node.trailer or b"")
    parts = [canonical(c) for c in node.children]
    if node.tag in (b"\x31", b"\xa0"):
        parts.sort()
    body = b"".join(parts) + node.trailer
    return node.tag + encode_length(len(body)) + body

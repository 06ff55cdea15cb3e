"""How deeply BER/DER values nest, measured without decoding them (and without recursion).

asn1crypto decodes nested values recursively: 1,000 nested SEQUENCEs in an extension raise RecursionError from
``.native``, and a few thousand levels in a certificate cost hundreds of MB before they do. Genuine structures are
shallow (a certificatePolicies value with qualifiers nests 6 levels), so parsers of untrusted values check the
depth first with :func:`nesting_depth`, a flat walk over the TLV headers (X.690 clause 8.1) that uses constant
stack and never allocates the values.

The walk only measures: a malformed header stops it without an error (the real parser then reports the damage in
its own words).

Exports: MAX_VALUE_DEPTH, nesting_depth.
"""

from __future__ import annotations

__all__ = ["MAX_VALUE_DEPTH", "nesting_depth"]

#: Nesting allowed inside one extension value or attribute: several times what any real one uses.
MAX_VALUE_DEPTH = 32

_CONSTRUCTED = 0x20
_HIGH_TAG = 0x1F
_INDEFINITE = 0x80


def _header(data: bytes, pos: int) -> tuple[bool, int | None, int] | None:
    """(constructed, content length or None for indefinite, position of the content) of the TLV at ``pos``, or None
    when the header is malformed or truncated."""
    end = len(data)
    tag = data[pos]
    pos += 1
    if tag & _HIGH_TAG == _HIGH_TAG:  # X.690 8.1.2.4: tag number in base-128 octets, high bit = more follow
        while pos < end and data[pos] & 0x80:
            pos += 1
        pos += 1
    if pos >= end:
        return None
    first = data[pos]
    pos += 1
    if first == _INDEFINITE:
        return bool(tag & _CONSTRUCTED), None, pos
    if first & 0x80:  # X.690 8.1.3.5: long form, the low bits count the length octets
        count = first & 0x7F
        if count > 8 or pos + count > end:
            return None
        length = int.from_bytes(data[pos:pos + count], "big")
        pos += count
    else:
        length = first
    if pos + length > end:
        return None
    return bool(tag & _CONSTRUCTED), length, pos


def nesting_depth(data: bytes, limit: int | None = None) -> int:
    """The deepest nesting of constructed values in ``data`` (0 for primitives only); the walk stops as soon as the
    depth passes ``limit`` (the result is then ``limit + 1``) or a header is malformed."""
    data = bytes(data)
    stack: list[int | None] = []  # end offset of each open constructed value; None = indefinite length
    deepest = 0
    pos = 0
    while True:
        while stack and stack[-1] is not None and pos >= stack[-1]:  # type: ignore[operator]
            stack.pop()
        if pos >= len(data):
            return deepest
        if stack and stack[-1] is None and data[pos:pos + 2] == b"\x00\x00":  # end-of-contents (X.690 8.1.5)
            stack.pop()
            pos += 2
            continue
        header = _header(data, pos)
        if header is None:
            return deepest
        constructed, length, pos = header
        if constructed:
            stack.append(None if length is None else pos + length)
            deepest = max(deepest, len(stack))
            if limit is not None and deepest > limit:
                return deepest
        elif length is None:  # a primitive value cannot have an indefinite length
            return deepest
        else:
            pos += length


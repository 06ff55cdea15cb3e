"""The few DER encodings (X.690) the CMS writer assembles by hand: lengths, headers, SET OF.

The outer SignedData is written piece by piece (so that a big attached content streams through without ever
being held in memory, and so that co-signing keeps the existing SignerInfos byte for byte); the inner pieces are
encoded by asn1crypto.

Exports: length_octets, header, tlv, set_of, implicit_set.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["header", "implicit_set", "length_octets", "set_of", "tlv"]

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
    return bytes([tag]) + length_octets(n)


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

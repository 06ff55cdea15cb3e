"""Mutations of a signed certificate that keep its issuer's signature over the original TBS (issue 10, defect 2).

asn1crypto undoes most of them when it re-encodes, which is why a verifier that checked the signature over the
re-encoding used to accept them. Shared by the strict-DER tests (tests/x509/test_strict_der.py) and the
OpenSSL-agreement and CMS tests (tests/cms/test_hostile_certificates.py).
"""

from __future__ import annotations

from tests.der import children, read, tlv

NULL = b"\x05\x00"


def outer_parts(der: bytes) -> list[tuple[int, bytes]]:
    """(tag, contents) of the outer SEQUENCE's elements: TBS, signatureAlgorithm, signatureValue."""
    return children(read(der)[1])


def rebuild(parts: list[tuple[int, bytes]]) -> bytes:
    """A SEQUENCE of ``parts`` (tag, contents)."""
    return tlv(0x30, b"".join(tlv(t, c) for t, c in parts))


def junk_in_extensions(der: bytes) -> bytes:
    """NULL after the Extensions inside the [3] EXPLICIT wrapper (asn1crypto drops it on re-encoding)."""
    tbs, alg, sig = outer_parts(der)
    fields = children(tbs[1])
    assert fields[-1][0] == 0xA3
    fields[-1] = (0xA3, fields[-1][1] + NULL)
    return rebuild([(0x30, b"".join(tlv(t, c) for t, c in fields)), alg, sig])


def bytes_after_tbs_fields(der: bytes) -> bytes:
    tbs, alg, sig = outer_parts(der)
    return rebuild([(0x30, tbs[1] + NULL), alg, sig])


def fourth_element(der: bytes) -> bytes:
    return tlv(0x30, read(der)[1] + NULL)


def outer_algorithm_parameters(der: bytes) -> bytes:
    """Parameters added to the outer signatureAlgorithm (outside the signed bytes; RFC 5280 4.1.1.2 broken)."""
    tbs, alg, sig = outer_parts(der)
    return rebuild([tbs, (0x30, alg[1] + NULL), sig])


def indefinite_length(der: bytes) -> bytes:
    """The TBS with a 0x80 (BER indefinite) length: OpenSSL then verifies over those BER bytes, and fails."""
    tbs, alg, sig = outer_parts(der)
    return tlv(0x30, b"\x30\x80" + tbs[1] + b"\x00\x00" + tlv(*alg) + tlv(*sig))


def outer_indefinite_length(der: bytes) -> bytes:
    return b"\x30\x80" + read(der)[1] + b"\x00\x00"


def outer_non_minimal_length(der: bytes) -> bytes:
    content = read(der)[1]
    return b"\x30\x84" + len(content).to_bytes(4, "big") + content


def serial_byte_flipped(der: bytes) -> bytes:
    tbs, alg, sig = outer_parts(der)
    fields = children(tbs[1])
    assert fields[1][0] == 0x02
    serial = fields[1][1]
    fields[1] = (0x02, serial[:-1] + bytes([serial[-1] ^ 0x01]))
    return rebuild([(0x30, b"".join(tlv(t, c) for t, c in fields)), alg, sig])

"""Hostile certification requests (issue 10, defects 2 and 5): a request that is not DER is refused with not_der,
its signature is checked over the bytes received, and malformed parts give RequestFormatError, never a traceback."""

from __future__ import annotations

import json

import pytest
from asn1crypto import core

from signagent.cms import pkcs10
from signagent.cms.pkcs10 import RequestFormatError
from signagent.errors import NestingTooDeepError, NotDerError
from signagent.gost import PrivateKey, curve, streebog256
from signagent.x509.builder import build_name
from tests.der import children, oid, read, seq, tlv

HUGE = 10**20000  # beyond Python's 4,300-digit str() limit
EXTENSION_REQUEST = "1.2.840.113549.1.9.14"


@pytest.fixture(scope="module")
def key() -> PrivateKey:
    return PrivateKey.generate(curve("tc26-256-A"))


@pytest.fixture(scope="module")
def request_der(key: PrivateKey) -> bytes:
    return pkcs10.build_request([("CN", "Иванов"), ("O", "Ромашка")], key).dump()


def _parts(der: bytes) -> list[tuple[int, bytes]]:
    """(tag, content) of the request info's elements."""
    _, outer, _ = read(der)
    _, info, _ = read(tlv(*children(outer)[0]))
    return children(info)


def _signed(key: PrivateKey, info_items: list[bytes]) -> bytes:
    """A request whose info is ``info_items`` (encoded elements), signed over exactly those bytes."""
    info = seq(*info_items)
    signature = key.sign_digest(streebog256(info).digest())
    return seq(info, seq(oid("1.2.643.7.1.1.3.2")), tlv(0x03, b"\x00" + signature))


def _items(der: bytes) -> list[bytes]:
    return [tlv(tag, content) for tag, content in _parts(der)]


def test_a_request_with_a_non_minimal_length_is_not_der(request_der):
    # BER allows the long form where the short one fits; DER does not (X.690 10.1). Unfixed, it was accepted as
    # a valid request: asn1crypto read it and the signature was checked over its own re-encoding.
    _, content, _ = read(request_der)
    ber = b"\x30\x83" + len(content).to_bytes(3, "big") + content
    with pytest.raises(NotDerError) as info:
        pkcs10.parse_request(ber)
    assert isinstance(info.value, RequestFormatError) and info.value.code == "not_der"


def test_a_request_with_an_indefinite_length_is_not_der(request_der):
    _, content, _ = read(request_der)
    with pytest.raises(NotDerError):
        pkcs10.parse_request(b"\x30\x80" + content + b"\x00\x00")


def test_junk_inside_the_attributes_wrapper_is_not_der(key, request_der):
    items = _items(request_der)
    # An extra element after the SET of attributes' contents would be dropped by asn1crypto's re-encoding.
    items.append(tlv(0x05, b""))
    with pytest.raises(NotDerError):
        pkcs10.parse_request(_signed(key, items))


def test_a_der_request_signed_by_hand_still_verifies(key, request_der):
    assert pkcs10.parse_request(_signed(key, _items(request_der))).signature_valid


def test_a_huge_version_is_a_format_error(key, request_der):
    items = _items(request_der)
    items[0] = core.Integer(HUGE).dump()
    with pytest.raises(RequestFormatError, match="unknown version") as info:
        pkcs10.parse_request(_signed(key, items))
    assert len(info.value.message) < 300


def test_a_name_attribute_with_a_broken_inner_length_is_a_format_error(key, request_der):
    # The RDN's SEQUENCE is consistent, the string inside claims 127 bytes: asn1crypto's lazy parser met it only
    # when the name was read, outside the loader's error handling (ValueError).
    broken = tlv(0x30, tlv(0x31, tlv(0x30, oid("2.5.4.3") + b"\x0c\x7fx")))
    items = _items(request_der)
    items[1] = broken
    with pytest.raises(RequestFormatError):
        pkcs10.parse_request(_signed(key, items))


def test_deeply_nested_attributes_are_refused(key, request_der):
    deep = b"\x05\x00"
    for _ in range(4000):
        deep = tlv(0x30, deep)
    items = _items(request_der)
    items[3] = tlv(0xA0, seq(oid("1.2.3.4"), tlv(0x31, deep)))
    with pytest.raises(NestingTooDeepError) as info:
        pkcs10.parse_request(_signed(key, items))
    assert isinstance(info.value, RequestFormatError)


def test_a_huge_integer_in_a_requested_extension_reaches_json(key, request_der):
    basic = seq(oid("2.5.29.19"), b"\x01\x01\xff", tlv(0x04, seq(b"\x01\x01\xff", core.Integer(HUGE).dump())))
    items = _items(request_der)
    items[3] = tlv(0xA0, seq(oid(EXTENSION_REQUEST), tlv(0x31, seq(basic))))
    info = pkcs10.parse_request(_signed(key, items))
    assert info.signature_valid
    assert "integer)" in json.dumps(info.to_dict(), ensure_ascii=False)


def test_a_subject_built_by_us_is_der(key):
    der = pkcs10.build_request(build_name([("CN", "x")]), key).dump()
    assert pkcs10.parse_request(der).signature_valid

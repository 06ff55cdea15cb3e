"""Hostile certificates (issue 10, defect 5): bad strings in names, huge integers and deeply nested extension
values must give project errors or flagged problems -- never a traceback, in the model, ``cert show`` and its
JSON."""

from __future__ import annotations

import json

import pytest
from asn1crypto import core, x509

from signagent.asn1.integers import MAX_EXACT_BITS, bounded_int, int_text, jsonable_int
from signagent.asn1.nesting import nesting_depth
from signagent.errors import IntegerTooLargeError
from signagent.service.certificates import describe_certificate, render_certificate
from signagent.x509 import Certificate
from signagent.x509.extensions import parse_extensions
from signagent.x509.names import DistinguishedName
from tests.der import seq as der_seq
from tests.der import tlv
from tests.x509.der_builder import CN, INN, OGRN, SNILS, build, extension, name, utf8

HUGE = 10**20000  # beyond Python's 4,300-digit str() limit


def _cert(subject: bytes | None = None, extensions: list[bytes] | None = None, serial: int = 5) -> Certificate:
    der, _ = build(subject if subject is not None else name((CN, utf8("x"))), extensions=extensions, serial=serial)
    return Certificate.from_der(der)


def _show_everything(cert: Certificate) -> dict:
    """What ``signagent cert show`` (text in both languages and --json) computes."""
    desc = describe_certificate(cert)
    json.dumps(desc, ensure_ascii=False)
    render_certificate(desc)
    render_certificate(desc, "ru")
    return desc


# --- names ------------------------------------------------------------------------------------------------------

BAD_VALUES = {
    "utf8-invalid": tlv(0x0C, b"\xff\xfe"),
    "bmp-odd-length": tlv(0x1E, b"\x00\x41\x42"),
    "universal-invalid": tlv(0x1C, b"\xff\xff\xff\xff"),
    "private-use": utf8("\ue000"),
    "unassigned": utf8("\U000e0fff"),
    "utf8-where-numeric": utf8("7707083893"),
    "integer": core.Integer(5).dump(),
}


def _name(der: bytes) -> DistinguishedName:
    return DistinguishedName(x509.Name.load(der))


@pytest.mark.parametrize("attribute", [CN, INN, OGRN, SNILS])
@pytest.mark.parametrize("value", BAD_VALUES.values(), ids=BAD_VALUES.keys())
def test_bad_strings_in_names_compare_and_hash_without_errors(attribute, value):
    # Names come from certificates, CRL issuers, CMS signer identifiers and requests: comparing or hashing one
    # with a value asn1crypto cannot prepare raised UnicodeDecodeError / ValueError when unfixed.
    der = name((attribute, value), (CN, utf8("x"))) if attribute != CN else name((CN, value))
    first, second = _name(der), _name(der)
    assert first == second and hash(first) == hash(second)
    assert first != _name(name((CN, utf8("someone else"))))
    assert first.display and first.to_dict()


_LOADABLE = ("private-use", "unassigned", "utf8-where-numeric", "integer")  # the others are not DER (refused)


@pytest.mark.parametrize("attribute", [CN, INN, OGRN, SNILS])
@pytest.mark.parametrize("label", _LOADABLE)
def test_certificates_with_odd_name_values_are_shown(attribute, label):
    value = BAD_VALUES[label]
    cert = _cert(name((attribute, value), (CN, utf8("x"))) if attribute != CN else name((CN, value)))
    assert cert.subject == cert.issuer and cert.is_self_issued
    _show_everything(cert)


def test_names_still_compare_as_rfc5280_says():
    # RFC 5280 section 7.1 (RFC 4518 preparation): case and inner spaces do not matter, the RDN set order neither.
    a = _cert(name((CN, utf8("Иванов  Иван")), (OGRN, core.NumericString("1027700132195").dump())))
    b = _cert(name((CN, utf8("иванов иван")), (OGRN, core.NumericString("1027700132195").dump())))
    c = _cert(name((CN, utf8("Петров")), (OGRN, core.NumericString("1027700132195").dump())))
    assert a.subject == b.subject and hash(a.subject) == hash(b.subject)
    assert a.subject != c.subject


def test_an_undecodable_value_equals_only_the_same_bytes():
    assert _name(name((CN, tlv(0x0C, b"\xff")))) == _name(name((CN, tlv(0x0C, b"\xff"))))
    assert _name(name((CN, tlv(0x0C, b"\xff")))) != _name(name((CN, tlv(0x0C, b"\xfe"))))


# --- huge integers ----------------------------------------------------------------------------------------------

def test_a_serial_beyond_the_str_limit_is_shown_in_hex_only():
    cert = _cert(serial=HUGE)
    desc = _show_everything(cert)
    assert desc["serial"]["decimal"] is None
    assert desc["serial"]["hex"] == cert.serial_hex


def test_an_ordinary_serial_keeps_its_decimal_form():
    assert _show_everything(_cert(serial=0x01F8FD72008FB0EAB1))["serial"]["decimal"] == str(0x01F8FD72008FB0EAB1)


def test_a_huge_identification_kind_is_a_flagged_problem():
    cert = _cert(extensions=[extension("1.2.643.100.114", core.Integer(HUGE).dump())])
    desc = _show_everything(cert)
    problems = [p for p in cert.identity.problems if p.code == "identification_kind_unknown"]
    assert problems and "integer)" in problems[0].message
    assert desc["identity"]["identification_kind"] is None


@pytest.mark.parametrize(("label", "ext"), [
    ("pathLen", extension("2.5.29.19", der_seq(b"\x01\x01\xff", core.Integer(HUGE).dump()), critical=True)),
    ("aki-serial", extension("2.5.29.35", der_seq(tlv(0x80, b"\x01" * 20), tlv(0x82, core.Integer(HUGE).contents)))),
    ("policyConstraints", extension("2.5.29.36", der_seq(tlv(0x80, core.Integer(HUGE).contents)))),
    ("inhibitAnyPolicy", extension("2.5.29.54", core.Integer(HUGE).dump())),
    ("unknown", extension("1.2.3.4", core.Integer(HUGE).dump())),
    ("ski-as-integer", extension("2.5.29.14", core.Integer(HUGE).dump())),
])
def test_huge_integers_in_extensions_reach_json_and_text_as_hex(label, ext):
    desc = _show_everything(_cert(extensions=[ext]))
    assert "integer)" in json.dumps(desc)


# --- nesting ----------------------------------------------------------------------------------------------------

def _deep(levels: int, tag: int = 0x30) -> bytes:
    value = b"\x05\x00"
    for _ in range(levels):
        value = tlv(tag, value)
    return value


@pytest.mark.parametrize("oid", ["1.2.3.4", "2.5.29.32", "2.5.29.17", "1.2.643.100.112"])
@pytest.mark.parametrize("critical", [False, True])
def test_deeply_nested_extension_values_are_recorded_not_raised(oid, critical):
    # Extensions reach parse_extensions from certificates and from requests' extensionRequest; unfixed, 4,090
    # levels raised RecursionError from asn1crypto's recursive decoding.
    ext = x509.Extension.load(extension(oid, _deep(4090), critical=critical))
    (info,) = parse_extensions([ext])
    assert "nested deeper" in info.error and info.critical == critical


@pytest.mark.parametrize("critical", [False, True])
def test_a_certificate_with_a_deep_extension_value_is_shown(critical):
    # 40 levels: within what the certificate loader accepts as a whole, deeper than any genuine extension value.
    cert = _cert(extensions=[extension("2.5.29.32", _deep(40), critical=critical)])
    _show_everything(cert)
    info = next(e for e in cert.extensions if e.oid == "2.5.29.32")
    assert "nested deeper" in info.error
    assert ("2.5.29.32" in cert.unknown_critical_extensions) == critical  # RFC 5280 4.2: unprocessable = reject


def test_nesting_depth_walks_without_recursion():
    assert nesting_depth(_deep(100_000), limit=32) == 33
    assert nesting_depth(_deep(5)) == 5
    assert nesting_depth(b"\x30\x80" * 3 + b"\x05\x00" + b"\x00\x00" * 3) == 3  # BER indefinite lengths
    assert nesting_depth(b"\x30\x05\x30") == 0  # truncated: the walk stops, the real parser reports it
    assert nesting_depth(b"") == 0


# --- the helpers ------------------------------------------------------------------------------------------------

def test_integer_helpers():
    assert int_text(12345) == "12345"
    assert int_text(-HUGE).startswith("-0x") and int_text(HUGE).endswith("-bit integer)")
    assert jsonable_int(1 << MAX_EXACT_BITS - 1) == 1 << MAX_EXACT_BITS - 1
    assert isinstance(jsonable_int(HUGE), str)
    assert bounded_int(7, 10, "x", "x") == 7
    with pytest.raises(IntegerTooLargeError, match="outside"):
        bounded_int(HUGE, 10, "the version", "версия")


@pytest.mark.parametrize("oid", ["1.2.3.4", "2.5.29.32"])
def test_a_value_asn1crypto_cannot_make_native_is_recorded(oid):
    # An ObjectDescriptor (tag 7) has no .native in asn1crypto: AttributeError escaped the generic decoding.
    value = der_seq(der_seq(tlv(0x07, b"descriptor")))
    (info,) = parse_extensions([x509.Extension.load(extension(oid, value))])
    assert info.value == value.hex()

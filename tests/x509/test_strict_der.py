"""Strict DER for certificates and CRLs (issue 10, defects 2 and 4): RFC 5280 sections 4.1 and 5.1 require DER,
signatures are verified over the TBS as received, thumbprints are of the bytes received.

Each mutation below kept the issuer's signature valid over asn1crypto's *re-encoding* (which drops or normalises
what was changed), so the certificate used to load and verify; now it is refused with ``not_der``.
"""

from __future__ import annotations

import hashlib

import pytest
from asn1crypto import pem

from signagent.asn1.strict_der import MAX_DEPTH, check_der, received_encoding, require_der, sequence_elements
from signagent.errors import CertificateFormatError, CrlFormatError, NestingTooDeepError, NotDerError
from signagent.x509 import Certificate, load_certificate, load_certificates, load_crl
from signagent.x509.signature import crl_is_signed_by
from tests.conftest import ROOT
from tests.der import seq, tlv
from tests.x509.der_builder import CN, build, extension, key_usage_ext, name, utf8
from tests.x509.mutations import (
    bytes_after_tbs_fields,
    fourth_element,
    junk_in_extensions,
    outer_algorithm_parameters,
    outer_indefinite_length,
    outer_non_minimal_length,
    outer_parts,
)

REAL = ROOT / "certs" / "real"


@pytest.fixture(scope="module")
def issued() -> tuple[bytes, bytes]:
    """(certificate signed by a CA, the CA's certificate)."""
    ca_der, ca_key = build(name((CN, utf8("CA"))))
    der, _ = build(name((CN, utf8("leaf"))), issuer=name((CN, utf8("CA"))), issuer_key=ca_key,
                   extensions=[key_usage_ext()])
    return der, ca_der


def _boolean_01(der: bytes) -> bytes:
    """basicConstraints-style critical flag TRUE encoded as 01 (BER) instead of FF (DER, X.690 11.1)."""
    assert b"\x01\x01\xff" in der
    return der.replace(b"\x01\x01\xff", b"\x01\x01\x01", 1)


@pytest.mark.parametrize("mutate", [junk_in_extensions, bytes_after_tbs_fields, fourth_element, outer_indefinite_length,
                                    outer_non_minimal_length, _boolean_01])
def test_non_der_certificates_are_refused(issued, mutate) -> None:
    der, _ = issued
    bad = mutate(der)
    with pytest.raises(NotDerError) as caught:
        Certificate.from_der(bad)
    assert caught.value.code == "not_der"
    assert isinstance(caught.value, CertificateFormatError)  # callers that skip unreadable certificates still do
    assert "\n" not in caught.value.message
    with pytest.raises(CertificateFormatError):
        load_certificates(pem.armor("CERTIFICATE", bad))


def test_outer_algorithm_with_parameters_loads_but_never_verifies(issued) -> None:
    der, ca_der = issued
    good, ca = Certificate.from_der(der), Certificate.from_der(ca_der)
    assert good.algorithms_match and good.is_signed_by(ca)
    bad = Certificate.from_der(outer_algorithm_parameters(der))  # DER itself, but RFC 5280 4.1.1.2 is broken
    assert not bad.algorithms_match
    assert not bad.is_signed_by(ca)
    assert "signature_algorithm_mismatch" in [p.code for p in bad.problems]


def test_thumbprints_and_tbs_are_of_the_bytes_received(issued) -> None:
    der, _ = issued
    cert = Certificate.from_der(der)
    assert cert.sha1_thumbprint == hashlib.sha1(der).hexdigest().upper()  # noqa: S324
    assert cert.tbs_der == sequence_elements(der)[0] == tlv(0x30, outer_parts(der)[0][1])


def test_deep_nesting_is_refused_before_asn1crypto(issued) -> None:
    # 4,090 nested SEQUENCEs in an extension value: asn1crypto used ~490 MB and died with RecursionError
    value = b""
    for _ in range(4090):
        value = tlv(0x30, value)
    der, _ = build(name((CN, utf8("deep"))), extensions=[extension("1.2.3.4", value)])
    with pytest.raises(NestingTooDeepError) as caught:
        Certificate.from_der(der)
    assert caught.value.code == "nesting_too_deep"
    assert isinstance(caught.value, CertificateFormatError)
    # and directly inside the TBS (an attribute value of the subject name)
    deep = b"\x05\x00"
    for _ in range(MAX_DEPTH + 5):
        deep = tlv(0x30, deep)
    der, _ = build(seq(tlv(0x31, seq(tlv(0x06, b"\x55\x04\x03"), deep))))
    with pytest.raises(NestingTooDeepError):
        Certificate.from_der(der)


def test_a_ber_certificate_in_a_bundle_is_refused(issued) -> None:
    """A PKCS#7 bundle may be BER; the certificate inside it must still be DER (asn1crypto's dump() of it would
    have been a DER re-encoding)."""
    der, _ = issued

    def bundle(certificate: bytes) -> bytes:
        signed_data = seq(tlv(0x02, b"\x01"), tlv(0x31, b""), seq(tlv(0x06, bytes.fromhex("2a864886f70d010701"))),
                          tlv(0xA0, certificate), tlv(0x31, b""))
        return seq(tlv(0x06, bytes.fromhex("2a864886f70d010702")), tlv(0xA0, signed_data))

    assert [c.der for c in load_certificates(bundle(der))] == [der]
    with pytest.raises(CertificateFormatError):  # never read as its DER re-encoding
        load_certificates(bundle(outer_indefinite_length(der)))


def test_walker_rules() -> None:
    check_der(seq(tlv(0x02, b"\x00\x80"), tlv(0x01, b"\xff"), tlv(0x03, b"\x01\x02")))
    for bad in (
        seq(tlv(0x02, b"\x00\x01")),  # non-minimal INTEGER (X.690 8.3.2)
        seq(tlv(0x03, b"\x01\x01")),  # BIT STRING padding bit set (11.2)
        seq(tlv(0x17, b"2401010000Z")),  # UTCTime without seconds (11.8)
        seq(tlv(0x05, b"\x00")),  # NULL with contents
        seq(b"\x00\x00"),  # end-of-contents in DER
        seq(tlv(0x24, b"")),  # constructed OCTET STRING (10.2)
        seq(tlv(0x06, b"\x80\x01")),  # OID arc with a leading 0x80
        seq(tlv(0x02, b"\x01")) + b"\x00",  # trailing byte
    ):
        with pytest.raises(NotDerError):
            check_der(bad)


def test_received_encoding_is_not_a_re_encoding(issued) -> None:
    from asn1crypto import x509

    der, _ = issued
    parsed = x509.Certificate.load(outer_indefinite_length(der))
    assert received_encoding(parsed) == outer_indefinite_length(der)
    assert parsed.dump() != outer_indefinite_length(der)  # asn1crypto's dump() normalises: never verify over it


def test_real_state_pki_certificates_and_crl_are_strict_der() -> None:
    from asn1crypto import crl, x509

    from signagent.asn1.opaque_specs import OpaqueCertificate, OpaqueCertificateList

    files = sorted(REAL.glob("*.pem"))
    assert files
    for path in files:
        for label, _, der in pem.unarmor(path.read_bytes(), multiple=True):
            if "CRL" in label:
                require_der(der, OpaqueCertificateList, what=path.name)
                assert load_crl(der).dump() == der and crl.CertificateList.load(der)
            else:
                require_der(der, OpaqueCertificate, what=path.name)
                assert load_certificate(der).der == der and x509.Certificate.load(der)


def test_non_der_crls_are_refused_and_mismatched_algorithms_never_verify() -> None:
    path = REAL / "crl_guc2012_gost2001_2018-05-24.pem"
    der = pem.unarmor(path.read_bytes())[2]
    issuer = load_certificate((REAL / "root_guc2012_gost2001_8CAE88BB.pem").read_bytes())
    assert crl_is_signed_by(load_crl(der), issuer)
    for bad in (outer_indefinite_length(der), outer_non_minimal_length(der), fourth_element(der),
                bytes_after_tbs_fields(der)):
        with pytest.raises(CrlFormatError) as caught:
            load_crl(bad)
        assert caught.value.code == "not_der"
    mismatched = load_crl(outer_algorithm_parameters(der))
    assert not crl_is_signed_by(mismatched, issuer)


def test_the_request_checker_cms_pkcs10_can_call() -> None:
    """require_der with OpaqueCertificationRequest: a request the project makes passes, a tampered one fails."""
    from signagent.asn1.opaque_specs import OpaqueCertificationRequest
    from signagent.cms.pkcs10 import build_request
    from signagent.gost import PrivateKey
    from signagent.x509 import builder as b

    request = build_request([("CN", "Тест"), ("INN", "500100732259")], PrivateKey.generate("tc26-256-A"),
                            extensions=[b.key_usage("digital_signature"), b.subject_sign_tool("СКЗИ")])
    der = request.dump()
    require_der(der, OpaqueCertificationRequest, what="the certification request")
    for bad in (outer_indefinite_length(der), fourth_element(der), outer_non_minimal_length(der)):
        with pytest.raises(NotDerError):
            require_der(bad, OpaqueCertificationRequest, what="the certification request")



def test_a_distribution_point_naming_only_its_crl_issuer_is_skipped() -> None:
    """RFC 5280 4.2.1.13: distributionPoint is OPTIONAL (a point may give only cRLIssuer); it has no URL to use."""
    uri = tlv(0x86, b"http://crl.test/ca.crl")
    only_issuer = seq(tlv(0xA2, uri))  # DistributionPoint { cRLIssuer [2] GeneralNames }
    with_url = seq(tlv(0xA0, tlv(0xA0, uri)))  # { distributionPoint [0] { fullName [0] GeneralNames } }
    der, _ = build(name((CN, utf8("leaf"))), extensions=[extension("2.5.29.31", seq(only_issuer, with_url))])
    assert Certificate.from_der(der).crl_distribution_urls == ("http://crl.test/ca.crl",)

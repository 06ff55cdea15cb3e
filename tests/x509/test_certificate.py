"""The certificate model on real state-PKI certificates and on purpose-built ones."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import pytest

from signagent.errors import CertificateFormatError
from signagent.gost import PublicKey, curve, streebog256
from signagent.x509 import Certificate, load_certificate, load_certificates_file
from tests.conftest import require
from tests.oracles import openssl_gost
from tests.x509.der_builder import (
    CN,
    INN,
    OGRN,
    E,
    build,
    extension,
    head_subject,
    key_usage_ext,
    name,
    numeric,
    oid,
    pkup_ext,
    seq,
    sign_tools_exts,
    tlv,
    utf8,
)

FNS_2022_11 = "ca_fns_2022-11_by_mincifry2022_08A4C134.pem"
FNS_2025_12 = "ca_fns_2025-12_by_mincifry2022_0F85468E.pem"
ROOT_2022 = "root_mincifry2022_guc2022_2F0CB09B.pem"


@pytest.fixture(scope="module")
def real(real_pki_dir: Path) -> dict[str, Certificate]:
    path = real_pki_dir
    require(path.is_dir(), f"real state-PKI certificates {path}")
    return {p.name: load_certificates_file(p)[0] for p in sorted(path.glob("*.pem")) if not p.name.startswith("crl_")}


def test_names_serial_and_validity_of_a_real_intermediate(real):
    cert = real[FNS_2022_11]
    assert cert.version == 3
    assert cert.subject.get("common_name") == "Федеральная налоговая служба"
    assert cert.subject.get("ogrn") == cert.subject.get("1.2.643.100.1") == cert.subject.get("ОГРН") == "1047707030513"
    assert cert.subject.to_dict()["innle"] == "7707329152"
    assert cert.issuer.get("CN") == "Минцифры России"
    assert cert.issuer.get("innle") == "7710474375" and cert.issuer.get("ogrn") == "1047702026701"
    assert cert.subject.display.startswith("CN=Федеральная налоговая служба, O=")
    assert "STREET=ул. Неглинная\\, д. 23" in cert.subject.display  # RFC 4514 escaping of the comma
    assert cert.serial_hex == "67A077B10000000006E8"  # the example of qualified-profile.md section 2
    assert cert.serial_number == int("67A077B10000000006E8", 16)
    assert cert.not_before == dt.datetime(2022, 11, 15, 7, 58, 8, tzinfo=dt.UTC)
    assert cert.not_before.tzinfo is not None and cert.not_after > cert.not_before
    assert cert.is_valid_at(dt.datetime(2030, 1, 1, tzinfo=dt.UTC))
    assert not cert.is_valid_at(dt.datetime(2040, 1, 1, tzinfo=dt.UTC))


def test_serials_are_never_truncated_to_64_bits(real):
    root = real[ROOT_2022]
    assert len(root.serial_hex) == 32  # 16-byte root serial
    assert root.serial_number > 2**64


def test_thumbprints_against_independent_hashes(real):
    for file_name, cert in real.items():
        assert cert.sha1_thumbprint == hashlib.sha1(cert.der, usedforsecurity=False).hexdigest().upper()
        assert cert.sha1_thumbprint.startswith(file_name.rsplit("_", 1)[1].removesuffix(".pem"))
        assert cert.streebog_thumbprint == streebog256(cert.der).hexdigest()
        assert len(cert.sha256_fingerprint) == 64
    if openssl_gost.available():  # the engine's Streebog as an independent oracle
        cert = real[FNS_2022_11]
        assert cert.streebog_thumbprint == openssl_gost.digest("md_gost12_256", cert.der).hex()


def test_algorithms_and_public_key(real):
    cert = real[FNS_2022_11]
    assert cert.signature_algorithm == ("1.2.643.7.1.1.3.2", "gost3410_2012_256_streebog256")
    assert cert.public_key_algorithm.oid == "1.2.643.7.1.1.1.1"
    assert cert.public_key_param_set == "1.2.643.2.2.35.1"
    assert cert.public_key_curve == curve("cryptopro-A")
    key = cert.public_key()
    assert isinstance(key, PublicKey)
    assert key.to_bytes() == cert.public_key_info["public_key"].parsed.native
    legacy = real["root_guc2012_gost2001_8CAE88BB.pem"]
    assert legacy.public_key_algorithm == ("1.2.643.2.2.19", "gost3410_2001")
    assert legacy.signature_algorithm.oid == "1.2.643.2.2.3"


def test_extensions_of_real_ca_certificates(real):
    for file_name, cert in real.items():
        assert cert.is_ca, file_name
        assert "key_cert_sign" in cert.key_usage
        assert cert.unknown_critical_extensions == ()
        assert "1.2.643.100.113.1" in cert.policy_oids
        assert cert.subject_key_identifier is not None and len(cert.subject_key_identifier) == 20
        if file_name.startswith("ca_"):
            assert cert.basic_constraints == (True, 0)
            assert cert.crl_distribution_urls and all(u.startswith("http") for u in cert.crl_distribution_urls)
            assert cert.issuer_sign_tool is not None
        if file_name.startswith("root_"):
            assert cert.basic_constraints.path_len is None and cert.is_self_issued
    fns = real[FNS_2025_12]
    assert fns.private_key_usage_period == (dt.datetime(2025, 12, 26, 8, 30, tzinfo=dt.UTC),
                                            dt.datetime(2030, 12, 26, 8, 30, tzinfo=dt.UTC))
    assert fns.ca_issuers_urls == ("http://crl.gosuslugi.ru/cdp/guc2022.crt",)
    assert fns.identification_kind == 1
    assert fns.authority_key_identifier == real[ROOT_2022].subject_key_identifier
    assert fns.authority_cert_serial == real[ROOT_2022].serial_number
    tool = real[FNS_2022_11].issuer_sign_tool
    assert tool.ca_tool == "ПАК «Головной удостоверяющий центр»" and tool.sign_tool_cert.startswith("Заключение")


def test_template_name_extension_as_the_state_pki_encodes_it(real):
    # ФНС 2022-11 carries Microsoft's template-name extension as UTF8String where asn1crypto specifies a
    # BMPString; signagent.asn1 accepts both, so it reads as text and is not flagged.
    cert = real[FNS_2022_11]
    template = cert.extension("1.3.6.1.4.1.311.20.2")
    assert template is not None and not template.critical and template.error is None
    assert isinstance(template.value, str) and template.value
    assert list(cert.problems) == []
    ok = cert.extension("key_usage")
    assert ok.error is None and ok.value == ["crl_sign", "digital_signature", "key_cert_sign"]
    unknown = cert.extension("1.3.6.1.4.1.311.21.1")
    assert unknown.name == unknown.oid and unknown.error is None and not unknown.known


def test_a_broken_non_critical_extension_is_reported_not_fatal():
    der, _ = build(name((CN, utf8("x"))), extensions=[
        extension("2.5.29.14", b"\x05\x00"),  # subjectKeyIdentifier that is a NULL, not an OCTET STRING
        extension("2.5.29.19", tlv(0x30, b"")),
    ])
    cert = Certificate.from_der(der)
    broken = cert.extension("2.5.29.14")
    assert broken is not None and not broken.critical
    assert "does not match its ASN.1 spec" in broken.error
    assert [p.code for p in cert.problems] == ["extension_malformed"]
    assert cert.unknown_critical_extensions == ()
    assert cert.subject_key_identifier is None


def test_unknown_and_broken_critical_extensions():
    der, _ = build(name((CN, utf8("x"))), extensions=[
        extension("1.2.3.4.5", b"\x05\x00", critical=True),  # unknown
        extension("2.5.29.19", b"\x04\x00", critical=True),  # basicConstraints that is not a SEQUENCE
        extension("2.5.29.14", tlv(0x04, b"\x01" * 20)),
        extension("2.5.29.14", tlv(0x04, b"\x02" * 20)),  # duplicated
    ])
    cert = Certificate.from_der(der)
    assert cert.unknown_critical_extensions == ("1.2.3.4.5", "2.5.29.19")
    assert cert.basic_constraints is None and not cert.is_ca
    assert cert.subject_key_identifier == b"\x01" * 20  # the first of the duplicates
    codes = sorted(p.code for p in cert.problems)
    assert codes == ["extension_duplicate", "extension_malformed", "unknown_critical_extension",
                     "unknown_critical_extension"]


def test_purpose_built_qualified_certificate():
    der, key = build(head_subject(), extensions=[
        key_usage_ext("11110"),
        extension("2.5.29.37", seq(oid("1.3.6.1.5.5.7.3.2"), oid("1.3.6.1.5.5.7.3.4"))),
        *sign_tools_exts(0),
        pkup_ext(dt.datetime(2024, 1, 1, tzinfo=dt.UTC), dt.datetime(2025, 4, 1, tzinfo=dt.UTC)),
    ])
    cert = Certificate.from_der(der)
    assert cert.key_usage == {"digital_signature", "non_repudiation", "key_encipherment", "data_encipherment"}
    assert cert.extended_key_usage == ("1.3.6.1.5.5.7.3.2", "1.3.6.1.5.5.7.3.4")
    assert cert.basic_constraints is None and not cert.is_ca
    assert cert.private_key_usage_period.not_after == dt.datetime(2025, 4, 1, tzinfo=dt.UTC)
    assert cert.subject_sign_tool == '"КриптоПро CSP" (версия 5.0)'
    assert cert.identification_kind == 0
    assert cert.public_key() == key.public_key()
    assert cert.is_self_signed and cert.problems == ()


def test_attribute_values_of_unexpected_types_are_still_read():
    # ОГРН as UTF8String instead of NumericString (OpenSSL without the GOST engine writes it so), an unknown
    # attribute, and an e-mail of the wrong string type.
    der, _ = build(name((OGRN, utf8("1047702026701")), ("1.2.3.4", utf8("extra")), (E, utf8("a@b.ru")),
                        (INN, numeric("500100732259")), (CN, utf8("Тест"))))
    cert = Certificate.from_der(der)
    assert cert.subject.get("ogrn") == "1047702026701"
    assert cert.subject.get("1.2.3.4") == "extra"
    assert cert.subject.get("email_address") == "a@b.ru"
    assert cert.subject.attributes[1].label == "1.2.3.4"


def test_equality_and_hashing_go_by_der(real):
    a = real[FNS_2022_11]
    b = load_certificate(a.der)
    assert a == b and hash(a) == hash(b) and len({a, b}) == 1
    assert a != real[ROOT_2022]
    with pytest.raises(TypeError):
        Certificate()


def test_from_der_rejects_trailing_data_and_non_certificates(real):
    der = real[FNS_2022_11].der
    with pytest.raises(CertificateFormatError):
        Certificate.from_der(der + b"\x00")
    with pytest.raises(CertificateFormatError, match="malformed certificate"):
        Certificate.from_der(seq(seq(), seq(), tlv(0x03, b"\x00")))

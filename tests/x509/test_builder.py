"""Certificate and CRL building (signagent.x509.builder), checked structurally, with signagent.gost and OpenSSL.

* Names: attribute order kept, ASN.1 string types as real qualified certificates carry them.
* Keys: SPKI and PKCS#8 byte-identical to what OpenSSL's GOST engine writes for the same key; SKI per RFC 5280.
* Signatures: the TBS digest verifies under the issuer key (256- and 512-bit issuers, right algorithm OID).
* OpenSSL: ``openssl verify`` accepts 256- and 512-bit chains built here, ``-crl_check`` rejects a revoked
  certificate with our CRL, ``openssl x509 -text`` shows the Russian attributes and extensions.
* Bad arguments raise typed errors.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from asn1crypto import crl, keys, pem, x509

from signagent.errors import InvalidInputError, InvalidTypeError
from signagent.gost import PrivateKey, PublicKey, curve, streebog256, streebog512
from signagent.x509 import builder as b
from tests.conftest import require
from tests.oracles import openssl_gost as oracle

NOW = datetime.now(UTC).replace(microsecond=0)
DAY = timedelta(days=1)

QUALIFIED_NAME = [
    ("E", "ivanov@example.invalid"),
    ("INN", "500100732259"),
    ("SNILS", "11223344595"),
    ("OGRN", "1027700132195"),
    ("INNLE", "7707083893"),
    ("C", "RU"),
    ("S", "77 г. Москва"),
    ("L", "г. Москва"),
    ("STREET", "ул. Тестовая, д. 1"),
    ("O", "ООО «Ромашка»"),
    ("T", "Генеральный директор"),
    ("CN", "ООО «Ромашка»"),
    ("SN", "Иванов"),
    ("G", "Иван Иванович"),
]

# DER tags of the value types: UTF8String 0x0C, PrintableString 0x13, IA5String 0x16, NumericString 0x12.
EXPECTED_TAGS = {
    "email_address": 0x16, "inn": 0x12, "snils": 0x12, "ogrn": 0x12, "innle": 0x12, "country_name": 0x13,
    "state_or_province_name": 0x0C, "locality_name": 0x0C, "street_address": 0x0C, "organization_name": 0x0C,
    "title": 0x0C, "common_name": 0x0C, "surname": 0x0C, "given_name": 0x0C,
}


def _cli() -> None:
    require(oracle.openssl_binary() and oracle.available(), f"openssl CLI with the GOST engine ({oracle.reason()})")


def _issuer_public_key(issuer: x509.Certificate) -> PublicKey:
    spki = issuer["tbs_certificate"]["subject_public_key_info"]
    param_set = spki["algorithm"]["parameters"]["public_key_param_set"].dotted
    return PublicKey.from_bytes(curve(param_set), spki["public_key"].parsed.native)


def _verifies(tbs_der: bytes, algorithm: str, signature: bytes, issuer: x509.Certificate) -> bool:
    digest = (streebog256 if algorithm == "1.2.643.7.1.1.3.2" else streebog512)(tbs_der).digest()
    return _issuer_public_key(issuer).verify_digest(digest, signature)


def _ca(name: str, key: PrivateKey, issuer: x509.Certificate | None = None, issuer_key: PrivateKey | None = None,
        path_len: int | None = None) -> x509.Certificate:
    return b.build_certificate(
        subject=[("C", "RU"), ("O", "Тест"), ("CN", name)], public_key=key.public_key(),
        signing_key=issuer_key or key, issuer=issuer, not_before=NOW - 10 * DAY, not_after=NOW + 100 * DAY,
        extensions=[b.basic_constraints(True, path_len), b.key_usage("key_cert_sign", "crl_sign")],
    )


def _ee(key: PrivateKey, issuer: x509.Certificate, issuer_key: PrivateKey, serial: int | None = None,
        base: str = "http://127.0.0.1:1/") -> x509.Certificate:
    return b.build_certificate(
        subject=QUALIFIED_NAME, public_key=key.public_key(), signing_key=issuer_key, issuer=issuer, serial=serial,
        not_before=NOW - DAY, not_after=NOW + 30 * DAY,
        extensions=[
            b.key_usage("digital_signature", "non_repudiation"),
            b.extended_key_usage("client_auth", "email_protection"),
            b.private_key_usage_period(NOW - DAY, NOW + 30 * DAY),
            b.certificate_policies("1.2.643.100.113.1", "1.2.643.100.113.2"),
            b.subject_sign_tool('СКЗИ "КриптоПро CSP" (версия 5.0)'),
            b.issuer_sign_tool("ПАК 1", "ПАК 2", "Сертификат № 1", "Сертификат № 2"),
            b.identification_kind(1),
            b.crl_distribution_points(base + "crl/ca.crl"),
            b.authority_info_access(ocsp=[base + "ocsp"], ca_issuers=[base + "ca.cer"]),
        ],
    )


@pytest.fixture(scope="module")
def chain512() -> dict[str, object]:
    """512-bit root -> 256-bit (CryptoPro-A) intermediate -> 256-bit (XchA) end entity."""
    root_key = PrivateKey.generate("tc26-512-A")
    inter_key = PrivateKey.generate("cryptopro-A")
    ee_key = PrivateKey.generate("cryptopro-XchA")
    root = _ca("Root 512", root_key)
    inter = _ca("Inter 256", inter_key, root, root_key, path_len=0)
    ee = _ee(ee_key, inter, inter_key)
    return {"root": root, "inter": inter, "ee": ee, "root_key": root_key, "inter_key": inter_key, "ee_key": ee_key}


@pytest.fixture(scope="module")
def chain256() -> dict[str, object]:
    """All 256-bit: tc26 paramSetA root -> paramSetB intermediate -> paramSetA end entity."""
    root_key = PrivateKey.generate("tc26-256-A")
    inter_key = PrivateKey.generate("tc26-256-B")
    ee_key = PrivateKey.generate("tc26-256-A")
    root = _ca("Root 256", root_key)
    inter = _ca("Inter 256", inter_key, root, root_key, path_len=0)
    ee = _ee(ee_key, inter, inter_key)
    return {"root": root, "inter": inter, "ee": ee, "root_key": root_key, "inter_key": inter_key}


def _write(tmp: Path, name: str, obj: x509.Certificate | crl.CertificateList) -> str:
    label = "X509 CRL" if isinstance(obj, crl.CertificateList) else "CERTIFICATE"
    path = tmp / name
    path.write_bytes(pem.armor(label, obj.dump()))
    return str(path)


# ------------------------------------------------------------------------------------------------------- names


def test_name_keeps_order_and_uses_the_real_certificates_string_types() -> None:
    name = b.build_name(QUALIFIED_NAME)
    rdns = name.chosen
    assert len(rdns) == len(QUALIFIED_NAME)
    for rdn, (_, value) in zip(rdns, QUALIFIED_NAME, strict=True):
        assert len(rdn) == 1  # one attribute per RDN, as every real certificate has
        atv = rdn[0]
        type_name = atv["type"].native
        raw = atv["value"].dump()
        assert raw[0] == EXPECTED_TAGS[type_name], type_name
        assert atv["value"].native == value
    assert name.chosen[1][0]["type"].dotted == "1.2.643.3.131.1.1"
    assert name.chosen[4][0]["type"].dotted == "1.2.643.100.4"


def test_name_accepts_dotted_oids_and_asn1crypto_names() -> None:
    name = b.build_name([("2.5.4.3", "Тест"), ("organization_name", "О"), ("1.2.840.113549.1.9.2", "ИС ЕСИА")])
    types = [rdn[0]["type"].dotted for rdn in name.chosen]
    assert types == ["2.5.4.3", "2.5.4.10", "1.2.840.113549.1.9.2"]
    assert name.chosen[2][0]["value"].dump()[0] == 0x0C  # unknown attribute -> UTF8String


@pytest.mark.parametrize("bad", [
    [("OGRN", "10277-00132195")],  # NumericString: digits only
    [("C", "RUS")],
    [("E", "иванов@пример.рф")],  # IA5String
    [("CN", "")],
    [("NoSuchAttribute", "x")],
])
def test_bad_name_values_raise_invalid_input(bad: list[tuple[str, str]]) -> None:
    with pytest.raises(InvalidInputError):
        b.build_name(bad)


def test_name_of_wrong_shape_raises_invalid_type() -> None:
    with pytest.raises(InvalidTypeError):
        b.build_name(["CN=x"])  # type: ignore[list-item]


# -------------------------------------------------------------------------------------------------------- keys


@pytest.mark.parametrize("ps", ["id-tc26-gost-3410-2012-256-paramSetA", "id-GostR3410-2001-CryptoPro-A-ParamSet",
                                "id-GostR3410-2001-CryptoPro-XchA-ParamSet", "id-tc26-gost-3410-2012-512-paramSetA",
                                "id-tc26-gost-3410-2012-512-paramSetC"])
def test_key_encodings_equal_the_gost_engines(ps: str) -> None:
    require(oracle.available(), f"OpenSSL GOST engine ({oracle.reason()})")
    key = PrivateKey.generate(curve(ps))
    engine_key = oracle.private_key(ps, key.to_bytes())
    assert b.public_key_info(key.public_key()).dump() == engine_key.public_der()
    assert b.private_key_info(key).dump() == engine_key.private_der()


def test_key_identifier_is_sha1_of_the_subject_public_key_bits() -> None:
    key = PrivateKey.generate("tc26-256-A")
    raw = key.public_key().to_bytes()
    # RFC 5280 4.2.1.2 method 1 over the BIT STRING value = DER OCTET STRING 04 40 X||Y.
    assert b.key_identifier(key.public_key()) == hashlib.sha1(b"\x04\x40" + raw).digest()  # noqa: S324


# ------------------------------------------------------------------------------------------------ certificates


@pytest.mark.parametrize("chain_name", ["chain512", "chain256"])
def test_chain_signatures_verify_with_the_issuer_key(chain_name: str, request: pytest.FixtureRequest) -> None:
    c = request.getfixturevalue(chain_name)
    for cert_name, issuer_name in (("root", "root"), ("inter", "root"), ("ee", "inter")):
        cert, issuer = c[cert_name], c[issuer_name]
        algorithm = cert["signature_algorithm"]["algorithm"].dotted
        issuer_size = _issuer_public_key(issuer).curve.size
        assert algorithm == ("1.2.643.7.1.1.3.2" if issuer_size == 32 else "1.2.643.7.1.1.3.3")
        assert cert["tbs_certificate"]["signature"]["algorithm"].dotted == algorithm
        assert cert["signature_algorithm"]["parameters"].native is None  # absent, RFC 9215 section 3.1
        tbs_der = cert["tbs_certificate"].dump()
        signature = cert["signature_value"].native
        assert _verifies(tbs_der, algorithm, signature, issuer)
        tampered = bytearray(tbs_der)
        tampered[-5] ^= 1
        assert not _verifies(bytes(tampered), algorithm, signature, issuer)


def test_certificate_fields_and_extensions(chain512: dict[str, object]) -> None:
    ee: x509.Certificate = chain512["ee"]  # type: ignore[assignment]
    inter: x509.Certificate = chain512["inter"]  # type: ignore[assignment]
    tbs = ee["tbs_certificate"]
    assert tbs["version"].native == "v3"
    serial_der = tbs["serial_number"].contents
    assert ee.serial_number > 0 and len(serial_der) == 16
    assert ee.issuer == inter.subject
    assert ee.authority_key_identifier == inter.key_identifier
    assert ee.key_identifier == b.key_identifier(chain512["ee_key"].public_key())  # type: ignore[attr-defined]
    ext = {e["extn_id"].native: e for e in tbs["extensions"]}
    assert ext["key_usage"]["critical"].native is True
    assert ext["key_usage"]["extn_value"].native == {"digital_signature", "non_repudiation"}
    assert ext["extended_key_usage"]["extn_value"].native == ["client_auth", "email_protection"]
    assert [p["policy_identifier"].dotted for p in ext["certificate_policies"]["extn_value"].parsed] == [
        "1.2.643.100.113.1", "1.2.643.100.113.2"]
    assert ext["subject_sign_tool"]["extn_value"].parsed.native == 'СКЗИ "КриптоПро CSP" (версия 5.0)'
    assert ext["issuer_sign_tool"]["extn_value"].parsed.native == {
        "sign_tool": "ПАК 1", "ca_tool": "ПАК 2", "sign_tool_cert": "Сертификат № 1", "ca_tool_cert": "Сертификат № 2"}
    assert ext["identification_kind"]["extn_value"].parsed.native == 1
    pkup = ext["private_key_usage_period"]["extn_value"].parsed
    assert pkup["not_before"].native == NOW - DAY and pkup["not_after"].native == NOW + 30 * DAY
    assert ee.crl_distribution_points[0]["distribution_point"].native == ["http://127.0.0.1:1/crl/ca.crl"]
    assert ee.ocsp_urls == ["http://127.0.0.1:1/ocsp"]
    aia = ext["authority_information_access"]["extn_value"].parsed.native
    assert {"access_method": "ca_issuers", "access_location": "http://127.0.0.1:1/ca.cer"} in aia
    bc = inter["tbs_certificate"]["extensions"][0]
    assert bc["extn_id"].native == "basic_constraints" and bc["critical"].native is True
    assert bc["extn_value"].native == {"ca": True, "path_len_constraint": 0}
    spki = tbs["subject_public_key_info"]
    assert spki["algorithm"]["algorithm"].dotted == "1.2.643.7.1.1.1.1"
    assert spki["algorithm"]["parameters"]["public_key_param_set"].dotted == "1.2.643.2.2.36.0"


def test_self_signed_gets_matching_ski_and_aki(chain512: dict[str, object]) -> None:
    root: x509.Certificate = chain512["root"]  # type: ignore[assignment]
    assert root.self_issued and root.key_identifier == root.authority_key_identifier


def test_dates_use_utctime_before_2050_and_generalizedtime_after() -> None:
    key = PrivateKey.generate("tc26-256-A")
    cert = b.build_certificate(subject=[("CN", "long")], public_key=key.public_key(), signing_key=key,
                               not_before=datetime(2049, 12, 31, tzinfo=UTC),
                               not_after=datetime(2050, 1, 1, tzinfo=UTC))
    validity = cert["tbs_certificate"]["validity"]
    assert validity["not_before"].name == "utc_time"
    assert validity["not_after"].name == "general_time"


def test_random_serials_are_positive_with_the_asked_length() -> None:
    for length in (16, 17, 20):
        for _ in range(20):
            serial = b.random_serial(length)
            assert serial > 0 and len(x509.TbsCertificate({"serial_number": serial})["serial_number"].contents) \
                == length
    with pytest.raises(InvalidInputError):
        b.random_serial(21)


@pytest.mark.parametrize("kwargs, error", [
    ({"not_before": datetime(2026, 1, 1)}, InvalidInputError),  # naive datetime
    ({"not_after": NOW - 30 * DAY}, InvalidInputError),  # ends before it starts
    ({"serial": 0}, InvalidInputError),
    ({"serial": 1 << 160}, InvalidInputError),
    ({"signing_key": b"not a key"}, InvalidTypeError),
])
def test_bad_certificate_arguments_raise_typed_errors(kwargs: dict[str, object], error: type[Exception]) -> None:
    key = PrivateKey.generate("tc26-256-A")
    args: dict[str, object] = {"subject": [("CN", "x")], "public_key": key.public_key(), "signing_key": key,
                               "not_before": NOW, "not_after": NOW + DAY}
    args.update(kwargs)
    with pytest.raises(error):
        b.build_certificate(**args)  # type: ignore[arg-type]


def test_bad_extension_arguments_raise_invalid_input() -> None:
    with pytest.raises(InvalidInputError):
        b.key_usage("sign_everything")
    with pytest.raises(InvalidInputError):
        b.identification_kind(7)
    with pytest.raises(InvalidInputError):
        b.crl_distribution_points("not a uri")


# -------------------------------------------------------------------------------------------------------- CRLs


def test_crl_content_and_signature(chain512: dict[str, object]) -> None:
    inter: x509.Certificate = chain512["inter"]  # type: ignore[assignment]
    revoked_at = NOW - 2 * DAY
    made = b.build_crl(issuer=inter, signing_key=chain512["inter_key"],  # type: ignore[arg-type]
                       revoked=[(0x1234, revoked_at, "key_compromise"), (0x99, revoked_at, None)],
                       this_update=NOW - DAY, next_update=NOW + 7 * DAY, crl_number=42)
    parsed = crl.CertificateList.load(made.dump())
    tbs = parsed["tbs_cert_list"]
    assert tbs["version"].native == "v2"
    assert parsed.issuer == inter.subject
    assert parsed.authority_key_identifier == inter.key_identifier
    assert parsed.crl_number_value.native == 42
    entries = list(tbs["revoked_certificates"])
    assert [e["user_certificate"].native for e in entries] == [0x1234, 0x99]
    assert entries[0]["revocation_date"].native == revoked_at
    assert entries[0].crl_reason_value.native == "key_compromise"
    assert entries[1].crl_reason_value is None
    assert tbs["next_update"].native == NOW + 7 * DAY
    assert _verifies(tbs.dump(), parsed["signature_algorithm"]["algorithm"].dotted, parsed["signature"].native, inter)


def test_empty_crl_has_no_revoked_certificates_field(chain512: dict[str, object]) -> None:
    made = b.build_crl(issuer=chain512["root"], signing_key=chain512["root_key"],  # type: ignore[arg-type]
                       this_update=NOW, next_update=NOW + DAY, crl_number=1)
    tbs = crl.CertificateList.load(made.dump())["tbs_cert_list"]
    # Absent, not an empty SEQUENCE (RFC 5280 section 5.1.2.6): the DER has no element there at all.
    assert tbs["revoked_certificates"].dump() == b""
    assert tbs["crl_extensions"].dump()[0] == 0xA0
    assert made["signature_algorithm"]["algorithm"].dotted == "1.2.643.7.1.1.3.3"  # signed by the 512-bit root


def test_bad_crl_reason_raises_invalid_input(chain512: dict[str, object]) -> None:
    with pytest.raises(InvalidInputError):
        b.build_crl(issuer=chain512["inter"], signing_key=chain512["inter_key"],  # type: ignore[arg-type]
                    revoked=[(1, NOW, "stolen")], this_update=NOW, next_update=NOW + DAY, crl_number=1)


# ------------------------------------------------------------------------------------------------ OpenSSL oracle


@pytest.mark.oracle
@pytest.mark.parametrize("chain_name", ["chain512", "chain256"])
def test_openssl_verify_accepts_our_chain(chain_name: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    _cli()
    c = request.getfixturevalue(chain_name)
    root, inter, ee = (_write(tmp_path, f"{n}.pem", c[n]) for n in ("root", "inter", "ee"))
    result = oracle.run_cli(["verify", "-CAfile", root, "-untrusted", inter, ee])
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout.decode().strip().endswith(": OK")


@pytest.mark.oracle
def test_openssl_verify_rejects_a_tampered_certificate(chain256: dict[str, object], tmp_path: Path) -> None:
    _cli()
    ee: x509.Certificate = chain256["ee"]  # type: ignore[assignment]
    sig = bytearray(ee["signature_value"].native)
    sig[10] ^= 0x40
    bad = x509.Certificate({"tbs_certificate": ee["tbs_certificate"], "signature_algorithm": ee["signature_algorithm"],
                            "signature_value": bytes(sig)})
    root, inter = _write(tmp_path, "root.pem", chain256["root"]), _write(tmp_path, "inter.pem", chain256["inter"])
    result = oracle.run_cli(["verify", "-CAfile", root, "-untrusted", inter, _write(tmp_path, "bad.pem", bad)])
    assert result.returncode != 0
    assert "signature failure" in (result.stdout + result.stderr).decode()


@pytest.mark.oracle
def test_openssl_crl_check_rejects_the_revoked_and_accepts_the_other(chain512: dict[str, object],
                                                                       tmp_path: Path) -> None:
    _cli()
    inter: x509.Certificate = chain512["inter"]  # type: ignore[assignment]
    inter_key: PrivateKey = chain512["inter_key"]  # type: ignore[assignment]
    revoked_ee = _ee(PrivateKey.generate("tc26-256-A"), inter, inter_key)
    made = b.build_crl(issuer=inter, signing_key=inter_key, revoked=[(revoked_ee.serial_number, NOW - DAY,
                                                                      "superseded")],
                       this_update=NOW - DAY, next_update=NOW + DAY, crl_number=7)
    root = _write(tmp_path, "root.pem", chain512["root"])
    inter_path = _write(tmp_path, "inter.pem", inter)
    crl_path = _write(tmp_path, "inter.crl.pem", made)
    base = ["verify", "-crl_check", "-CAfile", root, "-untrusted", inter_path, "-CRLfile", crl_path]
    bad = oracle.run_cli([*base, _write(tmp_path, "revoked.pem", revoked_ee)])
    assert bad.returncode != 0
    assert "certificate revoked" in (bad.stdout + bad.stderr).decode()
    good = oracle.run_cli([*base, _write(tmp_path, "ee.pem", chain512["ee"])])
    assert good.returncode == 0, good.stderr.decode()
    text = oracle.run_cli(["crl", "-in", crl_path, "-noout", "-text"]).stdout.decode()
    assert "Superseded" in text and "X509v3 CRL Number" in text and "7" in text


@pytest.mark.oracle
def test_openssl_shows_the_russian_attributes_and_extensions(chain512: dict[str, object], tmp_path: Path) -> None:
    _cli()
    path = _write(tmp_path, "ee.pem", chain512["ee"])
    result = oracle.run_cli(["x509", "-in", path, "-noout", "-text", "-nameopt", "utf8,sep_multiline"])
    assert result.returncode == 0, result.stderr.decode()
    text = result.stdout.decode("utf-8")
    for expected in ("INN=500100732259", "SNILS=11223344595", "OGRN=1027700132195", "1.2.643.100.4=7707083893",
                     "SN=Иванов", "GN=Иван Иванович", "title=Генеральный директор", "C=RU",
                     "Signing Tool of Subject", "Signing Tool of Issuer", "Class of Signing Tool KC2",
                     "Private Key Usage Period", "Digital Signature, Non Repudiation",
                     "id-GostR3410-2001-CryptoPro-XchA-ParamSet",
                     "GOST R 34.10-2012 with GOST R 34.11-2012 (256 bit)"):
        assert expected in text, expected


@pytest.mark.oracle
def test_openssl_reads_our_pkcs8_key(tmp_path: Path) -> None:
    _cli()
    key = PrivateKey.generate("tc26-512-A")
    path = tmp_path / "key.pem"
    path.write_bytes(pem.armor("PRIVATE KEY", b.private_key_info(key).dump()))
    result = oracle.run_cli(["pkey", "-in", str(path), "-pubout", "-outform", "DER"])
    assert result.returncode == 0, result.stderr.decode()
    assert keys.PublicKeyInfo.load(result.stdout)["public_key"].parsed.native == key.public_key().to_bytes()

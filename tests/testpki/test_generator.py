"""The test PKI generator: profile content, chains (signagent.gost and ``openssl verify``), CRLs, files, manifest.

The check-digit rules are tested on published real-world numbers first; every number the PKI puts into a
certificate is then checked with an independent implementation of the same rules written here.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from asn1crypto import crl, pem, x509

from signagent.errors import FileAccessError, InvalidInputError
from signagent.gost import PublicKey, curve, streebog256, streebog512
from signagent.testpki import EndEntitySpec, PkiSpec, TestPKI, default_spec, generate
from signagent.testpki import identifiers as ids
from signagent.testpki.__main__ import main
from tests.conftest import require
from tests.oracles import openssl_gost as oracle

NOW = datetime(2026, 11, 1, 12, 0, 0, tzinfo=UTC)
DAY = timedelta(days=1)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> TestPKI:
    return generate(tmp_path_factory.mktemp("pki"), now=datetime.now(UTC), base_url="http://127.0.0.1:8765/t")


def _attrs(cert: x509.Certificate) -> dict[str, tuple[int, str]]:
    """Subject attribute name -> (DER tag of the value, value), for a name with one attribute per RDN."""
    out = {}
    for rdn in cert.subject.chosen:
        atv = rdn[0]
        out[atv["type"].native] = (atv["value"].dump()[0], atv["value"].native)
    return out


def _ext(cert: x509.Certificate) -> dict[str, x509.Extension]:
    return {e["extn_id"].native: e for e in cert["tbs_certificate"]["extensions"]}


def _verifies(cert: x509.Certificate | crl.CertificateList, issuer: x509.Certificate) -> bool:
    if isinstance(cert, crl.CertificateList):
        tbs, sig = cert["tbs_cert_list"], cert["signature"].native
    else:
        tbs, sig = cert["tbs_certificate"], cert["signature_value"].native
    spki = issuer["tbs_certificate"]["subject_public_key_info"]
    pub = PublicKey.from_bytes(curve(spki["algorithm"]["parameters"]["public_key_param_set"].dotted),
                               spki["public_key"].parsed.native)
    algorithm = cert["signature_algorithm"]["algorithm"].dotted
    digest = (streebog256 if algorithm == "1.2.643.7.1.1.3.2" else streebog512)(tbs.dump()).digest()
    return pub.verify_digest(digest, sig)


# Independent checks of the registration numbers (rules of the tax service and the pension fund).
def _inn_ok(v: str) -> bool:
    def c(ws: list[int]) -> int:
        return sum(int(d) * w for d, w in zip(v, ws, strict=False)) % 11 % 10
    if len(v) == 10:
        return c([2, 4, 10, 3, 5, 9, 4, 6, 8]) == int(v[9])
    return (len(v) == 12 and c([7, 2, 4, 10, 3, 5, 9, 4, 6, 8]) == int(v[10])
            and c([3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8]) == int(v[11]))


def _ogrn_ok(v: str) -> bool:
    if len(v) == 13:
        return int(v[:12]) % 11 % 10 == int(v[12])
    return len(v) == 15 and int(v[:14]) % 13 % 10 == int(v[14])


def _snils_ok(v: str) -> bool:
    s = sum(int(d) * (9 - i) for i, d in enumerate(v[:9]))
    s = s % 101 if s > 101 else s
    return len(v) == 11 and int(v[9:]) == (0 if s in (100, 101) else s)


# ---------------------------------------------------------------------------------------------- identifiers


def test_check_digits_of_published_numbers() -> None:
    # ИНН/ОГРН of ПАО Сбербанк and the СНИЛС/ИНН examples the services themselves publish.
    assert ids.inn_legal_entity("770708389") == "7707083893"
    assert ids.ogrn("102770013219") == "1027700132195"
    assert ids.snils("112233445") == "11223344595"
    assert ids.inn_person("5001007322") == "500100732259"
    assert ids.ogrnip("30450000000001") == "304500000000010"  # 30450000000001 mod 13 = 10 -> 0
    with pytest.raises(InvalidInputError):
        ids.ogrn("12345")
    with pytest.raises(InvalidInputError):
        ids.snils("001001000")  # below the range with check digits


# -------------------------------------------------------------------------------------------------- profiles


NUMERIC, PRINTABLE, IA5, UTF8 = 0x12, 0x13, 0x16, 0x0C


def test_head_certificate_has_the_full_qualified_content(pki: TestPKI) -> None:
    head = pki["head"].certificate
    a = _attrs(head)
    for numeric in ("ogrn", "innle", "inn", "snils"):
        assert a[numeric][0] == NUMERIC
    assert len(a["ogrn"][1]) == 13 and _ogrn_ok(a["ogrn"][1])
    assert len(a["innle"][1]) == 10 and _inn_ok(a["innle"][1])
    assert len(a["inn"][1]) == 12 and _inn_ok(a["inn"][1])
    assert _snils_ok(a["snils"][1])
    assert a["country_name"] == (PRINTABLE, "RU")
    assert a["email_address"][0] == IA5
    assert a["title"] == (UTF8, "Генеральный директор")
    assert a["surname"] == (UTF8, "Иванов") and a["given_name"] == (UTF8, "Иван Иванович")
    assert a["common_name"] == a["organization_name"]  # CN = the organisation's name for a legal entity
    for utf8 in ("state_or_province_name", "locality_name", "street_address"):
        assert a[utf8][0] == UTF8
    ext = _ext(head)
    assert ext["key_usage"]["critical"].native is True
    assert ext["key_usage"]["extn_value"].native == {"digital_signature", "non_repudiation"}
    assert ext["extended_key_usage"]["extn_value"].native == ["client_auth", "email_protection"]
    assert [p["policy_identifier"].dotted for p in ext["certificate_policies"]["extn_value"].parsed] == [
        "1.2.643.100.113.1", "1.2.643.100.113.2"]
    assert "КриптоПро CSP" in ext["subject_sign_tool"]["extn_value"].parsed.native
    assert len(ext["issuer_sign_tool"]["extn_value"].parsed.native) == 4
    assert ext["identification_kind"]["extn_value"].parsed.native == 0
    pkup = ext["private_key_usage_period"]["extn_value"].parsed.native
    validity = head["tbs_certificate"]["validity"].native
    assert (pkup["not_before"], pkup["not_after"]) == (validity["not_before"], validity["not_after"])
    assert validity["not_after"] - validity["not_before"] == 455 * DAY  # 15 months, like FNS certificates
    assert head.crl_distribution_points[0]["distribution_point"].native == ["http://127.0.0.1:8765/t/crl/inter.crl"]
    assert head.ocsp_urls == ["http://127.0.0.1:8765/t/ocsp"]
    assert "basic_constraints" not in ext


def test_employee_has_the_heads_shape_with_another_person(pki: TestPKI) -> None:
    head, emp = _attrs(pki["head"].certificate), _attrs(pki["employee"].certificate)
    assert set(head) == set(emp)
    assert emp["ogrn"] == head["ogrn"] and emp["innle"] == head["innle"]
    assert emp["inn"] != head["inn"] and emp["snils"] != head["snils"]
    assert emp["title"][1] != "Генеральный директор"


def test_individual_entrepreneur(pki: TestPKI) -> None:
    a = _attrs(pki["ip"].certificate)
    assert a["ogrnip"][0] == NUMERIC and len(a["ogrnip"][1]) == 15 and _ogrn_ok(a["ogrnip"][1])
    assert _inn_ok(a["inn"][1]) and len(a["inn"][1]) == 12 and _snils_ok(a["snils"][1])
    assert not {"ogrn", "innle", "organization_name", "title"} & set(a)
    assert a["common_name"][1] == f"{a['surname'][1]} {a['given_name'][1]}"


def test_natural_person(pki: TestPKI) -> None:
    a = _attrs(pki["person"].certificate)
    assert {"inn", "snils", "surname", "given_name", "common_name", "email_address"} == set(a)
    assert _inn_ok(a["inn"][1]) and _snils_ok(a["snils"][1])


def test_variants(pki: TestPKI) -> None:
    now = pki.now

    def validity(name: str) -> dict[str, datetime]:
        return pki[name].certificate["tbs_certificate"]["validity"].native

    assert validity("expired")["not_after"] < now
    assert validity("not_yet_valid")["not_before"] > now
    for name in ("head", "revoked", "wrong_key_usage", "pkup_over"):
        assert validity(name)["not_before"] < now < validity(name)["not_after"]
    assert _ext(pki["wrong_key_usage"].certificate)["key_usage"]["extn_value"].native == {"key_cert_sign"}
    pkup = _ext(pki["pkup_over"].certificate)["private_key_usage_period"]["extn_value"].parsed.native
    assert pkup["not_after"] < now
    for name in ("expired", "not_yet_valid", "revoked", "wrong_key_usage", "pkup_over"):
        assert pki[name].profile == "head" and pki[name].variant == name


def test_cas(pki: TestPKI) -> None:
    root, inter = pki.root.certificate, pki.intermediate.certificate
    assert root.self_issued and root.key_identifier == root.authority_key_identifier
    assert pki.root.key.curve.oid == "1.2.643.7.1.2.1.2.1"
    assert pki.intermediate.key.curve.size == 32
    assert _ext(root)["basic_constraints"]["extn_value"].native == {"ca": True, "path_len_constraint": None}
    bc = _ext(inter)["basic_constraints"]
    assert bc["critical"].native and bc["extn_value"].native == {"ca": True, "path_len_constraint": 0}
    assert _ext(inter)["key_usage"]["extn_value"].native == {"digital_signature", "key_cert_sign", "crl_sign"}
    assert inter.crl_distribution_points[0]["distribution_point"].native == ["http://127.0.0.1:8765/t/crl/root.crl"]
    assert "Минцифры" in _attrs(root)["common_name"][1]
    assert inter.authority_key_identifier == root.key_identifier
    assert root["signature_algorithm"]["algorithm"].dotted == "1.2.643.7.1.1.3.3"
    assert inter["signature_algorithm"]["algorithm"].dotted == "1.2.643.7.1.1.3.3"
    assert pki["head"].certificate["signature_algorithm"]["algorithm"].dotted == "1.2.643.7.1.1.3.2"


def test_every_certificate_verifies_under_its_issuer_with_signagent_gost(pki: TestPKI) -> None:
    for item in pki.certificates:
        issuer = pki[item.issuer] if item.issuer else item
        assert _verifies(item.certificate, issuer.certificate), item.name
        assert item.certificate.public_key["public_key"].parsed.native == item.key.public_key().to_bytes()
    assert [c.name for c in pki.chain("head")] == ["head", "inter", "root"]


def test_serials_are_unique_positive_and_long(pki: TestPKI) -> None:
    serials = [c.serial for c in pki.certificates]
    assert len(set(serials)) == len(serials) and all(s > 0 for s in serials)
    assert all(len(pki[n].certificate["tbs_certificate"]["serial_number"].contents) == 17 for n in pki.end_entities)


# ------------------------------------------------------------------------------------------------------ CRLs


def test_crls(pki: TestPKI) -> None:
    inter_crl = pki.crls["inter"]
    parsed = crl.CertificateList.load(inter_crl.paths["der"].read_bytes())
    assert _verifies(parsed, pki.intermediate.certificate)
    assert parsed.issuer == pki.intermediate.certificate.subject
    assert parsed.authority_key_identifier == pki.intermediate.certificate.key_identifier
    entries = list(parsed["tbs_cert_list"]["revoked_certificates"])
    assert [e["user_certificate"].native for e in entries] == [pki["revoked"].serial]
    assert entries[0].crl_reason_value.native == "key_compromise"
    assert entries[0]["revocation_date"].native == pki.now - 2 * DAY
    assert parsed["tbs_cert_list"]["next_update"].native > pki.now
    assert pki.revocations["inter"][pki["revoked"].serial].revoked_at == pki.now - 2 * DAY

    expired = crl.CertificateList.load(pki.crls["inter_expired"].der)
    assert expired["tbs_cert_list"]["next_update"].native < pki.now
    assert expired.crl_number_value.native < parsed.crl_number_value.native

    root_crl = crl.CertificateList.load(pki.crls["root"].der)
    assert _verifies(root_crl, pki.root.certificate)
    assert root_crl["signature_algorithm"]["algorithm"].dotted == "1.2.643.7.1.1.3.3"


# -------------------------------------------------------------------------------------------- files, manifest


def test_files_and_manifest(pki: TestPKI) -> None:
    manifest = json.loads(pki.manifest_path.read_text(encoding="utf-8"))
    assert manifest["base_url"] == "http://127.0.0.1:8765/t/"
    names = {c["name"] for c in manifest["certificates"]}
    assert names == {"root", "inter", "head", "employee", "ip", "person", "expired", "not_yet_valid", "revoked",
                     "wrong_key_usage", "pkup_over", "ocsp_responder"}
    for entry in manifest["certificates"]:
        item = pki[entry["name"]]
        der = (pki.out_dir / entry["files"]["der"]).read_bytes()
        assert der == item.der
        assert pem.unarmor((pki.out_dir / entry["files"]["pem"]).read_bytes())[2] == der
        key_der = pem.unarmor((pki.out_dir / entry["files"]["key"]).read_bytes())
        assert key_der[0] == "PRIVATE KEY"
        size = item.key.curve.size  # the engine's layout: the key ends with OCTET STRING(d little-endian)
        assert key_der[2][-size - 2:] == bytes([0x04, size]) + item.key.to_bytes()
        assert entry["serial"] == f"{item.serial:X}".rjust(len(entry["serial"]), "0")
        assert entry["sha1"] == item.sha1 and len(entry["sha1"]) == 40
        assert entry["streebog256"] == streebog256(der).hexdigest()
    assert {c["name"] for c in manifest["crls"]} == {"root", "inter", "inter_expired"}
    revoked = next(c for c in manifest["crls"] if c["name"] == "inter")["revoked"]
    assert revoked == [{"serial": f"{pki['revoked'].serial:X}", "name": "revoked",
                        "revoked_at": (pki.now - 2 * DAY).strftime("%Y-%m-%dT%H:%M:%SZ"), "reason": "key_compromise"}]
    chain = (pki.out_dir / "chain.pem").read_bytes()
    assert chain == pki.intermediate.pem + pki.root.pem


def test_a_seed_reproduces_keys_and_serials(tmp_path: Path) -> None:
    a = generate(tmp_path / "a", now=NOW, seed="s1")
    b = generate(tmp_path / "b", now=NOW, seed="s1")
    c = generate(tmp_path / "c", now=NOW, seed="s2")
    assert [x.key for x in a.certificates] == [x.key for x in b.certificates]
    assert [x.serial for x in a.certificates] == [x.serial for x in b.certificates]
    assert a["head"].key != c["head"].key and a["head"].serial != c["head"].serial
    assert a.now == NOW and a["expired"].certificate["tbs_certificate"]["validity"].native["not_after"] < NOW


def test_custom_spec_and_bad_arguments(tmp_path: Path) -> None:
    spec = default_spec()
    small = PkiSpec(spec.root, spec.intermediate, (spec.end_entities[0],), ocsp_responder=False)
    made = generate(tmp_path / "small", spec=small, now=NOW)
    assert list(made.end_entities) == ["head"] and made.ocsp_responder is None
    with pytest.raises(InvalidInputError):
        generate(tmp_path / "x", base_url="ftp://host/")
    with pytest.raises(InvalidInputError):
        generate(tmp_path / "x", now=datetime(2026, 1, 1))
    with pytest.raises(InvalidInputError):
        EndEntitySpec("x", "head", spec.end_entities[0].person)  # a head needs an organisation
    with pytest.raises(InvalidInputError):
        PkiSpec(spec.root, spec.intermediate, (spec.end_entities[0], spec.end_entities[0]))
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(FileAccessError):
        generate(blocker / "sub")


def test_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(tmp_path / "cli"), "--base-url", "http://127.0.0.1:9/", "--seed", "7"]) == 0
    manifest = Path(capsys.readouterr().out.strip())
    assert json.loads(manifest.read_text(encoding="utf-8"))["urls"]["ocsp"] == "http://127.0.0.1:9/ocsp"
    assert main([str(tmp_path / "cli2"), "--base-url", "nonsense"]) == 2


# ---------------------------------------------------------------------------------------------- OpenSSL oracle


def _openssl_verify(pki: TestPKI, name: str, *extra: str) -> str:
    d = pki.out_dir
    result = oracle.run_cli(["verify", *extra, "-CAfile", str(d / "certs/root.pem"), "-untrusted",
                             str(d / "certs/inter.pem"), str(d / f"certs/{name}.pem")])
    out = (result.stdout + result.stderr).decode("utf-8", "replace")
    return "OK" if result.returncode == 0 and out.strip().endswith(": OK") else out


@pytest.mark.oracle
def test_openssl_verdicts_on_every_certificate(pki: TestPKI) -> None:
    require(oracle.openssl_binary() and oracle.available(), f"openssl with the GOST engine ({oracle.reason()})")
    for name in ("head", "employee", "ip", "person", "revoked", "wrong_key_usage", "pkup_over", "ocsp_responder"):
        assert _openssl_verify(pki, name) == "OK", name
    assert "certificate has expired" in _openssl_verify(pki, "expired")
    assert "certificate is not yet valid" in _openssl_verify(pki, "not_yet_valid")
    crl_current = str(pki.crls["inter"].paths["pem"])
    assert "certificate revoked" in _openssl_verify(pki, "revoked", "-crl_check", "-CRLfile", crl_current)
    assert _openssl_verify(pki, "head", "-crl_check", "-CRLfile", crl_current) == "OK"
    assert _openssl_verify(pki, "head", "-crl_check_all", "-CRLfile", crl_current, "-CRLfile",
                           str(pki.crls["root"].paths["pem"])) == "OK"
    assert "CRL has expired" in _openssl_verify(pki, "head", "-crl_check", "-CRLfile",
                                                 str(pki.crls["inter_expired"].paths["pem"]))


@pytest.mark.oracle
def test_openssl_reads_the_private_keys(pki: TestPKI) -> None:
    require(oracle.openssl_binary() and oracle.available(), f"openssl with the GOST engine ({oracle.reason()})")
    for name in ("root", "inter", "head", "person"):
        item = pki[name]
        text = oracle.run_cli(["pkey", "-in", str(item.paths["key"]), "-noout", "-text"])
        assert text.returncode == 0 and b"Private key:" in text.stdout, text.stderr
        pub = oracle.run_cli(["pkey", "-in", str(item.paths["key"]), "-pubout", "-outform", "DER"])
        assert pub.stdout == item.certificate.public_key.dump(), name

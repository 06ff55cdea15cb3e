"""``cert show`` service: the JSON description and the aligned human text, English and Russian."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from signagent.service.certificates import describe_certificate, render_certificate
from signagent.x509 import Certificate, load_certificates_file
from tests.conftest import require
from tests.x509.der_builder import CN, OGRN, build, head_subject, name, numeric, pkup_ext, sign_tools_exts, utf8

FNS = "ca_fns_2022-11_by_mincifry2022_08A4C134.pem"


@pytest.fixture(scope="module")
def fns(real_pki_dir: Path) -> Certificate:
    path = real_pki_dir / FNS
    require(path.is_file(), f"real certificate {path}")
    return load_certificates_file(path)[0]


@pytest.fixture(scope="module")
def head() -> Certificate:
    der, _ = build(head_subject(inn="500100732258"), extensions=[
        *sign_tools_exts(1), pkup_ext(dt.datetime(2024, 1, 1, tzinfo=dt.UTC), dt.datetime(2025, 4, 1, tzinfo=dt.UTC))])
    return Certificate.from_der(der)


def test_description_of_a_real_certificate_is_json_ready(fns):
    desc = describe_certificate(fns)
    assert json.loads(json.dumps(desc, ensure_ascii=False)) == desc
    assert desc["serial"] == {"hex": "67A077B10000000006E8", "decimal": str(int("67A077B10000000006E8", 16))}
    assert desc["thumbprints"]["sha1"].startswith("08A4C134")
    assert desc["thumbprints"]["streebog256"] == fns.streebog_thumbprint
    assert desc["validity"]["not_before"] == "2022-11-15T07:58:08+00:00"
    assert desc["signature_algorithm"] == {"oid": "1.2.643.7.1.1.3.2", "name": "gost3410_2012_256_streebog256"}
    assert desc["public_key"]["param_set"] == "1.2.643.2.2.35.1" and desc["public_key"]["bits"] == 256
    assert desc["basic_constraints"] == {"ca": True, "path_len": 0}
    assert desc["identity"]["ogrn"] == "1047707030513"
    assert desc["subject"]["attributes"][0]["name"] == "innle"  # encoded order kept
    assert {e["oid"] for e in desc["extensions"]} >= {"2.5.29.15", "1.2.643.100.112"}
    assert desc["problems"] == []  # the UTF8String template name is read as the state PKI encodes it
    assert desc["self_signed"] is False and desc["unknown_critical_extensions"] == []


def _check_alignment(text: str) -> None:
    lines = text.rstrip("\n").split("\n")
    column = len(lines[0]) - len(lines[0].split(": ", 1)[1].lstrip())
    for line in lines:
        assert line[column - 1] == " " and line[column] != " ", line  # every value starts in the same column


def test_english_rendering(fns):
    text = render_certificate(describe_certificate(fns))
    _check_alignment(text)
    assert "Serial number:" in text and "67A077B10000000006E8" in text
    assert "SHA-1 thumbprint:" in text and fns.sha1_thumbprint in text
    assert "2037-11-15T07:58:08+00:00" in text
    assert "legal entity (no natural person named)" in text
    assert "CA, path length 0" in text


def test_russian_rendering_of_a_head_certificate_with_a_bad_inn(head):
    desc = describe_certificate(head)
    text = render_certificate(desc, lang="ru")
    _check_alignment(text)
    for expected in ("Кому выдан:", "Серийный номер:", "ФИО:", "Иванов Иван Петрович", "Должность:", "ОГРН:",
                     "1027700132195", "ИНН ЮЛ:", "СНИЛС:", "Способ идентификации:",
                     "руководитель или сотрудник; различить можно только по ЕГРЮЛ",
                     "[inn_checksum] ИНН 500100732258: неверное контрольное число", "Срок действия ключа:",
                     "2025-04-01T00:00:00+00:00", "самоподписанный"):
        assert expected in text, expected
    assert "Serial" not in text
    assert [p["code"] for p in desc["problems"]] == ["inn_checksum"]


def test_minimal_certificate_renders_without_optional_sections():
    der, _ = build(name((OGRN, numeric("1047702026701")), (CN, utf8("Минцифры России"))))
    text = render_certificate(describe_certificate(Certificate.from_der(der)))
    assert "Problems:" in text and "none" in text
    assert "Key usage" not in text and "CRL distribution" not in text

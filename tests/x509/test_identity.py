"""Qualified identity: attributes by OID, the owner-kind rule, flagged (never fatal) registration numbers."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from signagent.x509 import Certificate, load_certificates_file
from tests.conftest import require
from tests.x509.der_builder import (
    CN,
    INN,
    OGRN,
    OGRNIP,
    ORG,
    SN,
    SNILS,
    C,
    E,
    G,
    T,
    build,
    extension,
    head_subject,
    ia5,
    name,
    numeric,
    pkup_ext,
    policies_ext,
    printable,
    sign_tools_exts,
    utf8,
)


def _identity(subject: bytes, extensions: list[bytes] | None = None):
    der, _ = build(subject, extensions=extensions)
    return Certificate.from_der(der).identity


@pytest.fixture(scope="module")
def real(real_pki_dir: Path) -> dict[str, Certificate]:
    path = real_pki_dir
    require(path.is_dir(), f"real state-PKI certificates {path}")
    return {p.name: load_certificates_file(p)[0] for p in sorted(path.glob("*.pem")) if not p.name.startswith("crl_")}


def test_real_ca_certificates_are_organisations_with_valid_numbers(real):
    for file_name, cert in real.items():
        ident = cert.identity
        assert ident.owner_kind == "legal_entity", file_name
        assert not ident.names_person and ident.full_name is None
        assert ident.problems == (), (file_name, ident.problems)
    root = real["root_mincifry2022_guc2022_2F0CB09B.pem"].identity
    assert (root.ogrn, root.innle, root.organization_inn) == ("1047702026701", "7710474375", "7710474375")
    assert root.organization == "Минцифры России" and root.country == "RU" and root.email == "dit@digital.gov.ru"
    fns = real["ca_fns_2022-11_by_mincifry2022_08A4C134.pem"].identity
    assert fns.ogrn == "1047707030513" and fns.organization_inn == "7707329152"
    assert fns.policy_classes == ("КС1", "КС2", "КС3")
    assert fns.identification_kind == 1
    assert fns.identification_kind_meaning[0].startswith("remotely, with a valid qualified certificate")
    assert fns.issuer_sign_tool.sign_tool == "ПАКМ «КриптоПро HSM» версии 2.0"


def test_head_of_a_legal_entity():
    ident = _identity(head_subject(), [policies_ext("1.2.643.100.113.1", "1.2.643.100.113.2"), *sign_tools_exts(0),
                                       pkup_ext(dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
                                                dt.datetime(2025, 4, 1, tzinfo=dt.UTC))])
    assert ident.owner_kind == "legal_entity" and ident.names_person
    assert (ident.surname, ident.given_names) == ("Иванов", "Иван Петрович")
    assert (ident.given_name, ident.patronymic, ident.full_name) == ("Иван", "Петрович", "Иванов Иван Петрович")
    assert ident.title == "Генеральный директор" and ident.organization == 'ПАО "Ромашка"'
    assert (ident.region, ident.locality, ident.street) == ("77 г. Москва", "г. Москва", "ул. Вавилова, д. 19")
    assert (ident.ogrn, ident.innle, ident.organization_inn) == ("1027700132195", "7707083893", "7707083893")
    assert (ident.inn, ident.inn_kind, ident.personal_inn) == ("500100732259", "personal", "500100732259")
    assert ident.snils == "11223344595"
    assert ident.policy_classes == ("КС1", "КС2")
    assert ident.identification_kind == 0 and ident.identification_kind_meaning == ("in person",
                                                                                    "при личном присутствии")
    assert ident.issuer_sign_tool.ca_tool == 'ПАК "КриптоПро УЦ" версии 2.0'
    assert ident.private_key_not_after == dt.datetime(2025, 4, 1, tzinfo=dt.UTC)
    assert ident.problems == ()


def test_legacy_legal_entity_certificate_with_a_padded_inn():
    # Before 2021 the organisation INN went into the INN attribute as "00" + 10 digits (qualified-profile.md 2.1).
    ident = _identity(name((E, ia5("info@example.ru")), (INN, numeric("007710474375")), (SNILS, numeric("11223344595")),
                           (OGRN, numeric("1047702026701")), (T, utf8("Генеральный директор")), (ORG, utf8("ООО Тест")),
                           (C, printable("RU")), (SN, utf8("Петров")), (G, utf8("Пётр")), (CN, utf8("ООО Тест"))))
    assert ident.owner_kind == "legal_entity"
    assert ident.inn_kind == "legal_entity_legacy" and ident.personal_inn is None
    assert ident.organization_inn == "7710474375" and ident.innle is None
    assert (ident.given_name, ident.patronymic) == ("Пётр", None)
    assert ident.problems == ()


def test_individual_entrepreneur_and_natural_person():
    ip = _identity(name((OGRNIP, numeric("304500116000157")), (SNILS, numeric("11223344595")),
                        (INN, numeric("500100732259")), (CN, utf8("Сидоров Сидор Сидорович")), (SN, utf8("Сидоров")),
                        (G, utf8("Сидор Сидорович")), (C, printable("RU"))))
    assert ip.owner_kind == "individual_entrepreneur" and ip.ogrnip == "304500116000157"
    assert ip.full_name == "Сидоров Сидор Сидорович" and ip.problems == ()
    person = _identity(name((CN, utf8("Алиев Али Мамед оглы")), (SN, utf8("Алиев")), (G, utf8("Али Мамед оглы")),
                            (SNILS, numeric("11223344595")), (INN, numeric("500100732259"))))
    assert person.owner_kind == "natural_person" and person.organization is None
    assert (person.given_name, person.patronymic) == (None, None)  # three words: the split would be a guess
    assert person.full_name == "Алиев Али Мамед оглы"
    cn_only = _identity(name((CN, utf8("Кузнецов Кузьма")), (SNILS, numeric("11223344595"))))
    assert cn_only.owner_kind == "natural_person" and cn_only.full_name == "Кузнецов Кузьма"


def test_unknown_owner_and_organisation_system_certificate():
    assert _identity(name((CN, utf8("example.org")))).owner_kind == "unknown"
    system = _identity(name((OGRN, numeric("1047702026701")), ("1.2.643.100.4", numeric("7710474375")),
                            ("1.2.840.113549.1.9.2", utf8("ИС ЕСИА")), (CN, utf8("Минцифры России"))))
    assert system.owner_kind == "legal_entity" and not system.names_person


@pytest.mark.parametrize(("attrs", "codes"), [
    (((OGRN, "1047702026702"),), ["ogrn_checksum"]),
    (((OGRN, "104770202670"),), ["ogrn_length"]),
    ((("1.2.643.100.4", "7710474376"),), ["innle_checksum"]),
    (((INN, "500100732258"),), ["inn_checksum"]),
    (((INN, "007710474376"),), ["inn_checksum"]),  # legacy padded organisation INN with a bad check digit
    (((INN, "7710474375"),), []),  # a bare organisation INN (valid) in the INN attribute
    (((INN, "50010073225"),), ["inn_length"]),
    (((SNILS, "11223344596"),), ["snils_checksum"]),
    (((SNILS, "1122334459"),), ["snils_length"]),
    (((OGRNIP, "304500116000158"),), ["ogrnip_checksum"]),
    (((OGRN, "1047702026702"), (SNILS, "11223344596")), ["ogrn_checksum", "snils_checksum"]),
])
def test_bad_numbers_are_flagged_and_still_reported(attrs, codes):
    encoded = [(o, numeric(v) if v.isdigit() else utf8(v)) for o, v in attrs]
    ident = _identity(name(*encoded, (CN, utf8("Тест"))))
    assert [p.code for p in ident.problems] == codes
    for problem in ident.problems:
        assert problem.message and problem.message_ru
    for o, v in attrs:  # the values are reported as found, never hidden
        field = {OGRN: "ogrn", INN: "inn", SNILS: "snils", OGRNIP: "ogrnip", "1.2.643.100.4": "innle"}[o]
        assert getattr(ident, field) == v


def test_non_digits_are_flagged():
    ident = _identity(name((SNILS, utf8("112-233-445 95")), (CN, utf8("Тест"))))
    assert [p.code for p in ident.problems] == ["snils_not_digits"]


def test_unknown_identification_kind_is_flagged():
    ident = _identity(name((CN, utf8("x"))), [extension("1.2.643.100.114", bytes.fromhex("020107"))])
    assert ident.identification_kind == 7 and ident.identification_kind_meaning is None
    assert [p.code for p in ident.problems] == ["identification_kind_unknown"]


def test_to_dict_is_json_ready():
    import json

    ident = _identity(head_subject(), sign_tools_exts(3))
    data = json.loads(json.dumps(ident.to_dict(), ensure_ascii=False))
    assert data["owner_kind"] == "legal_entity" and data["owner_kind_text"]["ru"] == "юридическое лицо"
    assert data["identification_kind_meaning"]["ru"] == "с использованием ЕСИА и ЕБС"
    assert data["issuer_sign_tool"]["ca_tool_cert"].startswith("Сертификат соответствия")
    assert data["problems"] == []

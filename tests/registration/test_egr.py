"""ЕГРЮЛ/ЕГРИП extracts: the demo files, heads against participants, flags, the managing organisation, ЕГРИП, the
СМЭВ form with namespaces, lookups, name matching, and every refusal of hostile or malformed input."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest

from signagent.errors import FileAccessError, SignAgentError, UsageError
from signagent.registration.egr import (
    AuthorizedPerson,
    EntrepreneurRecord,
    ExtractFormatError,
    ExtractRegistry,
    LegalEntityRecord,
    ManagingOrganisation,
    Registry,
    demo_registry,
    load_extract,
    names_equal,
    person_matches,
)
from signagent.testpki import spec

OGRN, INN, KPP = "1027700132195", "7707083893", "773601001"


def _bulk(records: str, *, encoding: str = "windows-1251", version: str = "4.06") -> bytes:
    """A ФНС bulk file (Файл -> Документ*) around ``records`` (one СвЮЛ/СвИП per Документ, given as text)."""
    docs = "".join(f'<Документ ИдДок="{i}">{r}</Документ>' for i, r in enumerate(records.split("\x00")))
    text = (f'<?xml version="1.0" encoding="{encoding}"?>\n'
            f'<Файл ИдФайл="T" ВерсФорм="{version}" ТипИнф="ЕГРЮЛ_ОТКР_СВЕД" КолДок="1">'
            f'<ИдОтпр><ФИООтв Фамилия="ТЕСТ" Имя="ТЕСТ"/></ИдОтпр>{docs}</Файл>')
    return text.encode(encoding)


def _head(surname: str, name: str, patronymic: str | None, inn: str | None, extra: str = "",
          position: str = "ГЕНЕРАЛЬНЫЙ ДИРЕКТОР") -> str:
    attrs = f'Фамилия="{surname}" Имя="{name}"'
    attrs += f' Отчество="{patronymic}"' if patronymic else ""
    attrs += f' ИННФЛ="{inn}"' if inn else ""
    return (f'<СведДолжнФЛ><ГРНДатаПерв ГРН="1" ДатаЗаписи="2020-01-01"/><СвФЛ {attrs}/>'
            f'<СвДолжн ВидДолжн="02" НаимВидДолжн="Руководитель юридического лица" НаимДолжн="{position}"/>'
            f'{extra}</СведДолжнФЛ>')


def _svul(inner: str = "", *, ogrn: str | None = OGRN, date: str = "2026-06-01", name: str = "ООО \"ТЕСТ\"") -> str:
    ogrn_attr = f' ОГРН="{ogrn}"' if ogrn else ""
    return (f'<СвЮЛ ДатаВып="{date}"{ogrn_attr} ИНН="{INN}" КПП="{KPP}">'
            f'<СвНаимЮЛ НаимЮЛПолн="{name.replace(chr(34), "&quot;")}"/>{inner}</СвЮЛ>')


def _one(data: bytes) -> LegalEntityRecord:
    (record,) = load_extract(data)
    assert isinstance(record, LegalEntityRecord)
    return record


# -- the demo extracts ------------------------------------------------------------------------------------------


def test_demo_extracts_are_windows_1251_and_read_with_cyrillic_intact() -> None:
    demo = resources.files("signagent.registration").joinpath("demo")
    raw = demo.joinpath("egrul-romashka-test.xml").read_bytes()
    assert raw.startswith(b'<?xml version="1.0" encoding="windows-1251"?>')
    assert "ИВАНОВ".encode("cp1251") in raw
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    (record,) = load_extract(raw)
    assert isinstance(record, LegalEntityRecord)
    assert record.full_name == 'ОБЩЕСТВО С ОГРАНИЧЕННОЙ ОТВЕТСТВЕННОСТЬЮ "РОМАШКА-ТЕСТ"'
    assert record.short_name == 'ООО "РОМАШКА-ТЕСТ"'
    assert record.address is not None and "ЦВЕТОЧНАЯ" in record.address and "ОФИС 4" in record.address
    assert record.extract_date == "2026-01-01" and record.managing_organisation is None
    (ip,) = load_extract(demo.joinpath("egrip-sidorov.xml").read_bytes())
    assert isinstance(ip, EntrepreneurRecord)
    assert (ip.surname, ip.name, ip.patronymic) == ("СИДОРОВ", "ПЁТР", "АЛЕКСЕЕВИЧ")


def test_demo_identifiers_are_the_test_pki_ones() -> None:
    registry = demo_registry()
    company = registry.legal_entity(ogrn=spec.COMPANY.ogrn)
    assert company is not None and company.inn == spec.COMPANY.inn_le and company.kpp == "770101001"
    assert registry.legal_entity(inn=spec.COMPANY.inn_le) is company
    (head,) = company.heads
    assert head.inn == spec.HEAD.inn and head.position == "ГЕНЕРАЛЬНЫЙ ДИРЕКТОР"
    assert not head.disputed and not head.disqualified
    assert person_matches(head, surname=spec.HEAD.surname, given_names=spec.HEAD.given_names, inn=spec.HEAD.inn)
    (ip_entity,) = [e for e in spec.default_spec().end_entities if e.profile == "ip"]
    ip = registry.entrepreneur(ogrnip=ip_entity.ogrnip)
    assert ip is not None and ip.inn == spec.ENTREPRENEUR.inn
    assert registry.entrepreneur(inn=spec.ENTREPRENEUR.inn) is ip
    assert names_equal(ip.surname, spec.ENTREPRENEUR.surname)
    assert names_equal(f"{ip.name} {ip.patronymic}", spec.ENTREPRENEUR.given_names)
    assert len(registry.records()) == 2


def test_a_participant_is_never_a_head() -> None:
    company = demo_registry().legal_entity(ogrn=spec.COMPANY.ogrn)
    assert company is not None
    employee = spec.EMPLOYEE
    demo = resources.files("signagent.registration").joinpath("demo")
    assert employee.inn.encode() in demo.joinpath("egrul-romashka-test.xml").read_bytes()  # she is a participant
    assert all(h.inn != employee.inn and not names_equal(h.surname, employee.surname) for h in company.heads)
    assert not any(person_matches(h, surname=employee.surname, given_names=employee.given_names, inn=employee.inn)
                   for h in company.heads)
    # Participants only, nobody acting without a power of attorney: no head at all.
    founders = ('<СвУчредит><УчрФЛ><СвФЛ Фамилия="ПЕТРОВА" Имя="МАРИЯ" Отчество="СЕРГЕЕВНА" ИННФЛ="770100000216"/>'
                '</УчрФЛ></СвУчредит>')
    assert _one(_bulk(_svul(founders))).heads == ()


# -- heads, flags, managing organisation --------------------------------------------------------------------------


def test_several_heads_in_register_order_with_their_flags() -> None:
    disputed = ('<СвНедДанДолжнФЛ ПризнНедДанДолжнФЛ="1" ТекстНедДанДолжнФЛ="сведения недостоверны (результаты '
                'проверки достоверности содержащихся в ЕГРЮЛ сведений о юридическом лице)"/>')
    current = '<СвДискв ДатаНачДискв="2025-01-01" ДатаОкончДискв="2027-01-01" ДатаРеш="2024-12-20"/>'
    lapsed = '<СвДискв ДатаНачДискв="2020-01-01" ДатаОкончДискв="2021-01-01" ДатаРеш="2019-12-20"/>'
    record = _one(_bulk(_svul(
        _head("ИВАНОВ", "ИВАН", "ИВАНОВИЧ", "770100000142")
        + _head("СЕМЁНОВА", "ОЛЬГА", None, "770100000216", disputed, position="ПРЕЗИДЕНТ")
        + _head("КУЗНЕЦОВ", "ПАВЕЛ", "ОЛЕГОВИЧ", None, current)
        + _head("ОРЛОВ", "ОЛЕГ", "ПАВЛОВИЧ", "500100000336", lapsed))))
    first, second, third, fourth = record.heads
    assert first == AuthorizedPerson("ИВАНОВ", "ИВАН", "ИВАНОВИЧ", "770100000142", "ГЕНЕРАЛЬНЫЙ ДИРЕКТОР",
                                     disputed=False, disqualified=False)
    assert (second.surname, second.patronymic, second.position) == ("СЕМЁНОВА", None, "ПРЕЗИДЕНТ")
    assert second.disputed and not second.disqualified
    assert third.inn is None and third.disqualified and not third.disputed
    assert not fourth.disqualified  # ended before the extract's date
    # Matching compares identity only; the flags are the verifier's to report.
    assert person_matches(second, surname="Семенова", given_names="Ольга", inn="770100000216")


def test_managing_organisation_in_place_of_a_person() -> None:
    managing = ('<СвУпрОрг><ГРНДатаПерв ГРН="1" ДатаЗаписи="2020-01-01"/>'
                '<НаимИННЮЛ ОГРН="1127700000031" ИНН="7701000033" НаимЮЛПолн="ООО &quot;РОМАШКА-ТЕСТ&quot;"/>'
                '</СвУпрОрг>')
    record = _one(_bulk(_svul(managing)))
    assert record.heads == ()
    assert record.managing_organisation == ManagingOrganisation("1127700000031", "7701000033",
                                                                'ООО "РОМАШКА-ТЕСТ"')
    # The short form: the attributes on СвУпрОрг itself; a foreign one has no ОГРН/ИНН.
    foreign = _one(_bulk(_svul('<СвУпрОрг НаимЮЛПолн="ACME HOLDING LTD"/>')))
    assert foreign.managing_organisation == ManagingOrganisation(None, None, "ACME HOLDING LTD")


def test_entrepreneur_record() -> None:
    data = _bulk('<СвИП ДатаВып="2026-06-01" ОГРНИП="304500116000157" ИННФЛ="500100732259">'
                 '<СвФЛ Пол="2"><ФИОРус Фамилия="ЁЛКИНА" Имя="АННА"/></СвФЛ></СвИП>')
    (record,) = load_extract(data)
    assert record == EntrepreneurRecord("304500116000157", "500100732259", "ЁЛКИНА", "АННА", None, "2026-06-01")


def test_kladr_address_form() -> None:
    address = ('<СвАдресЮЛ><АдресРФ Индекс="117312" КодРегион="77" Дом="19"><Регион ТипРегион="ГОРОД" '
               'НаимРегион="МОСКВА"/><Улица ТипУлица="УЛИЦА" НаимУлица="ВАВИЛОВА"/></АдресРФ></СвАдресЮЛ>')
    assert _one(_bulk(_svul(address))).address == "117312, ГОРОД МОСКВА, УЛИЦА ВАВИЛОВА, 19"


# -- the СМЭВ form -------------------------------------------------------------------------------------------------


def test_smev_vipul_response_with_namespaces() -> None:
    data = ('<?xml version="1.0" encoding="UTF-8"?>'
            '<ns1:FNSVipULResponse xmlns:ns1="urn://x-artefacts-fns-vipul-tosmv-ru/311-14/4.0.6" ИдДок="1">'
            f'<ns1:СвЮЛ ДатаВып="2026-06-01" ОГРН="{OGRN}" ИНН="{INN}" КПП="{KPP}">'
            '<ns1:СвНаимЮЛ НаимЮЛПолн="ПУБЛИЧНОЕ АКЦИОНЕРНОЕ ОБЩЕСТВО &quot;ТЕСТ&quot;">'
            '<ns1:СвНаимЮЛСокр НаимСокр="ПАО &quot;ТЕСТ&quot;"/></ns1:СвНаимЮЛ>'
            '<ns1:СведДолжнФЛ><ns1:СвФЛ Фамилия="ГРЕФ" Имя="ГЕРМАН" Отчество="ОСКАРОВИЧ" ИННФЛ="770100000142"/>'
            '<ns1:СвДолжн ВидДолжн="02" НаимВидДолжн="Руководитель юридического лица" НаимДолжн="ПРЕЗИДЕНТ"/>'
            '</ns1:СведДолжнФЛ>'
            '<ns1:СвУчредит><ns1:УчрФЛ><ns1:СвФЛ Фамилия="УЧАСТНИКОВ" Имя="УЧАСТНИК" ИННФЛ="770100000216"/>'
            '</ns1:УчрФЛ></ns1:СвУчредит>'
            '</ns1:СвЮЛ></ns1:FNSVipULResponse>').encode()
    record = _one(data)
    assert (record.ogrn, record.inn, record.kpp, record.short_name) == (OGRN, INN, KPP, 'ПАО "ТЕСТ"')
    assert [h.surname for h in record.heads] == ["ГРЕФ"]
    ip = ('<FNSVipIPResponse xmlns="urn://x-artefacts-fns-vipip-tosmv-ru/311-15/4.0.5">'
          '<СвИП ДатаВып="2026-06-01" ОГРНИП="304500116000157" ИННФЛ="500100732259">'
          '<СвФЛ><ФИОРус Фамилия="ПЕТРОВ" Имя="ПЁТР" Отчество="ПЕТРОВИЧ"/></СвФЛ></СвИП></FNSVipIPResponse>')
    (entrepreneur,) = load_extract(ip.encode())
    assert isinstance(entrepreneur, EntrepreneurRecord) and entrepreneur.name == "ПЁТР"
    # "Not found" answer: no record, not an error.
    assert load_extract(b'<FNSVipULResponse xmlns="urn:x"><\xd0\x9a\xd0\xbe\xd0\xb4\xd0\x9e\xd0\xb1\xd1\x80>01'
                        b'</\xd0\x9a\xd0\xbe\xd0\xb4\xd0\x9e\xd0\xb1\xd1\x80></FNSVipULResponse>') == []


# -- lookups ------------------------------------------------------------------------------------------------------


def test_lookups_by_ogrn_inn_both_and_legacy_inn() -> None:
    registry = ExtractRegistry.from_bytes([_bulk(_svul())])
    assert isinstance(registry, Registry)
    record = registry.legal_entity(ogrn=OGRN)
    assert record is not None and record.inn == INN
    assert registry.legal_entity(inn=INN) is record
    assert registry.legal_entity(ogrn=OGRN, inn=INN) is record
    assert registry.legal_entity(ogrn=f" {OGRN} ", inn="00" + INN) is record  # the certificate's legacy form
    assert registry.legal_entity(ogrn=OGRN, inn="7701000033") is None
    assert registry.legal_entity(ogrn="1127700000031") is None
    assert registry.entrepreneur(ogrnip="304500116000157") is None
    with pytest.raises(UsageError):
        registry.legal_entity()
    with pytest.raises(UsageError):
        registry.entrepreneur()


def test_latest_extract_wins_and_terminated_records_are_not_looked_up(tmp_path: Path) -> None:
    old, new = tmp_path / "old.xml", tmp_path / "new.xml"
    old.write_bytes(_bulk(_svul(date="2026-01-01", name="СТАРОЕ")))
    new.write_bytes(_bulk(_svul(date="2026-06-01", name="НОВОЕ")))
    for order in ([old, new], [new, old]):
        record = ExtractRegistry.from_files(order).legal_entity(ogrn=OGRN)
        assert record is not None and record.full_name == "НОВОЕ"
    closed = _bulk(_svul('<СвПрекрЮЛ ДатаПрекрЮЛ="2025-01-01"/>'))
    assert len(load_extract(closed)) == 1
    registry = ExtractRegistry.from_bytes([closed])
    assert registry.legal_entity(ogrn=OGRN) is None and registry.records() == ()


# -- name matching ------------------------------------------------------------------------------------------------


def test_names_equal_case_yo_and_spaces() -> None:
    assert names_equal("ИВАНОВ", "Иванов")
    assert names_equal("ФЁДОРОВ", "Федоров") and names_equal("Семенова", "СЕМЁНОВА")
    assert names_equal("  Иван \t Иванович ", "ИВАН ИВАНОВИЧ")
    assert names_equal("РИМСКИЙ-КОРСАКОВ", "Римский-Корсаков")
    assert names_equal("Йошкин", "И\u0306ошкин")  # decomposed Й
    assert not names_equal("Иванов", "Иванова") and not names_equal("Иван Иванович", "ИванИванович")


def test_person_matches_rules() -> None:
    full = AuthorizedPerson("ИВАНОВ", "ИВАН", "ИВАНОВИЧ", "770100000142", None, False, False)
    assert person_matches(full, surname="Иванов", given_names="Иван Иванович", inn="770100000142")
    assert not person_matches(full, surname="Иванов", given_names="Иван", inn="770100000142")
    assert not person_matches(full, surname="Иванов", given_names="Иван Иванович", inn="770100000216")
    assert not person_matches(full, surname="Петров", given_names="Иван Иванович", inn="770100000142")
    assert not person_matches(full, surname="Иванов", given_names="Иван Иванович", inn=None)
    no_patronymic = AuthorizedPerson("СМИТ", "ДЖОН", None, "770100000142", None, False, False)
    assert person_matches(no_patronymic, surname="Смит", given_names="Джон", inn="770100000142")
    assert not person_matches(no_patronymic, surname="Смит", given_names="Джон Иванович", inn="770100000142")
    no_inn = AuthorizedPerson("ИВАНОВ", "ИВАН", "ИВАНОВИЧ", None, None, False, False)
    assert not person_matches(no_inn, surname="Иванов", given_names="Иван Иванович", inn="770100000142")


# -- refusals -----------------------------------------------------------------------------------------------------


def _refused(data: bytes, code: str = "egr_extract_invalid", **kwargs: int) -> SignAgentError:
    with pytest.raises(ExtractFormatError) as caught:
        load_extract(data, **kwargs)
    err = caught.value
    assert err.code == code, (err.code, err.message)
    assert "?" not in err.message + err.message_ru and err.message_ru != err.message
    assert err.to_dict()["code"] == code
    return err


def test_entity_expansion_and_external_entities_refused() -> None:
    laughs = ('<?xml version="1.0"?><!DOCTYPE Файл [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">'
              '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">]><Файл ИдФайл="&c;"/>').encode()
    assert _refused(laughs).details["situation"] == "doctype"
    xxe = ('<?xml version="1.0"?><!DOCTYPE Файл [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
           '<Файл><Документ>' + _svul().replace('ООО "ТЕСТ"', "&x;") + "</Документ></Файл>").encode()
    err = _refused(xxe)
    assert err.details["situation"] == "doctype" and "root:" not in err.message
    assert "DOCTYPE" in err.message and "DOCTYPE" in err.message_ru
    # An entity reference without any declaration is not well-formed.
    assert _refused(b'<\xd0\xa4\xd0\xb0\xd0\xb9\xd0\xbb>&x;</\xd0\xa4\xd0\xb0\xd0\xb9\xd0\xbb>'
                    ).details["situation"] == "not_xml"


def test_malformed_xml_refused_with_position() -> None:
    err = _refused(_bulk(_svul())[:-20])
    assert err.details["situation"] == "not_xml" and "line" in err.message and "строка" in err.message_ru
    assert _refused(b"").details["situation"] == "not_xml"
    assert _refused(b"\x00\x01binary").details["situation"] == "not_xml"


def test_oversize_refused_with_the_common_code(tmp_path: Path) -> None:
    data = _bulk(_svul())
    err = _refused(data, "input_too_large", max_bytes=len(data) - 1)
    assert str(len(data) - 1) in err.message
    assert len(load_extract(data, max_bytes=len(data))) == 1
    path = tmp_path / "big.xml"
    path.write_bytes(data)
    with pytest.raises(ExtractFormatError) as caught:
        ExtractRegistry.from_files([path], max_bytes=100)
    assert caught.value.code == "input_too_large" and str(path) in caught.value.message


def test_unknown_root_version_and_encoding_refused() -> None:
    err = _refused("<Справка><СвЮЛ/></Справка>".encode())
    assert err.details["situation"] == "unknown_format" and "Справка" in err.message_ru
    assert _refused(_bulk(_svul(), version="3.01")).details["situation"] == "version"
    tax_return = '<Файл ИдФайл="NO_NDS" ВерсФорм="4.01"><Документ КНД="1151001"><СвНП/></Документ></Файл>'
    assert _refused(tax_return.encode()).details["situation"] == "unknown_format"
    assert _refused(_bulk(_svul()).replace(b"windows-1251", b"x-unknown-8bit")).details["situation"] == "encoding"
    assert _refused(b'<?xml version="1.0" encoding="shift_jis"?><a/>').details["situation"] == "encoding"
    # UTF-8 declared and windows-1251 bytes: not decodable, refused rather than misread.
    assert _refused(_bulk(_svul()).replace(b"windows-1251", b"UTF-8")).details["situation"] == "not_xml"


def test_missing_and_malformed_attributes_refused() -> None:
    err = _refused(_bulk(_svul(ogrn=None)))
    assert err.details["situation"] == "missing_attribute" and "ОГРН" in err.message and "ОГРН" in err.message_ru
    assert err.details["record"] == 1
    assert _refused(_bulk(_svul().replace("<СвНаимЮЛ", "<Другое"))).details["situation"] == "missing_attribute"
    no_name = _svul('<СведДолжнФЛ><СвФЛ Фамилия="ИВАНОВ" ИННФЛ="770100000142"/></СведДолжнФЛ>')
    assert _refused(_bulk(no_name)).details["attribute"] == "Имя"
    bad = _refused(_bulk(_svul(ogrn="10277001321")))
    assert bad.details["situation"] == "bad_value" and "13 digits" in bad.message
    assert _refused(_bulk('<СвИП ОГРНИП="304500116000157" ИННФЛ="500100732259"/>')).details["attribute"] == "Фамилия"


def test_nesting_too_deep_refused() -> None:
    deep = "<a>" * 100 + "</a>" * 100
    with pytest.raises(ExtractFormatError) as caught:
        load_extract(f"<Файл><Документ>{deep}</Документ></Файл>".encode())
    assert caught.value.code == "nesting_too_deep"


def test_files_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(FileAccessError):
        ExtractRegistry.from_files([tmp_path / "missing.xml"])
    broken = tmp_path / "broken.xml"
    broken.write_bytes(b"<\xd0\xa4\xd0\xb0\xd0\xb9\xd0\xbb>")
    with pytest.raises(ExtractFormatError) as caught:
        ExtractRegistry.from_files([broken])
    assert str(broken) in caught.value.message and str(broken) in caught.value.message_ru
    with pytest.raises(UsageError):
        load_extract("<Файл/>")  # type: ignore[arg-type]


def test_a_bulk_file_of_many_records_streams_across_chunks(tmp_path: Path) -> None:
    okved = '<СвОКВЭДДоп КодОКВЭД="62.02" НаимОКВЭД="ДЕЯТЕЛЬНОСТЬ"/>' * 20

    def record(i: int) -> str:
        ogrn = f"10277{i:07d}0"
        inn = f"77{i:08d}"
        head = _head("ИВАНОВ", "ИВАН", "ИВАНОВИЧ", f"7701{i:08d}")
        return (f'<СвЮЛ ДатаВып="2026-06-01" ОГРН="{ogrn}" ИНН="{inn}"><СвНаимЮЛ НаимЮЛПолн="ООО {i}"/>{head}'
                f"<СвОКВЭД>{okved}</СвОКВЭД></СвЮЛ>")

    path = tmp_path / "bulk.xml"
    path.write_bytes(_bulk("\x00".join(record(i) for i in range(3000))))
    assert path.stat().st_size > 3 << 20  # several 1 MiB chunks
    registry = ExtractRegistry.from_files([str(path)])
    assert len(registry.records()) == 3000
    found = registry.legal_entity(inn="7700002999")
    assert found is not None and found.full_name == "ООО 2999" and found.heads[0].inn == "770100002999"

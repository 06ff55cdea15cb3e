"""registration.schema / canonical / rendering: the signed registration request of a portal (issue 14 item 1).

Valid examples round-trip through their canonical bytes; the canonical form is pinned by a known answer; every
rule of the format fails with the right path and code; hostile bytes give problems, never tracebacks; the
rendering for a person shows every signed value.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from signagent.errors import InvalidInputError, SignAgentError
from signagent.errors.registry import REGISTRY
from signagent.registration.canonical import MAX_DEPTH, MAX_REQUEST_BYTES, canonical_json, parse_request
from signagent.registration.examples import (
    example_employee_request,
    example_entrepreneur_request,
    example_head_request,
)
from signagent.registration.problems import PROBLEM_CODES, FieldProblem, RegistrationRequestError
from signagent.registration.rendering import initials, render_request, render_text, request_type_title
from signagent.registration.schema import (
    REQUEST_CONTENT_TYPE,
    REQUEST_TYPES,
    EmployeeRegistration,
    EntrepreneurRegistration,
    HeadForeign,
    HeadLegal,
    HeadRegistration,
    validate_request,
)
from signagent.testpki import identifiers as ids
from signagent.testpki import spec

NONCE = "0123456789abcdef" * 4
ORIGIN = "https://portal.example"
AT = "2026-12-01T10:00:00Z"
EXAMPLES = (example_head_request, example_entrepreneur_request, example_employee_request)

# The canonical bytes of example_employee_request(NONCE, ORIGIN, AT), written out by hand from the rules
# (sorted keys, no whitespace, UTF-8 as is): a change of the canonical form must be deliberate.
EMPLOYEE_CANONICAL = (
    '{"nonce":"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",'
    '"organisation":{"inn":"7701000033","ogrn":"1127700000031"},"origin":"https://portal.example",'
    '"profile":{"department":"Бухгалтерия","email":"petrova@romashka.invalid","phone":"+7 (495) 000-00-07",'
    '"position":"Главный бухгалтер"},"requested_at":"2026-12-01T10:00:00Z","subdivision":"Бухгалтерия",'
    '"type":"employee-registration","version":1}'
).encode()


def _head_dict() -> dict[str, Any]:
    return json.loads(canonical_json(example_head_request(NONCE, ORIGIN, AT)))


def _problems(data: bytes, **kwargs: Any) -> list[FieldProblem]:
    with pytest.raises(RegistrationRequestError) as caught:
        parse_request(data, **kwargs)
    err = caught.value
    assert isinstance(err, InvalidInputError) and err.code == "registration_request_invalid"
    assert err.problems and "?" not in err.message + err.message_ru
    for problem in err.problems:
        assert problem.code in PROBLEM_CODES, problem
        assert problem.message and any("\u0400" <= ch <= "\u04ff" for ch in problem.message_ru), problem
    json.dumps(err.to_dict(), ensure_ascii=False).encode()  # a report can carry it
    return err.problems


def _mutated(change: Callable[[dict[str, Any]], None], base: dict[str, Any] | None = None) -> bytes:
    data = copy.deepcopy(base if base is not None else _head_dict())
    change(data)
    return canonical_json(data)


def _codes(data: bytes) -> set[tuple[str, str]]:
    return {(p.path, p.code) for p in _problems(data)}


# ---------------------------------------------------------------------------------------------------------------
# valid requests and the canonical form
# ---------------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("make", EXAMPLES, ids=lambda f: f.__name__)
def test_examples_round_trip_through_canonical_bytes(make) -> None:
    request = make(NONCE, ORIGIN, AT)
    data = canonical_json(request)
    assert parse_request(data) == request
    assert canonical_json(parse_request(data)) == data
    assert canonical_json(json.loads(data)) == data  # the dict form gives the same bytes
    assert request.type in REQUEST_TYPES and request.version == 1


def test_known_answer_of_the_canonical_form() -> None:
    assert canonical_json(example_employee_request(NONCE, ORIGIN, AT)) == EMPLOYEE_CANONICAL
    assert REQUEST_CONTENT_TYPE == "application/vnd.signagent.registration+json"


def test_examples_agree_with_the_test_pki() -> None:
    head = example_head_request(NONCE, ORIGIN, AT)
    assert head.organisation.ogrn == spec.COMPANY.ogrn == ids.ogrn("112770000003")
    assert head.organisation.inn == spec.COMPANY.inn_le
    assert head.organisation.short_name == "ООО «Ромашка-Тест»"
    assert (head.head.surname, head.head.name, head.head.patronymic, head.head.inn) == (
        "Иванов", "Иван", "Иванович", spec.HEAD.inn)
    ip = example_entrepreneur_request(NONCE, ORIGIN, AT).entrepreneur
    assert (ip.ogrnip, ip.inn) == (ids.ogrnip("31777000000005"), spec.ENTREPRENEUR.inn)
    employee = example_employee_request(NONCE, ORIGIN, AT)
    assert (employee.organisation.ogrn, employee.organisation.inn) == (spec.COMPANY.ogrn, spec.COMPANY.inn_le)


def test_layout_variants_are_not_canonical_but_parse_when_allowed() -> None:
    request = example_head_request(NONCE, ORIGIN, AT)
    data = json.loads(canonical_json(request))
    variants = [
        json.dumps(data, ensure_ascii=False, sort_keys=True).encode(),  # whitespace after , and :
        json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"), indent=1).encode(),
        json.dumps(dict(reversed(list(data.items()))), ensure_ascii=False, separators=(",", ":")).encode(),
        json.dumps(data, ensure_ascii=True, sort_keys=True, separators=(",", ":")).encode(),  # \\u escapes
        canonical_json(data) + b"\n",
        b" " + canonical_json(data),
    ]
    with_null = copy.deepcopy(data)
    with_null["beneficiaries"][1]["actual_address"] = None  # null for an absent optional field
    variants.append(json.dumps(with_null, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode())
    for variant in variants:
        assert variant != canonical_json(request)
        assert [(p.path, p.code) for p in _problems(variant)] == [("", "not_canonical")]
        assert parse_request(variant, require_canonical=False) == request
    with pytest.raises(RegistrationRequestError) as caught:
        parse_request(variants[0])
    assert caught.value.details["situation"] == "not_canonical" and "canonical" in caught.value.message
    assert "канонической" in caught.value.message_ru


def test_canonical_json_of_dicts_drops_none_and_refuses_what_json_has_not() -> None:
    assert canonical_json({"b": 1, "a": None, "c": [True, "ё"]}) == '{"b":1,"c":[true,"ё"]}'.encode()
    with pytest.raises(InvalidInputError):
        canonical_json({"version": 1.0})
    with pytest.raises(InvalidInputError):
        canonical_json({"a": {1: "x"}})
    with pytest.raises(InvalidInputError):
        canonical_json({"a": "\ud800"})
    with pytest.raises(InvalidInputError):
        canonical_json("{}")  # type: ignore[arg-type]


def test_head_kinds_legal_and_foreign_and_minimal_requests() -> None:
    base = _head_dict()
    legal = {"kind": "legal", "full_name": "Акционерное общество «Управляющая компания — тест»",
             "short_name": "АО «УК-Тест»", "ogrn": ids.ogrn("102770000009"), "inn": ids.inn_legal_entity("770900009"),
             "kpp": "770901001", "address": "г. Москва, ул. Тестовая, д. 9"}
    foreign = {"kind": "foreign", "name": "Test Holding Limited", "short_name": "THL",
               "identification_number": "HE 123456", "country": "Республика Кипр"}
    for head, cls, who in ((legal, HeadLegal, "управляющая организация АО «УК-Тест»"),
                           (foreign, HeadForeign, "иностранная организация THL")):
        request = parse_request(_mutated(lambda d, h=head: d.update(head=h), base))
        assert isinstance(request, HeadRegistration) and isinstance(request.head, cls)
        assert who in render_request(request).title_ru
    minimal = copy.deepcopy(base)
    minimal["organisation"] = {k: v for k, v in minimal["organisation"].items()
                               if k not in ("fax", "website", "postal_address")}
    minimal["organisation"].update(postal_same_as_legal=True,
                                   okved={"main": {"code": "32.12"}, "auxiliary": [], "other": []})
    minimal.update(real_estate=[], subdivisions=[], beneficiaries=[], profile={})
    request = parse_request(canonical_json(minimal))
    assert request.organisation.postal_address is None and request.profile.email is None
    text = render_text(request)
    assert "Нежилые объекты недвижимости: нет" in text and "Бенефициары: нет" in text
    employee = parse_request(canonical_json({"type": "employee-registration", "version": 1, "nonce": "a" * 128,
                                             "origin": "http://127.0.0.1:8080", "requested_at": AT,
                                             "organisation": {"inn": spec.COMPANY.inn_le}, "profile": {}}))
    assert isinstance(employee, EmployeeRegistration) and employee.organisation.ogrn is None
    ip_employee = validate_request({**json.loads(canonical_json(employee)),
                                    "organisation": {"ogrn": ids.ogrnip("31777000000005")}})
    assert "ОГРНИП" in render_request(ip_employee).title_ru


# ---------------------------------------------------------------------------------------------------------------
# every rule fails with its path and code
# ---------------------------------------------------------------------------------------------------------------

def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = data
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        if value is _DELETE:
            del node[last]
        elif isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value
    return change


_DELETE = object()
_BAD_OGRN = ids.ogrn("112770000003")[:-1] + str((int(ids.ogrn("112770000003")[-1]) + 1) % 10)
_BAD_INN = spec.COMPANY.inn_le[:-1] + str((int(spec.COMPANY.inn_le[-1]) + 1) % 10)
_BAD_INN12 = spec.HEAD.inn[:-1] + str((int(spec.HEAD.inn[-1]) + 1) % 10)

RULES = [
    # (name, change of the head example, expected (path, code))
    ("no main ОКВЭД", _set("organisation.okved.main", _DELETE), ("organisation.okved.main", "missing")),
    ("three auxiliary", _set("organisation.okved.auxiliary", [{"code": "01.11"}, {"code": "01.12"},
                                                              {"code": "01.13"}]),
     ("organisation.okved.auxiliary", "too_many")),
    ("auxiliary repeats main", _set("organisation.okved.auxiliary.1", {"code": "46.48.2"}),
     ("organisation.okved.auxiliary[1].code", "duplicate_code")),
    ("other repeats auxiliary", _set("organisation.okved.other.1", {"code": "32.12"}),
     ("organisation.okved.other[1].code", "duplicate_code")),
    ("subdivision repeats a code", _set("subdivisions.0.okved", ["95.25", "95.25"]),
     ("subdivisions[0].okved[1]", "duplicate_code")),
    ("okved code shape", _set("organisation.okved.main.code", "46.4.82"), ("organisation.okved.main.code",
                                                                           "bad_format")),
    ("okved not a list", _set("organisation.okved.other", {"code": "01.11"}), ("organisation.okved.other",
                                                                               "wrong_type")),
    ("ОГРН check digit", _set("organisation.ogrn", _BAD_OGRN), ("organisation.ogrn", "checksum")),
    ("ОГРН length", _set("organisation.ogrn", "112770000003"), ("organisation.ogrn", "bad_format")),
    ("ИНН ЮЛ check digit", _set("organisation.inn", _BAD_INN), ("organisation.inn", "checksum")),
    ("ИНН ФЛ check digit", _set("head.inn", _BAD_INN12), ("head.inn", "checksum")),
    ("ИНН of Unicode digits", _set("organisation.inn", "٧٧٠١٠٠٠٠٣٣"), ("organisation.inn", "bad_format")),
    ("КПП", _set("organisation.kpp", "77010100"), ("organisation.kpp", "bad_format")),
    ("postal address missing", _set("organisation.postal_address", _DELETE),
     ("organisation.postal_address", "required")),
    ("postal address when same", _set("organisation.postal_same_as_legal", True),
     ("organisation.postal_address", "not_allowed")),
    ("flag as a string", _set("organisation.postal_same_as_legal", "false"),
     ("organisation.postal_same_as_legal", "wrong_type")),
    ("inactive beneficiary without date", _set("beneficiaries.1.ceased_on", _DELETE),
     ("beneficiaries[1].ceased_on", "required")),
    ("active beneficiary with date", _set("beneficiaries.0.ceased_on", "2020-01-01"),
     ("beneficiaries[0].ceased_on", "not_allowed")),
    ("date not in the calendar", _set("beneficiaries.1.ceased_on", "2023-02-29"),
     ("beneficiaries[1].ceased_on", "invalid_date")),
    ("date format", _set("head.birth_date", "12.04.1975"), ("head.birth_date", "bad_format")),
    ("extra field at the top", _set("comment", "x"), ("comment", "unknown_field")),
    ("extra field deep", _set("head.identity_document.code", "21"), ("head.identity_document.code",
                                                                      "unknown_field")),
    ("wrong nonce: uppercase", _set("nonce", NONCE.upper()), ("nonce", "bad_format")),
    ("wrong nonce: short", _set("nonce", "ab" * 31), ("nonce", "bad_format")),
    ("wrong nonce: long", _set("nonce", "ab" * 65), ("nonce", "bad_format")),
    ("origin with a path", _set("origin", "https://portal.example/login"), ("origin", "origin_invalid")),
    ("origin of another scheme", _set("origin", "ftp://portal.example"), ("origin", "origin_invalid")),
    ("origin null", _set("origin", "null"), ("origin", "origin_invalid")),
    ("origin not serialized", _set("origin", "https://Portal.example:443"), ("origin", "origin_not_normalized")),
    ("time with offset", _set("requested_at", "2026-12-01T13:00:00+03:00"), ("requested_at", "bad_format")),
    ("time not in the calendar", _set("requested_at", "2026-12-01T24:00:00Z"), ("requested_at", "invalid_date")),
    ("version 2", _set("version", 2), ("version", "unsupported_version")),
    ("version true", _set("version", True), ("version", "wrong_type")),
    ("version as text", _set("version", "1"), ("version", "wrong_type")),
    ("unknown type", _set("type", "admin-registration"), ("type", "invalid_choice")),
    ("no type", _set("type", _DELETE), ("type", "missing")),
    ("unknown head kind", _set("head.kind", "robot"), ("head.kind", "invalid_choice")),
    ("head without kind", _set("head.kind", _DELETE), ("head.kind", "missing")),
    ("person head without surname", _set("head.surname", _DELETE), ("head.surname", "missing")),
    ("empty text", _set("organisation.full_name", ""), ("organisation.full_name", "empty")),
    ("text with spaces around", _set("organisation.short_name", " ООО «Ромашка-Тест»"),
     ("organisation.short_name", "bad_characters")),
    ("bidi override", _set("head.surname", "Ива\u202eвон"), ("head.surname", "bad_characters")),
    ("line break", _set("organisation.legal_address", "г. Москва\nул. Тестовая"),
     ("organisation.legal_address", "bad_characters")),
    ("zero-width space", _set("organisation.short_name", "ООО\u200b«Ромашка»"),
     ("organisation.short_name", "bad_characters")),
    ("text too long", _set("head.name", "И" * 301), ("head.name", "too_long")),
    ("email", _set("organisation.email", "info at romashka"), ("organisation.email", "bad_format")),
    ("phone", _set("organisation.phone", "call me"), ("organisation.phone", "bad_format")),
    ("website", _set("organisation.website", "romashka.ru"), ("organisation.website", "bad_format")),
    ("subdivision kind", _set("subdivisions.0.kind", "филиал"), ("subdivisions[0].kind", "invalid_choice")),
    ("profile null", _set("profile", None), ("profile", "missing")),  # canonical_json drops the null
    ("profile not an object", _set("profile", []), ("profile", "wrong_type")),
    ("real estate item not an object", _set("real_estate", ["г. Москва"]), ("real_estate[0]", "wrong_type")),
]


@pytest.mark.parametrize(("change", "expected"), [(c, e) for _, c, e in RULES], ids=[n for n, _, _ in RULES])
def test_every_rule_fails_with_its_path_and_code(change, expected) -> None:
    assert expected in _codes(_mutated(change))


def test_rules_of_the_entrepreneur_and_employee_requests() -> None:
    ip = json.loads(canonical_json(example_entrepreneur_request(NONCE, ORIGIN, AT)))
    ogrnip = ip["entrepreneur"]["ogrnip"]
    bad = ogrnip[:-1] + str((int(ogrnip[-1]) + 1) % 10)
    assert ("entrepreneur.ogrnip", "checksum") in _codes(_mutated(_set("entrepreneur.ogrnip", bad), ip))
    assert ("entrepreneur.inn", "bad_format") in _codes(_mutated(_set("entrepreneur.inn", spec.COMPANY.inn_le), ip))
    assert ("entrepreneur.okved.main", "missing") in _codes(_mutated(_set("entrepreneur.okved.main", _DELETE), ip))
    assert ("organisation", "unknown_field") in _codes(_mutated(_set("organisation", {}), ip))
    employee = json.loads(canonical_json(example_employee_request(NONCE, ORIGIN, AT)))
    assert ("organisation", "required") in _codes(_mutated(_set("organisation", {}), employee))
    assert ("organisation.ogrn", "checksum") in _codes(_mutated(_set("organisation.ogrn", _BAD_OGRN), employee))
    assert ("organisation.inn", "checksum") in _codes(_mutated(_set("organisation.inn", _BAD_INN12), employee))
    assert ("head", "unknown_field") in _codes(_mutated(_set("head", {"kind": "person"}), employee))


def test_several_problems_are_reported_together_with_labels_in_both_languages() -> None:
    data = _mutated(lambda d: (_set("organisation.ogrn", _BAD_OGRN)(d), _set("beneficiaries.1.ceased_on",
                                                                               _DELETE)(d)))
    problems = _problems(data)
    assert [(p.path, p.code) for p in problems] == [("organisation.ogrn", "checksum"),
                                                    ("beneficiaries[1].ceased_on", "required")]
    assert problems[0].message_ru.startswith("Организация → ОГРН:") and "контрольное" in problems[0].message_ru
    assert problems[0].message.startswith("Organisation → OGRN:")
    assert problems[1].message_ru.startswith("Бенефициары [2] →")
    with pytest.raises(RegistrationRequestError) as caught:
        parse_request(data)
    err = caught.value
    assert "2" in err.message and "organisation.ogrn" in err.message and "ОГРН" in err.message_ru
    assert [p["code"] for p in err.to_dict()["problems"]] == ["checksum", "required"]  # type: ignore[index]


def test_the_error_code_is_registered_in_both_languages() -> None:
    entry = REGISTRY["registration_request_invalid"]
    assert entry.cls == "signagent.registration.problems.RegistrationRequestError" and not entry.retriable
    assert {m.situation for m in entry.messages} == {"not_canonical", "fields", ""}
    assert issubclass(RegistrationRequestError, InvalidInputError)


# ---------------------------------------------------------------------------------------------------------------
# hostile bytes: problems, never tracebacks
# ---------------------------------------------------------------------------------------------------------------

HOSTILE = [
    ("invalid UTF-8", b'{"type":"\xff"}', ("", "not_utf8")),
    ("overlong UTF-8", b'{"type":"\xc0\xaf"}', ("", "not_utf8")),
    ("BOM", b"\xef\xbb\xbf{}", ("", "json_invalid")),
    ("not JSON", b"type=head-registration", ("", "json_invalid")),
    ("empty", b"", ("", "json_invalid")),
    ("two values", b"{}{}", ("", "json_invalid")),
    ("NaN", b'{"version":NaN}', ("", "json_invalid")),
    ("huge integer", b'{"version":' + b"9" * 5000 + b"}", ("", "json_invalid")),
    ("array at the top", b"[]", ("", "not_object")),
    ("string at the top", b'"head-registration"', ("", "not_object")),
    ("null at the top", b"null", ("", "not_object")),
    ("duplicate key at the top", b'{"type":"head-registration","type":"employee-registration"}',
     ("type", "duplicate_key")),
    ("duplicate key deep", b'{"organisation":{"inn":"1","inn":"2"}}', ("organisation.inn", "duplicate_key")),
    ("fraction", b'{"version":1.0}', ("version", "number_not_allowed")),
    ("exponent", b'{"version":1e0}', ("version", "number_not_allowed")),
    ("deep arrays", b"[" * 100_000 + b"]" * 100_000, ("", "too_deep")),
    ("deep objects", b'{"a":' * (MAX_DEPTH + 1) + b"1" + b"}" * (MAX_DEPTH + 1), ("", "too_deep")),
    ("huge", b'{"type":"' + b"x" * MAX_REQUEST_BYTES + b'"}', ("", "too_large")),
    ("surrogate in a key", b'{"\\udc00":1,"type":"head-registration"}', ("'\\udc00'", "bad_characters")),
    ("lone surrogate", b'{"type":"head-registration","version":1,"comment":"\\ud800"}', ("comment", "unknown_field")),
]


@pytest.mark.parametrize(("data", "expected"), [(d, e) for _, d, e in HOSTILE], ids=[n for n, _, _ in HOSTILE])
def test_hostile_bytes_give_problems(data: bytes, expected: tuple[str, str]) -> None:
    for require_canonical in (True, False):
        problems = _problems(data, require_canonical=require_canonical)
        assert expected in {(p.path, p.code) for p in problems}


def test_brackets_inside_strings_do_not_count_as_depth_and_types_are_checked() -> None:
    head = _head_dict()
    head["organisation"]["okved"]["main"]["comment"] = "[[[[[[[[[[[[[[[[[[[[ {{{{{{{{{{{{{{{{{{ \\\" ["
    request = parse_request(canonical_json(head))
    assert request.organisation.okved.main.comment == head["organisation"]["okved"]["main"]["comment"]
    with pytest.raises(SignAgentError) as caught:
        parse_request("{}")  # type: ignore[arg-type]
    assert caught.value.code == "invalid_type"
    assert parse_request(bytearray(canonical_json(head))) == request


def test_size_limit_is_inclusive_of_a_request_at_the_limit() -> None:
    data = canonical_json(example_head_request(NONCE, ORIGIN, AT))
    at_limit = data + b" " * (MAX_REQUEST_BYTES - len(data))
    assert parse_request(at_limit, require_canonical=False) == parse_request(data)
    assert [(p.path, p.code) for p in _problems(at_limit + b" ", require_canonical=False)] == [("", "too_large")]
    too_long = _problems(_mutated(_set("organisation.okved.main.comment", "x" * 2001)))
    assert ("organisation.okved.main.comment", "too_long") in {(p.path, p.code) for p in too_long}


# ---------------------------------------------------------------------------------------------------------------
# rendering for a person
# ---------------------------------------------------------------------------------------------------------------

_SHOWN = {True: ("да", "yes"), False: ("нет", "no"), "person": ("физическое лицо", "natural person"),
          "branch": ("филиал", "branch"), "head-registration": ("Регистрация организации", "Registration of an "),
          "entrepreneur-registration": ("Регистрация индивидуального предпринимателя", "individual entrepreneur"),
          "employee-registration": ("Регистрация сотрудника", "employee")}


def _leaves(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from _leaves(getattr(value, name), f"{path}.{name}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _leaves(item, f"{path}[{i}]")
    elif value is not None:
        yield path, value


@pytest.mark.parametrize("make", EXAMPLES, ids=lambda f: f.__name__)
def test_rendering_shows_every_value(make) -> None:
    request = make(NONCE, ORIGIN, AT)
    leaves = list(_leaves(request))
    assert len(leaves) > 10
    for lang, index in (("ru", 0), ("en", 1)):
        text = render_text(request, lang)
        for path, value in leaves:
            special = isinstance(value, bool) or (isinstance(value, str) and value in _SHOWN)
            shown = _SHOWN[value][index] if special else str(value)
            assert shown in text, (lang, path, shown)
    rendering = render_request(request)
    assert rendering.sections[0].title_ru == "Запрос"
    assert all(section.rows for section in rendering.sections)
    assert all(row.label_ru and row.label_en and row.value for s in rendering.sections for row in s.rows)


def test_rendering_counts_rows_for_every_field_of_the_full_head_request() -> None:
    request = example_head_request(NONCE, ORIGIN, AT)
    rows = [row for section in render_request(request).sections for row in section.rows]
    leaves = list(_leaves(request))
    okved_comments = sum(1 for path, _ in leaves if path.endswith(".comment"))
    subdivision_codes = sum(len(s.okved) for s in request.subdivisions) - len(request.subdivisions)
    assert len(rows) == len(leaves) - okved_comments - subdivision_codes  # a code and its comment share a row


def test_titles() -> None:
    head = render_request(example_head_request(NONCE, ORIGIN, AT))
    assert head.title_ru == (f"Регистрация организации ООО «Ромашка-Тест», ОГРН {spec.COMPANY.ogrn}, "
                             "руководитель Иванов И. И.")
    assert head.title_en.startswith("Registration of the organisation ООО «Ромашка-Тест», OGRN ")
    ip = render_request(example_entrepreneur_request(NONCE, ORIGIN, AT))
    assert ip.title_ru.startswith("Регистрация индивидуального предпринимателя Сидоров П. А., ОГРНИП 3177")
    employee = render_request(example_employee_request(NONCE, ORIGIN, AT))
    assert employee.title_ru == (f"Регистрация сотрудника организации с ОГРН {spec.COMPANY.ogrn}, ИНН "
                                 f"{spec.COMPANY.inn_le}, подразделение «Бухгалтерия»")
    assert render_text(example_employee_request(NONCE, ORIGIN, AT), "en").startswith("Registration of an employee")
    assert initials("Иванов", "Иван", "Иванович") == "Иванов И. И."
    assert initials("Салтыков-Щедрин", "Михаил", None) == "Салтыков-Щедрин М."
    assert initials("Петрова", "Анна-Мария", "Сергеевна") == "Петрова А.-М. С."
    assert request_type_title("head-registration") == "Регистрация организации"
    assert request_type_title("employee-registration", "en") == "Registration of an employee"
    for bad in (lambda: request_type_title("x"), lambda: request_type_title("head-registration", "de"),
                lambda: render_text(example_head_request(NONCE, ORIGIN, AT), "de")):
        with pytest.raises(InvalidInputError):
            bad()
    assert isinstance(example_entrepreneur_request(NONCE, ORIGIN, AT), EntrepreneurRegistration)


# ---------------------------------------------------------------------------------------------------------------
# docs/REGISTRATION.md: its examples are valid and are the examples module's
# ---------------------------------------------------------------------------------------------------------------

def test_the_documented_examples_are_valid() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "REGISTRATION.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```json\n(.*?)```", doc, re.S)
    requests = [json.loads(b) for b in blocks if '"type"' in b]
    heads = [json.loads(b) for b in blocks if '"type"' not in b]
    assert [r["type"] for r in requests] == list(REQUEST_TYPES) and len(heads) == 2
    for documented, make in zip(requests, EXAMPLES, strict=True):
        assert parse_request(canonical_json(documented)) == make(NONCE, ORIGIN, AT)
    for head in heads:
        parse_request(canonical_json({**requests[0], "head": head}))
    assert EMPLOYEE_CANONICAL.decode() in doc.splitlines()
    for code in PROBLEM_CODES:
        assert f"| `{code}` |" in doc, code
    assert REQUEST_CONTENT_TYPE in doc

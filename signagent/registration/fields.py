"""The single values of a registration request and their rules: registration numbers, ОКВЭД codes, dates, text.

Each value type here is an annotated ``str`` (or ``int``) for the pydantic models of :mod:`.schema`: the JSON
value is kept exactly as given (a date stays the string ``"1980-05-15"``), so the canonical form of a parsed
request is the bytes that were signed. A value that breaks a rule fails with a :class:`PydanticCustomError`
whose type is the problem code of ``docs/REGISTRATION.md`` and whose context carries the Russian wording
(``ru``); :mod:`.problems` turns these into field problems.

Registration numbers are checked with :mod:`signagent.x509.checksums`, the project's one implementation of the
published check-digit rules.

Text: every text value is 1..N characters, without leading or trailing whitespace and without characters a
person cannot see on the confirmation page (control and format characters -- bidi overrides, zero-width
characters --, surrogates, private-use characters, line and paragraph separators): what is signed must be what
is shown.

Exports: ShortText, LongText, Ogrn, Ogrnip, OgrnOrOgrnip, InnLegal, InnPerson, InnAny, Kpp, OkvedCode,
Email, Phone, Website, IsoDate, Timestamp, Nonce, Origin, Version, field_error, MAX_SHORT_TEXT, MAX_LONG_TEXT.
"""

from __future__ import annotations

import datetime as _dt
import re
import unicodedata
from collections.abc import Callable
from typing import Annotated

from pydantic import AfterValidator, Strict
from pydantic_core import PydanticCustomError

from signagent.errors import SignAgentError
from signagent.service.origins import normalize_origin
from signagent.x509.checksums import check_inn, check_inn10, check_inn12, check_ogrn, check_ogrnip

__all__ = [
    "MAX_LONG_TEXT",
    "MAX_SHORT_TEXT",
    "Email",
    "InnAny",
    "InnLegal",
    "InnPerson",
    "IsoDate",
    "Kpp",
    "LongText",
    "Nonce",
    "Ogrn",
    "OgrnOrOgrnip",
    "Ogrnip",
    "OkvedCode",
    "Origin",
    "Phone",
    "ShortText",
    "Timestamp",
    "Version",
    "Website",
    "field_error",
]

MAX_SHORT_TEXT = 300  # names, positions, numbers of documents
MAX_LONG_TEXT = 2000  # full names of organisations, addresses, comments

_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Zl", "Zp"})


def field_error(code: str, en: str, ru: str, *, at: str | None = None) -> PydanticCustomError:
    """The error of a broken rule: ``code`` (a problem code), English and Russian wording, and ``at`` -- a path
    below the validated value when a model-level rule blames one of its fields (``"postal_address"``)."""
    context: dict[str, str] = {"ru": ru}
    if at is not None:
        context["at"] = at
    return PydanticCustomError(code, en.replace("{", "{{").replace("}", "}}"), context)


def _text(limit: int) -> Callable[[str], str]:
    def check(value: str) -> str:
        if not value:
            raise field_error("empty", "must not be empty", "не может быть пустым")
        if len(value) > limit:
            raise field_error("too_long", f"must be at most {limit} characters long",
                              f"должно быть не длиннее {limit} символов")
        if value != value.strip():
            raise field_error("bad_characters", "must not begin or end with whitespace",
                              "не должно начинаться или заканчиваться пробелом")
        # str.isprintable() is False for every character of these categories (and for spaces other than U+0020),
        # so the per-character look-up runs only for the rare text that needs it.
        if not value.isprintable() and any(unicodedata.category(ch) in _INVISIBLE_CATEGORIES for ch in value):
            raise field_error("bad_characters",
                              "contains control or invisible characters (line breaks, bidi marks, zero-width...)",
                              "содержит управляющие или невидимые символы (переводы строк, знаки направления "
                              "письма, символы нулевой ширины...)")
        return value
    return check


#: One-line text of at most 300 characters (names, positions, document numbers).
ShortText = Annotated[str, Strict(), AfterValidator(_text(MAX_SHORT_TEXT))]
#: One-line text of at most 2000 characters (full names, addresses, comments).
LongText = Annotated[str, Strict(), AfterValidator(_text(MAX_LONG_TEXT))]


_NUMBER_NAMES = {  # checker -> (English, Russian, digits)
    "ogrn": ("an OGRN", "ОГРН", "13"),
    "ogrnip": ("an OGRNIP", "ОГРНИП", "15"),
    "ogrn_any": ("an OGRN or OGRNIP", "ОГРН или ОГРНИП", "13 or 15"),
    "inn10": ("an INN of a legal entity", "ИНН юридического лица", "10"),
    "inn12": ("a personal INN", "ИНН физического лица", "12"),
    "inn_any": ("an INN", "ИНН", "10 or 12"),
}


def _number(kind: str, checker: Callable[[str], str | None]) -> Callable[[str], str]:
    en, ru, digits = _NUMBER_NAMES[kind]
    digits_ru = digits.replace(" or ", " или ")

    def check(value: str) -> str:
        problem = checker(value)
        if problem in ("not_digits", "length"):
            raise field_error("bad_format", f"must be {en}: {digits} digits",
                              f"должно быть {ru}: {digits_ru} цифр")
        if problem is not None:
            raise field_error("checksum", f"is not {en}: the check digit is wrong",
                              f"не является {ru}: неверное контрольное число")
        return value
    return check


def _ogrn_any(value: str) -> str | None:
    return check_ogrnip(value) if len(value) == 15 else check_ogrn(value)


Ogrn = Annotated[str, Strict(), AfterValidator(_number("ogrn", check_ogrn))]
Ogrnip = Annotated[str, Strict(), AfterValidator(_number("ogrnip", check_ogrnip))]
OgrnOrOgrnip = Annotated[str, Strict(), AfterValidator(_number("ogrn_any", _ogrn_any))]
InnLegal = Annotated[str, Strict(), AfterValidator(_number("inn10", check_inn10))]
InnPerson = Annotated[str, Strict(), AfterValidator(_number("inn12", check_inn12))]
InnAny = Annotated[str, Strict(), AfterValidator(_number("inn_any", check_inn))]


def _pattern(regex: str, en: str, ru: str) -> Callable[[str], str]:
    compiled = re.compile(regex)

    def check(value: str) -> str:
        if not compiled.fullmatch(value):
            raise field_error("bad_format", en, ru)
        return value
    return check


# КПП: code of the tax office (4 digits), reason (2 digits or capital Latin letters), serial number (3 digits).
Kpp = Annotated[str, Strict(), AfterValidator(_pattern(
    r"[0-9]{4}[0-9A-Z]{2}[0-9]{3}", "must be a KPP: 9 characters, 4 digits, 2 digits or capital Latin letters, "
    "3 digits", "должно быть КПП: 9 знаков -- 4 цифры, 2 цифры или заглавные латинские буквы, 3 цифры"))]

# ОКВЭД 2 (ОК 029-2014): class "46", subclass "46.4", group "46.48", subgroup "46.48.2", type "46.48.21".
OkvedCode = Annotated[str, Strict(), AfterValidator(_pattern(
    r"[0-9]{2}(\.[0-9]([0-9](\.[0-9]{1,2})?)?)?",
    "must be an OKVED 2 code: NN, NN.N, NN.NN, NN.NN.N or NN.NN.NN",
    "должно быть кодом ОКВЭД 2: NN, NN.N, NN.NN, NN.NN.N или NN.NN.NN"))]

Email = Annotated[str, Strict(), AfterValidator(_text(254)), AfterValidator(_pattern(
    r"[^@\s]+@[^@\s.][^@\s]*\.[^@\s]+", "must be an email address (name@domain)",
    "должно быть адресом электронной почты (имя@домен)"))]

_PHONE = re.compile(r"\+?[0-9 ()-]+")


def _phone(value: str) -> str:
    digits = sum(ch.isdigit() for ch in value)
    if not _PHONE.fullmatch(value) or not 5 <= digits <= 15 or len(value) > 32:
        raise field_error("bad_format", "must be a phone number: an optional +, 5 to 15 digits, spaces, "
                          "parentheses and hyphens", "должно быть номером телефона: необязательный +, от 5 до 15 "
                          "цифр, пробелы, скобки и дефисы")
    return value


Phone = Annotated[str, Strict(), AfterValidator(_text(32)), AfterValidator(_phone)]

Website = Annotated[str, Strict(), AfterValidator(_text(2048)), AfterValidator(_pattern(
    r"https?://[^\s/?#@]+\.[^\s/?#@]+([/?#]\S*)?", "must be a web address starting with http:// or https://",
    "должно быть адресом сайта, начинающимся с http:// или https://"))]


def _iso_date(value: str) -> str:
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        raise field_error("bad_format", "must be a date YYYY-MM-DD", "должно быть датой ГГГГ-ММ-ДД")
    try:
        _dt.date.fromisoformat(value)
    except ValueError:
        raise field_error("invalid_date", "is not a real calendar date", "такой даты нет в календаре") from None
    return value


def _timestamp(value: str) -> str:
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z", value):
        raise field_error("bad_format", "must be a UTC time YYYY-MM-DDTHH:MM:SSZ",
                          "должно быть временем UTC ГГГГ-ММ-ДДTЧЧ:ММ:ССZ")
    try:
        _dt.datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        raise field_error("invalid_date", "is not a real calendar time", "такого времени нет в календаре") from None
    return value


#: A calendar date ``YYYY-MM-DD`` (kept as the string).
IsoDate = Annotated[str, Strict(), AfterValidator(_iso_date)]
#: A UTC time to the second ``YYYY-MM-DDTHH:MM:SSZ`` (kept as the string).
Timestamp = Annotated[str, Strict(), AfterValidator(_timestamp)]

#: The portal's challenge: 64..128 lowercase hexadecimal digits (256..512 bits).
Nonce = Annotated[str, Strict(), AfterValidator(_pattern(
    r"[0-9a-f]{64,128}", "must be 64 to 128 lowercase hexadecimal digits",
    "должно состоять из 64--128 строчных шестнадцатеричных цифр"))]


def _origin(value: str) -> str:
    try:
        normalized = normalize_origin(value)
    except SignAgentError:
        raise field_error("origin_invalid", "must be a web origin: scheme://host[:port], no path",
                          "должно быть источником (origin) сайта: схема://узел[:порт], без пути") from None
    if normalized != value:
        raise field_error("origin_not_normalized", f"must be written as the browser serializes it: {normalized}",
                          f"должно быть записано так, как его сериализует браузер: {normalized}")
    return value


#: A web origin in its serialized form (``https://portal.example``, lowercase, no default port, no slash).
Origin = Annotated[str, Strict(), AfterValidator(_origin)]


def _version(value: int) -> int:
    if value != 1:
        raise field_error("unsupported_version", "must be 1 (the only version of the format)",
                          "должно быть равно 1 (единственная версия формата)")
    return value


#: The format version: the integer 1 (strict: ``true`` and ``1.0`` are not 1).
Version = Annotated[int, Strict(), AfterValidator(_version)]

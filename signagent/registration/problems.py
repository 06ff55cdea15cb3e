"""What is wrong with a registration request, field by field, in Russian and English.

A request that cannot be accepted raises :class:`RegistrationRequestError` (code ``registration_request_invalid``,
an :class:`~signagent.errors.InvalidInputError`) carrying every :class:`FieldProblem` found: the path of the
field (``organisation.okved.auxiliary``, ``beneficiaries[0].ceased_on``; ``""`` for the request as a whole), a
stable problem code (the list is in ``docs/REGISTRATION.md``) and a message in each language.

pydantic's own error types are translated here into the project's problem codes (``extra_forbidden`` becomes
``unknown_field``, ``too_long`` of a list ``too_many``...), so a pydantic upgrade cannot change a code a portal
relies on; the rules of :mod:`.fields` and :mod:`.schema` raise their codes directly.

Exports: FieldProblem, RegistrationRequestError, format_path, problems_from_validation, PROBLEM_CODES.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from signagent.errors import InvalidInputError

__all__ = ["PROBLEM_CODES", "FieldProblem", "RegistrationRequestError", "format_path", "problems_from_validation"]

#: Every problem code a request can get: (English, Russian) description, for documentation and tests.
PROBLEM_CODES: dict[str, tuple[str, str]] = {
    # the bytes as a whole (path "")
    "too_large": ("the request is larger than the limit", "запрос больше допустимого размера"),
    "not_utf8": ("the request is not UTF-8 text", "запрос -- не текст в UTF-8"),
    "json_invalid": ("the request is not valid JSON", "запрос -- не корректный JSON"),
    "too_deep": ("the JSON is nested too deeply", "слишком глубокая вложенность JSON"),
    "not_object": ("the request must be a JSON object", "запрос должен быть объектом JSON"),
    "duplicate_key": ("a key appears twice in one object", "ключ повторяется в одном объекте"),
    "number_not_allowed": ("a fractional number: the format has only the integer version",
                           "дробное число: в формате есть только целое число версии"),
    "not_canonical": ("the bytes are not the canonical JSON of the request",
                      "байты не совпадают с каноническим JSON запроса"),
    # fields
    "missing": ("a required field is missing", "нет обязательного поля"),
    "unknown_field": ("a field the format does not have", "поле, которого нет в формате"),
    "wrong_type": ("a value of the wrong JSON type", "значение неверного типа JSON"),
    "invalid_choice": ("a value outside the allowed set", "значение не из допустимого набора"),
    "unsupported_version": ("a format version other than 1", "версия формата, отличная от 1"),
    "empty": ("an empty text", "пустой текст"),
    "too_long": ("a text longer than allowed", "текст длиннее допустимого"),
    "too_many": ("a list with more items than allowed", "в списке больше элементов, чем допустимо"),
    "bad_characters": ("control or invisible characters, or surrounding whitespace",
                       "управляющие или невидимые символы либо пробелы по краям"),
    "bad_format": ("a value not in the required format", "значение не в требуемом формате"),
    "checksum": ("a registration number with a wrong check digit",
                 "регистрационный номер с неверным контрольным числом"),
    "invalid_date": ("a date or time that is not in the calendar", "дата или время, которых нет в календаре"),
    "origin_invalid": ("not a web origin", "не источник (origin) сайта"),
    "origin_not_normalized": ("an origin not in its serialized form", "origin не в сериализованной форме"),
    "duplicate_code": ("an ОКВЭД code given twice", "код ОКВЭД указан дважды"),
    "required": ("a field required by the value of another field", "поле, обязательное при значении другого поля"),
    "not_allowed": ("a field not allowed by the value of another field",
                    "поле, недопустимое при значении другого поля"),
    "invalid": ("an invalid value", "недопустимое значение"),
}

# pydantic error type -> (problem code, English, Russian); templates take the error's context.
_PYDANTIC: dict[str, tuple[str, str, str]] = {
    "missing": ("missing", "required field is missing", "обязательное поле отсутствует"),
    "extra_forbidden": ("unknown_field", "the format has no such field", "такого поля в формате нет"),
    "string_type": ("wrong_type", "must be a string", "должно быть строкой"),
    "string_unicode": ("bad_characters", "contains a lone surrogate (not Unicode text)",
                       "содержит одиночный суррогат (не текст Unicode)"),
    "bool_type": ("wrong_type", "must be true or false", "должно быть true или false"),
    "int_type": ("wrong_type", "must be an integer", "должно быть целым числом"),
    "list_type": ("wrong_type", "must be a list", "должно быть списком"),
    "model_type": ("wrong_type", "must be an object", "должно быть объектом"),
    "model_attributes_type": ("wrong_type", "must be an object", "должно быть объектом"),
    "dict_type": ("wrong_type", "must be an object", "должно быть объектом"),
    "literal_error": ("invalid_choice", "must be one of: {expected}", "должно быть одним из: {expected}"),
    "union_tag_invalid": ("invalid_choice", "must be one of: {expected_tags}", "должно быть одним из: {expected_tags}"),
    "union_tag_not_found": ("missing", "the field {discriminator} that says the kind is missing",
                            "нет поля {discriminator}, задающего вид"),
    "too_long": ("too_many", "must have at most {max_length} items", "должно содержать не более {max_length} "
                 "элементов"),
    "too_short": ("missing", "must have at least {min_length} items", "должно содержать не менее {min_length} "
                  "элементов"),
    "string_too_short": ("empty", "must not be empty", "не может быть пустым"),
    "string_too_long": ("too_long", "is too long", "слишком длинное"),
    "string_pattern_mismatch": ("bad_format", "is not in the required format", "не в требуемом формате"),
}

# Where a discriminated union chose its member, pydantic puts the tag into the location; these keys name it.
_TAG_KEYS = ("type", "kind")


@dataclass(frozen=True)
class FieldProblem:
    """One problem: ``path`` of the field (``""``: the whole request), ``code``, English and Russian message."""

    path: str
    code: str
    message: str
    message_ru: str

    def to_dict(self) -> dict[str, str]:
        """JSON-ready form."""
        return {"path": self.path, "code": self.code, "message": self.message, "message_ru": self.message_ru}


class RegistrationRequestError(InvalidInputError):
    """The registration request cannot be accepted; :attr:`problems` says why, field by field (never empty)."""

    code = "registration_request_invalid"

    def __init__(self, problems: Sequence[FieldProblem]) -> None:
        self.problems: list[FieldProblem] = list(problems) or [
            FieldProblem("", "invalid", *PROBLEM_CODES["invalid"])]
        first = self.problems[0]
        situation = "not_canonical" if any(p.code == "not_canonical" for p in self.problems) else "fields"
        where = first.path or "-"
        super().__init__(situation=situation, count=len(self.problems), path=where, problem=first.message,
                         problem_ru=first.message_ru)

    def to_dict(self) -> dict[str, object]:
        """The error's JSON form with the list of problems."""
        out = super().to_dict()
        out["problems"] = [p.to_dict() for p in self.problems]
        return out


def _shown_key(key: str) -> str:
    """A key as a path shows it: as is when printable, else escaped (a path must stay readable and encodable)."""
    if key and key.isprintable() and all(not 0xD800 <= ord(ch) <= 0xDFFF for ch in key) and len(key) <= 100:
        return key
    return ascii(key[:100])


def format_path(parts: Iterable[str | int]) -> str:
    """``("beneficiaries", 0, "ceased_on")`` -> ``"beneficiaries[0].ceased_on"``."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + _shown_key(part)
    return out


def _located(loc: Sequence[str | int], data: Any, unions: Collection[tuple[str | int, ...]]) -> list[str | int]:
    """The error location without the tags pydantic inserts after a discriminated union (at the paths
    ``unions``), walking the input data."""
    out: list[str | int] = []
    node = data
    tagged = False
    for part in loc:
        if not tagged and tuple(out) in unions and isinstance(node, Mapping) \
                and any(node.get(k) == part for k in _TAG_KEYS):
            tagged = True
            continue  # the member's tag, not a field
        tagged = False
        out.append(part)
        if isinstance(node, Mapping) and isinstance(part, str):
            node = node.get(part)
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        else:
            node = None
    return out


def _fill(template: str, context: Mapping[str, Any]) -> str:
    try:
        return template.format_map({k: str(v) for k, v in context.items()})
    except (KeyError, IndexError, ValueError):
        return template


def problems_from_validation(exc: ValidationError, data: Any,
                             label: Callable[[Sequence[str | int]], tuple[str, str] | None],
                             unions: Collection[tuple[str | int, ...]] = ((),)) -> list[FieldProblem]:
    """Field problems of a pydantic :class:`ValidationError` raised validating ``data``.

    ``label(parts)`` gives the (English, Russian) name of a field for the messages, or None; ``unions`` are the
    paths of the discriminated unions (``()``: the request itself), after which pydantic's locations name the tag.
    """
    problems: list[FieldProblem] = []
    for error in exc.errors(include_url=False, include_input=False):
        context = error.get("ctx") or {}
        parts = _located(error["loc"], data, unions)
        if "at" in context:
            parts += [p for p in str(context["at"]).replace("[", ".[").split(".") if p]
            parts = [int(p[1:-1]) if isinstance(p, str) and p.startswith("[") else p for p in parts]
        if "ru" in context:  # one of our own rules
            code, en, ru = error["type"], error["msg"], str(context["ru"])
        elif error["type"] in _PYDANTIC:
            code, en, ru = _PYDANTIC[error["type"]]
            en, ru = _fill(en, context), _fill(ru, context)
        else:
            code, (en, ru) = "invalid", PROBLEM_CODES["invalid"]
        if error["type"] in ("union_tag_invalid", "union_tag_not_found"):
            parts.append(str(context.get("discriminator", "kind")).strip("'"))
        named = label(parts)
        if named is not None:
            en, ru = f"{named[0]}: {en}", f"{named[1]}: {ru}"
        problems.append(FieldProblem(format_path(parts), code, en, ru))
    return problems

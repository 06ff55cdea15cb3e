"""The byte form of a registration request: canonical JSON, and the strict reading of signed bytes.

Canonical JSON (what a portal signs, docs/REGISTRATION.md): UTF-8 without BOM; object keys sorted by code point;
no whitespace outside strings (separators ``,`` and ``:``); non-ASCII characters written as themselves, only
``"``, ``\\`` and control characters escaped (as ``json.dumps`` does with ``ensure_ascii=False``); optional fields
that are absent are omitted (never ``null``); the version is the integer ``1``; no other number occurs. For every
valid request this is also the RFC 8785 (JCS) form, and what ``JSON.stringify`` gives for a key-sorted object.

:func:`parse_request` reads untrusted bytes: at most :data:`MAX_REQUEST_BYTES`, strict UTF-8, JSON nested at most
:data:`MAX_DEPTH` levels, no duplicate keys (readers disagree on which one wins), no fractional numbers, one
object at the top; then the schema; then, by default, the bytes must be exactly the canonical form of the parsed
request (so that what the portal stores, what the person saw and what was signed are one text). Every failure
is a :class:`~.problems.RegistrationRequestError` with field problems, never another exception.

Exports: canonical_json, parse_request, MAX_REQUEST_BYTES, MAX_DEPTH.
"""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import BaseModel

from signagent.errors import InvalidInputError, InvalidTypeError

from .problems import PROBLEM_CODES, FieldProblem, RegistrationRequestError, format_path
from .schema import EmployeeRegistration, EntrepreneurRegistration, HeadRegistration, validate_request

__all__ = ["MAX_DEPTH", "MAX_REQUEST_BYTES", "canonical_json", "parse_request"]

#: The largest request accepted, in bytes (1 MiB; a real request is a few kilobytes).
MAX_REQUEST_BYTES = 1 << 20
#: The deepest nesting of arrays and objects accepted (the format itself needs 5).
MAX_DEPTH = 16

_SURROGATE = re.compile(r"[\ud800-\udfff]")
_TOKENS = re.compile(r'\\.|["\[\]{}]', re.S)  # an escape (skipped inside strings), a quote, a bracket


def _canonical_value(value: Any, path: list[str | int]) -> Any:
    """``value`` with None-valued object members dropped, checked to hold only what canonical JSON allows."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise InvalidInputError(situation="unknown_kind", kind=f"key {key!r} at {format_path(path) or '/'}",
                                        known="object keys are strings")
            if item is not None:
                out[key] = _canonical_value(item, [*path, key])
        return out
    if isinstance(value, list | tuple):
        return [_canonical_value(item, [*path, i]) for i, item in enumerate(value)]
    if value is None or isinstance(value, str | bool | int):
        return value
    raise InvalidInputError(situation="unknown_kind", kind=f"{type(value).__name__} at {format_path(path) or '/'}",
                            known="canonical JSON holds strings, booleans, integers, lists and objects")


def canonical_json(obj: HeadRegistration | EntrepreneurRegistration | EmployeeRegistration | dict[str, Any]
                   ) -> bytes:
    """The canonical JSON bytes of a request model, or of a plain dict as given.

    A dict is serialized without validation (tests build invalid requests this way); None members are dropped
    like absent optional fields; a float, or any value JSON does not have, raises :class:`InvalidInputError`.
    """
    if isinstance(obj, BaseModel):
        data = obj.model_dump(mode="python", exclude_none=True)
    elif isinstance(obj, dict):
        data = obj
    else:
        raise InvalidTypeError(f"a registration request model or a dict, not {type(obj).__name__}",
                               message_ru="нужна модель запроса на регистрацию или словарь")
    text = json.dumps(_canonical_value(data, []), sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate in a dict's string
        raise InvalidInputError(situation="unknown_kind", kind="lone surrogate in a string",
                                known="canonical JSON is UTF-8 text") from None


class _Fraction(str):
    """A fractional JSON number, kept as its text so that the schema rejects it where it stands."""

    __slots__ = ()


class _Duplicated(dict):  # type: ignore[type-arg]
    """A JSON object in which some key occurred more than once (``duplicates`` names them)."""

    duplicates: list[str]


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    duplicates: list[str] = []
    for key, value in pairs:
        if key in out and key not in duplicates:
            duplicates.append(key)
        out[key] = value
    if not duplicates:
        return out
    marked = _Duplicated(out)
    marked.duplicates = duplicates
    return marked


def _fraction(text: str) -> _Fraction:
    return _Fraction(text)


class _NotJson(ValueError):
    pass


def _bad_constant(name: str) -> None:
    raise _NotJson(name)


def _problem(code: str, path: str = "", detail: str = "", detail_ru: str = "") -> FieldProblem:
    en, ru = PROBLEM_CODES[code]
    return FieldProblem(path, code, en + (f": {detail}" if detail else ""),
                        ru + (f": {detail_ru}" if detail_ru else ""))


def _too_deep(text: str) -> bool:
    """Whether arrays and objects nest deeper than :data:`MAX_DEPTH` (one linear pass, strings skipped)."""
    depth = 0
    in_string = False
    for piece in _TOKENS.findall(text):
        if piece == '"':
            in_string = not in_string
        elif in_string or piece[0] == "\\":
            continue
        elif piece in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return True
        else:
            depth -= 1
    return False


def _structure_problems(value: Any, path: list[str | int], out: list[FieldProblem]) -> None:
    """Duplicate keys and fractional numbers anywhere in parsed JSON."""
    if isinstance(value, _Duplicated):
        for key in value.duplicates:
            out.append(_problem("duplicate_key", format_path([*path, key]), f"the key {key!r} occurs more than once",
                                f"ключ {key!r} встречается больше одного раза"))
    if isinstance(value, dict):
        for key, item in value.items():
            if _SURROGATE.search(key):
                out.append(_problem("bad_characters", format_path([*path, key]), "a key holds a lone surrogate",
                                    "ключ содержит одиночный суррогат"))
            _structure_problems(item, [*path, key], out)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _structure_problems(item, [*path, i], out)
    elif isinstance(value, _Fraction):
        out.append(_problem("number_not_allowed", format_path(path)))


def _load(data: bytes) -> Any:
    """Parsed JSON of untrusted bytes, or :class:`RegistrationRequestError`."""
    if len(data) > MAX_REQUEST_BYTES:
        raise RegistrationRequestError([_problem("too_large", "", f"{len(data)} bytes, the limit is "
                                                 f"{MAX_REQUEST_BYTES}", f"{len(data)} байт при пределе "
                                                 f"{MAX_REQUEST_BYTES}")])
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RegistrationRequestError([_problem("not_utf8", "", f"invalid byte at offset {exc.start}",
                                                 f"недопустимый байт по смещению {exc.start}")]) from None
    if _too_deep(text):
        raise RegistrationRequestError([_problem("too_deep", "", f"more than {MAX_DEPTH} levels",
                                                 f"больше {MAX_DEPTH} уровней")])
    try:
        value = json.loads(text, object_pairs_hook=_pairs, parse_float=_fraction, parse_constant=_bad_constant)
    except json.JSONDecodeError as exc:
        raise RegistrationRequestError([_problem("json_invalid", "", f"{exc.msg} at line {exc.lineno} column "
                                                 f"{exc.colno}", f"{exc.msg}, строка {exc.lineno}, столбец "
                                                 f"{exc.colno}")]) from None
    except _NotJson as exc:
        raise RegistrationRequestError([_problem("json_invalid", "", f"{exc} is not a JSON value",
                                                 f"{exc} -- не значение JSON")]) from None
    except (ValueError, RecursionError) as exc:  # an integer of thousands of digits
        raise RegistrationRequestError([_problem("json_invalid", "", str(exc)[:200], str(exc)[:200])]) from None
    if not isinstance(value, dict):
        raise RegistrationRequestError([_problem("not_object")])
    problems: list[FieldProblem] = []
    _structure_problems(value, [], problems)
    if problems:
        raise RegistrationRequestError(problems)
    return value


def parse_request(data: bytes, *, require_canonical: bool = True
                  ) -> HeadRegistration | EntrepreneurRegistration | EmployeeRegistration:
    """The registration request in ``data`` (signed bytes, untrusted), or :class:`RegistrationRequestError`.

    With ``require_canonical`` (the default, what a verifier uses) the bytes must equal :func:`canonical_json` of
    the parsed request; otherwise any JSON layout of a valid request is accepted.
    """
    if isinstance(data, bytearray | memoryview):
        data = bytes(data)
    if not isinstance(data, bytes):
        raise InvalidTypeError(situation="not_bytes", what="registration request", type=type(data).__name__)
    request = validate_request(_load(data))
    if require_canonical and canonical_json(request) != data:
        raise RegistrationRequestError([_problem("not_canonical", "", "sorted keys, no whitespace outside strings, "
                                                 "absent optional fields omitted, UTF-8 without escapes",
                                                 "ключи по порядку, без пробелов вне строк, без отсутствующих "
                                                 "необязательных полей, UTF-8 без экранирования")])
    return request

"""Check digits of Russian registration numbers: ИНН, ОГРН, ОГРНИП, СНИЛС.

The algorithms are the published ones (facts, not code, taken from):

* ИНН (taxpayer number) -- Приказ ФНС № ММВ-7-6/435@ (29.06.2012), annex: a 10-digit organisation INN has one
  check digit, a 12-digit personal INN two; each is (sum of digit * weight) mod 11, then mod 10.
* ОГРН (13 digits) -- Постановление Правительства № 438 (19.06.2002): the check digit is the last digit of the
  remainder of the first 12 digits (as a number) divided by 11.
* ОГРНИП (15 digits) -- same rule with the first 14 digits divided by 13.
* СНИЛС (11 digits) -- Постановление Правления ПФР № 190п (2005): digits 1..9 weighted 9..1; a sum below 100 is
  the control number, 100 and 101 give 00, a larger sum is reduced mod 101 (and 100 again gives 00). Numbers up
  to 001-001-998 were issued before the rule and carry no meaningful control number.

Every ``check_*`` function returns ``None`` for a good number, or a problem kind: ``"not_digits"``,
``"length"`` or ``"checksum"`` (stable strings other layers put into reason codes). ``complete_*`` appends the
check digits to a body, for test data.

Note: "mod 11, then mod 10" maps the remainders 0 and 10 to the same digit (and СНИЛС maps 0 and 100 to 00), so
a small share of single-digit typos keeps a valid check digit; that is a property of the published algorithms.
"""

from __future__ import annotations

from ..errors import InvalidInputError

__all__ = [
    "check_inn",
    "check_inn10",
    "check_inn12",
    "check_ogrn",
    "check_ogrnip",
    "check_snils",
    "complete_inn10",
    "complete_inn12",
    "complete_ogrn",
    "complete_ogrnip",
    "complete_snils",
    "is_valid_inn",
    "is_valid_ogrn",
    "is_valid_ogrnip",
    "is_valid_snils",
]

_INN10_WEIGHTS = (2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN12_WEIGHTS_1 = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN12_WEIGHTS_2 = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)

# СНИЛС numbers up to this one (001-001-998) predate the control-number rule.
_SNILS_UNCHECKED_MAX = 1001998


def _digits(body: str) -> list[int]:
    return [ord(c) - 48 for c in body]


def _weighted(body: str, weights: tuple[int, ...]) -> str:
    return str(sum(d * w for d, w in zip(_digits(body), weights, strict=True)) % 11 % 10)


def _shape(value: str, lengths: tuple[int, ...]) -> str | None:
    # str.isdigit() accepts other Unicode digits ("٣", "²"); only ASCII digits are valid here.
    if not value or not all("0" <= c <= "9" for c in value):
        return "not_digits"
    if len(value) not in lengths:
        return "length"
    return None


def _require_body(body: str, length: int, what: str) -> None:
    if _shape(body, (length,)) is not None:
        raise InvalidInputError(situation="checksum_body", what=what, length=length, body=repr(body))


def complete_inn10(body: str) -> str:
    """The 10-digit organisation INN whose first nine digits are ``body``."""
    _require_body(body, 9, "INN")
    return body + _weighted(body, _INN10_WEIGHTS)


def complete_inn12(body: str) -> str:
    """The 12-digit personal INN whose first ten digits are ``body``."""
    _require_body(body, 10, "INN")
    first = body + _weighted(body, _INN12_WEIGHTS_1)
    return first + _weighted(first, _INN12_WEIGHTS_2)


def complete_ogrn(body: str) -> str:
    """The 13-digit ОГРН whose first twelve digits are ``body``."""
    _require_body(body, 12, "OGRN")
    return body + str(int(body) % 11 % 10)


def complete_ogrnip(body: str) -> str:
    """The 15-digit ОГРНИП whose first fourteen digits are ``body``."""
    _require_body(body, 14, "OGRNIP")
    return body + str(int(body) % 13 % 10)


def _snils_control(body: str) -> int:
    total = sum(d * w for d, w in zip(_digits(body), range(9, 0, -1), strict=True))
    if total > 101:
        total %= 101
    return 0 if total in (100, 101) else total


def complete_snils(body: str) -> str:
    """The 11-digit СНИЛС (no separators) whose first nine digits are ``body``."""
    _require_body(body, 9, "SNILS")
    return body + f"{_snils_control(body):02d}"


def check_inn10(value: str) -> str | None:
    """Problem kind of a 10-digit organisation INN, or None when it is valid."""
    problem = _shape(value, (10,))
    if problem is None and complete_inn10(value[:9]) != value:
        problem = "checksum"
    return problem


def check_inn12(value: str) -> str | None:
    """Problem kind of a 12-digit personal INN, or None when it is valid."""
    problem = _shape(value, (12,))
    if problem is None and complete_inn12(value[:10]) != value:
        problem = "checksum"
    return problem


def check_inn(value: str) -> str | None:
    """Problem kind of an INN of either length (10: organisation, 12: person), or None when it is valid."""
    problem = _shape(value, (10, 12))
    if problem is not None:
        return problem
    return check_inn10(value) if len(value) == 10 else check_inn12(value)


def check_ogrn(value: str) -> str | None:
    """Problem kind of a 13-digit ОГРН, or None when it is valid."""
    problem = _shape(value, (13,))
    if problem is None and complete_ogrn(value[:12]) != value:
        problem = "checksum"
    return problem


def check_ogrnip(value: str) -> str | None:
    """Problem kind of a 15-digit ОГРНИП, or None when it is valid."""
    problem = _shape(value, (15,))
    if problem is None and complete_ogrnip(value[:14]) != value:
        problem = "checksum"
    return problem


def check_snils(value: str) -> str | None:
    """Problem kind of an 11-digit СНИЛС (no separators), or None when it is valid.

    Numbers up to 001-001-998 are accepted whatever their last two digits (they predate the control number).
    """
    problem = _shape(value, (11,))
    if problem is None and int(value[:9]) > _SNILS_UNCHECKED_MAX and complete_snils(value[:9]) != value:
        problem = "checksum"
    return problem


def is_valid_inn(value: str) -> bool:
    """True for a well-formed 10- or 12-digit INN with correct check digits."""
    return check_inn(value) is None


def is_valid_ogrn(value: str) -> bool:
    """True for a well-formed 13-digit ОГРН with a correct check digit."""
    return check_ogrn(value) is None


def is_valid_ogrnip(value: str) -> bool:
    """True for a well-formed 15-digit ОГРНИП with a correct check digit."""
    return check_ogrnip(value) is None


def is_valid_snils(value: str) -> bool:
    """True for a well-formed 11-digit СНИЛС with a correct control number."""
    return check_snils(value) is None

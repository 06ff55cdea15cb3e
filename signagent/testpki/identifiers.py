"""Russian registration numbers with correct check digits, for made-up test identities.

Each function takes the number without its check digit(s) and returns the complete number. The rules are those the
tax service and the pension fund publish (the same ones every validator of ИНН/ОГРН/СНИЛС implements):

* ИНН of a legal entity (10 digits): check = sum(weights 2,4,10,3,5,9,4,6,8 * digits 1-9) mod 11 mod 10;
* ИНН of a person (12 digits): digit 11 with weights 7,2,4,10,3,5,9,4,6,8 over digits 1-10, digit 12 with
  weights 3,7,2,4,10,3,5,9,4,6,8 over digits 1-11, each mod 11 mod 10;
* ОГРН (13 digits): the first 12 digits as a number mod 11, then mod 10;
* ОГРНИП (15 digits): the first 14 digits as a number mod 13, then mod 10;
* СНИЛС (11 digits): weights 9..1 over digits 1-9; a sum below 100 is the check number, 100 and 101 give 00, a
  larger sum is taken mod 101 first (100 again giving 00). Numbers up to 001-001-998 have no check rule.

Exports: inn_legal_entity, inn_person, ogrn, ogrnip, snils.
"""

from __future__ import annotations

from ..errors import InvalidInputError

__all__ = ["inn_legal_entity", "inn_person", "ogrn", "ogrnip", "snils"]


def _digits(prefix: str, length: int, what: str) -> list[int]:
    if not isinstance(prefix, str) or len(prefix) != length or not prefix.isascii() or not prefix.isdigit():
        raise InvalidInputError(f"{what}: expected {length} digits, got {prefix!r}")
    return [int(ch) for ch in prefix]


def _weighted(digits: list[int], weights: tuple[int, ...]) -> int:
    return sum(d * w for d, w in zip(digits, weights, strict=True)) % 11 % 10


def inn_legal_entity(first9: str) -> str:
    """Complete a 10-digit ИНН of a legal entity from its first 9 digits."""
    d = _digits(first9, 9, "ИНН ЮЛ")
    return first9 + str(_weighted(d, (2, 4, 10, 3, 5, 9, 4, 6, 8)))


def inn_person(first10: str) -> str:
    """Complete a 12-digit personal ИНН from its first 10 digits."""
    d = _digits(first10, 10, "ИНН ФЛ")
    c11 = _weighted(d, (7, 2, 4, 10, 3, 5, 9, 4, 6, 8))
    c12 = _weighted([*d, c11], (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8))
    return f"{first10}{c11}{c12}"


def ogrn(first12: str) -> str:
    """Complete a 13-digit ОГРН from its first 12 digits."""
    _digits(first12, 12, "ОГРН")
    return first12 + str(int(first12) % 11 % 10)


def ogrnip(first14: str) -> str:
    """Complete a 15-digit ОГРНИП from its first 14 digits."""
    _digits(first14, 14, "ОГРНИП")
    return first14 + str(int(first14) % 13 % 10)


def snils(first9: str) -> str:
    """Complete an 11-digit СНИЛС (no separators) from its first 9 digits."""
    d = _digits(first9, 9, "СНИЛС")
    if int(first9) <= 1001998:
        raise InvalidInputError("СНИЛС numbers up to 001-001-998 have no check digits; choose a larger one")
    total = sum(digit * weight for digit, weight in zip(d, range(9, 0, -1), strict=True))
    if total > 101:
        total %= 101
    check = 0 if total in (100, 101) else total
    return f"{first9}{check:02d}"

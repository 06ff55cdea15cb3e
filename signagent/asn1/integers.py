"""INTEGER values from untrusted input, made safe to show and to bound.

An ASN.1 INTEGER (X.690 clause 8.3) has no size limit: a 10 kB certificate can carry a serial number of 20,000
decimal digits, and Python refuses ``str()`` of an int above 4,300 digits (ValueError, CVE-2020-10735), in a
message, an f-string or ``json.dumps`` alike. So every integer read from a certificate, a request or a key file
goes through :func:`int_text` (for people) or :func:`jsonable_int` (for JSON) before it is shown, and integers
whose meaning bounds them (a version, a salt length, an iteration count) are checked with :func:`bounded_int`.

Exports: MAX_EXACT_BITS, int_text, jsonable_int, bounded_int.
"""

from __future__ import annotations

from signagent.errors import IntegerTooLargeError

__all__ = ["MAX_EXACT_BITS", "bounded_int", "int_text", "jsonable_int"]

#: Integers up to this many bits are shown exactly (in decimal, 309 digits at most): far more than any genuine
#: value of a certificate (serials are at most 160 bits, RFC 5280 section 4.1.2.2) and far below the 4,300-digit
#: (about 14,000-bit) limit of ``str()``.
MAX_EXACT_BITS = 1024

# How many leading hex digits an oversized integer keeps in its display form.
_HEAD_DIGITS = 32


def int_text(value: int) -> str:
    """``value`` in decimal, or for an integer over :data:`MAX_EXACT_BITS` bits an abbreviated hex form that says
    how large it is: ``0x1F2E...(66439-bit integer)``."""
    if value.bit_length() <= MAX_EXACT_BITS:
        return str(value)
    sign = "-" if value < 0 else ""
    head = format(abs(value), "x")[:_HEAD_DIGITS]
    return f"{sign}0x{head}...({value.bit_length()}-bit integer)"


def jsonable_int(value: int) -> int | str:
    """``value`` itself when JSON can carry it as a number (:data:`MAX_EXACT_BITS` bits at most), else the text of
    :func:`int_text` (``json.dumps`` of a larger int would raise)."""
    return value if value.bit_length() <= MAX_EXACT_BITS else int_text(value)


def bounded_int(value: int, maximum: int, what: str, what_ru: str, minimum: int = 0) -> int:
    """``value`` when ``minimum <= value <= maximum``; IntegerTooLargeError naming ``what`` otherwise (also for a
    value below ``minimum``: a negative size is as impossible as a huge one)."""
    if minimum <= value <= maximum:
        return value
    shown = int_text(value)
    raise IntegerTooLargeError(what=what, what_ru=what_ru, value=shown, minimum=minimum, maximum=maximum)

"""Strict DER (X.690 clause 10-11) for the structures that are signed as bytes: certificates, CRLs, OCSP
responses, certification requests.

RFC 5280 section 4.1 (and RFC 6960 section 4.2.1, RFC 2986 section 4) require DER, and a signature covers the
bytes the signer produced. asn1crypto is a BER reader: it takes an indefinite length (0x80), non-minimal length
forms, trailing elements of a SEQUENCE and anything after the value inside an EXPLICIT wrapper, and its
``dump()`` of such a value is a *re-encoding*, not the bytes received. A verifier that checks a signature over
that re-encoding accepts tampered structures. So, before asn1crypto sees a signed structure:

1. :func:`check_der` walks the TLVs (without recursion) and requires one element and nothing after it, definite
   minimal lengths (X.690 10.1), minimal tags, no end-of-contents, primitive strings (10.2), minimal INTEGERs
   (8.3.2), DER BOOLEANs (11.1), BIT STRINGs with zero padding bits (11.2), NULL without contents (8.8.2), UTCTime
   and GeneralizedTime in the DER forms (11.7, 11.8), and a nesting depth of at most :data:`MAX_DEPTH` (a genuine
   certificate is about 12 deep; a hostile one 4,000 deep exhausts asn1crypto's recursion);
2. :func:`check_canonical` requires asn1crypto's DER re-encoding of the parsed value to equal the input: this
   catches what the TLV walk cannot see -- junk after a value inside an EXPLICIT wrapper, extra elements of a
   SEQUENCE, DEFAULT values encoded (11.5), SET OF elements out of order (11.6);
3. :func:`sequence_elements` gives the elements of the outer SEQUENCE as the bytes received, so that signatures
   are verified over the TBS exactly as read (never ``dump()``).

:func:`require_der` is 1 + 2 in one call (what cms/pkcs10.py uses for certification requests).

Errors: :class:`~signagent.errors.NotDerError` (``not_der``) and
:class:`~signagent.errors.NestingTooDeepError` (``nesting_too_deep``); callers may ask for subclasses.

Exports: check_der, check_canonical, require_der, sequence_elements, received_encoding, walk_elements, MAX_DEPTH.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from signagent.errors import NestingTooDeepError, NotDerError

from .failures import PARSE_ERRORS

__all__ = [
    "MAX_DEPTH",
    "check_canonical",
    "check_der",
    "received_encoding",
    "require_der",
    "sequence_elements",
    "walk_elements",
]

#: Deepest nesting of constructed elements accepted. A certificate of the state PKI nests about 12 levels
#: (Certificate > TBS > extensions > ... > GeneralName); a CMS with certificates inside adds about 8.
MAX_DEPTH = 64

_UNIVERSAL, _CONSTRUCTED = 0x00, 0x20
_BOOLEAN, _INTEGER, _BIT_STRING, _NULL, _OID, _ENUMERATED = 1, 2, 3, 5, 6, 10
_UTC_TIME, _GENERALIZED_TIME = 23, 24
# Universal string types (and OCTET/BIT STRING): DER allows only the primitive form (X.690 10.2).
_STRING_TAGS = frozenset({3, 4, 12, 18, 19, 20, 21, 22, 25, 26, 27, 28, 30})
_UTC_FORM = re.compile(rb"\d{12}Z")
_GENERALIZED_FORM = re.compile(rb"\d{14}(?:\.\d*[1-9])?Z")


def _fail(what: str, problem: str, problem_ru: str, offset: int,
          error: type[NotDerError] = NotDerError) -> NotDerError:
    return error(situation="at_offset", what=what, problem=problem, problem_ru=problem_ru, offset=offset)


class _Header:
    """Identifier and length octets of one element."""

    __slots__ = ("constructed", "content", "end", "klass", "number")

    def __init__(self, klass: int, constructed: bool, number: int, content: int, end: int) -> None:
        self.klass, self.constructed, self.number, self.content, self.end = klass, constructed, number, content, end


def _read_header(data: bytes, pos: int, limit: int, what: str, error: type[NotDerError]) -> _Header:
    """The element starting at ``pos`` that must end by ``limit``; strict about every octet of its header."""
    start = pos
    if limit - pos < 2:
        raise _fail(what, "truncated element", "обрезанный элемент", start, error)
    first = data[pos]
    pos += 1
    number = first & 0x1F
    if number == 0x1F:  # high-tag-number form (X.690 8.1.2.4): base-128, no leading 0x80, only for tags >= 31
        if data[pos] == 0x80:
            raise _fail(what, "non-minimal tag number", "неминимальный номер тега", start, error)
        number = 0
        while True:
            if pos >= limit or pos - start > 4:
                raise _fail(what, "malformed tag", "неверный тег", start, error)
            octet = data[pos]
            pos += 1
            number = (number << 7) | (octet & 0x7F)
            if not octet & 0x80:
                break
        if number < 0x1F:
            raise _fail(what, "non-minimal tag number", "неминимальный номер тега", start, error)
    if pos >= limit:
        raise _fail(what, "truncated element", "обрезанный элемент", start, error)
    length = data[pos]
    pos += 1
    if length == 0x80:
        raise _fail(what, "indefinite length (0x80)", "неопределённая длина (0x80)", start, error)
    if length > 0x80:
        count = length & 0x7F
        if count > 4 or limit - pos < count:
            raise _fail(what, "length field too long or truncated", "поле длины слишком длинное или обрезано",
                        start, error)
        raw = data[pos:pos + count]
        pos += count
        length = int.from_bytes(raw, "big")
        # X.690 10.1: the definite form with the fewest octets -- short form below 128, no leading zero octet.
        if length < 0x80 or raw[0] == 0:
            raise _fail(what, "non-minimal length", "неминимальная длина", start, error)
    if length > limit - pos:
        raise _fail(what, f"length {length} runs past the end of its container",
                    f"длина {length} выходит за границу объемлющего элемента", start, error)
    klass = first & 0xC0
    constructed = bool(first & _CONSTRUCTED)
    if klass == _UNIVERSAL and number == 0:
        raise _fail(what, "end-of-contents octets", "октеты конца содержимого", start, error)
    return _Header(klass, constructed, number, pos, pos + length)


def _check_primitive(data: bytes, h: _Header, what: str, error: type[NotDerError]) -> None:
    """DER rules for the contents of the universal primitive types that certificates use."""
    body = data[h.content:h.end]
    n = h.number
    if n in (_INTEGER, _ENUMERATED):
        if not body or (len(body) > 1 and ((body[0] == 0 and body[1] < 0x80) or (body[0] == 0xFF and body[1] >= 0x80))):
            raise _fail(what, "empty or non-minimal INTEGER", "пустое или неминимальное INTEGER", h.content, error)
    elif n == _BOOLEAN:
        if body not in (b"\x00", b"\xff"):
            raise _fail(what, "BOOLEAN other than 00 or FF", "BOOLEAN не 00 и не FF", h.content, error)
    elif n == _NULL:
        if body:
            raise _fail(what, "NULL with contents", "NULL с содержимым", h.content, error)
    elif n == _BIT_STRING:
        if not body or body[0] > 7 or (len(body) == 1 and body[0]) or (
                body[0] and body[-1] & ((1 << body[0]) - 1)):
            raise _fail(what, "malformed BIT STRING padding", "неверное дополнение BIT STRING", h.content, error)
    elif n == _OID:
        if not body or body[-1] & 0x80 or any(body[i] == 0x80 and (i == 0 or not body[i - 1] & 0x80)
                                              for i in range(len(body))):
            raise _fail(what, "malformed OBJECT IDENTIFIER", "неверный OBJECT IDENTIFIER", h.content, error)
    elif n == _UTC_TIME:
        if not _UTC_FORM.fullmatch(body):
            raise _fail(what, "UTCTime not in the form YYMMDDHHMMSSZ", "UTCTime не в форме YYMMDDHHMMSSZ",
                        h.content, error)
    elif n == _GENERALIZED_TIME:
        if not _GENERALIZED_FORM.fullmatch(body):
            raise _fail(what, "GeneralizedTime not in the form YYYYMMDDHHMMSS[.f]Z",
                        "GeneralizedTime не в форме YYYYMMDDHHMMSS[.f]Z", h.content, error)


def walk_elements(data: bytes, *, what: str = "the structure", max_depth: int = MAX_DEPTH,
                  error: type[NotDerError] = NotDerError,
                  too_deep: type[NestingTooDeepError] = NestingTooDeepError) -> Iterator[tuple[int, int, int, int]]:
    """Check ``data`` as exactly one strict DER element and yield ``(depth, tag octet, start, end)`` of every
    element in document order. Iterative: a hostile nesting never reaches Python's recursion limit."""
    data = bytes(data)
    if not data:
        raise _fail(what, "no data", "нет данных", 0, error)
    first = _read_header(data, 0, len(data), what, error)
    if first.end != len(data):
        raise _fail(what, f"{len(data) - first.end} byte(s) after the outer element",
                    f"{len(data) - first.end} байт после внешнего элемента", first.end, error)
    stack: list[tuple[int, int]] = []  # (position of the next child, end) of each open constructed element
    pending = [(0, first)]
    while pending:
        start, h = pending.pop()
        depth = len(stack)
        yield depth, data[start], start, h.end
        if not h.constructed:
            if h.klass == _UNIVERSAL:
                _check_primitive(data, h, what, error)
        else:
            if h.klass == _UNIVERSAL and h.number in _STRING_TAGS:
                raise _fail(what, "constructed string", "составная строка", start, error)
            if depth + 1 >= max_depth:
                raise too_deep(what=what, what_ru=what, limit=max_depth, offset=start)
            stack.append((h.content, h.end))
        # the next element: the first child of a constructed one just opened, or a sibling, or a parent's sibling
        while stack:
            pos, end = stack[-1]
            if pos < end:
                child = _read_header(data, pos, end, what, error)
                stack[-1] = (child.end, end)
                pending.append((pos, child))
                break
            stack.pop()


def check_der(data: bytes, *, what: str = "the structure", max_depth: int = MAX_DEPTH,
              error: type[NotDerError] = NotDerError,
              too_deep: type[NestingTooDeepError] = NestingTooDeepError) -> None:
    """Raise ``error`` (NotDerError) unless ``data`` is exactly one element in strict DER, ``too_deep``
    (NestingTooDeepError) when it nests deeper than ``max_depth``. See the module documentation for the rules."""
    for _ in walk_elements(data, what=what, max_depth=max_depth, error=error, too_deep=too_deep):
        pass


def check_canonical(value: Any, data: bytes, *, what: str = "the structure",
                    error: type[NotDerError] = NotDerError) -> Any:
    """Raise ``error`` unless asn1crypto's DER re-encoding of ``data`` parsed as ``value`` (an asn1crypto type)
    equals ``data`` byte for byte; return that parsed value.

    The re-encoding is made on a fresh parse. Give a spec that leaves OID-dependent values undecoded
    (:mod:`signagent.asn1.opaque_specs`): asn1crypto's own specs decode them on re-encoding, and some real values
    do not match those specs (they are judged where they are used).
    """
    data = bytes(data)
    try:
        parsed = value.load(data, strict=True)
        again = parsed.dump(force=True)
    except PARSE_ERRORS as exc:
        detail = " ".join(str(exc).split("\n")[0].split()) or type(exc).__name__
        raise error(situation="not_reencodable", what=what, detail=detail) from None
    if again != data:
        offset = next((i for i, (a, b) in enumerate(zip(again, data, strict=False)) if a != b),
                      min(len(again), len(data)))
        raise _fail(what, "an element that DER encodes differently (extra or misplaced data, a DEFAULT value "
                    "encoded, SET OF out of order)", "элемент, который в DER кодируется иначе (лишние данные, "
                    "явно закодированное значение DEFAULT, неупорядоченный SET OF)", offset, error)
    return parsed


def require_der(data: bytes, spec: Any = None, *, what: str = "the structure", max_depth: int = MAX_DEPTH,
                error: type[NotDerError] = NotDerError,
                too_deep: type[NestingTooDeepError] = NestingTooDeepError) -> None:
    """:func:`check_der`, then (when ``spec``, an asn1crypto type, is given) :func:`check_canonical`."""
    check_der(data, what=what, max_depth=max_depth, error=error, too_deep=too_deep)
    if spec is not None:
        check_canonical(spec, data, what=what, error=error)


def sequence_elements(data: bytes, *, what: str = "the structure",
                      error: type[NotDerError] = NotDerError) -> list[bytes]:
    """The elements of the outer SEQUENCE of ``data``, each as the exact bytes received (header included).

    Only the outer level is checked here (strict headers, nothing after the SEQUENCE); call :func:`check_der`
    for the rest.
    """
    data = bytes(data)
    if not data or data[0] != 0x30:
        raise _fail(what, "not a SEQUENCE", "не SEQUENCE", 0, error)
    outer = _read_header(data, 0, len(data), what, error)
    if outer.end != len(data):
        raise _fail(what, f"{len(data) - outer.end} byte(s) after the outer element",
                    f"{len(data) - outer.end} байт после внешнего элемента", outer.end, error)
    out = []
    pos = outer.content
    while pos < outer.end:
        child = _read_header(data, pos, outer.end, what, error)
        out.append(data[pos:child.end])
        pos = child.end
    return out


def received_encoding(value: Any) -> bytes:
    """The encoding of an asn1crypto value as it was read -- header, contents and any BER end-of-contents octets --
    for a value parsed out of a larger structure and not modified since.

    ``dump()`` is not that: asn1crypto re-encodes a value whose length was indefinite, so a BER certificate inside
    a BER-tolerant container (a CMS, a PKCS#7 bundle) would come out as DER and pass a DER check it fails.
    """
    header = getattr(value, "_header", None)
    if header is None:  # built in memory, never read: its encoding is what it dumps
        return bytes(value.dump())
    return bytes(header) + bytes(value.contents or b"") + bytes(getattr(value, "_trailer", b"") or b"")

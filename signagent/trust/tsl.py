"""The official list of accredited certification authorities (the e-trust.gosuslugi.ru "TSL" XML).

Structure (qualified-profile.md section 4; element names as the four public parsers cited there agree)::

    АккредитованныеУдостоверяющиеЦентры
      Версия, Дата
      УдостоверяющийЦентр*                  Название, КраткоеНазвание, ЭлектроннаяПочта, ИНН, ОГРН,
                                            РеестровыйНомер, СтатусАккредитации/{Статус, ДействуетС}
        ПрограммноАппаратныеКомплексы/ПрограммноАппаратныйКомплекс*     Псевдоним
          КлючиУполномоченныхЛиц/Ключ*      ИдентификаторКлюча, АдресаСписковОтзыва/Адрес*
            Сертификаты/ДанныеСертификата*  Отпечаток (SHA-1), КемВыдан, КомуВыдан, СерийныйНомер,
                                            ПериодДействияС, ПериодДействияДо, Данные (base64 DER)

The file is parsed as a stream with the standard library's expat: only one УдостоверяющийЦентр subtree is held
in memory at a time. The list is not a trusted source by itself (whether it is signed was not verified), so the
parser is defensive: a DOCTYPE or any entity declaration is refused (no external entities, no entity expansion
bombs), an encoding declaration expat cannot use is a format error, and everything that costs memory or time is
bounded while streaming -- the size of the file, the number of elements (in the whole list and in one CA), the
text of one node and of one CA, and the nesting depth -- each with its own error code (``input_too_large``,
``too_many_elements``, ``nesting_too_deep``; all of them are also TslFormatError). A broken certificate inside an
otherwise good list is reported in ``problems`` and skipped.

Exports: parse_tsl, TslDocument, TslCa, TslCertificate, TslTooLargeError, TslTooManyElementsError,
TslNestingTooDeepError, ROOT_ELEMENT, MAX_TSL_BYTES, MAX_ELEMENTS, MAX_CA_ELEMENTS, MAX_DEPTH.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO
from xml.etree.ElementTree import Element, TreeBuilder
from xml.parsers import expat

from signagent.errors import (
    FileAccessError,
    InputTooLargeError,
    NestingTooDeepError,
    SignAgentError,
    TooManyElementsError,
    TslFormatError,
)
from signagent.fileio import hardened_xml_parser, open_input

ROOT_ELEMENT = "АккредитованныеУдостоверяющиеЦентры"
CA_ELEMENT = "УдостоверяющийЦентр"
ACTIVE_STATUS = "действует"

# Bounds, each with a wide margin over the real list (about 1,100 CA certificates of ~600 CAs with their status
# history: some 50,000 elements, a few to some tens of MB -- no copy was at hand to measure; the bound on elements
# is what bounds time and memory, the byte cap only a runaway download). A probe's 32 MB list of 8 M empty
# elements took 35 s and 729 MB under the former 256 MiB cap alone.
MAX_TSL_BYTES = 64 << 20
#: Elements in the whole list (~20 times the real count) and in one УдостоверяющийЦентр (the one subtree held in
#: memory at a time; the largest CA has a few hundred certificates of ~10 elements each).
MAX_ELEMENTS = 1_000_000
MAX_CA_ELEMENTS = 50_000
#: One certificate in base64 is ~3 kB: no text node needs more than 1 MiB, no CA more than 16 Mi characters.
MAX_TEXT_BYTES = 1 << 20
MAX_CA_TEXT = 16 << 20
#: The list's schema nests 9 levels; parsing refuses more than this.
MAX_DEPTH = 32
_CHUNK = 1 << 20


class TslTooLargeError(TslFormatError, InputTooLargeError):
    """The list (or one text node, or one CA's text) is larger than its cap."""

    code = InputTooLargeError.code


class TslTooManyElementsError(TslFormatError, TooManyElementsError):
    """The list (or one CA) has more elements than its cap."""

    code = TooManyElementsError.code


class TslNestingTooDeepError(TslFormatError, NestingTooDeepError):
    """Elements nest deeper than :data:`MAX_DEPTH`."""

    code = NestingTooDeepError.code


@dataclass(frozen=True)
class TslCertificate:
    """One CA certificate of the list, with the CRL addresses of its key."""

    der: bytes
    declared_sha1: str
    subject_text: str = ""
    issuer_text: str = ""
    serial: str = ""
    valid_from: str = ""
    valid_to: str = ""
    key_id: str = ""
    crl_urls: tuple[str, ...] = ()
    pak_alias: str = ""

    @property
    def sha1(self) -> str:
        """SHA-1 thumbprint computed from the certificate bytes (upper-case hex, as CryptoPro shows it)."""
        return hashlib.sha1(self.der).hexdigest().upper()  # noqa: S324  (a thumbprint, not a security hash)

    @property
    def thumbprint_matches(self) -> bool:
        """Whether the list's Отпечаток equals the SHA-1 of its Данные (an absent Отпечаток counts as a match)."""
        return not self.declared_sha1 or self.declared_sha1 == self.sha1

    def to_dict(self) -> dict[str, object]:
        """JSON-ready summary (without the certificate bytes)."""
        return {"sha1": self.sha1, "subject": self.subject_text, "issuer": self.issuer_text, "serial": self.serial,
                "valid_from": self.valid_from, "valid_to": self.valid_to, "key_id": self.key_id,
                "crl_urls": list(self.crl_urls), "pak_alias": self.pak_alias}


@dataclass(frozen=True)
class TslCa:
    """One accredited certification authority (УдостоверяющийЦентр)."""

    name: str
    short_name: str = ""
    ogrn: str = ""
    inn: str = ""
    registry_number: str = ""
    email: str = ""
    status: str = ""
    status_since: str = ""
    certificates: tuple[TslCertificate, ...] = ()

    @property
    def is_active(self) -> bool:
        """True when the accreditation status is "Действует" (in force)."""
        return self.status.strip().casefold() == ACTIVE_STATUS

    def to_dict(self) -> dict[str, object]:
        """JSON-ready summary."""
        return {"name": self.name, "short_name": self.short_name, "ogrn": self.ogrn, "inn": self.inn,
                "registry_number": self.registry_number, "email": self.email, "status": self.status,
                "status_since": self.status_since, "active": self.is_active,
                "certificates": [c.to_dict() for c in self.certificates]}


@dataclass(frozen=True)
class TslDocument:
    """The parsed list: its version and date, the CAs, and the entries that had to be skipped."""

    version: int | None
    date: str
    cas: tuple[TslCa, ...]
    problems: tuple[str, ...] = ()


def _fail(problem: str, problem_ru: str, kind: type[TslFormatError] = TslFormatError) -> TslFormatError:
    return kind(f"accredited-CA list: {problem}", message_ru=f"список аккредитованных УЦ: {problem_ru}")


def _local(name: str) -> str:
    # Elements carry no namespace in the published list; tolerate a prefixed copy all the same.
    return name.rsplit("}", 1)[-1].rsplit(":", 1)[-1]


def _text(element: Element, path: str) -> str:
    return (element.findtext(path) or "").strip()


def _ca_from_element(element: Element, problems: list[str]) -> TslCa:
    name = _text(element, "Название")
    certificates: list[TslCertificate] = []
    for pak in element.iterfind("ПрограммноАппаратныеКомплексы/ПрограммноАппаратныйКомплекс"):
        alias = _text(pak, "Псевдоним")
        for key in pak.iterfind("КлючиУполномоченныхЛиц/Ключ"):
            key_id = _text(key, "ИдентификаторКлюча").lower()
            urls = tuple(dict.fromkeys(
                (a.text or "").strip() for a in key.iterfind("АдресаСписковОтзыва/Адрес") if (a.text or "").strip()))
            for data in key.iterfind("Сертификаты/ДанныеСертификата"):
                declared = re.sub(r"[\s:]", "", _text(data, "Отпечаток")).upper()
                try:
                    der = base64.b64decode(re.sub(r"\s+", "", _text(data, "Данные")), validate=True)
                except (binascii.Error, ValueError):
                    der = b""
                if der[:1] != b"\x30":
                    problems.append(f"{name or '?'}: certificate {declared or '?'} has no readable Данные")
                    continue
                certificates.append(TslCertificate(
                    der=der, declared_sha1=declared, subject_text=_text(data, "КомуВыдан"),
                    issuer_text=_text(data, "КемВыдан"), serial=_text(data, "СерийныйНомер").upper(),
                    valid_from=_text(data, "ПериодДействияС"), valid_to=_text(data, "ПериодДействияДо"),
                    key_id=key_id, crl_urls=urls, pak_alias=alias))
    return TslCa(
        name=name, short_name=_text(element, "КраткоеНазвание"), ogrn=_text(element, "ОГРН"),
        inn=_text(element, "ИНН"), registry_number=_text(element, "РеестровыйНомер"),
        email=_text(element, "ЭлектроннаяПочта"), status=_text(element, "СтатусАккредитации/Статус"),
        status_since=_text(element, "СтатусАккредитации/ДействуетС"), certificates=tuple(certificates))


class _Reader:
    """Expat callbacks: checks the shape, builds one CA subtree at a time."""

    def __init__(self) -> None:
        self.depth = 0
        self.seen_root = False
        self.builder: TreeBuilder | None = None
        self.text_size = 0
        self.top_field: str | None = None
        self.top_text: list[str] = []
        self.version: int | None = None
        self.date = ""
        self.cas: list[TslCa] = []
        self.problems: list[str] = []
        self.elements = 0
        self.ca_elements = 0
        self.ca_text = 0

    def start(self, name: str, _attributes: dict) -> None:
        name = _local(name)
        self.depth += 1
        self.text_size = 0
        self.elements += 1
        if self.depth > MAX_DEPTH:
            raise _fail(f"elements nested deeper than {MAX_DEPTH}", f"вложенность глубже {MAX_DEPTH}",
                        TslNestingTooDeepError)
        if self.elements > MAX_ELEMENTS:
            raise _fail(f"more than {MAX_ELEMENTS} elements", f"больше {MAX_ELEMENTS} элементов",
                        TslTooManyElementsError)
        if self.builder is not None:
            self.ca_elements += 1
            if self.ca_elements > MAX_CA_ELEMENTS:
                raise _fail(f"a CA element holds more than {MAX_CA_ELEMENTS} elements",
                            f"в элементе УЦ больше {MAX_CA_ELEMENTS} элементов", TslTooManyElementsError)
        if self.depth == 1:
            if name != ROOT_ELEMENT:
                raise _fail(f"root element is <{name}>, expected <{ROOT_ELEMENT}>",
                            f"корневой элемент <{name}> вместо <{ROOT_ELEMENT}>")
            self.seen_root = True
        elif self.depth == 2:
            if name == CA_ELEMENT:
                self.builder = TreeBuilder()
                self.ca_elements = self.ca_text = 0
            elif name in ("Версия", "Дата"):
                self.top_field, self.top_text = name, []
        if self.builder is not None:
            self.builder.start(name, {})

    def data(self, text: str) -> None:
        self.text_size += len(text)
        if self.text_size > MAX_TEXT_BYTES:
            raise _fail(f"a text node is longer than {MAX_TEXT_BYTES} characters",
                        f"текстовый узел длиннее {MAX_TEXT_BYTES} символов", TslTooLargeError)
        if self.builder is not None:
            self.ca_text += len(text)
            if self.ca_text > MAX_CA_TEXT:
                raise _fail(f"a CA element holds more than {MAX_CA_TEXT} characters of text",
                            f"в элементе УЦ больше {MAX_CA_TEXT} символов текста", TslTooLargeError)
            self.builder.data(text)
        elif self.top_field is not None:
            self.top_text.append(text)

    def end(self, name: str) -> None:
        name = _local(name)
        self.text_size = 0
        if self.builder is not None:
            self.builder.end(name)
            if self.depth == 2:
                self.cas.append(_ca_from_element(self.builder.close(), self.problems))
                self.builder = None
        elif self.depth == 2 and self.top_field is not None:
            value = "".join(self.top_text).strip()
            if self.top_field == "Версия":
                # Digits only, and few of them: int() of a 1 MiB digit string would cost time, and str() of the
                # result would raise beyond 4,300 digits.
                if not re.fullmatch(r"[0-9]{1,18}", value):
                    raise _fail(f"Версия {value[:40]!r} is not an integer of at most 18 digits",
                                f"Версия {value[:40]!r} не является числом (не более 18 цифр)")
                self.version = int(value)
            else:
                self.date = value
            self.top_field = None
        self.depth -= 1


def _refuse_doctype(*_args: object) -> None:
    raise _fail("a DOCTYPE or entity declaration is not allowed", "объявления DOCTYPE и сущностей запрещены")


def _new_parser(reader: _Reader) -> expat.XMLParserType:
    # nothing in a legitimate list needs a DTD, entities or external resources
    parser = hardened_xml_parser(_refuse_doctype)
    parser.StartElementHandler = reader.start
    parser.EndElementHandler = reader.end
    parser.CharacterDataHandler = reader.data
    parser.buffer_text = True
    return parser


def parse_tsl(source: str | Path | bytes | BinaryIO, max_bytes: int = MAX_TSL_BYTES) -> TslDocument:
    """Parse the accredited-CA list from a path, bytes or a binary stream, streaming, in bounded memory.

    Raises :class:`~signagent.errors.TslFormatError` for anything that is not such a list (not XML, an encoding
    expat cannot read, another root element, a DOCTYPE/entities), its subclasses :class:`TslTooLargeError` (more
    than ``max_bytes``, or a text over its cap), :class:`TslTooManyElementsError` and
    :class:`TslNestingTooDeepError` for the other bounds, :class:`~signagent.errors.FileAccessError` when the file
    cannot be read and :class:`~signagent.errors.NotRegularFileError` for a FIFO or a device.
    """
    reader = _Reader()
    parser = _new_parser(reader)
    with contextlib.ExitStack() as stack:
        if isinstance(source, bytes | bytearray | memoryview):
            stream: BinaryIO = io.BytesIO(bytes(source))
        elif isinstance(source, str | Path):
            stream = stack.enter_context(open_input(source))  # regular files only: a FIFO never blocks us
        else:
            stream = source
        _feed(parser, stream, max_bytes)
    if not reader.seen_root:
        raise _fail("empty document", "пустой документ")
    return TslDocument(version=reader.version, date=reader.date, cas=tuple(reader.cas),
                       problems=tuple(reader.problems))


def _feed(parser: expat.XMLParserType, stream: BinaryIO, max_bytes: int) -> None:
    """Stream ``stream`` through ``parser``, at most ``max_bytes`` of it; every failure as a TslFormatError."""
    total = 0
    try:
        while True:
            try:
                chunk = stream.read(_CHUNK)
            except OSError as exc:
                raise FileAccessError(situation="read_failed", what="list", what_ru="список",
                                      error=exc.strerror or exc) from None
            total += len(chunk)
            if total > max_bytes:
                raise _fail(f"larger than {max_bytes} bytes", f"размер больше {max_bytes} байт", TslTooLargeError)
            parser.Parse(chunk, not chunk)
            if not chunk:
                break
    except SignAgentError:
        raise
    except expat.ExpatError as exc:
        raise _fail(f"not well-formed XML (line {exc.lineno}, column {exc.offset}): {expat.ErrorString(exc.code)}",
                    f"некорректный XML (строка {exc.lineno}, позиция {exc.offset})") from None
    except (LookupError, ValueError, UnicodeError) as exc:
        # An encoding declaration expat hands to Python's codecs: unknown ("x-unknown": LookupError) or not a
        # single-byte one (ValueError). XML 1.0 section 4.3.3: a processor may refuse encodings it does not know.
        reason = " ".join(str(exc).split())[:200]
        raise _fail(f"the declared encoding cannot be read ({reason})",
                    f"объявленная кодировка не поддерживается ({reason})") from None

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

The real file is tens of MB, so it is parsed as a stream with the standard library's expat: only one
УдостоверяющийЦентр subtree is held in memory at a time. The list is not a trusted source by itself (whether it
is signed was not verified), so the parser is defensive: a DOCTYPE or any entity declaration is refused (no
external entities, no entity expansion bombs), and the size of the file, of any text node and the nesting depth
are bounded. A broken certificate inside an otherwise good list is reported in ``problems`` and skipped.

Exports: parse_tsl, TslDocument, TslCa, TslCertificate, ROOT_ELEMENT, MAX_TSL_BYTES.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO
from xml.etree.ElementTree import Element, TreeBuilder
from xml.parsers import expat

from signagent.errors import FileAccessError, TslFormatError

ROOT_ELEMENT = "АккредитованныеУдостоверяющиеЦентры"
CA_ELEMENT = "УдостоверяющийЦентр"
ACTIVE_STATUS = "действует"

# The real list is ~30-60 MB (about 1,100 CA certificates and their history); 256 MiB leaves room to grow while
# refusing a runaway download. One certificate in base64 is ~3 kB; no text node needs more than 1 MiB.
MAX_TSL_BYTES = 256 << 20
MAX_TEXT_BYTES = 1 << 20
MAX_DEPTH = 32
_CHUNK = 1 << 20


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


def _fail(problem: str, problem_ru: str) -> TslFormatError:
    return TslFormatError(f"accredited-CA list: {problem}",
                          message_ru=f"список аккредитованных УЦ: {problem_ru}")


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

    def start(self, name: str, _attributes: dict) -> None:
        name = _local(name)
        self.depth += 1
        self.text_size = 0
        if self.depth > MAX_DEPTH:
            raise _fail(f"elements nested deeper than {MAX_DEPTH}", f"вложенность глубже {MAX_DEPTH}")
        if self.depth == 1:
            if name != ROOT_ELEMENT:
                raise _fail(f"root element is <{name}>, expected <{ROOT_ELEMENT}>",
                            f"корневой элемент <{name}> вместо <{ROOT_ELEMENT}>")
            self.seen_root = True
        elif self.depth == 2:
            if name == CA_ELEMENT:
                self.builder = TreeBuilder()
            elif name in ("Версия", "Дата"):
                self.top_field, self.top_text = name, []
        if self.builder is not None:
            self.builder.start(name, {})

    def data(self, text: str) -> None:
        self.text_size += len(text)
        if self.text_size > MAX_TEXT_BYTES:
            raise _fail(f"a text node is longer than {MAX_TEXT_BYTES} characters",
                        f"текстовый узел длиннее {MAX_TEXT_BYTES} символов")
        if self.builder is not None:
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
                try:
                    self.version = int(value)
                except ValueError:
                    raise _fail(f"Версия {value[:40]!r} is not an integer",
                                f"Версия {value[:40]!r} не является числом") from None
            else:
                self.date = value
            self.top_field = None
        self.depth -= 1


def _refuse_doctype(*_args: object) -> None:
    raise _fail("a DOCTYPE or entity declaration is not allowed", "объявления DOCTYPE и сущностей запрещены")


def _new_parser(reader: _Reader) -> expat.XMLParserType:
    parser = expat.ParserCreate()
    # defusedxml-style hardening: nothing in a legitimate list needs a DTD, entities or external resources.
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartDoctypeDeclHandler = _refuse_doctype
    parser.EntityDeclHandler = _refuse_doctype
    parser.UnparsedEntityDeclHandler = _refuse_doctype
    parser.ExternalEntityRefHandler = _refuse_doctype
    parser.StartElementHandler = reader.start
    parser.EndElementHandler = reader.end
    parser.CharacterDataHandler = reader.data
    parser.buffer_text = True
    return parser


def _open(source: str | Path | bytes | BinaryIO) -> tuple[BinaryIO, bool]:
    if isinstance(source, bytes | bytearray | memoryview):
        return io.BytesIO(bytes(source)), True
    if isinstance(source, str | Path):
        try:
            return open(source, "rb"), True  # closed by parse_tsl
        except OSError as exc:
            raise FileAccessError(f"cannot read {source}: {exc.strerror or exc}",
                                  message_ru=f"не удаётся прочитать файл {source}", path=str(source)) from None
    return source, False


def parse_tsl(source: str | Path | bytes | BinaryIO, max_bytes: int = MAX_TSL_BYTES) -> TslDocument:
    """Parse the accredited-CA list from a path, bytes or a binary stream, streaming, in bounded memory.

    Raises :class:`~signagent.errors.TslFormatError` for anything that is not such a list (not XML, another root
    element, a DOCTYPE/entities, more than ``max_bytes``) and :class:`~signagent.errors.FileAccessError` when the
    file cannot be read.
    """
    reader = _Reader()
    parser = _new_parser(reader)
    stream, owned = _open(source)
    total = 0
    try:
        while True:
            try:
                chunk = stream.read(_CHUNK)
            except OSError as exc:
                raise FileAccessError(f"cannot read the list: {exc.strerror or exc}",
                                      message_ru="не удаётся прочитать список") from None
            total += len(chunk)
            if total > max_bytes:
                raise _fail(f"larger than {max_bytes} bytes", f"размер больше {max_bytes} байт")
            parser.Parse(chunk, not chunk)
            if not chunk:
                break
    except expat.ExpatError as exc:
        raise _fail(f"not well-formed XML (line {exc.lineno}, column {exc.offset}): {expat.ErrorString(exc.code)}",
                    f"некорректный XML (строка {exc.lineno}, позиция {exc.offset})") from None
    finally:
        if owned:
            stream.close()
    if not reader.seen_root:
        raise _fail("empty document", "пустой документ")
    return TslDocument(version=reader.version, date=reader.date, cas=tuple(reader.cas),
                       problems=tuple(reader.problems))

"""ЕГРЮЛ / ЕГРИП: the register interface the portal verifier asks, and a reader of extracts in the ФНС XML format.

A portal registers an organisation only for a person who may act for it without a power of attorney (ЕГРЮЛ) or
for the entrepreneur themself (ЕГРИП). :class:`Registry` is what the verifier asks; a real portal plugs its own
register access (СМЭВ, a paid API) behind it. :class:`ExtractRegistry` answers from extracts in the ФНС XML
format, as the ФНС publishes them:

* bulk files (formats 4.0x): ``Файл`` -> ``Документ`` -> ``СвЮЛ`` (ЕГРЮЛ) or ``СвИП`` (ЕГРИП), windows-1251;
* the СМЭВ answers ``FNSVipULResponse`` -> ``СвЮЛ`` and ``FNSVipIPResponse`` -> ``СвИП``, with namespaces
  (elements are matched by local name, so any prefix or namespace version reads the same).

What is read (qualified-profile.md section 5): ``СвЮЛ @ОГРН @ИНН @КПП @ДатаВып``, ``СвНаимЮЛ @НаимЮЛПолн`` and
``СвНаимЮЛСокр @НаимСокр``, the legal address ``СвАдресЮЛ`` (ФИАС or КЛАДР form, as one informational line),
the persons who may act without a power of attorney -- the direct children ``СвЮЛ/СведДолжнФЛ``, each
``СвФЛ @Фамилия @Имя @Отчество? @ИННФЛ?`` + ``СвДолжн @НаимДолжн`` -- and a managing organisation ``СвУпрОрг``.
Founders and participants (``СвУчредит/…/СвФЛ``) have the same shape and are never read as heads: only the
path ``СвЮЛ/СведДолжнФЛ/СвФЛ`` makes a head. ЕГРИП: ``СвИП @ОГРНИП @ИННФЛ`` with ``СвФЛ/ФИОРус``.

Decisions (the verifier follows them; its reason codes say which one applied):

* **Names** (:func:`names_equal`): Unicode NFC, case-insensitive (``casefold``: the register writes upper case,
  certificates mixed case), whitespace collapsed, and **Ё equals Е** -- the register and the certificate often
  differ only in it (one copies a passport with Ё, the other writes Е), and the personal ИНН, which must match
  too, keeps a namesake out.
* **A person** (:func:`person_matches`): surname equal, the certificate's given names (``G`` = "Имя Отчество")
  equal the register's name followed by its patronymic (just the name when the register has no patronymic), and
  the personal ИНН present on both sides and equal. A register entry **without ИННФЛ never matches** (ИННФЛ is
  recorded only "при наличии"): a name alone does not tell the head from a namesake employee whose certificate
  carries the same company's ОГРН, so the verifier refuses and says the register lacks the ИНН.
* **Disputed** (``СвНедДанДолжнФЛ``: the ФНС marked the entry unreliable) and **disqualified** (``СвДискв``
  whose end date is not before the extract's date) persons are kept as heads with their flag set;
  :func:`person_matches` compares identity only, and the verifier refuses a match whose entry is flagged, with a
  reason of its own, rather than accept a person the register itself doubts.
* **A managing organisation** (``СвУпрОрг``): the organisation is run by another legal entity, whose own head
  acts for it (that head is in the managing organisation's ЕГРЮЛ entry, not in this one). The first ``СвУпрОрг``
  is reported in ``managing_organisation``. A person listed in ``СведДолжнФЛ`` still matches as usual; when no
  head matches and a managing organisation is recorded, the verifier says so (not a plain mismatch): this chain
  is not verified automatically, the portal checks it by hand.
* A liquidated organisation or a ceased entrepreneur (``СвПрекрЮЛ`` / ``СвПрекрИП``) is in an extract but not
  an acting one: :func:`load_extract` returns it, :class:`ExtractRegistry` leaves it out of its lookups.
* The same ОГРН (or ИНН, ОГРНИП) in several extracts: the record with the latest ``ДатаВып`` wins (the last one
  loaded on a tie).

Hostile input: the standard library's expat reads the stream in 1 MiB chunks and only one record's subtree is
held at a time. A DOCTYPE or any entity declaration is refused before anything is expanded (no entity bombs,
no external entities), the size of one extract is capped (:data:`MAX_EXTRACT_BYTES`, 64 MiB: ФНС bulk files are
split well below), and so are the nesting depth, the elements and the text of one record. The declared
encoding is honoured: pyexpat reads any single-byte Python codec, windows-1251 included; an encoding it cannot
use is a format error. Every refusal is an :class:`ExtractFormatError` (code ``egr_extract_invalid``, or the
project-wide ``input_too_large`` / ``nesting_too_deep`` / ``too_many_elements`` in a subclass of it), never a
traceback.

Exports: AuthorizedPerson, ManagingOrganisation, LegalEntityRecord, EntrepreneurRecord, Registry, ExtractRegistry,
ExtractFormatError, load_extract, names_equal, person_matches, demo_registry, MAX_EXTRACT_BYTES.
"""

from __future__ import annotations

import contextlib
import io
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import BinaryIO, Protocol, runtime_checkable
from xml.etree.ElementTree import Element, TreeBuilder
from xml.parsers import expat

from signagent.errors import (
    FileAccessError,
    InvalidInputError,
    NestingTooDeepError,
    SignAgentError,
    TooManyElementsError,
    UsageError,
    error_of_kind,
    too_large_error,
)
from signagent.fileio import hardened_xml_parser, open_input

__all__ = [
    "MAX_EXTRACT_BYTES",
    "AuthorizedPerson",
    "EntrepreneurRecord",
    "ExtractFormatError",
    "ExtractRegistry",
    "LegalEntityRecord",
    "ManagingOrganisation",
    "Registry",
    "demo_registry",
    "load_extract",
    "names_equal",
    "person_matches",
]

#: The largest extract read (bytes). ФНС bulk files come split into parts of a few MB each.
MAX_EXTRACT_BYTES = 64 << 20
#: The formats nest some 8 levels; more is not an extract.
MAX_DEPTH = 64
#: Elements and text characters of one record (a big company's СвЮЛ has a few thousand elements).
MAX_RECORD_ELEMENTS = 200_000
MAX_RECORD_TEXT = 1 << 20
_CHUNK = 1 << 20

_ROOTS = ("Файл", "FNSVipULResponse", "FNSVipIPResponse")
_RECORD_PARENTS = ("Документ", "FNSVipULResponse", "FNSVipIPResponse")
_RECORDS = ("СвЮЛ", "СвИП")
_DEMO_FILES = ("egrul-romashka-test.xml", "egrip-sidorov.xml")

_OGRN = re.compile(r"[0-9]{13}")
_OGRNIP = re.compile(r"[0-9]{15}")
_INN_LE = re.compile(r"[0-9]{10}")
_INN_PERSON = re.compile(r"[0-9]{12}")
_KPP = re.compile(r"[0-9]{4}[0-9A-Z]{2}[0-9]{3}")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class ExtractFormatError(InvalidInputError):
    """An ЕГРЮЛ/ЕГРИП extract that cannot be read: not XML, a DOCTYPE or entities, an encoding expat cannot use,
    another root element or format version, a record without a required attribute or with a malformed number.

    The ``situation`` detail says which (``not_xml``, ``doctype``, ``encoding``, ``unknown_format``, ``version``,
    ``missing_attribute``, ``bad_value``); ``path`` names the file when there is one. An extract over a cap
    raises a subclass of this class with the project-wide code of that situation (``input_too_large``,
    ``nesting_too_deep``, ``too_many_elements``), so ``except ExtractFormatError`` catches every refusal.
    """

    code = "egr_extract_invalid"


_TooLarge = too_large_error(ExtractFormatError)
_TooDeep = error_of_kind(NestingTooDeepError, ExtractFormatError)
_TooMany = error_of_kind(TooManyElementsError, ExtractFormatError)
_WHAT = {"what": "ЕГРЮЛ/ЕГРИП extract", "what_ru": "выписка ЕГРЮЛ/ЕГРИП"}


# -- records ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuthorizedPerson:
    """A person who may act for a legal entity without a power of attorney (one ``СвЮЛ/СведДолжнФЛ``).

    Names as the register writes them (mostly upper case); ``inn`` is the personal ИНН (ИННФЛ), absent when the
    register has none; ``position`` is ``СвДолжн @НаимДолжн``; ``disputed`` -- the ФНС marked the entry unreliable
    (``СвНедДанДолжнФЛ``); ``disqualified`` -- a disqualification (``СвДискв``) not over at the extract's date.
    """

    surname: str
    name: str
    patronymic: str | None
    inn: str | None
    position: str | None
    disputed: bool
    disqualified: bool


@dataclass(frozen=True)
class ManagingOrganisation:
    """A legal entity that runs the organisation in place of a person (``СвУпрОрг``); ОГРН/ИНН absent for a
    foreign one."""

    ogrn: str | None
    inn: str | None
    full_name: str


@dataclass(frozen=True)
class LegalEntityRecord:
    """One ЕГРЮЛ record (``СвЮЛ``): identifiers, names, the legal address as one line, the persons who may act
    without a power of attorney (``heads``, in the register's order), a managing organisation, ``ДатаВып``."""

    ogrn: str
    inn: str
    kpp: str | None
    full_name: str
    short_name: str | None
    address: str | None
    heads: tuple[AuthorizedPerson, ...]
    managing_organisation: ManagingOrganisation | None
    extract_date: str | None


@dataclass(frozen=True)
class EntrepreneurRecord:
    """One ЕГРИП record (``СвИП``): ОГРНИП, the personal ИНН, the name (``СвФЛ/ФИОРус``) and ``ДатаВып``."""

    ogrnip: str
    inn: str
    surname: str
    name: str
    patronymic: str | None
    extract_date: str | None


_Record = LegalEntityRecord | EntrepreneurRecord


@runtime_checkable
class Registry(Protocol):
    """What the verifier asks the register. Each lookup takes either key or both (then a record must have both);
    None when nothing matches, :class:`~signagent.errors.UsageError` when no key is given. A real portal
    implements it over its own register access (runtime-checkable: ``isinstance(x, Registry)``)."""

    def legal_entity(self, *, ogrn: str | None = None, inn: str | None = None) -> LegalEntityRecord | None:
        """The acting legal entity with this ОГРН and/or ИНН ЮЛ, or None."""
        ...

    def entrepreneur(self, *, ogrnip: str | None = None, inn: str | None = None) -> EntrepreneurRecord | None:
        """The acting entrepreneur with this ОГРНИП and/or personal ИНН, or None."""
        ...


# -- matching --------------------------------------------------------------------------------------------------


def _fold(value: str) -> str:
    folded = unicodedata.normalize("NFC", value).casefold().replace("ё", "е")
    return " ".join(folded.split())


def names_equal(a: str, b: str) -> bool:
    """Whether two names are the same name: case-insensitive, Ё equal to Е, whitespace collapsed (NFC first)."""
    return _fold(a) == _fold(b)


def person_matches(person: AuthorizedPerson, *, surname: str, given_names: str, inn: str | None) -> bool:
    """Whether a certificate's owner (surname ``SN``, given names ``G`` = "Имя Отчество", personal ИНН) is
    ``person``. The ИНН must be present on both sides and equal (a register entry without ИННФЛ never matches);
    the disputed/disqualified flags are not looked at here (the verifier reports them separately)."""
    if person.inn is None or inn is None or person.inn.strip() != inn.strip():
        return False
    register_given = person.name if not person.patronymic else f"{person.name} {person.patronymic}"
    return names_equal(person.surname, surname) and names_equal(register_given, given_names)


# -- parsing ---------------------------------------------------------------------------------------------------


def _fail(situation: str, path: str | None, **details: object) -> ExtractFormatError:
    if path is not None:
        details["path"] = path
    return ExtractFormatError(situation=situation, **details)


def _local(name: str) -> str:
    # With namespace processing expat reports "uri local"; an unprefixed name has no space.
    return name.rpartition(" ")[2]


def _attr(el: Element, name: str) -> str | None:
    value = el.get(name)
    if value is None:
        return None
    value = " ".join(value.split())
    return value or None


class _RecordReader:
    """Turns one record's subtree (local names only) into a record; raises ExtractFormatError naming the place."""

    def __init__(self, path: str | None, ordinal: int) -> None:
        self.path = path
        self.ordinal = ordinal

    def required(self, el: Element, name: str, where: str) -> str:
        value = _attr(el, name)
        if value is None:
            raise _fail("missing_attribute", self.path, record=self.ordinal, element=where, attribute=name)
        return value

    def checked(self, value: str | None, pattern: re.Pattern[str], where: str, name: str, problem: str) -> str | None:
        if value is not None and not pattern.fullmatch(value):
            raise _fail("bad_value", self.path, record=self.ordinal, element=where, attribute=name,
                        value=value[:40], problem=problem)
        return value

    def legal_entity(self, el: Element) -> LegalEntityRecord:
        ogrn = self.checked(self.required(el, "ОГРН", "СвЮЛ"), _OGRN, "СвЮЛ", "ОГРН", "13 digits")
        inn = self.checked(self.required(el, "ИНН", "СвЮЛ"), _INN_LE, "СвЮЛ", "ИНН", "10 digits")
        kpp = self.checked(_attr(el, "КПП"), _KPP, "СвЮЛ", "КПП", "9 characters")
        names = el.find("СвНаимЮЛ")
        if names is None:
            raise _fail("missing_attribute", self.path, record=self.ordinal, element="СвЮЛ/СвНаимЮЛ",
                        attribute="НаимЮЛПолн")
        full_name = self.required(names, "НаимЮЛПолн", "СвЮЛ/СвНаимЮЛ")
        short = names.find("СвНаимЮЛСокр")
        # Formats before 4.05 carry the short name as an attribute of СвНаимЮЛ.
        short_name = _attr(short, "НаимСокр") if short is not None else _attr(names, "НаимЮЛСокр")
        extract_date = _attr(el, "ДатаВып")
        heads = tuple(self.head(h, extract_date) for h in el.findall("СведДолжнФЛ"))
        managing = el.find("СвУпрОрг")
        assert ogrn is not None and inn is not None
        return LegalEntityRecord(ogrn=ogrn, inn=inn, kpp=kpp, full_name=full_name, short_name=short_name,
                                 address=_address(el.find("СвАдресЮЛ")), heads=heads,
                                 managing_organisation=self.managing(managing) if managing is not None else None,
                                 extract_date=extract_date)

    def head(self, el: Element, extract_date: str | None) -> AuthorizedPerson:
        where = "СвЮЛ/СведДолжнФЛ/СвФЛ"
        person = el.find("СвФЛ")
        if person is None:
            raise _fail("missing_attribute", self.path, record=self.ordinal, element=where, attribute="Фамилия")
        inn = self.checked(_attr(person, "ИННФЛ"), _INN_PERSON, where, "ИННФЛ", "12 digits")
        position = el.find("СвДолжн")
        title = None if position is None else _attr(position, "НаимДолжн") or _attr(position, "НаимВидДолжн")
        # The unreliability mark is a child of СведДолжнФЛ; searched below it all, wherever a version puts it.
        disputed = el.find(".//СвНедДанДолжнФЛ") is not None
        disqualified = any(_disqualification_current(d, extract_date) for d in el.iter("СвДискв"))
        return AuthorizedPerson(surname=self.required(person, "Фамилия", where),
                                name=self.required(person, "Имя", where), patronymic=_attr(person, "Отчество"),
                                inn=inn, position=title, disputed=disputed, disqualified=disqualified)

    def managing(self, el: Element) -> ManagingOrganisation:
        # 4.0x: <СвУпрОрг><НаимИННЮЛ ОГРН ИНН НаимЮЛПолн/>...; the short СМЭВ form puts the attributes on СвУпрОрг.
        named = el.find("НаимИННЮЛ")
        source = named if named is not None else el
        where = "СвЮЛ/СвУпрОрг/НаимИННЮЛ" if named is not None else "СвЮЛ/СвУпрОрг"
        return ManagingOrganisation(ogrn=_attr(source, "ОГРН"), inn=_attr(source, "ИНН"),
                                    full_name=self.required(source, "НаимЮЛПолн", where))

    def entrepreneur(self, el: Element) -> EntrepreneurRecord:
        ogrnip = self.checked(self.required(el, "ОГРНИП", "СвИП"), _OGRNIP, "СвИП", "ОГРНИП", "15 digits")
        inn = self.checked(self.required(el, "ИННФЛ", "СвИП"), _INN_PERSON, "СвИП", "ИННФЛ", "12 digits")
        where = "СвИП/СвФЛ/ФИОРус"
        fio = el.find("СвФЛ/ФИОРус")
        if fio is None:
            raise _fail("missing_attribute", self.path, record=self.ordinal, element=where, attribute="Фамилия")
        assert ogrnip is not None and inn is not None
        return EntrepreneurRecord(ogrnip=ogrnip, inn=inn, surname=self.required(fio, "Фамилия", where),
                                  name=self.required(fio, "Имя", where), patronymic=_attr(fio, "Отчество"),
                                  extract_date=_attr(el, "ДатаВып"))


def _disqualification_current(el: Element, extract_date: str | None) -> bool:
    """A disqualification counts unless its end date is known to be before the extract's date."""
    end = _attr(el, "ДатаОкончДискв")
    if end is None or extract_date is None or not (_ISO_DATE.fullmatch(end) and _ISO_DATE.fullmatch(extract_date)):
        return True
    return end >= extract_date


def _address(el: Element | None) -> str | None:
    """The legal address as one informational line: the ФИАС form (4.06+) when present, else the КЛАДР form."""
    if el is None:
        return None
    parts: list[str] = []
    fias = el.find("СвАдрЮЛФИАС")
    kladr = el.find("АдресРФ")
    if fias is not None:
        parts += [_attr(fias, "Индекс") or ""]
        for child in fias:
            if child.tag == "НаимРегион":
                parts.append(" ".join((child.text or "").split()))
            elif child.tag in ("МуниципРайон", "ГородСелПоселен", "НаселенПункт", "ЭлПланСтруктур", "ЭлУлДорСети",
                               "Здание", "ПомещЗдания", "ПомещКвартиры"):
                kind = _attr(child, "Тип") or _attr(child, "Вид")
                parts.append(" ".join(p for p in (kind, _attr(child, "Наим") or _attr(child, "Номер")) if p))
    elif kladr is not None:
        parts += [_attr(kladr, "Индекс") or ""]
        for tag in ("Регион", "Район", "Город", "НаселПункт", "Улица"):
            child = kladr.find(tag)
            if child is not None:
                parts.append(" ".join(p for p in (_attr(child, "Тип" + tag), _attr(child, "Наим" + tag)) if p))
        parts += [_attr(kladr, attr) or "" for attr in ("Дом", "Корпус", "Кварт")]
    line = ", ".join(p for p in parts if p)
    return line or None


class _Reader:
    """expat handlers: checks the root, builds one record's subtree at a time, converts it when it closes."""

    def __init__(self, path: str | None) -> None:
        self.path = path
        self.stack: list[str] = []
        self.builder: TreeBuilder | None = None
        self.record_depth = 0
        self.elements = 0
        self.text = 0
        self.ordinal = 0
        self.root: str | None = None
        self.done: list[tuple[_Record, bool]] = []

    def start(self, name: str, attrs: dict[str, str]) -> None:
        local = _local(name)
        if len(self.stack) >= MAX_DEPTH:
            raise _TooDeep(limit=MAX_DEPTH, **_WHAT)
        if not self.stack:
            if local not in _ROOTS:
                raise _fail("unknown_format", self.path, root=local[:80])
            version = attrs.get("ВерсФорм")
            if local == "Файл" and version is not None and not version.strip().startswith("4."):
                raise _fail("version", self.path, version=version[:20])
            self.root = local
        parent = self.stack[-1] if self.stack else None
        self.stack.append(local)
        if self.builder is not None:
            self.elements += 1
            if self.elements > MAX_RECORD_ELEMENTS:
                raise _TooMany(f"an ЕГРЮЛ/ЕГРИП record holds more than {MAX_RECORD_ELEMENTS} elements",
                               message_ru=f"запись ЕГРЮЛ/ЕГРИП содержит больше {MAX_RECORD_ELEMENTS} элементов")
            self.builder.start(local, {_local(k): v for k, v in attrs.items()})
        elif local in _RECORDS and parent in _RECORD_PARENTS:
            self.builder = TreeBuilder()
            self.builder.start(local, {_local(k): v for k, v in attrs.items()})
            self.record_depth = len(self.stack)
            self.elements = self.text = 0
            self.ordinal += 1

    def end(self, name: str) -> None:
        if self.builder is not None:
            self.builder.end(_local(name))
            if len(self.stack) == self.record_depth:
                root = self.builder.close()
                self.builder = None
                reader = _RecordReader(self.path, self.ordinal)
                if root.tag == "СвЮЛ":
                    self.done.append((reader.legal_entity(root), root.find("СвПрекрЮЛ") is not None))
                else:
                    self.done.append((reader.entrepreneur(root), root.find("СвПрекрИП") is not None))
        self.stack.pop()

    def data(self, text: str) -> None:
        if self.builder is not None:
            self.text += len(text)
            if self.text > MAX_RECORD_TEXT:
                raise _TooLarge(limit=MAX_RECORD_TEXT, what="ЕГРЮЛ/ЕГРИП record's text",
                                what_ru="текст записи ЕГРЮЛ/ЕГРИП")
            self.builder.data(text)


def _refuse_doctype(path: str | None) -> Callable[..., None]:
    def refuse(*_args: object) -> None:
        raise _fail("doctype", path)
    return refuse


def _new_parser(reader: _Reader) -> expat.XMLParserType:
    # Nothing in an extract needs a DTD, entities or external resources: refused before any is expanded.
    parser = hardened_xml_parser(_refuse_doctype(reader.path), namespace_separator=" ")
    parser.StartElementHandler = reader.start
    parser.EndElementHandler = reader.end
    parser.CharacterDataHandler = reader.data
    parser.buffer_text = True
    return parser


def _parse(stream: BinaryIO, path: str | None, max_bytes: int) -> Iterator[tuple[_Record, bool]]:
    """Records of one extract with their "terminated" flag, yielded as the stream is read (bounded memory)."""
    reader = _Reader(path)
    parser = _new_parser(reader)
    total = 0
    try:
        while True:
            try:
                chunk = stream.read(_CHUNK)
            except OSError as exc:
                raise FileAccessError(situation="read_failed", what="ЕГРЮЛ/ЕГРИП extract",
                                      what_ru="выписка ЕГРЮЛ/ЕГРИП", error=exc.strerror or exc) from None
            total += len(chunk)
            if total > max_bytes:
                details: dict[str, object] = {"path": path} if path is not None else {}
                raise _TooLarge(limit=max_bytes, **details, **_WHAT)
            parser.Parse(chunk, not chunk)
            yield from reader.done
            reader.done.clear()
            if not chunk:
                break
    except SignAgentError:
        raise
    except expat.ExpatError as exc:
        raise _fail("not_xml", path, line=exc.lineno, column=exc.offset, problem=expat.ErrorString(exc.code)) from None
    except (LookupError, ValueError, UnicodeError) as exc:
        # An encoding declaration expat hands to Python's codecs: unknown (LookupError) or multi-byte (ValueError).
        raise _fail("encoding", path, problem=" ".join(str(exc).split())[:200]) from None
    if reader.root == "Файл" and reader.ordinal == 0:
        # Many ФНС formats share the root Файл (tax returns, reports): one without СвЮЛ/СвИП is not an extract.
        # (A СМЭВ answer without a record is the register's "not found" and reads as no record.)
        raise _fail("unknown_format", path, root="Файл")


def load_extract(data: bytes, *, max_bytes: int = MAX_EXTRACT_BYTES) -> list[LegalEntityRecord | EntrepreneurRecord]:
    """Every record of one extract (bulk file or СМЭВ answer) in document order, liquidated ones included.

    Raises :class:`ExtractFormatError` (or a subclass of it) for anything that is not a readable extract.
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise UsageError("an extract is given as bytes", message_ru="выписка передаётся байтовой строкой")
    return [record for record, _ in _parse(io.BytesIO(bytes(data)), None, max_bytes)]


# -- the registry over extracts --------------------------------------------------------------------------------


def _newer(old: _Record | None, new: _Record) -> bool:
    if old is None:
        return True
    return (new.extract_date or "") >= (old.extract_date or "")


def _key(value: str | None) -> str | None:
    return None if value is None else "".join(value.split())


class ExtractRegistry(Registry):
    """A :class:`Registry` answering from ФНС extracts held in memory (the demo's and a small portal's register).

    Lookups see acting entities only; for one ОГРН / ИНН / ОГРНИП the record with the latest ``ДатаВып`` wins.
    """

    def __init__(self, records: Iterable[LegalEntityRecord | EntrepreneurRecord] = ()) -> None:
        self._le_by_ogrn: dict[str, LegalEntityRecord] = {}
        self._le_by_inn: dict[str, LegalEntityRecord] = {}
        self._ip_by_ogrnip: dict[str, EntrepreneurRecord] = {}
        self._ip_by_inn: dict[str, EntrepreneurRecord] = {}
        for record in records:
            self._add(record)

    def _add(self, record: _Record) -> None:
        if isinstance(record, LegalEntityRecord):
            for index, key in ((self._le_by_ogrn, record.ogrn), (self._le_by_inn, record.inn)):
                if _newer(index.get(key), record):
                    index[key] = record
        else:
            for index_ip, key in ((self._ip_by_ogrnip, record.ogrnip), (self._ip_by_inn, record.inn)):
                if _newer(index_ip.get(key), record):
                    index_ip[key] = record

    @classmethod
    def from_files(cls, paths: Iterable[str | Path], *, max_bytes: int = MAX_EXTRACT_BYTES) -> ExtractRegistry:
        """Read extract files (regular files only, each streamed and capped at ``max_bytes``); errors name the
        file (:class:`ExtractFormatError`, :class:`~signagent.errors.FileAccessError`)."""
        registry = cls()
        for path in paths:
            with contextlib.ExitStack() as stack:
                stream = stack.enter_context(open_input(path))
                for record, terminated in _parse(stream, str(path), max_bytes):
                    if not terminated:
                        registry._add(record)
        return registry

    @classmethod
    def from_bytes(cls, documents: Iterable[bytes], *, max_bytes: int = MAX_EXTRACT_BYTES) -> ExtractRegistry:
        """Read extracts given as bytes (each capped at ``max_bytes``)."""
        registry = cls()
        for data in documents:
            if not isinstance(data, bytes | bytearray | memoryview):
                raise UsageError("an extract is given as bytes", message_ru="выписка передаётся байтовой строкой")
            for record, terminated in _parse(io.BytesIO(bytes(data)), None, max_bytes):
                if not terminated:
                    registry._add(record)
        return registry

    def records(self) -> tuple[LegalEntityRecord | EntrepreneurRecord, ...]:
        """Every record the lookups can return: legal entities by ОГРН, then entrepreneurs by ОГРНИП."""
        les = sorted({id(r): r for r in (*self._le_by_ogrn.values(), *self._le_by_inn.values())}.values(),
                     key=lambda r: (r.ogrn, r.inn))
        ips = sorted({id(r): r for r in (*self._ip_by_ogrnip.values(), *self._ip_by_inn.values())}.values(),
                     key=lambda r: (r.ogrnip, r.inn))
        return (*les, *ips)

    def legal_entity(self, *, ogrn: str | None = None, inn: str | None = None) -> LegalEntityRecord | None:
        """The legal entity with this ОГРН and/or ИНН ЮЛ (the legacy 12-digit "00"+ИНН form too), or None."""
        ogrn, inn = _key(ogrn), _key(inn)
        if inn is not None and len(inn) == 12 and inn.startswith("00"):
            inn = inn[2:]
        if ogrn is None and inn is None:
            raise UsageError("give the ОГРН or the ИНН of the legal entity", message_ru="укажите ОГРН или ИНН")
        found = self._le_by_ogrn.get(ogrn) if ogrn is not None else self._le_by_inn.get(inn or "")
        if found is None or (inn is not None and found.inn != inn):
            return None
        return found

    def entrepreneur(self, *, ogrnip: str | None = None, inn: str | None = None) -> EntrepreneurRecord | None:
        """The entrepreneur with this ОГРНИП and/or personal ИНН, or None."""
        ogrnip, inn = _key(ogrnip), _key(inn)
        if ogrnip is None and inn is None:
            raise UsageError("give the ОГРНИП or the ИНН of the entrepreneur", message_ru="укажите ОГРНИП или ИНН")
        found = self._ip_by_ogrnip.get(ogrnip) if ogrnip is not None else self._ip_by_inn.get(inn or "")
        if found is None or (inn is not None and found.inn != inn):
            return None
        return found


def demo_registry() -> ExtractRegistry:
    """The register of the demo: the test PKI's ООО «Ромашка-Тест» (ЕГРЮЛ) and ИП Сидоров П. А. (ЕГРИП), read
    from the package's ``demo/*.xml`` extracts (ФНС bulk format 4.06, windows-1251)."""
    demo = resources.files(__package__ or "signagent.registration").joinpath("demo")
    return ExtractRegistry.from_bytes(demo.joinpath(name).read_bytes() for name in _DEMO_FILES)

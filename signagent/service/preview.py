"""What is being signed, shown to a person: turn the content a web page asks to sign into a preview.

The agent's confirmation page (DESIGN.md section 5) must show what will be signed. The content comes from an
untrusted web page, so it is hostile input, and the preview must never show something other than what is signed:

* the kind is chosen from the declared content type, then checked against the bytes; when they disagree the
  preview shows what the bytes are and says so (trust nothing, warn on mismatch). The only sniffing done is for
  PDF (bytes starting with ``%PDF-``): such content is rendered as a PDF, with a warning, when its declared
  type is not text or it is not valid text in its encoding (an all-ASCII PDF declared as text is shown as the
  text it is); other content of no previewable type is shown as binary (name, size, hash);
* text is decoded strictly (UTF-8, or the declared ``charset`` when it is one of a few Russian/Latin charsets);
  control characters, bidi overrides and other invisible characters are shown visibly as ``⟦U+202E⟧`` with a
  warning, and long text is cut (``truncated``) rather than copied whole;
* JSON is re-indented, never re-interpreted: keys keep their order, numbers are shown exactly as written,
  duplicate keys (which different readers resolve differently) or nesting deeper than 200 fall back to the
  text as sent, with a warning;
* XML is re-indented with the standard library's expat, refusing any DOCTYPE (no entity expansion, no DTD or
  external entity fetch: billion laughs and XXE); a refused or malformed document is shown as sent;
* PDF pages are rendered with pypdfium2 to PNG (encoded here with zlib, no imaging library needed): at most
  ``max_pages`` pages, each at most 900 x 4000 pixels whatever the page's MediaBox says, progressively within a
  time budget of 10 s per document (a page not finished in time is dropped), under one module-level lock (pdfium
  is not thread-safe), documents, pages and bitmaps closed explicitly;
* a digest-only request shows the digest and a warning that the content cannot be shown.

A preview never fails on bad content: it degrades to "binary" (or raw text) with a warning. Only a caller's
mistake (neither content nor digest, a digest that is not hex) raises :class:`InvalidInputError`.

Exports: Preview, build_preview.
"""

from __future__ import annotations

import codecs
import functools
import json
import math
import re
import struct
import threading
import time
import unicodedata
import zlib
from dataclasses import dataclass
from xml.parsers import expat

import pypdfium2 as pdfium

from signagent.errors import InvalidInputError
from signagent.fileio import hardened_xml_parser
from signagent.gost.streebog import streebog256

__all__ = ["Preview", "build_preview"]

MAX_TEXT_CHARS = 200_000
MAX_TEXT_LINES = 5_000
MAX_JSON_DEPTH = 200
_MAX_FORMAT_BYTES = 2 * 1024 * 1024      # JSON/XML larger than this is shown as sent (cut), not re-indented
_PAGE_WIDTH_PX = 900
_PAGE_MAX_HEIGHT_PX = 4_000
_RENDER_BUDGET_S = 10.0                  # drawing a document's pages stops (and the page is dropped) after this
_MAX_TITLE = 255
_DECODE_CHUNK = 1 << 20

_PDF_MAGIC = b"%PDF-"
_BIDI = frozenset(range(0x202A, 0x202F)) | frozenset(range(0x2066, 0x206A)) | {0x200E, 0x200F, 0x061C}
_CHARSETS = {"utf-8": "utf-8", "utf8": "utf-8", "us-ascii": "utf-8", "ascii": "utf-8",
             "windows-1251": "cp1251", "cp1251": "cp1251", "koi8-r": "koi8-r",
             # what CryptoPro's plug-in signs a string as by default (CADESCOM_STRING_TO_UCS2LE): the cadesplugin
             # layer declares it, so the person reads the text, not its bytes
             "utf-16le": "utf-16-le", "utf-16-le": "utf-16-le"}
_RENDER_LOCK = threading.Lock()


@dataclass(frozen=True)
class Preview:
    """What the confirmation page shows about the content to be signed.

    ``kind`` is one of ``"text"``, ``"json"``, ``"xml"``, ``"pdf"``, ``"binary"``, ``"digest"``. ``title`` is
    the file name given by the page (invisible characters made visible, cut to 255) or ``"document"``.
    ``size`` is the content's length in bytes (None for digest-only). ``digest`` is the lowercase hex of the
    Streebog-256 hash of the content as ``digest()`` returns it (the bytes the CMS messageDigest carries), or the
    digest given for a digest-only request. ``content_type`` is the declared media type, lowercased, without
    parameters. ``text`` is what to show for text/json/xml (pretty-printed, invisible characters made visible);
    ``truncated`` says it was cut to 200,000 characters / 5,000 lines. ``page_count`` and ``pages`` (PNG bytes
    of the first pages) are set for a PDF. ``warning_en``/``warning_ru`` say what the person must know before
    signing (several sentences joined), or are None.
    """

    kind: str
    title: str
    size: int | None
    digest: str
    content_type: str
    text: str | None = None
    truncated: bool = False
    page_count: int | None = None
    pages: tuple[bytes, ...] = ()
    warning_en: str | None = None
    warning_ru: str | None = None


class _Warnings:
    """Warning sentences in both languages, kept in order, joined at the end."""

    def __init__(self) -> None:
        self.en: list[str] = []
        self.ru: list[str] = []

    def add(self, en: str, ru: str) -> None:
        if en not in self.en:
            self.en.append(en)
            self.ru.append(ru)

    def joined(self) -> tuple[str | None, str | None]:
        return (" ".join(self.en) or None, " ".join(self.ru) or None)


def build_preview(*, content: bytes | None, digest_hex: str | None, content_type: str,
                  filename: str | None, max_pages: int = 10, content_digest: str | None = None) -> Preview:
    """The preview of ``content`` (or, when it is None, of a digest-only request for ``digest_hex``).

    ``content_type`` is the declared media type (parameters allowed; ``charset`` is honoured for text when it
    is UTF-8, US-ASCII, windows-1251 or KOI8-R); ``filename`` the declared name; ``max_pages`` how many PDF pages
    to render. When both content and digest are given, the digest shown is the content's and a mismatch is
    warned about. ``content_digest``: the content's Streebog-256 (lower-case hex) when the caller computed it
    already (a document of up to 64 MiB is then not hashed again). Raises :class:`InvalidInputError` only when
    neither is given or ``digest_hex`` is not hex.
    """
    warnings = _Warnings()
    media_type, charset = _parse_content_type(content_type)
    title = _title(filename, warnings)
    if content is None:
        if digest_hex is None:
            raise InvalidInputError("a preview needs the content or its digest",
                                    message_ru="для просмотра нужно содержимое или его хэш")
        warnings.add("The content was not sent to the agent, so it cannot be shown. Sign only if you know what "
                     "this document is.",
                     "Содержимое не передано агенту: показать его нельзя. Подписывайте, только если вы знаете, "
                     "что это за документ.")
        return _make("digest", title, None, _normalize_digest(digest_hex), media_type, warnings)
    content = bytes(content)
    digest = content_digest or streebog256(content).hexdigest()
    if digest_hex is not None and _normalize_digest(digest_hex) != digest:
        warnings.add("The digest sent with the content is not the content's digest.",
                     "Хэш, переданный вместе с содержимым, не совпадает с хэшем содержимого.")
    base = {"title": title, "size": len(content), "digest": digest, "content_type": media_type}

    declared = _declared_kind(media_type)
    if declared == "pdf":
        if not content.startswith(_PDF_MAGIC):
            warnings.add("The content is declared a PDF document but is not one.",
                         "Содержимое объявлено документом PDF, но им не является.")
            return _make("binary", warnings=warnings, **base)
        return _pdf_preview(content, max_pages, warnings, base)
    if declared in ("text", "json", "xml"):
        if declared == "xml":
            shown = _xml_preview(content, charset, warnings)
        else:
            shown = _decode_text(content, charset or "utf-8")
            if shown is not None and declared == "json":
                shown = _json_text(content, charset or "utf-8", shown, warnings)
        if shown is not None:
            text, truncated = shown
            if truncated:
                warnings.add("The text is too long: only its beginning is shown.",
                             "Текст слишком длинный: показано только его начало.")
            text = _make_visible(text, warnings)
            return _make(declared, warnings=warnings, text=text, truncated=truncated, **base)
        warnings.add(f"The content is declared as text ({media_type}) but is not text in its encoding.",
                     f"Содержимое объявлено текстом ({media_type}), но не является текстом в своей кодировке.")
    if content.startswith(_PDF_MAGIC):
        warnings.add(f"The content is a PDF document, although it is declared as {media_type}.",
                     f"Содержимое является документом PDF, хотя объявлено как {media_type}.")
        return _pdf_preview(content, max_pages, warnings, base)
    return _make("binary", warnings=warnings, **base)


def _make(kind: str, title: str, size: int | None, digest: str, content_type: str, warnings: _Warnings,
          **fields: object) -> Preview:
    en, ru = warnings.joined()
    return Preview(kind=kind, title=title, size=size, digest=digest, content_type=content_type,
                   warning_en=en, warning_ru=ru, **fields)  # type: ignore[arg-type]


# -- declared type, name, digest ----------------------------------------------------------------------------------

def _parse_content_type(content_type: str) -> tuple[str, str | None]:
    """``(media type lowercased without parameters, python codec of an allowed charset or None)``."""
    essence, _, params = (content_type or "").partition(";")
    media_type = essence.strip().lower()
    if not re.fullmatch(r"[a-z0-9][a-z0-9!#$&^_.+-]{0,126}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}", media_type):
        media_type = "application/octet-stream"
    charset = None
    for param in params.split(";"):
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset":
            charset = _CHARSETS.get(value.strip().strip('"').lower())
    return media_type, charset


def _declared_kind(media_type: str) -> str:
    if media_type == "application/pdf":
        return "pdf"
    if media_type in ("application/json", "text/json") or media_type.endswith("+json"):
        return "json"
    if media_type in ("application/xml", "text/xml") or media_type.endswith("+xml"):
        return "xml"
    if media_type.startswith("text/"):
        return "text"
    return "binary"


def _title(filename: str | None, warnings: _Warnings) -> str:
    if not filename:
        return "document"
    name = filename[:_MAX_TITLE]
    shown = _make_visible(name, None).replace("\n", "⟦U+000A⟧").replace("\t", "⟦U+0009⟧")
    if shown != name:
        warnings.add("The file name contains invisible or control characters; they are shown as ⟦U+…⟧.",
                     "Имя файла содержит невидимые или управляющие символы; они показаны как ⟦U+…⟧.")
    return shown


def _normalize_digest(digest_hex: str) -> str:
    value = digest_hex.strip().lower()
    if not re.fullmatch(r"(?:[0-9a-f]{2}){16,64}", value):
        raise InvalidInputError("the digest must be hexadecimal", message_ru="хэш должен быть шестнадцатеричным")
    return value


# -- text -----------------------------------------------------------------------------------------------------------

def _decode_text(content: bytes, codec: str) -> tuple[str, bool] | None:
    """Decode strictly, chunk by chunk (the whole content is checked, only the shown part is kept); None if not
    text in ``codec``. Returns ``(text, truncated)``."""
    decoder = codecs.getincrementaldecoder(codec)(errors="strict")
    kept: list[str] = []
    kept_chars = 0
    try:
        for start in range(0, len(content), _DECODE_CHUNK):
            final = start + _DECODE_CHUNK >= len(content)
            part = decoder.decode(content[start:start + _DECODE_CHUNK], final)
            if kept_chars <= MAX_TEXT_CHARS:
                kept.append(part)
                kept_chars += len(part)
        if not content:
            decoder.decode(b"", True)
    except UnicodeDecodeError:
        return None
    text = "".join(kept)
    if text.startswith("\ufeff"):
        text = text[1:]   # the encoding's signature (BOM), not content a person reads
    return _cut(text, kept_chars > MAX_TEXT_CHARS)


def _cut(text: str, truncated: bool = False) -> tuple[str, bool]:
    if len(text) > MAX_TEXT_CHARS:
        text, truncated = text[:MAX_TEXT_CHARS], True
    newline = -1
    for _ in range(MAX_TEXT_LINES):
        newline = text.find("\n", newline + 1)
        if newline < 0:
            break
    else:
        if len(text) > newline + 1:
            text, truncated = text[:newline + 1], True
    return text, truncated


@functools.cache
def _invisible_re() -> re.Pattern[str]:
    """Control (Cc, but not ``\\n``/``\\t``), format (Cf: bidi controls, zero-width characters...), line and
    paragraph separators (Zl, Zp) and lone surrogates (Cs, which a JSON escape can produce)."""
    ranges: list[str] = []
    start = None
    for code in range(0x110001):
        hit = code < 0x110000 and chr(code) not in "\n\t" and (
            unicodedata.category(chr(code)) in ("Cc", "Cf", "Zl", "Zp", "Cs") or code in _BIDI)
        if hit and start is None:
            start = code
        elif not hit and start is not None:
            ranges.append(f"\\U{start:08x}-\\U{code - 1:08x}")
            start = None
    return re.compile("[" + "".join(ranges) + "]")


def _make_visible(text: str, warnings: _Warnings | None) -> str:
    """Replace control, bidi and other invisible characters with ``⟦U+XXXX⟧`` (``\\r\\n`` is kept)."""
    text = text.replace("\r\n", "\n")  # a line break as the person sees it; lone CRs are made visible below
    found: set[int] = set()

    def mark(match: re.Match[str]) -> str:
        found.add(ord(match.group()))
        return f"⟦U+{ord(match.group()):04X}⟧"

    shown = _invisible_re().sub(mark, text)
    if found and warnings is not None:
        if found & _BIDI:
            warnings.add("The text contains characters that change the writing direction (they can make text "
                         "read differently from what is signed); they are shown as ⟦U+…⟧.",
                         "Текст содержит символы смены направления письма (из-за них текст может читаться не так, "
                         "как подписывается); они показаны как ⟦U+…⟧.")
        else:
            warnings.add("The text contains invisible or control characters; they are shown as ⟦U+…⟧.",
                         "Текст содержит невидимые или управляющие символы; они показаны как ⟦U+…⟧.")
    return shown


# -- JSON -------------------------------------------------------------------------------------------------------------

class _Number(str):
    """A JSON number (or NaN/Infinity) kept exactly as written."""

    __slots__ = ()


class _DuplicateKeyError(ValueError):
    pass


class _Object(list):
    """A JSON object: its ``(key, value)`` pairs in document order."""

    __slots__ = ()


def _pairs(pairs: list[tuple[str, object]]) -> _Object:
    if len({key for key, _ in pairs}) != len(pairs):
        raise _DuplicateKeyError
    return _Object(pairs)


def _json_text(content: bytes, codec: str, decoded: tuple[str, bool], warnings: _Warnings) -> tuple[str, bool]:
    """The JSON pretty-printed, or the text as sent with a warning when it cannot be faithfully re-indented."""
    if len(content) > _MAX_FORMAT_BYTES:
        warnings.add("The JSON document is too large to format; it is shown as sent.",
                     "Документ JSON слишком велик для форматирования; он показан как есть.")
        return decoded
    text = content.decode(codec, errors="strict").removeprefix("\ufeff")
    try:
        value = json.loads(text, object_pairs_hook=_pairs, parse_float=_Number, parse_int=_Number,
                           parse_constant=_Number)
    except _DuplicateKeyError:
        warnings.add("The JSON document repeats a key in an object (programs may read it differently); it is "
                     "shown as sent.",
                     "В документе JSON ключ объекта повторяется (программы могут прочитать его по-разному); "
                     "он показан как есть.")
        return decoded
    except RecursionError:
        value = _TOO_DEEP
    except ValueError:
        warnings.add("The content is declared as JSON but is not valid JSON; it is shown as text.",
                     "Содержимое объявлено как JSON, но не является корректным JSON; оно показано как текст.")
        return decoded
    formatted = None if value is _TOO_DEEP else _format_json(value)
    if formatted is None:
        warnings.add(f"The JSON document is nested deeper than {MAX_JSON_DEPTH} levels; it is shown as sent.",
                     f"Вложенность документа JSON больше {MAX_JSON_DEPTH} уровней; он показан как есть.")
        return decoded
    return formatted


_TOO_DEEP = object()


def _format_json(value: object) -> tuple[str, bool] | None:
    """Indent 2, keys in order, numbers as written; stops at the text limit. None when nested too deeply."""
    out: list[str] = []
    size = 0
    # The stack holds what is left to write: strings, or (value, depth) pairs to expand.
    stack: list[object] = [(value, 0)]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            piece = item
        else:
            node, depth = item  # type: ignore[misc]
            if depth >= MAX_JSON_DEPTH and isinstance(node, list):  # a 201st level of arrays or objects
                return None
            if isinstance(node, _Number):
                piece = str(node)
            elif isinstance(node, str):
                piece = json.dumps(node, ensure_ascii=False)
            elif node is None or isinstance(node, bool):
                piece = json.dumps(node)
            elif isinstance(node, _Object):
                piece = _open_container("{", "}", node, depth, stack)
            else:
                members = [(None, element) for element in node]  # type: ignore[attr-defined]
                piece = _open_container("[", "]", members, depth, stack)
        out.append(piece)
        size += len(piece)
        if size > MAX_TEXT_CHARS:
            return _cut("".join(out), True)
    return _cut("".join(out))


def _open_container(opening: str, closing: str, members: list[tuple[str | None, object]], depth: int,
                    stack: list[object]) -> str:
    if not members:
        return opening + closing
    inner = "\n" + "  " * (depth + 1)
    stack.append("\n" + "  " * depth + closing)
    for index in range(len(members) - 1, -1, -1):
        key, element = members[index]
        stack.append((element, depth + 1))
        prefix = inner if index == 0 else "," + inner
        stack.append(prefix if key is None else prefix + json.dumps(key, ensure_ascii=False) + ": ")
    return opening


# -- XML --------------------------------------------------------------------------------------------------------------

class _RefusedError(Exception):
    """The XML declares a DOCTYPE or entities: it is not expanded."""


class _FullError(Exception):
    """The indented XML reached the text limit: the rest is not shown."""


def _xml_preview(content: bytes, charset: str | None, warnings: _Warnings) -> tuple[str, bool] | None:
    """The XML indented, or the text as sent with a warning; None when it is not text at all."""
    if len(content) > _MAX_FORMAT_BYTES:
        problem = ("The XML document is too large to format; it is shown as sent.",
                   "Документ XML слишком велик для форматирования; он показан как есть.")
    else:
        try:
            return _format_xml(content, charset)
        except _RefusedError:
            problem = ("The XML document declares a DOCTYPE or entities; they were not expanded, and the "
                       "document is shown as sent.",
                       "Документ XML содержит объявление DOCTYPE или сущностей; они не раскрывались, документ "
                       "показан как есть.")
        except (expat.ExpatError, ValueError, LookupError):  # LookupError: an encoding Python does not know
            problem = ("The content is declared as XML but is not well-formed XML; it is shown as text.",
                       "Содержимое объявлено как XML, но не является корректным XML; оно показано как текст.")
    shown = _decode_text(content, _xml_codec(content, charset))
    if shown is not None:
        warnings.add(*problem)
    return shown


def _xml_codec(content: bytes, charset: str | None) -> str:
    if charset:
        return charset
    match = re.match(rb"""<\?xml[^>]{0,200}?encoding\s*=\s*["']([A-Za-z0-9._-]{1,40})["']""", content)
    if match:
        return _CHARSETS.get(match.group(1).decode("ascii").lower(), "utf-8")
    return "utf-8"


def _xml_escape(text: str, quote: bool = False) -> str:
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if quote:
        text = text.replace('"', "&quot;").replace("\n", "&#10;").replace("\t", "&#9;")
    return text


def _format_xml(content: bytes, charset: str | None) -> tuple[str, bool]:
    def refuse(*_args: object) -> None:
        raise _RefusedError

    parser = hardened_xml_parser(refuse, encoding=charset)
    parser.ordered_attributes = True
    lines: list[str] = []
    state = {"depth": 0, "text": [], "open": None, "size": 0}

    def emit(line: str) -> None:
        line = "  " * min(state["depth"], MAX_JSON_DEPTH) + line  # type: ignore[call-overload]
        lines.append(line)
        state["size"] += len(line) + 1  # type: ignore[operator]
        if state["size"] > MAX_TEXT_CHARS:  # type: ignore[operator]
            raise _FullError

    def flush(closing: str | None = None) -> None:
        """Write pending text and a pending start tag; ``closing`` = the end tag about to be written."""
        text = "".join(state["text"]).strip()  # type: ignore[arg-type]
        state["text"] = []
        opened = state["open"]
        state["open"] = None
        if opened is not None:
            if closing is not None and not text:
                emit(opened[:-1] + "/>")
                return
            if closing is not None and "\n" not in text:
                emit(opened + _xml_escape(text) + closing)
                return
            emit(opened)  # type: ignore[arg-type]
            state["depth"] += 1  # type: ignore[operator]
        if text:
            for line in text.split("\n"):
                emit(_xml_escape(line.strip()))
        if closing is not None:
            state["depth"] -= 1  # type: ignore[operator]
            emit(closing)

    def start(name: str, attrs: list[str]) -> None:
        flush()
        pairs = "".join(f' {attrs[i]}="{_xml_escape(attrs[i + 1], quote=True)}"' for i in range(0, len(attrs), 2))
        state["open"] = f"<{name}{pairs}>"

    def end(name: str) -> None:
        flush(f"</{name}>")

    def chars(data: str) -> None:
        state["text"].append(data)  # type: ignore[union-attr]

    def comment(data: str) -> None:
        flush()
        emit(f"<!--{data}-->")

    def instruction(target: str, data: str) -> None:
        flush()
        emit(f"<?{target} {data}?>" if data else f"<?{target}?>")

    def declaration(version: str | None, encoding: str | None, standalone: int) -> None:
        attrs = f' version="{version}"' if version else ""
        if encoding:
            attrs += f' encoding="{encoding}"'
        if standalone != -1:
            attrs += f' standalone="{"yes" if standalone else "no"}"'
        emit(f"<?xml{attrs}?>")

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chars
    parser.CommentHandler = comment
    parser.ProcessingInstructionHandler = instruction
    parser.XmlDeclHandler = declaration
    try:
        parser.Parse(content, True)
        flush()
    except _FullError:
        return _cut("\n".join(lines), True)
    return _cut("\n".join(lines))


# -- PDF --------------------------------------------------------------------------------------------------------------

def _pdf_preview(content: bytes, max_pages: int, warnings: _Warnings, base: dict) -> Preview:
    try:
        page_count, pages, complete = _render_pdf(content, max(0, max_pages))
    except pdfium.PdfiumError as exc:
        if getattr(exc, "err_code", None) == pdfium.raw.FPDF_ERR_PASSWORD:
            warnings.add("The PDF document is password-protected: its pages cannot be shown.",
                         "Документ PDF защищён паролем: его страницы показать нельзя.")
        else:
            warnings.add("The PDF document could not be opened: its pages cannot be shown.",
                         "Документ PDF не удалось открыть: его страницы показать нельзя.")
        return _make("binary", warnings=warnings, **base)
    if not complete:
        warnings.add("Some pages of the PDF document could not be shown (the document is damaged or too slow to "
                     "draw).",
                     "Некоторые страницы документа PDF показать не удалось (документ повреждён или рисуется слишком "
                     "долго).")
    elif page_count > len(pages):
        warnings.add(f"Only the first {len(pages)} of {page_count} pages are shown.",
                     f"Показаны только первые {len(pages)} из {page_count} страниц.")
    return _make("pdf", warnings=warnings, page_count=page_count, pages=tuple(pages), **base)


def _render_pdf(content: bytes, max_pages: int) -> tuple[int, list[bytes], bool]:
    """``(page count, PNGs of the first pages, whether every page meant to be shown was)``."""
    pages: list[bytes] = []
    complete = True
    with _RENDER_LOCK:
        deadline = time.monotonic() + _RENDER_BUDGET_S  # counted from when this document holds the lock
        document = pdfium.PdfDocument(content)
        try:
            page_count = len(document)
            for index in range(min(page_count, max_pages)):
                try:
                    png = _render_page(document, index, deadline)
                except (pdfium.PdfiumError, ValueError, MemoryError):
                    png = None
                if png is None:
                    complete = False
                    break
                pages.append(png)
        finally:
            document.close()
    return page_count, pages, complete


def _render_page(document: pdfium.PdfDocument, index: int, deadline: float) -> bytes | None:
    """One page as PNG, at most 900 x 4000 pixels; None when it has no usable size or drawing it would pass
    ``deadline`` (pdfium's progressive rendering asks between drawing steps whether to pause: past the deadline
    it is told to, and the half-drawn page is dropped)."""
    page = document[index]
    try:
        width, height = page.get_size()  # in points, after the page's own rotation
        if not (math.isfinite(width) and math.isfinite(height)) or width <= 0 or height <= 0:
            return None
        scale = min(_PAGE_WIDTH_PX / width, _PAGE_MAX_HEIGHT_PX / height)
        px_width = min(max(1, math.ceil(width * scale)), _PAGE_WIDTH_PX)
        px_height = min(max(1, math.ceil(height * scale)), _PAGE_MAX_HEIGHT_PX)
        bitmap = pdfium.PdfBitmap.new_native(px_width, px_height, pdfium.raw.FPDFBitmap_BGR, rev_byteorder=True)
        try:
            bitmap.fill_rect((255, 255, 255, 255), 0, 0, px_width, px_height)
            if not _draw(page, bitmap, px_width, px_height, deadline):
                return None
            return _png_rgb(px_width, px_height, memoryview(bitmap.buffer).cast("B"), bitmap.stride)
        finally:
            bitmap.close()
    finally:
        page.close()


def _draw(page: pdfium.PdfPage, bitmap: pdfium.PdfBitmap, width: int, height: int, deadline: float) -> bool:
    """Draw ``page`` (with its annotations, as pypdfium2's ``render`` does) onto ``bitmap`` before ``deadline``."""
    raw = pdfium.raw
    pause = raw.IFSDK_PAUSE(version=1)
    pause.NeedToPauseNow = type(pause.NeedToPauseNow)(lambda _pause: int(time.monotonic() > deadline))
    flags = raw.FPDF_ANNOT | raw.FPDF_REVERSE_BYTE_ORDER
    try:
        status = raw.FPDF_RenderPageBitmap_Start(bitmap, page, 0, 0, width, height, 0, flags, pause)
        while status == raw.FPDF_RENDER_TOBECONTINUED and time.monotonic() <= deadline:
            status = raw.FPDF_RenderPage_Continue(page, pause)
    finally:
        raw.FPDF_RenderPage_Close(page)
    return status == raw.FPDF_RENDER_DONE


def _png_rgb(width: int, height: int, pixels: memoryview, stride: int) -> bytes:
    """An 8-bit RGB PNG of rows ``stride`` bytes apart (filter 0 per row, one zlib stream)."""
    row = width * 3
    raw = b"".join(b"\x00" + pixels[y * stride:y * stride + row] for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 6))
            + chunk(b"IEND", b""))

"""What is being signed, for a person: the preview of hostile content (text, JSON, XML, PDF, binary, digest-only).

The PDFs are written by hand here (a few objects and a cross-reference table), so the tests need nothing beyond
pypdfium2, which the preview itself uses. PNGs are checked with a small decoder on zlib, independent of the encoder.
"""

from __future__ import annotations

import json
import os
import struct
import threading
import time
import zlib
from pathlib import Path

import pytest

from signagent.errors import InvalidInputError
from signagent.gost import streebog256
from signagent.service import preview as preview_module
from signagent.service.preview import MAX_TEXT_CHARS, MAX_TEXT_LINES, Preview, build_preview

DIGEST_ONLY_RU = ("Содержимое не передано агенту: показать его нельзя. Подписывайте, только если вы знаете, что это "
                  "за документ.")


def _preview(content: bytes | None, content_type: str, *, filename: str | None = None,
             digest_hex: str | None = None, max_pages: int = 10) -> Preview:
    return build_preview(content=content, digest_hex=digest_hex, content_type=content_type, filename=filename,
                         max_pages=max_pages)


# -- hand-made PDFs and a PNG reader ---------------------------------------------------------------------------------

def _pdf(pages: list[tuple[float, float, bytes]], *, rotate: int = 0, image: bytes | None = None,
         encrypt: bool = False) -> bytes:
    """A PDF with one page per ``(width, height, content stream)``; Helvetica as /F1; ``image`` (RGB, square,
    8 bits) as /Im1 of every page; ``encrypt`` adds a standard security handler whose user password is not empty."""
    objects: list[bytes] = []

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    catalog = add(b"")
    page_tree = add(b"")
    font = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    xobjects = b""
    if image is not None:
        side = int((len(image) // 3) ** 0.5)
        assert side * side * 3 == len(image)
        im = add(b"<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceRGB "
                 b"/BitsPerComponent 8 /Length %d >>\nstream\n" % (side, side, len(image)) + image
                 + b"\nendstream")
        xobjects = b" /XObject << /Im1 %d 0 R >>" % im
    kids = []
    for width, height, stream in pages:
        contents = add(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
        kids.append(add(b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 %s %s] /Rotate %d /Contents %d 0 R "
                        b"/Resources << /Font << /F1 %d 0 R >>%s >> >>"
                        % (page_tree, repr(width).encode(), repr(height).encode(), rotate, contents, font,
                           xobjects)))
    objects[catalog - 1] = b"<< /Type /Catalog /Pages %d 0 R >>" % page_tree
    objects[page_tree - 1] = (b"<< /Type /Pages /Count %d /Kids [%s] >>"
                              % (len(kids), b" ".join(b"%d 0 R" % k for k in kids)))
    trailer_extra = b""
    if encrypt:
        enc = add(b"<< /Filter /Standard /V 1 /R 2 /O <%s> /U <%s> /P -4 >>"
                  % (b"11" * 32, b"22" * 32))
        trailer_extra = b" /Encrypt %d 0 R /ID [<%s> <%s>]" % (enc, b"33" * 16, b"33" * 16)
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root %d 0 R%s >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, catalog, trailer_extra, xref)
    return bytes(out)


def _text_page(text: str, width: float = 595, height: float = 842) -> tuple[float, float, bytes]:
    return (width, height, b"BT /F1 48 Tf 40 %d Td (%s) Tj ET" % (int(height) - 100, text.encode("ascii")))


def _png(data: bytes) -> tuple[int, int, list[bytes]]:
    """``(width, height, rows of RGB bytes)`` of an 8-bit RGB, non-interlaced PNG; checks every CRC."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, b"", b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        assert struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])[0] == zlib.crc32(kind + body)
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert (depth, color, interlace) == (8, 2, 0)
    raw = zlib.decompress(idat)
    assert len(raw) == height * (1 + 3 * width)
    rows = [raw[y * (1 + 3 * width):(y + 1) * (1 + 3 * width)] for y in range(height)]
    assert all(row[0] == 0 for row in rows)  # filter type None, as written
    return width, height, [row[1:] for row in rows]


# -- text ----------------------------------------------------------------------------------------------------------

def test_russian_utf8_text_is_shown_as_text() -> None:
    text = "Заявление о регистрации\nОГРН 1027700132195\tИНН 7707083893\n"
    preview = _preview(text.encode("utf-8"), "text/plain; charset=utf-8", filename="заявление.txt")
    assert preview.kind == "text"
    assert preview.text == text
    assert preview.title == "заявление.txt"
    assert preview.size == len(text.encode("utf-8"))
    assert preview.content_type == "text/plain"
    assert not preview.truncated and preview.warning_en is None and preview.warning_ru is None


def test_bidi_override_is_made_visible_and_flagged() -> None:
    # "Pay 1000 RUB" with a right-to-left override that makes the amount read differently
    preview = _preview("К оплате \u202e0001\u202c руб.\r\nитого".encode(), "text/plain", filename="счёт\u2066.txt")
    assert preview.kind == "text"
    assert "\u202e" not in preview.text and "\u202c" not in preview.text
    assert preview.text == "К оплате ⟦U+202E⟧0001⟦U+202C⟧ руб.\nитого"
    assert "direction" in preview.warning_en and "направления" in preview.warning_ru
    assert preview.title == "счёт⟦U+2066⟧.txt"
    assert "file name" in preview.warning_en
    assert _preview(b"x", "text/plain", filename="a\nb\tc.txt").title == "a⟦U+000A⟧b⟦U+0009⟧c.txt"
    assert len(_preview(b"x", "text/plain", filename="я" * 10_000).title) == 255


@pytest.mark.parametrize("char", ["\x00", "\x1b", "\x7f", "\u200b", "\u2028", "\r", "\u0085"])
def test_control_and_invisible_characters_are_made_visible(char: str) -> None:
    preview = _preview(f"a{char}b".encode(), "text/plain")
    assert preview.text == f"a⟦U+{ord(char):04X}⟧b"
    assert "invisible or control" in preview.warning_en


def test_invalid_utf8_text_is_shown_as_binary_with_a_warning() -> None:
    content = "Привет".encode("cp1251")
    preview = _preview(content, "text/plain")
    assert preview.kind == "binary"
    assert preview.text is None
    assert preview.size == len(content)
    assert "not text" in preview.warning_en and "не является текстом" in preview.warning_ru


def test_declared_windows_1251_charset_is_honoured() -> None:
    preview = _preview("Привет".encode("cp1251"), "text/plain; charset=windows-1251")
    assert (preview.kind, preview.text, preview.warning_en) == ("text", "Привет", None)


def test_long_text_is_cut_and_says_so() -> None:
    preview = _preview(("й" * 99 + "\n").encode() * 3000, "text/plain")
    assert preview.truncated and len(preview.text) <= MAX_TEXT_CHARS
    assert "only its beginning" in preview.warning_en
    many_lines = _preview(b"x\n" * (MAX_TEXT_LINES + 10), "text/plain")
    assert many_lines.truncated and many_lines.text.count("\n") == MAX_TEXT_LINES
    exact = _preview(b"x\n" * MAX_TEXT_LINES, "text/plain")
    assert not exact.truncated and exact.warning_en is None


def test_large_text_is_checked_whole_but_kept_short() -> None:
    content = b"a" * (16 * 1024 * 1024) + b"\xff"  # the bad byte lies far beyond what is shown
    assert _preview(content, "text/plain").kind == "binary"
    preview = _preview(content[:-1], "text/plain")
    assert preview.kind == "text" and preview.truncated and len(preview.text) == MAX_TEXT_CHARS


# -- JSON ------------------------------------------------------------------------------------------------------------

def test_json_is_pretty_printed_in_key_order_without_escaping_cyrillic() -> None:
    content = '{"zeta":1,"альфа":"\\u0410бв","list":[1.10,-0,1e400,12345678901234567890123],"e":{},"n":null}'
    preview = _preview(content.encode(), "application/json")
    assert preview.kind == "json" and preview.warning_en is None
    assert preview.text == (
        '{\n'
        '  "zeta": 1,\n'
        '  "альфа": "Абв",\n'
        '  "list": [\n'
        '    1.10,\n'
        '    -0,\n'
        '    1e400,\n'
        '    12345678901234567890123\n'
        '  ],\n'
        '  "e": {},\n'
        '  "n": null\n'
        '}')
    assert _preview(b'{"a": 1}', "application/vnd.example+json").kind == "json"


def test_json_duplicate_keys_are_shown_as_sent() -> None:
    content = b'{"amount": 1, "amount": 1000000}'
    preview = _preview(content, "application/json")
    assert preview.kind == "json"
    assert preview.text == content.decode()
    assert "repeats a key" in preview.warning_en


def test_invalid_json_is_shown_as_text_with_a_warning() -> None:
    preview = _preview(b'{"a": 1,', "application/json")
    assert preview.kind == "json" and preview.text == '{"a": 1,'
    assert "not valid JSON" in preview.warning_en and "JSON" in preview.warning_ru


def test_bidi_in_json_string_escape_is_made_visible() -> None:
    preview = _preview(b'{"to": "\\u202eevil"}', "application/json")
    assert "⟦U+202E⟧evil" in preview.text and "\u202e" not in preview.text
    assert preview.warning_en is not None
    lone = _preview(b'["\\ud800"]', "application/json")  # a lone surrogate could not even be sent as UTF-8
    assert "⟦U+D800⟧" in lone.text
    lone.text.encode("utf-8")


@pytest.mark.parametrize("depth", [201, 5_000, 100_000])
def test_deeply_nested_json_does_not_crash(depth: int) -> None:
    content = b"[" * depth + b"]" * depth
    preview = _preview(content, "application/json")
    assert preview.kind == "json"
    assert "nested deeper" in preview.warning_en
    assert preview.text.startswith("[[[") and len(preview.text) <= MAX_TEXT_CHARS


def test_json_nested_within_the_limit_is_formatted() -> None:
    preview = _preview(b"[" * 199 + b'{"k": 1}' + b"]" * 199, "application/json")
    assert preview.warning_en is None and preview.text.count("\n") == 400
    assert '\n' + "  " * 200 + '"k": 1\n' in preview.text


def test_large_json_output_is_cut() -> None:
    content = json.dumps([{"ключ": i} for i in range(60_000)], ensure_ascii=False).encode()
    preview = _preview(content, "application/json")
    assert preview.kind == "json" and preview.truncated and len(preview.text) <= MAX_TEXT_CHARS
    assert preview.text.startswith('[\n  {\n    "ключ": 0\n  },')


# -- XML -------------------------------------------------------------------------------------------------------------

def test_xml_is_indented() -> None:
    content = ('<?xml version="1.0" encoding="UTF-8"?><Файл ИдФайл="1" b="&lt;&quot;"><!--c--><Документ>'
               '<Сумма>100</Сумма><Пусто/></Документ></Файл>')
    preview = _preview(content.encode(), "application/xml")
    assert preview.kind == "xml" and preview.warning_en is None
    assert preview.text == (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<Файл ИдФайл="1" b="&lt;&quot;">\n'
        '  <!--c-->\n'
        '  <Документ>\n'
        '    <Сумма>100</Сумма>\n'
        '    <Пусто/>\n'
        '  </Документ>\n'
        '</Файл>')


def test_windows_1251_xml_is_decoded_by_its_declaration() -> None:
    content = '<?xml version="1.0" encoding="windows-1251"?><Файл>Текст</Файл>'.encode("cp1251")
    preview = _preview(content, "text/xml")
    assert preview.kind == "xml" and preview.warning_en is None
    assert "<Файл>Текст</Файл>" in preview.text


def test_billion_laughs_is_not_expanded() -> None:
    entities = "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))
    content = f'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol0 "lol">{entities}]><lolz>&lol9;</lolz>'
    started = time.monotonic()
    preview = _preview(content.encode(), "application/xml")
    assert time.monotonic() - started < 5  # a hang guard, not a benchmark: expansion would be 10^9 "lol"
    assert preview.kind == "xml"
    assert preview.text == content
    assert "lollol" not in preview.text
    assert "DOCTYPE" in preview.warning_en and "DOCTYPE" in preview.warning_ru


def test_external_entity_is_never_fetched(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT")
    for content in (f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file://{secret}">]><r>&x;</r>',
                    f'<?xml version="1.0"?><!DOCTYPE r SYSTEM "file://{secret}"><r>&x;</r>',
                    '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>'):
        preview = _preview(content.encode(), "application/xml")
        assert "TOP-SECRET-CONTENT" not in preview.text and "root:" not in preview.text
        assert preview.text == content
        assert "DOCTYPE" in preview.warning_en


def test_malformed_xml_is_shown_as_text_with_a_warning() -> None:
    for content in (b"<a><b></a>", b"<r>&undefined;</r>", b"<a>", b"not xml"):
        preview = _preview(content, "application/xml")
        assert preview.kind == "xml" and preview.text == content.decode()
        assert "not well-formed" in preview.warning_en


def test_deep_xml_is_cut_not_blown_up() -> None:
    preview = _preview(b"<a>" * 500_000, "application/xml")
    assert preview.kind == "xml" and preview.truncated and len(preview.text) <= MAX_TEXT_CHARS


# -- PDF -------------------------------------------------------------------------------------------------------------

def test_three_page_pdf_renders_three_pngs() -> None:
    content = _pdf([_text_page("One"), _text_page("Two"), (595, 842, b"")])
    preview = _preview(content, "application/pdf", filename="договор.pdf")
    assert preview.kind == "pdf" and preview.page_count == 3 and len(preview.pages) == 3
    assert preview.warning_en is None
    assert preview.text is None and preview.size == len(content)
    for png in preview.pages:
        assert png.startswith(b"\x89PNG")
    width, height, rows = _png(preview.pages[0])
    assert width == 900 and abs(height - 900 * 842 / 595) <= 1
    assert any(min(row) < 128 for row in rows)  # the text left dark pixels
    _, _, blank = _png(preview.pages[2])
    assert all(min(row) == 255 for row in blank)


def test_colours_are_rgb() -> None:
    preview = _preview(_pdf([(100, 100, b"1 0 0 rg 0 50 50 50 re f 0 0 1 rg 50 50 50 50 re f")]), "application/pdf")
    width, height, rows = _png(preview.pages[0])
    assert (width, height) == (900, 900)
    top = rows[100]
    assert top[3 * 100:3 * 101] == b"\xff\x00\x00"  # red at the top left
    assert top[3 * 800:3 * 801] == b"\x00\x00\xff"  # blue at the top right
    assert rows[800][3 * 100:3 * 101] == b"\xff\xff\xff"


def test_only_the_first_pages_are_rendered() -> None:
    content = _pdf([_text_page(str(i)) for i in range(12)])
    preview = _preview(content, "application/pdf")
    assert preview.page_count == 12 and len(preview.pages) == 10
    assert "10 of 12" in preview.warning_en and "10 из 12" in preview.warning_ru
    assert len(_preview(content, "application/pdf", max_pages=2).pages) == 2


@pytest.mark.parametrize(("width", "height"), [(100_000, 100_000), (1, 100_000), (100_000, 1), (14_400, 14_400)])
def test_huge_page_is_rendered_within_the_pixel_cap(width: int, height: int) -> None:
    preview = _preview(_pdf([(width, height, b"")]), "application/pdf")
    assert preview.kind == "pdf" and len(preview.pages) == 1
    png_width, png_height, _ = _png(preview.pages[0])
    assert 1 <= png_width <= 900 and 1 <= png_height <= 4000


def test_rotated_page_is_rendered_as_seen() -> None:
    preview = _preview(_pdf([_text_page("R")], rotate=90), "application/pdf")
    width, height, _ = _png(preview.pages[0])
    assert width == 900 and abs(height - 900 * 595 / 842) <= 1


@pytest.mark.parametrize("damage", ["truncated", "garbage", "header_only"])
def test_corrupted_pdf_is_binary_with_a_warning(damage: str) -> None:
    good = _pdf([_text_page("X")])
    content = {"truncated": good[:len(good) // 3], "garbage": b"%PDF-1.7\n" + os.urandom(4000),
               "header_only": b"%PDF-"}[damage]
    preview = _preview(content, "application/pdf")
    assert preview.kind == "binary" and preview.pages == () and preview.page_count is None
    assert "could not be opened" in preview.warning_en


def test_password_protected_pdf_is_binary_with_a_warning() -> None:
    preview = _preview(_pdf([_text_page("S")], encrypt=True), "application/pdf")
    assert preview.kind == "binary"
    assert "password" in preview.warning_en and "паролем" in preview.warning_ru


def test_pdf_type_that_is_not_a_pdf_is_binary_with_a_warning() -> None:
    preview = _preview(b"PK\x03\x04 a zip archive", "application/pdf")
    assert preview.kind == "binary" and "not one" in preview.warning_en


def test_pdf_bytes_under_another_type_are_shown_as_pdf_with_a_warning() -> None:
    content = _pdf([_text_page("Hidden")])
    for content_type in ("application/octet-stream", "image/png", "text/plain"):
        preview = _preview(content, content_type)
        assert preview.kind == "pdf" and preview.page_count == 1, content_type
        assert "is a PDF document" in preview.warning_en


def test_five_mebibyte_pdf_renders() -> None:
    image = os.urandom(1330 * 1330 * 3)
    page = (595, 842, b"q 500 0 0 500 40 200 cm /Im1 Do Q BT /F1 24 Tf 40 760 Td (Big) Tj ET")
    content = _pdf([page, _text_page("Two")], image=image)
    assert len(content) > 5 * 1024 * 1024
    started = time.monotonic()
    preview = _preview(content, "application/pdf")
    assert time.monotonic() - started < 60  # a hang guard, not a benchmark
    assert preview.kind == "pdf" and preview.page_count == 2 and len(preview.pages) == 2
    assert preview.warning_en is None


def test_a_page_too_slow_to_draw_is_dropped(monkeypatch: pytest.MonkeyPatch) -> None:
    # 200,000 overlapping filled squares: drawn whole, this page takes many seconds (17 s on a 2-core machine)
    squares = b" ".join(b"%d %d 300 300 re f" % (i % 500, (i * 7) % 700) for i in range(200_000))
    content = _pdf([_text_page("Fast"), (595, 842, squares), _text_page("Never")])
    monkeypatch.setattr(preview_module, "_RENDER_BUDGET_S", 0.5)
    started = time.monotonic()
    preview = _preview(content, "application/pdf")
    assert time.monotonic() - started < 10  # a hang guard: the budget stopped drawing, not the page's end
    assert preview.kind == "pdf" and preview.page_count == 3
    assert len(preview.pages) == 1  # the half-drawn page is not shown, nor any after it
    assert "too slow" in preview.warning_en and "долго" in preview.warning_ru


def test_rendering_from_many_threads_is_serialised() -> None:
    content = _pdf([_text_page("A"), _text_page("B"), _text_page("C")])
    expected = _preview(content, "application/pdf")
    results: list[Preview] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(3):
                results.append(_preview(content, "application/pdf"))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len(results) == 18 and all(result == expected for result in results)


# -- binary and digest-only ------------------------------------------------------------------------------------------

def test_binary_shows_size_and_streebog_digest(vectors_dir: Path) -> None:
    vectors = json.loads((vectors_dir / "streebog.json").read_text())["vectors"]
    vector = next(v for v in vectors if v["id"] == "M1-256")
    content = bytes.fromhex(vector["message_hex"])
    preview = _preview(content, "application/octet-stream", filename="data.bin")
    assert preview.kind == "binary"
    assert preview.size == vector["message_len"]
    assert preview.digest == vector["digest_hex"]
    assert preview.title == "data.bin" and preview.text is None and preview.warning_en is None


def test_unknown_or_hostile_content_type_is_binary() -> None:
    preview = _preview("текст".encode(), "image/png\u202e; charset=utf-8")
    assert preview.kind == "binary" and preview.content_type == "application/octet-stream"
    assert _preview(b"\x00\x01", "").content_type == "application/octet-stream"
    assert _preview(b"x", "Text/Plain; Charset=UTF-8").content_type == "text/plain"


def test_digest_only_request_warns_that_content_cannot_be_shown() -> None:
    digest = "AB" * 32
    preview = _preview(None, "application/pdf", digest_hex=digest, filename="устав.pdf")
    assert preview.kind == "digest"
    assert preview.size is None and preview.text is None and preview.pages == ()
    assert preview.digest == digest.lower()
    assert preview.warning_ru == DIGEST_ONLY_RU
    assert "cannot be shown" in preview.warning_en


def test_digest_that_does_not_match_the_content_is_flagged() -> None:
    preview = _preview(b"hello", "text/plain", digest_hex="00" * 32)
    assert preview.digest != "00" * 32
    assert "not the content's digest" in preview.warning_en


@pytest.mark.parametrize("digest_hex", ["xyz", "", "abc", "00" * 8])
def test_digest_that_is_not_hex_is_a_caller_error(digest_hex: str) -> None:
    with pytest.raises(InvalidInputError):
        _preview(None, "application/octet-stream", digest_hex=digest_hex)


def test_neither_content_nor_digest_is_a_caller_error() -> None:
    with pytest.raises(InvalidInputError):
        _preview(None, "text/plain")


def test_empty_content() -> None:
    preview = _preview(b"", "text/plain")
    assert (preview.kind, preview.text, preview.size) == ("text", "", 0)


def test_a_digest_the_caller_computed_is_not_computed_again(monkeypatch: pytest.MonkeyPatch) -> None:
    # the agent hashes a document once, when the request starts (the audit log's digest); the page shows that one
    content = b"%PDF-1.7 not really" * 1000
    known = streebog256(content).hexdigest()

    def hashed_again(data: bytes) -> None:
        raise AssertionError("the content was hashed again")

    monkeypatch.setattr(preview_module, "streebog256", hashed_again)
    preview = build_preview(content=content, digest_hex=None, content_type="text/plain", filename="a.txt",
                            content_digest=known)
    assert preview.digest == known and preview.size == len(content)

"""Hostile accredited-CA lists (issue 10, defects 4 and 5): bounded elements, text and depth while streaming, and
an unknown encoding declaration reported as a format error, never a LookupError."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from signagent.errors import (
    InputTooLargeError,
    NestingTooDeepError,
    NotRegularFileError,
    TooManyElementsError,
    TslFormatError,
)
from signagent.trust.tsl import MAX_CA_ELEMENTS, MAX_DEPTH, MAX_ELEMENTS, MAX_TSL_BYTES, parse_tsl

REPO = Path(__file__).resolve().parents[2]
OPEN = "<АккредитованныеУдостоверяющиеЦентры>".encode()
CLOSE = "</АккредитованныеУдостоверяющиеЦентры>".encode()
CA_OPEN = "<УдостоверяющийЦентр><Название>x</Название>".encode()
CA_CLOSE = "</УдостоверяющийЦентр>".encode()


@pytest.mark.parametrize("encoding", ["x-unknown", "utf-7", "big5", "rot13", "base64", "idna", "punycode"])
def test_an_encoding_declaration_expat_cannot_use_is_a_format_error(encoding):
    data = f'<?xml version="1.0" encoding="{encoding}"?>'.encode() + OPEN + "<Версия>1</Версия>".encode() + CLOSE
    with pytest.raises(TslFormatError, match="encoding") as info:
        parse_tsl(data)
    assert info.value.code == "tsl_malformed"


def test_too_many_elements_in_the_list_are_refused():
    data = OPEN + b"<a/>" * (MAX_ELEMENTS + 1) + CLOSE
    with pytest.raises(TooManyElementsError) as info:
        parse_tsl(data)
    assert isinstance(info.value, TslFormatError) and info.value.code == "too_many_elements"


def test_too_many_elements_in_one_ca_are_refused():
    data = OPEN + CA_OPEN + b"<a/>" * (MAX_CA_ELEMENTS + 1) + CA_CLOSE + CLOSE
    with pytest.raises(TooManyElementsError, match="CA element"):
        parse_tsl(data)


def test_too_much_text_in_one_ca_is_refused():
    chunk = b"<b>" + b"A" * ((1 << 20) - 16) + b"</b>"  # each node under the per-node cap
    data = OPEN + CA_OPEN + chunk * 17 + CA_CLOSE + CLOSE
    with pytest.raises(InputTooLargeError, match="characters of text") as info:
        parse_tsl(data)
    assert isinstance(info.value, TslFormatError)


def test_nesting_has_its_own_code():
    data = OPEN + b"<a>" * (MAX_DEPTH + 1)
    with pytest.raises(NestingTooDeepError) as info:
        parse_tsl(data)
    assert isinstance(info.value, TslFormatError) and info.value.code == "nesting_too_deep"


def test_the_size_cap_has_its_own_code_and_is_tens_of_mb():
    assert 32 << 20 <= MAX_TSL_BYTES <= 128 << 20
    with pytest.raises(InputTooLargeError):
        parse_tsl(OPEN + b" " * 2000 + CLOSE, max_bytes=1000)


def test_a_huge_version_is_refused_without_converting_it():
    data = OPEN + "<Версия>".encode() + b"9" * 100_000 + "</Версия>".encode() + CLOSE
    with pytest.raises(TslFormatError, match="not an integer"):
        parse_tsl(data)


_MEMORY_GUARD = textwrap.dedent("""
    import resource, sys
    from signagent.errors import SignAgentError
    from signagent.trust.tsl import parse_tsl
    data = open(sys.argv[1], "rb").read()
    resource.setrlimit(resource.RLIMIT_AS, (512 << 20, 512 << 20))  # the unfixed parser needed 729 MB
    try:
        parse_tsl(data)
    except SignAgentError as exc:
        print("ERROR", exc.code)
    except MemoryError:
        print("MemoryError")
    else:
        print("NO ERROR")
""")


def test_millions_of_elements_in_one_ca_stay_in_bounded_memory(tmp_path):
    # The probe's list: 32 MB of 8 M empty elements (inside one CA, so that the unfixed parser held them all).
    path = tmp_path / "tsl.xml"
    path.write_bytes(OPEN + CA_OPEN + b"<a/>" * (8 << 20) + CA_CLOSE + CLOSE)
    try:
        done = subprocess.run([sys.executable, "-c", _MEMORY_GUARD, str(path)], cwd=REPO, capture_output=True,
                              text=True, timeout=600)
    except subprocess.TimeoutExpired:  # a guard only: the assertion is on the outcome
        pytest.fail("parsing did not end")
    assert done.stdout.strip() == "ERROR too_many_elements", done.stderr[-500:]


def test_a_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "tsl.xml"
    os.mkfifo(fifo)
    code = "import sys\nfrom signagent.trust.tsl import parse_tsl\nparse_tsl(sys.argv[1])"
    try:
        done = subprocess.run([sys.executable, "-c", code, str(fifo)], cwd=REPO, capture_output=True, text=True,
                              timeout=120)
    except subprocess.TimeoutExpired:
        pytest.fail("parse_tsl blocked on a FIFO")
    assert "NotRegularFileError" in done.stderr
    with pytest.raises(NotRegularFileError):
        parse_tsl(fifo)

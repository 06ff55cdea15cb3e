"""The standard's known answers for Streebog (GOST R 34.11-2012 Appendix A = RFC 6986 §10, plus the 144-byte
carry vector), on every Streebog backend that is present, and through the public API.

The vectors are read from ``tests/vectors/streebog.json`` (see its README for the byte order: ``message_hex`` and
``digest_hex`` are the bytes fed to and returned by implementations, the reverse of the standard's printed hex).
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from signagent.gost import _backend, streebog


def _native_or_skip() -> ModuleType:
    try:
        module = importlib.import_module("signagent.gost._streebog_c")
    except ImportError as exc:  # not built here; test_backend.py is the test that insists on it in CI
        pytest.skip(f"native Streebog not importable: {exc}")
    if not hasattr(module, "Streebog"):
        pytest.skip("signagent.gost._streebog_c is still the empty stub")
    return module


BACKENDS = {
    "ref": lambda: importlib.import_module("signagent.gost._streebog_ref"),
    "native": _native_or_skip,
}


@pytest.fixture(params=sorted(BACKENDS))
def backend(request: pytest.FixtureRequest) -> ModuleType:
    """Each Streebog backend module (the native one is skipped while it is not built)."""
    return BACKENDS[request.param]()


@pytest.fixture(scope="module")
def vectors(vectors_dir: Path) -> list[dict[str, Any]]:
    data = json.loads((vectors_dir / "streebog.json").read_text(encoding="utf-8"))
    return data["vectors"]


def _size(vector: dict[str, Any]) -> int:
    return 64 if vector["id"].endswith("-512") else 32


def test_vector_file_has_the_standard_examples(vectors: list[dict[str, Any]]) -> None:
    ids = {v["id"] for v in vectors}
    assert {"M1-256", "M1-512", "M2-256", "M2-512", "habr144-256", "habr144-512"} <= ids
    for v in vectors:
        assert len(bytes.fromhex(v["message_hex"])) == v["message_len"]
        if "digest_as_printed_in_standard_be" in v:  # the README's rule: implementations output the reverse
            assert bytes.fromhex(v["digest_as_printed_in_standard_be"])[::-1].hex() == v["digest_hex"]


def test_known_answers_one_shot(backend: ModuleType, vectors: list[dict[str, Any]]) -> None:
    for v in vectors:
        h = backend.Streebog(_size(v), bytes.fromhex(v["message_hex"]))
        assert h.hexdigest() == v["digest_hex"], v["id"]


def test_known_answers_fed_byte_by_byte(backend: ModuleType, vectors: list[dict[str, Any]]) -> None:
    for v in vectors:
        h = backend.Streebog(_size(v))
        for byte in bytes.fromhex(v["message_hex"]):
            h.update(bytes([byte]))
        assert h.digest() == bytes.fromhex(v["digest_hex"]), v["id"]


def test_known_answers_from_the_printed_form(backend: ModuleType, vectors: list[dict[str, Any]]) -> None:
    # Starting from the standard's own big-endian printing guards against a vector file that is itself wrong.
    for v in vectors:
        if "message_as_printed_in_standard_be" not in v:
            continue
        message = bytes.fromhex(v["message_as_printed_in_standard_be"])[::-1]
        digest = backend.Streebog(_size(v), message).digest()
        assert digest[::-1].hex() == v["digest_as_printed_in_standard_be"], v["id"]


def test_message_text_of_examples(vectors: list[dict[str, Any]]) -> None:
    # M1 is ASCII digits, M2 the cp1251 "Се ветри, Стрибожи внуци..." line: the bytes come from the text.
    for v in vectors:
        if "message_text" in v:
            assert v["message_text"].encode(v["message_text_encoding"]).hex() == v["message_hex"], v["id"]


# ---------------------------------------------------------------------------------------------- public API


def _public_or_skip() -> None:
    if not hasattr(_backend.streebog_impl, "Streebog"):
        pytest.skip(f"the active backend {_backend.streebog_impl.__name__} is still the empty stub")


def test_public_constructors(vectors: list[dict[str, Any]]) -> None:
    _public_or_skip()
    for v in vectors:
        constructor = streebog.streebog512 if _size(v) == 64 else streebog.streebog256
        assert constructor(bytes.fromhex(v["message_hex"])).hexdigest() == v["digest_hex"], v["id"]


@pytest.mark.parametrize(
    ("name", "size"),
    [
        ("streebog256", 32),
        ("streebog512", 64),
        ("STREEBOG512", 64),
        ("md_gost12_256", 32),
        ("md_gost12_512", 64),
        ("1.2.643.7.1.1.2.2", 32),
        ("1.2.643.7.1.1.2.3", 64),
    ],
)
def test_new_by_name(name: str, size: int, vectors: list[dict[str, Any]]) -> None:
    _public_or_skip()
    m1 = next(v for v in vectors if v["id"] == f"M1-{size * 8}")
    h = streebog.new(name, bytes.fromhex(m1["message_hex"]))
    assert h.digest_size == size
    assert h.name == f"streebog{size * 8}"
    assert h.hexdigest() == m1["digest_hex"]


def test_public_api_under_signagent_pure(vectors_dir: Path) -> None:
    # A fresh interpreter with SIGNAGENT_PURE=1 must serve the public API from the reference, with right answers.
    code = (
        "import json, sys\n"
        "from signagent.gost import streebog, backend_name\n"
        "vs = json.load(open(sys.argv[1]))['vectors']\n"
        "assert backend_name() == 'pure', backend_name()\n"
        "for v in vs:\n"
        "    c = streebog.streebog512 if v['id'].endswith('-512') else streebog.streebog256\n"
        "    h = c(bytes.fromhex(v['message_hex']))\n"
        "    assert type(h).__module__.endswith('_streebog_ref'), type(h)\n"
        "    assert h.hexdigest() == v['digest_hex'], v['id']\n"
        "print('ok', len(vs))\n"
    )
    env = dict(os.environ, SIGNAGENT_PURE="1")
    out = subprocess.run(
        [sys.executable, "-c", code, str(vectors_dir / "streebog.json")],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("ok ")

"""The registry of error codes: one entry per code, both languages, every class of the tree declared, templates
whole for the details raise sites give, no code shared with a report reason under another meaning."""

from __future__ import annotations

import importlib
import inspect
import os
import pkgutil
import re
import stat
from pathlib import Path

import pytest

import pkcs11_sim
import signagent
from signagent import fileio
from signagent.errors import FileAccessError, NotRegularFileError, SignAgentError, UsageError
from signagent.errors.registry import ENTRIES, REGISTRY, placeholders, render

# Modules that cannot be imported in a plain test process (a C module loaded only by the PKCS#11 module).
_NOT_IMPORTABLE = ("pkcs11_sim._module", "pkcs11_sim.libpkcs11sim")


def _import_everything() -> None:
    for package in (signagent, pkcs11_sim):
        for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            if info.name.endswith("__main__") or info.name.startswith(_NOT_IMPORTABLE):
                continue
            try:
                importlib.import_module(info.name)
            except ImportError as exc:  # an optional dependency (FastAPI, pyscard) missing here
                if not isinstance(exc, ModuleNotFoundError) or (exc.name or "").startswith(("signagent", "pkcs11_sim")):
                    raise


def _error_classes() -> list[type[SignAgentError]]:
    _import_everything()
    seen: list[type[SignAgentError]] = []
    todo: list[type[SignAgentError]] = [SignAgentError]
    while todo:
        cls = todo.pop()
        if cls not in seen:
            seen.append(cls)
            todo.extend(cls.__subclasses__())
    return seen


def _source(cls: type) -> str:
    try:
        return inspect.getsource(cls)
    except (OSError, TypeError):  # made at run time (too_large_error) or in C: nothing spelled in a class body
        return ""


def _resolve(dotted: str) -> type:
    module, _, name = dotted.rpartition(".")
    return getattr(importlib.import_module(module), name)  # type: ignore[no-any-return]


def test_codes_unique_and_messages_bilingual() -> None:
    codes = [e.code for e in ENTRIES]
    assert len(codes) == len(set(codes)) == len(REGISTRY)
    for entry in ENTRIES:
        assert entry.code.isidentifier() and entry.code == entry.code.lower()
        assert entry.messages, entry.code
        for message in entry.messages:
            assert message.en and message.ru, entry.code
            assert any("\u0400" <= ch <= "\u04ff" for ch in message.ru), (entry.code, message.ru)
            assert not re.search(r"--[a-z]", message.en + message.ru), (entry.code, "a flag in a wording")
        generic = entry.generic
        assert generic.situation == "" and not placeholders(generic.en) | placeholders(generic.ru), entry.code


def test_every_error_class_has_its_code_in_the_registry() -> None:
    classes = _error_classes()
    assert len(classes) > 40
    missing = sorted({f"{c.__module__}.{c.__qualname__}: {c.code}" for c in classes if c.code not in REGISTRY})
    assert not missing
    # Messages and retriability live in the registry, not in class bodies.
    spelled = sorted(f"{c.__module__}.{c.__qualname__}" for c in classes
                     if c is not SignAgentError and re.search(r"^\s+(default_message|retriable)\b", _source(c), re.M))
    assert not spelled
    for cls in classes:
        entry = REGISTRY[cls.code]
        assert cls.retriable is entry.retriable, cls
        assert (cls.default_message, cls.default_message_ru) == (entry.generic.en, entry.generic.ru), cls


def test_registry_names_the_class_of_each_code() -> None:
    _import_everything()
    for entry in ENTRIES:
        cls = _resolve(entry.cls)
        assert issubclass(cls, SignAgentError) and cls.code == entry.code, entry


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.code)
def test_every_wording_renders_whole_with_its_placeholders(entry) -> None:
    for message in entry.messages:
        details = {name: "x" for name in placeholders(message.en) | placeholders(message.ru)}
        if message.situation:
            details["situation"] = message.situation
        en, ru = render(entry.code, details) or ("", "")
        assert "?" not in en + ru or "?" in message.en + message.ru, (entry.code, en, ru)
        assert (en, ru) != ("", "")


def test_raise_sites_of_files_give_whole_messages(tmp_path: Path) -> None:
    missing, directory, fifo = tmp_path / "missing", tmp_path / "dir", tmp_path / "fifo"
    directory.mkdir()
    os.mkfifo(fifo)
    big = tmp_path / "big"
    big.write_bytes(b"x" * 10)
    cases = [
        (lambda: fileio.read_capped(missing, 5), "file_access", "no such file"),
        (lambda: fileio.read_capped(directory, 5), "file_access", "is a directory"),
        (lambda: fileio.read_capped(fifo, 5), "not_a_regular_file", "FIFO"),
        (lambda: fileio.read_capped(big, 5), "input_too_large", "5-byte limit"),
        (lambda: fileio.check_output(directory), "file_access", "is a directory"),
        (lambda: fileio.check_output(fifo), "not_a_regular_file", "standard output"),
    ]
    for call, code, text in cases:
        with pytest.raises(SignAgentError) as caught:
            call()
        err = caught.value
        assert err.code == code and text in err.message, err.message
        assert "?" not in err.message + err.message_ru and str(err.details["path"]) in err.message_ru
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


def test_secret_file_errors_are_whole(tmp_path: Path) -> None:
    nul, latin = tmp_path / "nul", tmp_path / "latin"
    nul.write_bytes(b"12\x0034\n")
    latin.write_bytes(b"\xff\xfe\n")
    big = tmp_path / "big"
    big.write_bytes(b"1" * (fileio.MAX_SECRET + 1))
    for path, code, text in ((nul, "invalid_input", "NUL byte"), (latin, "invalid_input", "byte 1"),
                             (big, "input_too_large", f"{fileio.MAX_SECRET} bytes")):
        with pytest.raises(SignAgentError) as caught:
            fileio.read_secret(path)
        assert caught.value.code == code and text in caught.value.message
        assert "?" not in caught.value.message + caught.value.message_ru and "PIN" in caught.value.message_ru


def test_details_pick_the_wording_and_a_missing_detail_falls_back() -> None:
    assert FileAccessError(situation="directory", path="/d").message == "/d: is a directory"
    assert FileAccessError(situation="directory").message == "cannot access the file"
    assert FileAccessError(path="/p").message_ru == "/p: нет доступа к файлу"
    assert NotRegularFileError().message == "not a regular file"
    err = UsageError(situation="year_out_of_range", parameter="at", first=1, last=9998, year=9999)
    assert err.message == "the year must be between 1 and 9998, not 9999"
    assert err.to_dict()["details"] == {"situation": "year_out_of_range", "parameter": "at", "first": "1",
                                        "last": "9998", "year": "9999"}
    # A message given at the raise site still wins (specific information the templates cannot carry).
    assert UsageError("exactly this", message_ru="именно это").message == "exactly this"


def test_report_reason_codes_do_not_reuse_error_codes_with_another_meaning() -> None:
    """A code means one thing wherever it appears: a reason of a report and an error share only ``not_der``
    (the certificate is not DER), which both use for the same situation."""
    _import_everything()
    reasons: set[str] = set()
    for module_name in ("signagent.trust.report", "signagent.cms.report", "signagent.outcome"):
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError:  # the reason types are being merged into one module
            continue
        for value in vars(module).values():
            if isinstance(value, dict) and value and all(isinstance(k, str) and k.isidentifier() for k in value) \
                    and all(isinstance(v, tuple) for v in value.values()):
                reasons |= set(value)
    assert len(reasons) > 20
    assert reasons & set(REGISTRY) <= {"not_der"}

"""service.prehash: the file of `sign --detached` hashed while the command starts, used only if unchanged."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from signagent.gost import streebog256
from signagent.service import prehash


@pytest.fixture(autouse=True)
def _fresh():
    prehash._job = None
    yield
    prehash._job = None


def test_the_digest_of_an_unchanged_file_is_taken_once(tmp_path: Path) -> None:
    doc = tmp_path / "doc.bin"
    doc.write_bytes(os.urandom(3 * (1 << 20) + 17))
    prehash.start(str(doc))
    assert prehash.take(str(doc), 32) == streebog256(doc.read_bytes()).digest()
    assert prehash.take(str(doc), 32) is None  # used once


@pytest.mark.parametrize("change", ["rewrite", "replace", "other_path", "streebog512"])
def test_no_digest_when_it_might_not_be_the_files(tmp_path: Path, change: str) -> None:
    doc = tmp_path / "doc.bin"
    doc.write_bytes(b"a" * 100_000)
    prehash.start(str(doc))
    prehash._job.thread.join()
    if change == "rewrite":
        doc.write_bytes(b"b" * 100_001)
    elif change == "replace":
        other = tmp_path / "other.bin"
        other.write_bytes(b"a" * 100_000)
        os.replace(other, doc)  # same content and size, another file: not the one hashed
    path = str(tmp_path / "elsewhere") if change == "other_path" else str(doc)
    assert prehash.take(path, 64 if change == "streebog512" else 32) is None


def test_not_for_fifos_or_missing_files(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    prehash.start(str(fifo))  # must not block on the FIFO
    assert prehash.take(str(fifo), 32) is None
    prehash._job = None
    prehash.start(str(tmp_path / "missing"))
    assert prehash.take(str(tmp_path / "missing"), 32) is None


@pytest.mark.parametrize(("args", "expected"), [
    (["doc.pdf", "--detached", "--cert", "c.pem", "--key", "k.pem", "-o", "s.sig"], "doc.pdf"),
    (["--cert", "c.pem", "--detached", "doc.pdf", "--output=s.sig", "--key", "k.pem", "--pem"], "doc.pdf"),
    (["doc.pdf", "--cert", "c.pem", "--key", "k.pem", "-o", "s.sig"], None),  # attached: nothing to gain
    (["-", "--detached", "--cert", "c.pem", "-o", "s.sig"], None),  # standard input
    (["doc.pdf", "--detached", "--help"], None),  # anything unexpected: no guess
    (["a", "b", "--detached"], None),
])
def test_the_argument_scan_is_conservative(args: list[str], expected: str | None) -> None:
    prehash.start_from_argv(args)
    assert (prehash._job.path if prehash._job else None) == expected
    if prehash._job:
        prehash._job.thread.join()


def test_the_command_signs_from_the_prehashed_digest(tmp_path: Path) -> None:
    from signagent.cms.verification import verify
    from signagent.testpki import generate

    pki = generate(tmp_path / "pki")
    doc = tmp_path / "doc.bin"
    doc.write_bytes(os.urandom(2_000_000))
    sig = tmp_path / "doc.sig"
    signagent = Path(sys.executable).with_name("signagent")
    done = subprocess.run([str(signagent), "sign", str(doc), "--detached", "--cert", str(pki["head"].paths["pem"]),
                           "--key", str(pki["head"].paths["key"]), "-o", str(sig)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr  # the hashing thread imports nothing: no race with the main thread's
    report = verify(sig.read_bytes(), content=doc.read_bytes())
    assert [r.code for r in report.signers[0].reasons] == ["chain_not_checked"]  # the signature itself verifies
    assert verify(sig.read_bytes(), content=doc.read_bytes() + b"x").status == "invalid"

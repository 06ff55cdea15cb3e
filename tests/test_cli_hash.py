"""`signagent hash`: sha256sum-like output, stdin, errors, JSON, constant memory (DESIGN.md section 3)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from signagent.gost._backend import BACKEND_NAME


def run(*args: str, stdin: bytes = b"", cwd: Path | None = None) -> subprocess.CompletedProcess[bytes]:
    env = dict(os.environ, LANG="C.UTF-8", LC_ALL="", LC_MESSAGES="")
    return subprocess.run([sys.executable, "-m", "signagent", *args], input=stdin, capture_output=True,
                          cwd=cwd, env=env, timeout=300)


@pytest.fixture()
def m1(vectors_dir: Path) -> dict[str, dict[str, str]]:
    vectors = json.loads((vectors_dir / "streebog.json").read_text())["vectors"]
    return {v["id"]: v for v in vectors}


def test_known_answer_lines(tmp_path: Path, m1: dict[str, dict[str, str]]) -> None:
    f = tmp_path / "m1.bin"
    f.write_bytes(bytes.fromhex(m1["M1-256"]["message_hex"]))
    out = run("hash", str(f))
    assert out.returncode == 0, out.stderr
    assert out.stdout.decode() == f"{m1['M1-256']['digest_hex']}  {f}\n"
    out = run("hash", "--alg", "streebog512", str(f))
    assert out.stdout.decode() == f"{m1['M1-512']['digest_hex']}  {f}\n"


def test_stdin_and_several_files(tmp_path: Path, m1: dict[str, dict[str, str]]) -> None:
    data = bytes.fromhex(m1["M2-256"]["message_hex"])
    (tmp_path / "a").write_bytes(data)
    (tmp_path / "b").write_bytes(b"")
    out = run("hash", "a", "-", "b", stdin=data, cwd=tmp_path)
    assert out.returncode == 0
    lines = out.stdout.decode().splitlines()
    assert lines[0] == f"{m1['M2-256']['digest_hex']}  a"
    assert lines[1] == f"{m1['M2-256']['digest_hex']}  -"
    # Streebog-256 of the empty message (GOST R 34.11-2012; the well-known value 3f539a21...)
    assert lines[2] == "3f539a213e97c802cc229d474c6aa32a825a360b2a933a949fd925208d9ce1bb  b"


def test_missing_file_reports_and_continues(tmp_path: Path) -> None:
    (tmp_path / "ok").write_bytes(b"x")
    out = run("hash", "nope", "ok", str(tmp_path), cwd=tmp_path)
    assert out.returncode == 2
    err = out.stderr.decode().splitlines()
    assert err == ["signagent: nope: no such file", f"signagent: {tmp_path}: is a directory"]
    assert out.stdout.decode().endswith("  ok\n")
    assert "Traceback" not in out.stderr.decode()


def test_russian_messages(tmp_path: Path) -> None:
    env = dict(os.environ, LANG="ru_RU.UTF-8", LC_ALL="")
    out = subprocess.run([sys.executable, "-m", "signagent", "hash", "nope"], capture_output=True, env=env,
                         cwd=tmp_path, timeout=60)
    assert out.returncode == 2
    assert out.stderr.decode() == "signagent: nope: файл не найден\n"


def test_json_output(tmp_path: Path, m1: dict[str, dict[str, str]]) -> None:
    (tmp_path / "f").write_bytes(bytes.fromhex(m1["M1-512"]["message_hex"]))
    out = run("hash", "--json", "--alg", "streebog512", "f", "missing", cwd=tmp_path)
    assert out.returncode == 2
    doc = json.loads(out.stdout)
    assert doc[0] == {"file": "f", "algorithm": "streebog512", "digest": m1["M1-512"]["digest_hex"]}
    assert doc[1]["error"]["code"] == "file_access"


def test_usage_errors() -> None:
    assert run("hash").returncode == 2
    bad = run("hash", "--alg", "md5", "x")
    assert bad.returncode == 2
    assert b"md5" in bad.stderr


def test_name_with_newline_is_escaped_like_sha256sum(tmp_path: Path) -> None:
    (tmp_path / "a\nb").write_bytes(b"")
    out = run("hash", "a\nb", cwd=tmp_path)
    assert out.returncode == 0
    assert out.stdout.decode() == "\\3f539a213e97c802cc229d474c6aa32a825a360b2a933a949fd925208d9ce1bb  a\\nb\n"


@pytest.mark.slow
@pytest.mark.skipif(BACKEND_NAME != "native", reason="1 GiB needs the native core")
def test_one_gibibyte_in_bounded_memory(tmp_path: Path) -> None:
    big = tmp_path / "big.bin"
    with open(big, "wb") as f:  # sparse: costs no disk, reads as zeros
        f.truncate(1 << 30)
    # The peak is read inside the child from /proc/self/status (VmHWM belongs to the process's own address
    # space): getrusage's ru_maxrss would also count the forked copy of this large pytest process.
    code = (
        "import sys\n"
        "from signagent.cli import main\n"
        "rc = main(['hash', sys.argv[1]])\n"
        "hwm = next(l for l in open('/proc/self/status') if l.startswith('VmHWM:')).split()[1]\n"
        "print('VmHWM', hwm, file=sys.stderr)\n"
        "sys.exit(rc)\n"
    )
    out = subprocess.run([sys.executable, "-c", code, str(big)], capture_output=True, text=True, timeout=600,
                         env=dict(os.environ, LANG="C.UTF-8"))
    assert out.returncode == 0, out.stderr
    assert out.stdout.endswith(f"  {big}\n") and len(out.stdout.split()[0]) == 64
    peak_mb = int(out.stderr.split("VmHWM")[1].split()[0]) / 1024  # kB in /proc
    assert peak_mb < 50, f"peak RSS {peak_mb:.1f} MB"

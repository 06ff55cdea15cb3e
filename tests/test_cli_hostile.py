"""The command line under hostile input (issue 10): devices and FIFOs as inputs and outputs, endless streams,
signals, undecodable bytes, odd terminals, internal errors. Every case must end in one line on stderr and a
defined exit status, never a hang, a traceback or a replaced device.

Commands that could hang run in a subprocess whose timeout is only a guard against a hung suite (a hang is the
defect: the timeout turns it into a failure); no test asserts how long anything takes.
"""

from __future__ import annotations

import io
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from signagent.cli import main
from signagent.errors import InputTooLargeError
from signagent.pkcs8 import keyfile
from signagent.testpki import generate
from signagent.testpki.generator import TestPKI

_ENTRY = "import sys; from signagent.cli import main; sys.exit(main(sys.argv[1:]))"
_GUARD = 120  # seconds: only a guard against a hung suite (a hang is the defect), never a pass/fail timing


def cli(*args: object, stdin: bytes | int | None = b"", env: dict[str, str] | None = None,
        cwd: Path | None = None) -> subprocess.CompletedProcess[bytes]:
    """``signagent ARGS`` in a subprocess (arguments may be bytes: argv need not be valid text)."""
    full_env = dict(os.environ, LANG="C.UTF-8", LC_ALL="", LC_MESSAGES="")
    full_env.update(env or {})
    argv = [a if isinstance(a, bytes) else str(a) for a in args]
    kwargs: dict[str, object] = {"input": stdin} if isinstance(stdin, bytes) else {"stdin": stdin}
    return subprocess.run([sys.executable, "-c", _ENTRY, *argv], capture_output=True, env=full_env, cwd=cwd,
                          timeout=_GUARD, **kwargs)  # type: ignore[call-overload]


def one_line_error(done: subprocess.CompletedProcess[bytes], *fragments: str, rc: int = 2) -> str:
    """The single stderr line of a failed command, checked for exit status, no traceback and ``fragments``."""
    err = done.stderr.decode("utf-8", errors="replace")
    assert done.returncode == rc, (done.returncode, err)
    assert "Traceback" not in err, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("signagent: "), lines
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> TestPKI:
    return generate(tmp_path_factory.mktemp("hostile-pki"))


@pytest.fixture()
def work(tmp_path: Path) -> Path:
    (tmp_path / "doc.txt").write_text("документ")
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "empty").mkdir()
    return tmp_path


def _signed(pki: TestPKI, work: Path, *extra: str) -> Path:
    out = work / ("doc.sig" if not extra else "doc.detached.sig")
    done = cli("sign", work / "doc.txt", "--cert", pki["head"].paths["pem"], "--key", pki["head"].paths["key"],
               "-o", out, *extra)
    assert done.returncode == 0, done.stderr
    return out


# -- defect 3: outputs never replace devices; `-o -` is standard output -----------------------------------------


@pytest.fixture()
def device(tmp_path: Path) -> Path:
    """A character device to write to: as root a private null device (major 1, minor 3) made in the test's
    directory, so that running this test on the defective code cannot turn the system's /dev/null into a regular
    file (it did once); otherwise /dev/null itself, which a non-root user cannot replace anyway."""
    if os.geteuid() == 0:
        node = tmp_path / "null-device"
        try:
            os.mknod(node, stat.S_IFCHR | 0o666, os.makedev(1, 3))
            return node
        except OSError:  # a filesystem mounted nodev, a container without CAP_MKNOD
            pytest.skip("cannot make a private device node (and /dev/null must not be put at risk as root)")
    return Path(os.devnull)


def test_sign_output_device_is_refused_and_stays_a_device(pki: TestPKI, work: Path, device: Path) -> None:
    done = cli("sign", work / "doc.txt", "--cert", pki["head"].paths["pem"], "--key", pki["head"].paths["key"],
               "-o", device)
    one_line_error(done, str(device), "character device", "regular file")
    assert stat.S_ISCHR(os.stat(device).st_mode)


@pytest.mark.parametrize("kind", ["fifo", "symlink-to-device"])
def test_sign_output_fifo_or_link_to_device_is_refused(pki: TestPKI, work: Path, device: Path, kind: str) -> None:
    target = work / "fifo"
    if kind != "fifo":
        target = work / "out.sig"
        target.symlink_to(device)
    done = cli("sign", work / "doc.txt", "--cert", pki["head"].paths["pem"], "--key", pki["head"].paths["key"],
               "-o", target)
    one_line_error(done, "must be a regular file")
    assert stat.S_ISFIFO(target.lstat().st_mode) if kind == "fifo" else target.is_symlink()
    assert stat.S_ISCHR(os.stat(device).st_mode)
    assert not [p.name for p in work.iterdir() if p.name.endswith(".tmp")]


def test_sign_to_stdout_and_from_stdin(pki: TestPKI, work: Path) -> None:
    done = cli("sign", "-", "--cert", pki["head"].paths["pem"], "--key", pki["head"].paths["key"], "-o", "-",
               stdin="документ".encode())
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(b"\x30")
    checked = cli("verify", "-", "--trust", pki.root.paths["pem"], "--intermediate", pki.intermediate.paths["pem"],
                  "--revocation", "off", "--offline", stdin=done.stdout)
    assert checked.returncode == 0, checked.stderr


def test_csr_and_key_generate_refuse_device_outputs(pki: TestPKI, work: Path, device: Path) -> None:
    one_line_error(cli("csr", "--key", pki["head"].paths["key"], "--cn", "x", "-o", device, "--force"),
                   "character device")
    one_line_error(cli("key", "generate", "--no-encrypt", "-o", device, "--force"), "character device")
    assert stat.S_ISCHR(os.stat(device).st_mode)


# -- defect 11: SIGTERM / Ctrl-C leave no temporary file -------------------------------------------------------


@pytest.mark.parametrize(("signum", "rc"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_signal_while_signing_leaves_no_temporary_file(pki: TestPKI, work: Path, signum: int, rc: int) -> None:
    out = work / "doc.sig"
    r, w = os.pipe()  # standard input that never ends: the command waits inside its atomic writer
    env = dict(os.environ, LANG="C.UTF-8", LC_ALL="", LC_MESSAGES="")
    proc = subprocess.Popen([sys.executable, "-c", _ENTRY, "sign", "-", "--cert", str(pki["head"].paths["pem"]),
                             "--key", str(pki["head"].paths["key"]), "-o", str(out)],
                            stdin=r, stderr=subprocess.PIPE, env=env)
    os.close(r)
    try:
        os.write(w, b"partial content")
        deadline = time.monotonic() + _GUARD  # a guard only: the file appears as soon as the command starts
        while not [p for p in work.iterdir() if p.name.endswith(".tmp")]:
            assert proc.poll() is None, proc.stderr.read()  # type: ignore[union-attr]
            assert time.monotonic() < deadline, "the temporary output never appeared"
            time.sleep(0.05)
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=_GUARD)
    finally:
        os.close(w)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == rc, err
    assert b"Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert sorted(p.name for p in work.iterdir()) == ["doc.txt", "empty", "fifo"]


# -- defects 4 and 6: inputs are regular files (or `-`), read without blocking and capped ---------------------


def _fifo_cases(pki: TestPKI) -> list[tuple[str, list[object]]]:
    cert, key, root = pki["head"].paths["pem"], pki["head"].paths["key"], pki.root.paths["pem"]
    sig = "{sig}"
    return [
        ("cert show", ["cert", "show", "{fifo}"]),
        ("cert validate FILE", ["cert", "validate", "{fifo}", "--trust", root]),
        ("cert validate --trust", ["cert", "validate", cert, "--trust", "{fifo}"]),
        ("cert validate --intermediate", ["cert", "validate", cert, "--trust", root, "--intermediate", "{fifo}"]),
        ("cert validate --crl", ["cert", "validate", cert, "--trust", root, "--crl", "{fifo}"]),
        ("sign FILE", ["sign", "{fifo}", "--cert", cert, "--key", key, "-o", "{out}"]),
        ("sign --cert", ["sign", "{doc}", "--cert", "{fifo}", "--key", key, "-o", "{out}"]),
        ("sign --key", ["sign", "{doc}", "--cert", cert, "--key", "{fifo}", "-o", "{out}"]),
        ("sign --pin-file", ["sign", "{doc}", "--cert", cert, "--key", key, "--pin-file", "{fifo}", "-o", "{out}"]),
        ("verify SIGNATURE", ["verify", "{fifo}", "--trust", root]),
        ("verify --content", ["verify", sig, "--content", "{fifo}", "--trust", root]),
        ("verify --cert", ["verify", sig, "--cert", "{fifo}", "--trust", root]),
        ("verify --trust", ["verify", sig, "--trust", "{fifo}"]),
        ("verify --intermediate", ["verify", sig, "--trust", root, "--intermediate", "{fifo}"]),
        ("verify --crl", ["verify", sig, "--trust", root, "--crl", "{fifo}"]),
        ("key generate --password-file", ["key", "generate", "--password-file", "{fifo}", "-o", "{out}"]),
        ("csr --key", ["csr", "--key", "{fifo}", "--cn", "x"]),
        ("csr --password-file", ["csr", "--key", key, "--password-file", "{fifo}", "--cn", "x"]),
        ("csr verify", ["csr", "verify", "{fifo}"]),
        ("trust import", ["trust", "--store", "{empty}", "import", "{fifo}"]),
        ("trust import-tsl", ["trust", "--store", "{empty}", "import-tsl", "{fifo}"]),
        ("token keygen --pin-file", ["token", "keygen", "--token", "none", "--pin-file", "{fifo}"]),
        ("certs --trust", ["certs", "--keys-dir", "{empty}", "--no-trust-store", "--trust", "{fifo}"]),
    ]


def test_every_input_option_refuses_a_fifo(pki: TestPKI, work: Path) -> None:
    sig = _signed(pki, work, "--detached")
    names = {"fifo": work / "fifo", "doc": work / "doc.txt", "out": work / "new.out", "sig": sig,
             "empty": work / "empty"}
    failures = []
    for label, args in _fifo_cases(pki):
        argv = [str(a).format(**names) if isinstance(a, str) else a for a in args]
        try:
            done = cli(*argv, env={"SIGNAGENT_PKCS11_MODULES": ""})
        except subprocess.TimeoutExpired:
            failures.append(f"{label}: blocked on the FIFO")
            continue
        err = done.stderr.decode(errors="replace").strip()
        if done.returncode != 2 or "FIFO" not in err or len(err.splitlines()) != 1:
            failures.append(f"{label}: exit {done.returncode}: {err[-300:]}")
    assert not failures, "\n".join(failures)
    assert stat.S_ISFIFO((work / "fifo").lstat().st_mode) and not (work / "new.out").exists()


@pytest.mark.parametrize("args", [
    ["sign", "/dev/zero", "--cert", "{cert}", "--key", "{key}", "-o", "{out}"],
    ["verify", "/dev/zero", "--trust", "{root}"],
    ["verify", "{sig}", "--content", "/dev/zero", "--trust", "{root}"],
    ["cert", "show", "/dev/zero"],
])
def test_endless_devices_are_refused(pki: TestPKI, work: Path, args: list[str]) -> None:
    names = {"cert": pki["head"].paths["pem"], "key": pki["head"].paths["key"], "root": pki.root.paths["pem"],
             "out": work / "out.sig", "sig": work / "missing.sig"}
    if "{sig}" in args:
        names["sig"] = _signed(pki, work, "--detached")
    one_line_error(cli(*[a.format(**names) for a in args]), "/dev/zero", "character device")
    assert not (work / "out.sig").exists()


def test_attached_signing_of_a_pipe_is_capped(pki: TestPKI, monkeypatch: pytest.MonkeyPatch) -> None:
    from signagent.cms import signing
    from signagent.service.signatures import load_signer

    class Pipe(io.RawIOBase):  # no size, no seek: like standard input fed by `cat /dev/zero |`
        def readable(self) -> bool:
            return True

        def readinto(self, buf) -> int:  # type: ignore[no-untyped-def,override]
            buf[:] = bytes(len(buf))
            return len(buf)

    monkeypatch.setattr(signing, "MAX_UNSIZED_CONTENT", 3 << 20)
    signer, _ = load_signer(pki["head"].paths["pem"], pki["head"].paths["key"])
    with pytest.raises(InputTooLargeError, match="limited to 3 MiB") as info:
        signing.sign(Pipe(), signer, out=io.BytesIO())
    assert info.value.code == "input_too_large"
    small = io.BufferedReader(io.BytesIO(b"abc"))  # type: ignore[arg-type]
    assert signing.sign(small, signer, out=None)  # within the cap: signed as before


def test_hash_still_reads_pipes_like_sha256sum(work: Path) -> None:
    done = cli("hash", "-", stdin=b"abc")
    assert done.returncode == 0 and done.stdout.endswith(b"  -\n")
    piped = cli("hash", "/dev/stdin", stdin=b"abc")
    assert piped.returncode == 0 and piped.stdout.split()[0] == done.stdout.split()[0]


# -- defect 5 (command line): no traceback, one line ----------------------------------------------------------


@pytest.mark.parametrize("when", ["9999-12-31T23:59:59", "0001-01-01", "9998-12-31T23:59:59-23:59", "1949-12-31"])
def test_at_outside_the_supported_years_is_a_usage_error(pki: TestPKI, work: Path, when: str) -> None:
    sig = _signed(pki, work)
    one_line_error(cli("verify", sig, "--trust", pki.root.paths["pem"], "--offline", "--at", when), "--at")
    one_line_error(cli("cert", "validate", pki["head"].paths["pem"], "--trust", pki.root.paths["pem"],
                       "--offline", "--at", when), "--at")


def test_undecodable_argv_text_is_a_usage_error(pki: TestPKI) -> None:
    one_line_error(cli("csr", "--key", pki["head"].paths["key"], b"--cn", b"\xff"), "--cn", "UTF-8")
    one_line_error(cli("token", "keygen", "--token", b"\xff\xfe", "--pin-file", "/nonexistent"), "--token")


def test_pin_file_with_undecodable_bytes(pki: TestPKI, work: Path) -> None:
    key = work / "head.enc.pem"
    keyfile.save_private_key(pki["head"].key, key, "secret")
    pin = work / "pin"
    pin.write_bytes(b"secr\xe9t\n")  # latin-1, not UTF-8
    done = cli("sign", work / "doc.txt", "--cert", pki["head"].paths["pem"], "--key", key, "--pin-file", pin,
               "-o", work / "out.sig")
    one_line_error(done, "not UTF-8")


@pytest.mark.parametrize("env", [{"PYTHONIOENCODING": "latin-1", "LANG": "ru_RU.ISO-8859-1"},
                                 {"PYTHONIOENCODING": "ascii", "LANG": "ru_RU.UTF-8"}])
def test_russian_output_on_a_legacy_terminal(pki: TestPKI, work: Path, env: dict[str, str]) -> None:
    sig = _signed(pki, work)
    done = cli("verify", sig, "--trust", pki.root.paths["pem"], "--intermediate", pki.intermediate.paths["pem"],
               "--offline", "--revocation", "off", env=env)
    assert done.returncode == 0, done.stderr
    assert b"Traceback" not in done.stderr and done.stdout
    one_line_error(cli("cert", "show", work / "missing", env=env), "missing")


def test_undecodable_file_names_are_printed_as_their_bytes(work: Path) -> None:
    (work / "n\udcffame").write_bytes(b"")  # the file name b"n\xffame"
    done = cli("hash", b"n\xffame", cwd=work, env={"PYTHONIOENCODING": "utf-8"})  # strict, unless we say so
    assert done.returncode == 0, done.stderr
    assert done.stdout.endswith(b"  n\xffame\n")  # as sha256sum prints it


def test_multi_line_messages_are_joined(work: Path, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    from signagent.errors import CertificateFormatError
    from signagent.service import hashing

    def broken(*args: object, **kwargs: object) -> bytes:
        raise CertificateFormatError("bad length\n    while parsing asn1crypto.x509.Certificate\n")

    monkeypatch.setattr(hashing, "hash_path", broken)
    monkeypatch.setenv("LANG", "C.UTF-8")
    assert main(["hash", str(work / "doc.txt")]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines == ["signagent: bad length while parsing asn1crypto.x509.Certificate"]


# -- defect 11: usage errors on one line; csr -o keeps an existing file -----------------------------------------


@pytest.mark.parametrize(("args", "where"), [
    (["sign", "--bogus"], "signagent sign"),
    (["verify"], "signagent verify"),
    (["hash", "--alg", "md5", "x"], "signagent hash"),
    (["no-such-command"], "signagent"),
])
def test_usage_errors_are_one_line(args: list[str], where: str) -> None:
    one_line_error(cli(*args), f"(see {where} --help)")


def test_csr_output_is_not_replaced_without_force(pki: TestPKI, work: Path) -> None:
    out = work / "req.csr"
    out.write_text("keep me")
    one_line_error(cli("csr", "--key", pki["head"].paths["key"], "--cn", "Тест", "-o", out), "exists", "--force")
    assert out.read_text() == "keep me"
    done = cli("csr", "--key", pki["head"].paths["key"], "--cn", "Тест", "-o", out, "--force")
    assert done.returncode == 0, done.stderr
    assert out.read_bytes().startswith(b"-----BEGIN CERTIFICATE REQUEST-----")


# -- defect 10: one password reader: a key made with any accepted password opens everywhere -------------------


@pytest.mark.parametrize("password", ["pass\rword", "pass\u2028word", "пароль с пробелом ", "x" * 4000])
def test_password_file_means_the_same_to_key_generate_and_sign(pki: TestPKI, work: Path, password: str) -> None:
    from signagent.service import keys, signatures

    pw = work / "pw"
    pw.write_bytes(password.encode() + b"\r\n")
    assert keys.read_password_file(pw) == signatures.read_password_file(pw).encode() == password.encode()
    key = work / "head.enc.pem"  # the head's key, encrypted as `key generate --password-file pw` would
    keyfile.save_private_key(pki["head"].key, key, keys.read_password_file(pw))
    done = cli("sign", work / "doc.txt", "--cert", pki["head"].paths["pem"], "--key", key, "--pin-file", pw,
               "-o", work / "out.sig")
    assert done.returncode == 0, done.stderr
    made = cli("key", "generate", "--password-file", pw, "-o", work / "new.pem")
    assert made.returncode == 0, made.stderr
    assert cli("csr", "--key", work / "new.pem", "--password-file", pw, "--cn", "x").returncode == 0


@pytest.mark.parametrize(("content", "fragment"), [
    (b"x" * 5000 + b"\n", "larger than 4096 bytes"),
    (b"\xff\xfe\n", "not UTF-8"),
    (b"pass\x00word\n", "NUL"),
    (b"\n", "empty"),
])
def test_key_generate_refuses_what_sign_could_not_read(work: Path, content: bytes, fragment: str) -> None:
    pw = work / "pw"
    pw.write_bytes(content)
    one_line_error(cli("key", "generate", "--password-file", pw, "-o", work / "new.pem"), fragment)
    assert not (work / "new.pem").exists()


# -- the safety net: anything unexpected is one line, a log file, exit 2 -------------------------------------


def test_internal_error_is_one_line_and_a_private_log(work: Path, monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    from signagent.service import hashing

    def bug(*args: object, **kwargs: object) -> bytes:
        raise RuntimeError("a bug in the hashing service")

    logs = work / "logs"
    monkeypatch.setenv("SIGNAGENT_LOG_DIR", str(logs))  # not the suite's guarded directory: this one is on purpose
    monkeypatch.setenv("LANG", "C.UTF-8")
    monkeypatch.setattr(hashing, "hash_path", bug)
    assert main(["hash", str(work / "doc.txt")]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("signagent: internal error, please report (details in "), lines
    (log,) = logs.iterdir()
    assert str(log) in lines[0]
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    text = log.read_text()
    assert "RuntimeError: a bug in the hashing service" in text and "Traceback" in text

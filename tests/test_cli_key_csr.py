"""`signagent key generate` and `signagent csr` / `signagent csr verify` (DESIGN.md section 3)."""

from __future__ import annotations

import io
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

import signagent.cli.keys  # noqa: F401  (registers `key` and `csr` with the root group)
from signagent.cli import main
from signagent.cms import pkcs10
from signagent.pkcs8 import keyfile, pbes2
from tests.conftest import require
from tests.oracles import openssl_gost as ossl

# The command module registers itself when imported (signagent/cli/__init__.py imports it in the product).
_ENTRY = "import sys, signagent.cli.keys; from signagent.cli import main; sys.exit(main(sys.argv[1:]))"

HEAD = ["--profile", "head", "--cn", "ООО «Ромашка»", "--surname", "Иванов", "--given-name", "Иван Иванович",
        "--org", "ООО «Ромашка»", "--ogrn", "1027700132195", "--innle", "7707083893", "--inn", "500100732259",
        "--snils", "11223344595", "--country", "RU", "--email", "head@romashka.ru", "--title", "Генеральный директор"]


class Result:
    """What a command run left behind, shaped like subprocess.CompletedProcess."""

    def __init__(self, returncode: int, stdout: bytes, stderr: bytes) -> None:
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


@pytest.fixture(autouse=True)
def _fast_and_quiet(monkeypatch: pytest.MonkeyPatch) -> None:
    # Few PBKDF2 rounds for the keys written here (the default count is exercised by test_console_script), no
    # terminal (so nothing prompts), English messages.
    monkeypatch.setattr(pbes2, "DEFAULT_ITERATIONS", 256)
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    for var, value in (("LANG", "C.UTF-8"), ("LC_ALL", ""), ("LC_MESSAGES", "")):
        monkeypatch.setenv(var, value)


@pytest.fixture()
def run(capsysbinary: pytest.CaptureFixture[bytes]):
    """Run ``signagent ARGS`` in this process (the console script's main) and capture its output."""
    def _run(*args: str) -> Result:
        capsysbinary.readouterr()
        rc = main(list(args))
        out = capsysbinary.readouterr()
        return Result(rc, out.out, out.err)
    return _run


def _one_line_error(out: Result, fragment: str) -> None:
    assert out.returncode == 2, (out.stdout, out.stderr)
    lines = out.stderr.decode().strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0], lines
    assert b"Traceback" not in out.stderr


@pytest.fixture()
def password_file(tmp_path: Path) -> Path:
    path = tmp_path / "pw.txt"
    path.write_text("пароль 123\n", encoding="utf-8")
    return path


@pytest.fixture()
def plain_key(tmp_path: Path, run) -> Path:
    out = run("key", "generate", "--curve", "tc26-512-A", "-o", str(tmp_path / "plain.pem"), "--no-encrypt")
    assert out.returncode == 0, out.stderr
    return tmp_path / "plain.pem"


def test_generate_encrypted(tmp_path: Path, password_file: Path, run) -> None:
    target = tmp_path / "k.pem"
    out = run("key", "generate", "--curve", "tc26-256-A", "-o", str(target), "--password-file", str(password_file),
              "--json")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["encrypted"] is True and report["curve"] == "id-tc26-gost-3410-2012-256-paramSetA"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert target.read_bytes().startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    key = keyfile.load_private_key(target, "пароль 123".encode())
    assert key.public_key().to_bytes().hex() == report["public_key"]


def test_generate_refusals(tmp_path: Path, password_file: Path, plain_key: Path, run) -> None:
    # no terminal and neither --password-file nor --no-encrypt
    _one_line_error(run("key", "generate", "-o", str(tmp_path / "x.pem")), "--password-file")
    assert not (tmp_path / "x.pem").exists()
    before = plain_key.read_bytes()
    _one_line_error(run("key", "generate", "-o", str(plain_key), "--no-encrypt"), "already exists")
    assert plain_key.read_bytes() == before
    _one_line_error(run("key", "generate", "-o", str(tmp_path / "y.pem"), "--no-encrypt", "--password-file",
                        str(password_file)), "exclude")
    _one_line_error(run("key", "generate", "--curve", "no-such-curve", "-o", str(tmp_path / "z.pem"),
                        "--no-encrypt"), "no-such-curve")
    out = run("key", "generate", "-o", str(plain_key), "--no-encrypt", "--force")
    assert out.returncode == 0 and plain_key.read_bytes() != before
    assert "NOT encrypted" in out.stdout.decode()


def test_csr_head_profile_and_verify(tmp_path: Path, password_file: Path, run) -> None:
    key_path = tmp_path / "k.pem"
    assert run("key", "generate", "-o", str(key_path), "--password-file", str(password_file)).returncode == 0
    req = tmp_path / "r.csr"
    out = run("csr", "--key", str(key_path), "--password-file", str(password_file), *HEAD, "-o", str(req))
    assert out.returncode == 0, out.stderr
    info = pkcs10.parse_request(req.read_bytes())
    assert info.signature_valid
    assert info.public_key == keyfile.load_private_key(key_path, "пароль 123").public_key()
    assert info.subject.get("ОГРН") == "1027700132195" and info.subject.get("T") == "Генеральный директор"
    names = {e.name for e in info.extensions}
    assert names == {"key_usage", "extended_key_usage", "subject_sign_tool", "certificate_policies"}
    verified = run("csr", "verify", str(req), "--json")
    assert verified.returncode == 0, verified.stderr
    assert json.loads(verified.stdout)["signature_valid"] is True
    text = run("csr", "verify", str(req))
    assert text.returncode == 0 and "signature OK" in text.stdout.decode()


def test_csr_options_stdout_and_der(tmp_path: Path, plain_key: Path, run) -> None:
    out = run("csr", "--key", str(plain_key), "--cn", "Петров Пётр", "--key-usage", "digitalSignature",
              "--eku", "client_auth", "--policy", "КС1,KC2", "--sign-tool", "СКЗИ \"Тест\"",
              "--attr", "1.2.840.113549.1.9.2=ИС Тест")
    assert out.returncode == 0, out.stderr
    info = pkcs10.parse_request(out.stdout)
    assert info.signature_valid and info.subject.get("1.2.840.113549.1.9.2") == "ИС Тест"
    by_name = {e.name: e.value for e in info.extensions}
    assert by_name["key_usage"] == ["digital_signature"]
    assert [p["policy_identifier"] for p in by_name["certificate_policies"]] == ["1.2.643.100.113.1",
                                                                                 "1.2.643.100.113.2"]
    assert by_name["subject_sign_tool"] == "СКЗИ \"Тест\""
    der = tmp_path / "r.der"
    assert run("csr", "--key", str(plain_key), "--cn", "x", "--der", "-o", str(der)).returncode == 0
    assert der.read_bytes()[:1] == b"\x30" and pkcs10.verify_request(der.read_bytes())
    _one_line_error(run("csr", "--key", str(plain_key), "--cn", "x", "--der"), "--der")


def test_csr_errors(tmp_path: Path, password_file: Path, plain_key: Path, run) -> None:
    enc = tmp_path / "enc.pem"
    assert run("key", "generate", "-o", str(enc), "--password-file", str(password_file)).returncode == 0
    _one_line_error(run("csr", "--key", str(enc), "--cn", "x"), "--password-file")
    wrong = tmp_path / "wrong.txt"
    wrong.write_text("nope\n")
    _one_line_error(run("csr", "--key", str(enc), "--password-file", str(wrong), "--cn", "x"), "wrong password")
    _one_line_error(run("csr", "--key", str(plain_key), "--cn", "x", "--inn", "500100732258"), "checksum")
    _one_line_error(run("csr", "--key", str(plain_key), "--profile", "ip", "--cn", "x"), "ogrnip")
    _one_line_error(run("csr", "--key", str(tmp_path / "missing.pem"), "--cn", "x"), "no such file")
    cert_like = tmp_path / "c.pem"
    cert_like.write_text("-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n")
    _one_line_error(run("csr", "--key", str(cert_like), "--cn", "x"), "CERTIFICATE")
    assert run("csr").returncode == 2  # no --key: the help, exit 2


def test_csr_verify_verdicts(tmp_path: Path, plain_key: Path, run) -> None:
    req = tmp_path / "r.der"
    assert run("csr", "--key", str(plain_key), "--cn", "Проверка", "--der", "-o", str(req)).returncode == 0
    data = req.read_bytes()
    req.write_bytes(data.replace("Проверка".encode(), "Проверкб".encode()))
    bad = run("csr", "verify", str(req))
    assert bad.returncode == 1 and "SIGNATURE INVALID" in bad.stdout.decode()
    req.write_bytes(data[:50])
    _one_line_error(run("csr", "verify", str(req)), "certification request")


@pytest.mark.oracle
def test_openssl_reads_generated_key_and_request(tmp_path: Path, password_file: Path, run) -> None:
    require(ossl.available() and ossl.openssl_binary(), f"OpenSSL with the GOST engine: {ossl.reason()}")
    key_path, req = tmp_path / "k.pem", tmp_path / "r.csr"
    assert run("key", "generate", "--curve", "tc26-512-C", "-o", str(key_path), "--password-file",
               str(password_file)).returncode == 0
    out = ossl.run_cli(["pkey", "-in", str(key_path), "-passin", f"file:{password_file}", "-noout", "-text"])
    assert out.returncode == 0, out.stderr
    assert b"Private key" in out.stdout
    assert run("csr", "--key", str(key_path), "--password-file", str(password_file), *HEAD,
               "-o", str(req)).returncode == 0
    checked = ossl.run_cli(["req", "-verify", "-in", str(req), "-noout"])
    assert b"self-signature verify OK" in checked.stderr, checked.stderr


def test_console_script(tmp_path: Path, password_file: Path) -> None:
    """The real entry point in a fresh process, with the default PBKDF2 round count."""
    env = dict(os.environ, LANG="C.UTF-8", LC_ALL="", LC_MESSAGES="")
    target = tmp_path / "k.pem"
    out = subprocess.run([sys.executable, "-c", _ENTRY, "key", "generate", "-o", str(target), "--password-file",
                          str(password_file)], stdin=subprocess.DEVNULL, capture_output=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.decode().strip() == f"{target}: id-tc26-gost-3410-2012-256-paramSetA (encrypted)"
    assert keyfile.load_private_key(target, "пароль 123").curve.name == "id-tc26-gost-3410-2012-256-paramSetA"

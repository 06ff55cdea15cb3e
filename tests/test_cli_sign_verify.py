"""`signagent sign` and `signagent verify` (DESIGN.md section 3): encodings, exit codes, JSON, atomic output,
OpenSSL accepting what the command writes, and a 1 GiB detached signature in bounded memory."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import signagent.cli.signing  # noqa: F401  -- registers the commands before signagent/cli/__init__.py does
from signagent.gost._backend import BACKEND_NAME
from signagent.testpki import generate
from signagent.testpki.generator import TestPKI
from tests.cli_inprocess import run
from tests.conftest import require
from tests.oracles import openssl_gost


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> TestPKI:
    return generate(tmp_path_factory.mktemp("cli-pki"))


def _trust(pki: TestPKI) -> list[object]:
    return ["--trust", pki.root.paths["pem"], "--intermediate", pki.intermediate.paths["pem"],
            "--crl", pki.out_dir / "crl" / "inter.crl", "--offline"]


def _sign(pki: TestPKI, content: Path, out: Path, *extra: object,
          name: str = "head") -> subprocess.CompletedProcess[str]:
    return run("sign", content, "--cert", pki[name].paths["pem"], "--key", pki[name].paths["key"], "-o", out, *extra)


@pytest.mark.parametrize("options", [(), ("--pem",), ("--detached",), ("--detached", "--pem")])
def test_sign_then_verify(pki: TestPKI, tmp_path: Path, options: tuple[str, ...]) -> None:
    content = tmp_path / "request.json"
    content.write_text('{"type": "head-registration"}')
    sig = tmp_path / "request.json.sig"
    done = _sign(pki, content, sig, *options)
    assert done.returncode == 0, done.stderr
    assert sig.read_bytes().startswith(b"-----BEGIN CMS-----" if "--pem" in options else b"\x30")
    extra = ["--content", content] if "--detached" in options else []
    out = run("verify", sig, *extra, *_trust(pki), "--json")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["status"] == "valid" and doc["detached"] == ("--detached" in options)
    assert doc["signers"][0]["cades_bes"] and doc["signers"][0]["signing_time_source"] == "signer_claim"
    assert doc["signers"][0]["signer"]["identity"]["full_name"] == "Иванов Иван Иванович"


def test_sign_origin_is_signed_and_reported(pki: TestPKI, tmp_path: Path) -> None:
    content = tmp_path / "request.json"
    content.write_text('{"type": "head-registration"}')
    sig = tmp_path / "request.json.sig"
    assert _sign(pki, content, sig, "--origin", "HTTPS://Portal.Example:443").returncode == 0
    out = run("verify", sig, *_trust(pki), "--json")
    assert out.returncode == 0 and json.loads(out.stdout)["signers"][0]["origin"] == "https://portal.example"
    assert "origin: https://portal.example" in run("verify", sig, *_trust(pki)).stdout
    bad = _sign(pki, content, tmp_path / "bad.sig", "--origin", "not an origin")
    assert bad.returncode == 2 and "origin" in bad.stderr and not (tmp_path / "bad.sig").exists()


def test_text_report_and_russian(pki: TestPKI, tmp_path: Path) -> None:
    content = tmp_path / "c.txt"
    content.write_text("x")
    sig = tmp_path / "c.sig"
    assert _sign(pki, content, sig).returncode == 0
    out = run("verify", sig, *_trust(pki))
    assert out.returncode == 0 and out.stdout.startswith("VALID") and "claimed by the signer" in out.stdout
    ru = run("verify", sig, *_trust(pki), lang="ru_RU.UTF-8")
    assert ru.stdout.startswith("ДЕЙСТВИТЕЛЬНА") and "Иванов Иван Иванович" in ru.stdout


def test_base64_input_and_exit_codes(pki: TestPKI, tmp_path: Path) -> None:
    content = tmp_path / "c.bin"
    content.write_bytes(b"\x00\x01payload")
    sig = tmp_path / "c.sig"
    assert _sign(pki, content, sig, "--detached").returncode == 0
    b64 = tmp_path / "c.b64"
    b64.write_bytes(base64.b64encode(sig.read_bytes()))
    assert run("verify", b64, "--content", content, *_trust(pki)).returncode == 0
    content.write_bytes(b"\x00\x01payloaD")
    bad = run("verify", b64, "--content", content, *_trust(pki), "--json")
    assert bad.returncode == 1
    assert json.loads(bad.stdout)["signers"][0]["reasons"][0]["code"] == "message_digest_mismatch"
    # indeterminate: revocation unknown in hard mode (no CRLs given, offline)
    content.write_bytes(b"\x00\x01payload")
    hard = run("verify", b64, "--content", content, "--trust", pki.root.paths["pem"], "--offline",
               "--revocation", "hard")
    assert hard.returncode == 2, hard.stdout + hard.stderr


def test_revoked_and_expired_signers(pki: TestPKI, tmp_path: Path) -> None:
    content = tmp_path / "c.txt"
    content.write_text("x")
    for name, code in (("revoked", "revoked"), ("expired", "expired")):
        sig = tmp_path / f"{name}.sig"
        assert _sign(pki, content, sig, name=name).returncode == 0
        out = run("verify", sig, *_trust(pki), "--json")
        assert out.returncode == 1
        assert code in [r["code"] for r in json.loads(out.stdout)["signers"][0]["reasons"]]


def test_verify_uses_the_trust_store_without_trust(pki: TestPKI, tmp_path: Path) -> None:
    content = tmp_path / "c.txt"
    content.write_text("x")
    sig = tmp_path / "c.sig"
    assert _sign(pki, content, sig).returncode == 0
    store = tmp_path / "store"
    empty = run("verify", sig, "--offline", store=store)
    assert empty.returncode == 2 and "trust" in empty.stderr
    imported = subprocess.run(
        [sys.executable, "-m", "signagent", "trust", "import", str(pki.root.paths["pem"])], capture_output=True,
        text=True, env=dict(os.environ, SIGNAGENT_TRUST_DIR=str(store)), timeout=120)
    assert imported.returncode == 0, imported.stderr
    out = run("verify", sig, "--intermediate", pki.intermediate.paths["pem"], "--crl", pki.out_dir / "crl",
              "--offline", store=store)
    assert out.returncode == 0, out.stdout + out.stderr


def test_errors_exit_2_and_leave_no_output(pki: TestPKI, tmp_path: Path) -> None:
    content = tmp_path / "c.txt"
    content.write_text("x")
    out = tmp_path / "out.sig"
    wrong_key = run("sign", content, "--cert", pki["head"].paths["pem"], "--key", pki["employee"].paths["key"],
                    "-o", out)
    assert wrong_key.returncode == 2 and "does not belong" in wrong_key.stderr
    missing = _sign(pki, tmp_path / "nope", out)
    assert missing.returncode == 2 and "no such file" in missing.stderr
    token = run("sign", content, "--cert", pki["head"].paths["pem"], "--token", "Rutoken", "-o", out)
    assert token.returncode == 2 and "no token 'Rutoken'" in token.stderr
    both = run("sign", content, "--cert", pki["head"].paths["pem"], "--key", pki["head"].paths["key"],
               "--token", "T", "-o", out)
    assert both.returncode == 2
    assert not out.exists() and [p.name for p in tmp_path.iterdir()] == ["c.txt"]  # no temporary files left
    garbage = tmp_path / "garbage.sig"
    garbage.write_bytes(b"\x30\x82\x10\x00" + b"\x00" * 20)
    broken = run("verify", garbage, *_trust(pki))
    assert broken.returncode == 2 and "not a readable CMS signature" in broken.stderr
    assert "Traceback" not in broken.stderr
    assert _sign(pki, content, out, "--detached").returncode == 0
    no_content = run("verify", out, *_trust(pki))
    assert no_content.returncode == 2 and "--content" in no_content.stderr


def test_existing_output_is_replaced_whole(pki: TestPKI, tmp_path: Path) -> None:
    content = tmp_path / "c.txt"
    content.write_text("x")
    out = tmp_path / "out.sig"
    out.write_bytes(b"old")
    assert _sign(pki, content, out).returncode == 0 and out.read_bytes()[:1] == b"\x30"
    assert run("sign", content, "--cert", pki["head"].paths["pem"], "--key", pki["employee"].paths["key"],
               "-o", out).returncode == 2
    assert out.read_bytes()[:1] == b"\x30"  # the failed run left the previous signature intact


def test_openssl_accepts_the_command_output(pki: TestPKI, tmp_path: Path) -> None:
    require(openssl_gost.openssl_binary() is not None and openssl_gost.available(), "openssl with the GOST engine")
    content = tmp_path / "c.bin"
    content.write_bytes(os.urandom(5000))
    sig = tmp_path / "c.pem"
    assert _sign(pki, content, sig, "--detached", "--pem").returncode == 0
    done = openssl_gost.run_cli(["cms", "-verify", "-binary", "-inform", "PEM", "-in", str(sig), "-content",
                                 str(content), "-CAfile", str(pki.out_dir / "chain.pem"), "-out", "/dev/null"])
    assert done.returncode == 0, done.stderr


def test_encrypted_key_with_pin_file(pki: TestPKI, tmp_path: Path) -> None:
    from signagent.pkcs8 import keyfile

    if not hasattr(keyfile, "save_private_key"):
        pytest.skip("encrypted key files are written by signagent.pkcs8.keyfile (not there yet)")
    key = tmp_path / "head.enc.pem"
    secret = "секрет"  # noqa: S105 -- a test password
    keyfile.save_private_key(pki["head"].key, key, secret)
    pin = tmp_path / "pin"
    pin.write_text(secret + "\n")
    content = tmp_path / "c.txt"
    content.write_text("x")
    out = tmp_path / "c.sig"
    no_pin = run("sign", content, "--cert", pki["head"].paths["pem"], "--key", key, "-o", out)
    assert no_pin.returncode == 2 and not out.exists()
    ok = run("sign", content, "--cert", pki["head"].paths["pem"], "--key", key, "--pin-file", pin, "-o", out)
    assert ok.returncode == 0, ok.stderr
    assert run("verify", out, *_trust(pki)).returncode == 0


@pytest.mark.slow
@pytest.mark.skipif(BACKEND_NAME != "native", reason="1 GiB needs the native core")
def test_one_gibibyte_detached_in_bounded_memory(pki: TestPKI, tmp_path: Path) -> None:
    big = tmp_path / "big.bin"
    with open(big, "wb") as f:  # sparse: costs no disk, reads as zeros
        f.truncate(1 << 30)
    sig = tmp_path / "big.sig"
    # The peak is read inside the child from /proc/self/status (VmHWM is the child's own high-water mark).
    code = (
        "import sys, signagent.cli.signing\n"
        "from signagent.cli import main\n"
        "rc = main(sys.argv[1:])\n"
        "hwm = next(l for l in open('/proc/self/status') if l.startswith('VmHWM:')).split()[1]\n"
        "print('VmHWM', hwm, file=sys.stderr)\n"
        "sys.exit(rc)\n"
    )

    def child(*args: object) -> tuple[int, float, str]:
        out = subprocess.run([sys.executable, "-c", code, *map(str, args)], capture_output=True, text=True,
                             timeout=900, env=dict(os.environ, LANG="C.UTF-8"))
        peak_mb = int(out.stderr.split("VmHWM")[1].split()[0]) / 1024
        return out.returncode, peak_mb, out.stderr

    rc, peak, err = child("sign", big, "--cert", pki["head"].paths["pem"], "--key", pki["head"].paths["key"],
                          "--detached", "-o", sig)
    assert rc == 0, err
    assert peak < 100, f"signing: peak RSS {peak:.1f} MB"
    rc, peak, err = child("verify", sig, "--content", big, *_trust(pki))
    assert rc == 0, err
    assert peak < 100, f"verification: peak RSS {peak:.1f} MB"

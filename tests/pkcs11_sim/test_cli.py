"""The ``pkcs11-sim`` command line: every command, its JSON listing and its one-line errors with exit 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pkcs11_sim import constants as C
from pkcs11_sim.attributes import ulong
from pkcs11_sim.cli import main
from pkcs11_sim.engine import Engine
from pkcs11_sim.store import SimRoot
from signagent.gost import streebog256
from signagent.testpki import generate

PIN, SO = "12345678", "87654321"


@pytest.fixture
def sim(tmp_path: Path):
    directory = tmp_path / "sim"

    def run(*args: str) -> int:
        return main(["--dir", str(directory), *args])

    run.dir = directory  # type: ignore[attr-defined]
    return run


def _listing(sim, capsys) -> list[dict]:
    capsys.readouterr()
    assert sim("list", "--json") == 0
    return json.loads(capsys.readouterr().out)


def _one_line_error(capsys) -> str:
    err = capsys.readouterr().err
    assert err.startswith("pkcs11-sim: ") and err.count("\n") == 1
    return err


def test_init_list_keygen_and_errors(sim, capsys) -> None:
    assert sim("init", "--label", "t1", "--pin", PIN, "--so-pin", SO, "--model", "Rutoken", "--retries", "4") == 0
    assert sim("init", "--label", "t1", "--pin", PIN, "--so-pin", SO) == 2
    assert "already exists" in _one_line_error(capsys)
    assert sim("init", "--label", "t2", "--pin", "12", "--so-pin", SO) == 2
    assert "CKR_PIN_LEN_RANGE" in _one_line_error(capsys)
    assert sim("keygen", "t1", "--curve", "tc26-512-A", "--id", "0a0b", "--key-label", "sig", "--pin", PIN) == 0
    assert sim("keygen", "t1", "--curve", "no-such-curve", "--pin", PIN) == 2
    _one_line_error(capsys)
    assert sim("keygen", "t1", "--curve", "tc26-256-A", "--pin", "00000000") == 2
    assert "wrong PIN" in _one_line_error(capsys)
    assert sim("keygen", "nope", "--curve", "tc26-256-A", "--pin", PIN) == 2
    assert "no simulated token" in _one_line_error(capsys)
    (token,) = _listing(sim, capsys)
    assert token["label"] == "t1" and token["model"] == "Rutoken" and token["present"] is True
    assert token["user_pin"] == {"tries_left": 3, "max_tries": 4}
    assert {(o["class"], o["id"], o["label"]) for o in token["objects"]} == {
        ("private_key", "0a0b", "sig"), ("public_key", "0a0b", "sig")}
    assert all(o["key_type"] == "GOSTR3410-2012-512" for o in token["objects"])
    assert sim("list") == 0
    assert "slot 0: 't1'" in capsys.readouterr().out


def test_pins_presence_and_faults(sim, tmp_path: Path, capsys) -> None:
    pin_file = tmp_path / "pin.txt"
    pin_file.write_text("new-pin-1\n")
    assert sim("init", "--label", "t", "--pin", PIN, "--so-pin", SO, "--retries", "3") == 0
    assert sim("set-pin", "t", "--old", PIN, "--new", "new-pin-1") == 0
    assert sim("keygen", "t", "--curve", "tc26-256-A", "--pin-file", str(pin_file)) == 0
    assert sim("lock", "t") == 0
    assert sim("keygen", "t", "--curve", "tc26-256-A", "--pin-file", str(pin_file)) == 2
    assert "locked" in _one_line_error(capsys)
    assert sim("unblock", "t", "--so-pin", "bad-so-pin", "--new-pin", "x1234567") == 2
    _one_line_error(capsys)
    assert sim("unblock", "t", "--so-pin", SO, "--new-pin", "x1234567") == 0
    assert sim("keygen", "t", "--curve", "tc26-256-A", "--pin", "x1234567") == 0
    assert sim("remove", "t") == 0
    assert _listing(sim, capsys)[0]["present"] is False
    assert sim("insert", "t", "--reader", "1") == 2  # the PC/SC face itself is tested in test_pcsc.py
    assert "--reader goes with --pcsc" in _one_line_error(capsys)
    assert sim("insert", "t") == 0
    assert sim("fault", "t", "--fail", "3", "--ckr", "CKR_DEVICE_MEMORY", "--latency", "7") == 0
    assert _listing(sim, capsys)[0]["faults"] == {"fail_next": 3, "ckr": C.CKR_DEVICE_MEMORY, "latency_ms": 7}
    assert sim("fault", "t", "--fail", "1", "--ckr", "NOT_A_CODE") == 2
    _one_line_error(capsys)
    assert sim("fault", "t", "--clear") == 0
    assert _listing(sim, capsys)[0]["faults"]["fail_next"] == 0
    assert sim("fault", "t") == 2
    assert sim("delete", "t", "--id", "ffff") == 2
    assert sim("delete", "t") == 0
    assert _listing(sim, capsys) == []


def test_import_certificate_and_key(sim, tmp_path: Path, capsys) -> None:
    pki = generate(tmp_path / "pki")
    assert sim("init", "--label", "t", "--pin", PIN, "--so-pin", SO) == 0
    assert sim("import", "t", "--cert", str(pki["person"].paths["pem"]), "--key", str(pki["person"].paths["key"]),
               "--id", "c0ffee", "--object-label", "person", "--pin", PIN) == 0
    assert sim("import", "t", "--cert", str(tmp_path / "pki" / "manifest.json"), "--pin", PIN) == 2
    _one_line_error(capsys)
    (token,) = _listing(sim, capsys)
    assert sorted(o["class"] for o in token["objects"]) == ["certificate", "private_key", "public_key"]
    assert {o["id"] for o in token["objects"]} == {"c0ffee"}
    assert sim("delete", "t", "--id", "c0ffee") == 0
    assert _listing(sim, capsys)[0]["objects"] == []


def test_provision_then_sign_through_the_engine(sim, capsys) -> None:
    capsys.readouterr()
    assert sim("provision", "--label", "head", "--pin", PIN, "--so-pin", SO, "--profile", "head", "--json") == 0
    out = json.loads(capsys.readouterr().out)
    root_pem, inter_pem = Path(out["root_certificate"]), Path(out["intermediate_certificate"])
    assert root_pem.read_bytes().startswith(b"-----BEGIN CERTIFICATE-----") and inter_pem.is_file()
    token_dir = Path(out["token_dir"])
    assert root_pem.parent == token_dir and (token_dir / "test-ca" / "manifest.json").is_file()
    assert sim("provision", "--label", "emp", "--pin", PIN, "--so-pin", SO, "--profile", "employee",
               "--pki", out["pki_dir"]) == 0
    assert "root certificate:" in capsys.readouterr().out
    assert sim("provision", "--label", "x", "--pin", PIN, "--so-pin", SO, "--profile", "ip", "--revoked") == 2
    assert "head profile only" in _one_line_error(capsys)
    assert sim("provision", "--label", "rev", "--pin", PIN, "--so-pin", SO, "--profile", "head", "--revoked",
               "--json") == 0
    assert json.loads(capsys.readouterr().out)["entity"] == "revoked"

    from signagent.x509 import load_certificate

    engine = Engine(sim.dir)  # type: ignore[attr-defined]
    engine.initialize()
    slot = SimRoot(sim.dir).find("head").slot_id  # type: ignore[attr-defined]
    s = engine.open_session(slot, C.CKF_SERIAL_SESSION)
    engine.login(s, C.CKU_USER, PIN.encode())
    key_id = bytes.fromhex(out["cka_id"])
    handles = {}
    for cls in (C.CKO_PRIVATE_KEY, C.CKO_CERTIFICATE):
        engine.find_objects_init(s, [(C.CKA_CLASS, ulong(cls)), (C.CKA_ID, key_id)])
        (handles[cls],) = engine.find_objects(s, 5)
        engine.find_objects_final(s)
    _, (cert_der,) = engine.get_attribute_value(s, handles[C.CKO_CERTIFICATE], [C.CKA_VALUE])
    cert = load_certificate(cert_der)
    assert cert.der == Path(out["certificate"]).read_bytes()
    engine.sign_init(s, C.CKM_GOSTR3410_WITH_GOSTR3411_12_256, None, handles[C.CKO_PRIVATE_KEY])
    signature = engine.sign(s, b"head registration")
    assert cert.public_key().verify_digest(streebog256(b"head registration").digest(), signature)
    engine.find_objects_init(s, [(C.CKA_CLASS, ulong(C.CKO_PUBLIC_KEY)), (C.CKA_ID, key_id)])
    (pub_handle,) = engine.find_objects(s, 5)
    engine.find_objects_final(s)
    _, (raw,) = engine.get_attribute_value(s, pub_handle, [C.CKA_VALUE])
    assert raw == cert.public_key().to_bytes()  # CKA_VALUE = the SPKI OCTET STRING content, X||Y little-endian
    engine.finalize()


def test_python_dash_m(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "pkcs11_sim", "--dir", str(tmp_path), "list", "--json"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and json.loads(done.stdout) == []
    done = subprocess.run([sys.executable, "-m", "pkcs11_sim", "--dir", str(tmp_path), "remove", "nothing"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and done.stderr.count("\n") == 1


def test_certificate_imported_later_pairs_with_its_key(sim, tmp_path: Path, capsys) -> None:
    pki = generate(tmp_path / "pki")
    assert sim("init", "--label", "t", "--pin", PIN, "--so-pin", SO) == 0
    assert sim("import", "t", "--key", str(pki["employee"].paths["key"]), "--pin", PIN) == 0
    assert sim("import", "t", "--cert", str(pki["employee"].paths["der"])) == 0
    (token,) = _listing(sim, capsys)
    assert len({o["id"] for o in token["objects"]}) == 1 and len(token["objects"]) == 3

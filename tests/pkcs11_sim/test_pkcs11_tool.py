"""OpenSC's pkcs11-tool as an independent, non-Python consumer of the simulator's PKCS#11 module.

pkcs11-tool dlopen()s the module RTLD_LOCAL in a C process, so the module starts its own embedded interpreter
(inside the virtualenv that built it) -- the path PyKCS11 in pytest never takes. Each run is a fresh process, as
a user's would be; the keys it generates are checked by parsing the public key it prints and verifying its
signatures with signagent.gost.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

import pkcs11_sim
from pkcs11_sim.store import SimRoot
from signagent import gost
from tests.conftest import require

USER_PIN = "1234"
SO_PIN = "87654321"
TOOL = shutil.which("pkcs11-tool")


@pytest.fixture(scope="module")
def module(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """The module's path and the environment of a token directory holding token "tool"."""
    require(TOOL, "OpenSC pkcs11-tool (Debian package opensc)")
    try:
        path = pkcs11_sim.module_path()
    except pkcs11_sim.ModuleNotBuiltError as exc:
        require(False, str(exc))
        raise
    sim_dir = tmp_path_factory.mktemp("pkcs11tool")
    SimRoot(sim_dir).create("tool", SO_PIN.encode(), USER_PIN.encode())
    return {"path": path, "dir": sim_dir, "env": dict(os.environ, PKCS11_SIM_DIR=str(sim_dir))}


def tool(module: dict[str, object], *args: str, env: dict[str, str] | None = None,
         check: bool = True) -> subprocess.CompletedProcess[str]:
    out = subprocess.run([TOOL, "--module", str(module["path"]), *args], capture_output=True, text=True,
                         env=env or module["env"], timeout=60)
    if check:
        assert out.returncode == 0, out.stdout + out.stderr
    return out


def public_value(listing: str, label: str) -> bytes:
    """The VALUE of the public key object labelled ``label`` in pkcs11-tool's object listing (hex over lines)."""
    for block in listing.split("Public Key Object;")[1:]:
        if re.search(rf"label:\s+{re.escape(label)}\n", block):
            found = re.search(r"VALUE:\s+((?:[0-9a-f]+\s+)+)", block)
            assert found, block
            return bytes.fromhex("".join(found.group(1).split()))
    raise AssertionError(f"no public key {label} in:\n{listing}")


def test_list_slots(module) -> None:
    out = tool(module, "-L").stdout
    assert re.search(r"token label\s+: tool\n", out)
    assert "token initialized" in out and "PIN initialized" in out and "login required" in out
    assert re.search(r"pin min/max\s+: 4/32", out)


def test_list_mechanisms_by_name(module) -> None:
    out = tool(module, "-M").stdout
    # OpenSC names the TC 26 vendor mechanisms itself: the module's numbers are the ones OpenSC knows
    for name, usage in [
        ("GOSTR3410-KEY-PAIR-GEN", "generate_key_pair"),
        ("GOSTR3410-512-KEY-PAIR-GEN", "generate_key_pair"),
        ("GOSTR3410", "sign, verify"),
        ("GOSTR3410_512", "sign, verify"),
        ("GOSTR3410-WITH-GOSTR3411-12-256", "sign, verify"),
        ("GOSTR3410-WITH-GOSTR3411-12-512", "sign, verify"),
        ("GOSTR3411-12-256", "digest"),
        ("GOSTR3411-12-512", "digest"),
    ]:
        assert re.search(rf"^  {re.escape(name)}, .*{usage}", out, re.MULTILINE), name
    assert "VENDOR" not in out.upper()


@pytest.mark.parametrize(("key_type", "size", "raw_mech", "hash_mech", "curve"), [
    ("GOSTR3410-2012-256:A", 256, "GOSTR3410", "GOSTR3410-WITH-GOSTR3411-12-256", "1.2.643.7.1.2.1.1.1"),
    ("GOSTR3410-2012-512:A", 512, "GOSTR3410_512", "GOSTR3410-WITH-GOSTR3411-12-512", "1.2.643.7.1.2.1.2.1"),
])
def test_keypairgen_sign_and_verify(module, tmp_path: Path, key_type: str, size: int, raw_mech: str,
                                    hash_mech: str, curve: str) -> None:
    label, key_id = f"gen{size}", f"{size:04x}"
    made = tool(module, "-l", "-p", USER_PIN, "--keypairgen", "--key-type", key_type, "--id", key_id,
                "--label", label).stdout
    assert f"Private Key Object; GOSTR3410-2012-{size}" in made
    key = gost.PublicKey.from_bytes(gost.curve(curve), public_value(made, label))

    # -O without login shows the public key only; with login the private one too
    public_only = tool(module, "-O").stdout
    assert public_value(public_only, label) == key.to_bytes()
    assert f"Private Key Object; GOSTR3410-2012-{size}" not in public_only
    assert f"Private Key Object; GOSTR3410-2012-{size}" in tool(module, "-O", "-l", "-p", USER_PIN).stdout

    streebog = gost.streebog256 if size == 256 else gost.streebog512
    message = tmp_path / "message.txt"
    message.write_bytes(b"head-registration request\n" * 10)
    digest = streebog(message.read_bytes()).digest()
    (tmp_path / "digest.bin").write_bytes(digest)
    for mech, data in ((raw_mech, "digest.bin"), (hash_mech, "message.txt")):
        signature = tmp_path / f"{mech}.sig"
        tool(module, "-l", "-p", USER_PIN, "--sign", "-m", mech, "--id", key_id, "-i", str(tmp_path / data),
             "-o", str(signature))
        raw = signature.read_bytes()
        assert len(raw) == size // 4
        assert key.verify_digest(digest, raw), mech
        checked = tool(module, "-l", "-p", USER_PIN, "--verify", "-m", mech, "--id", key_id,
                       "-i", str(tmp_path / data), "--signature-file", str(signature))
        assert "Signature is valid" in checked.stdout + checked.stderr


def test_digest(module, tmp_path: Path) -> None:
    data = tmp_path / "data.bin"
    data.write_bytes(bytes(range(256)) * 3)
    out = tmp_path / "digest.bin"
    tool(module, "--hash", "-m", "GOSTR3411-12-512", "-i", str(data), "-o", str(out))
    assert out.read_bytes() == gost.streebog512(data.read_bytes()).digest()


def test_wrong_pin_is_reported(module) -> None:
    out = tool(module, "-l", "-p", "0000", "-O", check=False)
    assert out.returncode != 0
    assert "CKR_PIN_INCORRECT" in out.stdout + out.stderr


def test_failed_python_start_returns_general_error(module, tmp_path: Path) -> None:
    """When the module's Python side cannot start, calls fail with CKR_GENERAL_ERROR: no crash, no fake CKR_OK."""
    shadow = tmp_path / "shadow" / "pkcs11_sim"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("")
    (shadow / "glue.py").write_text("raise ImportError('broken installation (test)')\n")
    env = dict(module["env"], PYTHONPATH=str(shadow.parent))
    out = tool(module, "-I", env=env, check=False)
    assert out.returncode > 0  # an orderly error exit, not a signal
    assert "CKR_GENERAL_ERROR" in out.stdout + out.stderr
    assert "broken installation (test)" in out.stderr


def test_init_token_and_pin(module) -> None:
    """C_InitToken with pkcs11-tool's blank-padded label, then C_InitPIN by the SO."""
    slot = SimRoot(module["dir"]).create("to-reset", SO_PIN.encode(), USER_PIN.encode()).slot_id
    where = ("--slot", str(slot))
    tool(module, *where, "--init-token", "--label", "reset by tool", "--so-pin", SO_PIN)
    listing = tool(module, "-L").stdout
    assert re.search(r"token label\s+: reset by tool\n", listing)
    tool(module, *where, "--init-pin", "--so-pin", SO_PIN, "--pin", "2468")
    assert "CKR_PIN_INCORRECT" in tool(module, *where, "-l", "-p", USER_PIN, "-O", check=False).stderr
    tool(module, *where, "-l", "-p", "2468", "-O")

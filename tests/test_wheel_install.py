"""Installed as users install it: a wheel built from this checkout, put into a fresh virtual environment outside
the checkout with its declared runtime dependencies only (no test extras), must see a simulated token and sign on
it. This catches a runtime dependency kept in the test extra, package data left out of the wheel (the pinned
manifest, the simulator's module) and code that only works from the source tree.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow


def _run(args: list[str], cwd: Path, env: dict[str, str], timeout: int = 900) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{args}: exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done


def test_wheel_in_a_fresh_venv_lists_the_simulator_and_signs(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV", "PKCS11_SIM",
                                                                      "SIGNAGENT_"))}
    env["LANG"] = "C"
    dist, venv, work = tmp_path / "dist", tmp_path / "venv", tmp_path / "work"
    work.mkdir()
    _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(dist),
          str(ROOT)], cwd=work, env=env)
    wheel = next(dist.glob("signagent-*.whl"))
    _run([sys.executable, "-m", "venv", str(venv)], cwd=work, env=env)
    py = venv / "bin" / "python"
    _run([str(py), "-m", "pip", "install", "-q", str(wheel)], cwd=work, env=env)

    # Everything below runs from the fresh environment, in a directory that is not the checkout.
    where = _run([str(py), "-c", "import signagent, pkcs11_sim; print(signagent.__file__); "
                  "print(pkcs11_sim.module_path())"], cwd=work, env=env).stdout.split()
    assert all(str(venv) in p for p in where), where
    env.update(PKCS11_SIM_DIR=str(work / "tokens"), SIGNAGENT_PKCS11_MODULES=where[1],
               SIGNAGENT_KEYS_DIR=str(work / "keys"), SIGNAGENT_TRUST_DIR=str(work / "trust"))
    (work / "pin").write_text("1234\n")
    (work / "so-pin").write_text("87654321\n")
    os.chmod(work / "pin", 0o600)
    bin_ = venv / "bin"
    _run([str(bin_ / "pkcs11-sim"), "provision", "--label", "HEAD", "--pin-file", "pin", "--so-pin-file", "so-pin",
          "--profile", "head"], cwd=work, env=env)
    tokens = json.loads(_run([str(bin_ / "signagent"), "tokens", "--json"], cwd=work, env=env).stdout)
    assert "HEAD" in json.dumps(tokens, ensure_ascii=False)
    token_dir = work / "tokens" / "HEAD"
    trust = ["--trust", str(token_dir / "root.pem"), "--intermediate", str(token_dir / "intermediate.pem")]
    certs = json.loads(_run([str(bin_ / "signagent"), "certs", "--json", *trust], cwd=work, env=env).stdout)
    cert_id = next(c["id"] for c in certs["certificates"] if c["has_private_key"])
    (work / "doc.txt").write_text("Заявление\n", encoding="utf-8")
    _run([str(bin_ / "signagent"), "sign", "doc.txt", "--token", "HEAD", "--cert", cert_id, "--pin-file", "pin",
          "-o", "doc.txt.sig"], cwd=work, env=env)
    verdict = _run([str(bin_ / "signagent"), "verify", "doc.txt.sig", *trust, "--offline", "--revocation", "off"],
                   cwd=work, env=env)
    assert "VALID" in verdict.stdout

"""scripts/demo.sh, the README's "run the product" step: makes a simulated token, lists it, signs, verifies."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT


def test_demo_runs_twice_and_verifies(tmp_path: Path) -> None:
    env = dict(os.environ, SIGNAGENT_DEMO_DIR=str(tmp_path / "demo"), SIGNAGENT_VENV=sys.prefix, LANG="C")
    env.pop("PKCS11_SIM_DIR", None)
    for run in (1, 2):  # the second run reuses the token made by the first
        done = subprocess.run(["bash", str(ROOT / "scripts" / "demo.sh")], env=env, capture_output=True, text=True,
                              timeout=300)
        assert done.returncode == 0, done.stdout + done.stderr
        assert ("making the simulated token" in done.stdout) is (run == 1)
        assert "«Demo Head»" in done.stdout and "\nVALID\n" in done.stdout and "demo: done" in done.stdout
    assert (tmp_path / "demo" / "document.txt.sig").stat().st_size > 0
    assert (tmp_path / "demo" / "pin").stat().st_mode & 0o077 == 0  # the PIN file is the user's alone

"""The command line and the API stay thin: their import-linter contracts name every package they must not use
(a package added later must be added there too), and the command line imports the service layer where
import-linter sees it -- and lazily, so `signagent hash` does not load what other commands need."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import signagent

ROOT = Path(__file__).resolve().parent.parent
# the service layer, the error tree, and the registration library (a layer above the service layer: the
# confirmation page renders registration requests, `signagent registration verify` runs the verifier)
ALLOWED = {"signagent.service", "signagent.errors", "signagent.registration"}


def _contract(source: str) -> dict:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return next(c for c in config["tool"]["importlinter"]["contracts"] if c.get("source_modules") == [source])


@pytest.mark.parametrize(("source", "also_allowed"), [("signagent.cli", {"signagent.api"}), ("signagent.api", set())])
def test_contract_forbids_every_other_package(source: str, also_allowed: set[str]) -> None:
    contract = _contract(source)
    assert contract["type"] == "forbidden"
    packages = {f"signagent.{m.name}" for m in pkgutil.iter_modules(signagent.__path__)} - {"signagent.__main__"}
    forbidden = set(contract["forbidden_modules"])
    assert packages - {source} - ALLOWED - also_allowed == forbidden, (
        "a new package of signagent: add it to the contract's forbidden_modules (or allow it here, with a reason)")


def test_no_lazy_module_strings() -> None:
    for path in (ROOT / "signagent" / "cli").glob("*.py"):
        assert "lazy_module" not in path.read_text(encoding="utf-8"), path


def test_hash_does_not_load_the_other_commands_services() -> None:
    code = ("import sys\nfrom signagent.cli import main\nrc = main(['hash', sys.argv[1]])\n"
            "heavy = [m for m in ('pyhanko_certvalidator', 'httpx', 'signagent.trust.validation', 'signagent.cms',"
            " 'signagent.service.keys', 'signagent.tokens') if m in sys.modules]\n"
            "print(rc, heavy)\n")
    out = subprocess.run([sys.executable, "-c", code, str(ROOT / "README.md")], capture_output=True, text=True,
                         timeout=120, check=True)
    assert out.stdout.splitlines()[-1] == "0 []"

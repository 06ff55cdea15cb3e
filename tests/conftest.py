"""Fixtures shared by the whole suite.

* ``shared_dir`` / ``vectors_dir``: the project's shared reference folder (``../shared`` beside the checkout, or
  ``$SIGNAGENT_SHARED``), which holds the standards' known-answer vectors and the real state-PKI certificates.
* ``require(condition, what)``: a missing oracle or real component skips the test on a developer's machine but is
  a failure in CI (``CI=true``), so that CI can never go green by skipping.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("SIGNAGENT_SHARED", ROOT.parent / "shared"))
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require(condition: object, what: str) -> None:
    """Skip (developer machine) or fail (CI) when a needed oracle or component is missing."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"required in CI but missing: {what}")
    pytest.skip(f"missing: {what}")


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    require(SHARED.is_dir(), f"shared reference folder {SHARED}")
    return SHARED


@pytest.fixture(scope="session")
def vectors_dir(shared_dir: Path) -> Path:
    path = shared_dir / "vectors"
    require(path.is_dir(), f"known-answer vectors {path}")
    return path


@contextlib.contextmanager
def simulator_env(factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The environment of an agent whose configured PKCS#11 module is the simulator's, for one ``with`` block:
    a fresh token directory (yielded), an empty key directory, English messages. Needs PyKCS11."""
    import pkcs11_sim

    try:
        import PyKCS11  # noqa: F401
    except ImportError:
        require(False, "PyKCS11")
    mp = pytest.MonkeyPatch()
    sim_dir = factory.mktemp("sim")
    mp.setenv("PKCS11_SIM_DIR", str(sim_dir))
    mp.setenv("SIGNAGENT_PKCS11_MODULES", pkcs11_sim.module_path())
    mp.setenv("SIGNAGENT_KEYS_DIR", str(factory.mktemp("keys")))
    mp.setenv("LANG", "C")
    try:
        yield sim_dir
    finally:
        mp.undo()

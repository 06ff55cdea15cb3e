"""Fixtures shared by the whole suite.

* ``shared_dir`` / ``vectors_dir``: the project's shared reference folder (``../shared`` beside the checkout, or
  ``$SIGNAGENT_SHARED``), which holds the standards' known-answer vectors and the real state-PKI certificates.
* ``require(condition, what)``: a missing oracle or real component skips the test on a developer's machine but is
  a failure in CI (``CI=true``), so that CI can never go green by skipping.
"""

from __future__ import annotations

import os
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

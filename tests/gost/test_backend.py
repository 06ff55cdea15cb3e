"""The backend switch: the native core is what runs unless SIGNAGENT_PURE=1 asks for the reference."""

from __future__ import annotations

import os
import subprocess
import sys

import signagent.gost as gost
from signagent.gost import _backend
from tests.conftest import require


def test_backend_matches_environment() -> None:
    pure_requested = os.environ.get("SIGNAGENT_PURE", "") not in ("", "0")
    if pure_requested:
        assert gost.backend_name() == "pure"
        assert _backend.streebog_impl.__name__.endswith("_streebog_ref")
    else:
        # A build that silently fell back to Python would be ~1000x slower: CI must notice.
        require(gost.backend_name() == "native", "the compiled GOST core (signagent.gost._ec_c/_streebog_c)")
        for module in (_backend.streebog_impl, _backend.ec_impl):
            assert module.__file__.endswith(".so") or module.__file__.endswith(".pyd")


def test_pure_switch_in_a_fresh_interpreter() -> None:
    code = "import signagent.gost as g; print(g.backend_name())"
    env = dict(os.environ, SIGNAGENT_PURE="1")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "pure"

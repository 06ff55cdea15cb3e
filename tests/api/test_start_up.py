"""What `signagent serve` loads before its first chain check: not the path validation layer (pyhanko and, through
it, cryptography). Idle memory of the agent is a target (benchmarks/bench_api.py (b): <= 80 MB); pyhanko is ~10 MB
of it and is loaded by the first listing of the tokens or validation instead. A structural check, not a timing one.
"""

from __future__ import annotations

from tests.conftest import modules_loaded_by


def test_the_agent_starts_without_the_path_validation_layer() -> None:
    assert modules_loaded_by("signagent.api.app, signagent.api.server, signagent.cli.serve",
                             ("pyhanko_certvalidator", "cryptography", "signagent.trust.validation")) == []

"""What `signagent serve` loads before its first chain check: not the path validation layer (pyhanko and, through
it, cryptography). Idle memory of the agent is a target (benchmarks/bench_api.py (b): <= 80 MB); pyhanko is ~10 MB
of it and is loaded by the first listing of the tokens or validation instead. A structural check, not a timing one.
"""

from __future__ import annotations

import subprocess
import sys

_PROBE = (
    "import sys\n"
    "import signagent.api.app, signagent.api.server, signagent.cli.serve\n"
    "print(','.join(m for m in ('pyhanko_certvalidator', 'cryptography', 'signagent.trust.validation')"
    " if m in sys.modules))\n"
)


def test_the_agent_starts_without_the_path_validation_layer() -> None:
    done = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ""

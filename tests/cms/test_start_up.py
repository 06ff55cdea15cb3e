"""What signing loads: `signagent sign` with a key file starts without the trust and token layers (issue 11).

Start-up is most of signing a small file from the command line (benchmarks/bench_cms.py measures it); the chain
check's layer (pyhanko, asyncio) and the PKCS#11 layer are imported only by the operations that use them. A
structural check, not a timing one.
"""

from __future__ import annotations

import subprocess
import sys

_PROBE = (
    "import sys\n"
    "import signagent.cli.signing, signagent.service.signatures, signagent.cms.signing\n"
    "loaded = [m for m in ('pyhanko_certvalidator', 'asyncio', 'signagent.trust.validation', 'signagent.tokens.pkcs11',"
    " 'signagent.service.token_access') if m in sys.modules]\n"
    "print(','.join(loaded))\n"
)


def test_signing_does_not_load_the_chain_check_or_tokens() -> None:
    done = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ""

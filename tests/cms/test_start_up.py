"""What signing loads: `signagent sign` with a key file starts without the trust and token layers (issue 11).

Start-up is most of signing a small file from the command line (benchmarks/bench_cms.py measures it); the chain
check's layer (pyhanko, asyncio) and the PKCS#11 layer are imported only by the operations that use them. A
structural check, not a timing one.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from signagent.testpki.generator import TestPKI
from tests.conftest import modules_loaded_by


def test_signing_does_not_load_the_chain_check_or_tokens() -> None:
    assert modules_loaded_by("signagent.cli.signing, signagent.service.signatures, signagent.cms.signing",
                             ("pyhanko_certvalidator", "asyncio", "signagent.trust.validation",
                              "signagent.tokens.pkcs11", "signagent.service.token_access")) == []


#: What only verification needs (asn1crypto's cms/ocsp/tsp modules, the parsing of a received SignedData, the
#: report), the qualified-identity model and the JSON encoder: `signagent sign` with a key file loads none of them.
_NOT_FOR_SIGNING = ("asn1crypto.cms", "asn1crypto.ocsp", "asn1crypto.tsp", "signagent.asn1.cades",
                    "signagent.cms.parsing", "signagent.cms.received", "signagent.cms.report",
                    "signagent.cms.verification", "signagent.x509.identity", "signagent.service.config", "json")


def test_signing_a_file_loads_no_verification_modules(pki: TestPKI, tmp_path: Path) -> None:
    content = tmp_path / "doc.txt"
    content.write_bytes(b"document")
    head = pki["head"]
    probe = ("import sys\nfrom signagent.cli import main\n"
             "rc = main(sys.argv[1:])\n"
             f"print(rc, ','.join(m for m in {_NOT_FOR_SIGNING!r} if m in sys.modules))\n")
    done = subprocess.run([sys.executable, "-c", probe, "sign", str(content), "--cert", str(head.paths["pem"]),
                           "--key", str(head.paths["key"]), "--detached", "-o", str(tmp_path / "doc.sig")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[0].split(" ", 1) == ["0", ""], done.stdout
    assert (tmp_path / "doc.sig").stat().st_size > 0

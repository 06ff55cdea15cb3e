"""Registration verifier benchmark: signed registration requests verified per second beside raw CMS verification
of the same bytes (issue 14).

Run from the repository root::

    .venv/bin/python -m benchmarks.bench_registration [--quick] [--json]

The request is the example head registration of ООО «Ромашка-Тест» (signagent.registration.examples, canonical
JSON, about 3 KB) signed by the test PKI's ``head`` certificate (GOST 2012-256, CryptoPro-XchA) with signagent's
origin attribute, as the agent signs it. Both sides check the chain of the test PKI (root -> intermediate -> head)
with both CRLs given, revocation ``hard``, ``offline``; the trust layer's result cache is warm after the first
call (the figure a portal sees in steady state: the same CA, the same CRLs).

* **ours**: :func:`signagent.registration.verifier.verify_registration` -- the CMS, the origin attribute, the
  chain, the qualified-certificate check, the canonical parse against the schema, the ЕГРЮЛ match (the demo
  extract, already loaded) and the nonce consumed from a :class:`~signagent.registration.nonces.MemoryNonceStore`
  (the nonce is put back before each call, a dictionary write);
* **peer**: :func:`signagent.cms.verification.verify` of the same bytes with the same chain validator -- what a
  portal gets from a CMS library before any registration logic.

The ratio (ours / peer, requests per second) says what the registration checks cost on top of the signature. The
two run in alternating slices (5 of 1 s each, 3 of 0.3 s quick) so that both see the same machine load; the row
gives the medians. A second row times the SQL nonce store (SQLite file): issue + consume per second.

Informative only; the exit status is 0.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

_ROOT = Path(__file__).resolve().parent.parent
if str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))

from benchmarks._timing import per_call_seconds  # noqa: E402

ORIGIN = "https://portal.test"


def _paired(ours: Callable[[], object], theirs: Callable[[], object], seconds: float,
            rounds: int) -> tuple[float, float, float]:
    """(median rate of ours, median rate of theirs, median per-slice ratio), measured in alternating slices."""
    mine, other, ratios = [], [], []
    for _ in range(rounds):
        a = 1.0 / per_call_seconds(ours, seconds)
        b = 1.0 / per_call_seconds(theirs, seconds)
        mine.append(a)
        other.append(b)
        ratios.append(a / b)
    return statistics.median(mine), statistics.median(other), statistics.median(ratios)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter loops")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    args = parser.parse_args(argv)
    seconds, rounds = (0.3, 3) if args.quick else (1.0, 5)

    from signagent.cms.signer import SoftwareSigner
    from signagent.cms.signing import sign
    from signagent.cms.verification import verify
    from signagent.gost import backend_name
    from signagent.registration.canonical import canonical_json
    from signagent.registration.egr import demo_registry
    from signagent.registration.examples import example_head_request
    from signagent.registration.nonces import MemoryNonceStore, SqlNonceStore
    from signagent.registration.verifier import verify_registration
    from signagent.testpki import generate
    from signagent.trust.validation import validate
    from signagent.x509 import load_certificate

    out = Path(tempfile.mkdtemp(prefix="signagent-bench-registration-"))
    pki = generate(out / "pki", seed="bench-registration")
    root, inter = pki.root.der, pki.intermediate.der
    crls = [pki.crls["inter"].der, pki.crls["root"].der]
    head = load_certificate(pki["head"].der)
    store = MemoryNonceStore()
    nonce = store.issue(ORIGIN)
    request = canonical_json(example_head_request(nonce, ORIGIN, datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")))
    signed = sign(request, SoftwareSigner(head, pki["head"].key), certificates=[load_certificate(inter)],
                  origin=ORIGIN)
    assert signed is not None
    registry = demo_registry()

    def ours() -> str:
        store.add(nonce, ORIGIN)
        return verify_registration(signed, origin=ORIGIN, nonce_store=store, registry=registry, trust_roots=[root],
                                   intermediates=[inter], crls=crls, offline=True).status

    def validator(cert: Any, others: Any, when: Any) -> Any:
        return validate(cert, trust_roots=[root], intermediates=[*others, inter], crls=crls, at=when, offline=True,
                        revocation="hard")

    def peer() -> str:
        return verify(signed, validate_chain=validator).status

    verdicts = {"ours": ours(), "peer": peer()}
    mine, theirs, ratio = _paired(ours, peer, seconds, rounds)
    rows: list[dict[str, Any]] = [{
        "name": "head registration request (3 KB, GOST 2012-256), chain + CRLs warm, revocation hard",
        "ours_per_s": mine, "peer": "signagent.cms.verification.verify with the chain", "peer_per_s": theirs,
        "ratio": ratio, "verdicts": verdicts, "request_bytes": len(request), "signed_bytes": len(signed)}]

    sql = SqlNonceStore(f"sqlite:///{out / 'nonces.db'}")
    sql.create_schema()

    def sql_round() -> str:
        return sql.consume(sql.issue(ORIGIN), ORIGIN)

    rows.append({"name": "SqlNonceStore on SQLite (file): issue + consume", "ours_per_s":
                 1.0 / per_call_seconds(sql_round, seconds), "verdicts": {"ours": sql_round()}})
    sql.engine.dispose()

    if args.json:
        print(json.dumps({"backend": backend_name(), "rows": rows}, indent=2, ensure_ascii=False))
        return 0
    print(f"registration verifier (GOST backend: {backend_name()})")
    for row in rows:
        line = f"  {row['name']}: ours {row['ours_per_s']:.0f}/s"
        if "peer_per_s" in row:
            line += f", {row['peer']} {row['peer_per_s']:.0f}/s, ratio {row['ratio']:.2f}"
        print(line + f"  [{', '.join(f'{k}: {v}' for k, v in row['verdicts'].items())}]")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

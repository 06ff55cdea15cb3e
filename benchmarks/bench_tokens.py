"""Token layer benchmark (issue #6): the inventory of 3 tokens x 5 certificates, and 1 KiB signing through a token.

Run from the repository root::

    .venv/bin/python -m benchmarks.bench_tokens [--quick] [--json]

Set-up: a fresh test PKI (:func:`signagent.testpki.generate`) and three simulator tokens, each holding five key
pairs imported the way ``pkcs11-sim`` provisions them (:func:`pkcs11_sim.provision.store_key_pair`) with a
certificate for each, issued by the test PKI's intermediate CA on the test PKI's valid end-entity profiles (head,
employee, ip, person, head again), so every chain ends at the test root. The tokens are then read the way the agent
reads them: the simulator's module loaded by :class:`signagent.tokens.pkcs11.Pkcs11Module` through PyKCS11.

**Inventory** (milliseconds, target: <= 200 ms warm) -- :func:`signagent.service.inventory.build_inventory` over
the 15 certificates, trust root and intermediate given, ``offline=True``, once with ``revocation="off"`` and once
with the root's and the intermediate's CRLs and ``revocation="hard"``:

* cold: the first call in a fresh Python process that has loaded the module and listed its tokens (the trust layer
  and pyhanko are imported lazily inside that call, as in the agent); median of 3 processes (1 with ``--quick``);
* uncached: in this process, with the trust layer's result cache cleared and a ``now`` in an hour bucket the
  inventory's chain cache has not seen, so every chain is validated again;
* warm: the median of repeated calls (the agent's steady state: the chain status comes from the cache);
* the split: slot enumeration (``module.tokens()``), the listing alone (``certificates()`` of the 3 tokens; parsed
  certificates are reused through ``Certificate.from_der_cached``) and the rest of a warm call (entries, warnings,
  the chain status look-up); and what only a first listing pays: certificate parsing (``Certificate.from_der``)
  and the owners' identity extraction.

**Signing 1 KiB** (microseconds per operation, ratio to the raw signature (a)) with the first token's "head"
certificate (GOST 2012-256, CryptoPro-XchA parameters): (a) ``PrivateKey.sign_digest`` on the same key in this
process; (b) Streebog-256 of the message + (a); the module's C_Sign alone on a logged-in PyKCS11 session; (c) the
token's ``sign_digest_with_key`` through the backend with the key its listing found, which logs in (PBKDF2 in the
simulator) and out around every operation; (c') the same while the application is already logged in; (c'') the
path before issue 11 for comparison: the certificate looked up by id (a listing of the token) and then signed,
logged in; (d) a CAdES-BES of the message with :func:`signagent.cms.signing.sign` through
:class:`signagent.tokens.signer.TokenSigner`; (d') the same, already logged in; (e) the same CMS with a
:class:`signagent.cms.signer.SoftwareSigner`.

"Already logged in" is PKCS#11's per-application login: a second PyKCS11 session of this process logs the user in,
after which the backend finds its own session in the user state and neither logs in nor out (its documented
behaviour; the backend itself keeps no login between operations). Informative only: the exit status is 0.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks._timing import per_call_seconds

_ROOT = Path(__file__).resolve().parent.parent
if str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))

TARGET_WARM_MS = 200.0
TOKENS, CERTS_PER_TOKEN = 3, 5
PROFILE_CYCLE = ("head", "employee", "ip", "person", "head")
USER_PIN, SO_PIN = b"1234", b"87654321"
MESSAGE_SIZE = 1024


@dataclass
class Setup:
    """What the benchmark made: directories, validation inputs (DER), and the signing certificate and key."""

    sim_dir: Path
    module_path: str
    roots: list[bytes]
    intermediates: list[bytes]
    crls: list[bytes]
    sign_label: str = ""
    sign_cert_der: bytes = b""
    sign_key: Any = None
    sign_key_id: bytes = b""
    files: dict[str, list[str]] = field(default_factory=dict)


# --------------------------------------------------------------------------------------------------- set-up


def _provision(tmp: Path) -> Setup:
    """The test PKI, then 3 simulator tokens with 5 key pairs and certificates each."""
    import pkcs11_sim
    from pkcs11_sim.provision import default_key_id, store_certificate, store_key_pair
    from pkcs11_sim.store import SimRoot
    from signagent.gost import PrivateKey, curve
    from signagent.testpki import generate, profiles
    from signagent.x509 import builder

    pki = generate(tmp / "pki")
    by_name = {ee.name: ee for ee in pki.spec.end_entities}
    inter = pki.intermediate
    window = profiles.end_entity_window("valid", datetime.now(UTC))
    urls = pki.urls
    sim = SimRoot(tmp / "sim")
    crl_items = [pki.crls[pki.root.name], pki.crls[inter.name]]
    setup = Setup(tmp / "sim", pkcs11_sim.module_path(), [pki.root.der], [inter.der], [c.der for c in crl_items])
    setup.files = {"roots": [str(pki.root.paths["der"])], "intermediates": [str(inter.paths["der"])],
                   "crls": [str(c.paths["der"]) for c in crl_items]}
    for t in range(TOKENS):
        store = sim.create(f"bench-{t + 1}", SO_PIN, USER_PIN)
        token_key = store.check_pin("user", USER_PIN)
        for i, name in enumerate(PROFILE_CYCLE[:CERTS_PER_TOKEN]):
            ee = by_name[name]
            key = PrivateKey.generate(curve(ee.curve))
            cert = builder.build_certificate(
                subject=profiles.end_entity_subject(ee), public_key=key.public_key(), signing_key=inter.key,
                issuer=inter.certificate, not_before=window.not_before, not_after=window.not_after,
                extensions=profiles.end_entity_extensions(
                    ee, pki.spec.sign_tools, window, crl_url=urls[f"crl_{inter.name}"], ocsp_url=urls["ocsp"],
                    ca_issuers_url=urls[f"cert_{inter.name}"]))
            key_id, label = default_key_id(key), f"{name}-{i + 1}"
            store_key_pair(store, token_key, key, key_id=key_id, label=label, generated=False)
            store_certificate(store, cert.dump(), key_id=key_id, label=label)
            if t == 0 and i == 0:
                setup.sign_label, setup.sign_cert_der, setup.sign_key, setup.sign_key_id = (
                    store.label, cert.dump(), key, key_id)
    return setup


# --------------------------------------------------------------------------------------------------- timing


def _median_ms(fn: Callable[[], Any], seconds: float, least: int = 5) -> float:
    """Median of repeated calls (after one warm-up call), at least ``least`` calls and ``seconds`` in all."""
    fn()
    times: list[float] = []
    start = time.perf_counter()
    while len(times) < least or time.perf_counter() - start < seconds:
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000


def _per_call_us(fn: Callable[[], Any], seconds: float, least: int = 5) -> float:
    """Microseconds per call, at least ``least`` calls (see :func:`benchmarks._timing.per_call_seconds`)."""
    return per_call_seconds(fn, seconds, least) * 1e6


# --------------------------------------------------------------------------------------------------- cold child


def _cold_child(spec_json: str) -> int:
    """In a fresh process: import, load the module, list tokens, then time the first build_inventory call."""
    spec = json.loads(spec_json)
    t0 = time.perf_counter()
    from signagent.service.inventory import build_inventory
    from signagent.tokens.pkcs11 import Pkcs11Module

    t1 = time.perf_counter()
    module = Pkcs11Module(spec["module"])
    tokens = module.tokens()
    t2 = time.perf_counter()
    inputs = {k: [Path(p).read_bytes() for p in spec[k]] for k in ("roots", "intermediates", "crls")}
    crls = inputs["crls"] if spec["revocation"] == "hard" else []
    t3 = time.perf_counter()
    inventory = build_inventory(tokens, trust_roots=inputs["roots"], intermediates=inputs["intermediates"],
                                crls=crls, offline=True, revocation=spec["revocation"])
    t4 = time.perf_counter()
    module.close()
    print(json.dumps({"import_ms": (t1 - t0) * 1000, "load_ms": (t2 - t1) * 1000, "first_ms": (t4 - t3) * 1000,
                      "statuses": sorted({e.chain_status for e in inventory.entries}),
                      "entries": len(inventory.entries), "errors": len(inventory.errors)}))
    return 0


def _cold(setup: Setup, revocation: str, runs: int) -> dict[str, Any]:
    """Median figures of ``runs`` fresh processes (see :func:`_cold_child`); errors are reported, not raised."""
    spec = json.dumps({"module": setup.module_path, "revocation": revocation, **setup.files})
    env = dict(os.environ, PKCS11_SIM_DIR=str(setup.sim_dir))
    results = []
    for _ in range(runs):
        done = subprocess.run([sys.executable, "-m", "benchmarks.bench_tokens", "--cold-child", spec],
                              capture_output=True, text=True, cwd=_ROOT, env=env, timeout=300)
        if done.returncode != 0:
            return {"error": done.stderr.strip().splitlines()[-1:] or ["exit status " + str(done.returncode)]}
        results.append(json.loads(done.stdout))
    out: dict[str, Any] = {k: statistics.median(r[k] for r in results) for k in ("import_ms", "load_ms", "first_ms")}
    out.update(statuses=results[0]["statuses"], entries=results[0]["entries"], errors=results[0]["errors"])
    return out


# --------------------------------------------------------------------------------------------------- inventory


def _inventory_rows(setup: Setup, module: Any, seconds: float, runs: int) -> list[dict[str, Any]]:
    from signagent.service.inventory import build_inventory
    from signagent.trust.validation import clear_caches
    from signagent.x509 import Certificate

    tokens = module.tokens()
    rows: list[dict[str, Any]] = []

    def row(figure: str, ms: float | None, note: str, target: float | None = None) -> None:
        ratio = ms / target if ms is not None and target else None
        status = None if ratio is None else ("PASS" if ratio <= 1.0 else "ABOVE")
        rows.append({"figure": figure, "ms": ms, "target_ms": target, "ratio": ratio, "status": status,
                     "note": note})

    warm_total = 0.0
    shift = iter(range(1, 10_000))  # a new hour bucket per uncached call: the inventory's chain cache misses

    for revocation in ("off", "hard"):
        crls = setup.crls if revocation == "hard" else []
        tag = "revocation off" if revocation == "off" else "2 CRLs, revocation hard"

        def call(now: datetime | None = None, crls: list[bytes] = crls, revocation: str = revocation) -> Any:
            return build_inventory(tokens, trust_roots=setup.roots, intermediates=setup.intermediates, crls=crls,
                                   now=now, offline=True, revocation=revocation)

        cold = _cold(setup, revocation, runs)
        if "error" in cold:
            row(f"cold, {tag}", None, f"child process FAILED: {cold['error']}")
        else:
            row(f"cold, {tag}", cold["first_ms"],
                f"first call in a fresh process; before it: imports {cold['import_ms']:.0f} ms, module load + "
                f"slots {cold['load_ms']:.0f} ms; {cold['entries']} entries, chain {'/'.join(cold['statuses'])}")

        def uncached(call: Callable[..., Any] = call) -> Any:
            clear_caches()
            return call(datetime.now(UTC) + timedelta(hours=next(shift)))

        row(f"uncached, {tag}", _median_ms(uncached, seconds / 2, least=3),
            "trust result cache cleared, inventory chain cache missed: 15 validations")
        inventory = call()
        statuses = sorted({e.chain_status for e in inventory.entries})
        row(f"warm, {tag}", _median_ms(call, seconds), f"{len(inventory.entries)} entries, chain "
            f"{'/'.join(statuses)}" + ("" if statuses == ["valid"] else " (EXPECTED valid)"), TARGET_WARM_MS)
        if revocation == "off":
            warm_total = rows[-1]["ms"]

    ders = [c.certificate.der for t in tokens for c in t.certificates()]
    slots = _median_ms(module.tokens, seconds / 2)
    listing = _median_ms(lambda: [t.certificates() for t in tokens], seconds / 2)
    parsing = _median_ms(lambda: [Certificate.from_der(d) for d in ders], seconds / 2)
    identity = _median_ms(lambda: [Certificate.from_der(d).identity for d in ders], seconds / 2) - parsing
    row("split: slot enumeration", slots, "module.tokens(): C_GetSlotList + C_GetTokenInfo per slot")
    row("split: listing 3 tokens", listing,
        "certificates() x 3: presence check, C_FindObjects x 3, attributes; parsed certificates come from "
        "Certificate.from_der_cached")
    row("split: rest of a warm call", warm_total - listing,
        "warm (revocation off) minus the listing: entries, identity (cached on the certificate), warnings, "
        "chain status from the cache")
    row("first listing only: parsing", parsing, f"Certificate.from_der x {len(ders)} (structure checks), paid once "
        "per certificate DER")
    row("first listing only: identity", identity, f"Certificate.identity x {len(ders)} (names, extensions), paid "
        "once per certificate object")
    return rows


# --------------------------------------------------------------------------------------------------- signing


def _signing_rows(setup: Setup, module: Any, seconds: float) -> list[dict[str, Any]]:
    import PyKCS11

    from signagent.cms.signer import SoftwareSigner
    from signagent.cms.signing import sign
    from signagent.cms.verification import verify
    from signagent.gost import streebog256
    from signagent.tokens.protocol import StaticPinProvider, cert_id_of
    from signagent.x509 import Certificate

    message = os.urandom(MESSAGE_SIZE)
    digest = streebog256(message).digest()
    key = setup.sign_key
    cert = Certificate.from_der(setup.sign_cert_der)
    inter = Certificate.from_der(setup.intermediates[0])
    token = module.token(label=setup.sign_label)
    pins = StaticPinProvider(USER_PIN)
    cert_id = cert_id_of(cert)
    entry = token.certificate(cert_id)
    token_signer, soft_signer = token.signer(entry, pins), SoftwareSigner(cert, key)
    public = cert.public_key()
    checks: list[str] = []
    if not public.verify_digest(digest, token.sign_digest_with_key(entry.key, digest, pins)):
        checks.append("the token's signature does NOT verify")
    if verify(sign(message, token_signer, certificates=[inter])).signers[0].codes != ("chain_not_checked",):
        checks.append("the token's CMS does NOT verify")

    figures: list[tuple[str, str, float]] = []

    def time_it(name: str, what: str, fn: Callable[[], Any]) -> None:
        figures.append((name, what, _per_call_us(fn, seconds)))

    time_it("(a) gost sign_digest", "PrivateKey.sign_digest of a ready digest", lambda: key.sign_digest(digest))
    time_it("(b) Streebog + sign_digest", "what a software signer does per message",
            lambda: key.sign_digest(streebog256(message).digest()))
    time_it("(c) token sign_digest_with_key, login per op", "backend: C_Login (PBKDF2), key search, C_Sign, "
            "C_Logout", lambda: token.sign_digest_with_key(entry.key, digest, pins))
    time_it("(d) CMS via TokenSigner, login per op", "signagent.cms.signing.sign, CAdES-BES, attached",
            lambda: sign(message, token_signer, certificates=[inter]))

    # Log the application in through a second session: PKCS#11 login state is per application, so the backend's
    # own session is then in the user state and the backend skips its login/logout.
    side_lib = PyKCS11.PyKCS11Lib()
    side_lib.load(setup.module_path)
    side = side_lib.openSession(token.slot, PyKCS11.CKF_SERIAL_SESSION | PyKCS11.CKF_RW_SESSION)
    side.login(USER_PIN.decode())
    try:
        (handle,) = side.findObjects([(PyKCS11.CKA_CLASS, PyKCS11.CKO_PRIVATE_KEY),
                                      (PyKCS11.CKA_ID, setup.sign_key_id)])
        mechanism = PyKCS11.Mechanism(PyKCS11.CKM_GOSTR3410, None)
        before = pins.calls
        time_it("C_Sign alone (logged in)", "PyKCS11 session.sign: C_SignInit + C_Sign through the module",
                lambda: side.sign(handle, digest, mechanism))
        time_it("(c') token sign_digest_with_key, logged in", "backend as (c) without C_Login/C_Logout",
                lambda: token.sign_digest_with_key(entry.key, digest, pins))
        time_it("(c'') look-up by id + sign, logged in", "the path before issue 11: a listing finds the key again",
                lambda: token.sign_digest_with_key(token.certificate(cert_id).key, digest, pins))
        time_it("(d') CMS via TokenSigner, logged in", "as (d) without C_Login/C_Logout",
                lambda: sign(message, token_signer, certificates=[inter]))
        if pins.calls != before:
            checks.append("the backend asked for a PIN although the user was logged in")
    finally:
        side.logout()
        side.closeSession()
        side_lib.unload()
    time_it("(e) CMS via SoftwareSigner", "same CMS, key in memory",
            lambda: sign(message, soft_signer, certificates=[inter]))

    raw = figures[0][2]
    rows = [{"figure": name, "us": us, "ratio_to_a": us / raw, "note": what} for name, what, us in figures]
    rows.append({"figure": "checks", "us": None, "ratio_to_a": None,
                 "note": "; ".join(checks) or "token signature and token CMS verify; no PIN asked when logged in"})
    return rows


# --------------------------------------------------------------------------------------------------- main


def run(quick: bool) -> dict[str, Any]:
    """Provision, load the module as the agent does, measure; returns the JSON-ready result."""
    from signagent.tokens.pkcs11 import Pkcs11Module

    seconds, runs = (0.5, 1) if quick else (2.0, 3)
    with tempfile.TemporaryDirectory(prefix="signagent-bench-tokens-") as tmp:
        setup = _provision(Path(tmp))
        os.environ["PKCS11_SIM_DIR"] = str(setup.sim_dir)  # read by the module at C_Initialize
        with Pkcs11Module(setup.module_path) as module:
            inventory = _inventory_rows(setup, module, seconds, runs)
            signing = _signing_rows(setup, module, 0.3 if quick else 1.5)
    return {"tokens": TOKENS, "certificates_per_token": CERTS_PER_TOKEN, "target_warm_ms": TARGET_WARM_MS,
            "inventory_ms": inventory, "signing_1kib_us": signing}


def _fmt(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter loops, one cold process per figure")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument("--cold-child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.cold_child:
        return _cold_child(args.cold_child)
    result = run(args.quick)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"Inventory of {TOKENS} simulator tokens x {CERTS_PER_TOKEN} certificates with chain status (ms; "
          f"target: warm <= {TARGET_WARM_MS:.0f} ms)")
    print(f"{'figure':<34}{'ms':>9}{'target':>8}{'ms/target':>10}  {'status':<6}  note")
    for r in result["inventory_ms"]:
        print(f"{r['figure']:<34}{_fmt(r['ms']):>9}{_fmt(r['target_ms'], 0):>8}{_fmt(r['ratio'], 3):>10}  "
              f"{r['status'] or '':<6}  {r['note']}")
    print()
    print(f"Signing {MESSAGE_SIZE} bytes through the simulator token vs signagent.gost (us per operation; "
          "ratio = figure / (a))")
    print(f"{'figure':<44}{'us':>10}{'x (a)':>9}  note")
    for r in result["signing_1kib_us"]:
        print(f"{r['figure']:<44}{_fmt(r['us'], 0):>10}{_fmt(r['ratio_to_a'], 1):>9}  {r['note']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

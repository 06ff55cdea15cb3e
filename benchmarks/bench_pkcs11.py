"""PKCS#11 module benchmark: C_Sign through the simulator's loadable module (PyKCS11) vs signagent.gost directly.

Run from the repository root::

    .venv/bin/python -m benchmarks.bench_pkcs11 [--quick] [--json]

Rows, in microseconds per signature (lower is better), for a tc26 256-bit paramSetA and a 512-bit paramSetA key:

* ``gost``: ``PrivateKey.sign_digest`` on a key of the same curve, in this process -- the cryptographic floor;
* ``engine``: the simulator's :class:`pkcs11_sim.engine.Engine` called directly (sign_init, output_length, sign)
  -- the token semantics without the C boundary;
* ``module``: PyKCS11's ``Session.sign`` with CKM_GOSTR3410 on the token's key, i.e. C_SignInit + C_Sign (length
  query) + C_Sign through the shared library, the embedded interpreter's glue and the engine.

``module - gost`` is what the module adds per signature (issue target: at most 100 us); ``module - engine`` is the
cost of the C boundary alone (three PKCS#11 calls through cffi and PyKCS11). Timings are informative: the exit
status is 0 whatever the numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Callable

from benchmarks._timing import per_call_seconds

TARGET_OVERHEAD_US = 100.0
CURVES = (("tc26-256-A", "1.2.643.7.1.2.1.1.1", 256), ("tc26-512-A", "1.2.643.7.1.2.1.2.1", 512))
USER_PIN, SO_PIN = b"1234", b"87654321"


def per_call_us(fn: Callable[[], object], seconds: float) -> float:
    """Microseconds per call (see :func:`benchmarks._timing.per_call_seconds`)."""
    return per_call_seconds(fn, seconds) * 1e6


def run(seconds: float) -> list[dict[str, object]]:
    import PyKCS11

    import pkcs11_sim
    import signagent.asn1  # noqa: F401  (GOST OIDs for asn1crypto)
    from pkcs11_sim import constants as C
    from pkcs11_sim.engine import Engine
    from pkcs11_sim.store import SimRoot

    sim_dir = tempfile.mkdtemp(prefix="signagent-bench-pkcs11-")
    os.environ["PKCS11_SIM_DIR"] = sim_dir
    SimRoot(sim_dir).create("bench", SO_PIN, USER_PIN)
    lib = PyKCS11.PyKCS11Lib()
    lib.load(pkcs11_sim.module_path())
    slot = lib.getSlotList(tokenPresent=True)[0]
    session = lib.openSession(slot, PyKCS11.CKF_RW_SESSION)
    session.login(USER_PIN.decode())

    engine = Engine(sim_dir)  # a second, independent engine on the same token for the "engine" row
    engine.initialize()
    eng_session = engine.open_session(slot, C.CKF_SERIAL_SESSION)
    engine.login(eng_session, C.CKU_USER, USER_PIN)

    rows = [
        _measure_curve(label, curve_oid, size, session, engine, eng_session, seconds)
        for label, curve_oid, size in CURVES
    ]
    engine.finalize()
    session.logout()
    session.closeSession()
    lib.unload()
    return rows


def _measure_curve(label: str, curve_oid: str, size: int, session, engine, eng_session: int,
                   seconds: float) -> dict[str, object]:
    """One row: a token key pair of this curve, then the three timings."""
    import PyKCS11
    from asn1crypto import core

    from pkcs11_sim import constants as C
    from signagent import gost

    gen, mech, key_type = (
        (C.CKM_GOSTR3410_KEY_PAIR_GEN, C.CKM_GOSTR3410, C.CKK_GOSTR3410) if size == 256
        else (C.CKM_GOSTR3410_512_KEY_PAIR_GEN, C.CKM_GOSTR3410_512, C.CKK_GOSTR3410_512)
    )
    common = [(PyKCS11.CKA_TOKEN, True), (PyKCS11.CKA_LABEL, label), (PyKCS11.CKA_KEY_TYPE, key_type)]
    _pub, priv = session.generateKeyPair(
        [*common, (PyKCS11.CKA_CLASS, PyKCS11.CKO_PUBLIC_KEY), (PyKCS11.CKA_VERIFY, True),
         (PyKCS11.CKA_GOSTR3410_PARAMS, core.ObjectIdentifier(curve_oid).dump())],
        [*common, (PyKCS11.CKA_CLASS, PyKCS11.CKO_PRIVATE_KEY), (PyKCS11.CKA_SIGN, True),
         (PyKCS11.CKA_PRIVATE, True), (PyKCS11.CKA_SENSITIVE, True)],
        PyKCS11.Mechanism(gen, None),
    )
    digest = (gost.streebog256 if size == 256 else gost.streebog512)(b"benchmark").digest()
    mechanism = PyKCS11.Mechanism(mech, None)
    key = gost.PrivateKey.generate(gost.curve(curve_oid))
    private_class = C.CKO_PRIVATE_KEY.to_bytes(C.ULONG_SIZE, sys.byteorder)
    engine.find_objects_init(eng_session, [(C.CKA_LABEL, label.encode()), (C.CKA_CLASS, private_class)])
    (eng_key,) = engine.find_objects(eng_session, 1)
    engine.find_objects_final(eng_session)

    def engine_sign() -> bytes:
        engine.sign_init(eng_session, mech, None, eng_key)
        engine.output_length(eng_session, "sign")
        return engine.sign(eng_session, digest)

    figures = {
        "gost": per_call_us(lambda: key.sign_digest(digest), seconds),
        "engine": per_call_us(engine_sign, seconds),
        "module": per_call_us(lambda: session.sign(priv, digest, mechanism), seconds),
    }
    overhead = figures["module"] - figures["gost"]
    return {
        "curve": label, **{k: round(v, 1) for k, v in figures.items()},
        "module_minus_gost_us": round(overhead, 1),
        "module_minus_engine_us": round(figures["module"] - figures["engine"], 1),
        "status": "PASS" if overhead <= TARGET_OVERHEAD_US else "ABOVE",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter loops (0.3 s per figure)")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    args = parser.parse_args(argv)
    rows = run(0.3 if args.quick else 1.5)
    if args.json:
        print(json.dumps({"unit": "us per signature", "target_overhead_us": TARGET_OVERHEAD_US, "rows": rows}))
        return 0
    print(f"C_Sign through the PKCS#11 module vs signagent.gost (us per signature; target: module adds "
          f"<= {TARGET_OVERHEAD_US:.0f} us)")
    print(f"{'curve':<12}{'gost':>10}{'engine':>10}{'module':>10}{'module-gost':>13}{'module-engine':>15}  status")
    for r in rows:
        print(f"{r['curve']:<12}{r['gost']:>10}{r['engine']:>10}{r['module']:>10}{r['module_minus_gost_us']:>13}"
              f"{r['module_minus_engine_us']:>15}  {r['status']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

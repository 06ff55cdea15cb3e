"""Chain validation benchmark: a 3-certificate GOST chain with CRLs, ours cold and warm, beside OpenSSL.

Run from the repository root::

    .venv/bin/python -m benchmarks.bench_trust [--quick] [--json]

The chain is the test PKI's (signagent.testpki): root (GOST 2012-512, paramSetA) -> intermediate (2012-256,
CryptoPro-A) -> end entity "head"; the CRLs are the intermediate's (for the end entity) and the root's (for the
intermediate), both checked (``revocation="hard"``), no network (``offline=True``).

* ours, cold: :func:`signagent.trust.validation.clear_caches` before every call, inputs given as DER bytes (so
  parsing, path building, four GOST signature verifications -- two certificates, two CRLs --, pyhanko-certvalidator's
  RFC 5280 run and the CRL look-ups are all timed);
* ours, warm: the same call repeated (the in-memory result cache answers while the validation time stays inside
  the window in which nothing the verdict depends on changes);
* OpenSSL: ``X509_verify_cert`` in-process (libcrypto + GOST engine through ctypes, as tests/oracles does) with
  ``X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL`` on the same files, once including ``d2i`` parsing and
  store set-up, once on pre-parsed objects. OpenSSL keeps no verdict cache, so its two figures differ only by
  parsing.

Targets (issue #3): <= 10 ms cold, <= 1 ms warm. Informative only; the exit status is 0.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.oracles.openssl_gost import d2i

_ROOT = Path(__file__).resolve().parent.parent
if str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))

TARGET_COLD_MS = 10.0
TARGET_WARM_MS = 1.0
X509_V_FLAG_CRL_CHECK = 0x4
X509_V_FLAG_CRL_CHECK_ALL = 0x8


def _per_call_ms(fn: Callable[[], Any], seconds: float) -> float:
    fn()  # warm-up (imports, first-use initialisation)
    count, start = 0, time.perf_counter()
    while True:
        fn()
        count += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds and count >= 5:
            return elapsed / count * 1000


class _OpenSSLVerify:
    """X509_verify_cert on DER inputs through ctypes (libcrypto with the GOST engine already loaded)."""

    def __init__(self, lib: ctypes.CDLL) -> None:
        vp, i = ctypes.c_void_p, ctypes.c_int
        self.lib = lib
        for name, res, args in (
            ("d2i_X509", vp, [vp, ctypes.POINTER(vp), ctypes.c_long]),
            ("d2i_X509_CRL", vp, [vp, ctypes.POINTER(vp), ctypes.c_long]),
            ("X509_free", None, [vp]), ("X509_CRL_free", None, [vp]),
            ("X509_STORE_new", vp, []), ("X509_STORE_free", None, [vp]),
            ("X509_STORE_add_cert", i, [vp, vp]), ("X509_STORE_add_crl", i, [vp, vp]),
            ("X509_STORE_set_flags", i, [vp, ctypes.c_ulong]),
            ("X509_STORE_CTX_new", vp, []), ("X509_STORE_CTX_free", None, [vp]),
            ("X509_STORE_CTX_init", i, [vp, vp, vp, vp]), ("X509_STORE_CTX_get_error", i, [vp]),
            ("X509_STORE_CTX_set_time", None, [vp, ctypes.c_ulong, ctypes.c_long]),
            ("X509_verify_cert", i, [vp]),
            ("OPENSSL_sk_new_null", vp, []), ("OPENSSL_sk_push", i, [vp, vp]), ("OPENSSL_sk_free", None, [vp]),
        ):
            fn = getattr(lib, name)
            fn.restype, fn.argtypes = res, args


    def parse(self, root: bytes, inter: bytes, leaf: bytes, crls: list[bytes]) -> tuple[int, int, int, list[int]]:
        return (d2i("d2i_X509", root), d2i("d2i_X509", inter), d2i("d2i_X509", leaf),
                [d2i("d2i_X509_CRL", c) for c in crls])

    def free(self, parsed: tuple[int, int, int, list[int]]) -> None:
        root, inter, leaf, crls = parsed
        for x in (root, inter, leaf):
            self.lib.X509_free(x)
        for c in crls:
            self.lib.X509_CRL_free(c)

    def verify(self, parsed: tuple[int, int, int, list[int]], at: int) -> int:
        """0 when OpenSSL accepts the chain, else its X509_V_ERR code."""
        lib = self.lib
        root, inter, leaf, crls = parsed
        store = lib.X509_STORE_new()
        untrusted = lib.OPENSSL_sk_new_null()
        ctx = lib.X509_STORE_CTX_new()
        try:
            lib.X509_STORE_add_cert(store, root)
            for c in crls:
                lib.X509_STORE_add_crl(store, c)
            lib.X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL)
            lib.OPENSSL_sk_push(untrusted, inter)
            lib.X509_STORE_CTX_init(ctx, store, leaf, untrusted)
            lib.X509_STORE_CTX_set_time(ctx, 0, at)
            ok = lib.X509_verify_cert(ctx)
            return 0 if ok == 1 else lib.X509_STORE_CTX_get_error(ctx)
        finally:
            lib.X509_STORE_CTX_free(ctx)
            lib.OPENSSL_sk_free(untrusted)
            lib.X509_STORE_free(store)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter loops")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    args = parser.parse_args(argv)
    seconds = 0.3 if args.quick else 1.5

    from signagent.gost import backend_name
    from signagent.testpki import generate
    from signagent.trust.validation import clear_caches, validate

    out = Path(tempfile.mkdtemp(prefix="signagent-bench-trust-"))
    pki = generate(out, seed="bench-trust")
    root, inter, leaf = pki.root.der, pki.intermediate.der, pki.end_entities["head"].der
    crls = [pki.crls["inter"].der, pki.crls["root"].der]
    at = pki.now

    def ours() -> str:
        return validate(leaf, trust_roots=[root], intermediates=[inter], crls=crls, at=at, offline=True,
                        revocation="hard").status

    def cold() -> str:
        clear_caches()
        return ours()

    verdict = cold()
    rows: list[dict[str, Any]] = [
        {"name": "validate 3-cert chain + 2 CRLs, cold", "ms": _per_call_ms(cold, seconds), "target_ms": TARGET_COLD_MS,
         "verdict": verdict},
        {"name": "validate 3-cert chain + 2 CRLs, warm", "ms": _per_call_ms(ours, seconds), "target_ms": TARGET_WARM_MS,
         "verdict": ours()},
    ]
    notes: list[str] = []
    try:
        from tests.oracles import openssl_gost

        if not openssl_gost.available():
            raise RuntimeError(openssl_gost.reason())
        ossl = _OpenSSLVerify(openssl_gost._lib())
        ts = int(at.timestamp())

        def ossl_cold() -> int:
            parsed = ossl.parse(root, inter, leaf, crls)
            try:
                return ossl.verify(parsed, ts)
            finally:
                ossl.free(parsed)

        parsed = ossl.parse(root, inter, leaf, crls)
        code = ossl_cold()
        rows.append({"name": "OpenSSL X509_verify_cert incl. d2i parsing", "ms": _per_call_ms(ossl_cold, seconds),
                     "verdict": "valid" if code == 0 else f"error {code}"})
        rows.append({"name": "OpenSSL X509_verify_cert, pre-parsed", "ms":
                     _per_call_ms(lambda: ossl.verify(parsed, ts), seconds),
                     "verdict": "valid" if ossl.verify(parsed, ts) == 0 else "error"})
        ossl.free(parsed)
    except Exception as exc:  # the OpenSSL column is optional
        notes.append(f"OpenSSL column unavailable: {exc}")

    if args.json:
        print(json.dumps({"backend": backend_name(), "rows": rows, "notes": notes}, indent=2))
        return 0
    print(f"chain validation (GOST backend: {backend_name()}; chain root-512 -> inter-256 -> head, CRLs checked)")
    openssl_ms = next((r["ms"] for r in rows if r["name"].startswith("OpenSSL X509_verify_cert incl.")), None)
    for row in rows:
        target = row.get("target_ms")
        mark = "" if target is None else ("PASS" if row["ms"] <= target else "ABOVE TARGET")
        ratio = f"  x{row['ms'] / openssl_ms:.1f} OpenSSL" if openssl_ms and target else ""
        target_text = f"(target <= {target:g} ms) {mark}" if target is not None else ""
        print(f"  {row['name']:<46} {row['ms']:8.3f} ms  {row['verdict']:<8} {target_text}{ratio}")
    for note in notes:
        print(f"  note: {note}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""CMS (CAdES-BES) benchmark: large detached signing beside ``openssl cms -sign``, peak memory, 1 KiB rates.

Run from the repository root::

    .venv/bin/python -m benchmarks.bench_cms [--quick] [--json] [--rates-only]

Figures (issues #4 and #11; benchmarks/README.md explains them):

* **start-up**: ``signagent sign --detached`` of an empty file in a fresh process beside ``openssl cms -sign`` of
  it, median of 5 runs (3 quick). The command-line children run with bytecode cached in a private
  ``PYTHONPYCACHEPREFIX`` (an installed package has its .pyc), after one untimed run;
* **detached signing of a 256 MiB file** (random bytes on disk; 32 MiB with ``--quick``) with the test PKI's
  ``head`` certificate and key (GOST 2012-256): ours through the command line ``signagent sign --detached``
  (a fresh Python process, so start-up is included) and in-process (:func:`signagent.cms.signing.sign` streaming
  the file), beside ``openssl cms -sign -binary -outform DER`` (detached by default) on the same file, certificate
  and key. Best of 5 interleaved runs each (3 quick). Target: ours (command line) <= 1.2x OpenSSL's time;
* **peak RSS of 1 GiB detached signing** (a sparse file): ``VmHWM`` read inside the signing process (256 MiB with
  ``--quick``). Target: <= 100 MB;
* **1 KiB sign and verify rates**: ours in-process -- ``sign`` (attached, CAdES-BES) and ``verify`` without the
  chain (signature, attributes, signingCertificateV2) and with the chain (root trusted, revocation off; the
  trust layer's result cache is warm after the first call) -- beside OpenSSL's ``CMS_sign`` / ``CMS_verify``
  called in-process through ctypes (libcrypto + GOST engine as tests/oracles loads them), with
  ``CMS_NOVERIFY`` for the no-chain figure and an X509_STORE holding the root for the chain figure. Ours and
  OpenSSL's run in alternating slices (9 of 0.25 s each, 5 of 0.1 s quick); the row gives the medians of each and
  of the per-slice ratios. Targets (issue #11): sign and verify without the chain >= 1.5x OpenSSL.

Informative only; the exit status is 0.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import statistics
import subprocess
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

TARGET_RATIO = 1.2
TARGET_PEAK_MB = 100.0
CMS_DETACHED, CMS_BINARY, CMS_NOVERIFY = 0x40, 0x80, 0x20

_CHILD = (
    "import sys, signagent.cli.signing\n"
    "from signagent.cli import main\n"
    "rc = main(sys.argv[1:])\n"
    "hwm = next(l for l in open('/proc/self/status') if l.startswith('VmHWM:')).split()[1]\n"
    "print('VmHWM', hwm, file=sys.stderr)\n"
    "sys.exit(rc)\n"
)


def _best(fn: Callable[[], None], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def _rate(fn: Callable[[], Any], seconds: float) -> float:
    fn()
    count, start = 0, time.perf_counter()
    while True:
        fn()
        count += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds and count >= 5:
            return count / elapsed


def _paired(ours: Callable[[], Any], theirs: Callable[[], Any] | None, seconds: float,
            rounds: int) -> tuple[float, float, float]:
    """Rates of ``ours`` and ``theirs`` measured in alternating slices of ``seconds`` (ours, theirs, ours, ...),
    so that both see the same load on a shared machine: (median of ours, median of theirs, median of the
    per-slice ratios); NaN for theirs when ``theirs`` is None."""
    mine, other, ratios = [], [], []
    for _ in range(rounds):
        a = _rate(ours, seconds)
        mine.append(a)
        if theirs is not None:
            b = _rate(theirs, seconds)
            other.append(b)
            ratios.append(a / b)
    nan = float("nan")
    return (statistics.median(mine), statistics.median(other) if other else nan,
            statistics.median(ratios) if ratios else nan)


#: Where the command-line runs keep their compiled bytecode (set by main): an installed package has its .pyc
#: written by pip, so the child is timed with bytecode cached, even where PYTHONDONTWRITEBYTECODE is set.
_PYCACHE: list[str] = []


#: The interpreter the command-line rows run (``--wheel``: a fresh venv holding a wheel of this checkout, run from
#: outside the checkout -- how users install it: no editable-install finder, bytecode compiled by pip).
_INSTALLED: dict[str, str] = {}


def _child(args: list[str]) -> tuple[int, float, str]:
    env = dict(os.environ, LANG="C.UTF-8")
    if _INSTALLED:
        python, cwd = _INSTALLED["python"], _INSTALLED["cwd"]
    else:
        python, cwd = sys.executable, None
        if _PYCACHE:
            env.pop("PYTHONDONTWRITEBYTECODE", None)
            env["PYTHONPYCACHEPREFIX"] = _PYCACHE[0]
    out = subprocess.run([python, "-c", _CHILD, *args], capture_output=True, text=True, timeout=1800,
                         env=env, cwd=cwd)
    peak = int(out.stderr.split("VmHWM")[1].split()[0]) / 1024 if "VmHWM" in out.stderr else float("nan")
    return out.returncode, peak, out.stderr


def _install_wheel(tmp: Path) -> None:
    """Build a wheel of the checkout and install it (with its runtime dependencies) into a venv under ``tmp``."""
    dist, venv, work = tmp / "dist", tmp / "venv", tmp / "work"
    work.mkdir()
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(dist), str(_ROOT)],
                   check=True, cwd=work)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    subprocess.run([python, "-m", "pip", "install", "-q", str(next(dist.glob("signagent-*.whl")))], check=True,
                   cwd=work)
    _INSTALLED.update(python=python, cwd=str(work))


class _OpenSSLCms:
    """CMS_sign / CMS_verify through ctypes on libcrypto with the GOST engine loaded by tests.oracles."""

    def __init__(self, lib: ctypes.CDLL, cert_der: bytes, root_der: bytes, inter_der: bytes, key_ptr: int) -> None:
        vp, i, u = ctypes.c_void_p, ctypes.c_int, ctypes.c_uint
        self.lib = lib
        for name, res, args in (
            ("d2i_X509", vp, [vp, ctypes.POINTER(vp), ctypes.c_long]), ("X509_free", None, [vp]),
            ("BIO_new_mem_buf", vp, [vp, i]), ("BIO_free", i, [vp]),
            ("CMS_sign", vp, [vp, vp, vp, vp, u]), ("CMS_verify", i, [vp, vp, vp, vp, vp, u]),
            ("i2d_CMS_ContentInfo", i, [vp, ctypes.POINTER(vp)]),
            ("d2i_CMS_ContentInfo", vp, [vp, ctypes.POINTER(vp), ctypes.c_long]),
            ("CMS_ContentInfo_free", None, [vp]),
            ("X509_STORE_new", vp, []), ("X509_STORE_add_cert", i, [vp, vp]), ("X509_STORE_free", None, [vp]),
            ("ERR_clear_error", None, []),
            ("OPENSSL_sk_new_null", vp, []), ("OPENSSL_sk_push", i, [vp, vp]),
        ):
            fn = getattr(lib, name)
            fn.restype, fn.argtypes = res, args
        self.cert = d2i("d2i_X509", cert_der)
        self.root = d2i("d2i_X509", root_der)
        self.key = key_ptr
        self.chain = lib.OPENSSL_sk_new_null()  # the intermediate goes into the CMS, as ours does
        lib.OPENSSL_sk_push(self.chain, d2i("d2i_X509", inter_der))
        self.store = lib.X509_STORE_new()
        lib.X509_STORE_add_cert(self.store, self.root)


    def sign(self, data: bytes) -> bytes:
        lib = self.lib
        bio = lib.BIO_new_mem_buf(data, len(data))
        cms = lib.CMS_sign(self.cert, self.key, self.chain, bio, CMS_BINARY)
        lib.BIO_free(bio)
        if not cms:
            raise RuntimeError("CMS_sign failed")
        try:
            n = lib.i2d_CMS_ContentInfo(cms, None)
            buf = ctypes.create_string_buffer(n)
            cursor = ctypes.c_void_p(ctypes.addressof(buf))
            lib.i2d_CMS_ContentInfo(cms, ctypes.byref(cursor))
            return buf.raw
        finally:
            lib.CMS_ContentInfo_free(cms)

    def verify(self, der: bytes, chain: bool) -> bool:
        lib = self.lib
        cms = d2i("d2i_CMS_ContentInfo", der)
        try:
            ok = lib.CMS_verify(cms, None, self.store if chain else None, None, None,
                                CMS_BINARY | (0 if chain else CMS_NOVERIFY))
            if ok != 1:
                lib.ERR_clear_error()
            return ok == 1
        finally:
            lib.CMS_ContentInfo_free(cms)


def _big_files(rows: list[dict[str, Any]], big: Path, big_mib: int, peak_mib: int,
               runs: int, cli_pair: Callable[[Path], tuple[Callable[[], None], Callable[[], None]]], head: Any,
               signer: Any, out: Path, tmp: Path, have_ossl: bool) -> None:
    """The big-file rows: detached signing of ``big_mib`` MiB (command line and in-process) beside ``openssl cms
    -sign``, and the peak memory of signing ``peak_mib`` MiB."""
    from signagent.cms.signing import sign
    from signagent.cms.verification import verify

    with open(big, "wb") as f:
        for _ in range(big_mib):
            f.write(os.urandom(1 << 20))
    ours_cli, openssl_cli = cli_pair(big)

    def ours_inprocess() -> None:
        with open(big, "rb", buffering=0) as src, open(out, "wb") as dst:
            sign(src, signer, detached=True, out=dst)

    # interleaved, best of each: on a shared machine the load changes between runs
    t_cli = t_in = t_ossl = float("inf")
    for _ in range(runs):
        t_cli = min(t_cli, _best(ours_cli, 1))
        t_in = min(t_in, _best(ours_inprocess, 1))
        t_ossl = min(t_ossl, _best(openssl_cli, 1)) if have_ossl else float("nan")
    rows.append({"figure": f"detached sign {big_mib} MiB, s", "ours": t_cli, "openssl": t_ossl,
                 "ratio": t_cli / t_ossl, "note": f"command line incl. start-up; target <= {TARGET_RATIO}x; "
                 + ("installed from a wheel" if _INSTALLED else "editable install")})
    rows.append({"figure": f"detached sign {big_mib} MiB in-process, s", "ours": t_in, "openssl": t_ossl,
                 "ratio": t_in / t_ossl, "note": "signagent.cms.signing.sign on the open file"})
    ok = verify(out.read_bytes(), content=big).signers[0].codes == ("chain_not_checked",)
    rows[-1]["note"] += "; our signature verifies" if ok else "; OUR SIGNATURE DID NOT VERIFY"
    big.unlink()

    sparse = tmp / "sparse.bin"
    with open(sparse, "wb") as f:
        f.truncate(peak_mib << 20)
    rc, peak, err = _child(["sign", str(sparse), "--cert", str(head.paths["pem"]), "--key",
                            str(head.paths["key"]), "--detached", "-o", str(out)])
    rows.append({"figure": f"peak RSS, detached sign {peak_mib} MiB, MB", "ours": peak, "openssl": None,
                 "ratio": None, "note": f"VmHWM of the signing process; target <= {TARGET_PEAK_MB} MB"
                 + ("" if rc == 0 else f"; FAILED: {err.strip()}")})



def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller files and shorter loops")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument("--rates-only", action="store_true", help="only the start-up and 1 KiB rows (no big files)")
    parser.add_argument("--wheel", action="store_true",
                        help="run the command-line rows from a wheel of this checkout installed in a fresh venv")
    opts = parser.parse_args()

    from signagent.cms.signer import SoftwareSigner
    from signagent.cms.signing import sign
    from signagent.cms.verification import verify
    from signagent.testpki import generate
    from signagent.trust.validation import validate
    from signagent.x509 import load_certificate
    from tests.oracles import openssl_gost as ossl

    big_mib = 32 if opts.quick else 256
    peak_mib = 256 if opts.quick else 1024
    runs = 3 if opts.quick else 5
    loop_s = 0.1 if opts.quick else 0.25  # per slice; ``rounds`` slices of ours and of OpenSSL's, alternating
    rounds = 5 if opts.quick else 9
    rows: list[dict[str, Any]] = []
    have_ossl = ossl.openssl_binary() is not None and ossl.available()

    with tempfile.TemporaryDirectory(prefix="bench-cms-") as tmp_name:
        tmp = Path(tmp_name)
        pki = generate(tmp / "pki")
        head = pki["head"]
        cert = load_certificate(head.der)
        signer = SoftwareSigner(cert, head.key)

        if opts.wheel:
            _install_wheel(tmp)
        big = tmp / "big.bin"
        empty = tmp / "empty.bin"
        empty.write_bytes(b"")
        out = tmp / "big.sig"

        def cli_pair(path: Path) -> tuple[Callable[[], None], Callable[[], None]]:
            """``signagent sign --detached`` of ``path`` in a fresh process, and ``openssl cms -sign`` of it."""
            def ours() -> None:
                rc, _, err = _child(["sign", str(path), "--cert", str(head.paths["pem"]), "--key",
                                     str(head.paths["key"]), "--detached", "-o", str(out)])
                if rc != 0:
                    raise RuntimeError(err)

            def theirs() -> None:
                done = ossl.run_cli(["cms", "-sign", "-binary", "-in", str(path), "-signer", str(head.paths["pem"]),
                                     "-inkey", str(head.paths["key"]), "-outform", "DER", "-out", str(tmp / "o.sig")])
                if done.returncode != 0:
                    raise RuntimeError(done.stderr)
            return ours, theirs

        # start-up: the whole command on an empty file (interpreter, imports, reading the key and certificate),
        # after one untimed run that compiles the bytecode into the private cache
        _PYCACHE.append(str(tmp / "pycache"))
        ours_empty, openssl_empty = cli_pair(empty)
        ours_empty()
        starts, ossl_starts = [], []
        for _ in range(runs):
            starts.append(_best(ours_empty, 1))
            if have_ossl:
                ossl_starts.append(_best(openssl_empty, 1))
        t_start = statistics.median(starts)
        t_ossl_start = statistics.median(ossl_starts) if ossl_starts else float("nan")
        rows.append({"figure": "sign an empty file (start-up), s", "ours": t_start, "openssl": t_ossl_start,
                     "ratio": t_start / t_ossl_start, "note": f"command line, median of {runs}; "
                     "ours = python -c 'from signagent.cli import main' + sign, bytecode cached"
                     + ("; installed from a wheel" if _INSTALLED else "; editable install")})
        if not opts.rates_only:
            _big_files(rows, big, big_mib, peak_mib, runs, cli_pair, head, signer, out, tmp, have_ossl)

        kib = os.urandom(1024)
        inter = load_certificate(pki.intermediate.der)
        sig = sign(kib, signer, certificates=[inter])

        def chain_check(c, others, when):  # type: ignore[no-untyped-def]
            return validate(c, trust_roots=[pki.root.der], intermediates=others, at=when, offline=True,
                            revocation="off")

        ours_fns = (lambda: sign(kib, signer, certificates=[inter]), lambda: verify(sig),
                    lambda: verify(sig, validate_chain=chain_check))
        theirs_fns: tuple[Callable[[], Any] | None, ...] = (None, None, None)
        if have_ossl:
            key = ossl.private_key(cert.public_key_param_set, head.key.to_bytes())
            o = _OpenSSLCms(ossl._lib(), head.der, pki.root.der, pki.intermediate.der, key._ptr)
            osig = o.sign(kib)
            assert o.verify(sig, chain=False), "OpenSSL rejects our 1 KiB signature"
            assert verify(osig).signers[0].codes == ("chain_not_checked",), "we reject OpenSSL's signature"
            assert verify(osig, validate_chain=chain_check).status == "valid", "our chain check fails"
            store_ok = o.verify(osig, chain=True)
            theirs_fns = (lambda: o.sign(kib), lambda: o.verify(osig, chain=False),
                          (lambda: o.verify(osig, chain=True)) if store_ok else None)
        for name, ours_fn, theirs_fn, note in zip(
            ("1 KiB sign, ops/s", "1 KiB verify (no chain), ops/s", "1 KiB verify (chain, revocation off), ops/s"),
            ours_fns, theirs_fns,
            ("attached, CAdES-BES, 2 certificates; CMS_sign: its default attributes",
             "vs CMS_verify with CMS_NOVERIFY",
             "root trusted, intermediate inside the CMS; ours: warm result cache of the trust layer"), strict=True):
            ours, theirs, ratio = _paired(ours_fn, theirs_fn, loop_s, rounds)
            rows.append({"figure": name, "ours": ours, "openssl": theirs, "ratio": ratio if ratio == ratio else None,
                         "note": note + f"; medians of {rounds} alternating slices"})

    if opts.json:
        print(json.dumps({"rows": rows}, indent=2))
        return 0
    print(f"{'figure':<48} {'ours':>10} {'openssl':>10} {'ours/openssl':>13}  note")
    for r in rows:
        def fmt(v: Any) -> str:
            return "-" if v is None or v != v else (f"{v:.2f}" if v < 1000 else f"{v:.0f}")
        print(f"{r['figure']:<48} {fmt(r['ours']):>10} {fmt(r['openssl']):>10} {fmt(r['ratio']):>13}  {r['note']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

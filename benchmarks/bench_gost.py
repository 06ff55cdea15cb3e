"""GOST core benchmark: our figure, OpenSSL's GOST engine's (in-process) and gostcrypto's, with their ratios.

Run from the repository root::

    .venv/bin/python -m benchmarks.bench_gost [--quick] [--json]

Figures: Streebog-256/512 throughput (MB/s, 1 MB = 10^6 bytes), the pure-Python reference's Streebog throughput,
and sign/verify operations per second on tc26 256-bit paramSetA, CryptoPro-A and tc26 512-bit paramSetA.
Each row is checked against the performance targets of issue #2 and marked PASS or BELOW; that verdict is
informative only (timings are not pass/fail tests), so the exit status is 0 whatever the numbers.
See benchmarks/README.md for what each figure means exactly.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from benchmarks._timing import per_call_seconds

MIB = 1024 * 1024
MB = 1_000_000

# (label, our curve OID, gostcrypto's curve name for the same curve)
SIGN_CURVES = (
    ("tc26-256-A", "1.2.643.7.1.2.1.1.1", "id-tc26-gost-3410-2012-256-paramSetA"),
    ("CryptoPro-A", "1.2.643.2.2.35.1", "id-tc26-gost-3410-2012-256-paramSetB"),  # same curve, TC 26 OID
    ("tc26-512-A", "1.2.643.7.1.2.1.2.1", "id-tc26-gost-3410-12-512-paramSetA"),
)

# Targets of issue #2: ours / OpenSSL at least this (ratio rows), or an absolute floor (pure reference row).
TARGET_STREEBOG = 1.0
TARGET_VERIFY = 1.0
TARGET_SIGN = 0.7
TARGET_PURE_MBS = 0.5


@dataclass
class Row:
    """One figure of the table; None where an implementation was unavailable or failed (see ``notes``)."""

    figure: str
    unit: str
    ours: float | None = None
    openssl: float | None = None
    gostcrypto: float | None = None
    target: str = ""
    status: str = "n/a"
    notes: list[str] = field(default_factory=list)

    @property
    def ratio_openssl(self) -> float | None:
        """ours / OpenSSL (higher is better for us)."""
        return self.ours / self.openssl if self.ours and self.openssl else None

    @property
    def ratio_gostcrypto(self) -> float | None:
        """ours / gostcrypto."""
        return self.ours / self.gostcrypto if self.ours and self.gostcrypto else None

    def judge(self, min_ratio: float | None = None, min_abs: float | None = None) -> None:
        """Set ``target`` and ``status`` (PASS/BELOW; n/a when the figures needed are missing)."""
        if min_ratio is not None:
            self.target = f">= {min_ratio:g}x"
            ratio = self.ratio_openssl
            if ratio is not None:
                self.status = "PASS" if ratio >= min_ratio else "BELOW"
        elif min_abs is not None:
            self.target = f">= {min_abs:g} {self.unit}"
            if self.ours is not None:
                self.status = "PASS" if self.ours >= min_abs else "BELOW"

    def to_json(self) -> dict[str, Any]:
        """The row with its ratios, for --json."""
        out = asdict(self)
        out["ratio_openssl"] = self.ratio_openssl
        out["ratio_gostcrypto"] = self.ratio_gostcrypto
        return out


# ---------------------------------------------------------------------------------------------------- timing


def _throughput(feed: Callable[[int, int], None], total: int, chunk: int, budget: float) -> tuple[float, int]:
    """Feed ``total`` bytes in ``chunk``-sized pieces (``feed(offset, length)``), stopping early after ``budget``
    seconds; returns (MB/s, bytes fed). Slow implementations are measured on what they managed in the budget."""
    done = 0
    start = time.perf_counter()
    while done < total:
        n = min(chunk, total - done)
        feed(done, n)
        done += n
        if time.perf_counter() - start > budget:
            break
    elapsed = time.perf_counter() - start
    return done / MB / elapsed, done


def _rate(op: Callable[[], object], budget: float, min_ops: int = 1) -> float:
    """Operations per second of ``op`` over about ``budget`` seconds (at least ``min_ops`` calls)."""
    return 1.0 / per_call_seconds(op, budget, min_ops)


def _attempt(row: Row, what: str, fn: Callable[[], float]) -> float | None:
    try:
        return fn()
    except Exception as exc:  # a missing or stub implementation must not hide the other columns
        row.notes.append(f"{what}: {type(exc).__name__}: {exc}")
        return None


# ---------------------------------------------------------------------------------------------------- figures


def _streebog_rows(cfg: argparse.Namespace, oracle: Any, gc_hash: Any) -> list[Row]:
    buf = os.urandom(cfg.big)  # one buffer, fed in 1 MiB slices to ours and to OpenSSL
    return [_streebog_row(cfg, bits, buf, oracle, gc_hash) for bits in (256, 512)]


def _streebog_row(cfg: argparse.Namespace, bits: int, buf: bytes, oracle: Any, gc_hash: Any) -> Row:
    from signagent.gost import streebog

    row = Row(f"Streebog-{bits}", "MB/s")
    view = memoryview(buf)
    digests: dict[str, bytes | None] = {}

    def ours() -> float:
        h = (streebog.streebog256 if bits == 256 else streebog.streebog512)()
        mbs, done = _throughput(lambda off, n: h.update(view[off : off + n]), cfg.big, MIB, cfg.slow_budget)
        row.notes.append(f"ours hashed {done / MIB:.1f} MiB in 1 MiB chunks")
        digests["ours"] = h.digest() if done == cfg.big else None
        return mbs

    def openssl() -> float:
        h = oracle.Digest(f"md_gost12_{bits}")
        mbs, _ = _throughput(lambda off, n: h.update_range(buf, off, n), cfg.big, MIB, cfg.slow_budget)
        digests["openssl"] = h.digest()
        return mbs

    def gostcrypto() -> float:
        h = gc_hash.new(f"streebog{bits}")
        small = bytearray(buf[: cfg.gc_bytes])
        mbs, done = _throughput(lambda off, n: h.update(small[off : off + n]), cfg.gc_bytes, 16 * 1024, cfg.budget)
        row.notes.append(f"gostcrypto hashed {done // 1024} KiB")
        return mbs

    row.ours = _attempt(row, "ours", ours)
    if oracle is not None:
        row.openssl = _attempt(row, "OpenSSL", openssl)
    if gc_hash is not None:
        row.gostcrypto = _attempt(row, "gostcrypto", gostcrypto)
    if digests.get("ours") and digests.get("openssl"):
        agree = digests["ours"] == digests["openssl"]
        row.notes.append("digest agrees with OpenSSL's" if agree else "DIGEST MISMATCH with OpenSSL")
    row.judge(min_ratio=TARGET_STREEBOG)
    return row


def _pure_row(cfg: argparse.Namespace) -> Row:
    row = Row("Streebog-256 (pure ref.)", "MB/s")

    def measure() -> float:
        from signagent.gost import _streebog_ref

        h = _streebog_ref.Streebog(32)
        data = os.urandom(cfg.pure_bytes)
        view = memoryview(data)
        mbs, done = _throughput(lambda off, n: h.update(view[off : off + n]), len(data), 64 * 1024,
                                cfg.slow_budget)
        row.notes.append(f"reference hashed {done // 1024} KiB")
        return mbs

    row.ours = _attempt(row, "reference", measure)
    row.judge(min_abs=TARGET_PURE_MBS)
    return row


def _signature_rows(cfg: argparse.Namespace, oracle: Any, gc_sig: Any) -> list[Row]:
    rows: list[Row] = []
    for label, oid, gc_name in SIGN_CURVES:
        rows += _signature_pair(cfg, label, oid, gc_name, oracle, gc_sig)
    return rows


def _signature_pair(cfg: argparse.Namespace, label: str, oid: str, gc_name: str, oracle: Any,
                    gc_sig: Any) -> list[Row]:
    """Sign and verify rows for one curve. The same key (our d) is used by us and by OpenSSL."""
    from signagent.gost.curves import curve
    from signagent.gost.keys import PrivateKey

    sign_row = Row(f"sign {label}", "ops/s")
    verify_row = Row(f"verify {label}", "ops/s")
    c = curve(oid)
    n = c.size
    digest = os.urandom(n)
    state: dict[str, Any] = {}

    def ours_sign() -> float:
        key = PrivateKey.generate(c)
        state["key"] = key
        return _rate(lambda: key.sign_digest(digest), cfg.budget)

    def ours_verify() -> float:
        key = state.get("key") or PrivateKey.generate(c)
        pub = key.public_key()
        sig = key.sign_digest(digest)
        if not pub.verify_digest(digest, sig):
            raise RuntimeError("our own signature does not verify")
        return _rate(lambda: pub.verify_digest(digest, sig), cfg.budget)

    def openssl_key() -> Any:
        ps = oracle.paramset(oid)
        if "okey" not in state:
            state["okey"] = oracle.private_key(ps, state["key"].to_bytes()) if "key" in state else oracle.generate(ps)
        return state["okey"]

    def openssl_sign() -> float:
        signer = oracle.Signer(openssl_key())
        return _rate(lambda: signer.sign(digest), cfg.budget)

    def openssl_verify() -> float:
        key = openssl_key()
        sig = oracle.sign_digest(key, digest)
        verifier = oracle.Verifier(key.public_key())
        if "key" in state:  # cross-check while we are here: the engine accepts our signature
            ok = verifier.verify(digest, state["key"].sign_digest(digest))
            verify_row.notes.append("OpenSSL accepts our signature" if ok else "OpenSSL REJECTS our signature")
        return _rate(lambda: verifier.verify(digest, sig), cfg.budget)

    def gc_setup() -> tuple[Any, bytearray, bytearray]:
        mode = gc_sig.MODE_256 if n == 32 else gc_sig.MODE_512
        signer = gc_sig.new(mode, gc_sig.CURVES_R_1323565_1_024_2019[gc_name])
        d_be = bytearray(os.urandom(n))
        d_be[0] &= 0x0F  # keep d below q on every curve benchmarked here
        d_be[-1] |= 1
        return signer, d_be, bytearray(digest[::-1])  # gostcrypto reads digests big-endian

    def gc_sign() -> float:
        signer, d_be, dig = gc_setup()
        return _rate(lambda: signer.sign(d_be, dig), cfg.budget, min_ops=cfg.gc_ops)

    def gc_verify() -> float:
        signer, d_be, dig = gc_setup()
        pub, sig = signer.public_key_generate(d_be), signer.sign(d_be, dig)
        return _rate(lambda: signer.verify(pub, dig, sig), cfg.budget, min_ops=cfg.gc_ops)

    sign_row.ours = _attempt(sign_row, "ours", ours_sign)
    verify_row.ours = _attempt(verify_row, "ours", ours_verify)
    if oracle is not None:
        sign_row.openssl = _attempt(sign_row, "OpenSSL", openssl_sign)
        verify_row.openssl = _attempt(verify_row, "OpenSSL", openssl_verify)
    if gc_sig is not None:
        sign_row.gostcrypto = _attempt(sign_row, "gostcrypto", gc_sign)
        verify_row.gostcrypto = _attempt(verify_row, "gostcrypto", gc_verify)
    sign_row.judge(min_ratio=TARGET_SIGN)
    verify_row.judge(min_ratio=TARGET_VERIFY)
    return [sign_row, verify_row]


# ---------------------------------------------------------------------------------------------------- output


def _fmt(value: float | None, ratio: bool = False) -> str:
    if value is None:
        return "-"
    if ratio:
        return f"{value:.2f}x"
    return f"{value:,.0f}" if value >= 100 else f"{value:.3g}"


def _print_table(rows: list[Row], header: str) -> None:
    cols = ("figure", "unit", "ours", "OpenSSL", "gostcrypto", "ours/OpenSSL", "ours/gostcrypto", "target", "status")
    width = None if sys.stdout.isatty() else 150  # rich would squeeze the table to 80 columns in a pipe
    cells = [
        (r.figure, r.unit, _fmt(r.ours), _fmt(r.openssl), _fmt(r.gostcrypto), _fmt(r.ratio_openssl, True),
         _fmt(r.ratio_gostcrypto, True), r.target, r.status)
        for r in rows
    ]
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:
        print(header)
        widths = [max(len(str(x)) for x in col) for col in zip(cols, *cells, strict=True)]
        for line in (cols, *cells):
            print("  ".join(str(x).rjust(w) if i >= 2 else str(x).ljust(w)
                            for i, (x, w) in enumerate(zip(line, widths, strict=True))))
    else:
        table = Table(title=header)
        for i, name in enumerate(cols):
            table.add_column(name, justify="right" if 2 <= i <= 6 else "left")
        colour = {"PASS": "green", "BELOW": "red"}
        for line in cells:
            status = line[-1]
            table.add_row(*line[:-1], f"[{colour[status]}]{status}[/]" if status in colour else status)
        Console(width=width).print(table)
    for r in rows:
        for note in r.notes:
            print(f"  {r.figure}: {note}")


def _config(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_gost", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller inputs and ~0.3 s loops (a smoke run)")
    parser.add_argument("--json", action="store_true", help="print one JSON document instead of the table")
    cfg = parser.parse_args(argv)
    cfg.budget = 0.3 if cfg.quick else 1.0  # seconds per ops/s loop
    cfg.slow_budget = 2.0 if cfg.quick else 6.0  # seconds at most for one throughput run of a slow implementation
    cfg.big = (16 if cfg.quick else 64) * MIB  # ours and OpenSSL's Streebog input
    cfg.gc_bytes = (32 if cfg.quick else 256) * 1024  # gostcrypto's (it runs at ~0.1 MB/s)
    cfg.pure_bytes = (256 if cfg.quick else 1024) * 1024  # the pure reference's
    cfg.gc_ops = 2 if cfg.quick else 3
    return cfg


def main(argv: list[str] | None = None) -> int:
    """Run every figure, print the table (or JSON); always exit 0 (informative benchmark)."""
    cfg = _config(argv)
    from signagent.gost import backend_name
    from tests.oracles import openssl_gost

    oracle = openssl_gost if openssl_gost.available() else None
    try:
        import gostcrypto.gosthash as gc_hash
        import gostcrypto.gostsignature as gc_sig
    except ImportError:
        gc_hash = gc_sig = None

    rows = [*_streebog_rows(cfg, oracle, gc_hash), _pure_row(cfg), *_signature_rows(cfg, oracle, gc_sig)]
    meta = {
        "backend": backend_name(),
        "quick": cfg.quick,
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
        "openssl": "in-process GOST engine" if oracle else f"unavailable: {openssl_gost.reason()}",
        "gostcrypto": "installed" if gc_sig else "not installed",
    }
    if cfg.json:
        json.dump({"meta": meta, "rows": [r.to_json() for r in rows]}, sys.stdout, indent=2)
        print()
    else:
        header = f"signagent GOST benchmark -- backend: {meta['backend']}" + (" (quick)" if cfg.quick else "")
        _print_table(rows, header)
        print(f"  OpenSSL: {meta['openssl']}; gostcrypto: {meta['gostcrypto']}; {meta['machine']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

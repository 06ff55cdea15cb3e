"""Replay every failing input the fuzz suite ever found (tests/fuzz/regressions/<target>/<seed>--<what>.<ext>)
against the same target and oracle. A file fails here until the product is fixed; it is never marked xfail."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import REGRESSIONS, STATS
from .targets import TARGETS

FILES = sorted(p for p in REGRESSIONS.glob("*/*") if p.suffix in (".der", ".xml", ".json") and "--" in p.name)


def _seed(target: str, path: Path) -> str:
    stem = path.name.split("--", 1)[0]
    for seed in TARGETS[target].seeds:
        if Path(seed).stem == stem:
            return seed
    raise AssertionError(f"{path}: no seed {stem!r} in target {target}")


@pytest.mark.fuzz
@pytest.mark.parametrize("path", FILES, ids=[f"{p.parent.name}/{p.name}" for p in FILES])
def test_regression(path: Path, fuzz_worker) -> None:  # type: ignore[no-untyped-def]
    target = path.parent.name
    out = fuzz_worker.run(target, path.read_bytes(), _seed(target, path))
    stats = STATS[f"regressions/{target}"]
    stats[0] += 1
    stats[1] += out.failed
    if out.failed:
        pytest.fail(f"{out.kind}: {out.detail}\nproduct frame: {out.where}\n{out.trace}", pytrace=False)

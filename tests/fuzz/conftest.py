"""Fuzz suite plumbing: hypothesis profiles, the guarded worker, regression files, and the per-target figures.

Profiles (hypothesis settings; chosen with ``SIGNAGENT_FUZZ_PROFILE``, default ``ci``):

* ``ci`` -- :data:`CI_EXAMPLES` inputs per target, derandomized (the same inputs on every run), no database;
* ``local`` -- :data:`LOCAL_EXAMPLES` inputs per target, random (a new sample each run).

``SIGNAGENT_FUZZ_EXAMPLES=N`` overrides the number of inputs per target in either profile;
``SIGNAGENT_FUZZ_OPENSSL=N`` is how many mutated certificates per run also go through ``openssl verify``;
``SIGNAGENT_FUZZ_SAVE=DIR`` is where new failing inputs are written (default: tests/fuzz/regressions/ on a
developer machine, a temporary directory in CI so that CI never writes into the checkout). At the end of the
session one line per target is printed: ``fuzz: <target> inputs=N failures=M``.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections import defaultdict
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, settings

from tests.conftest import IN_CI

from . import targets
from .guard import Outcome, Worker

HERE = Path(__file__).resolve().parent
REGRESSIONS = HERE / "regressions"
CI_EXAMPLES = 500
LOCAL_EXAMPLES = 5000
PROFILE = os.environ.get("SIGNAGENT_FUZZ_PROFILE", "ci")
_examples = os.environ.get("SIGNAGENT_FUZZ_EXAMPLES")

_common = {"deadline": None, "database": None, "phases": [Phase.generate], "print_blob": False,
           "suppress_health_check": list(HealthCheck)}
settings.register_profile("signagent-fuzz-ci", max_examples=int(_examples or CI_EXAMPLES), derandomize=True,
                          **_common)
settings.register_profile("signagent-fuzz-local", max_examples=int(_examples or LOCAL_EXAMPLES),
                          derandomize=False, **_common)
FUZZ_SETTINGS = settings.get_profile(f"signagent-fuzz-{PROFILE}")
OPENSSL_SAMPLE = int(os.environ.get("SIGNAGENT_FUZZ_OPENSSL", "40"))

# target -> [inputs, failing inputs, distinct failures, openssl runs]
STATS: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
# target -> outcome ("ok:valid", "error:certificate_malformed"...) -> count; shown with SIGNAGENT_FUZZ_VERBOSE=1
OUTCOMES: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
# target -> note (e.g. "openssl accepts the mutated certificate") -> count: disagreements that are not failures
NOTES: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
VERBOSE = os.environ.get("SIGNAGENT_FUZZ_VERBOSE", "") not in ("", "0")


def save_dir(target: str) -> Path:
    base = os.environ.get("SIGNAGENT_FUZZ_SAVE")
    if base:
        root = Path(base)
    elif IN_CI:
        root = Path(tempfile.gettempdir()) / "signagent-fuzz-failures"
    else:
        root = REGRESSIONS
    return root / target


def slug(signature: str) -> str:
    """A file-name form of a failure signature: readable start + a hash of the whole (so that two signatures
    with the same start stay apart)."""
    import hashlib

    text = signature.replace("signagent/", "").replace(".py", "")
    text = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return f"{text[:60].rstrip('-')}-{hashlib.sha1(signature.encode()).hexdigest()[:6]}"  # noqa: S324


def extension(target: targets.Target) -> str:
    return {"der": ".der", "xml": ".xml", "json": ".json"}[target.kind]


def seed_stem(seed: str) -> str:
    return Path(seed).stem


def known_slugs(target: str) -> set[str]:
    found = set()
    for directory in {REGRESSIONS / target, save_dir(target)}:
        if directory.is_dir():
            for path in directory.iterdir():
                if path.suffix != ".txt" and "--" in path.stem:
                    found.add(path.stem.split("--", 1)[1].rsplit("-", 1)[0])
    return found


def save_failure(target: targets.Target, seed: str, data: bytes, outcome: Outcome, what: str) -> Path:
    import hashlib

    directory = save_dir(target.name)
    directory.mkdir(parents=True, exist_ok=True)
    name = f"{seed_stem(seed)}--{slug(outcome.signature())}-{hashlib.sha256(data).hexdigest()[:8]}"
    path = directory / (name + extension(target))
    path.write_bytes(data)
    (directory / (name + ".txt")).write_text(
        f"target: {target.name}\nseed: {seed}\nmutation: {what}\noutcome: {outcome.kind}: {outcome.detail}\n"
        f"product frame: {outcome.where}\ninnermost frame: {outcome.origin}\n\n{outcome.trace}\n", encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def fuzz_worker():
    scratch = targets.CTX.scratch  # made here: every worker (and restart) shares it
    worker = Worker(scratch)
    yield worker
    worker.close()
    shutil.rmtree(scratch, ignore_errors=True)


def pytest_terminal_summary(terminalreporter) -> None:  # type: ignore[no-untyped-def]
    if not STATS:
        return
    terminalreporter.section("fuzz figures")
    for name in sorted(STATS):
        inputs, failures, distinct, openssl = STATS[name]
        extra = f" openssl={openssl}" if openssl else ""
        terminalreporter.write_line(f"fuzz: {name} inputs={inputs} failures={failures} distinct={distinct}{extra}")
        for note, count in NOTES.get(name, {}).items():
            terminalreporter.write_line(f"    note: {note}: {count}")
        if VERBOSE and OUTCOMES.get(name):
            top = sorted(OUTCOMES[name].items(), key=lambda kv: -kv[1])[:12]
            terminalreporter.write_line("    " + ", ".join(f"{k}={v}" for k, v in top))

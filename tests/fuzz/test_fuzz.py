"""Structure-aware mutation fuzzing of every parser that takes hostile input (issue 10).

One test per target (tests/fuzz/targets.py): hypothesis draws a seed from the committed corpus and one to three
structure-aware mutations (tests/fuzz/mutations.py); the guarded worker runs the product on it. The test keeps
going after a failing input (so one run finds every distinct defect, not only the first), saves one input per
distinct failure under tests/fuzz/regressions/<target>/ (replayed by test_regressions.py) and fails at the end
listing them. The unchanged seeds are checked first: a broken seed or a broken oracle must not pass as "no
findings".
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings

from . import mutations
from .conftest import FUZZ_SETTINGS, NOTES, OPENSSL_SAMPLE, OUTCOMES, STATS, known_slugs, save_failure, slug
from .targets import TARGETS, seeds_of

STRATEGIES = {"der": mutations.der_mutants, "xml": mutations.xml_mutants, "json": mutations.json_mutants}
SEED_STATUS: dict[str, object] = {  # what each unchanged seed must give (the oracles compare mutants with it)
    "certificate": "valid", "intermediate": "valid", "crl": "valid/invalid", "cms": "valid", "pkcs10": "verifies",
    "ocsp": {"ocsp_good.der": "valid", "ocsp_revoked.der": "invalid"},
    "cli": {"head.der": "0/0/0", "cms_attached.der": "0/0", "cms_detached.der": "0/0", "csr.der": "0",
            "key_encrypted.der": "0", "crl_inter.der": "0/0"},  # exit codes of the commands cli_target runs
}
_openssl_budget = [OPENSSL_SAMPLE]
MAX_HANGS = 3


def _check_seeds(worker, name: str, seeds: dict[str, bytes]) -> None:  # type: ignore[no-untyped-def]
    """Every unchanged seed gives its known outcome -- else the product is broken (or half edited) and fuzzing
    would only save thousands of copies of one import error."""
    for seed, data in seeds.items():
        out = worker.run(name, data, seed)
        if out.failed or out.kind != "ok":
            pytest.fail(f"seed {seed}: {out.kind} {out.detail}\n{out.trace}", pytrace=False)
        expected = SEED_STATUS.get(name)
        expected = expected.get(seed) if isinstance(expected, dict) else expected
        if expected is not None and out.detail != expected:
            pytest.fail(f"seed {seed} gives {out.detail}, expected {expected}", pytrace=False)


def _openssl_ready() -> bool:
    from tests.cms.conftest import openssl_ready

    return openssl_ready()


@pytest.mark.fuzz
@pytest.mark.parametrize("name", sorted(TARGETS))
def test_fuzz(name: str, fuzz_worker) -> None:  # type: ignore[no-untyped-def]
    target = TARGETS[name]
    seeds = seeds_of(target)
    _check_seeds(fuzz_worker, name, seeds)
    use_openssl = name == "certificate" and OPENSSL_SAMPLE > 0 and _openssl_ready()
    stats = STATS[name]
    findings: dict[str, str] = {}
    notes = NOTES[name]
    already = known_slugs(name)
    hangs = [0]

    budget = settings(FUZZ_SETTINGS, max_examples=max(1, int(FUZZ_SETTINGS.max_examples * target.share)))

    @budget
    @given(STRATEGIES[target.kind](seeds))
    def run(mutant: mutations.Mutant) -> None:
        if hangs[0] >= MAX_HANGS:  # each hang costs the full timeout: after a few, stop feeding this target
            return
        options = {}
        stride = max(1, FUZZ_SETTINGS.max_examples // max(OPENSSL_SAMPLE, 1))
        if use_openssl and _openssl_budget[0] > 0 and stats[0] % stride == 0 and mutant.data != seeds[mutant.seed]:
            options["openssl"] = True
            _openssl_budget[0] -= 1
            stats[3] += 1
        out = fuzz_worker.run(name, mutant.data, mutant.seed, options)
        stats[0] += 1
        OUTCOMES[name][f"{out.kind}:{out.detail if out.kind in ('ok', 'error') else out.signature()}"[:60]] += 1
        for note in out.notes:
            notes[note] += 1
            if notes[note] <= 5:
                notes[f"{note} -- e.g. {mutant.describe()} -> {out.kind}:{out.detail}"] = 1
        if not out.failed:
            return
        stats[1] += 1
        hangs[0] += out.kind == "hang"
        signature = out.signature()
        if signature in findings:
            return
        stats[2] += 1
        if slug(signature) in already:
            findings[signature] = f"{out.kind}: {out.detail} at {out.where} (already saved)"
            return
        path = save_failure(target, mutant.seed, mutant.data, out, mutant.describe())
        findings[signature] = f"{out.kind}: {out.detail} at {out.where or out.origin} -> {path.name}"

    run()
    if findings:
        pytest.fail(f"{name}: {len(findings)} distinct failures in {stats[0]} inputs:\n" + "\n".join(
            f"  {sig}\n    {text}" for sig, text in sorted(findings.items())), pytrace=False)


def _signature_malleations(data: bytes) -> list[tuple[str, bytes]]:
    """Every s||r signature value in ``data`` with one half set to s+q / r+q / 0 / q / q-1 (each curve's q)."""
    from . import ber

    out = []
    count = len([n for n in ber.parse_nested(data).walk() if not n.constructed and n.tag in (b"\x03", b"\x04")])
    for index in range(count):
        for which in ("s", "r"):
            for q in mutations.GROUP_ORDERS:
                for how in ("+q", "zero", "q", "q-1"):
                    root = ber.parse_nested(data)
                    node = [n for n in root.walk() if not n.constructed and n.tag in (b"\x03", b"\x04")][index]
                    prefix, sig = (node.value[:1], node.value[1:]) if node.tag == b"\x03" else (b"", node.value)
                    half = len(sig) // 2
                    if len(sig) not in (64, 128) or q.bit_length() > half * 8:
                        continue
                    s_, r_ = int.from_bytes(sig[:half], "big"), int.from_bytes(sig[half:], "big")
                    value = {"+q": (s_ if which == "s" else r_) + q, "zero": 0, "q": q, "q-1": q - 1}[how]
                    if value >= 1 << (half * 8):
                        continue
                    new = value.to_bytes(half, "big")
                    node.value = prefix + (new + sig[half:] if which == "s" else sig[:half] + new)
                    encoded = root.encode()
                    if encoded != data:
                        out.append((f"value#{index} {which}{how} q{q.bit_length()}", encoded))
    return out


@pytest.mark.fuzz
@pytest.mark.parametrize("name", ["certificate", "crl", "cms", "pkcs10", "ocsp"])
def test_signature_malleability(name: str, fuzz_worker) -> None:  # type: ignore[no-untyped-def]
    """Deterministic: every GOST signature value of every seed, one half replaced by s+q, r+q, 0, q or q-1 (the
    verifier must check 0 < r, s < q): never VALID, never a non-project exception."""
    target = TARGETS[name]
    seeds = seeds_of(target)
    _check_seeds(fuzz_worker, name, seeds)
    stats = STATS[f"{name}/malleability"]
    already = known_slugs(name)
    failures: dict[str, str] = {}
    for seed, data in seeds.items():
        for what, mutated in _signature_malleations(data):
            out = fuzz_worker.run(name, mutated, seed)
            stats[0] += 1
            if not out.failed:
                continue
            stats[1] += 1
            signature = out.signature()
            if signature in failures:
                continue
            stats[2] += 1
            if slug(signature) in already:
                failures[signature] = f"{seed} {what}: {out.kind}: {out.detail} (already saved)"
                continue
            path = save_failure(target, seed, mutated, out, f"{seed}: malleate {what}")
            failures[signature] = f"{seed} {what}: {out.kind}: {out.detail} -> {path.name}"
    assert stats[0] > 0
    if failures:
        pytest.fail("\n".join(failures.values()), pytrace=False)

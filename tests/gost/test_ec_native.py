"""The native GOST R 34.10-2012 core (signagent.gost._ec_c) against the standard's examples and the reference.

* GOST R 34.10-2012 Appendix A examples A.1 (256-bit) and A.2 (512-bit): with the printed k, sign gives exactly the
  printed r and s, the public key is the printed Q, and verification accepts.
* Differential against the pure-Python reference (_ec_ref) on curves of every kind (pseudo-Mersenne and generic p,
  a = -3 and generic a, cofactor 1 and 4): same public keys, same signatures for the same k, each side verifies
  the other's signatures, same results of mul and check_point (also for points outside the subgroup).
* Tampering, every range boundary of d, k, e, r and s, wrong lengths and types, bad curve parameters, and
  concurrent use from threads (the core releases the GIL).
"""

from __future__ import annotations

import json
import random
import threading
from pathlib import Path

import pytest

from signagent.errors import (
    InvalidInputError,
    InvalidKeyError,
    InvalidLengthError,
    InvalidPointError,
    InvalidSignatureFormatError,
    InvalidTypeError,
)
from signagent.gost import _ec_ref, curves
from tests.conftest import require

try:
    from signagent.gost import _ec_c
except ImportError:  # not built: every test here skips (and fails in CI)
    _ec_c = None  # type: ignore[assignment]

DIFF_CURVES = [
    "tc26-256-A",  # p = 2^256 - 617, generic a, cofactor 4
    "cryptopro-A",  # p = 2^256 - 617, a = -3
    "cryptopro-B",  # generic p (Montgomery), a = -3
    "cryptopro-C",  # generic p, a = -3, Gx = 0
    "cryptopro-test",  # generic p, a = 7
    "tc26-512-A",  # p = 2^512 - 569, a = -3
    "tc26-512-B",  # generic p, a = -3
    "tc26-512-C",  # p = 2^512 - 569, generic a, cofactor 4
    "tc26-512-test",  # generic p, a = 7
]


@pytest.fixture(scope="module")
def native() -> object:
    require(_ec_c is not None, "the compiled core signagent.gost._ec_c")
    return _ec_c


def _b(value: int, n: int) -> bytes:
    return value.to_bytes(n, "big")


def _engines(native: object, name: str) -> tuple[curves.Curve, object, object]:
    c = curves.curve(name)
    return c, c.make_engine(native), c.make_engine(_ec_ref)


# --- GOST R 34.10-2012 Appendix A --------------------------------------------------------------------------------


def _examples(vectors_dir: Path) -> list[dict]:
    return json.loads((vectors_dir / "gost3410_2012" / "gost3410_2012_examples.json").read_text())["vectors"]


@pytest.mark.parametrize("index", [0, 1], ids=["A.1-256", "A.2-512"])
def test_standard_examples(native: object, vectors_dir: Path, index: int) -> None:
    v = _examples(vectors_dir)[index]
    cv = v["curve"]
    h = bytes.fromhex
    engine = native.CurveEngine(*(h(cv[key]) for key in ("p", "a", "b", "q", "Px", "Py")))
    n = engine.size
    q = int(cv["q"], 16)
    e = _b(int(v["e_alpha"], 16) % q or 1, n)  # section 6.1 step 2
    assert n == len(cv["p"]) // 2
    assert engine.public_key(h(v["d"])) == h(v["Qx"]) + h(v["Qy"])
    sig = engine.sign(h(v["d"]), e, h(v["k"]))
    assert sig == h(v["s"]) + h(v["r"])
    assert engine.verify(h(v["Qx"]), h(v["Qy"]), e, sig)
    assert engine.verify(h(v["Qx"]), h(v["Qy"]), e, h(v["s"]) + h(v["r"]))
    assert engine.check_point(h(v["Qx"]), h(v["Qy"]))
    assert engine.mul(h(v["d"]), h(cv["Px"]), h(cv["Py"])) == h(v["Qx"]) + h(v["Qy"])


# --- differential against the pure-Python reference --------------------------------------------------------------


@pytest.mark.parametrize("name", DIFF_CURVES)
def test_same_keys_and_signatures_as_the_reference(native: object, name: str) -> None:
    c, fast, ref = _engines(native, name)
    n, q = c.size, c.q
    rng = random.Random(name)
    for _ in range(3):
        d, e, k = (_b(rng.randrange(1, q), n) for _ in range(3))
        pub = fast.public_key(d)
        assert pub == ref.public_key(d)
        qx, qy = pub[:n], pub[n:]
        sig = fast.sign(d, e, k)
        assert sig == ref.sign(d, e, k)
        # random nonces: each side accepts the other's signatures
        sig_fast = fast.sign(d, e)
        sig_ref = ref.sign(d, e)
        assert ref.verify(qx, qy, e, sig_fast)
        assert fast.verify(qx, qy, e, sig_ref)
        assert fast.verify(qx, qy, e, sig) and fast.verify(qx, qy, e, sig_fast)
        assert sig_fast != fast.sign(d, e)  # a fresh nonce every time


def _lift_x(c: curves.Curve, x: int) -> tuple[int, int] | None:
    """A point with this x, when there is one (square roots for p = 3 mod 4 only; callers check)."""
    rhs = (x * x * x + c.a * x + c.b) % c.p
    y = pow(rhs, (c.p + 1) // 4, c.p)
    return (x, y) if y * y % c.p == rhs else None


@pytest.mark.parametrize("name", ["tc26-256-A", "cryptopro-A", "tc26-512-A", "tc26-512-C", "tc26-512-test"])
def test_mul_and_check_point_match_the_reference(native: object, name: str) -> None:
    c, fast, ref = _engines(native, name)
    n, p = c.size, c.p
    assert p % 4 == 3
    rng = random.Random("mul-" + name)
    gx, gy = _b(c.x, n), _b(c.y, n)
    scalars = [0, 1, 2, c.q - 1, c.q, c.q + 1, 2 ** (8 * n) - 1, c.cofactor, rng.randrange(2 ** (8 * n))]
    for k in scalars:
        assert fast.mul(_b(k, n), gx, gy) == ref.mul(_b(k, n), gx, gy), k
    assert fast.mul(_b(c.q, n), gx, gy) is None
    assert fast.mul(_b(0, n), gx, gy) is None
    assert fast.mul(_b(c.q - 1, n), gx, gy) == gx + _b(p - c.y, n)
    # arbitrary points of the curve: with a cofactor, most are outside the subgroup of order q
    found = outside = 0
    while found < 8 or (c.cofactor > 1 and outside == 0):
        pt = _lift_x(c, rng.randrange(p))
        if pt is None:
            continue
        found += 1
        x, y = _b(pt[0], n), _b(pt[1], n)
        in_subgroup = ref.mul(_b(c.q, n), x, y) is None
        outside += not in_subgroup
        assert c.cofactor > 1 or in_subgroup
        assert fast.check_point(x, y) == ref.check_point(x, y) == in_subgroup
        for k in (rng.randrange(2 ** (8 * n)), c.cofactor, c.q):
            assert fast.mul(_b(k, n), x, y) == ref.mul(_b(k, n), x, y)
        cleared = fast.mul(_b(c.cofactor, n), x, y)
        assert cleared is not None and fast.check_point(cleared[:n], cleared[n:])


# --- tampering and range boundaries --------------------------------------------------------------------------------


@pytest.fixture(scope="module", params=["tc26-256-A", "cryptopro-A", "tc26-512-A"])
def signed(native: object, request: pytest.FixtureRequest) -> dict:
    c = curves.curve(request.param)
    engine = c.make_engine(native)
    n = c.size
    rng = random.Random("signed-" + c.name)
    d, e = _b(rng.randrange(1, c.q), n), _b(rng.randrange(1, c.q), n)
    pub = engine.public_key(d)
    return {"c": c, "engine": engine, "n": n, "d": d, "e": e, "qx": pub[:n], "qy": pub[n:], "sig": engine.sign(d, e)}


def test_tampered_signatures_fail(signed: dict) -> None:
    c, engine, n = signed["c"], signed["engine"], signed["n"]
    qx, qy, e, sig = signed["qx"], signed["qy"], signed["e"], signed["sig"]
    assert engine.verify(qx, qy, e, sig)
    for pos in (0, n // 2, n - 1, n, 2 * n - 1):  # bits of s and of r
        bad = bytearray(sig)
        bad[pos] ^= 0x01
        assert not engine.verify(qx, qy, e, bytes(bad))
    assert not engine.verify(qx, qy, _b(int.from_bytes(e, "big") % (c.q - 1) + 1, n), sig)
    assert not engine.verify(qx, qy, e, sig[n:] + sig[:n])  # r || s instead of s || r
    other = engine.public_key(_b(int.from_bytes(signed["d"], "big") % (c.q - 1) + 1, n))
    assert not engine.verify(other[:n], other[n:], e, sig)
    # a key that is not on the curve is rejected, never trusted
    assert not engine.verify(qx, _b((int.from_bytes(qy, "big") + 1) % c.p, n), e, sig)
    assert not engine.verify(_b(c.p, n), qy, e, sig)


def test_r_and_s_out_of_range_are_rejected(signed: dict) -> None:
    c, engine, n = signed["c"], signed["engine"], signed["n"]
    qx, qy, e, sig = signed["qx"], signed["qy"], signed["e"], signed["sig"]
    s, r = int.from_bytes(sig[:n], "big"), int.from_bytes(sig[n:], "big")
    top = 2 ** (8 * n) - 1
    for bad_s, bad_r in [(0, r), (s, 0), (c.q, r), (s, c.q), (top, r), (s, top), (0, 0)]:
        assert not engine.verify(qx, qy, e, _b(bad_s, n) + _b(bad_r, n)), (bad_s, bad_r)
    # r + q and s + q are congruent mod q but out of range: section 6.2 step 1 rejects them
    if r + c.q <= top:
        assert not engine.verify(qx, qy, e, _b(s, n) + _b(r + c.q, n))
    if s + c.q <= top:
        assert not engine.verify(qx, qy, e, _b(s + c.q, n) + _b(r, n))


def test_scalar_boundaries(signed: dict) -> None:
    c, engine, n = signed["c"], signed["engine"], signed["n"]
    d, e = signed["d"], signed["e"]
    top = 2 ** (8 * n) - 1
    for bad in (0, c.q, c.q + 1, top):
        with pytest.raises(InvalidKeyError):
            engine.public_key(_b(bad, n))
        with pytest.raises(InvalidKeyError):
            engine.sign(_b(bad, n), e)
        with pytest.raises(InvalidKeyError):
            engine.sign(d, e, _b(bad, n))
        with pytest.raises(InvalidInputError):
            engine.sign(d, _b(bad, n))
        with pytest.raises(InvalidInputError):
            engine.verify(signed["qx"], signed["qy"], _b(bad, n), signed["sig"])
    # the largest valid values work and agree with the reference
    ref = c.make_engine(_ec_ref)
    last = _b(c.q - 1, n)
    assert engine.public_key(last) == _b(c.x, n) + _b(c.p - c.y, n)
    two = _b(2, n)  # (not e = q - 1: with Gx = 1, as on CryptoPro-A, d = e = k = q - 1 gives s = 0)
    assert engine.sign(last, two, last) == ref.sign(last, two, last)
    assert engine.sign(_b(1, n), _b(1, n), _b(1, n)) == ref.sign(_b(1, n), _b(1, n), _b(1, n))


def test_a_given_nonce_that_yields_s_zero_is_refused(signed: dict) -> None:
    c, engine, n, d = signed["c"], signed["engine"], signed["n"], signed["d"]
    k = 123456789
    r = int.from_bytes(engine.sign(d, signed["e"], _b(k, n))[n:], "big")  # r depends on k only
    # s = r d + k e = 0 (mod q) for e = -r d / k
    e_zero = -r * int.from_bytes(d, "big") * pow(k, -1, c.q) % c.q
    assert e_zero != 0
    with pytest.raises(InvalidKeyError):
        engine.sign(d, _b(e_zero, n), _b(k, n))
    # with a random nonce the same e signs fine (a new k is drawn when s = 0)
    sig = engine.sign(d, _b(e_zero, n))
    assert engine.verify(signed["qx"], signed["qy"], _b(e_zero, n), sig)


def test_a_given_nonce_that_yields_r_zero_is_refused(native: object) -> None:
    c = curves.curve("cryptopro-C")  # its base point has x = 0, so k = 1 gives r = 0
    assert c.x == 0
    engine = c.make_engine(native)
    n = c.size
    with pytest.raises(InvalidKeyError):
        engine.sign(_b(5, n), _b(7, n), _b(1, n))
    with pytest.raises(InvalidKeyError):
        engine.sign(_b(5, n), _b(7, n), _b(c.q - 1, n))


# --- lengths, types, parameters ----------------------------------------------------------------------------------


def test_wrong_lengths(signed: dict) -> None:
    engine, n = signed["engine"], signed["n"]
    d, e, qx, qy, sig = signed["d"], signed["e"], signed["qx"], signed["qy"], signed["sig"]
    for wrong in (b"", d[:-1], d + b"\x00", bytes(2 * n)):
        with pytest.raises(InvalidLengthError):
            engine.public_key(wrong)
        with pytest.raises(InvalidLengthError):
            engine.sign(wrong, e)
        with pytest.raises(InvalidLengthError):
            engine.sign(d, wrong)
        with pytest.raises(InvalidLengthError):
            engine.sign(d, e, wrong)
        with pytest.raises(InvalidLengthError):
            engine.verify(wrong, qy, e, sig)
        with pytest.raises(InvalidLengthError):
            engine.verify(qx, qy, wrong, sig)
        with pytest.raises(InvalidLengthError):
            engine.check_point(qx, wrong)
        with pytest.raises(InvalidLengthError):
            engine.mul(wrong, qx, qy)
        with pytest.raises(InvalidLengthError):
            engine.mul(d, wrong, qy)
    for wrong_sig in (b"", sig[:-1], sig + b"\x00", sig[:n]):
        with pytest.raises(InvalidSignatureFormatError) as info:
            engine.verify(qx, qy, e, wrong_sig)
        assert isinstance(info.value, InvalidLengthError)


@pytest.mark.parametrize("bad", ["00" * 32, 5, None, [0] * 32, 1.5])
def test_non_bytes_arguments(native: object, bad: object) -> None:
    c = curves.curve("tc26-256-A")
    engine = c.make_engine(native)
    one = _b(1, 32)
    pub = engine.public_key(one)
    calls = [
        lambda: engine.public_key(bad),
        lambda: engine.sign(bad, one),
        lambda: engine.sign(one, bad),
        lambda: engine.verify(bad, pub[32:], one, one + one),
        lambda: engine.verify(pub[:32], pub[32:], one, bad),
        lambda: engine.check_point(bad, one),
        lambda: engine.mul(one, pub[:32], bad),
        lambda: native.CurveEngine(bad, one, one, one, one, one),
        lambda: native.CurveEngine(_b(c.p, 32), _b(c.a, 32), _b(c.b, 32), _b(c.q, 32), _b(c.x, 32), bad),
    ]
    if bad is not None:  # k=None means "draw the nonce"
        calls.append(lambda: engine.sign(one, one, bad))
    for call in calls:
        with pytest.raises(InvalidTypeError):
            call()


def test_bytes_like_arguments_are_accepted(native: object) -> None:
    _, engine, _ = _engines(native, "tc26-256-A")
    d, e, k = _b(11, 32), _b(22, 32), _b(33, 32)
    sig = engine.sign(d, e, k)
    assert engine.sign(bytearray(d), memoryview(e), bytearray(k)) == sig
    pub = engine.public_key(memoryview(d))
    assert engine.verify(bytearray(pub[:32]), memoryview(pub[32:]), e, bytearray(sig))


def test_bad_curve_parameters(native: object) -> None:
    c = curves.curve("cryptopro-A")
    n = c.size
    good = {"p": c.p, "a": c.a, "b": c.b, "q": c.q, "gx": c.x, "gy": c.y}

    def make(**changes: int) -> object:
        values = {**good, **changes}
        return native.CurveEngine(*(_b(values[key], n) for key in ("p", "a", "b", "q", "gx", "gy")))

    make()  # the real set is accepted
    with pytest.raises(InvalidInputError):
        make(p=c.p + 1)  # even
    with pytest.raises(InvalidInputError):
        make(p=c.p - 2)  # odd, not prime (divisible by 3)
    with pytest.raises(InvalidInputError):
        make(q=c.q + 2)  # not prime
    with pytest.raises(InvalidInputError):
        make(q=c.q - 2)  # not the order of G (and not prime)
    with pytest.raises(InvalidPointError):
        make(gy=c.y + 1)  # off the curve
    with pytest.raises(InvalidInputError):
        make(a=c.p)  # a outside GF(p)
    with pytest.raises(InvalidInputError):
        make(q=c.p)  # anomalous
    # the singular curve y^2 = x^3 (a = b = 0) with the point (1, 1) on it
    with pytest.raises(InvalidInputError):
        make(a=0, b=0, gx=1, gy=1)
    # a prime q that is not the order of G
    with pytest.raises(InvalidPointError):
        make(q=curves.curve("cryptopro-B").q)
    # mixed or unsupported lengths
    with pytest.raises(InvalidLengthError):
        native.CurveEngine(_b(c.p, 32), _b(c.a, 32), _b(c.b, 32), _b(c.q, 32), _b(c.x, 32), _b(c.y, 64))
    with pytest.raises(InvalidLengthError):
        native.CurveEngine(*(bytes(48) for _ in range(6)))
    with pytest.raises(InvalidPointError):
        make().mul(_b(3, n), _b(c.x, n), _b(c.y + 1, n))


# --- threads -------------------------------------------------------------------------------------------------------


def test_concurrent_use_of_one_engine(native: object) -> None:
    c = curves.curve("tc26-256-A")
    engine = c.make_engine(native)  # fresh: the tables are built by whichever thread comes first
    ref = c.make_engine(_ec_ref)
    n = c.size
    d, e = _b(987654321, n), _b(123456789, n)
    expected = {k: ref.sign(d, e, _b(k, n)) for k in range(1, 5)}
    pub = ref.public_key(d)
    errors: list[str] = []
    barrier = threading.Barrier(4)

    def work(k: int) -> None:
        barrier.wait()
        for _ in range(50):
            if engine.sign(d, e, _b(k, n)) != expected[k]:
                errors.append(f"deterministic signature differs for k={k}")
            sig = engine.sign(d, e)
            if not engine.verify(pub[:n], pub[n:], e, sig) or engine.public_key(d) != pub:
                errors.append("random-nonce signature or public key wrong")

    threads = [threading.Thread(target=work, args=(k,)) for k in range(1, 5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[:3]

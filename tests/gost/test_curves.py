"""The GOST R 34.10 parameter sets: arithmetic sanity of every set, lookup, and OpenSSL's GOST engine as an oracle.

For every set: the base point is on the curve, p and q are prime, q*G = O, the conditions of GOST R 34.10-2012
section 5.2 hold, the group order m = cofactor*q is consistent (Hasse bound, m*R = O for a random point R), and for
the twisted Edwards sets the Weierstrass form is the image of (e, d, u, v) under the map of RFC 7836 A.1.
Then OpenSSL's GOST engine must derive the same public key as we do from the same d, for every set.

The OpenSSL helpers here (``openssl_env``, ``run_openssl``, ``pkcs8_der``) are shared with test_keys.py.
"""

from __future__ import annotations

import atexit
import functools
import os
import random
import re
import shutil
import subprocess
import tempfile

import pytest

from signagent.errors import InvalidTypeError, UnknownAlgorithmError
from signagent.gost import _ec_ref, curves
from signagent.gost.keys import PrivateKey, PublicKey
from tests import der
from tests.conftest import require
from tests.gost.test_gost3410_vectors import pkcs8_curve_and_d, spki_curve_and_point

ALL = curves.all_curves()
IDS = [c.name for c in ALL]

# --- number theory for the checks (independent of the engines) ---------------------------------------------------

_MR_BASES = (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71)


def is_probable_prime(n: int) -> bool:
    """Miller-Rabin with 20 fixed prime bases (error below 4^-20 for a composite n; deterministic below 2^64)."""
    if n < 2:
        return False
    for base in _MR_BASES:
        if n % base == 0:
            return n == base
    d, r = n - 1, 0
    while d % 2 == 0:
        d //= 2
        r += 1
    for base in _MR_BASES:
        x = pow(base, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(r - 1):
            x = x * x % n
            if x == n - 1:
                break
        else:
            return False
    return True


def sqrt_mod(a: int, p: int) -> int | None:
    """A square root of a modulo the odd prime p (Tonelli-Shanks), or None for a non-residue."""
    a %= p
    if a == 0:
        return 0
    if pow(a, (p - 1) // 2, p) != 1:
        return None
    q, s = p - 1, 0
    while q % 2 == 0:
        q //= 2
        s += 1
    z = 2
    while pow(z, (p - 1) // 2, p) != p - 1:
        z += 1
    m, c, t, r = s, pow(z, q, p), pow(a, q, p), pow(a, (q + 1) // 2, p)
    while t != 1:
        i, t2 = 0, t
        while t2 != 1:
            t2 = t2 * t2 % p
            i += 1
        b = pow(c, 1 << (m - i - 1), p)
        m, c, t, r = i, b * b % p, t * b * b % p, r * b % p
    return r


def on_curve(c: curves.Curve, x: int, y: int) -> bool:
    return (y * y - (x**3 + c.a * x + c.b)) % c.p == 0


# --- per-curve checks ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("c", ALL, ids=IDS)
def test_base_point_on_curve_and_sizes(c: curves.Curve) -> None:
    assert c.size in (32, 64) and c.bits == 8 * c.size
    assert all(0 <= v < c.p for v in (c.a, c.b, c.x, c.y))
    assert on_curve(c, c.x, c.y)
    # GOST R 34.10-2012 section 5.2: 2^254 < q < 2^256 or 2^508 < q < 2^512; p fits in size bytes.
    assert (2**254 if c.size == 32 else 2**508) < c.q < 2 ** (8 * c.size)
    assert 3 < c.p < 2 ** (8 * c.size)


@pytest.mark.parametrize("c", ALL, ids=IDS)
def test_p_and_q_are_prime(c: curves.Curve) -> None:
    assert is_probable_prime(c.p)
    assert is_probable_prime(c.q)
    assert not is_probable_prime(c.p * c.q)  # the test itself can say "composite" (no small factor here)


@pytest.mark.parametrize("c", ALL, ids=IDS)
def test_base_point_has_order_q(c: curves.Curve) -> None:
    engine = c.make_engine(_ec_ref)
    n = c.size
    gx, gy = c.x.to_bytes(n, "big"), c.y.to_bytes(n, "big")
    assert engine.mul(c.q.to_bytes(n, "big"), gx, gy) is None
    # (q-1)*G = -G = (x, p - y): the multiplication really goes around the subgroup.
    assert engine.mul((c.q - 1).to_bytes(n, "big"), gx, gy) == gx + (c.p - c.y).to_bytes(n, "big")
    assert engine.check_point(gx, gy)


@pytest.mark.parametrize("c", ALL, ids=IDS)
def test_gost_section_5_2_conditions(c: curves.Curve) -> None:
    # m != p (not anomalous); p^t != 1 mod q for t = 1..B, B = 31 (256-bit) or 131 (512-bit) (MOV condition);
    # J(E) != 0, 1728, i.e. a != 0 and b != 0; the curve is not singular (4a^3 + 27b^2 != 0 mod p).
    assert c.m != c.p
    bound = 31 if c.size == 32 else 131
    assert all(pow(c.p, t, c.q) != 1 for t in range(1, bound + 1))
    assert c.a != 0 and c.b != 0
    assert (4 * c.a**3 + 27 * c.b**2) % c.p != 0


@pytest.mark.parametrize("c", ALL, ids=IDS)
def test_group_order_and_cofactor(c: curves.Curve) -> None:
    # Hasse: |p + 1 - m| <= 2*sqrt(p). The interval is far narrower than q, so m = cofactor*q is the only multiple
    # of q in it, and m*R = O for random points R confirms it is the group order.
    assert (c.p + 1 - c.m) ** 2 <= 4 * c.p
    assert c.cofactor in (1, 4) and (c.cofactor == 4) == c.is_twisted_edwards
    engine = c.make_engine(_ec_ref)
    rng = random.Random(c.oid)
    n = c.size
    found = 0
    while found < 2:
        x = rng.randrange(c.p)
        y = sqrt_mod(x**3 + c.a * x + c.b, c.p)
        if y is None:
            continue
        found += 1
        assert on_curve(c, x, y)
        # m*R = q*(cofactor*R); m itself may not fit in `size` bytes (4q > 2^256 for tc26-256-A).
        h = engine.mul(c.cofactor.to_bytes(n, "big"), x.to_bytes(n, "big"), y.to_bytes(n, "big"))
        assert h is None or engine.mul(c.q.to_bytes(n, "big"), h[:n], h[n:]) is None


EDWARDS = [c for c in ALL if c.is_twisted_edwards]


def test_the_edwards_sets() -> None:
    assert sorted(c.oid for c in EDWARDS) == ["1.2.643.7.1.2.1.1.1", "1.2.643.7.1.2.1.2.3"]


@pytest.mark.parametrize("c", EDWARDS, ids=[c.name for c in EDWARDS])
def test_edwards_and_weierstrass_forms_agree(c: curves.Curve) -> None:
    assert c.e is not None and c.d is not None and c.u is not None and c.v is not None
    p, e, d, u, v = c.p, c.e, c.d, c.u, c.v
    # (u, v) lies on the twisted Edwards curve e*u^2 + v^2 = 1 + d*u^2*v^2 (RFC 7836 A.1).
    assert (e * u * u + v * v - 1 - d * u * u * v * v) % p == 0

    def inv(z: int) -> int:
        return pow(z, -1, p)

    # RFC 7836 A.1 notes: s = (e - d)/4, t = (e + d)/6, a = s^2 - 3t^2, b = 2t^3 - t*s^2,
    # x = s*(1 + v)/(1 - v) + t, y = s*(1 + v)/((1 - v)*u).
    s = (e - d) * inv(4) % p
    t = (e + d) * inv(6) % p
    assert c.a == (s * s - 3 * t * t) % p
    assert c.b == (2 * t**3 - t * s * s) % p
    assert c.x == (s * (1 + v) * inv(1 - v) + t) % p
    assert c.y == s * (1 + v) * inv((1 - v) * u) % p


# --- lookup --------------------------------------------------------------------------------------------------------

EXPECTED_OIDS = {
    "id-tc26-gost-3410-2012-256-paramSetA": "1.2.643.7.1.2.1.1.1",
    "id-tc26-gost-3410-2012-256-paramSetB": "1.2.643.7.1.2.1.1.2",
    "id-tc26-gost-3410-2012-256-paramSetC": "1.2.643.7.1.2.1.1.3",
    "id-tc26-gost-3410-2012-256-paramSetD": "1.2.643.7.1.2.1.1.4",
    "id-tc26-gost-3410-2012-512-paramSetTest": "1.2.643.7.1.2.1.2.0",
    "id-tc26-gost-3410-2012-512-paramSetA": "1.2.643.7.1.2.1.2.1",
    "id-tc26-gost-3410-2012-512-paramSetB": "1.2.643.7.1.2.1.2.2",
    "id-tc26-gost-3410-2012-512-paramSetC": "1.2.643.7.1.2.1.2.3",
    "id-GostR3410-2001-TestParamSet": "1.2.643.2.2.35.0",
    "id-GostR3410-2001-CryptoPro-A-ParamSet": "1.2.643.2.2.35.1",
    "id-GostR3410-2001-CryptoPro-B-ParamSet": "1.2.643.2.2.35.2",
    "id-GostR3410-2001-CryptoPro-C-ParamSet": "1.2.643.2.2.35.3",
    "id-GostR3410-2001-CryptoPro-XchA-ParamSet": "1.2.643.2.2.36.0",
    "id-GostR3410-2001-CryptoPro-XchB-ParamSet": "1.2.643.2.2.36.1",
}


def test_every_set_is_there_with_its_oid() -> None:
    assert {c.name: c.oid for c in ALL} == EXPECTED_OIDS
    for name, oid in EXPECTED_OIDS.items():
        assert curves.curve(name) is curves.curve(oid)
        assert curves.curve(oid).name == name


@pytest.mark.parametrize(
    ("alias", "oid"),
    [
        ("tc26-256-A", "1.2.643.7.1.2.1.1.1"),
        ("TC26-256-d", "1.2.643.7.1.2.1.1.4"),
        ("tc26-512-C", "1.2.643.7.1.2.1.2.3"),
        ("tc26-512-test", "1.2.643.7.1.2.1.2.0"),
        ("test-512", "1.2.643.7.1.2.1.2.0"),
        ("test-256", "1.2.643.2.2.35.0"),
        ("cryptopro-test", "1.2.643.2.2.35.0"),
        ("cryptopro-a", "1.2.643.2.2.35.1"),
        ("CRYPTOPRO-XCHB", "1.2.643.2.2.36.1"),
        ("  id-tc26-gost-3410-12-512-paramSetB ", "1.2.643.7.1.2.1.2.2"),  # RFC 7836 / RFC 9215 spelling
        ("id-tc26-gost-3410-12-256-paramseta", "1.2.643.7.1.2.1.1.1"),
        ("ID-GOSTR3410-2001-CRYPTOPRO-C-PARAMSET", "1.2.643.2.2.35.3"),
    ],
)
def test_aliases_and_case(alias: str, oid: str) -> None:
    assert curves.curve(alias).oid == oid
    assert curves.as_curve(alias) is curves.curve(oid)


def test_as_curve_passes_curves_through() -> None:
    c = curves.curve("tc26-512-A")
    assert curves.as_curve(c) is c


@pytest.mark.parametrize("bad", ["", "A", "XA", "secp256r1", "1.2.643.2.2.35.9", "tc26-256-E", "1.2.643.7.1.2.1.1"])
def test_unknown_names_raise(bad: str) -> None:
    with pytest.raises(UnknownAlgorithmError) as info:
        curves.curve(bad)
    assert info.value.code == "unknown_algorithm"


@pytest.mark.parametrize("bad", [None, 256, b"tc26-256-A", ("tc26-256-A",)])
def test_non_string_names_raise(bad: object) -> None:
    with pytest.raises(InvalidTypeError):
        curves.curve(bad)  # type: ignore[arg-type]
    with pytest.raises(InvalidTypeError):
        curves.as_curve(bad)  # type: ignore[arg-type]


def test_shared_curves() -> None:
    """TC 26 256 B/C/D reuse CryptoPro A/B/C; XchA/XchB reuse CryptoPro A/C (RFC 7836 A.1, RFC 4357 11.4)."""

    def params(name: str) -> tuple[int, ...]:
        c = curves.curve(name)
        return (c.p, c.a, c.b, c.q, c.x, c.y, c.cofactor)

    assert params("tc26-256-B") == params("cryptopro-A") == params("cryptopro-XchA")
    assert params("tc26-256-C") == params("cryptopro-B")
    assert params("tc26-256-D") == params("cryptopro-C") == params("cryptopro-XchB")
    assert len({params(c.name) for c in ALL}) == 9
    # Same numbers, different parameter sets: not equal (the OID is part of a key's identity).
    assert curves.curve("tc26-256-B") != curves.curve("cryptopro-A")


def test_curves_are_frozen_and_hashable() -> None:
    c = curves.curve("tc26-256-A")
    with pytest.raises(AttributeError):
        c.q = 5  # type: ignore[misc]
    assert len(set(ALL)) == len(ALL)
    assert repr(c) == "Curve('id-tc26-gost-3410-2012-256-paramSetA', oid='1.2.643.7.1.2.1.1.1')"


def test_engine_is_built_once() -> None:
    c = curves.curve("cryptopro-B")
    assert c.engine is c.engine
    assert c.engine.size == 32


def test_openssl_paramset_codes() -> None:
    assert curves.from_openssl_paramset(256, "A").oid == "1.2.643.2.2.35.1"
    assert curves.from_openssl_paramset(512, "a").oid == "1.2.643.7.1.2.1.2.1"
    assert curves.from_openssl_paramset(256, "XB").oid == "1.2.643.2.2.36.1"
    assert curves.from_openssl_paramset(256, "TCA").oid == "1.2.643.7.1.2.1.1.1"
    assert curves.from_openssl_paramset(256, "0").oid == "1.2.643.2.2.35.0"
    for c in ALL:
        code = curves.openssl_paramset(c)
        if code is not None:
            assert curves.from_openssl_paramset(c.bits, code) is c
    assert curves.openssl_paramset("tc26-512-test") is None
    with pytest.raises(UnknownAlgorithmError):
        curves.from_openssl_paramset(512, "XA")
    with pytest.raises(UnknownAlgorithmError):
        curves.from_openssl_paramset(384, "A")
    with pytest.raises(InvalidTypeError):
        curves.from_openssl_paramset(256, None)  # type: ignore[arg-type]


# --- OpenSSL's GOST engine as an oracle (helpers shared with test_keys.py) -----------------------------------------


@functools.cache
def openssl_env() -> dict[str, str] | None:
    """Environment that makes ``openssl`` load the GOST engine, or None when OpenSSL or the engine is missing."""
    exe = shutil.which("openssl")
    if exe is None:
        return None
    version = subprocess.run([exe, "version", "-e"], capture_output=True, text=True, check=False).stdout
    match = re.search(r'ENGINESDIR: "([^"]*)"', version)
    engine = os.path.join(match.group(1), "gost.so") if match else ""
    if not os.path.exists(engine):
        return None
    folder = tempfile.mkdtemp(prefix="signagent-openssl-")
    atexit.register(shutil.rmtree, folder, True)
    conf = os.path.join(folder, "gost.cnf")
    with open(conf, "w") as f:
        f.write(
            "openssl_conf = openssl_def\n[openssl_def]\nengines = engine_section\n"
            "[engine_section]\ngost = gost_section\n"
            f"[gost_section]\nengine_id = gost\ndynamic_path = {engine}\ndefault_algorithms = ALL\n"
        )
    env = dict(os.environ, OPENSSL_CONF=conf)
    probe = subprocess.run(
        [exe, "genpkey", "-algorithm", "gost2012_256", "-pkeyopt", "paramset:A"], capture_output=True, env=env
    )
    return env if probe.returncode == 0 else None


def run_openssl(*args: str, stdin: bytes | None = None) -> bytes:
    """Run ``openssl`` with the GOST engine (skips on a developer machine, fails in CI, when it is missing)."""
    env = openssl_env()
    require(env is not None, "OpenSSL with the GOST engine (libengine-gost-openssl)")
    assert env is not None
    done = subprocess.run(["openssl", *args], input=stdin, capture_output=True, env=env, check=False)
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    return done.stdout


def pkcs8_der(c: curves.Curve, d_le: bytes) -> bytes:
    """PKCS#8 PrivateKeyInfo in OpenSSL's GOST layout: key OID, (paramset[, digest]) parameters, d little-endian.

    RFC 9215 section 4.2: the digest OID is present for the CryptoPro (1.2.643.2.2.*) sets and absent otherwise.
    """
    key_oid = "1.2.643.7.1.1.1.1" if c.size == 32 else "1.2.643.7.1.1.1.2"
    params = der.oid(c.oid)
    if c.oid.startswith("1.2.643.2.2."):
        params += der.oid("1.2.643.7.1.1.2.2")
    algorithm = der.tlv(0x30, der.oid(key_oid) + der.tlv(0x30, params))
    return der.tlv(0x30, der.tlv(0x02, b"\x00") + algorithm + der.tlv(0x04, d_le))


def openssl_public_point(c: curves.Curve, d_le: bytes) -> bytes:
    """X||Y (little-endian) of the public key OpenSSL derives from d on the set c."""
    spki = run_openssl("pkey", "-inform", "DER", "-pubout", "-outform", "DER", stdin=pkcs8_der(c, d_le))
    oid, point = spki_curve_and_point(spki)
    assert oid == c.oid
    return point


@pytest.mark.oracle
@pytest.mark.parametrize("c", ALL, ids=IDS)
def test_openssl_derives_the_same_public_key(c: curves.Curve) -> None:
    for key in (PrivateKey.generate(c), PrivateKey.from_bytes(c, (c.q - 1).to_bytes(c.size, "little"))):
        assert openssl_public_point(c, key.to_bytes()) == key.public_key().to_bytes()


OPENSSL_CODES = [(256, code) for code in ("0", "A", "B", "C", "XA", "XB", "TCA", "TCB", "TCC", "TCD")] + [
    (512, code) for code in ("A", "B", "C")
]


@pytest.mark.oracle
@pytest.mark.parametrize(("bits", "code"), OPENSSL_CODES, ids=[f"{b}-{c}" for b, c in OPENSSL_CODES])
def test_openssl_generated_keys(bits: int, code: str) -> None:
    """Keys generated by the engine: its paramset code maps to the set it writes, and its public key equals ours."""
    pem = run_openssl("genpkey", "-algorithm", f"gost2012_{bits}", "-pkeyopt", f"paramset:{code}")
    der = run_openssl("pkey", "-outform", "DER", stdin=pem)
    oid, d_le = pkcs8_curve_and_d(der)
    c = curves.curve(oid)
    assert curves.from_openssl_paramset(bits, code) is c
    spki = run_openssl("pkey", "-pubout", "-outform", "DER", stdin=pem)
    spki_oid, point = spki_curve_and_point(spki)
    assert spki_oid == oid
    key = PrivateKey.from_bytes(c, d_le)
    assert key.public_key() == PublicKey.from_bytes(c, point)

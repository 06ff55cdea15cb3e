"""gostcrypto (PyPI, pure Python, independent of OpenSSL) as a second oracle.

Its conventions differ from ours (read from its source, gostcrypto/gostsignature/gost_34_10_2012.py):

* private key d, public key X||Y and the signature are **big-endian** integers, the signature is **r||s**;
* the digest is read big-endian too (e = int(digest, "big") mod q), so our e = little-endian(digest) is
  obtained by handing it the reversed digest;
* its Streebog (gosthash) takes and returns byte strings in the same order as ours and OpenSSL's.

It carries only the TC 26 sets (R 1323565.1.024-2019); TC 26 256-bit B/C/D are the CryptoPro A/B/C curves, so
those are covered too. Kept small: gostcrypto signs in tens of milliseconds and our pure backend is not fast either.
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from signagent.gost import backend_name
from signagent.gost.curves import curve
from signagent.gost.keys import PrivateKey, PublicKey
from signagent.gost.streebog import streebog256, streebog512
from tests.conftest import require

try:
    import gostcrypto.gosthash as gc_hash
    import gostcrypto.gostsignature as gc_sig
except ImportError:  # reported by the fixture below (skip on a dev machine, failure in CI)
    gc_hash = gc_sig = None

pytestmark = pytest.mark.oracle

PURE = backend_name() == "pure"
CASES = 1 if PURE else 2

# gostcrypto's curve names -> our OIDs (its 512-bit A/B use the "-12-" spelling of RFC 7836).
GC_CURVES = {
    "id-tc26-gost-3410-2012-256-paramSetA": "1.2.643.7.1.2.1.1.1",
    "id-tc26-gost-3410-2012-256-paramSetB": "1.2.643.7.1.2.1.1.2",
    "id-tc26-gost-3410-2012-256-paramSetC": "1.2.643.7.1.2.1.1.3",
    "id-tc26-gost-3410-2012-256-paramSetD": "1.2.643.7.1.2.1.1.4",
    "id-tc26-gost-3410-12-512-paramSetA": "1.2.643.7.1.2.1.2.1",
    "id-tc26-gost-3410-12-512-paramSetB": "1.2.643.7.1.2.1.2.2",
    "id-tc26-gost-3410-2012-512-paramSetC": "1.2.643.7.1.2.1.2.3",
}
CURVE_PARAMS = [pytest.param(name, oid, id=name) for name, oid in GC_CURVES.items()]


@pytest.fixture(scope="module", autouse=True)
def _gostcrypto() -> None:
    require(gc_sig is not None, "gostcrypto (pip install gostcrypto==1.2.5)")


def _rng(*salt: object) -> random.Random:
    return random.Random(f"gostcrypto:{':'.join(map(str, salt))}")


def _signer(name: str, size: int) -> Any:  # gostcrypto.gostsignature.GOST34102012
    mode = gc_sig.MODE_256 if size == 32 else gc_sig.MODE_512
    return gc_sig.new(mode, gc_sig.CURVES_R_1323565_1_024_2019[name])


def _be_pub(xy_le: bytes, n: int) -> bytearray:
    return bytearray(xy_le[:n][::-1] + xy_le[n:][::-1])


def _swap(sig: bytes, n: int) -> bytes:
    """s||r <-> r||s (the same operation both ways)."""
    return sig[n:] + sig[:n]


# ---------------------------------------------------------------------------------------------------- Streebog


@pytest.mark.parametrize("bits", [256, 512])
def test_streebog_matches_gostcrypto(bits: int) -> None:
    rng = _rng("streebog", bits)
    ours = streebog256 if bits == 256 else streebog512
    lengths = [0, 1, 63, 64, 65, 144, 1000] + [rng.randrange(2000) for _ in range(3 if PURE else 10)]
    for n in lengths:
        for data in (rng.randbytes(n), b"\xff" * n):
            theirs = gc_hash.new(f"streebog{bits}", data=bytearray(data)).digest()
            assert ours(data).digest() == bytes(theirs), f"len={n}"


# ---------------------------------------------------------------------------------------------------- curves


def test_gostcrypto_sets_are_all_known_to_us() -> None:
    assert set(gc_sig.CURVES_R_1323565_1_024_2019) == set(GC_CURVES)


@pytest.mark.parametrize(("name", "oid"), CURVE_PARAMS)
def test_curve_constants_match_gostcrypto(name: str, oid: str) -> None:
    c = curve(oid)
    assert curve(name) is c  # our lookup accepts gostcrypto's spelling too
    g = _signer(name, c.size)
    # gostcrypto converts the twisted Edwards sets (given as e, d, u, v) to Weierstrass form itself, so this also
    # checks our Weierstrass constants for tc26 256-A / 512-C against an independent conversion.
    theirs = {"p": g._p, "a": g._a, "b": g._b, "q": g._q, "x": g._x, "y": g._y, "m": g._m}
    ours = {"p": c.p, "a": c.a, "b": c.b, "q": c.q, "x": c.x, "y": c.y, "m": c.m}
    assert ours == theirs


# ---------------------------------------------------------------------------------------------------- signatures


@pytest.mark.parametrize(("name", "oid"), CURVE_PARAMS)
def test_same_nonce_gives_same_signature(name: str, oid: str) -> None:
    """With the same d, digest and k, both implementations must produce the identical signature."""
    c = curve(oid)
    n = c.size
    g = _signer(name, n)
    rng = _rng("k", oid)
    key = PrivateKey.generate(c)
    digest = (streebog256 if n == 32 else streebog512)(rng.randbytes(50)).digest()
    k = rng.randrange(1, c.q)
    ours = key._sign_digest_with_k(digest, k)
    theirs = g.sign(bytearray(key.to_bytes()[::-1]), bytearray(digest[::-1]), bytearray(k.to_bytes(n, "big")))
    assert ours == _swap(bytes(theirs), n)


@pytest.mark.parametrize(("name", "oid"), CURVE_PARAMS)
def test_public_keys_and_signatures_both_ways(name: str, oid: str) -> None:
    c = curve(oid)
    n = c.size
    g = _signer(name, n)
    rng = _rng("sig", oid)
    hash_fn = streebog256 if n == 32 else streebog512
    for _ in range(CASES):
        key = PrivateKey.generate(c)
        pub = key.public_key()
        d_be = bytearray(key.to_bytes()[::-1])
        assert bytes(g.public_key_generate(d_be)) == bytes(_be_pub(pub.to_bytes(), n))

        digest = hash_fn(rng.randbytes(rng.randrange(300))).digest()
        other = hash_fn(rng.randbytes(10)).digest()

        ours = key.sign_digest(digest)  # ours -> gostcrypto
        assert g.verify(_be_pub(pub.to_bytes(), n), bytearray(digest[::-1]), bytearray(_swap(ours, n)))
        assert not g.verify(_be_pub(pub.to_bytes(), n), bytearray(other[::-1]), bytearray(_swap(ours, n)))

        theirs = _swap(bytes(g.sign(d_be, bytearray(digest[::-1]))), n)  # gostcrypto -> ours
        assert pub.verify_digest(digest, theirs)
        assert not pub.verify_digest(other, theirs)
        tampered = bytearray(theirs)
        tampered[rng.randrange(2 * n)] ^= 1 << rng.randrange(8)
        assert not pub.verify_digest(digest, bytes(tampered))
        assert PublicKey.from_bytes(c, pub.to_bytes()).verify_digest(digest, theirs)

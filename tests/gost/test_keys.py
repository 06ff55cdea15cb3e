"""The public key API (signagent.gost.keys): properties on every curve, every typed error, OpenSSL as an oracle.

* Round trips: sign/verify, from_bytes/to_bytes for private and public keys (hypothesis, all parameter sets).
* A changed digest, a changed signature or another key makes verification return False (never raise).
* Every bad input raises its typed error from signagent.errors (DESIGN.md section 2: no bare tracebacks).
* The backend in use and the pure-Python reference agree (keys and each other's signatures).
* OpenSSL's GOST engine verifies our signatures and we verify its signatures, on every set it can sign with.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from signagent.errors import (
    InvalidInputError,
    InvalidKeyError,
    InvalidLengthError,
    InvalidPointError,
    InvalidSignatureFormatError,
    InvalidTypeError,
    UnknownAlgorithmError,
)
from signagent.gost import _ec_ref, curves
from signagent.gost.keys import PrivateKey, PublicKey
from tests.gost.test_curves import openssl_env, pkcs8_der, run_openssl, sqrt_mod

ALL = curves.all_curves()
IDS = [c.name for c in ALL]
SETTINGS = settings(max_examples=40, deadline=None)


def e_of(c: curves.Curve, digest: bytes) -> int:
    """GOST R 34.10-2012 section 6.1 step 2, written out independently of the module under test."""
    return int.from_bytes(digest, "little") % c.q or 1


@st.composite
def key_and_digest(draw: st.DrawFn) -> tuple[PrivateKey, bytes]:
    c = draw(st.sampled_from(ALL))
    d = draw(st.integers(min_value=1, max_value=c.q - 1))
    digest = draw(st.binary(min_size=c.size, max_size=c.size))
    return PrivateKey.from_bytes(c, d.to_bytes(c.size, "little")), digest


# --- properties ---------------------------------------------------------------------------------------------------


@SETTINGS
@given(key_and_digest(), st.data())
def test_sign_verify_and_tampering(kd: tuple[PrivateKey, bytes], data: st.DataObject) -> None:
    key, digest = kd
    c = key.curve
    public = key.public_key()
    signature = key.sign_digest(digest)
    assert len(signature) == 2 * c.size
    s, r = int.from_bytes(signature[: c.size], "big"), int.from_bytes(signature[c.size :], "big")
    assert 0 < s < c.q and 0 < r < c.q
    assert public.verify_digest(digest, signature) is True

    bit = data.draw(st.integers(0, 8 * c.size - 1), label="digest bit")
    other = (int.from_bytes(digest, "little") ^ (1 << bit)).to_bytes(c.size, "little")
    assume(e_of(c, other) != e_of(c, digest))  # alpha = 0 and alpha = 1 both give e = 1 (section 6.1 step 2)
    assert public.verify_digest(other, signature) is False

    bit = data.draw(st.integers(0, 16 * c.size - 1), label="signature bit")
    bad = (int.from_bytes(signature, "big") ^ (1 << bit)).to_bytes(2 * c.size, "big")
    assert public.verify_digest(digest, bad) is False


@SETTINGS
@given(key_and_digest())
def test_another_key_does_not_verify(kd: tuple[PrivateKey, bytes]) -> None:
    key, digest = kd
    other = PrivateKey.generate(key.curve)
    assume(other != key)
    assert other.public_key().verify_digest(digest, key.sign_digest(digest)) is False


@SETTINGS
@given(key_and_digest())
def test_bytes_round_trips(kd: tuple[PrivateKey, bytes]) -> None:
    key, _ = kd
    c = key.curve
    raw = key.to_bytes()
    assert len(raw) == c.size
    again = PrivateKey.from_bytes(c, raw)
    assert again == key and hash(again) == hash(key) and again.to_bytes() == raw
    public = key.public_key()
    pub_raw = public.to_bytes()
    assert len(pub_raw) == 2 * c.size
    assert pub_raw == public.x.to_bytes(c.size, "little") + public.y.to_bytes(c.size, "little")
    imported = PublicKey.from_bytes(c, pub_raw)
    assert imported == public and hash(imported) == hash(public) and imported.to_bytes() == pub_raw
    assert (public.y * public.y - (public.x**3 + c.a * public.x + c.b)) % c.p == 0


@SETTINGS
@given(key_and_digest())
def test_backend_agrees_with_the_reference(kd: tuple[PrivateKey, bytes]) -> None:
    """The backend in use (C core when built) and the pure-Python reference give the same keys and accept each
    other's signatures."""
    key, digest = kd
    c = key.curve
    ref = c.make_engine(_ec_ref)
    d_be = key.to_bytes()[::-1]
    xy = ref.public_key(d_be)
    assert xy == c.engine.public_key(d_be)
    public = key.public_key()
    e = e_of(c, digest).to_bytes(c.size, "big")
    assert ref.verify(xy[: c.size], xy[c.size :], e, key.sign_digest(digest))
    assert public.verify_digest(digest, ref.sign(d_be, e))


def test_generate_draws_fresh_keys_on_every_curve() -> None:
    for c in ALL:
        keys = {PrivateKey.generate(c).to_bytes() for _ in range(4)}
        assert len(keys) == 4
        for raw in keys:
            assert 0 < int.from_bytes(raw, "little") < c.q


@pytest.mark.parametrize("c", ALL, ids=IDS)
def test_e_zero_becomes_one_and_alpha_is_reduced(c: curves.Curve) -> None:
    """Section 6.1 step 2: e = alpha mod q, and e = 1 when that is 0 (checked with a fixed nonce)."""
    key = PrivateKey.generate(c)
    k = 0x1234567
    one = (1).to_bytes(c.size, "little")
    q_digest = c.q.to_bytes(c.size, "little")  # alpha = q: e would be 0
    assert key._sign_digest_with_k(q_digest, k) == key._sign_digest_with_k(one, k)
    assert key._sign_digest_with_k(bytes(c.size), k) == key._sign_digest_with_k(one, k)
    if c.q + 5 < 2 ** (8 * c.size):
        reduced = key._sign_digest_with_k((c.q + 5).to_bytes(c.size, "little"), k)
        assert reduced == key._sign_digest_with_k((5).to_bytes(c.size, "little"), k)
    assert key.public_key().verify_digest(q_digest, key._sign_digest_with_k(one, k))


def test_curve_arguments_accept_names_and_oids() -> None:
    c = curves.curve("tc26-256-A")
    key = PrivateKey.generate("tc26-256-A")
    assert key.curve is c
    assert PrivateKey.from_bytes("1.2.643.7.1.2.1.1.1", key.to_bytes()) == key
    assert PublicKey.from_bytes("id-tc26-gost-3410-12-256-paramSetA", key.public_key().to_bytes()).curve is c
    with pytest.raises(UnknownAlgorithmError):
        PrivateKey.generate("tc26-256-Z")
    with pytest.raises(InvalidTypeError):
        PrivateKey.generate(256)  # type: ignore[arg-type]


def test_bytes_like_arguments() -> None:
    key = PrivateKey.generate("tc26-512-B")
    digest = bytes(range(64))
    signature = key.sign_digest(bytearray(digest))
    public = PublicKey.from_bytes(key.curve, memoryview(key.public_key().to_bytes()))
    assert public.verify_digest(memoryview(digest), bytearray(signature))
    assert PrivateKey.from_bytes(key.curve, bytearray(key.to_bytes())) == key


# --- identity, equality, repr --------------------------------------------------------------------------------------


def test_repr_never_shows_the_private_key() -> None:
    for c in ALL:
        key = PrivateKey.generate(c)
        d = int.from_bytes(key.to_bytes(), "little")
        for text in (repr(key), str(key), f"{key}"):
            assert c.name in text
            for secret in (key.to_bytes().hex(), key.to_bytes()[::-1].hex(), str(d), hex(d)[2:]):
                assert secret.lower() not in text.lower()
        assert c.name in repr(key.public_key())


def test_equality_and_hash() -> None:
    c = curves.curve("cryptopro-A")
    key = PrivateKey.generate(c)
    same = PrivateKey.from_bytes(c, key.to_bytes())
    assert key == same and len({key, same}) == 1
    # tc26-256-B has CryptoPro-A's numbers but is another parameter set: another key.
    twin = PrivateKey.from_bytes("tc26-256-B", key.to_bytes())
    assert twin != key
    assert twin.public_key().to_bytes() == key.public_key().to_bytes()
    assert twin.public_key() != key.public_key()
    assert key != key.to_bytes() and key.public_key() != key.public_key().to_bytes()
    assert key.public_key() is key.public_key()  # computed once
    assert len({key.public_key(), same.public_key(), twin.public_key()}) == 2


def test_keys_are_not_constructed_directly() -> None:
    with pytest.raises(TypeError):
        PrivateKey()
    with pytest.raises(TypeError):
        PublicKey()


# --- typed errors ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("c", ALL, ids=IDS)
def test_private_key_import_errors(c: curves.Curve) -> None:
    n = c.size
    for bad_type in ("00" * n, None, n, [0] * n):
        with pytest.raises(InvalidTypeError):
            PrivateKey.from_bytes(c, bad_type)
    for length in (0, n - 1, n + 1, 2 * n):
        with pytest.raises(InvalidLengthError):
            PrivateKey.from_bytes(c, b"\x01" * length)
    for value in (0, c.q, c.q + 1, 2 ** (8 * n) - 1):
        with pytest.raises(InvalidKeyError) as info:
            PrivateKey.from_bytes(c, value.to_bytes(n, "little"))
        assert info.value.code == "invalid_key"
    # The explicit opt-in reduces d >= q (a multiple of q is still no key).
    assert PrivateKey.from_bytes(c, (c.q + 1).to_bytes(n, "little"), reduce_mod_q=True).to_bytes() == (
        (1).to_bytes(n, "little")
    )
    with pytest.raises(InvalidKeyError):
        PrivateKey.from_bytes(c, c.q.to_bytes(n, "little"), reduce_mod_q=True)


@pytest.mark.parametrize("c", ALL, ids=IDS)
def test_sign_errors(c: curves.Curve) -> None:
    key = PrivateKey.generate(c)
    n = c.size
    for bad_type in ("a" * n, None, 5, [0] * n):
        with pytest.raises(InvalidTypeError):
            key.sign_digest(bad_type)
    other_size = 64 if n == 32 else 32
    for length in (0, n - 1, n + 1, other_size):
        with pytest.raises(InvalidLengthError):
            key.sign_digest(bytes(length))
    for k in (0, c.q, -1):
        with pytest.raises(InvalidInputError):
            key._sign_digest_with_k(bytes(n), k)


def _small_order_and_full_order_points(c: curves.Curve) -> tuple[bytes | None, bytes]:
    """On a cofactor-4 curve: a point of order dividing 4 (not O) and a point of order 4q or 2q (both on the
    curve, neither a valid public key). Built from random points with the reference engine."""
    ref = c.make_engine(_ec_ref)
    n = c.size
    x = 1
    small = full = None
    while small is None or full is None:
        x += 1
        y = sqrt_mod(x**3 + c.a * x + c.b, c.p)
        if y is None:
            continue
        xy = x.to_bytes(n, "big") + y.to_bytes(n, "big")
        t = ref.mul(c.q.to_bytes(n, "big"), xy[:n], xy[n:])  # kills the order-q part
        if t is not None:
            small, full = t, xy
    return small, full


def _le(xy_be: bytes, n: int) -> bytes:
    return xy_be[:n][::-1] + xy_be[n:][::-1]


@pytest.mark.parametrize("c", ALL, ids=IDS)
def test_public_key_import_errors(c: curves.Curve) -> None:
    n = c.size
    good = PrivateKey.generate(c).public_key()
    for bad_type in ("00" * 2 * n, None, 7):
        with pytest.raises(InvalidTypeError):
            PublicKey.from_bytes(c, bad_type)
    for length in (0, n, 2 * n - 1, 2 * n + 1, 4 * n):
        with pytest.raises(InvalidLengthError):
            PublicKey.from_bytes(c, bytes(length))
    bad_points = [
        bytes(2 * n),  # (0, 0): how the point at infinity is sometimes written
        good.x.to_bytes(n, "little") + ((good.y + 1) % c.p).to_bytes(n, "little"),  # off the curve
        b"\xff" * (2 * n),  # coordinates >= p
    ]
    if good.y + c.p < 2 ** (8 * n):  # the same point with y + p: equal mod p, but not a canonical coordinate
        bad_points.append(good.x.to_bytes(n, "little") + (good.y + c.p).to_bytes(n, "little"))
    if c.cofactor != 1:
        small, full = _small_order_and_full_order_points(c)
        assert small is not None
        bad_points += [_le(small, n), _le(full, n)]
    for raw in bad_points:
        with pytest.raises(InvalidPointError) as info:
            PublicKey.from_bytes(c, raw)
        assert info.value.code == "invalid_point"


@pytest.mark.parametrize("c", ALL, ids=IDS)
def test_verify_errors_and_wrong_signatures(c: curves.Curve) -> None:
    n = c.size
    key = PrivateKey.generate(c)
    public = key.public_key()
    digest = bytes(range(1, n + 1))
    signature = key.sign_digest(digest)
    with pytest.raises(InvalidTypeError):
        public.verify_digest("x" * n, signature)
    with pytest.raises(InvalidTypeError):
        public.verify_digest(digest, signature.hex())
    with pytest.raises(InvalidTypeError):
        public.verify_digest(digest, None)
    for length in (0, n - 1, n + 1):
        with pytest.raises(InvalidLengthError):
            public.verify_digest(bytes(length), signature)
    for length in (0, n, 2 * n - 1, 2 * n + 1, 4 * n):
        with pytest.raises(InvalidSignatureFormatError) as info:
            public.verify_digest(digest, bytes(length))
        assert info.value.code == "invalid_signature_format"
    s, r = signature[:n], signature[n:]
    q = c.q.to_bytes(n, "big")
    zero = bytes(n)
    s_plus_q = (int.from_bytes(s, "big") + c.q) % 2 ** (8 * n)
    # Section 6.2 step 1: r, s outside 1..q-1 -> invalid, even where (s + q, r) would pass the final comparison.
    for wrong in (zero + r, s + zero, q + r, s + q, b"\xff" * (2 * n), s_plus_q.to_bytes(n, "big") + r, r + s):
        assert public.verify_digest(digest, wrong) is False


# --- OpenSSL's GOST engine as an oracle ------------------------------------------------------------------------------


def _openssl_verifies(key_der: Path, digest: Path, signature: bytes, tmp_path: Path) -> bool:
    sig_file = tmp_path / "sig.bin"
    sig_file.write_bytes(signature)
    env = openssl_env()
    assert env is not None
    done = subprocess.run(
        ["openssl", "pkeyutl", "-verify", "-keyform", "DER", "-inkey", str(key_der), "-in", str(digest),
         "-sigfile", str(sig_file)],
        capture_output=True, env=env, check=False,
    )  # fmt: skip
    return done.returncode == 0 and b"Verified Successfully" in done.stdout


@pytest.mark.oracle
@pytest.mark.parametrize("c", ALL, ids=IDS)
def test_openssl_interoperates(c: curves.Curve, tmp_path: Path) -> None:
    """Each side verifies the other's signatures of the same digest with the same key."""
    run_openssl("version")  # skips or fails (CI) first when the oracle is missing
    key = PrivateKey.generate(c)
    key_der = tmp_path / "key.der"
    key_der.write_bytes(pkcs8_der(c, key.to_bytes()))
    for i in range(3):
        digest = bytes((i * 37 + j) % 256 for j in range(c.size))
        digest_file = tmp_path / "digest.bin"
        digest_file.write_bytes(digest)
        ours = key.sign_digest(digest)
        assert _openssl_verifies(key_der, digest_file, ours, tmp_path)
        wrong = bytearray(ours)
        wrong[-1] ^= 1
        assert not _openssl_verifies(key_der, digest_file, bytes(wrong), tmp_path)
        theirs = run_openssl("pkeyutl", "-sign", "-keyform", "DER", "-inkey", str(key_der), "-in", str(digest_file))
        assert key.public_key().verify_digest(digest, theirs) is True

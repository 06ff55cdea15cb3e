"""Differential tests against OpenSSL's GOST engine (an independent implementation), both directions.

* Streebog-256/512 and GOST R 34.11-94 digests equal on random inputs, including the block-boundary lengths
  (0, 63, 64, 65), the 144-byte carry case of the 512-bit adder and a few MB fed in uneven chunks.
* On every parameter set the engine knows: its curve constants equal ours; the same d gives the same public key;
  our signatures verify under the engine and the engine's under us; tampered signatures and other digests are
  rejected by both; the e = 0 -> 1 rule (GOST R 34.10-2012 clause 6.1 step 3) agrees at the edge.
* Once through the ``openssl`` command line: keys written as PEM here, ``pkeyutl -verify`` on our signature and
  ``pkeyutl -sign`` checked by us.

With the pure-Python backend (SIGNAGENT_PURE=1) the same checks run on fewer and smaller inputs.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from signagent.gost import backend_name
from signagent.gost.curves import curve
from signagent.gost.gost341194 import gost341194
from signagent.gost.keys import PrivateKey, PublicKey
from signagent.gost.streebog import streebog256, streebog512
from tests.conftest import require
from tests.oracles import openssl_gost as oracle

pytestmark = pytest.mark.oracle

PURE = backend_name() == "pure"
CASES = 1 if PURE else 4  # random keys per parameter set and direction
BIG = 48 * 1024 if PURE else 3 * 1024 * 1024 + 17  # "a few MB" natively; the reference runs ~0.5 MB/s
STREEBOG = {"md_gost12_256": streebog256, "md_gost12_512": streebog512}
ENGINE_SETS = [pytest.param(ps, id=ps.name) for ps in oracle.PARAMSETS]


@pytest.fixture(scope="module", autouse=True)
def _engine() -> None:
    require(oracle.available(), f"OpenSSL GOST engine in-process ({oracle.reason()})")


def _rng(*salt: object) -> random.Random:
    # Reproducible per test: a failure names its inputs, and a re-run sees the same ones.
    return random.Random(f"interop:{':'.join(map(str, salt))}")


def _digest_for(ps: oracle.ParamSet, rng: random.Random) -> bytes:
    return STREEBOG["md_gost12_256" if ps.size == 32 else "md_gost12_512"](rng.randbytes(rng.randrange(200))).digest()


# ---------------------------------------------------------------------------------------------------- digests


LENGTHS = [0, 1, 31, 32, 55, 63, 64, 65, 127, 128, 129, 144, 191, 192, 193, 1000, 4096 + 3]


@pytest.mark.parametrize("md", sorted(STREEBOG))
@pytest.mark.parametrize("length", LENGTHS)
def test_streebog_random_inputs_match(md: str, length: int) -> None:
    rng = _rng(md, length)
    for fill in ("random", "ff", "00"):  # all-0xFF blocks drive every carry of the 512-bit sums (clause 8)
        data = {"random": rng.randbytes(length), "ff": b"\xff" * length, "00": bytes(length)}[fill]
        assert STREEBOG[md](data).digest() == oracle.digest(md, data), f"{md} {fill} len={length}"


@pytest.mark.parametrize("md", sorted(STREEBOG))
def test_streebog_carry_vector_matches(md: str, vectors_dir: Path) -> None:
    # The published 144-byte message that breaks careless 512-bit adders; OpenSSL must agree with us on it.
    data = json.loads((vectors_dir / "streebog.json").read_text())
    habr = [v for v in data["vectors"] if v["id"].startswith("habr144")]
    assert habr, "the 144-byte carry vector is missing from streebog.json"
    message = bytes.fromhex(habr[0]["message_hex"])
    assert len(message) == 144
    assert STREEBOG[md](message).digest() == oracle.digest(md, message)


@pytest.mark.parametrize("md", sorted(STREEBOG))
def test_streebog_large_input_in_uneven_chunks(md: str) -> None:
    rng = _rng("big", md)
    data = rng.randbytes(BIG)
    ours = STREEBOG[md]()
    theirs = oracle.Digest(md)
    pos = 0
    while pos < len(data):
        n = rng.choice((1, 63, 64, 65, 4095, 65536 + 7))
        chunk = data[pos : pos + n]
        ours.update(chunk)
        theirs.update(chunk)
        pos += n
    assert ours.digest() == theirs.digest() == oracle.digest(md, data)
    assert STREEBOG[md](data).digest() == theirs.digest()


@pytest.mark.parametrize("length", [0, 1, 31, 32, 33, 64, 100, 1000, 4096 + 5])
def test_gost341194_matches(length: int) -> None:
    rng = _rng("94", length)
    for data in (rng.randbytes(length), b"\xff" * length):  # all-0xFF: the 256-bit checksum's carries
        assert gost341194(data).digest() == oracle.digest("md_gost94", data), f"len={length}"


# ---------------------------------------------------------------------------------------------------- curves, keys


def test_every_engine_set_is_known_to_us() -> None:
    for ps in oracle.PARAMSETS:
        assert curve(ps.oid).size == ps.size, ps.name


@pytest.mark.parametrize("ps", ENGINE_SETS)
def test_curve_constants_equal_engine_tables(ps: oracle.ParamSet) -> None:
    theirs = oracle.generate(ps).curve_params()
    c = curve(ps.oid)
    ours = {name: getattr(c, name) for name in theirs}
    assert ours == theirs


@pytest.mark.parametrize("ps", ENGINE_SETS)
def test_public_key_from_d_equals_engine(ps: oracle.ParamSet) -> None:
    for _ in range(CASES):
        ours = PrivateKey.generate(curve(ps.oid))
        theirs = oracle.private_key(ps, ours.to_bytes())
        assert ours.public_key().to_bytes() == theirs.public_bytes()
    generated = oracle.generate(ps)  # and the other way: a key the engine made, imported by us
    ours = PrivateKey.from_bytes(curve(ps.oid), generated.private_bytes())
    assert ours.public_key().to_bytes() == generated.public_bytes()
    assert PublicKey.from_bytes(curve(ps.oid), generated.public_bytes()).to_bytes() == generated.public_bytes()


def test_our_key_encodings_match_engine_output() -> None:
    # The oracle's PKCS#8/SPKI assembly (used by the CLI test below) is exactly what the engine writes.
    for ps in oracle.PARAMSETS:
        key = oracle.generate(ps)
        assert oracle.spki_der(ps, key.public_bytes()) == key.public_der(), ps.name
        assert oracle.pkcs8_der(ps, key.private_bytes()) == key.private_der(), ps.name


# ---------------------------------------------------------------------------------------------------- signatures


def _tampered(sig: bytes, rng: random.Random) -> list[bytes]:
    half = len(sig) // 2
    out = []
    for pos in (rng.randrange(half), half + rng.randrange(half)):  # one bit in s, one bit in r
        b = bytearray(sig)
        b[pos] ^= 1 << rng.randrange(8)
        out.append(bytes(b))
    out.append(sig[half:] + sig[:half])  # r||s instead of s||r (the gostcrypto layout)
    return out


@pytest.mark.parametrize("ps", ENGINE_SETS)
def test_our_signatures_verified_by_engine(ps: oracle.ParamSet) -> None:
    rng = _rng("ours", ps.oid)
    for _ in range(CASES):
        key = PrivateKey.generate(curve(ps.oid))
        engine_pub = oracle.public_key(ps, key.public_key().to_bytes())
        digest = _digest_for(ps, rng)
        sig = key.sign_digest(digest)
        assert len(sig) == 2 * ps.size
        assert oracle.verify_digest(engine_pub, digest, sig)
        other = _digest_for(ps, rng)
        assert not oracle.verify_digest(engine_pub, other, sig)
        for bad in _tampered(sig, rng):
            assert not oracle.verify_digest(engine_pub, digest, bad)
            assert not key.public_key().verify_digest(digest, bad)


@pytest.mark.parametrize("ps", ENGINE_SETS)
def test_engine_signatures_verified_by_us(ps: oracle.ParamSet) -> None:
    rng = _rng("theirs", ps.oid)
    for i in range(CASES):
        # Both ways of getting the same key: generated by the engine, or made from our d.
        engine_key = oracle.generate(ps) if i % 2 == 0 else oracle.private_key(
            ps, PrivateKey.generate(curve(ps.oid)).to_bytes())
        pub = PublicKey.from_bytes(curve(ps.oid), engine_key.public_bytes())
        digest = _digest_for(ps, rng)
        sig = oracle.sign_digest(engine_key, digest)
        assert pub.verify_digest(digest, sig)
        assert not pub.verify_digest(_digest_for(ps, rng), sig)
        for bad in _tampered(sig, rng):
            assert not pub.verify_digest(digest, bad)
            assert not oracle.verify_digest(engine_key, digest, bad)


EDGE_SETS = ["1.2.643.2.2.35.0", "1.2.643.7.1.2.1.1.1", "1.2.643.7.1.2.1.2.1"]  # q near 2^255, 2^254, 2^511


@pytest.mark.parametrize("oid", EDGE_SETS)
def test_digest_reduction_edges_agree(oid: str) -> None:
    """alpha = 0 and alpha = q give e = 0, which both sides must replace by 1; alpha >= q must be reduced."""
    ps = oracle.paramset(oid)
    c = curve(oid)
    key = PrivateKey.generate(c)
    engine_pub = oracle.public_key(ps, key.public_key().to_bytes())
    engine_key = oracle.private_key(ps, key.to_bytes())
    for alpha in (0, c.q, c.q + 1, 2**(8 * c.size) - 1):
        digest = alpha.to_bytes(c.size, "little")
        assert oracle.verify_digest(engine_pub, digest, key.sign_digest(digest)), hex(alpha)
        assert key.public_key().verify_digest(digest, oracle.sign_digest(engine_key, digest)), hex(alpha)
    # e(0) == e(q) == 1: a signature over one digest is valid for the other on both sides.
    zero, q_le, one = bytes(c.size), c.q.to_bytes(c.size, "little"), (1).to_bytes(c.size, "little")
    sig = key.sign_digest(zero)
    assert oracle.verify_digest(engine_pub, q_le, sig)
    assert oracle.verify_digest(engine_pub, one, sig)
    assert key.public_key().verify_digest(one, oracle.sign_digest(engine_key, q_le))


# ---------------------------------------------------------------------------------------------------- CLI


CLI_SETS = ["1.2.643.7.1.2.1.1.1", "1.2.643.2.2.35.1", "1.2.643.7.1.2.1.2.1"]  # tc26-256-A, CryptoPro-A, tc26-512-A


@pytest.mark.parametrize("oid", CLI_SETS)
def test_openssl_cli_both_directions(oid: str, tmp_path: Path) -> None:
    require(oracle.openssl_binary(), "openssl command")
    ps = oracle.paramset(oid)
    c = curve(oid)
    key = PrivateKey.generate(c)
    pub_pem = tmp_path / "pub.pem"
    priv_pem = tmp_path / "priv.pem"
    pub_pem.write_bytes(oracle.pem(oracle.spki_der(ps, key.public_key().to_bytes()), "PUBLIC KEY"))
    priv_pem.write_bytes(oracle.pem(oracle.pkcs8_der(ps, key.to_bytes()), "PRIVATE KEY"))
    digest = _digest_for(ps, _rng("cli", oid))
    (tmp_path / "digest.bin").write_bytes(digest)

    # Ours -> openssl pkeyutl -verify
    (tmp_path / "sig.bin").write_bytes(key.sign_digest(digest))
    verify = ["pkeyutl", "-verify", "-pubin", "-inkey", "pub.pem", "-in", "digest.bin", "-sigfile", "sig.bin"]
    done = oracle.run_cli(verify, cwd=tmp_path)
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    assert b"Signature Verified Successfully" in done.stdout

    # A tampered one is refused by the CLI too.
    bad = bytearray((tmp_path / "sig.bin").read_bytes())
    bad[-1] ^= 0x01
    (tmp_path / "sig.bin").write_bytes(bytes(bad))
    refused = oracle.run_cli(verify, cwd=tmp_path)
    assert refused.returncode != 0
    assert b"Signature Verified Successfully" not in refused.stdout

    # openssl pkeyutl -sign with the PKCS#8 we wrote -> ours
    signed = oracle.run_cli(["pkeyutl", "-sign", "-inkey", "priv.pem", "-in", "digest.bin"], cwd=tmp_path)
    assert signed.returncode == 0, signed.stderr.decode(errors="replace")
    assert len(signed.stdout) == 2 * c.size
    assert key.public_key().verify_digest(digest, signed.stdout)

    # The CLI derives the same public key from our PKCS#8.
    pub_out = oracle.run_cli(["pkey", "-in", "priv.pem", "-pubout", "-outform", "DER"], cwd=tmp_path)
    assert pub_out.returncode == 0, pub_out.stderr.decode(errors="replace")
    assert pub_out.stdout == oracle.spki_der(ps, key.public_key().to_bytes())


def test_openssl_cli_streebog(tmp_path: Path) -> None:
    require(oracle.openssl_binary(), "openssl command")
    data = _rng("cli-dgst").randbytes(100_000)
    (tmp_path / "data.bin").write_bytes(data)
    for md, ours in STREEBOG.items():
        done = oracle.run_cli(["dgst", f"-{md}", "-r", "data.bin"], cwd=tmp_path)
        assert done.returncode == 0, done.stderr.decode(errors="replace")
        assert done.stdout.split()[0].decode() == ours(data).hexdigest()

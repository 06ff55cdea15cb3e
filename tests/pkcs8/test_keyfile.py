"""GOST PKCS#8 key files: the three inner encodings, encrypted PBES2 files, writing; OpenSSL both ways."""

from __future__ import annotations

import base64
import json
import os
import stat
from pathlib import Path

import pytest
from asn1crypto import core, keys

from signagent.asn1 import oids
from signagent.errors import FileAccessError, InvalidKeyError, InvalidTypeError, UnknownAlgorithmError, UsageError
from signagent.gost import PrivateKey, PublicKey, curve
from signagent.pkcs8 import keyfile
from signagent.pkcs8.keyfile import (
    InvalidPasswordError,
    KeyFileFormatError,
    NotGostKeyError,
    PasswordRequiredError,
    UnsupportedKeyEncryptionError,
)
from tests.conftest import require
from tests.oracles import openssl_gost as ossl

# Example A.1's key encrypted by OpenSSL 3.0.19 + GOST engine: `openssl pkcs8 -topk8 -v2 gost89 -passout
# pass:signagent` (PBKDF2-HMAC-Streebog-512, 2048 rounds, GOST 28147-89 CFB with param set Z). A known answer for
# the PBES2 reader that needs no oracle at test time.
A1_GOST89 = b"""-----BEGIN ENCRYPTED PRIVATE KEY-----
MIGlMFkGCSqGSIb3DQEFDTBMMCkGCSqGSIb3DQEFDDAcBAiKME8wybEy5wICCAAw
DAYIKoUDBwEBBAIFADAfBgYqhQMCAhUwFQQIePQ5mPLZ4FQGCSqFAwcBAgUBAQRI
0dPkS8qMqOWAkiQ1GvwwwFzQoWV4mTQRNUQz7fSYoEW3SrPVM8v+yOakrzzzoj1p
DqDDApZgBiSp5i7DTyXQQWpnmKfuhFXC
-----END ENCRYPTED PRIVATE KEY-----
"""
# Example A.2's key, `openssl pkcs8 -topk8 -passout pass:signagent` (OpenSSL's default: PBKDF2-HMAC-SHA256,
# AES-256-CBC).
A2_AES = b"""-----BEGIN ENCRYPTED PRIVATE KEY-----
MIHLMFcGCSqGSIb3DQEFDTBKMCkGCSqGSIb3DQEFDDAcBAgO4L1Ppow0cgICCAAw
DAYIKoZIhvcNAgkFADAdBglghkgBZQMEASoEEOEbJgLqguOhgX6lRTGrWw0EcKw+
falrLoGq3Pg5a1BsDl1dc+EDsB0pZy7mb3lTin2ZIp4hDekjJtHQ8ZwMGT1jONim
NiBmOBbXHPX9wZUkaLFliogpBkNlqABcl8hQcMONF96Kl/9UTYKOInHpScMaO0LG
/3YoOikixKpo7HXm4qU=
-----END ENCRYPTED PRIVATE KEY-----
"""

FAST = 64  # PBKDF2 rounds for files written in tests (speed; the default is exercised once)


@pytest.fixture(scope="module")
def examples(vectors_dir: Path) -> list[dict]:
    return json.loads((vectors_dir / "gost3410_2012" / "gost3410_2012_examples.json").read_text())["vectors"]


def _oracle() -> None:
    require(ossl.available() and ossl.openssl_binary(), f"OpenSSL with the GOST engine: {ossl.reason()}")


def _info_der(algorithm_oid: str, params: dict, private_key: bytes, version: int = 0) -> bytes:
    """A PrivateKeyInfo with any privateKey content (assembled from parts: asn1crypto would re-wrap it)."""
    body = (core.Integer(version).dump()
            + keys.PrivateKeyAlgorithm({"algorithm": algorithm_oid, "parameters": params}).dump()
            + core.OctetString(private_key).dump())
    return core.Sequence.load(b"\x30" + bytes([len(body)]) + body if len(body) < 128
                              else b"\x30\x81" + bytes([len(body)]) + body).dump()


# ----------------------------------------------------------------------------------------------------------------
# Known answers
# ----------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "index"), [("A1_256", 0), ("A2_512", 1)])
def test_standard_examples_load(vectors_dir: Path, examples: list[dict], name: str, index: int) -> None:
    ex = examples[index]
    key = keyfile.load_private_key(vectors_dir / "gost3410_2012" / f"{name}_private_key.pem")
    assert key.curve.oid == ex["curve"]["oid"]
    assert int.from_bytes(key.to_bytes(), "little") == int(ex["d"], 16)
    pub = key.public_key()
    assert (pub.x, pub.y) == (int(ex["Qx"], 16), int(ex["Qy"], 16))


def test_encoding_is_the_engine_layout_byte_for_byte(vectors_dir: Path) -> None:
    # (A2's file omits the digestParamSet that the engine writes for the 512-bit test set, so only A1 is the
    # engine's own bytes; test_encoding_equals_the_engine_for_the_same_d covers the other sets.)
    path = vectors_dir / "gost3410_2012" / "A1_256_private_key.pem"
    key = keyfile.load_private_key(path)
    assert keyfile.private_key_pem(key, allow_unencrypted=True) == path.read_bytes().rstrip(b"\n") + b"\n"
    assert keyfile.load_private_key(keyfile.encode_private_key(key)) == key  # DER input


def test_rfc9215_paramset_a_key_with_d_above_q_is_reduced(vectors_dir: Path) -> None:
    d_be = int(json.loads((vectors_dir / "rfc9215" / "rfc9215_examples.json").read_text())["vectors"][1]
               ["private_key_d_be"], 16)
    c = curve("id-tc26-gost-3410-2012-256-paramSetA")
    assert d_be >= c.q  # the reason for this test
    key = keyfile.load_private_key(vectors_dir / "rfc9215" / "ex256_paramSetA" / "private_key.pem")
    assert int.from_bytes(key.to_bytes(), "little") == d_be % c.q
    vec = json.loads((vectors_dir / "rfc9215" / "rfc9215_examples.json").read_text())["vectors"][1]
    assert (key.public_key().x, key.public_key().y) == (int(vec["Qx"], 16), int(vec["Qy"], 16))


def test_three_inner_encodings_give_the_same_key(examples: list[dict]) -> None:
    d = int(examples[1]["d"], 16)
    d_le = d.to_bytes(64, "little")
    params = {"public_key_param_set": "1.2.643.7.1.2.1.2.0", "digest_param_set": oids.STREEBOG512}
    forms = [d_le, core.OctetString(d_le).dump(), core.Integer(d).dump()]
    loaded = [keyfile.load_private_key(_info_der(oids.GOST2012_512, params, f)) for f in forms]
    assert all(int.from_bytes(k.to_bytes(), "little") == d for k in loaded)
    # a PKCS#8 v2 (OneAsymmetricKey) version number is accepted too
    assert keyfile.load_private_key(_info_der(oids.GOST2012_512, params, d_le, version=1)) == loaded[0]


def test_gost89_encrypted_known_answer(examples: list[dict]) -> None:
    key = keyfile.load_private_key(A1_GOST89, b"signagent")
    assert int.from_bytes(key.to_bytes(), "little") == int(examples[0]["d"], 16)
    assert keyfile.load_private_key(A1_GOST89, "signagent") == key  # str passwords are UTF-8


def test_aes_encrypted_known_answer(examples: list[dict]) -> None:
    key = keyfile.load_private_key(A2_AES, b"signagent")
    assert int.from_bytes(key.to_bytes(), "little") == int(examples[1]["d"], 16)


@pytest.mark.parametrize("blob", [A1_GOST89, A2_AES], ids=["gost89", "aes"])
def test_wrong_and_missing_password(blob: bytes) -> None:
    with pytest.raises(InvalidPasswordError) as err:
        keyfile.load_private_key(blob, b"signagenT")
    assert err.value.code == "invalid_password"
    with pytest.raises(PasswordRequiredError) as err2:
        keyfile.load_private_key(blob)
    assert err2.value.code == "password_required"


def test_our_encryption_round_trip_and_layout() -> None:
    key = PrivateKey.generate("tc26-512-C")
    der = keyfile.encrypt_private_key(key, b"pw", iterations=FAST)
    info = keys.EncryptedPrivateKeyInfo.load(der)
    params = info["encryption_algorithm"]["parameters"]
    assert params["key_derivation_func"]["parameters"]["prf"]["algorithm"].dotted == "1.2.643.7.1.1.4.2"
    assert params["encryption_scheme"]["algorithm"].dotted == "1.2.643.2.2.21"
    assert keyfile.load_private_key(der, b"pw") == key
    with pytest.raises(InvalidPasswordError):
        keyfile.load_private_key(der, b"pW")


# ----------------------------------------------------------------------------------------------------------------
# OpenSSL both ways
# ----------------------------------------------------------------------------------------------------------------


@pytest.mark.oracle
@pytest.mark.parametrize("ps", ["id-tc26-gost-3410-2012-256-paramSetA", "id-GostR3410-2001-CryptoPro-A-ParamSet",
                                "id-tc26-gost-3410-2012-512-paramSetA", "id-tc26-gost-3410-2012-512-paramSetC"])
def test_encoding_equals_the_engine_for_the_same_d(ps: str) -> None:
    _oracle()
    key = PrivateKey.generate(ps)
    assert keyfile.encode_private_key(key) == ossl.private_key(ps, key.to_bytes()).private_der()


@pytest.mark.oracle
@pytest.mark.parametrize(("algorithm", "paramset"), [("gost2012_256", "TCB"), ("gost2012_512", "C")])
def test_openssl_genpkey_files_load(tmp_path: Path, algorithm: str, paramset: str) -> None:
    _oracle()
    plain, pub = tmp_path / "k.pem", tmp_path / "pub.pem"
    ossl.run_cli(["genpkey", "-algorithm", algorithm, "-pkeyopt", f"paramset:{paramset}", "-out", str(plain)],
                 check=True)
    ossl.run_cli(["pkey", "-in", str(plain), "-pubout", "-out", str(pub)], check=True)
    key = keyfile.load_private_key(plain)
    spki = keys.PublicKeyInfo.load(base64.b64decode(b"".join(pub.read_bytes().splitlines()[1:-1])))
    assert key.public_key() == PublicKey.from_bytes(key.curve, spki["public_key"].parsed.native)
    assert keyfile.private_key_pem(key, allow_unencrypted=True) == plain.read_bytes()  # round trip, same bytes
    for extra in (["-v2", "gost89"], []):  # the engine's GOST scheme and OpenSSL's default (AES-256-CBC)
        enc = tmp_path / f"enc{len(extra)}.pem"
        ossl.run_cli(["pkcs8", "-topk8", "-in", str(plain), "-passout", "pass:пароль", *extra, "-out", str(enc)],
                     check=True)
        assert keyfile.load_private_key(enc, "пароль") == key


@pytest.mark.oracle
def test_openssl_reads_our_encrypted_file(tmp_path: Path) -> None:
    _oracle()
    key = PrivateKey.generate("tc26-256-A")
    path = keyfile.save_private_key(key, tmp_path / "k.pem", b"s3cret")  # default iteration count, once
    out = ossl.run_cli(["pkey", "-in", str(path), "-passin", "pass:s3cret"])
    assert out.returncode == 0, out.stderr
    assert out.stdout == keyfile.private_key_pem(key, allow_unencrypted=True)
    bad = ossl.run_cli(["pkey", "-in", str(path), "-passin", "pass:wrong"])
    assert bad.returncode != 0


@pytest.mark.oracle
def test_engine_ctr_acpkm_scheme_is_refused_by_name(tmp_path: Path) -> None:
    _oracle()
    plain, enc = tmp_path / "k.pem", tmp_path / "e.pem"
    keyfile.save_private_key(PrivateKey.generate("tc26-256-A"), plain, allow_unencrypted=True)
    ossl.run_cli(["pkcs8", "-topk8", "-in", str(plain), "-passout", "pass:x", "-v2", "kuznyechik-ctr-acpkm",
                  "-out", str(enc)], check=True)
    with pytest.raises(UnsupportedKeyEncryptionError, match="Kuznyechik CTR-ACPKM") as err:
        keyfile.load_private_key(enc, b"x")
    assert err.value.code == "unsupported_key_encryption"


# ----------------------------------------------------------------------------------------------------------------
# Writing
# ----------------------------------------------------------------------------------------------------------------


def test_save_mode_0600_no_overwrite_no_plaintext_by_default(tmp_path: Path) -> None:
    key = PrivateKey.generate("tc26-256-B")
    target = tmp_path / "key.pem"
    with pytest.raises(UsageError):
        keyfile.save_private_key(key, target)
    assert not target.exists()
    keyfile.save_private_key(key, target, b"pw", iterations=FAST)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert target.read_bytes().startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----\n")
    first = target.read_bytes()
    with pytest.raises(FileAccessError, match="already exists"):
        keyfile.save_private_key(PrivateKey.generate("tc26-256-B"), target, b"pw", iterations=FAST)
    assert target.read_bytes() == first
    keyfile.save_private_key(key, target, allow_unencrypted=True, overwrite=True)
    assert target.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----\n")
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["key.pem"]  # no temporary file left behind


def test_save_into_missing_directory_is_a_file_error(tmp_path: Path) -> None:
    with pytest.raises(FileAccessError):
        keyfile.save_private_key(PrivateKey.generate("tc26-256-A"), tmp_path / "no" / "k.pem",
                                 allow_unencrypted=True)


def test_empty_password_refused() -> None:
    with pytest.raises(ValueError, match="empty password"):
        keyfile.encrypt_private_key(PrivateKey.generate("tc26-256-A"), b"", iterations=FAST)


# ----------------------------------------------------------------------------------------------------------------
# Malformed and foreign input
# ----------------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def good_pem() -> bytes:
    return keyfile.private_key_pem(PrivateKey.generate("tc26-256-A"), allow_unencrypted=True)


def test_truncated_inputs(good_pem: bytes) -> None:
    der = keyfile.encode_private_key(keyfile.load_private_key(good_pem))
    for bad in (good_pem[:-30], der[:-5], der[:10], good_pem.replace(b"M", b"*", 1), b"", b"hello"):
        with pytest.raises(KeyFileFormatError) as err:
            keyfile.load_private_key(bad)
        assert err.value.code == "key_malformed"
    with pytest.raises(KeyFileFormatError):
        keyfile.load_private_key(A1_GOST89[:-40], b"signagent")


def test_wrong_labels(good_pem: bytes) -> None:
    with pytest.raises(KeyFileFormatError, match="CERTIFICATE"):
        keyfile.load_private_key(good_pem.replace(b"PRIVATE KEY", b"CERTIFICATE"))
    with pytest.raises(NotGostKeyError, match="RSA"):
        keyfile.load_private_key(good_pem.replace(b"PRIVATE KEY", b"RSA PRIVATE KEY"))
    with pytest.raises(NotGostKeyError, match="ECDSA"):
        keyfile.load_private_key(good_pem.replace(b"PRIVATE KEY", b"EC PRIVATE KEY"))


def test_rsa_and_ec_pkcs8_refused() -> None:
    rsa = keys.PrivateKeyInfo({
        "version": 0,
        "private_key_algorithm": {"algorithm": "rsa"},
        "private_key": keys.RSAPrivateKey({
            "version": 0, "modulus": 3233, "public_exponent": 17, "private_exponent": 413, "prime1": 61,
            "prime2": 53, "exponent1": 53, "exponent2": 49, "coefficient": 38,
        }),
    }).dump()
    with pytest.raises(NotGostKeyError, match="RSA") as err:
        keyfile.load_private_key(rsa)
    assert err.value.code == "key_not_gost"
    ec = keys.PrivateKeyInfo({
        "version": 0,
        "private_key_algorithm": {"algorithm": "ec", "parameters": keys.ECDomainParameters(name="named",
                                                                                            value="secp256r1")},
        "private_key": keys.ECPrivateKey({"version": "ecPrivkeyVer1", "private_key": 5}),
    }).dump()
    with pytest.raises(NotGostKeyError, match="ECDSA"):
        keyfile.load_private_key(ec)


def test_bad_gost_contents() -> None:
    params256 = {"public_key_param_set": "1.2.643.7.1.2.1.1.1"}
    with pytest.raises(KeyFileFormatError, match="does not fit"):  # 256-bit algorithm with a 512-bit curve
        keyfile.load_private_key(_info_der(oids.GOST2012_256, {"public_key_param_set": "1.2.643.7.1.2.1.2.1"},
                                           bytes(range(1, 33))))
    with pytest.raises(UnknownAlgorithmError):  # unknown parameter set
        keyfile.load_private_key(_info_der(oids.GOST2012_256, {"public_key_param_set": "1.2.643.7.1.2.1.1.9"},
                                           bytes(range(1, 33))))
    with pytest.raises(KeyFileFormatError):  # 31 raw bytes
        keyfile.load_private_key(_info_der(oids.GOST2012_256, params256, bytes(range(1, 32))))
    with pytest.raises(KeyFileFormatError):  # inner OCTET STRING of the wrong size
        keyfile.load_private_key(_info_der(oids.GOST2012_256, params256, core.OctetString(b"\x01" * 31).dump()))
    with pytest.raises(KeyFileFormatError):  # inner value of another type
        keyfile.load_private_key(_info_der(oids.GOST2012_256, params256, core.UTF8String("x" * 20).dump()))
    with pytest.raises(InvalidKeyError):  # d = 0
        keyfile.load_private_key(_info_der(oids.GOST2012_256, params256, bytes(32)))
    with pytest.raises(InvalidKeyError):  # d = q (0 mod q)
        q = curve("1.2.643.7.1.2.1.1.1").q
        keyfile.load_private_key(_info_der(oids.GOST2012_256, params256, q.to_bytes(32, "little")))
    with pytest.raises(UnknownAlgorithmError, match="2001"):
        keyfile.load_private_key(_info_der(oids.GOST2001, {"public_key_param_set": "1.2.643.2.2.35.1"},
                                           bytes(range(1, 33))))


def test_sources(tmp_path: Path, good_pem: bytes) -> None:
    with pytest.raises(FileAccessError):
        keyfile.load_private_key(tmp_path / "missing.pem")
    with pytest.raises(FileAccessError):
        keyfile.load_private_key(tmp_path)
    with pytest.raises(InvalidTypeError):
        keyfile.load_private_key(12345)  # type: ignore[arg-type]
    cert = b"-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n"
    (tmp_path / "k.pem").write_bytes(b"some text before\n" + cert + good_pem)  # a bundle: its key block is used
    assert keyfile.load_private_key(str(tmp_path / "k.pem")) == keyfile.load_private_key(good_pem)
    if os.geteuid() != 0:  # root reads anything
        (tmp_path / "k.pem").chmod(0)
        with pytest.raises(FileAccessError):
            keyfile.load_private_key(tmp_path / "k.pem")


@pytest.mark.parametrize("head", [b"\x04\x1e", b"\x02\x1e", b"\x04\x1f\x00"])
def test_raw_scalar_that_looks_like_der_is_read_raw(head: bytes) -> None:
    """OpenSSL writes d as 32 raw little-endian bytes; when they happen to start like a TLV of the remaining length
    (04 1E ..., 02 1E ...) they are still the raw scalar, not a nested 30-byte value."""
    c = curve("id-tc26-gost-3410-12-256-paramSetB")
    d_le = (head + bytes(range(7, 7 + 32)))[:32]
    key = PrivateKey.from_bytes(c, d_le)
    der = keyfile.encode_private_key(key)
    assert der.endswith(b"\x04\x20" + d_le)  # the engine layout
    assert keyfile.load_private_key(der).to_bytes() == d_le

"""HMAC_GOSTR3411_2012_256/512 (RFC 7836 §4.1.1) and PBKDF2 with HMAC_GOSTR3411_2012_512 (R 50.1.111-2016).

HMAC known answers come from ``tests/vectors/hmac_streebog.json`` (RFC 7836 Appendix A).  The PBKDF2 known
answers are those of R 50.1.111-2016 (TC 26 recommendations, "Password-based key derivation", test examples of
its appendix; the same values are in the test suites of pygost, gostcrypto and RustCrypto's pbkdf2 crate), with
the RFC 6070 inputs.  OpenSSL's GOST engine (``openssl mac``/``openssl kdf``) and gostcrypto serve as independent
oracles on other inputs.
"""

from __future__ import annotations

import hmac
import json
import random
from pathlib import Path
from typing import Any

import pytest

from signagent.errors import InvalidInputError, InvalidLengthError, InvalidTypeError
from signagent.gost import hmac_streebog
from signagent.gost.pbkdf2 import pbkdf2_streebog512
from signagent.gost.streebog import streebog256, streebog512
from tests.conftest import require
from tests.oracles import openssl_gost as oracle

try:
    import gostcrypto.gosthmac as gc_hmac
except ImportError:
    gc_hmac = None


@pytest.fixture(scope="module")
def hmac_vectors(vectors_dir: Path) -> dict[str, dict[str, Any]]:
    data = json.loads((vectors_dir / "hmac_streebog.json").read_text(encoding="utf-8"))
    return {v["id"]: v for v in data["vectors"]}


# ----------------------------------------------------------------------------------------------------- HMAC


@pytest.mark.parametrize("size", [32, 64])
def test_hmac_known_answers(hmac_vectors: dict[str, dict[str, Any]], size: int) -> None:
    v = hmac_vectors[f"HMAC_GOSTR3411_2012_{size * 8}"]
    key, data, mac = bytes.fromhex(v["key_hex"]), bytes.fromhex(v["data_hex"]), bytes.fromhex(v["mac_hex"])
    function = hmac_streebog.hmac_streebog256 if size == 32 else hmac_streebog.hmac_streebog512
    assert function(key, data) == mac
    assert hmac_streebog.new(key, data, size).digest() == mac
    streamed = hmac_streebog.new(bytearray(key), None, size)
    for i in range(0, len(data), 3):
        streamed.update(data[i : i + 3])
    assert streamed.hexdigest() == v["mac_hex"]
    # The plain stdlib route with our constructors, as DESIGN.md promises
    assert hmac.new(key, data, streebog256 if size == 32 else streebog512).digest() == mac


def test_hmac_object_surface() -> None:
    mac = hmac_streebog.new(b"key", b"msg", 64)
    assert (mac.name, mac.digest_size, mac.block_size) == ("hmac-streebog512", 64, 64)
    twin = mac.copy()
    twin.update(b"more")
    assert mac.digest() == hmac_streebog.hmac_streebog512(b"key", b"msg")
    assert twin.digest() == hmac_streebog.hmac_streebog512(b"key", b"msgmore")


@pytest.mark.parametrize("bad", ["key", None, 5], ids=repr)
def test_hmac_bad_key_type(bad: object) -> None:
    with pytest.raises(InvalidTypeError):
        hmac_streebog.hmac_streebog256(bad, b"msg")  # type: ignore[arg-type]


def test_hmac_bad_message_type_and_size() -> None:
    with pytest.raises(InvalidTypeError):
        hmac_streebog.hmac_streebog512(b"key", "msg")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError):
        hmac_streebog.new(b"key", b"msg", 48)
    with pytest.raises(InvalidTypeError):
        hmac_streebog.new(b"key", b"msg", True)


@pytest.mark.oracle
@pytest.mark.parametrize("size", [32, 64])
@pytest.mark.parametrize("key_len", [1, 32, 63, 64, 65, 200])  # > 64: the key is hashed first (RFC 2104)
def test_hmac_agrees_with_openssl(size: int, key_len: int) -> None:
    require(oracle.available(), f"OpenSSL GOST engine ({oracle.reason()})")
    rng = random.Random(f"hmac:{size}:{key_len}")
    key, msg = rng.randbytes(key_len), rng.randbytes(rng.randrange(300))
    out = oracle.run_cli(
        ["mac", "-digest", f"md_gost12_{size * 8}", "-macopt", f"hexkey:{key.hex()}", "HMAC"], input=msg
    )
    assert out.returncode == 0, out.stderr
    expected = bytes.fromhex(out.stdout.decode().strip())
    assert hmac_streebog.new(key, msg, size).digest() == expected


@pytest.mark.parametrize("size", [32, 64])
def test_hmac_empty_key_by_definition(size: int) -> None:
    # RFC 2104: the empty key is zero-padded to the 64-byte block; no oracle here takes an empty key.
    h = streebog256 if size == 32 else streebog512
    inner = h(b"\x36" * 64 + b"message").digest()
    assert hmac_streebog.new(b"", b"message", size).digest() == h(b"\x5c" * 64 + inner).digest()


@pytest.mark.parametrize("size", [32, 64])
def test_hmac_agrees_with_gostcrypto(size: int) -> None:
    require(gc_hmac is not None, "gostcrypto (pip install gostcrypto==1.2.5)")
    rng = random.Random(f"hmac-gc:{size}")
    for key_len in (1, 32, 64):  # gostcrypto accepts keys up to the block size only
        key, msg = rng.randbytes(key_len), rng.randbytes(rng.randrange(200))
        theirs = gc_hmac.new(f"HMAC_GOSTR3411_2012_{size * 8}", bytearray(key), data=msg).digest()
        assert hmac_streebog.new(key, msg, size).digest() == bytes(theirs)


# --------------------------------------------------------------------------------------------------- PBKDF2

# R 50.1.111-2016 test examples: (password, salt, c, dkLen, DK).
PBKDF2_FAST = [
    (b"password", b"salt", 1, 64,
     "64770af7f748c3b1c9ac831dbcfd85c26111b30a8a657ddc3056b80ca73e040d"
     "2854fd36811f6d825cc4ab66ec0a68a490a9e5cf5156b3a2b7eecddbf9a16b47"),
    (b"password", b"salt", 2, 64,
     "5a585bafdfbb6e8830d6d68aa3b43ac00d2e4aebce01c9b31c2caed56f0236d4"
     "d34b2b8fbd2c4e89d54d46f50e47d45bbac301571743119e8d3c42ba66d348de"),
]  # fmt: skip
PBKDF2_SLOW = [
    (b"password", b"salt", 4096, 64,
     "e52deb9a2d2aaff4e2ac9d47a41f34c20376591c67807f0477e32549dc341bc7"
     "867c09841b6d58e29d0347c996301d55df0d34e47cf68f4e3c2cdaf1d9ab86c3"),
    (b"passwordPASSWORDpassword", b"saltSALTsaltSALTsaltSALTsaltSALTsalt", 4096, 100,
     "b2d8f1245fc4d29274802057e4b54e0a0753aa22fc53760b301cf008679e58fe"
     "4bee9addcae99ba2b0b20f431a9c5e50f395c89387d0945aedeca6eb4015dfc2"
     "bd2421ee9bb71183ba882ceebfef259f33f9e27dc6178cb89dc37428cf9cc52a"
     "2baa2d3a"),
    (b"pass\0word", b"sa\0lt", 4096, 64,
     "50df062885b69801a3c10248eb0a27ab6e522ffeb20c991c660f001475d73a4e"
     "167f782c18e97e92976d9c1d970831ea78ccb879f67068cdac1910740844e830"),
]  # fmt: skip


def _id(case: tuple[bytes, bytes, int, int, str]) -> str:
    return f"{case[0][:12]!r}-c{case[2]}-{case[3]}"


@pytest.mark.parametrize("case", PBKDF2_FAST, ids=_id)
def test_pbkdf2_known_answers(case: tuple[bytes, bytes, int, int, str]) -> None:
    password, salt, iterations, dklen, expected = case
    assert pbkdf2_streebog512(password, salt, iterations, dklen).hex() == expected


@pytest.mark.slow
@pytest.mark.parametrize("case", PBKDF2_SLOW, ids=_id)
def test_pbkdf2_known_answers_4096_iterations(case: tuple[bytes, bytes, int, int, str]) -> None:
    password, salt, iterations, dklen, expected = case
    assert pbkdf2_streebog512(password, salt, iterations, dklen).hex() == expected


def test_pbkdf2_prefix_property_and_bytes_like() -> None:
    long = pbkdf2_streebog512(b"pw", b"salt", 2, 130)  # three PRF blocks, the last one truncated
    assert len(long) == 130
    assert pbkdf2_streebog512(b"pw", b"salt", 2, 1) == long[:1]
    assert pbkdf2_streebog512(bytearray(b"pw"), memoryview(b"salt"), 2, 64) == long[:64]
    assert pbkdf2_streebog512(b"pw", b"salt", 3, 64) != long[:64]


@pytest.mark.oracle
@pytest.mark.parametrize(("iterations", "dklen"), [(1, 1), (1, 63), (2, 65), (3, 100), (5, 129)])
def test_pbkdf2_agrees_with_openssl(iterations: int, dklen: int) -> None:
    require(oracle.available(), f"OpenSSL GOST engine ({oracle.reason()})")
    rng = random.Random(f"pbkdf2:{iterations}:{dklen}")
    password, salt = rng.randbytes(rng.randrange(1, 80)), rng.randbytes(rng.randrange(1, 40))
    out = oracle.run_cli([
        "kdf", "-keylen", str(dklen), "-kdfopt", "digest:md_gost12_512", "-kdfopt", f"hexpass:{password.hex()}",
        "-kdfopt", f"hexsalt:{salt.hex()}", "-kdfopt", f"iter:{iterations}", "PBKDF2",
    ])  # fmt: skip
    assert out.returncode == 0, out.stderr
    expected = bytes.fromhex(out.stdout.decode().strip().replace(":", ""))
    assert pbkdf2_streebog512(password, salt, iterations, dklen) == expected


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (("password", b"salt", 1, 64), InvalidTypeError),
        ((b"password", "salt", 1, 64), InvalidTypeError),
        ((b"password", None, 1, 64), InvalidTypeError),
        ((b"password", b"salt", 0, 64), InvalidInputError),
        ((b"password", b"salt", -5, 64), InvalidInputError),
        ((b"password", b"salt", 1.0, 64), InvalidTypeError),
        ((b"password", b"salt", True, 64), InvalidTypeError),
        ((b"password", b"salt", 1, 0), InvalidLengthError),
        ((b"password", b"salt", 1, -1), InvalidLengthError),
        ((b"password", b"salt", 1, (2**32 - 1) * 64 + 1), InvalidLengthError),
        ((b"password", b"salt", 1, "64"), InvalidTypeError),
    ],
)
def test_pbkdf2_rejects_bad_arguments(args: tuple[Any, ...], error: type[Exception]) -> None:
    with pytest.raises(error):
        pbkdf2_streebog512(*args)

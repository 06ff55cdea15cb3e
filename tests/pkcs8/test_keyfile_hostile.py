"""Hostile key files (issue 10, defects 5, 6 and 11): every size a PBES2 key file declares is bounded before any
work is done, no declared integer reaches a message through str(), and an interrupted write leaves no temporary
key file."""

from __future__ import annotations

import pytest
from asn1crypto import algos, core, keys

from signagent.errors import InputTooLargeError, InvalidInputError, KdfIterationsError
from signagent.gost import PrivateKey, curve
from signagent.pkcs8 import keyfile, pbes2
from signagent.pkcs8.keyfile import KeyFileFormatError
from tests.der import children, read, tlv

HUGE = 10**20000  # beyond Python's 4,300-digit str() limit
STREEBOG512_PRF = "1.2.643.7.1.1.4.2"


@pytest.fixture(scope="module")
def key() -> PrivateKey:
    return PrivateKey.generate(curve("tc26-256-A"))


@pytest.fixture(scope="module")
def encrypted(key: PrivateKey) -> bytes:
    return keyfile.encrypt_private_key(key, "pw", iterations=1000)


def _with_kdf(encrypted: bytes, *, iterations: int = 1000, salt: bytes | None = None,
              key_length: int | None = None) -> bytes:
    """``encrypted`` with its PBKDF2 parameters replaced (the ciphertext kept)."""
    info = keys.EncryptedPrivateKeyInfo.load(encrypted)
    params = info["encryption_algorithm"]["parameters"]
    old = params["key_derivation_func"]["parameters"]
    kdf = {"salt": algos.Pbkdf2Salt(name="specified", value=salt if salt is not None else old["salt"].chosen.native),
           "iteration_count": iterations, "prf": {"algorithm": STREEBOG512_PRF, "parameters": core.Null()}}
    if key_length is not None:
        kdf["key_length"] = key_length
    return keys.EncryptedPrivateKeyInfo({
        "encryption_algorithm": {"algorithm": "pbes2", "parameters": {
            "key_derivation_func": {"algorithm": "pbkdf2", "parameters": kdf},
            "encryption_scheme": params["encryption_scheme"]}},
        "encrypted_data": info["encrypted_data"].native,
    }).dump()


@pytest.fixture
def no_derivation(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any key derivation fails the test: the checks must come before the work."""
    def forbidden(*_args: object) -> bytes:
        raise AssertionError("PBKDF2 ran for a key file that declares out-of-bounds parameters")
    monkeypatch.setattr(pbes2, "pbkdf2_streebog512", forbidden)


def test_the_iteration_ceiling_sits_well_above_real_keys_and_far_below_ten_million():
    assert 20 * 2048 <= pbes2.DEFAULT_ITERATIONS <= pbes2.MAX_ITERATIONS <= 1_000_000


@pytest.mark.usefixtures("no_derivation")
@pytest.mark.parametrize("iterations", [10_000_000, pbes2.MAX_ITERATIONS + 1, HUGE], ids=["10M", "ceiling+1", "huge"])
def test_too_many_iterations_are_refused_before_any_derivation(encrypted, iterations):
    # Unfixed, 10,000,000 rounds ran for 95 s before "wrong password"; 20,000 digits crashed the message.
    with pytest.raises(KdfIterationsError) as info:
        keyfile.load_private_key(_with_kdf(encrypted, iterations=iterations), "pw")
    assert info.value.code == "kdf_iterations_too_high"
    assert len(info.value.message) < 300


@pytest.mark.usefixtures("no_derivation")
def test_a_huge_salt_is_refused_before_any_derivation(encrypted):
    with pytest.raises(InputTooLargeError, match="salt"):
        keyfile.load_private_key(_with_kdf(encrypted, salt=b"s" * 100_000), "pw")


@pytest.mark.usefixtures("no_derivation")
@pytest.mark.parametrize("value", [HUGE, -HUGE, 33], ids=["huge", "-huge", "33"])
def test_a_declared_key_length_that_does_not_fit_is_refused(encrypted, value):
    with pytest.raises(InvalidInputError, match="key length") as info:
        keyfile.load_private_key(_with_kdf(encrypted, key_length=value), "pw")
    assert "Exceeds the limit" not in info.value.message


def test_a_negative_huge_iteration_count_is_malformed(encrypted):
    with pytest.raises(InvalidInputError, match="not positive") as info:
        keyfile.load_private_key(_with_kdf(encrypted, iterations=-HUGE), "pw")
    assert "integer)" in info.value.message


def test_keys_at_the_ceiling_still_load(key, encrypted):
    assert keyfile.load_private_key(_with_kdf(encrypted), "pw") == key  # 1,000 rounds, as before
    at_ceiling = keyfile.encrypt_private_key(key, "pw", iterations=pbes2.MAX_ITERATIONS)
    assert keyfile.load_private_key(at_ceiling, "pw") == key


def test_we_never_write_what_we_would_refuse_to_read(key):
    with pytest.raises(InvalidInputError, match="iteration"):
        keyfile.encrypt_private_key(key, "pw", iterations=pbes2.MAX_ITERATIONS + 1)


def test_a_huge_pkcs8_version_is_a_format_error(key):
    plain = keyfile.encode_private_key(key)
    _, content, _ = read(plain)
    rest = b"".join(tlv(tag, value) for tag, value in children(content)[1:])
    with pytest.raises(KeyFileFormatError, match="unknown PKCS#8 version") as info:
        keyfile.load_private_key(tlv(0x30, core.Integer(HUGE).dump() + rest))
    assert len(info.value.message) < 300


def test_an_interrupted_write_leaves_no_temporary_key_file(key, tmp_path, monkeypatch):
    # SIGINT/SIGTERM arrive as exceptions (KeyboardInterrupt, or SystemExit from the CLI's handler).
    def interrupted(*_args: object) -> int:
        raise KeyboardInterrupt
    monkeypatch.setattr(keyfile.os, "write", interrupted)
    with pytest.raises(KeyboardInterrupt):
        keyfile.save_private_key(key, tmp_path / "key.pem", "pw")
    assert list(tmp_path.iterdir()) == []

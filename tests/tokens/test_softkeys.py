"""signagent.tokens.softkeys: a directory of PKCS#8 key files and certificates, listed and used like a token."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from signagent.errors import InvalidLengthError
from signagent.gost import streebog256, streebog512
from signagent.pkcs8.keyfile import load_private_key, private_key_pem
from signagent.testpki import generate
from signagent.tokens.errors import KeyNotFoundError, PinIncorrectError, PinRequiredError
from signagent.tokens.protocol import StaticPinProvider, Token, TokenKey
from signagent.tokens.signer import TokenSigner
from signagent.tokens.softkeys import SoftKeyDirectory, default_keys_dir

PASSWORD = b"correct horse"


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory):
    return generate(tmp_path_factory.mktemp("softkeys-pki"))


@pytest.fixture
def keys(pki, tmp_path: Path) -> Path:
    """head: plain key + PEM certificate; root (512-bit): encrypted key + DER certificate; employee: certificate only;
    ip: the employee's key under the ip's name; plus a broken certificate file and an unrelated file."""
    d = tmp_path / "keys"
    d.mkdir()
    shutil.copy(pki["head"].paths["key"], d / "head.key")
    shutil.copy(pki["head"].paths["pem"], d / "head.crt")
    (d / "root.key").write_bytes(private_key_pem(pki["root"].key, PASSWORD, iterations=1000))
    shutil.copy(pki["root"].paths["der"], d / "root.der")
    shutil.copy(pki["employee"].paths["pem"], d / "employee.pem")
    shutil.copy(pki["employee"].paths["key"], d / "ip.key")
    shutil.copy(pki["ip"].paths["der"], d / "ip.cer")
    (d / "broken.crt").write_bytes(b"not a certificate")
    (d / "notes.txt").write_text("ignored")
    return d


def test_default_directory(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SIGNAGENT_KEYS_DIR", str(tmp_path / "elsewhere"))
    assert default_keys_dir() == tmp_path / "elsewhere"
    assert SoftKeyDirectory(load_private_key).directory == tmp_path / "elsewhere"
    monkeypatch.delenv("SIGNAGENT_KEYS_DIR")
    assert default_keys_dir().parts[-2:] == ("signagent", "keys")
    missing = SoftKeyDirectory(load_private_key, tmp_path / "nothing-here")
    assert missing.certificates() == [] and missing.skipped == []


def test_listing_like_a_token(keys: Path, pki) -> None:
    directory = SoftKeyDirectory(load_private_key, keys)
    assert isinstance(directory, Token)
    listed = {e.label: e for e in directory.certificates()}
    assert sorted(listed) == ["employee", "head", "ip", "root"]
    assert listed["head"].has_private_key and listed["root"].has_private_key and listed["ip"].has_private_key
    assert not listed["employee"].has_private_key
    assert listed["head"].certificate.der == pki["head"].paths["der"].read_bytes()
    assert listed["head"].cert_id == listed["head"].certificate.streebog_thumbprint
    ((skipped_path, code),) = [(s.path.name, s.code) for s in directory.skipped]
    assert skipped_path == "broken.crt" and code == "certificate_malformed"
    assert directory.find_key(listed["head"].cert_id) == b"head"
    assert directory.find_key(listed["employee"].cert_id) is None
    info = directory.info()
    assert info.source == str(keys) and info.serial == directory.serial and len(info.serial) == 16
    assert SoftKeyDirectory(load_private_key, keys).serial == info.serial  # stable across instances


def test_signing_with_a_plain_key(keys: Path) -> None:
    directory = SoftKeyDirectory(load_private_key, keys)
    head = next(e for e in directory.certificates() if e.label == "head")
    digest = streebog256(b"registration request").digest()
    provider = StaticPinProvider(b"unused")
    signature = directory.sign_digest_with_key(head.key, digest, provider)
    public = head.certificate.public_key()
    assert public.verify_digest(digest, signature)
    assert not public.verify_digest(streebog256(b"another").digest(), signature)
    assert provider.calls == 0  # a plain key file needs no password
    # Through the CMS signer adapter too.
    signer = TokenSigner(directory, head, provider)
    assert public.verify_digest(digest, signer.sign_digest(digest))
    assert public.verify_digest(digest, signer.sign_message(b"registration request"))
    with pytest.raises(InvalidLengthError):
        directory.sign_digest_with_key(head.key, streebog512(b"x").digest(), provider)


def test_encrypted_key_asks_the_pin_provider(keys: Path) -> None:
    directory = SoftKeyDirectory(load_private_key, keys)
    root = next(e for e in directory.certificates() if e.label == "root")
    digest = streebog512(b"512-bit key").digest()
    provider = StaticPinProvider(PASSWORD)
    signature = directory.sign_digest_with_key(root.key, digest, provider)
    assert provider.calls == 1 and len(signature) == 128
    assert root.certificate.public_key().verify_digest(digest, signature)
    with pytest.raises(PinIncorrectError) as wrong:
        directory.sign_digest_with_key(root.key, digest, StaticPinProvider(b"wrong password"))
    assert wrong.value.code == "pin_incorrect" and wrong.value.tries_left is None
    with pytest.raises(PinRequiredError):
        directory.sign_digest_with_key(root.key, digest, StaticPinProvider(None))


def test_missing_or_mismatched_key(keys: Path) -> None:
    directory = SoftKeyDirectory(load_private_key, keys)
    listed = {e.label: e for e in directory.certificates()}
    digest = streebog256(b"x").digest()
    provider = StaticPinProvider(None)
    with pytest.raises(KeyNotFoundError):
        directory.sign_digest_with_key(listed["employee"].key, digest, provider)  # certificate without a key file
    with pytest.raises(KeyNotFoundError, match="does not hold the certificate's key"):
        directory.sign_digest_with_key(listed["ip"].key, digest, provider)  # ip.key holds the employee's key
    head_key = listed["head"].key.public_key
    for stem in (b"nosuch", b"../" + keys.name.encode() + b"/head"):  # an id names a file of the directory only
        with pytest.raises(KeyNotFoundError):
            directory.sign_digest_with_key(TokenKey(stem, head_key), digest, provider)

"""signagent.tokens.pkcs15: certificates, VERIFY and GOST signing over APDUs.

Most tests talk to the simulator's card object directly (its APDU answers, no PC/SC in between: fast and
deterministic); the last ones go through a real pcscd + vpcd with the card served in a reader, as a user's card
would be. The simulator's card is an independent implementation of the same standards (and OpenSC's pkcs15-tool
reads it too, see tests/pkcs11_sim/test_pcsc.py).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest

from pkcs11_sim.pcsc.card import Card
from pkcs11_sim.pcsc.server import start, stop
from pkcs11_sim.provision import Provisioned, provision
from pkcs11_sim.store import SimRoot
from signagent.errors import CertificateFormatError, InvalidLengthError
from signagent.gost import streebog256, streebog512
from signagent.testpki import generate
from signagent.tokens.errors import (
    KeyNotFoundError,
    PinIncorrectError,
    PinLockedError,
    PinRequiredError,
    TokenRemovedError,
)
from signagent.tokens.pkcs15 import Pkcs15Card, Pkcs15Error, Pkcs15Token, read_certificates
from signagent.tokens.protocol import StaticPinProvider, Token, TokenKey
from signagent.x509 import Certificate
from tests.pkcs11_sim.test_pcsc import _wait_state, pcscd  # noqa: F401  (the session fixture, reused)

PIN, SO = b"12345678", b"87654321"
READER = 1


class DirectConnection:
    """The subset of signagent.tokens.pcsc.CardConnection that Pkcs15Card uses, straight onto the sim's card."""

    def __init__(self, answer) -> None:
        self.answer = answer
        self.sent: list[bytes] = []

    def transmit(self, apdu: bytes) -> tuple[bytes, int]:
        self.sent.append(bytes(apdu))
        response = self.answer(bytes(apdu))
        return response[:-2], int.from_bytes(response[-2:], "big")

    @contextlib.contextmanager
    def transaction(self) -> Iterator[DirectConnection]:
        yield self

    def close(self) -> None:
        pass


@pytest.fixture(scope="module")
def tokens(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Provisioned]:
    base = tmp_path_factory.mktemp("tokens-pkcs15")
    generate(base / "pki")
    root = SimRoot(base / "sim")
    return {
        "head": provision(root, label="p15-head", pin=PIN, so_pin=SO, profile="head", pki_dir=base / "pki"),
        "ip": provision(root, label="p15-ip", pin=PIN, so_pin=SO, profile="ip", pki_dir=base / "pki"),
    }


def card_for(made: Provisioned) -> Pkcs15Card:
    sim = Card(made.store)
    sim.reset()
    return Pkcs15Card(DirectConnection(sim.transmit))


def test_certificates_equal_the_provisioned_ones(tokens: dict[str, Provisioned]) -> None:
    for made in tokens.values():
        card = card_for(made)
        (found,) = card.certificates()
        assert isinstance(found.certificate, Certificate)
        assert found.certificate.der == made.certificate.read_bytes()
        assert found.key_id == made.key_id and found.label == made.entity
        assert found.source == "certificates" and not found.authority
        info = card.token_info()
        assert info.serial == made.store.serial and info.label == made.store.label and info.manufacturer


def test_certificate_longer_than_one_read_binary(tokens: dict[str, Provisioned]) -> None:
    card = card_for(tokens["head"])
    card.certificates()
    reads = [a for a in card.connection.sent if a[1] == 0xB0]
    assert len(reads) >= 3  # ODF, CDF, and a certificate over 256 bytes in several pieces at rising offsets
    assert len(tokens["head"].certificate.read_bytes()) > 256


def test_wrong_pin_reports_tries_left_then_the_right_one_resets(tokens: dict[str, Provisioned]) -> None:
    made = tokens["head"]
    full = made.store.pin_status("user")["max_tries"]
    card = card_for(made)
    assert card.pin_tries_left() == full
    with pytest.raises(PinIncorrectError) as err:
        card.verify_pin("00000000")
    assert err.value.tries_left == full - 1 and err.value.code == "pin_incorrect"
    assert err.value.to_dict()["details"]["tries_left"] == str(full - 1)
    assert str(full - 1) in err.value.message_ru
    with pytest.raises(PinIncorrectError) as err:
        card.verify_pin(b"11111111")
    assert err.value.tries_left == full - 2 == card.pin_tries_left()
    card.verify_pin(PIN.decode())
    assert card.pin_tries_left() is None  # verified in this card session
    assert made.store.pin_status("user")["tries_left"] == full


def test_locked_pin(tokens: dict[str, Provisioned]) -> None:
    made = tokens["ip"]
    made.store.lock_pin("user")
    try:
        card = card_for(made)
        with pytest.raises(PinLockedError):
            card.verify_pin(PIN)
        with pytest.raises(PinLockedError):
            card.pin_tries_left()
    finally:
        made.store.unblock(SO, PIN)


@pytest.mark.parametrize("entity", ["head", "ip"])
def test_signature_over_apdus_verifies(tokens: dict[str, Provisioned], entity: str) -> None:
    made = tokens[entity]
    card = card_for(made)
    (found,) = card.certificates()
    key = found.certificate.public_key()
    hasher = streebog256 if key.curve.size == 32 else streebog512
    digest = hasher(b"head registration request").digest()
    with pytest.raises(PinRequiredError):
        card.compute_digital_signature(found.key_id, digest)
    signature = card.compute_digital_signature(found.key_id, digest, pin=PIN)
    assert len(signature) == 2 * key.curve.size
    assert key.verify_digest(digest, signature)
    assert not key.verify_digest(hasher(b"another request").digest(), signature)
    with pytest.raises(InvalidLengthError):
        card.compute_digital_signature(found.key_id, digest[:20])
    with pytest.raises(Pkcs15Error, match="6A88"):
        card.compute_digital_signature(b"\xde\xad", digest)  # no such key reference


def test_card_without_pkcs15_application() -> None:
    card = Pkcs15Card(DirectConnection(lambda apdu: b"\x6a\x82"))
    with pytest.raises(Pkcs15Error) as err:
        card.certificates()
    assert err.value.code == "pkcs15_error" and "6A82" in err.value.message


def test_malformed_files_are_typed_errors(tokens: dict[str, Provisioned]) -> None:
    sim = Card(tokens["head"].store)

    def answer(apdu: bytes) -> bytes:
        if apdu[1] == 0xB0 and sim._selection is not None and sim._selection.ef is not None \
                and sim._selection.ef.fid == 0x5031:
            return b"\x30\x05\x01\x02" + b"\x90\x00"  # a truncated record in EF.ODF
        return sim.transmit(apdu)

    with pytest.raises(Pkcs15Error, match="malformed"):
        Pkcs15Card(DirectConnection(answer)).certificates()

    def bad_cert(apdu: bytes) -> bytes:
        response = sim.transmit(apdu)
        if apdu[1] == 0xB0 and sim._selection is not None and sim._selection.ef is not None \
                and sim._selection.ef.fid == 0x4701:
            return b"\x30\x03\x02\x01\x01\x90\x00"  # not a certificate
        return response

    with pytest.raises(CertificateFormatError):
        Pkcs15Card(DirectConnection(bad_cert)).certificates()


# --- through pcscd ------------------------------------------------------------------------------------------------
@pytest.fixture
def served(pcscd: None, tokens: dict[str, Provisioned]) -> Iterator[tuple[str, Provisioned]]:  # noqa: F811
    made = tokens["head"]
    reader = f"Virtual PCD 00 {READER:02d}"
    start(made.store, READER, others=[t.store for t in tokens.values()])
    _wait_state(reader, True)
    yield reader, made
    stop(made.store)
    _wait_state(reader, False)


def test_through_pcscd_read_verify_sign(served: tuple[str, Provisioned]) -> None:
    reader, made = served
    (found,) = read_certificates(reader)
    assert found.certificate.der == made.certificate.read_bytes()
    full = made.store.pin_status("user")["max_tries"]
    with Pkcs15Card.open(reader) as card:
        with pytest.raises(PinIncorrectError) as err:
            card.verify_pin(b"wrong")
        assert err.value.tries_left == full - 1
        digest = streebog256(b"over PC/SC").digest()
        key = found.certificate.public_key()
        if key.curve.size == 64:
            digest = streebog512(b"over PC/SC").digest()
        signature = card.compute_digital_signature(found.key_id, digest, pin=PIN)
        assert key.verify_digest(digest, signature)
    assert made.store.pin_status("user")["tries_left"] == full


def test_card_as_a_token(served: tuple[str, Provisioned]) -> None:
    reader, made = served
    token = Pkcs15Token(reader)
    assert isinstance(token, Token)
    assert (token.label, token.serial, token.model) == (made.store.label, made.store.serial, "pkcs11-sim virtual card")
    assert token.info().source == reader
    (entry,) = token.certificates()
    assert entry.certificate.der == made.certificate.read_bytes() and entry.has_private_key
    assert token.find_key(entry.cert_id) == made.key_id and token.find_key("00" * 32) is None
    key = entry.certificate.public_key()
    digest = (streebog256 if key.curve.size == 32 else streebog512)(b"token protocol").digest()
    with pytest.raises(PinRequiredError):
        token.sign_digest_with_key(entry.key, digest, StaticPinProvider(None))  # the user declined
    provider = StaticPinProvider(PIN)
    assert key.verify_digest(digest, token.sign_digest_with_key(entry.key, digest, provider))
    assert provider.calls == 1
    with pytest.raises(KeyNotFoundError):
        token.sign_digest_with_key(TokenKey(b"\xde\xad", key), digest, provider)  # no such key reference
    with pytest.raises(PinIncorrectError) as err:
        token.sign_digest_with_key(entry.key, digest, StaticPinProvider(b"bad"))
    assert err.value.tries_left == made.store.pin_status("user")["max_tries"] - 1
    token.sign_digest_with_key(entry.key, digest, provider)  # the right PIN resets the counter
    # The card pulled out: the next call is token_removed (retriable), not a crash.
    stop(made.store)
    _wait_state(reader, False)
    with pytest.raises(TokenRemovedError) as gone:
        token.certificates()
    assert gone.value.retriable
    with pytest.raises(TokenRemovedError):
        Pkcs15Token(reader)

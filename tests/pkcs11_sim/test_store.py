"""The simulator's token store: round trips through the file, PIN hashing and counters, key sealing, presence,
faults, and visibility of one process's changes to another."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from pkcs11_sim import constants as C
from pkcs11_sim.attributes import TRUE, ulong
from pkcs11_sim.errors import CkrError
from pkcs11_sim.provision import store_key_pair
from pkcs11_sim.sealing import SealError, seal, unseal
from pkcs11_sim.store import SimRoot, TokenExistsError, TokenNotFoundError, TokenStore
from signagent.gost import PrivateKey, curve

PIN, SO_PIN = b"12345678", b"87654321"


@pytest.fixture
def root(tmp_path: Path) -> SimRoot:
    return SimRoot(tmp_path / "sim")


def _rv(call, *args) -> int:
    with pytest.raises(CkrError) as info:
        call(*args)
    return info.value.rv


def test_create_and_read_back(root: SimRoot) -> None:
    store = root.create("Рутокен тест", SO_PIN, PIN, model="Rutoken ECP", retries=5)
    state = json.loads((store.path / "token.json").read_text())
    assert state["label"] == "Рутокен тест" and state["model"] == "Rutoken ECP" and state["slot_id"] == 0
    assert state["pins"]["user"]["kdf"] == {"name": "scrypt", "log2_n": 15, "r": 8, "p": 1} == state["pin_kdf"]
    assert state["pins"]["user"]["max_tries"] == 5 and state["pins"]["so"]["max_tries"] == 5
    # the PIN is stored as the scrypt verifier (RFC 7914), never in clear
    rec = state["pins"]["user"]
    derived = hashlib.scrypt(PIN, salt=bytes.fromhex(rec["salt"]), n=2**15, r=8, p=1, dklen=96, maxmem=64 << 20)
    assert rec["verifier"] == derived[:32].hex()
    assert PIN.hex() not in (store.path / "token.json").read_text()
    assert state["pins"]["so"]["salt"] != rec["salt"]
    again = SimRoot(root.path).find("Рутокен тест")
    assert again.serial == store.serial and again.slot_id == 0
    second = root.create("second", SO_PIN, None, kdf_log2_n=4)
    assert second.slot_id == 1 and second.pin_status("user") is None
    assert [s.label for s in root.tokens()] == ["Рутокен тест", "second"]
    with pytest.raises(TokenExistsError):
        root.create("second", SO_PIN, PIN)
    with pytest.raises(TokenNotFoundError):
        root.find("missing")
    assert not list(root.path.glob("**/*.tmp")) and not list(root.path.glob(".new-*"))


def test_slot_ids_are_reused_after_delete(root: SimRoot) -> None:
    for label in ("a", "b", "c"):
        root.create(label, SO_PIN, PIN, kdf_log2_n=4)
    root.delete("b")
    assert [s.slot_id for s in root.tokens()] == [0, 2]
    assert root.create("d", SO_PIN, PIN, kdf_log2_n=4).slot_id == 1
    with pytest.raises(TokenNotFoundError):
        root.delete("b")


def test_pin_counters(root: SimRoot) -> None:
    store = root.create("t", SO_PIN, PIN, retries=3, kdf_log2_n=4)
    token_key = store.check_pin("user", PIN)
    assert len(token_key) == 64
    assert _rv(store.check_pin, "user", b"wrong-pin") == C.CKR_PIN_INCORRECT
    assert store.pin_status("user") == {"tries_left": 2, "max_tries": 3}
    assert store.token_flags() & C.CKF_USER_PIN_COUNT_LOW
    assert store.check_pin("user", PIN) == token_key  # reset to 3
    for _ in range(3):
        assert _rv(store.check_pin, "user", b"wrong-pin") == C.CKR_PIN_INCORRECT
    assert _rv(store.check_pin, "user", PIN) == C.CKR_PIN_LOCKED
    assert store.token_flags() & C.CKF_USER_PIN_LOCKED
    store.unblock(SO_PIN, b"fresh-pin")
    assert store.check_pin("user", b"fresh-pin") == token_key
    assert store.pin_status("user") == {"tries_left": 3, "max_tries": 3}
    assert _rv(store.change_pin, "user", b"fresh-pin", b"x") == C.CKR_PIN_LEN_RANGE
    assert _rv(store.check_pin, "so", b"bad-so-pin") == C.CKR_PIN_INCORRECT
    assert store.token_flags() & C.CKF_SO_PIN_COUNT_LOW


def test_private_key_sealed_and_kept_across_pin_changes(root: SimRoot) -> None:
    store = root.create("t", SO_PIN, PIN, kdf_log2_n=4)
    key = PrivateKey.generate(curve("tc26-256-A"))
    token_key = store.check_pin("user", PIN)
    priv_uid, pub_uid = store_key_pair(store, token_key, key, key_id=b"\x01", label="k", generated=True)
    text = (store.path / "token.json").read_text()
    assert key.to_bytes().hex() not in text  # d is only stored sealed
    assert key.public_key().to_bytes().hex() in text
    obj = store.objects()[priv_uid]
    assert C.CKA_VALUE in obj.sealed and C.CKA_VALUE not in obj.attrs
    assert obj.attrs[C.CKA_CLASS] == ulong(C.CKO_PRIVATE_KEY) and obj.attrs[C.CKA_LOCAL] == TRUE
    store.change_pin("user", PIN, b"second-pin")
    assert store.reveal(priv_uid, C.CKA_VALUE, store.check_pin("user", b"second-pin")) == key.to_bytes()
    store.change_pin("so", SO_PIN, b"second-so")
    store.unblock(b"second-so", b"third-pin")
    assert store.reveal(priv_uid, C.CKA_VALUE, store.check_pin("user", b"third-pin")) == key.to_bytes()
    assert _rv(store.reveal, priv_uid, C.CKA_VALUE, bytes(64)) == C.CKR_DEVICE_ERROR
    assert _rv(store.reveal, pub_uid, C.CKA_VALUE, token_key) == C.CKR_OBJECT_HANDLE_INVALID


def test_sealing() -> None:
    key = bytes(range(64))
    sealed = seal(key, b"secret scalar" * 10, b"where")
    assert unseal(key, sealed, b"where") == b"secret scalar" * 10
    assert sealed[16:-32] != b"secret scalar" * 10
    assert seal(key, b"x", b"where") != seal(key, b"x", b"where")  # fresh nonce
    with pytest.raises(SealError):
        unseal(key, sealed, b"elsewhere")
    tampered = bytearray(sealed)
    tampered[20] ^= 1
    with pytest.raises(SealError):
        unseal(key, bytes(tampered), b"where")
    with pytest.raises(SealError):
        unseal(bytes(64), sealed, b"where")


def test_changes_are_seen_by_another_store_object(root: SimRoot) -> None:
    store = root.create("t", SO_PIN, PIN, kdf_log2_n=4)
    other = TokenStore(store.path)  # as in another process
    assert other.load()["present"] is True
    generation = other.load()["generation"]
    store.set_present(False)
    assert other.load()["present"] is False and other.load()["presence_epoch"] == 1
    assert other.load()["generation"] == generation + 1
    store.set_present(False)  # no change, no write
    assert other.load()["generation"] == generation + 1
    uid = store.add_object({C.CKA_CLASS: ulong(C.CKO_DATA), C.CKA_LABEL: b"d"})
    assert other.objects()[uid].attrs[C.CKA_LABEL] == b"d"
    other.set_attributes(uid, {C.CKA_LABEL: b"renamed"})
    assert store.objects()[uid].attrs[C.CKA_LABEL] == b"renamed"
    store.delete_object(uid)
    assert uid not in other.objects()
    assert _rv(other.delete_object, uid) == C.CKR_OBJECT_HANDLE_INVALID


def test_faults(root: SimRoot) -> None:
    store = root.create("t", SO_PIN, PIN, kdf_log2_n=4)
    assert store.take_fault() == (None, 0)
    store.set_faults(fail_next=2, ckr=C.CKR_TOKEN_NOT_RECOGNIZED, latency_ms=30)
    assert store.take_fault() == (C.CKR_TOKEN_NOT_RECOGNIZED, 30)
    assert store.take_fault() == (C.CKR_TOKEN_NOT_RECOGNIZED, 30)
    assert store.take_fault() == (None, 30)
    store.set_faults(clear=True)
    assert store.take_fault() == (None, 0)
    store.lock_pin("user")
    assert _rv(store.check_pin, "user", PIN) == C.CKR_PIN_LOCKED


def test_deleted_token_reads_as_not_present(root: SimRoot) -> None:
    store = root.create("t", SO_PIN, PIN, kdf_log2_n=4)
    root.delete("t")
    assert not store.exists()
    assert _rv(store.load) == C.CKR_TOKEN_NOT_PRESENT


def test_reinitialize(root: SimRoot) -> None:
    store = root.create("t", SO_PIN, PIN, kdf_log2_n=4)
    store.add_object({C.CKA_CLASS: ulong(C.CKO_DATA)})
    assert _rv(store.reinitialize, b"not-the-so", "new") == C.CKR_PIN_INCORRECT
    store.reinitialize(SO_PIN, "new")
    assert store.label == "new" and store.objects() == {} and store.pin_status("user") is None
    assert _rv(store.check_pin, "user", PIN) == C.CKR_USER_PIN_NOT_INITIALIZED
    store.check_pin("so", SO_PIN)

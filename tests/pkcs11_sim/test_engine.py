"""PKCS#11 semantics of the simulator's engine, in process: every CKR code from a purpose-made misuse, the GOST
mechanisms (signatures checked with signagent.gost), PIN counters and flags, presence, faults."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest

from pkcs11_sim import constants as C
from pkcs11_sim.attributes import FALSE, TRUE, oid_der, ulong
from pkcs11_sim.engine import Engine
from pkcs11_sim.errors import CkrError
from pkcs11_sim.store import SimRoot
from signagent.gost import PrivateKey, PublicKey, curve, streebog256, streebog512

PIN, SO_PIN = b"12345678", b"87654321"
RW = C.CKF_SERIAL_SESSION | C.CKF_RW_SESSION
RO = C.CKF_SERIAL_SESSION
TC26_256_A = "1.2.643.7.1.2.1.1.1"
TC26_512_A = "1.2.643.7.1.2.1.2.1"


def _rv(call, *args) -> int:
    with pytest.raises(CkrError) as info:
        call(*args)
    return info.value.rv


@pytest.fixture
def root(tmp_path: Path) -> SimRoot:
    r = SimRoot(tmp_path / "sim")
    r.create("token", SO_PIN, PIN, retries=3, kdf_log2_n=6)
    return r


@pytest.fixture
def engine(root: SimRoot):
    e = Engine(root.path)
    e.initialize()
    yield e
    e.finalize()


def _user_session(engine: Engine, flags: int = RW) -> int:
    s = engine.open_session(0, flags)
    engine.login(s, C.CKU_USER, PIN)
    return s


def _keypair(engine: Engine, s: int, oid: str = TC26_256_A, token: bool = True) -> tuple[int, int]:
    mech = C.CKM_GOSTR3410_KEY_PAIR_GEN if curve(oid).size == 32 else C.CKM_GOSTR3410_512_KEY_PAIR_GEN
    flag = TRUE if token else FALSE
    return engine.generate_key_pair(s, mech, None,
                                    [(C.CKA_TOKEN, flag), (C.CKA_GOSTR3410_PARAMS, oid_der(oid)), (C.CKA_ID, b"k1")],
                                    [(C.CKA_TOKEN, flag), (C.CKA_ID, b"k1")])


def _public(engine: Engine, s: int, handle: int) -> PublicKey:
    rv, (value, params) = engine.get_attribute_value(s, handle, [C.CKA_VALUE, C.CKA_GOSTR3410_PARAMS])
    assert rv == C.CKR_OK
    from pkcs11_sim.attributes import oid_dotted

    return PublicKey.from_bytes(curve(oid_dotted(params)), value)


# --------------------------------------------------------------------------------------------- general and slots
def test_initialize_rules(root: SimRoot) -> None:
    e = Engine(root.path)
    assert _rv(e.get_slot_list, True) == C.CKR_CRYPTOKI_NOT_INITIALIZED
    e.initialize()
    assert _rv(e.initialize) == C.CKR_CRYPTOKI_ALREADY_INITIALIZED
    info = e.get_info()
    assert info["cryptoki_version"] == (2, 40) and info["manufacturer_id"]
    e.finalize()
    assert _rv(e.finalize) == C.CKR_CRYPTOKI_NOT_INITIALIZED


def test_slots_tokens_and_mechanisms(engine: Engine, root: SimRoot) -> None:
    assert engine.get_slot_list(True) == [0]
    slot = engine.get_slot_info(0)
    assert slot["flags"] & C.CKF_TOKEN_PRESENT and slot["flags"] & C.CKF_REMOVABLE_DEVICE
    token = engine.get_token_info(0)
    assert token["label"] == "token" and len(token["serial_number"]) == 16
    want = C.CKF_RNG | C.CKF_LOGIN_REQUIRED | C.CKF_USER_PIN_INITIALIZED | C.CKF_TOKEN_INITIALIZED
    assert token["flags"] == want
    mechs = engine.get_mechanism_list(0)
    for m in (C.CKM_GOSTR3410_KEY_PAIR_GEN, C.CKM_GOSTR3410_512_KEY_PAIR_GEN, C.CKM_GOSTR3410, C.CKM_GOSTR3410_512,
              C.CKM_GOSTR3410_WITH_GOSTR3411_12_256, C.CKM_GOSTR3410_WITH_GOSTR3411_12_512,
              C.CKM_GOSTR3411_12_256, C.CKM_GOSTR3411_12_512):
        assert m in mechs
    assert engine.get_mechanism_info(0, C.CKM_GOSTR3410_512) == (512, 512, C.CKF_SIGN | C.CKF_VERIFY)
    assert _rv(engine.get_mechanism_info, 0, 0x1) == C.CKR_MECHANISM_INVALID  # CKM_RSA_PKCS
    assert _rv(engine.get_slot_info, 7) == C.CKR_SLOT_ID_INVALID
    assert _rv(engine.open_session, 7, RW) == C.CKR_SLOT_ID_INVALID
    root.create("second", SO_PIN, PIN, kdf_log2_n=6)
    assert engine.get_slot_list(False) == [0, 1]


# --------------------------------------------------------------------------------------------- sessions and login
def test_session_rules(engine: Engine) -> None:
    assert _rv(engine.open_session, 0, C.CKF_RW_SESSION) == C.CKR_SESSION_PARALLEL_NOT_SUPPORTED
    assert _rv(engine.close_session, 999) == C.CKR_SESSION_HANDLE_INVALID
    ro = engine.open_session(0, RO)
    assert engine.get_session_info(ro) == (0, C.CKS_RO_PUBLIC_SESSION, C.CKF_SERIAL_SESSION, 0)
    assert _rv(engine.logout, ro) == C.CKR_USER_NOT_LOGGED_IN
    # SO login is refused while a read-only session exists
    assert _rv(engine.login, ro, C.CKU_SO, SO_PIN) == C.CKR_SESSION_READ_ONLY_EXISTS
    engine.login(ro, C.CKU_USER, PIN)
    assert engine.get_session_info(ro)[1] == C.CKS_RO_USER_FUNCTIONS
    assert _rv(engine.login, ro, C.CKU_USER, PIN) == C.CKR_USER_ALREADY_LOGGED_IN
    rw = engine.open_session(0, RW)
    assert engine.get_session_info(rw)[1] == C.CKS_RW_USER_FUNCTIONS  # login is per application and token
    assert _rv(engine.login, rw, C.CKU_SO, SO_PIN) == C.CKR_USER_ANOTHER_ALREADY_LOGGED_IN
    assert _rv(engine.login, rw, 7, PIN) == C.CKR_USER_TYPE_INVALID
    engine.logout(rw)
    engine.close_session(ro)
    engine.login(rw, C.CKU_SO, SO_PIN)
    assert engine.get_session_info(rw)[1] == C.CKS_RW_SO_FUNCTIONS
    assert _rv(engine.open_session, 0, RO) == C.CKR_SESSION_READ_WRITE_SO_EXISTS
    engine.close_all_sessions(0)
    assert _rv(engine.get_session_info, rw) == C.CKR_SESSION_HANDLE_INVALID
    s = engine.open_session(0, RW)
    assert engine.get_session_info(s)[1] == C.CKS_RW_PUBLIC_SESSION  # closing every session logged out


def test_pin_counter_flags_and_lockout(engine: Engine, root: SimRoot) -> None:
    s = engine.open_session(0, RW)
    assert _rv(engine.login, s, C.CKU_USER, b"00000000") == C.CKR_PIN_INCORRECT
    assert engine.get_token_info(0)["flags"] & C.CKF_USER_PIN_COUNT_LOW
    assert _rv(engine.login, s, C.CKU_USER, b"00000000") == C.CKR_PIN_INCORRECT
    flags = engine.get_token_info(0)["flags"]
    assert flags & C.CKF_USER_PIN_FINAL_TRY and flags & C.CKF_USER_PIN_COUNT_LOW
    engine.login(s, C.CKU_USER, PIN)  # a right PIN resets the counter
    assert not engine.get_token_info(0)["flags"] & (C.CKF_USER_PIN_COUNT_LOW | C.CKF_USER_PIN_FINAL_TRY)
    engine.logout(s)
    for _ in range(3):
        assert _rv(engine.login, s, C.CKU_USER, b"99999999") == C.CKR_PIN_INCORRECT
    assert engine.get_token_info(0)["flags"] & C.CKF_USER_PIN_LOCKED
    assert _rv(engine.login, s, C.CKU_USER, PIN) == C.CKR_PIN_LOCKED  # even the right PIN
    assert root.find("token").pin_status("user") == {"tries_left": 0, "max_tries": 3}
    # SO unblock through C_InitPIN
    engine.login(s, C.CKU_SO, SO_PIN)
    assert _rv(engine.init_pin, s, b"12") == C.CKR_PIN_LEN_RANGE
    engine.init_pin(s, b"new-pin-1")
    engine.logout(s)
    engine.login(s, C.CKU_USER, b"new-pin-1")
    assert not engine.get_token_info(0)["flags"] & C.CKF_USER_PIN_LOCKED


def test_pin_change_and_so_unblock_keep_the_key(engine: Engine) -> None:
    s = _user_session(engine)
    pub, priv = _keypair(engine, s)
    public = _public(engine, s, pub)
    assert _rv(engine.set_pin, s, b"wrong-old", b"abcdefgh") == C.CKR_PIN_INCORRECT
    assert _rv(engine.set_pin, s, PIN, b"abc") == C.CKR_PIN_LEN_RANGE
    engine.set_pin(s, PIN, b"changed-1")
    engine.logout(s)
    assert _rv(engine.login, s, C.CKU_USER, PIN) == C.CKR_PIN_INCORRECT
    engine.login(s, C.CKU_USER, b"changed-1")
    engine.sign_init(s, C.CKM_GOSTR3410_WITH_GOSTR3411_12_256, None, priv)
    assert public.verify_digest(streebog256(b"after change").digest(), engine.sign(s, b"after change"))
    engine.logout(s)
    engine.login(s, C.CKU_SO, SO_PIN)
    engine.init_pin(s, b"unblocked")
    engine.logout(s)
    # a fresh engine (another process) can only use the key through the new PIN's wrapping of the token key
    other = Engine(engine._root.path)  # type: ignore[union-attr]
    other.initialize()
    s2 = other.open_session(0, RW)
    other.login(s2, C.CKU_USER, b"unblocked")
    other.find_objects_init(s2, [(C.CKA_CLASS, ulong(C.CKO_PRIVATE_KEY))])
    (handle,) = other.find_objects(s2, 10)
    other.sign_init(s2, C.CKM_GOSTR3410_WITH_GOSTR3411_12_256, None, handle)
    assert public.verify_digest(streebog256(b"unblocked").digest(), other.sign(s2, b"unblocked"))
    other.finalize()


def test_read_only_and_login_requirements(engine: Engine) -> None:
    ro = engine.open_session(0, RO)
    data = [(C.CKA_CLASS, ulong(C.CKO_DATA)), (C.CKA_TOKEN, TRUE), (C.CKA_VALUE, b"x")]
    assert _rv(engine.create_object, ro, data) == C.CKR_SESSION_READ_ONLY
    assert _rv(engine.set_pin, ro, PIN, b"whatever1") == C.CKR_SESSION_READ_ONLY
    private_data = [(C.CKA_CLASS, ulong(C.CKO_DATA)), (C.CKA_PRIVATE, TRUE)]
    assert _rv(engine.create_object, ro, private_data) == C.CKR_USER_NOT_LOGGED_IN
    rw = engine.open_session(0, RW)
    params = [(C.CKA_GOSTR3410_PARAMS, oid_der(TC26_256_A))]
    assert _rv(engine.generate_key_pair, rw, C.CKM_GOSTR3410_KEY_PAIR_GEN, None, params, []) == \
        C.CKR_USER_NOT_LOGGED_IN
    assert _rv(engine.init_pin, rw, b"12345678") == C.CKR_USER_NOT_LOGGED_IN
    engine.login(rw, C.CKU_USER, PIN)
    assert _rv(engine.generate_key_pair, ro, C.CKM_GOSTR3410_KEY_PAIR_GEN, None,
               [*params, (C.CKA_TOKEN, TRUE)], []) == C.CKR_SESSION_READ_ONLY
    h = engine.create_object(rw, data)
    assert _rv(engine.destroy_object, ro, h) == C.CKR_SESSION_READ_ONLY
    engine.destroy_object(rw, h)
    assert _rv(engine.destroy_object, rw, h) == C.CKR_OBJECT_HANDLE_INVALID


# --------------------------------------------------------------------------------------------- objects
def test_templates_and_attributes(engine: Engine) -> None:
    s = _user_session(engine)
    assert _rv(engine.create_object, s, [(C.CKA_VALUE, b"x")]) == C.CKR_TEMPLATE_INCOMPLETE
    assert _rv(engine.create_object, s, [(C.CKA_CLASS, ulong(C.CKO_CERTIFICATE))]) == C.CKR_TEMPLATE_INCOMPLETE
    assert _rv(engine.create_object, s, [(C.CKA_CLASS, ulong(C.CKO_DATA)), (C.CKA_TOKEN, b"\x01\x00")]) == \
        C.CKR_ATTRIBUTE_VALUE_INVALID
    assert _rv(engine.create_object, s, [(C.CKA_CLASS, ulong(C.CKO_DATA)), (0x7777, b"")]) == \
        C.CKR_ATTRIBUTE_TYPE_INVALID
    assert _rv(engine.create_object, s, [(C.CKA_CLASS, ulong(C.CKO_DATA)), (C.CKA_SIGN, TRUE)]) == \
        C.CKR_TEMPLATE_INCONSISTENT
    assert _rv(engine.create_object, s, [(C.CKA_CLASS, ulong(C.CKO_DATA)), (C.CKA_LABEL, b"a"),
                                         (C.CKA_LABEL, b"b")]) == C.CKR_TEMPLATE_INCONSISTENT
    key = PrivateKey.generate(curve(TC26_256_A))
    priv_t = [(C.CKA_CLASS, ulong(C.CKO_PRIVATE_KEY)), (C.CKA_KEY_TYPE, ulong(C.CKK_GOSTR3410)),
              (C.CKA_GOSTR3410_PARAMS, oid_der(TC26_256_A)), (C.CKA_VALUE, key.to_bytes())]
    assert _rv(engine.create_object, s, [*priv_t, (C.CKA_LOCAL, TRUE)]) == C.CKR_ATTRIBUTE_READ_ONLY
    wrong_type = [*priv_t[:1], (C.CKA_KEY_TYPE, ulong(C.CKK_GOSTR3410_512)), *priv_t[2:]]
    assert _rv(engine.create_object, s, wrong_type) == C.CKR_TEMPLATE_INCONSISTENT
    assert _rv(engine.create_object, s, [*priv_t[:3], (C.CKA_VALUE, b"\x01" * 31 + b"\xff" * 2)]) == \
        C.CKR_ATTRIBUTE_VALUE_INVALID
    h = engine.create_object(s, [*priv_t, (C.CKA_LABEL, b"imported")])
    rv, values = engine.get_attribute_value(s, h, [C.CKA_LABEL, C.CKA_VALUE, 0x7777, C.CKA_SENSITIVE])
    assert rv == C.CKR_ATTRIBUTE_SENSITIVE  # the other values still come back (v2.40 section 5.7)
    assert values == [b"imported", None, None, TRUE]
    rv, values = engine.get_attribute_value(s, h, [C.CKA_ID, 0x7777])
    assert rv == C.CKR_ATTRIBUTE_TYPE_INVALID and values == [b"", None]
    assert _rv(engine.set_attribute_value, s, h, [(C.CKA_CLASS, ulong(C.CKO_DATA))]) == C.CKR_ATTRIBUTE_READ_ONLY
    assert _rv(engine.set_attribute_value, s, h, [(C.CKA_SENSITIVE, FALSE)]) == C.CKR_ATTRIBUTE_READ_ONLY
    engine.set_attribute_value(s, h, [(C.CKA_LABEL, b"renamed"), (C.CKA_ID, b"\x42")])
    assert engine.get_attribute_value(s, h, [C.CKA_LABEL, C.CKA_ID]) == (C.CKR_OK, [b"renamed", b"\x42"])
    assert _rv(engine.get_attribute_value, s, 99999, [C.CKA_LABEL]) == C.CKR_OBJECT_HANDLE_INVALID
    # an extractable, non-sensitive session key does give its value
    h2 = engine.create_object(s, [*priv_t, (C.CKA_SENSITIVE, FALSE), (C.CKA_EXTRACTABLE, TRUE)])
    assert engine.get_attribute_value(s, h2, [C.CKA_VALUE]) == (C.CKR_OK, [key.to_bytes()])


def test_private_objects_hidden_before_login(engine: Engine, root: SimRoot) -> None:
    s = _user_session(engine)
    pub, priv = _keypair(engine, s)
    cert_der = _make_certificate(key_handle_public=_public(engine, s, pub))
    engine.create_object(s, [(C.CKA_CLASS, ulong(C.CKO_CERTIFICATE)), (C.CKA_TOKEN, TRUE), (C.CKA_VALUE, cert_der),
                             (C.CKA_ID, b"k1")])
    engine.logout(s)
    engine.find_objects_init(s, [(C.CKA_ID, b"k1")])
    found = engine.find_objects(s, 10)
    engine.find_objects_final(s)
    classes = {engine.get_attribute_value(s, h, [C.CKA_CLASS])[1][0] for h in found}
    assert classes == {ulong(C.CKO_PUBLIC_KEY), ulong(C.CKO_CERTIFICATE)}
    assert _rv(engine.get_attribute_value, s, priv, [C.CKA_LABEL]) == C.CKR_OBJECT_HANDLE_INVALID
    assert _rv(engine.sign_init, s, C.CKM_GOSTR3410, None, priv) == C.CKR_USER_NOT_LOGGED_IN
    engine.login(s, C.CKU_USER, PIN)
    engine.find_objects_init(s, [(C.CKA_ID, b"k1")])
    assert len(engine.find_objects(s, 1)) == 1 and len(engine.find_objects(s, 10)) == 2
    assert engine.find_objects(s, 10) == []
    assert _rv(engine.find_objects_init, s, []) == C.CKR_OPERATION_ACTIVE
    engine.find_objects_final(s)
    assert _rv(engine.find_objects, s, 1) == C.CKR_OPERATION_NOT_INITIALIZED
    # certificate subject/issuer/serial were filled from the certificate
    engine.find_objects_init(s, [(C.CKA_CLASS, ulong(C.CKO_CERTIFICATE))])
    (cert,) = engine.find_objects(s, 5)
    engine.find_objects_final(s)
    rv, (subject, issuer) = engine.get_attribute_value(s, cert, [C.CKA_SUBJECT, C.CKA_ISSUER])
    assert rv == C.CKR_OK and subject and subject == issuer


def _make_certificate(key_handle_public: PublicKey) -> bytes:
    """A self-signed certificate over the public key (the key itself signs nothing here; a fresh CA key does)."""
    from datetime import UTC, datetime, timedelta

    from signagent.x509 import builder

    ca_key = PrivateKey.generate(curve(TC26_256_A))
    now = datetime.now(UTC)
    cert = builder.build_certificate(subject=[("CN", "sim test")], public_key=key_handle_public, signing_key=ca_key,
                                     issuer=None, serial=7, not_before=now - timedelta(days=1),
                                     not_after=now + timedelta(days=30), extensions=[])
    return cert.dump()


def test_session_objects_vanish_with_their_session(engine: Engine) -> None:
    s = _user_session(engine)
    other = engine.open_session(0, RW)
    h = engine.create_object(s, [(C.CKA_CLASS, ulong(C.CKO_DATA)), (C.CKA_VALUE, b"temp")])
    assert engine.get_attribute_value(other, h, [C.CKA_VALUE]) == (C.CKR_OK, [b"temp"])
    engine.close_session(s)
    assert _rv(engine.get_attribute_value, other, h, [C.CKA_VALUE]) == C.CKR_OBJECT_HANDLE_INVALID


def test_init_token_wipes_objects(engine: Engine) -> None:
    s = _user_session(engine)
    _keypair(engine, s)
    assert _rv(engine.init_token, 0, SO_PIN, "fresh") == C.CKR_SESSION_EXISTS
    engine.close_all_sessions(0)
    assert _rv(engine.init_token, 0, b"wrong-so", "fresh") == C.CKR_PIN_INCORRECT
    engine.init_token(0, SO_PIN, "fresh")
    info = engine.get_token_info(0)
    assert info["label"] == "fresh" and not info["flags"] & C.CKF_USER_PIN_INITIALIZED
    s = engine.open_session(0, RW)
    assert _rv(engine.login, s, C.CKU_USER, PIN) == C.CKR_USER_PIN_NOT_INITIALIZED
    engine.find_objects_init(s, [])
    assert engine.find_objects(s, 10) == []


# --------------------------------------------------------------------------------------------- mechanisms
@pytest.mark.parametrize(("oid", "mech", "hasher"), [
    (TC26_256_A, C.CKM_GOSTR3410_WITH_GOSTR3411_12_256, streebog256),
    (TC26_512_A, C.CKM_GOSTR3410_WITH_GOSTR3411_12_512, streebog512),
    ("1.2.643.2.2.36.0", C.CKM_GOSTR3410_WITH_GOSTR3411_12_256, streebog256),
])
def test_hash_and_sign_single_and_multi_part(engine: Engine, oid: str, mech: int, hasher) -> None:
    s = _user_session(engine)
    pub, priv = _keypair(engine, s, oid)
    public = _public(engine, s, pub)
    message = b"registration request " * 50
    engine.sign_init(s, mech, None, priv)
    assert engine.output_length(s, "sign") == 2 * public.curve.size
    single = engine.sign(s, message)
    assert public.verify_digest(hasher(message).digest(), single)  # s || r, verified by signagent.gost
    engine.sign_init(s, mech, oid_der("1.2.643.7.1.1.2.2" if hasher is streebog256 else "1.2.643.7.1.1.2.3"), priv)
    engine.sign_update(s, message[:100])
    engine.sign_update(s, message[100:])
    multi = engine.sign_final(s)
    assert public.verify_digest(hasher(message).digest(), multi)
    engine.verify_init(s, mech, None, pub)
    engine.verify(s, message, multi)
    engine.verify_init(s, mech, None, pub)
    engine.verify_update(s, message)
    engine.verify_final(s, single)
    engine.verify_init(s, mech, None, pub)
    assert _rv(engine.verify, s, message + b"!", single) == C.CKR_SIGNATURE_INVALID
    engine.verify_init(s, mech, None, pub)
    assert _rv(engine.verify, s, message, single[:-1]) == C.CKR_SIGNATURE_LEN_RANGE


def test_sign_a_digest(engine: Engine) -> None:
    s = _user_session(engine)
    pub256, priv256 = _keypair(engine, s, TC26_256_A)
    pub512, priv512 = _keypair(engine, s, TC26_512_A)
    digest = streebog256(b"data").digest()
    engine.sign_init(s, C.CKM_GOSTR3410, None, priv256)
    assert _public(engine, s, pub256).verify_digest(digest, engine.sign(s, digest))
    engine.sign_init(s, C.CKM_GOSTR3410, None, priv256)
    assert _rv(engine.sign, s, digest[:31]) == C.CKR_DATA_LEN_RANGE
    assert _rv(engine.sign, s, digest) == C.CKR_OPERATION_NOT_INITIALIZED  # the failure ended the operation
    engine.sign_init(s, C.CKM_GOSTR3410, None, priv256)
    assert _rv(engine.sign_update, s, digest) == C.CKR_MECHANISM_INVALID  # no multi-part form
    digest512 = streebog512(b"data").digest()
    engine.sign_init(s, C.CKM_GOSTR3410_512, None, priv512)
    assert _public(engine, s, pub512).verify_digest(digest512, engine.sign(s, digest512))
    assert _rv(engine.sign_init, s, C.CKM_GOSTR3410_512, None, priv256) == C.CKR_KEY_TYPE_INCONSISTENT
    assert _rv(engine.sign_init, s, C.CKM_GOSTR3410, None, pub256) == C.CKR_KEY_TYPE_INCONSISTENT
    assert _rv(engine.sign_init, s, C.CKM_GOSTR3410, None, 424242) == C.CKR_KEY_HANDLE_INVALID
    assert _rv(engine.sign_init, s, 0x40, None, priv256) == C.CKR_MECHANISM_INVALID  # CKM_SHA256_RSA_PKCS
    assert _rv(engine.sign_init, s, C.CKM_GOSTR3410, b"\x05\x00", priv256) == C.CKR_MECHANISM_PARAM_INVALID
    engine.sign_init(s, C.CKM_GOSTR3410, None, priv256)
    assert _rv(engine.sign_init, s, C.CKM_GOSTR3410, None, priv256) == C.CKR_OPERATION_ACTIVE
    assert _rv(engine.sign_final, engine.open_session(0, RW)) == C.CKR_OPERATION_NOT_INITIALIZED
    engine.verify_init(s, C.CKM_GOSTR3410, None, pub256)
    assert _rv(engine.verify, s, digest[:5], bytes(64)) == C.CKR_DATA_LEN_RANGE


def test_digests_known_answers(engine: Engine, vectors_dir: Path) -> None:
    vectors = {v["id"]: v for v in json.loads((vectors_dir / "streebog.json").read_text())["vectors"]}
    s = engine.open_session(0, RO)
    for vid, mech in (("M1-256", C.CKM_GOSTR3411_12_256), ("M1-512", C.CKM_GOSTR3411_12_512)):
        message, digest = bytes.fromhex(vectors[vid]["message_hex"]), bytes.fromhex(vectors[vid]["digest_hex"])
        engine.digest_init(s, mech, None)
        assert engine.output_length(s, "digest") == len(digest)
        assert engine.digest(s, message) == digest
        engine.digest_init(s, mech, None)
        engine.digest_update(s, message[:10])
        engine.digest_update(s, message[10:])
        assert engine.digest_final(s) == digest
    assert _rv(engine.digest, s, b"") == C.CKR_OPERATION_NOT_INITIALIZED
    assert _rv(engine.digest_init, s, C.CKM_GOSTR3410, None) == C.CKR_MECHANISM_INVALID
    engine.digest_init(s, C.CKM_GOSTR3411_12_256, None)
    assert _rv(engine.digest_init, s, C.CKM_GOSTR3411_12_256, None) == C.CKR_OPERATION_ACTIVE


def test_generate_key_pair_attributes_and_errors(engine: Engine) -> None:
    s = _user_session(engine)
    pub, priv = _keypair(engine, s, TC26_512_A)
    rv, values = engine.get_attribute_value(s, priv, [C.CKA_KEY_TYPE, C.CKA_LOCAL, C.CKA_ALWAYS_SENSITIVE,
                                                      C.CKA_NEVER_EXTRACTABLE, C.CKA_SIGN, C.CKA_PRIVATE,
                                                      C.CKA_GOSTR3411_PARAMS, C.CKA_KEY_GEN_MECHANISM])
    assert rv == C.CKR_OK
    assert values == [ulong(C.CKK_GOSTR3410_512), TRUE, TRUE, TRUE, TRUE, TRUE, oid_der("1.2.643.7.1.1.2.3"),
                      ulong(C.CKM_GOSTR3410_512_KEY_PAIR_GEN)]
    rv, (value,) = engine.get_attribute_value(s, pub, [C.CKA_VALUE])
    assert len(value) == 128  # X || Y little-endian
    params = [(C.CKA_GOSTR3410_PARAMS, oid_der(TC26_256_A))]
    gen = engine.generate_key_pair
    assert _rv(gen, s, C.CKM_GOSTR3410_KEY_PAIR_GEN, None, [], []) == C.CKR_TEMPLATE_INCOMPLETE
    assert _rv(gen, s, C.CKM_GOSTR3410_512_KEY_PAIR_GEN, None, params, []) == C.CKR_TEMPLATE_INCONSISTENT
    assert _rv(gen, s, C.CKM_GOSTR3410_KEY_PAIR_GEN, None, [(C.CKA_GOSTR3410_PARAMS, oid_der("1.2.3.4"))], []) == \
        C.CKR_ATTRIBUTE_VALUE_INVALID
    assert _rv(gen, s, C.CKM_GOSTR3410_KEY_PAIR_GEN, None, params, [(C.CKA_CLASS, ulong(C.CKO_PUBLIC_KEY))]) == \
        C.CKR_TEMPLATE_INCONSISTENT
    assert _rv(gen, s, C.CKM_GOSTR3410, None, params, []) == C.CKR_MECHANISM_INVALID
    assert _rv(gen, s, C.CKM_GOSTR3410_KEY_PAIR_GEN, None, params, [(C.CKA_VALUE, b"1" * 32)]) == \
        C.CKR_ATTRIBUTE_READ_ONLY


def test_random(engine: Engine) -> None:
    s = engine.open_session(0, RO)
    a, b = engine.generate_random(s, 32), engine.generate_random(s, 32)
    assert len(a) == 32 and a != b
    engine.seed_random(s, b"seed")


# --------------------------------------------------------------------------------------------- presence and faults
def test_removal_and_insertion(engine: Engine, root: SimRoot) -> None:
    store = root.find("token")
    s = _user_session(engine)
    ro = engine.open_session(0, RO)
    assert _rv(engine.wait_for_slot_event, True) == C.CKR_NO_EVENT
    store.set_present(False)  # as `pkcs11-sim remove` from another process
    assert engine.wait_for_slot_event(True) == 0
    assert _rv(engine.wait_for_slot_event, True) == C.CKR_NO_EVENT
    assert engine.get_slot_list(True) == [] and engine.get_slot_list(False) == [0]
    assert not engine.get_slot_info(0)["flags"] & C.CKF_TOKEN_PRESENT
    assert _rv(engine.get_token_info, 0) == C.CKR_TOKEN_NOT_PRESENT
    assert _rv(engine.open_session, 0, RW) == C.CKR_TOKEN_NOT_PRESENT
    assert _rv(engine.generate_random, s, 8) == C.CKR_DEVICE_REMOVED
    assert _rv(engine.generate_random, s, 8) == C.CKR_SESSION_HANDLE_INVALID  # then the session is gone
    store.set_present(True)
    assert engine.wait_for_slot_event(True) == 0
    assert _rv(engine.get_session_info, ro) == C.CKR_DEVICE_REMOVED  # removed and re-inserted: still dead
    s = engine.open_session(0, RW)
    assert engine.get_session_info(s)[1] == C.CKS_RW_PUBLIC_SESSION  # the removal ended the login


def test_blocking_wait_for_slot_event(engine: Engine, root: SimRoot) -> None:
    timer = threading.Timer(0.2, root.find("token").set_present, args=(False,))
    timer.start()
    assert engine.wait_for_slot_event(False) == 0
    timer.join()


def test_injected_faults(engine: Engine, root: SimRoot) -> None:
    store = root.find("token")
    s = engine.open_session(0, RO)
    store.set_faults(fail_next=2, ckr=C.CKR_DEVICE_ERROR)
    assert _rv(engine.generate_random, s, 4) == C.CKR_DEVICE_ERROR
    assert engine.get_token_info(0)["label"] == "token"  # info calls are not failed
    assert _rv(engine.login, s, C.CKU_USER, PIN) == C.CKR_DEVICE_ERROR
    engine.login(s, C.CKU_USER, PIN)
    assert store.load()["faults"]["fail_next"] == 0
    store.set_faults(latency_ms=150)
    start = time.monotonic()
    engine.generate_random(s, 4)
    assert time.monotonic() - start >= 0.15
    store.set_faults(clear=True)
    assert store.load()["faults"] == {"fail_next": 0, "ckr": C.CKR_DEVICE_ERROR, "latency_ms": 0}
    store.lock_pin()
    engine.logout(s)
    assert _rv(engine.login, s, C.CKU_USER, PIN) == C.CKR_PIN_LOCKED


def test_threads_share_one_engine(engine: Engine) -> None:
    s = _user_session(engine)
    pub, priv = _keypair(engine, s)
    public = _public(engine, s, pub)
    errors: list[BaseException] = []
    results: list[bytes] = []

    def worker(n: int) -> None:
        try:
            own = engine.open_session(0, RO)
            for i in range(20):
                engine.sign_init(own, C.CKM_GOSTR3410_WITH_GOSTR3411_12_256, None, priv)
                sig = engine.sign(own, f"{n}-{i}".encode())
                assert public.verify_digest(streebog256(f"{n}-{i}".encode()).digest(), sig)
                results.append(sig)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(results) == 80

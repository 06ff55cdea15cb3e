"""Contract suite of the simulator's loadable PKCS#11 module, loaded by PyKCS11 as any vendor module would be.

What PyKCS11 cannot express (NULL pointers, undersized buffers, CK_C_INITIALIZE_ARGS, the raw function table) is
driven through ctypes on the same loaded library: both sit in this process, so they share the module's one
embedded engine (PKCS#11 login state is per application and token). Each group of tests works on its own token so
that their login states do not meet.

Signatures made by the module are checked with ``signagent.gost`` and with OpenSSL's GOST engine (in-process
oracle); digests against both too. Expected CKR codes are those PKCS#11 v2.40 prescribes (section 5 per function).
"""

from __future__ import annotations

import ctypes
import gc
import os
import subprocess
import sys
import sysconfig
import textwrap
import threading
from pathlib import Path

import pytest
from asn1crypto import core

import pkcs11_sim
import signagent.asn1  # noqa: F401  (registers the GOST OIDs with asn1crypto)
from pkcs11_sim import constants as C
from pkcs11_sim import glue
from pkcs11_sim.store import SimRoot
from signagent import gost
from tests.conftest import require
from tests.oracles import openssl_gost

try:
    import PyKCS11
except ImportError:  # the "test" extra brings it; without it every test here skips (fails in CI)
    PyKCS11 = None

USER_PIN = "1234"
SO_PIN = "87654321"
CURVE_256 = "1.2.643.7.1.2.1.1.1"  # tc26 256-bit paramSetA
CURVE_512 = "1.2.643.7.1.2.1.2.1"  # tc26 512-bit paramSetA
STREEBOG_256 = "1.2.643.7.1.1.2.2"
STREEBOG_512 = "1.2.643.7.1.1.2.3"
CKR_FUNCTION_NOT_PARALLEL = 0x51
CKR_CANT_LOCK = 0x0A


def der_oid(dotted: str) -> bytes:
    return core.ObjectIdentifier(dotted).dump()


def handle(obj) -> int:
    """A PyKCS11 CK_OBJECT_HANDLE as an int."""
    return obj.value()


def ckr(call, *args, **kwargs) -> int:
    """The CKR a PyKCS11 call fails with (CKR_OK when it succeeds)."""
    try:
        call(*args, **kwargs)
    except PyKCS11.PyKCS11Error as exc:
        return exc.value
    return C.CKR_OK


# ---------------------------------------------------------------------------------------------------------------
# ctypes view of the same module


CK_ULONG = ctypes.c_ulong
P = ctypes.POINTER


class CK_ATTRIBUTE(ctypes.Structure):
    _fields_ = [("type", CK_ULONG), ("pValue", ctypes.c_void_p), ("ulValueLen", CK_ULONG)]


class CK_MECHANISM(ctypes.Structure):
    _fields_ = [("mechanism", CK_ULONG), ("pParameter", ctypes.c_void_p), ("ulParameterLen", CK_ULONG)]


class CK_C_INITIALIZE_ARGS(ctypes.Structure):
    _fields_ = [("CreateMutex", ctypes.c_void_p), ("DestroyMutex", ctypes.c_void_p),
                ("LockMutex", ctypes.c_void_p), ("UnlockMutex", ctypes.c_void_p),
                ("flags", CK_ULONG), ("pReserved", ctypes.c_void_p)]


class CK_VERSION(ctypes.Structure):
    _fields_ = [("major", ctypes.c_ubyte), ("minor", ctypes.c_ubyte)]


class CK_FUNCTION_LIST(ctypes.Structure):
    _fields_ = [("version", CK_VERSION), *((f"f{i}", ctypes.c_void_p) for i in range(68))]


class Raw:
    """The module's exported C_* symbols through ctypes (which releases the GIL around each call)."""

    SIGNATURES = {
        "C_Initialize": [ctypes.c_void_p],
        "C_Finalize": [ctypes.c_void_p],
        "C_GetInfo": [ctypes.c_void_p],
        "C_GetFunctionList": [P(P(CK_FUNCTION_LIST))],
        "C_GetSlotList": [ctypes.c_ubyte, P(CK_ULONG), P(CK_ULONG)],
        "C_GetTokenInfo": [CK_ULONG, ctypes.c_void_p],
        "C_OpenSession": [CK_ULONG, CK_ULONG, ctypes.c_void_p, ctypes.c_void_p, P(CK_ULONG)],
        "C_CloseSession": [CK_ULONG],
        "C_Login": [CK_ULONG, CK_ULONG, ctypes.c_char_p, CK_ULONG],
        "C_GetAttributeValue": [CK_ULONG, CK_ULONG, P(CK_ATTRIBUTE), CK_ULONG],
        "C_FindObjectsInit": [CK_ULONG, P(CK_ATTRIBUTE), CK_ULONG],
        "C_FindObjects": [CK_ULONG, P(CK_ULONG), CK_ULONG, P(CK_ULONG)],
        "C_FindObjectsFinal": [CK_ULONG],
        "C_DigestInit": [CK_ULONG, P(CK_MECHANISM)],
        "C_Digest": [CK_ULONG, ctypes.c_char_p, CK_ULONG, ctypes.c_void_p, P(CK_ULONG)],
        "C_DigestUpdate": [CK_ULONG, ctypes.c_char_p, CK_ULONG],
        "C_DigestFinal": [CK_ULONG, ctypes.c_void_p, P(CK_ULONG)],
        "C_SignInit": [CK_ULONG, P(CK_MECHANISM), CK_ULONG],
        "C_Sign": [CK_ULONG, ctypes.c_char_p, CK_ULONG, ctypes.c_void_p, P(CK_ULONG)],
        "C_Encrypt": [CK_ULONG, ctypes.c_char_p, CK_ULONG, ctypes.c_void_p, P(CK_ULONG)],
        "C_GenerateRandom": [CK_ULONG, ctypes.c_void_p, CK_ULONG],
        "C_WaitForSlotEvent": [CK_ULONG, P(CK_ULONG), ctypes.c_void_p],
        "C_GetFunctionStatus": [CK_ULONG],
        "C_CancelFunction": [CK_ULONG],
    }

    def __init__(self, path: str) -> None:
        self.dll = ctypes.CDLL(path)
        for name, argtypes in self.SIGNATURES.items():
            fn = getattr(self.dll, name)
            fn.argtypes, fn.restype = argtypes, CK_ULONG

    def __getattr__(self, name: str):
        return getattr(self.dll, name)

    def open_session(self, slot: int, flags: int = C.CKF_SERIAL_SESSION | C.CKF_RW_SESSION) -> int:
        handle = CK_ULONG()
        assert self.C_OpenSession(slot, flags, None, None, ctypes.byref(handle)) == C.CKR_OK
        return handle.value

    def find(self, session: int, cls: int) -> list[int]:
        value = CK_ULONG(cls)
        template = (CK_ATTRIBUTE * 1)(CK_ATTRIBUTE(C.CKA_CLASS, ctypes.addressof(value), ctypes.sizeof(value)))
        assert self.C_FindObjectsInit(session, template, 1) == C.CKR_OK
        handles, count = (CK_ULONG * 16)(), CK_ULONG()
        assert self.C_FindObjects(session, handles, 16, ctypes.byref(count)) == C.CKR_OK
        assert self.C_FindObjectsFinal(session) == C.CKR_OK
        return list(handles[: count.value])


# ---------------------------------------------------------------------------------------------------------------
# Fixtures


@pytest.fixture(scope="module")
def sim_dir(tmp_path_factory: pytest.TempPathFactory):
    path = tmp_path_factory.mktemp("pkcs11sim")
    old = os.environ.get("PKCS11_SIM_DIR")
    os.environ["PKCS11_SIM_DIR"] = str(path)
    root = SimRoot(path)
    for label in ("main", "rules", "objects", "misuse", "raw"):
        root.create(label, SO_PIN.encode(), USER_PIN.encode())
    yield path
    if old is None:
        os.environ.pop("PKCS11_SIM_DIR", None)
    else:
        os.environ["PKCS11_SIM_DIR"] = old


@pytest.fixture(scope="module")
def path(sim_dir: Path) -> str:
    try:
        return pkcs11_sim.module_path()
    except pkcs11_sim.ModuleNotBuiltError as exc:
        require(False, str(exc))
        raise


@pytest.fixture(scope="module")
def lib(path: str):
    require(PyKCS11 is not None, "PyKCS11 (pip install -e .[test])")
    lib = PyKCS11.PyKCS11Lib()
    # no cyclic collection inside PyKCS11's load lock: a PyKCS11Lib freed there would deadlock on it (see
    # signagent.tokens.pkcs11.guards.gc_paused)
    gc.disable()
    try:
        lib.load(path)
    finally:
        gc.enable()
    yield lib
    gc.disable()
    try:
        lib.unload()
    finally:
        gc.enable()


@pytest.fixture(scope="module")
def raw(lib, path: str) -> Raw:
    return Raw(path)


def slot_of(lib, label: str) -> int:
    for slot in lib.getSlotList(tokenPresent=True):
        if lib.getTokenInfo(slot).label.strip() == label:
            return slot
    raise AssertionError(f"no token {label}")


def generate(session, size: int, label: str) -> tuple[int, int]:
    """A GOST R 34.10-2012 key pair on the token (tc26 paramSetA of the size)."""
    if size == 256:
        mech, key_type, curve, digest = C.CKM_GOSTR3410_KEY_PAIR_GEN, C.CKK_GOSTR3410, CURVE_256, STREEBOG_256
    else:
        mech, key_type, curve, digest = C.CKM_GOSTR3410_512_KEY_PAIR_GEN, C.CKK_GOSTR3410_512, CURVE_512, STREEBOG_512
    common = [(PyKCS11.CKA_TOKEN, True), (PyKCS11.CKA_LABEL, label), (PyKCS11.CKA_ID, label.encode()),
              (PyKCS11.CKA_KEY_TYPE, key_type)]
    public = [*common, (PyKCS11.CKA_CLASS, PyKCS11.CKO_PUBLIC_KEY), (PyKCS11.CKA_VERIFY, True),
              (PyKCS11.CKA_GOSTR3410_PARAMS, der_oid(curve)), (PyKCS11.CKA_GOSTR3411_PARAMS, der_oid(digest))]
    private = [*common, (PyKCS11.CKA_CLASS, PyKCS11.CKO_PRIVATE_KEY), (PyKCS11.CKA_SIGN, True),
               (PyKCS11.CKA_PRIVATE, True), (PyKCS11.CKA_SENSITIVE, True)]
    return session.generateKeyPair(public, private, PyKCS11.Mechanism(mech, None))


def public_key(session, handle: int, size: int) -> gost.PublicKey:
    value = bytes(session.getAttributeValue(handle, [PyKCS11.CKA_VALUE], allAsBinary=True)[0])
    return gost.PublicKey.from_bytes(gost.curve(CURVE_256 if size == 256 else CURVE_512), value)


@pytest.fixture(scope="module")
def main(lib):
    """A logged-in R/W session on token "main" with a 256- and a 512-bit key pair: {size: (pub, priv, PublicKey)}."""
    session = lib.openSession(slot_of(lib, "main"), PyKCS11.CKF_RW_SESSION)
    session.login(USER_PIN)
    keys = {}
    for size in (256, 512):
        pub, priv = generate(session, size, f"key{size}")
        keys[size] = (pub, priv, public_key(session, pub, size))
    yield session, keys
    session.closeSession()


# ---------------------------------------------------------------------------------------------------------------
# Library, slots, tokens, mechanisms


def test_module_path_is_the_built_library(path: str) -> None:
    assert os.path.isabs(path) and os.path.isfile(path)
    assert path.endswith(sysconfig.get_config_var("EXT_SUFFIX"))
    assert Path(path).parent == Path(pkcs11_sim.__file__).resolve().parent


def test_library_info(lib) -> None:
    info = lib.getInfo()
    assert (info.cryptokiVersion) == (2, 40)
    assert info.manufacturerID == "signagent".ljust(32)  # blank-padded fixed-length field
    assert info.libraryDescription.strip() == "signagent pkcs11-sim GOST token"
    assert len(info.libraryDescription) == 32
    assert info.flags == 0


def test_slots_and_token_info(lib) -> None:
    slots = lib.getSlotList(tokenPresent=True)
    labels = {lib.getTokenInfo(s).label.strip() for s in slots}
    assert {"main", "rules", "objects", "misuse", "raw"} <= labels
    slot = slot_of(lib, "rules")
    assert lib.getSlotInfo(slot).flags & PyKCS11.CKF_TOKEN_PRESENT
    token = lib.getTokenInfo(slot)
    assert len(token.label) == 32 and len(token.model) == 16 and len(token.serialNumber) == 16
    required = C.CKF_TOKEN_INITIALIZED | C.CKF_USER_PIN_INITIALIZED | C.CKF_LOGIN_REQUIRED | C.CKF_RNG
    assert token.flags & required == required
    assert (token.ulMinPinLen, token.ulMaxPinLen) == (4, 32)
    assert ckr(lib.getTokenInfo, 0x7777) == C.CKR_SLOT_ID_INVALID


def mechanism_value(name: str | int) -> int:
    """PyKCS11 names the mechanisms of the list: its own name, or CKM_VENDOR_DEFINED_0x<offset> for vendor ones."""
    if isinstance(name, int):
        return name
    if name.startswith("CKM_VENDOR_DEFINED_0x"):
        return PyKCS11.CKM_VENDOR_DEFINED | int(name.rsplit("0x", 1)[1], 16)
    return PyKCS11.CKM[name]


def mechanism_info(lib, slot: int, mech: int):
    """(rv, CK_MECHANISM_INFO) by the low-level call: PyKCS11's getMechanismInfo takes only mechanism names."""
    info = PyKCS11.LowLevel.CK_MECHANISM_INFO()
    return lib.lib.C_GetMechanismInfo(slot, mech, info), info


def test_mechanisms_list_and_info(lib) -> None:
    slot = slot_of(lib, "rules")
    mechanisms = {mechanism_value(m) for m in lib.getMechanismList(slot)}
    gost_mechanisms = {
        C.CKM_GOSTR3410_KEY_PAIR_GEN: C.CKF_GENERATE_KEY_PAIR,
        C.CKM_GOSTR3410_512_KEY_PAIR_GEN: C.CKF_GENERATE_KEY_PAIR,
        C.CKM_GOSTR3410: C.CKF_SIGN | C.CKF_VERIFY, C.CKM_GOSTR3410_512: C.CKF_SIGN | C.CKF_VERIFY,
        C.CKM_GOSTR3410_WITH_GOSTR3411_12_256: C.CKF_SIGN | C.CKF_VERIFY,
        C.CKM_GOSTR3410_WITH_GOSTR3411_12_512: C.CKF_SIGN | C.CKF_VERIFY,
        C.CKM_GOSTR3411_12_256: C.CKF_DIGEST, C.CKM_GOSTR3411_12_512: C.CKF_DIGEST,
    }
    for mech, flags in gost_mechanisms.items():
        assert mech in mechanisms, hex(mech)
        rv, info = mechanism_info(lib, slot, mech)
        assert rv == C.CKR_OK and info.flags & flags == flags, hex(mech)
    assert mechanism_info(lib, slot, C.CKM_GOSTR3410_512)[1].ulMaxKeySize == 512
    assert mechanism_info(lib, slot, 0x7FFF0001)[0] == C.CKR_MECHANISM_INVALID


# ---------------------------------------------------------------------------------------------------------------
# The raw C interface: function table, C_Initialize arguments, pointer checks, output-length conventions


def test_function_list_has_every_v240_entry(raw: Raw) -> None:
    table = P(CK_FUNCTION_LIST)()
    assert raw.C_GetFunctionList(ctypes.byref(table)) == C.CKR_OK
    assert (table.contents.version.major, table.contents.version.minor) == (2, 40)
    pointers = [getattr(table.contents, f"f{i}") for i in range(68)]
    assert all(pointers)
    assert raw.C_GetFunctionList(None) == C.CKR_ARGUMENTS_BAD
    # entries 65/66 are C_GetFunctionStatus / C_CancelFunction (PKCS#11 v2.40 section 5.16: legacy, never parallel)
    for index in (65, 66):
        legacy = ctypes.CFUNCTYPE(CK_ULONG, CK_ULONG)(pointers[index])
        assert legacy(1) == CKR_FUNCTION_NOT_PARALLEL
    assert raw.C_GetFunctionStatus(1) == CKR_FUNCTION_NOT_PARALLEL
    assert raw.C_CancelFunction(1) == CKR_FUNCTION_NOT_PARALLEL
    assert raw.C_Encrypt(1, b"x", 1, None, ctypes.byref(CK_ULONG())) == C.CKR_FUNCTION_NOT_SUPPORTED


def test_initialize_arguments(raw: Raw) -> None:
    # PyKCS11 initialised the library: valid arguments get as far as "already initialised".
    assert raw.C_Initialize(None) == C.CKR_CRYPTOKI_ALREADY_INITIALIZED
    os_locking = CK_C_INITIALIZE_ARGS(flags=0x2)  # CKF_OS_LOCKING_OK
    assert raw.C_Initialize(ctypes.byref(os_locking)) == C.CKR_CRYPTOKI_ALREADY_INITIALIZED
    fake = ctypes.cast(raw.C_GetFunctionStatus, ctypes.c_void_p).value  # any non-NULL function pointer
    with_mutexes = CK_C_INITIALIZE_ARGS(fake, fake, fake, fake, 0x2, None)
    assert raw.C_Initialize(ctypes.byref(with_mutexes)) == C.CKR_CRYPTOKI_ALREADY_INITIALIZED
    # application-supplied mutexes only (no CKF_OS_LOCKING_OK): the library cannot use them
    only_callbacks = CK_C_INITIALIZE_ARGS(fake, fake, fake, fake, 0, None)
    assert raw.C_Initialize(ctypes.byref(only_callbacks)) == CKR_CANT_LOCK
    partial = CK_C_INITIALIZE_ARGS(fake, None, fake, fake, 0x2, None)
    assert raw.C_Initialize(ctypes.byref(partial)) == C.CKR_ARGUMENTS_BAD
    reserved = CK_C_INITIALIZE_ARGS(None, None, None, None, 0, fake)
    assert raw.C_Initialize(ctypes.byref(reserved)) == C.CKR_ARGUMENTS_BAD
    assert raw.C_Finalize(fake) == C.CKR_ARGUMENTS_BAD


def test_null_pointers_are_arguments_bad(lib, raw: Raw) -> None:
    slot = slot_of(lib, "raw")
    session = raw.open_session(slot)
    count = CK_ULONG()
    assert raw.C_GetInfo(None) == C.CKR_ARGUMENTS_BAD
    assert raw.C_GetSlotList(1, None, None) == C.CKR_ARGUMENTS_BAD
    assert raw.C_GetTokenInfo(slot, None) == C.CKR_ARGUMENTS_BAD
    assert raw.C_OpenSession(slot, C.CKF_SERIAL_SESSION, None, None, None) == C.CKR_ARGUMENTS_BAD
    assert raw.C_GetAttributeValue(session, 1, None, 1) == C.CKR_ARGUMENTS_BAD
    assert raw.C_FindObjectsInit(session, None, 1) == C.CKR_ARGUMENTS_BAD
    assert raw.C_DigestInit(session, None) == C.CKR_ARGUMENTS_BAD
    assert raw.C_GenerateRandom(session, None, 16) == C.CKR_ARGUMENTS_BAD
    assert raw.C_WaitForSlotEvent(C.CKF_DONT_BLOCK, None, None) == C.CKR_ARGUMENTS_BAD
    mech = CK_MECHANISM(C.CKM_GOSTR3411_12_256, None, 0)
    assert raw.C_DigestInit(session, ctypes.byref(mech)) == C.CKR_OK
    assert raw.C_Digest(session, b"abc", 3, None, None) == C.CKR_ARGUMENTS_BAD
    assert raw.C_Digest(session, None, 3, None, ctypes.byref(count)) == C.CKR_ARGUMENTS_BAD
    assert raw.C_CloseSession(session) == C.CKR_OK


def test_list_size_query(lib, raw: Raw) -> None:
    count = CK_ULONG()
    assert raw.C_GetSlotList(1, None, ctypes.byref(count)) == C.CKR_OK
    expected = len(lib.getSlotList(tokenPresent=True))
    assert count.value == expected >= 5
    small, count.value = (CK_ULONG * expected)(), expected - 1
    assert raw.C_GetSlotList(1, small, ctypes.byref(count)) == C.CKR_BUFFER_TOO_SMALL
    assert count.value == expected
    assert raw.C_GetSlotList(1, small, ctypes.byref(count)) == C.CKR_OK
    assert sorted(small) == sorted(lib.getSlotList(tokenPresent=True))


@pytest.fixture(scope="module")
def raw_key(lib, raw: Raw):
    """(session, private handle, PublicKey) on token "raw", logged in through ctypes."""
    slot = slot_of(lib, "raw")
    session = raw.open_session(slot)
    assert raw.C_Login(session, C.CKU_USER, USER_PIN.encode(), len(USER_PIN)) == C.CKR_OK
    helper = lib.openSession(slot, PyKCS11.CKF_RW_SESSION)  # same application: already logged in
    pub, priv = generate(helper, 256, "rawkey")
    key = public_key(helper, pub, 256)
    helper.closeSession()
    return session, handle(priv), key


def test_sign_output_length_convention(raw: Raw, raw_key) -> None:
    session, priv, key = raw_key
    digest = gost.streebog256(b"size query").digest()
    mech = CK_MECHANISM(C.CKM_GOSTR3410, None, 0)
    assert raw.C_SignInit(session, ctypes.byref(mech), priv) == C.CKR_OK
    length = CK_ULONG(0)
    assert raw.C_Sign(session, digest, 32, None, ctypes.byref(length)) == C.CKR_OK  # a length query
    assert length.value == 64
    buf = ctypes.create_string_buffer(64)
    length.value = 10
    assert raw.C_Sign(session, digest, 32, buf, ctypes.byref(length)) == C.CKR_BUFFER_TOO_SMALL
    assert length.value == 64  # the needed size, and the operation is still active:
    assert raw.C_Sign(session, digest, 32, buf, ctypes.byref(length)) == C.CKR_OK
    assert length.value == 64
    assert key.verify_digest(digest, buf.raw)
    # a successful C_Sign ends the operation
    assert raw.C_Sign(session, digest, 32, buf, ctypes.byref(length)) == C.CKR_OPERATION_NOT_INITIALIZED


def test_digest_output_length_convention(raw: Raw, raw_key) -> None:
    session = raw_key[0]
    mech = CK_MECHANISM(C.CKM_GOSTR3411_12_512, None, 0)
    assert raw.C_DigestInit(session, ctypes.byref(mech)) == C.CKR_OK
    assert raw.C_DigestUpdate(session, b"hello ", 6) == C.CKR_OK
    assert raw.C_DigestUpdate(session, b"world", 5) == C.CKR_OK
    length = CK_ULONG(0)
    assert raw.C_DigestFinal(session, None, ctypes.byref(length)) == C.CKR_OK
    assert length.value == 64
    buf = ctypes.create_string_buffer(64)
    length.value = 63
    assert raw.C_DigestFinal(session, buf, ctypes.byref(length)) == C.CKR_BUFFER_TOO_SMALL
    assert length.value == 64
    assert raw.C_DigestFinal(session, buf, ctypes.byref(length)) == C.CKR_OK
    assert buf.raw == gost.streebog512(b"hello world").digest()


def test_get_attribute_value_rules(raw: Raw, raw_key) -> None:
    """PKCS#11 v2.40 section 5.7, C_GetAttributeValue: every attribute is answered on its own."""
    session, priv, _ = raw_key
    key_type = CK_ULONG()
    template = (CK_ATTRIBUTE * 4)(
        CK_ATTRIBUTE(C.CKA_LABEL, None, 0),  # NULL pValue: the length
        CK_ATTRIBUTE(C.CKA_VALUE, None, 0),  # sensitive: unavailable
        CK_ATTRIBUTE(C.CKA_KEY_TYPE, ctypes.addressof(key_type), 8),  # big enough: the value
        CK_ATTRIBUTE(0x7FFF1234, None, 0),  # no such attribute: unavailable
    )
    rv = raw.C_GetAttributeValue(session, priv, template, 4)
    assert rv in (C.CKR_ATTRIBUTE_SENSITIVE, C.CKR_ATTRIBUTE_TYPE_INVALID)
    assert template[0].ulValueLen == len("rawkey")
    assert template[1].ulValueLen == C.CK_UNAVAILABLE_INFORMATION
    assert (template[2].ulValueLen, key_type.value) == (8, C.CKK_GOSTR3410)
    assert template[3].ulValueLen == C.CK_UNAVAILABLE_INFORMATION
    # a buffer too small: CKR_BUFFER_TOO_SMALL, that attribute unavailable, the others still filled
    small, cls = ctypes.create_string_buffer(2), CK_ULONG()
    template = (CK_ATTRIBUTE * 2)(
        CK_ATTRIBUTE(C.CKA_LABEL, ctypes.addressof(small), 2),
        CK_ATTRIBUTE(C.CKA_CLASS, ctypes.addressof(cls), 8),
    )
    assert raw.C_GetAttributeValue(session, priv, template, 2) == C.CKR_BUFFER_TOO_SMALL
    assert template[0].ulValueLen == C.CK_UNAVAILABLE_INFORMATION
    assert (template[1].ulValueLen, cls.value) == (8, C.CKO_PRIVATE_KEY)
    label = ctypes.create_string_buffer(6)
    template[0].pValue, template[0].ulValueLen = ctypes.addressof(label), 6
    assert raw.C_GetAttributeValue(session, priv, template, 2) == C.CKR_OK
    assert label.raw == b"rawkey"


def test_wait_for_slot_event_non_blocking(raw: Raw) -> None:
    slot = CK_ULONG()
    assert raw.C_WaitForSlotEvent(C.CKF_DONT_BLOCK, ctypes.byref(slot), None) in (C.CKR_NO_EVENT, C.CKR_OK)
    assert raw.C_WaitForSlotEvent(C.CKF_DONT_BLOCK, ctypes.byref(slot), ctypes.byref(slot)) == C.CKR_ARGUMENTS_BAD


# ---------------------------------------------------------------------------------------------------------------
# Sessions and login


def test_session_states_follow_login(lib) -> None:
    slot = slot_of(lib, "rules")
    ro = lib.openSession(slot)
    rw = lib.openSession(slot, PyKCS11.CKF_RW_SESSION)
    assert ro.getSessionInfo().state == C.CKS_RO_PUBLIC_SESSION
    assert rw.getSessionInfo().state == C.CKS_RW_PUBLIC_SESSION
    assert rw.getSessionInfo().flags & PyKCS11.CKF_RW_SESSION
    ro.login(USER_PIN)
    # login state is per application: every session of the token changes
    assert ro.getSessionInfo().state == C.CKS_RO_USER_FUNCTIONS
    assert rw.getSessionInfo().state == C.CKS_RW_USER_FUNCTIONS
    assert ckr(rw.login, USER_PIN) == C.CKR_USER_ALREADY_LOGGED_IN
    assert ckr(rw.login, SO_PIN, PyKCS11.CKU_SO) == C.CKR_USER_ANOTHER_ALREADY_LOGGED_IN
    rw.logout()
    assert ro.getSessionInfo().state == C.CKS_RO_PUBLIC_SESSION
    assert ckr(rw.logout) == C.CKR_USER_NOT_LOGGED_IN
    # the SO logs in only when no R/O session is open
    assert ckr(rw.login, SO_PIN, PyKCS11.CKU_SO) == C.CKR_SESSION_READ_ONLY_EXISTS
    ro.closeSession()
    rw.login(SO_PIN, PyKCS11.CKU_SO)
    assert rw.getSessionInfo().state == C.CKS_RW_SO_FUNCTIONS
    assert ckr(lib.openSession, slot) == C.CKR_SESSION_READ_WRITE_SO_EXISTS
    rw.logout()
    # closing every session logs the application out
    rw.login(USER_PIN)
    lib.closeAllSessions(slot)
    again = lib.openSession(slot)
    assert again.getSessionInfo().state == C.CKS_RO_PUBLIC_SESSION
    again.closeSession()


def test_session_misuse_codes(lib, raw: Raw) -> None:
    slot = slot_of(lib, "rules")
    handle = CK_ULONG()
    # CKF_SERIAL_SESSION is mandatory (PKCS#11 v2.40 section 5.6, C_OpenSession)
    assert raw.C_OpenSession(slot, C.CKF_RW_SESSION, None, None, ctypes.byref(handle)) == \
        C.CKR_SESSION_PARALLEL_NOT_SUPPORTED
    assert ckr(lib.openSession, 0x7777) == C.CKR_SLOT_ID_INVALID
    session = lib.openSession(slot)
    assert ckr(session.login, "0000") == C.CKR_PIN_INCORRECT
    assert ckr(session.login, USER_PIN, 7) == C.CKR_USER_TYPE_INVALID
    session.login(USER_PIN)  # a right PIN resets the counter the wrong one used
    assert lib.getTokenInfo(slot).flags & C.CKF_USER_PIN_COUNT_LOW == 0
    session.logout()
    session.closeSession()
    assert ckr(session.getSessionInfo) == C.CKR_SESSION_HANDLE_INVALID
    assert raw.C_CloseSession(0xDEAD) == C.CKR_SESSION_HANDLE_INVALID


def test_pin_retries_lock_and_so_unblock(lib, sim_dir: Path) -> None:
    SimRoot(sim_dir).create("pins", SO_PIN.encode(), USER_PIN.encode(), retries=3)
    slot = slot_of(lib, "pins")
    session = lib.openSession(slot, PyKCS11.CKF_RW_SESSION)
    assert ckr(session.login, "9999") == C.CKR_PIN_INCORRECT
    assert lib.getTokenInfo(slot).flags & C.CKF_USER_PIN_COUNT_LOW
    assert ckr(session.login, "9999") == C.CKR_PIN_INCORRECT
    assert lib.getTokenInfo(slot).flags & C.CKF_USER_PIN_FINAL_TRY
    assert ckr(session.login, "9999") == C.CKR_PIN_INCORRECT  # the try that uses the counter up
    assert lib.getTokenInfo(slot).flags & C.CKF_USER_PIN_LOCKED
    assert ckr(session.login, USER_PIN) == C.CKR_PIN_LOCKED  # even the right PIN
    # the SO unblocks by setting a new user PIN (C_InitPIN)
    session.login(SO_PIN, PyKCS11.CKU_SO)
    session.initPin("5678")
    session.logout()
    assert lib.getTokenInfo(slot).flags & C.CKF_USER_PIN_LOCKED == 0
    assert ckr(session.login, USER_PIN) == C.CKR_PIN_INCORRECT
    session.login("5678")
    # C_SetPIN by the user: the old PIN must be right
    assert ckr(session.setPin, "0000", "4321") == C.CKR_PIN_INCORRECT
    session.setPin("5678", "4321")
    session.logout()
    assert ckr(session.login, "5678") == C.CKR_PIN_INCORRECT
    session.login("4321")
    session.logout()
    ro = lib.openSession(slot)
    assert ckr(ro.setPin, "4321", "1111") == C.CKR_SESSION_READ_ONLY
    lib.closeAllSessions(slot)


def test_init_token(lib, sim_dir: Path) -> None:
    SimRoot(sim_dir).create("to-reset", SO_PIN.encode(), USER_PIN.encode())
    slot = slot_of(lib, "to-reset")
    assert ckr(lib.initToken, slot, "00000000", "whatever") == C.CKR_PIN_INCORRECT
    lib.initToken(slot, SO_PIN, "fresh label")  # PyKCS11 passes a NUL-terminated string, not a padded field
    token = lib.getTokenInfo(slot)
    assert token.label == "fresh label".ljust(32)
    assert token.flags & C.CKF_TOKEN_INITIALIZED and not token.flags & C.CKF_USER_PIN_INITIALIZED
    session = lib.openSession(slot)
    assert ckr(session.login, USER_PIN) == C.CKR_USER_PIN_NOT_INITIALIZED
    session.closeSession()


# ---------------------------------------------------------------------------------------------------------------
# Objects


def test_private_objects_hidden_before_login(lib) -> None:
    slot = slot_of(lib, "objects")
    session = lib.openSession(slot, PyKCS11.CKF_RW_SESSION)
    session.login(USER_PIN)
    pub, priv = generate(session, 256, "hidden")
    session.logout()
    assert session.findObjects([(PyKCS11.CKA_CLASS, PyKCS11.CKO_PRIVATE_KEY)]) == []
    assert [handle(h) for h in session.findObjects([(PyKCS11.CKA_CLASS, PyKCS11.CKO_PUBLIC_KEY)])] == [handle(pub)]
    assert ckr(session.getAttributeValue, priv, [PyKCS11.CKA_LABEL]) == C.CKR_OBJECT_HANDLE_INVALID
    session.login(USER_PIN)
    assert [handle(h) for h in session.findObjects([(PyKCS11.CKA_CLASS, PyKCS11.CKO_PRIVATE_KEY)])] == [handle(priv)]
    sensitive, extractable, local = session.getAttributeValue(
        priv, [PyKCS11.CKA_SENSITIVE, PyKCS11.CKA_EXTRACTABLE, PyKCS11.CKA_LOCAL])
    assert (sensitive, extractable, local) == (True, False, True)
    # a private token object cannot be created without login; a token object not in an R/O session
    session.logout()
    data = [(PyKCS11.CKA_CLASS, PyKCS11.CKO_DATA), (PyKCS11.CKA_TOKEN, True), (PyKCS11.CKA_PRIVATE, True),
            (PyKCS11.CKA_LABEL, "secret note"), (PyKCS11.CKA_VALUE, b"note")]
    assert ckr(session.createObject, data) == C.CKR_USER_NOT_LOGGED_IN
    ro = lib.openSession(slot)
    assert ckr(ro.createObject, data) == C.CKR_SESSION_READ_ONLY
    lib.closeAllSessions(slot)


def test_create_modify_destroy_object(lib) -> None:
    slot = slot_of(lib, "objects")
    session = lib.openSession(slot, PyKCS11.CKF_RW_SESSION)
    session.login(USER_PIN)
    note = session.createObject([(PyKCS11.CKA_CLASS, PyKCS11.CKO_DATA), (PyKCS11.CKA_TOKEN, True),
                                   (PyKCS11.CKA_LABEL, "note"), (PyKCS11.CKA_VALUE, b"\x00\x01payload")])
    found = session.findObjects([(PyKCS11.CKA_LABEL, "note")])
    assert [handle(h) for h in found] == [handle(note)]
    assert bytes(session.getAttributeValue(note, [PyKCS11.CKA_VALUE], allAsBinary=True)[0]) == b"\x00\x01payload"
    session.setAttributeValue(note, [(PyKCS11.CKA_LABEL, "renamed")])
    assert session.getAttributeValue(note, [PyKCS11.CKA_LABEL])[0] == "renamed"
    session.destroyObject(note)
    assert session.findObjects([(PyKCS11.CKA_LABEL, "renamed")]) == []
    assert ckr(session.destroyObject, note) == C.CKR_OBJECT_HANDLE_INVALID
    session.logout()
    session.closeSession()


@pytest.mark.parametrize("size", [256, 512])
def test_generated_key_pair(main, size: int) -> None:
    session, keys = main
    pub, priv, key = keys[size]
    curve, digest = (CURVE_256, STREEBOG_256) if size == 256 else (CURVE_512, STREEBOG_512)
    key_type = C.CKK_GOSTR3410 if size == 256 else C.CKK_GOSTR3410_512
    for obj in (pub, priv):
        attrs = session.getAttributeValue(
            obj, [PyKCS11.CKA_KEY_TYPE, PyKCS11.CKA_GOSTR3410_PARAMS, PyKCS11.CKA_GOSTR3411_PARAMS,
                     PyKCS11.CKA_LOCAL], allAsBinary=True)
        assert int.from_bytes(bytes(attrs[0]), "little") == key_type
        assert bytes(attrs[1]) == der_oid(curve)
        assert bytes(attrs[2]) == der_oid(digest)
        assert tuple(attrs[3]) == (1,)
    assert len(key.to_bytes()) == size // 4  # X||Y, each little-endian
    gen_mech = session.getAttributeValue(priv, [PyKCS11.CKA_KEY_GEN_MECHANISM])[0]
    assert gen_mech == (C.CKM_GOSTR3410_KEY_PAIR_GEN if size == 256 else C.CKM_GOSTR3410_512_KEY_PAIR_GEN)


# ---------------------------------------------------------------------------------------------------------------
# Signing, verifying, digests


def _openssl_accepts(size: int, key: gost.PublicKey, digest: bytes, signature: bytes) -> bool:
    require(openssl_gost.available(), f"OpenSSL GOST engine: {openssl_gost.reason()}")
    oracle_key = openssl_gost.public_key(CURVE_256 if size == 256 else CURVE_512, key.to_bytes())
    return openssl_gost.verify_digest(oracle_key, digest, signature)


SIGNING = [
    pytest.param(256, C.CKM_GOSTR3410, True, id="GOSTR3410"),
    pytest.param(512, C.CKM_GOSTR3410_512, True, id="GOSTR3410_512"),
    pytest.param(256, C.CKM_GOSTR3410_WITH_GOSTR3411_12_256, False, id="WITH_GOSTR3411_12_256"),
    pytest.param(512, C.CKM_GOSTR3410_WITH_GOSTR3411_12_512, False, id="WITH_GOSTR3411_12_512"),
]


@pytest.mark.parametrize(("size", "mech", "digest_input"), SIGNING)
def test_sign_every_mechanism(main, size: int, mech: int, digest_input: bool) -> None:
    session, keys = main
    pub, priv, key = keys[size]
    message = b"registration request " * 7
    digest = (gost.streebog256 if size == 256 else gost.streebog512)(message).digest()
    signed = digest if digest_input else message
    signature = bytes(session.sign(priv, signed, PyKCS11.Mechanism(mech, None)))
    assert len(signature) == size // 4
    assert key.verify_digest(digest, signature)
    assert _openssl_accepts(size, key, digest, signature)
    assert session.verify(pub, signed, signature, PyKCS11.Mechanism(mech, None))
    tampered = bytes([signature[0] ^ 1]) + signature[1:]
    assert not session.verify(pub, signed, tampered, PyKCS11.Mechanism(mech, None))


@pytest.mark.parametrize("size", [256, 512])
def test_multipart_sign_and_verify(main, size: int) -> None:
    session, keys = main
    pub, priv, key = keys[size]
    mech = C.CKM_GOSTR3410_WITH_GOSTR3411_12_256 if size == 256 else C.CKM_GOSTR3410_WITH_GOSTR3411_12_512
    low, h = session.lib, session.session
    parts = [b"first part, ", b"second part, " * 50, b"end"]
    assert low.C_SignInit(h, PyKCS11.Mechanism(mech, None).to_native(), priv) == C.CKR_OK
    for part in parts:
        assert low.C_SignUpdate(h, PyKCS11.ckbytelist(part)) == C.CKR_OK
    signature = PyKCS11.ckbytelist()
    assert low.C_SignFinal(h, signature) == C.CKR_OK  # PyKCS11 asks the size first, then signs
    assert low.C_SignFinal(h, signature) == C.CKR_OK
    signature = bytes(signature)
    digest = (gost.streebog256 if size == 256 else gost.streebog512)(b"".join(parts)).digest()
    assert key.verify_digest(digest, signature)
    assert _openssl_accepts(size, key, digest, signature)
    assert low.C_VerifyInit(h, PyKCS11.Mechanism(mech, None).to_native(), pub) == C.CKR_OK
    for part in parts:
        assert low.C_VerifyUpdate(h, PyKCS11.ckbytelist(part)) == C.CKR_OK
    assert low.C_VerifyFinal(h, PyKCS11.ckbytelist(signature)) == C.CKR_OK


@pytest.mark.parametrize(("mech", "ours", "oracle_name"), [
    (C.CKM_GOSTR3411_12_256, gost.streebog256, "md_gost12_256"),
    (C.CKM_GOSTR3411_12_512, gost.streebog512, "md_gost12_512"),
])
def test_digests(main, mech: int, ours, oracle_name: str) -> None:
    session = main[0]
    data = bytes(range(256)) * 5
    single = bytes(session.digest(data, PyKCS11.Mechanism(mech, None)))
    assert single == ours(data).digest()
    require(openssl_gost.available(), f"OpenSSL GOST engine: {openssl_gost.reason()}")
    assert single == openssl_gost.digest(oracle_name, data)
    multi = session.digestSession(PyKCS11.Mechanism(mech, None))
    multi.update(data[:100])
    multi.update(data[100:])
    assert bytes(multi.final()) == single


def test_signing_misuse_codes(lib, main) -> None:
    slot = slot_of(lib, "misuse")
    session = lib.openSession(slot, PyKCS11.CKF_RW_SESSION)
    session.login(USER_PIN)
    pub, priv = generate(session, 256, "misuse")
    low, h = session.lib, session.session

    def sign_init(mech: int, key: int) -> int:
        return low.C_SignInit(h, PyKCS11.Mechanism(mech, None).to_native(), key)

    assert sign_init(0x7FFF0001, priv) == C.CKR_MECHANISM_INVALID
    assert sign_init(C.CKM_GOSTR3411_12_256, priv) == C.CKR_MECHANISM_INVALID  # a digest, not a signature
    bad = PyKCS11.CK_OBJECT_HANDLE(session)
    bad.assign(0xBAD)
    assert sign_init(C.CKM_GOSTR3410, bad) == C.CKR_KEY_HANDLE_INVALID
    assert sign_init(C.CKM_GOSTR3410_512, priv) == C.CKR_KEY_TYPE_INCONSISTENT  # 512 mechanism, 256 key
    assert sign_init(C.CKM_GOSTR3410, pub) in (C.CKR_KEY_TYPE_INCONSISTENT, C.CKR_KEY_FUNCTION_NOT_PERMITTED)
    out = PyKCS11.ckbytelist()
    assert low.C_Sign(h, PyKCS11.ckbytelist(b"x" * 32), out) == C.CKR_OPERATION_NOT_INITIALIZED
    assert sign_init(C.CKM_GOSTR3410, priv) == C.CKR_OK
    assert sign_init(C.CKM_GOSTR3410, priv) == C.CKR_OPERATION_ACTIVE
    assert low.C_Sign(h, PyKCS11.ckbytelist(b"x" * 31), out) == C.CKR_OK  # an empty list: a length query
    assert len(out) == 64
    assert low.C_Sign(h, PyKCS11.ckbytelist(b"x" * 31), out) == C.CKR_DATA_LEN_RANGE  # a 256-bit digest is 32 bytes
    assert sign_init(C.CKM_GOSTR3410_WITH_GOSTR3411_12_256, priv) == C.CKR_OK
    assert low.C_SignUpdate(h, PyKCS11.ckbytelist(b"part")) == C.CKR_OK
    assert low.C_Sign(h, PyKCS11.ckbytelist(b"x"), out) == C.CKR_OPERATION_ACTIVE  # one-shot after an update
    low.C_SignFinal(h, out)
    low.C_SignFinal(h, out)
    assert low.C_VerifyInit(h, PyKCS11.Mechanism(C.CKM_GOSTR3410, None).to_native(), pub) == C.CKR_OK
    assert low.C_Verify(h, PyKCS11.ckbytelist(b"x" * 32), PyKCS11.ckbytelist(b"s" * 63)) == C.CKR_SIGNATURE_LEN_RANGE
    assert low.C_VerifyInit(h, PyKCS11.Mechanism(C.CKM_GOSTR3410, None).to_native(), pub) == C.CKR_OK
    assert low.C_Verify(h, PyKCS11.ckbytelist(b"x" * 32), PyKCS11.ckbytelist(b"s" * 64)) == C.CKR_SIGNATURE_INVALID
    # key-pair generation rules
    no_curve = [(PyKCS11.CKA_CLASS, PyKCS11.CKO_PUBLIC_KEY), (PyKCS11.CKA_KEY_TYPE, C.CKK_GOSTR3410)]
    assert ckr(session.generateKeyPair, no_curve, [(PyKCS11.CKA_CLASS, PyKCS11.CKO_PRIVATE_KEY)],
               PyKCS11.Mechanism(C.CKM_GOSTR3410_KEY_PAIR_GEN, None)) == C.CKR_TEMPLATE_INCOMPLETE
    # once logged out, the private key is out of reach
    session.logout()
    assert sign_init(C.CKM_GOSTR3410, priv) == C.CKR_USER_NOT_LOGGED_IN
    ro = lib.openSession(slot)
    ro.login(USER_PIN)
    assert ckr(generate, ro, 256, "ro") == C.CKR_SESSION_READ_ONLY
    lib.closeAllSessions(slot)


def test_random(main) -> None:
    session = main[0]
    first, second = bytes(session.generateRandom(32)), bytes(session.generateRandom(32))
    assert len(first) == 32 and first != second
    assert ckr(session.seedRandom, b"seed") in (C.CKR_OK, C.CKR_RANDOM_SEED_NOT_SUPPORTED)


# ---------------------------------------------------------------------------------------------------------------
# Robustness: Python failures, threads, a fresh host process


def test_python_exception_becomes_general_error(lib, main, sim_dir: Path, capfd, monkeypatch) -> None:
    keys = main[1]
    session = lib.openSession(slot_of(lib, "main"))
    engine = glue.current_engine()
    assert engine is not None  # the module runs in this interpreter: its glue is this process's pkcs11_sim.glue

    def broken(*args, **kwargs):
        raise RuntimeError("simulated engine bug")

    slot = slot_of(lib, "misuse")
    monkeypatch.setattr(engine, "get_token_info", broken)
    monkeypatch.setattr(engine, "sign", broken)
    assert ckr(lib.getTokenInfo, 0) == C.CKR_GENERAL_ERROR
    assert ckr(session.sign, keys[256][1], b"y" * 32, PyKCS11.Mechanism(C.CKM_GOSTR3410, None)) == \
        C.CKR_GENERAL_ERROR
    err = capfd.readouterr().err
    assert "internal error in C_GetTokenInfo: RuntimeError: simulated engine bug" in err
    assert "internal error in C_Sign" in err
    log = (sim_dir / "module.log").read_text()
    assert "simulated engine bug" in log and "Traceback" in log
    monkeypatch.undo()
    assert lib.getTokenInfo(slot).label.strip()
    session.closeSession()  # its signing operation never finished
    session = lib.openSession(slot_of(lib, "main"))
    digest = b"z" * 32
    signature = bytes(session.sign(keys[256][1], digest, PyKCS11.Mechanism(C.CKM_GOSTR3410, None)))
    assert keys[256][2].verify_digest(digest, signature)
    session.closeSession()


def test_sessions_in_several_threads(lib, main) -> None:
    keys = main[1]
    slot = slot_of(lib, "main")
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            session = lib.openSession(slot)  # the application is logged in: the key is usable at once
            for i in range(15):
                size = 256 if (n + i) % 2 else 512
                digest = (gost.streebog256 if size == 256 else gost.streebog512)(b"%d/%d" % (n, i)).digest()
                mech = C.CKM_GOSTR3410 if size == 256 else C.CKM_GOSTR3410_512
                signature = bytes(session.sign(keys[size][1], digest, PyKCS11.Mechanism(mech, None)))
                assert keys[size][2].verify_digest(digest, signature)
            session.closeSession()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors


def test_calls_without_the_gil_from_several_threads(lib, raw: Raw) -> None:
    """ctypes drops the GIL around each call: the module must take it itself (cffi) in every thread."""
    slot = slot_of(lib, "raw")
    results: list[int] = []

    def worker() -> None:
        session = raw.open_session(slot, C.CKF_SERIAL_SESSION)
        buf = ctypes.create_string_buffer(32)
        info = ctypes.create_string_buffer(256)
        for _ in range(100):
            results.append(raw.C_GenerateRandom(session, buf, 32))
            results.append(raw.C_GetTokenInfo(slot, info))
        results.append(raw.C_CloseSession(session))

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(results) == 4 * 201 and set(results) == {C.CKR_OK}


FRESH_HOST = textwrap.dedent("""
    import ctypes, sys
    import PyKCS11
    path = sys.argv[1]
    dll = ctypes.CDLL(path)                      # RTLD_LOCAL, like a C host
    class Args(ctypes.Structure):
        _fields_ = [("m", ctypes.c_void_p * 4), ("flags", ctypes.c_ulong), ("reserved", ctypes.c_void_p)]
    for name in ("C_Initialize", "C_Finalize", "C_GetInfo"):
        getattr(dll, name).restype = ctypes.c_ulong
    args = Args(flags=2)                         # CKF_OS_LOCKING_OK
    info = ctypes.create_string_buffer(88)
    print(dll.C_GetInfo(info), dll.C_Initialize(ctypes.byref(args)), dll.C_GetInfo(info),
          dll.C_Finalize(None), dll.C_Finalize(None))
    # PyKCS11 dlclose()s the module at unload; loading it again must work (the library is never unmapped)
    for _ in range(2):
        lib = PyKCS11.PyKCS11Lib().load(path)
        print(len(lib.getSlotList()))
        lib.unload()
        del lib
""")


def test_fresh_python_host(path: str, sim_dir: Path) -> None:
    env = dict(os.environ, PKCS11_SIM_DIR=str(sim_dir))
    out = subprocess.run([sys.executable, "-c", FRESH_HOST, path], capture_output=True, text=True, env=env,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.split("\n")
    not_init, ok = C.CKR_CRYPTOKI_NOT_INITIALIZED, C.CKR_OK
    assert lines[0].split() == [str(v) for v in (not_init, ok, ok, ok, not_init)]
    assert int(lines[1]) == int(lines[2]) >= 5

"""The simulator's PKCS#11 v2.40 semantics: the object the loadable module's C glue calls, one per process.

Every method takes and returns plain Python values (ints, bytes, str, lists, dicts, tuples) and raises
:class:`~pkcs11_sim.errors.CkrError` with the exact CK_RV for every failure; the glue turns any other exception into
CKR_GENERAL_ERROR. Strings in info dicts are unpadded; the glue blank-pads them to the PKCS#11 field widths
(32 for labels and manufacturer/description ids, 16 for model, serial and utc_time); versions are (major, minor).
A method call holds the engine's RLock, so the engine is safe to call from any number of threads.

What lives where:

* tokens, PINs, counters, token objects, presence and fault settings: the token store (:mod:`.store`), re-read at
  every call so other processes' changes are seen;
* sessions, login state, session objects, active operations and object handles: this process only, as on a real
  token (PKCS#11 v2.40 section 5.6: login state is per application).

Removal: a session remembers the token's presence epoch at C_OpenSession; when the token was removed (or removed
and inserted again) the session's next call fails with CKR_DEVICE_REMOVED and the session is gone afterwards
(CKR_SESSION_HANDLE_INVALID). Slot-level calls on an absent token answer CKR_TOKEN_NOT_PRESENT.

Fault injection (``pkcs11-sim fault``): the latency and "fail the next N operations with CKR x" apply to the calls
that do token work -- C_OpenSession, C_InitToken, C_InitPIN, C_SetPIN, C_Login, object management, C_FindObjectsInit,
the Init / single / Update / Final calls of digest, sign and verify, C_GenerateKeyPair, C_GenerateRandom -- and
not to info calls, slot lists, C_CloseSession or C_FindObjects, so a faulty token stays visible.

Mechanisms: GOST R 34.10-2012 key-pair generation (256 and 512), signing a digest (CKM_GOSTR3410 /
CKM_GOSTR3410_512: the input is the 32/64-byte Streebog output exactly as a hash function returns it), hash and
sign (CKM_GOSTR3410_WITH_GOSTR3411_12_256/512, single and multi-part) and Streebog digests. Signatures are
s || r, each half big-endian -- the PKCS#11 v2.40 form for GOST R 34.10 mechanisms, the same bytes as
:meth:`signagent.gost.PrivateKey.sign_digest` and what OpenSC's pkcs11-tool passes on unchanged.
"""

from __future__ import annotations

import functools
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from signagent.errors import SignAgentError
from signagent.gost import PrivateKey, PublicKey, streebog256, streebog512

from . import constants as C
from .attributes import as_bool, as_int, match_value, oid_dotted, parse_template, ulong
from .errors import CkrError
from .objects import STREEBOG256_OID, STREEBOG512_OID, build, check_modifiable, key_curve
from .store import MAX_PIN_LEN, MIN_PIN_LEN, SimRoot, TokenStore

__all__ = ["Engine"]

F = TypeVar("F", bound=Callable[..., Any])

LIBRARY_VERSION = (0, 1)
MANUFACTURER_ID = "signagent"
LIBRARY_DESCRIPTION = "signagent pkcs11-sim GOST token"
HARDWARE_VERSION = (1, 0)
FIRMWARE_VERSION = (0, 1)


@dataclass(frozen=True)
class _Mechanism:
    min_bits: int
    max_bits: int
    flags: int
    key_type: int | None = None  # for signing and key generation
    hash_factory: Callable[[], Any] | None = None  # for digests and hash-and-sign
    digest_size: int = 0  # the input length of a raw "sign a digest" mechanism


MECHANISMS: dict[int, _Mechanism] = {
    C.CKM_GOSTR3410_KEY_PAIR_GEN: _Mechanism(256, 256, C.CKF_GENERATE_KEY_PAIR, C.CKK_GOSTR3410),
    C.CKM_GOSTR3410_512_KEY_PAIR_GEN: _Mechanism(512, 512, C.CKF_GENERATE_KEY_PAIR, C.CKK_GOSTR3410_512),
    C.CKM_GOSTR3410: _Mechanism(256, 256, C.CKF_SIGN | C.CKF_VERIFY, C.CKK_GOSTR3410, digest_size=32),
    C.CKM_GOSTR3410_512: _Mechanism(512, 512, C.CKF_SIGN | C.CKF_VERIFY, C.CKK_GOSTR3410_512, digest_size=64),
    C.CKM_GOSTR3410_WITH_GOSTR3411_12_256: _Mechanism(256, 256, C.CKF_SIGN | C.CKF_VERIFY, C.CKK_GOSTR3410,
                                                      streebog256),
    C.CKM_GOSTR3410_WITH_GOSTR3411_12_512: _Mechanism(512, 512, C.CKF_SIGN | C.CKF_VERIFY, C.CKK_GOSTR3410_512,
                                                      streebog512),
    C.CKM_GOSTR3411_12_256: _Mechanism(0, 0, C.CKF_DIGEST, hash_factory=streebog256),
    C.CKM_GOSTR3411_12_512: _Mechanism(0, 0, C.CKF_DIGEST, hash_factory=streebog512),
}
_HASH_PARAM_OK = {
    C.CKM_GOSTR3410_WITH_GOSTR3411_12_256: STREEBOG256_OID,
    C.CKM_GOSTR3410_WITH_GOSTR3411_12_512: STREEBOG512_OID,
}


@dataclass
class _Operation:
    """An active digest, sign or verify operation of a session."""

    mechanism: int
    hasher: Any = None  # Streebog object for digests and hash-and-sign
    private_key: PrivateKey | None = None
    public_key: PublicKey | None = None
    size: int = 0  # curve size in bytes (signature = 2 * size), or the digest size
    raw_size: int = 0  # expected input length of CKM_GOSTR3410(_512)
    updated: bool = False  # an Update call happened: only Final may follow


@dataclass
class _SessionObject:
    attrs: dict[int, bytes]
    secrets: dict[int, bytes]


@dataclass
class _Session:
    handle: int
    slot: int
    store: TokenStore
    rw: bool
    epoch: int
    operations: dict[str, _Operation] = field(default_factory=dict)
    found: list[int] | None = None  # the result of C_FindObjectsInit still to hand out


@dataclass
class _Login:
    user_type: int
    token_key: bytes
    epoch: int


@dataclass
class _ObjectRef:
    """What an object handle points at: a token object (store + uid) or a session object."""

    store: TokenStore
    uid: int | None = None
    session: int | None = None
    obj: _SessionObject | None = None


def _api(method: F) -> F:
    """Hold the engine lock and require C_Initialize for the call."""

    @functools.wraps(method)
    def wrapper(self: Engine, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            if not self._initialized:
                raise CkrError(C.CKR_CRYPTOKI_NOT_INITIALIZED)
            return method(self, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


class Engine:
    """PKCS#11 semantics over the simulator's token store. Construct once; the glue calls its methods."""

    def __init__(self, root: str | Path | None = None) -> None:
        self._root_arg = root
        self._lock = threading.RLock()
        self._initialized = False
        self._reset()

    def _reset(self) -> None:
        self._root: SimRoot | None = None
        self._sessions: dict[int, _Session] = {}
        self._logins: dict[int, _Login] = {}
        self._objects: dict[int, _ObjectRef] = {}
        self._token_handles: dict[tuple[str, int], int] = {}
        self._next_handle = 1
        self._next_session = 1
        self._seen_events: dict[int, tuple[bool, int, str]] = {}
        self._key_cache: dict[tuple[str, int], PrivateKey] = {}

    # ================================================================================================ general
    def initialize(self) -> None:
        """C_Initialize: CKR_CRYPTOKI_ALREADY_INITIALIZED when called twice. Reads $PKCS11_SIM_DIR now."""
        with self._lock:
            if self._initialized:
                raise CkrError(C.CKR_CRYPTOKI_ALREADY_INITIALIZED)
            self._reset()
            self._root = SimRoot(self._root_arg)
            self._initialized = True
            self._seen_events = self._presence_snapshot()

    @_api
    def finalize(self) -> None:
        """C_Finalize: every session closed, every login dropped."""
        self._initialized = False
        self._reset()

    @_api
    def get_info(self) -> dict[str, Any]:
        """C_GetInfo."""
        return {
            "cryptoki_version": (2, 40),
            "manufacturer_id": MANUFACTURER_ID,
            "flags": 0,
            "library_description": LIBRARY_DESCRIPTION,
            "library_version": LIBRARY_VERSION,
        }

    # ================================================================================================ slots
    def _tokens(self) -> list[TokenStore]:
        assert self._root is not None
        return self._root.tokens()

    def _slot_store(self, slot: int) -> TokenStore:
        for store in self._tokens():
            if store.slot_id == slot:
                return store
        raise CkrError(C.CKR_SLOT_ID_INVALID)

    def _present_store(self, slot: int) -> TokenStore:
        store = self._slot_store(slot)
        if not store.load()["present"]:
            raise CkrError(C.CKR_TOKEN_NOT_PRESENT)
        return store

    @_api
    def get_slot_list(self, token_present: bool) -> list[int]:
        """C_GetSlotList: every simulated token is a slot; ``token_present`` keeps only inserted ones."""
        return [s.slot_id for s in self._tokens() if not token_present or s.load()["present"]]

    @_api
    def get_slot_info(self, slot: int) -> dict[str, Any]:
        """C_GetSlotInfo: a removable reader; CKF_TOKEN_PRESENT while the token is inserted."""
        store = self._slot_store(slot)
        flags = C.CKF_REMOVABLE_DEVICE | (C.CKF_TOKEN_PRESENT if store.load()["present"] else 0)
        return {
            "slot_description": f"pkcs11-sim virtual reader {slot}",
            "manufacturer_id": MANUFACTURER_ID,
            "flags": flags,
            "hardware_version": HARDWARE_VERSION,
            "firmware_version": FIRMWARE_VERSION,
        }

    @_api
    def get_token_info(self, slot: int) -> dict[str, Any]:
        """C_GetTokenInfo: label, serial, model, flags (PIN counter flags like real tokens), session counts."""
        store = self._present_store(slot)
        state = store.load()
        sessions = [s for s in self._sessions.values() if s.slot == slot]
        unavailable = C.CK_UNAVAILABLE_INFORMATION
        return {
            "label": state["label"],
            "manufacturer_id": state["manufacturer"],
            "model": state["model"],
            "serial_number": state["serial"],
            "flags": store.token_flags(),
            "max_session_count": C.CK_EFFECTIVELY_INFINITE,
            "session_count": len(sessions),
            "max_rw_session_count": C.CK_EFFECTIVELY_INFINITE,
            "rw_session_count": sum(1 for s in sessions if s.rw),
            "max_pin_len": MAX_PIN_LEN,
            "min_pin_len": MIN_PIN_LEN,
            "total_public_memory": unavailable,
            "free_public_memory": unavailable,
            "total_private_memory": unavailable,
            "free_private_memory": unavailable,
            "hardware_version": HARDWARE_VERSION,
            "firmware_version": FIRMWARE_VERSION,
            "utc_time": "",
        }

    @_api
    def get_mechanism_list(self, slot: int) -> list[int]:
        """C_GetMechanismList."""
        self._present_store(slot)
        return list(MECHANISMS)

    @_api
    def get_mechanism_info(self, slot: int, mech: int) -> tuple[int, int, int]:
        """C_GetMechanismInfo: (min key bits, max key bits, CKF_ flags); CKR_MECHANISM_INVALID if unknown."""
        self._present_store(slot)
        info = MECHANISMS.get(mech)
        if info is None:
            raise CkrError(C.CKR_MECHANISM_INVALID)
        return info.min_bits, info.max_bits, info.flags

    def _presence_snapshot(self) -> dict[int, tuple[bool, int, str]]:
        out = {}
        for store in self._tokens():
            state = store.load()
            out[store.slot_id] = (bool(state["present"]), int(state["presence_epoch"]), state["serial"])
        return out

    def _poll_event(self) -> int | None:
        now = self._presence_snapshot()
        for slot in sorted(set(now) | set(self._seen_events)):
            if now.get(slot) != self._seen_events.get(slot):
                if slot in now:
                    self._seen_events[slot] = now[slot]
                else:
                    self._seen_events.pop(slot, None)
                return slot
        return None

    def wait_for_slot_event(self, dont_block: bool) -> int:
        """C_WaitForSlotEvent: the slot whose token was inserted or removed since the last call (or C_Initialize).

        With ``dont_block`` CKR_NO_EVENT when nothing happened; otherwise polls until an event or C_Finalize
        (then CKR_CRYPTOKI_NOT_INITIALIZED).
        """
        while True:
            with self._lock:
                if not self._initialized:
                    raise CkrError(C.CKR_CRYPTOKI_NOT_INITIALIZED)
                slot = self._poll_event()
                if slot is not None:
                    return slot
                if dont_block:
                    raise CkrError(C.CKR_NO_EVENT)
            time.sleep(0.1)

    # ================================================================================================ token admin
    def _fault(self, store: TokenStore, state: dict[str, Any] | None = None) -> None:
        """Apply the token's injected latency and "fail next N" (see the module docstring)."""
        ckr, latency_ms = store.take_fault(state)
        if latency_ms > 0:
            time.sleep(latency_ms / 1000.0)
        if ckr is not None:
            raise CkrError(ckr, "injected fault")

    @_api
    def init_token(self, slot: int, so_pin: bytes, label: str) -> None:
        """C_InitToken: with the right SO PIN, every object is destroyed and the user PIN unset.

        CKR_SESSION_EXISTS while this process has sessions on the slot.
        """
        store = self._present_store(slot)
        self._fault(store)
        if any(s.slot == slot for s in self._sessions.values()):
            raise CkrError(C.CKR_SESSION_EXISTS)
        if not isinstance(label, str) or len(label.encode()) > 32:
            raise CkrError(C.CKR_ARGUMENTS_BAD, "the label has at most 32 bytes")
        store.reinitialize(bytes(so_pin), label.rstrip(" ") or store.label)
        self._forget_token(store)

    def _forget_token(self, store: TokenStore) -> None:
        serial_objects = [h for h, ref in self._objects.items() if ref.store is store]
        for h in serial_objects:
            del self._objects[h]
        self._token_handles = {k: v for k, v in self._token_handles.items() if v in self._objects}
        self._key_cache.clear()

    @_api
    def init_pin(self, session: int, pin: bytes) -> None:
        """C_InitPIN (SO, R/W session): sets the user PIN with a full counter -- also the way to unblock it."""
        s = self._session(session)
        login = self._logins.get(s.slot)
        if login is None or login.user_type != C.CKU_SO:
            raise CkrError(C.CKR_USER_NOT_LOGGED_IN)
        if not s.rw:
            raise CkrError(C.CKR_SESSION_READ_ONLY)
        s.store.init_user_pin(login.token_key, bytes(pin))

    @_api
    def set_pin(self, session: int, old: bytes, new: bytes) -> None:
        """C_SetPIN: the SO's PIN in an SO session, the user's otherwise (the old PIN counts as a login try)."""
        s = self._session(session)
        if not s.rw:
            raise CkrError(C.CKR_SESSION_READ_ONLY)
        login = self._logins.get(s.slot)
        role = "so" if login is not None and login.user_type == C.CKU_SO else "user"
        s.store.change_pin(role, bytes(old), bytes(new))

    # ================================================================================================ sessions
    def _session(self, handle: int, *, fault: bool = True) -> _Session:
        """The live session, or CKR_SESSION_HANDLE_INVALID / CKR_DEVICE_REMOVED (then the session is gone)."""
        s = self._sessions.get(handle)
        if s is None:
            raise CkrError(C.CKR_SESSION_HANDLE_INVALID)
        state: dict[str, Any] | None = None
        try:
            state = s.store.load()
            alive = bool(state["present"]) and int(state["presence_epoch"]) == s.epoch
        except CkrError:
            alive = False
        if not alive:
            self._drop_session(s)
            login = self._logins.get(s.slot)
            if login is not None and login.epoch == s.epoch:
                del self._logins[s.slot]
            raise CkrError(C.CKR_DEVICE_REMOVED)
        if fault:
            self._fault(s.store, state)
        return s

    def _drop_session(self, s: _Session) -> None:
        self._sessions.pop(s.handle, None)
        for h in [h for h, ref in self._objects.items() if ref.session == s.handle]:
            del self._objects[h]
        if not any(other.slot == s.slot for other in self._sessions.values()):
            self._logins.pop(s.slot, None)  # closing the last session logs the application out (v2.40 5.6)

    @_api
    def open_session(self, slot: int, flags: int) -> int:
        """C_OpenSession: needs CKF_SERIAL_SESSION; R/O sessions are refused while the SO is logged in."""
        store = self._present_store(slot)
        if not flags & C.CKF_SERIAL_SESSION:
            raise CkrError(C.CKR_SESSION_PARALLEL_NOT_SUPPORTED)
        self._fault(store)
        epoch = int(store.load()["presence_epoch"])
        login = self._logins.get(slot)
        if login is not None and login.epoch != epoch:
            del self._logins[slot]
            login = None
        rw = bool(flags & C.CKF_RW_SESSION)
        if not rw and login is not None and login.user_type == C.CKU_SO:
            raise CkrError(C.CKR_SESSION_READ_WRITE_SO_EXISTS)
        handle = self._next_session
        self._next_session += 1
        self._sessions[handle] = _Session(handle, slot, store, rw, epoch)
        return handle

    @_api
    def close_session(self, session: int) -> None:
        """C_CloseSession (also of a session whose token was removed)."""
        s = self._sessions.get(session)
        if s is None:
            raise CkrError(C.CKR_SESSION_HANDLE_INVALID)
        self._drop_session(s)

    @_api
    def close_all_sessions(self, slot: int) -> None:
        """C_CloseAllSessions."""
        self._slot_store(slot)
        for s in [s for s in self._sessions.values() if s.slot == slot]:
            self._drop_session(s)
        self._logins.pop(slot, None)

    @_api
    def get_session_info(self, session: int) -> tuple[int, int, int, int]:
        """C_GetSessionInfo: (slot, CKS_ state, CKF_ flags, device error)."""
        s = self._session(session, fault=False)
        login = self._logins.get(s.slot)
        if login is not None and login.user_type == C.CKU_SO:
            state = C.CKS_RW_SO_FUNCTIONS
        elif login is not None:
            state = C.CKS_RW_USER_FUNCTIONS if s.rw else C.CKS_RO_USER_FUNCTIONS
        else:
            state = C.CKS_RW_PUBLIC_SESSION if s.rw else C.CKS_RO_PUBLIC_SESSION
        flags = C.CKF_SERIAL_SESSION | (C.CKF_RW_SESSION if s.rw else 0)
        return s.slot, state, flags, 0

    @_api
    def login(self, session: int, user_type: int, pin: bytes) -> None:
        """C_Login with the v2.40 rules: one user type per application and token, SO only without R/O sessions."""
        s = self._session(session)
        if user_type not in (C.CKU_SO, C.CKU_USER, C.CKU_CONTEXT_SPECIFIC):
            raise CkrError(C.CKR_USER_TYPE_INVALID)
        if not isinstance(pin, bytes | bytearray):
            raise CkrError(C.CKR_ARGUMENTS_BAD)
        current = self._logins.get(s.slot)
        if user_type == C.CKU_CONTEXT_SPECIFIC:
            if current is None or current.user_type != C.CKU_USER:
                raise CkrError(C.CKR_USER_NOT_LOGGED_IN)
            s.store.check_pin("user", bytes(pin))
            return
        if current is not None:
            if current.user_type == user_type:
                raise CkrError(C.CKR_USER_ALREADY_LOGGED_IN)
            raise CkrError(C.CKR_USER_ANOTHER_ALREADY_LOGGED_IN)
        if user_type == C.CKU_SO and any(o.slot == s.slot and not o.rw for o in self._sessions.values()):
            raise CkrError(C.CKR_SESSION_READ_ONLY_EXISTS)
        # check_pin spends the try on disk before comparing (as a card does), so a C_Login killed half-way has
        # used it: PKCS#11 v2.40 section 5.6 leaves the counter to the token, and this token counts like a card.
        token_key = s.store.check_pin("so" if user_type == C.CKU_SO else "user", bytes(pin))
        self._logins[s.slot] = _Login(user_type, token_key, s.epoch)

    @_api
    def logout(self, session: int) -> None:
        """C_Logout: CKR_USER_NOT_LOGGED_IN when nobody is logged in."""
        s = self._session(session)
        if self._logins.pop(s.slot, None) is None:
            raise CkrError(C.CKR_USER_NOT_LOGGED_IN)
        self._key_cache.clear()

    def _user(self, s: _Session) -> _Login | None:
        login = self._logins.get(s.slot)
        return login if login is not None and login.user_type == C.CKU_USER else None

    # ================================================================================================ objects
    def _new_handle(self, ref: _ObjectRef) -> int:
        handle = self._next_handle
        self._next_handle += 1
        self._objects[handle] = ref
        return handle

    def _token_handle(self, store: TokenStore, uid: int) -> int:
        key = (store.serial, uid)
        handle = self._token_handles.get(key)
        if handle is None or handle not in self._objects:
            handle = self._new_handle(_ObjectRef(store, uid=uid))
            self._token_handles[key] = handle
        return handle

    def _lookup(self, s: _Session, handle: int) -> tuple[_ObjectRef, dict[int, bytes], set[int]] | None:
        """(reference, clear attributes, sealed attribute types) of an object in the session's token, or None."""
        ref = self._objects.get(handle)
        if ref is None or ref.store is not s.store:
            return None
        if ref.obj is not None:
            if ref.session not in self._sessions:
                return None
            return ref, ref.obj.attrs, set(ref.obj.secrets)
        assert ref.uid is not None
        stored = s.store.objects().get(ref.uid)
        if stored is None:
            return None
        return ref, stored.attrs, set(stored.sealed)

    def _object(self, s: _Session, handle: int, missing: int = C.CKR_OBJECT_HANDLE_INVALID
                ) -> tuple[_ObjectRef, dict[int, bytes], set[int]]:
        found = self._lookup(s, handle)
        if found is None:
            raise CkrError(missing)
        if as_bool(found[1].get(C.CKA_PRIVATE)) and self._user(s) is None:
            if missing == C.CKR_KEY_HANDLE_INVALID:
                raise CkrError(C.CKR_USER_NOT_LOGGED_IN, "the key is a private object")
            raise CkrError(missing)
        return found

    def _store_object(self, s: _Session, attrs: dict[int, bytes], secrets: dict[int, bytes]) -> int:
        """Put a built object in the token (CKA_TOKEN) or in the session; the caller checked the rules."""
        if as_bool(attrs.get(C.CKA_TOKEN)):
            login = self._logins.get(s.slot)
            uid = s.store.add_object(attrs, secrets, login.token_key if login else None)
            return self._token_handle(s.store, uid)
        return self._new_handle(_ObjectRef(s.store, session=s.handle, obj=_SessionObject(attrs, dict(secrets))))

    def _check_write(self, s: _Session, attrs: dict[int, bytes], *, needs_user: bool = False) -> None:
        """R/W session for token objects, user login for private objects."""
        if as_bool(attrs.get(C.CKA_TOKEN)) and not s.rw:
            raise CkrError(C.CKR_SESSION_READ_ONLY)
        if (needs_user or as_bool(attrs.get(C.CKA_PRIVATE))) and self._user(s) is None:
            raise CkrError(C.CKR_USER_NOT_LOGGED_IN)

    @_api
    def create_object(self, session: int, template: list[tuple[int, bytes]]) -> int:
        """C_CreateObject: data objects, X.509 certificates, GOST public and private keys."""
        s = self._session(session)
        parsed = parse_template(template)
        attrs, secrets = build(parsed)
        self._check_write(s, attrs, needs_user=bool(secrets))
        return self._store_object(s, attrs, secrets)

    @_api
    def destroy_object(self, session: int, handle: int) -> None:
        """C_DestroyObject."""
        s = self._session(session)
        ref, attrs, _ = self._object(s, handle)
        if as_bool(attrs.get(C.CKA_TOKEN)) and not s.rw:
            raise CkrError(C.CKR_SESSION_READ_ONLY)
        if not as_bool(attrs.get(C.CKA_DESTROYABLE), True):
            raise CkrError(C.CKR_ACTION_PROHIBITED)
        if ref.uid is not None:
            s.store.delete_object(ref.uid)
            self._key_cache.pop((s.store.serial, ref.uid), None)
        del self._objects[handle]

    @_api
    def get_attribute_value(self, session: int, handle: int, types: list[int]) -> tuple[int, list[bytes | None]]:
        """C_GetAttributeValue (v2.40 section 5.7): every available value is returned; for the others None and the
        call's rv is CKR_ATTRIBUTE_SENSITIVE (a secret that may not leave the token) or CKR_ATTRIBUTE_TYPE_INVALID
        (an attribute the object does not have)."""
        s = self._session(session)
        ref, attrs, sealed = self._object(s, handle)
        values: list[bytes | None] = []
        sensitive = invalid = False
        for t in types:
            t = int(t)
            if t in sealed:
                value = self._reveal_if_allowed(s, ref, attrs, t)
                sensitive |= value is None
                values.append(value)
            elif t in attrs:
                values.append(attrs[t])
            else:
                invalid = True
                values.append(None)
        rv = C.CKR_ATTRIBUTE_SENSITIVE if sensitive else C.CKR_ATTRIBUTE_TYPE_INVALID if invalid else C.CKR_OK
        return rv, values

    def _reveal_if_allowed(self, s: _Session, ref: _ObjectRef, attrs: dict[int, bytes], t: int) -> bytes | None:
        if as_bool(attrs.get(C.CKA_SENSITIVE), True) or not as_bool(attrs.get(C.CKA_EXTRACTABLE)):
            return None
        if ref.obj is not None:
            return ref.obj.secrets[t]
        login = self._user(s)
        if login is None or ref.uid is None:
            return None
        return s.store.reveal(ref.uid, t, login.token_key)

    @_api
    def set_attribute_value(self, session: int, handle: int, template: list[tuple[int, bytes]]) -> None:
        """C_SetAttributeValue (label, id, usage flags...; CKR_ATTRIBUTE_READ_ONLY for the rest)."""
        s = self._session(session)
        ref, attrs, sealed = self._object(s, handle)
        if as_bool(attrs.get(C.CKA_TOKEN)) and not s.rw:
            raise CkrError(C.CKR_SESSION_READ_ONLY)
        changes = parse_template(template)
        check_modifiable(attrs, changes, sealed)
        if ref.obj is not None:
            ref.obj.attrs.update(changes)
        else:
            assert ref.uid is not None
            s.store.set_attributes(ref.uid, changes)

    @_api
    def find_objects_init(self, session: int, template: list[tuple[int, bytes]]) -> None:
        """C_FindObjectsInit: objects matching every template attribute; private ones only after user login."""
        s = self._session(session)
        if s.found is not None:
            raise CkrError(C.CKR_OPERATION_ACTIVE)
        wanted: list[tuple[int, bytes | None]] = [(int(t), match_value(int(t), v)) for t, v in template]
        logged_in = self._user(s) is not None
        result = []
        candidates: list[tuple[int, dict[int, bytes]]] = []
        for uid, stored in sorted(s.store.objects().items()):
            candidates.append((self._token_handle(s.store, uid), stored.attrs))
        for handle, ref in sorted(self._objects.items()):
            if ref.obj is not None and ref.session in self._sessions and ref.store is s.store:
                candidates.append((handle, ref.obj.attrs))
        for handle, attrs in candidates:
            if as_bool(attrs.get(C.CKA_PRIVATE)) and not logged_in:
                continue
            if all(v is not None and attrs.get(t) == v for t, v in wanted):
                result.append(handle)
        s.found = result

    @_api
    def find_objects(self, session: int, max_count: int) -> list[int]:
        """C_FindObjects: up to ``max_count`` more handles."""
        s = self._session(session, fault=False)
        if s.found is None:
            raise CkrError(C.CKR_OPERATION_NOT_INITIALIZED)
        out, s.found = s.found[: max(0, max_count)], s.found[max(0, max_count):]
        return out

    @_api
    def find_objects_final(self, session: int) -> None:
        """C_FindObjectsFinal."""
        s = self._session(session, fault=False)
        if s.found is None:
            raise CkrError(C.CKR_OPERATION_NOT_INITIALIZED)
        s.found = None

    # ================================================================================================ crypto
    def _start(self, s: _Session, kind: str) -> None:
        if kind in s.operations:
            raise CkrError(C.CKR_OPERATION_ACTIVE)

    def _active(self, s: _Session, kind: str) -> _Operation:
        op = s.operations.get(kind)
        if op is None:
            raise CkrError(C.CKR_OPERATION_NOT_INITIALIZED)
        return op

    @staticmethod
    def _no_param(param: bytes | None) -> None:
        if param:
            raise CkrError(C.CKR_MECHANISM_PARAM_INVALID)

    @_api
    def digest_init(self, session: int, mech: int, param: bytes | None) -> None:
        """C_DigestInit: CKM_GOSTR3411_12_256 / CKM_GOSTR3411_12_512."""
        s = self._session(session)
        self._start(s, "digest")
        info = MECHANISMS.get(mech)
        if info is None or not info.flags & C.CKF_DIGEST:
            raise CkrError(C.CKR_MECHANISM_INVALID)
        self._no_param(param)
        hasher = info.hash_factory()  # type: ignore[misc]
        s.operations["digest"] = _Operation(mech, hasher=hasher, size=hasher.digest_size)

    @_api
    def digest(self, session: int, data: bytes) -> bytes:
        """C_Digest (single part; ends the operation)."""
        s = self._session(session)
        op = self._active(s, "digest")
        del s.operations["digest"]
        if op.updated:
            raise CkrError(C.CKR_OPERATION_ACTIVE, "C_Digest after C_DigestUpdate")
        op.hasher.update(bytes(data))
        return op.hasher.digest()

    @_api
    def digest_update(self, session: int, data: bytes) -> None:
        """C_DigestUpdate."""
        s = self._session(session)
        op = self._active(s, "digest")
        op.hasher.update(bytes(data))
        op.updated = True

    @_api
    def digest_final(self, session: int) -> bytes:
        """C_DigestFinal."""
        s = self._session(session)
        op = self._active(s, "digest")
        del s.operations["digest"]
        return op.hasher.digest()

    def _signing_mechanism(self, mech: int, param: bytes | None) -> _Mechanism:
        info = MECHANISMS.get(mech)
        if info is None or not info.flags & C.CKF_SIGN:
            raise CkrError(C.CKR_MECHANISM_INVALID)
        if param:
            # Hash-and-sign mechanisms may carry the DER OID of their hash (TC 26 PKCS#11 extensions); nothing else.
            expected = _HASH_PARAM_OK.get(mech)
            try:
                ok = expected is not None and oid_dotted(param) == expected
            except CkrError:
                ok = False
            if not ok:
                raise CkrError(C.CKR_MECHANISM_PARAM_INVALID)
        return info

    def _key_for(self, s: _Session, info: _Mechanism, handle: int, cls: int, usage: int
                 ) -> tuple[_ObjectRef, dict[int, bytes]]:
        ref, attrs, _ = self._object(s, handle, C.CKR_KEY_HANDLE_INVALID)
        if as_int(attrs[C.CKA_CLASS]) != cls:
            raise CkrError(C.CKR_KEY_TYPE_INCONSISTENT, "wrong key class for this operation")
        if as_int(attrs[C.CKA_KEY_TYPE]) != info.key_type:
            raise CkrError(C.CKR_KEY_TYPE_INCONSISTENT)
        if not as_bool(attrs.get(usage)):
            raise CkrError(C.CKR_KEY_FUNCTION_NOT_PERMITTED)
        return ref, attrs

    def _private_key(self, s: _Session, ref: _ObjectRef, attrs: dict[int, bytes]) -> PrivateKey:
        if ref.obj is not None:
            return PrivateKey.from_bytes(key_curve(attrs), ref.obj.secrets[C.CKA_VALUE])
        assert ref.uid is not None
        # Unsealed keys are kept for the process's login (a real token keeps its keys at hand too); the cache is
        # dropped at logout, C_InitToken and C_DestroyObject.
        cache_key = (s.store.serial, ref.uid)
        key = self._key_cache.get(cache_key)
        if key is None:
            login = self._user(s)
            if login is None:
                raise CkrError(C.CKR_USER_NOT_LOGGED_IN)
            value = s.store.reveal(ref.uid, C.CKA_VALUE, login.token_key)
            key = PrivateKey.from_bytes(key_curve(attrs), value)
            self._key_cache[cache_key] = key
        return key

    @_api
    def sign_init(self, session: int, mech: int, param: bytes | None, key: int) -> None:
        """C_SignInit with a GOST private key (CKR_KEY_TYPE_INCONSISTENT for a key of the other size)."""
        s = self._session(session)
        self._start(s, "sign")
        info = self._signing_mechanism(mech, param)
        ref, attrs = self._key_for(s, info, key, C.CKO_PRIVATE_KEY, C.CKA_SIGN)
        private = self._private_key(s, ref, attrs)
        size = private.curve.size
        hasher = info.hash_factory() if info.hash_factory else None
        s.operations["sign"] = _Operation(mech, hasher=hasher, private_key=private, size=size,
                                          raw_size=info.digest_size)

    def _digest_of(self, op: _Operation, data: bytes | None) -> bytes:
        """The digest to sign or verify: the hash of the data, or the data itself for CKM_GOSTR3410(_512)."""
        if op.hasher is None:
            if data is None or len(data) != op.raw_size:
                raise CkrError(C.CKR_DATA_LEN_RANGE, f"the digest must be {op.raw_size} bytes")
            return data
        if data is not None:
            op.hasher.update(data)
        return op.hasher.digest()

    @_api
    def sign(self, session: int, data: bytes) -> bytes:
        """C_Sign (single part; ends the operation): s || r, each half big-endian."""
        s = self._session(session)
        op = self._active(s, "sign")
        del s.operations["sign"]
        if op.updated:
            raise CkrError(C.CKR_OPERATION_ACTIVE, "C_Sign after C_SignUpdate")
        assert op.private_key is not None
        return op.private_key.sign_digest(self._digest_of(op, bytes(data)))

    def _update(self, s: _Session, kind: str, data: bytes) -> None:
        op = self._active(s, kind)
        if op.hasher is None:  # signing a ready digest is single-part only (as in PKCS#11 for CKM_GOSTR3410)
            del s.operations[kind]
            raise CkrError(C.CKR_MECHANISM_INVALID, "this mechanism has no multi-part form")
        op.hasher.update(bytes(data))
        op.updated = True

    @_api
    def sign_update(self, session: int, data: bytes) -> None:
        """C_SignUpdate (hash-and-sign mechanisms)."""
        self._update(self._session(session), "sign", data)

    @_api
    def sign_final(self, session: int) -> bytes:
        """C_SignFinal."""
        s = self._session(session)
        op = self._active(s, "sign")
        del s.operations["sign"]
        assert op.private_key is not None
        return op.private_key.sign_digest(self._digest_of(op, None))

    @_api
    def output_length(self, session: int, operation: str) -> int:
        """The output size of the active "sign" or "digest" operation (for a size query; it stays active)."""
        s = self._session(session, fault=False)
        op = self._active(s, operation)
        return 2 * op.size if operation == "sign" else op.size

    @_api
    def verify_init(self, session: int, mech: int, param: bytes | None, key: int) -> None:
        """C_VerifyInit with a GOST public key object."""
        s = self._session(session)
        self._start(s, "verify")
        info = self._signing_mechanism(mech, param)
        _, attrs = self._key_for(s, info, key, C.CKO_PUBLIC_KEY, C.CKA_VERIFY)
        public = PublicKey.from_bytes(key_curve(attrs), attrs[C.CKA_VALUE])
        hasher = info.hash_factory() if info.hash_factory else None
        s.operations["verify"] = _Operation(mech, hasher=hasher, public_key=public, size=public.curve.size,
                                            raw_size=info.digest_size)

    def _check_signature(self, op: _Operation, digest: bytes, signature: bytes) -> None:
        if len(signature) != 2 * op.size:
            raise CkrError(C.CKR_SIGNATURE_LEN_RANGE)
        assert op.public_key is not None
        try:
            good = op.public_key.verify_digest(digest, signature)
        except SignAgentError:
            good = False
        if not good:
            raise CkrError(C.CKR_SIGNATURE_INVALID)

    @_api
    def verify(self, session: int, data: bytes, signature: bytes) -> None:
        """C_Verify: CKR_SIGNATURE_INVALID or CKR_SIGNATURE_LEN_RANGE on failure; ends the operation."""
        s = self._session(session)
        op = self._active(s, "verify")
        del s.operations["verify"]
        if op.updated:
            raise CkrError(C.CKR_OPERATION_ACTIVE, "C_Verify after C_VerifyUpdate")
        self._check_signature(op, self._digest_of(op, bytes(data)), bytes(signature))

    @_api
    def verify_update(self, session: int, data: bytes) -> None:
        """C_VerifyUpdate."""
        self._update(self._session(session), "verify", data)

    @_api
    def verify_final(self, session: int, signature: bytes) -> None:
        """C_VerifyFinal."""
        s = self._session(session)
        op = self._active(s, "verify")
        del s.operations["verify"]
        self._check_signature(op, self._digest_of(op, None), bytes(signature))

    @_api
    def generate_key_pair(self, session: int, mech: int, param: bytes | None,
                          public_template: list[tuple[int, bytes]],
                          private_template: list[tuple[int, bytes]]) -> tuple[int, int]:
        """C_GenerateKeyPair: CKM_GOSTR3410_KEY_PAIR_GEN / CKM_GOSTR3410_512_KEY_PAIR_GEN.

        The curve comes from CKA_GOSTR3410_PARAMS (DER OID) in either template; CKA_GOSTR3411_PARAMS defaults to
        the Streebog of the key's size. The private key is sensitive and not extractable unless asked otherwise.
        """
        s = self._session(session)
        info = MECHANISMS.get(mech)
        if info is None or not info.flags & C.CKF_GENERATE_KEY_PAIR:
            raise CkrError(C.CKR_MECHANISM_INVALID)
        self._no_param(param)
        pub_t, priv_t = parse_template(public_template), parse_template(private_template)
        for tpl, cls in ((pub_t, C.CKO_PUBLIC_KEY), (priv_t, C.CKO_PRIVATE_KEY)):
            if C.CKA_CLASS in tpl and as_int(tpl[C.CKA_CLASS]) != cls:
                raise CkrError(C.CKR_TEMPLATE_INCONSISTENT, "wrong CKA_CLASS in a key-pair template")
            if C.CKA_KEY_TYPE in tpl and as_int(tpl[C.CKA_KEY_TYPE]) != info.key_type:
                raise CkrError(C.CKR_TEMPLATE_INCONSISTENT, "CKA_KEY_TYPE does not match the mechanism")
            if C.CKA_VALUE in tpl:
                raise CkrError(C.CKR_ATTRIBUTE_READ_ONLY, "the token makes CKA_VALUE")
            for attr in (C.CKA_LOCAL, C.CKA_ALWAYS_SENSITIVE, C.CKA_NEVER_EXTRACTABLE, C.CKA_KEY_GEN_MECHANISM):
                if attr in tpl:
                    raise CkrError(C.CKR_ATTRIBUTE_READ_ONLY)
            tpl[C.CKA_CLASS] = ulong(cls)
            tpl[C.CKA_KEY_TYPE] = ulong(info.key_type or 0)
        params = pub_t.get(C.CKA_GOSTR3410_PARAMS) or priv_t.get(C.CKA_GOSTR3410_PARAMS)
        if params is None:
            raise CkrError(C.CKR_TEMPLATE_INCOMPLETE, "CKA_GOSTR3410_PARAMS is required")
        for tpl in (pub_t, priv_t):
            tpl.setdefault(C.CKA_GOSTR3410_PARAMS, params)
            if tpl[C.CKA_GOSTR3410_PARAMS] != params:
                raise CkrError(C.CKR_TEMPLATE_INCONSISTENT, "the two templates name different curves")
        found = key_curve(pub_t)
        if found.size * 8 != info.max_bits:
            raise CkrError(C.CKR_TEMPLATE_INCONSISTENT, "the curve size does not match the mechanism")
        hash_params = pub_t.get(C.CKA_GOSTR3411_PARAMS) or priv_t.get(C.CKA_GOSTR3411_PARAMS)
        if hash_params is not None:
            pub_t.setdefault(C.CKA_GOSTR3411_PARAMS, hash_params)
            priv_t.setdefault(C.CKA_GOSTR3411_PARAMS, hash_params)
        private = PrivateKey.generate(found)
        pub_t[C.CKA_VALUE] = private.public_key().to_bytes()
        priv_t[C.CKA_VALUE] = private.to_bytes()
        pub_attrs, _ = build(pub_t, generated=True)
        priv_attrs, priv_secrets = build(priv_t, generated=True)
        for attrs in (pub_attrs, priv_attrs):
            attrs[C.CKA_LOCAL] = b"\x01"
            attrs[C.CKA_KEY_GEN_MECHANISM] = ulong(mech)
        priv_attrs[C.CKA_ALWAYS_SENSITIVE] = priv_attrs[C.CKA_SENSITIVE]
        priv_attrs[C.CKA_NEVER_EXTRACTABLE] = b"\x00" if as_bool(priv_attrs[C.CKA_EXTRACTABLE]) else b"\x01"
        self._check_write(s, pub_attrs)
        self._check_write(s, priv_attrs, needs_user=True)
        pub_handle = self._store_object(s, pub_attrs, {})
        priv_handle = self._store_object(s, priv_attrs, priv_secrets)
        return pub_handle, priv_handle

    @_api
    def generate_random(self, session: int, length: int) -> bytes:
        """C_GenerateRandom: bytes from the operating system's CSPRNG."""
        self._session(session)
        if length < 0:
            raise CkrError(C.CKR_ARGUMENTS_BAD)
        return os.urandom(length)

    @_api
    def seed_random(self, session: int, seed: bytes) -> None:
        """C_SeedRandom: accepted and ignored (the OS generator needs no seeding)."""
        self._session(session)

"""The simulator's persistent token store: one directory per token under ``$PKCS11_SIM_DIR``.

The file itself (names, modes, lock, atomic replace) is :mod:`.statefile`; the PIN records are :mod:`.pins`. A
token directory made by an older version is tightened to 0700/0600 at its next change.

``token.json`` holds: format, generation (incremented by every write), slot id, label, serial, model,
manufacturer, presence (``present`` and a ``presence_epoch`` bumped by every remove/insert, so sessions opened
before a removal stay dead after re-insertion), PIN records, the next object uid, the objects and the fault
injection settings.

PINs: a record per role (:mod:`.pins`) wraps the *token key* that seals every private key value
(:mod:`pkcs11_sim.sealing`), so a PIN change, InitPIN by the SO or an SO unblock loses no key material.

A PIN check works like a card's (ISO/IEC 7816-4 section 11.5.6 VERIFY, PKCS#11 v2.40 section 5.6 C_Login): the
retry counter is decremented and the change made durable *before* the PIN is compared; a right PIN then restores
the counter. A process killed in between has used a try, and nothing observable before the decrement is on disk
depends on whether the PIN was right: both outcomes write the state the same way afterwards.

Crash safety: every change is read-modify-write under the token's lock and an atomic replace
(:mod:`.statefile`), so ``kill -9`` at any moment leaves the old or the new state; readers take no lock. Every
read checks the file's identity (inode, size, mtime, ctime) so another process's change (removal, PIN counters,
new objects) is seen at the next call, while an unchanged file is not parsed again.
"""

from __future__ import annotations

import hmac
import os
import re
import secrets
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from signagent.errors import InvalidInputError

from . import constants as C
from . import pinkdf, testhooks
from .errors import CkrError
from .pins import MAX_PIN_LEN, MIN_PIN_LEN, check_pin_format, counter_flags, new_pin_record, policy, token_key_aad
from .sealing import SealError, seal, unseal
from .statefile import (
    DIR_MODE,
    FILE_MODE,
    FORMAT,
    LOCK_FILE,
    STATE_FILE,
    atomic_write,
    default_root,
    encode_state,
    fsync_dir,
    locked,
    private_dir,
    read_state,
)

__all__ = [
    "DEFAULT_RETRIES",
    "MAX_PIN_LEN",
    "MIN_PIN_LEN",
    "SimRoot",
    "StoredObject",
    "TokenExistsError",
    "TokenNotFoundError",
    "TokenStore",
    "atomic_write",
    "default_root",
]

DEFAULT_RETRIES = 10
DEFAULT_MODEL = "pkcs11-sim GOST"
MANUFACTURER = "signagent"

T = TypeVar("T")


class TokenNotFoundError(InvalidInputError):
    """No simulated token has this label (or slot)."""

    code = "sim_token_not_found"


class TokenExistsError(InvalidInputError):
    """A simulated token with this label already exists."""

    code = "sim_token_exists"


def _derive(pin: bytes, salt: bytes, kdf: dict[str, Any]) -> tuple[bytes, bytes]:
    """(verifier, key-encryption key) of a PIN under a record's scheme (:func:`.pinkdf.derive`); the one derivation
    a PIN check compares with (a module global, so the crash tests can freeze the check right there)."""
    return pinkdf.derive(pin, salt, kdf)


@dataclass(frozen=True)
class StoredObject:
    """A token object as stored: its uid, its clear attributes and the types of its sealed attributes."""

    uid: int
    attrs: dict[int, bytes]
    sealed: frozenset[int]


class TokenStore:
    """One token directory. Reads are cached by file identity; every change goes through :meth:`update`."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._state_file = os.fspath(self.path / STATE_FILE)  # a str: os.stat on it is the per-call cost
        self._cache_key: tuple[int, ...] | None = None
        self._cache: dict[str, Any] | None = None
        self._objects_cache: tuple[int, dict[int, StoredObject]] | None = None

    # --- reading and writing -----------------------------------------------------------------------------------
    @property
    def state_path(self) -> Path:
        return self.path / STATE_FILE

    def exists(self) -> bool:
        """Whether the token directory still holds a state file (a deleted token disappears)."""
        return self.state_path.is_file()

    def load(self) -> dict[str, Any]:
        """The current state (read-only for the caller: change it only through :meth:`update`).

        Raises CkrError(CKR_TOKEN_NOT_PRESENT) when the token directory has disappeared.
        """
        try:
            st = os.stat(self._state_file)
        except FileNotFoundError:
            raise CkrError(C.CKR_TOKEN_NOT_PRESENT, "the token was deleted") from None
        key = (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
        if key != self._cache_key or self._cache is None:
            self._cache = self._read()
            self._cache_key = key
        return self._cache

    def _read(self) -> dict[str, Any]:
        return read_state(self.state_path)

    def update(self, change: Callable[[dict[str, Any]], T], *, always_write: bool = False) -> T:
        """Apply ``change`` to a fresh copy of the state under the token's lock and commit it atomically.

        ``change`` mutates the state it is given and returns a result. If it raises :class:`CkrError` after
        mutating, the mutation is still committed and the error re-raised; nothing is written when the state is
        unchanged, unless ``always_write`` (then the generation is bumped and the file rewritten all the same).
        """
        with locked(self.path / LOCK_FILE):
            state = self._read()
            before = encode_state(state)
            failure: CkrError | None = None
            result: Any = None
            try:
                result = change(state)
            except CkrError as exc:
                failure = exc
            if always_write or encode_state(state) != before:
                state["generation"] = int(state.get("generation", 0)) + 1
                state["format"] = FORMAT
                state.setdefault("pin_kdf", policy(state))
                self._tighten()
                atomic_write(self.state_path, encode_state(state))
            if failure is not None:
                raise failure
            return result

    def _tighten(self) -> None:
        """0700 on the token directory and 0600 on its state, for directories made before modes were set."""
        if (self.path.stat().st_mode & 0o777) != DIR_MODE:
            os.chmod(self.path, DIR_MODE)
        lock = self.path / LOCK_FILE
        if (lock.stat().st_mode & 0o777) != FILE_MODE:
            os.chmod(lock, FILE_MODE)

    # --- token information -------------------------------------------------------------------------------------
    @property
    def label(self) -> str:
        return str(self.load()["label"])

    @property
    def slot_id(self) -> int:
        return int(self.load()["slot_id"])

    @property
    def serial(self) -> str:
        return str(self.load()["serial"])

    def pin_status(self, role: str) -> dict[str, int] | None:
        """``{"tries_left", "max_tries"}`` of the user or SO PIN, or None when that PIN is not set."""
        rec = self.load()["pins"].get(role)
        if rec is None:
            return None
        return {"tries_left": int(rec["tries_left"]), "max_tries": int(rec["max_tries"])}

    def token_flags(self) -> int:
        """CKF_ token flags from the state: initialised, login required, RNG, PIN counter flags like real tokens."""
        state = self.load()
        flags = C.CKF_RNG | C.CKF_LOGIN_REQUIRED | C.CKF_TOKEN_INITIALIZED
        user = state["pins"].get("user")
        if user is not None:
            flags |= C.CKF_USER_PIN_INITIALIZED
            flags |= counter_flags(user, C.CKF_USER_PIN_COUNT_LOW, C.CKF_USER_PIN_FINAL_TRY, C.CKF_USER_PIN_LOCKED)
        so = state["pins"]["so"]
        flags |= counter_flags(so, C.CKF_SO_PIN_COUNT_LOW, C.CKF_SO_PIN_FINAL_TRY, C.CKF_SO_PIN_LOCKED)
        return flags

    # --- PINs ---------------------------------------------------------------------------------------------------
    def check_pin(self, role: str, pin: bytes) -> bytes:
        """Verify the ``"user"`` or ``"so"`` PIN and return the token key, counting the try as a card does.

        1. Under the lock: CKR_USER_PIN_NOT_INITIALIZED when the PIN was never set, CKR_PIN_LOCKED at a counter of
           0 (nothing checked); else the counter is decremented and the state committed (fsync'd, atomic) --
           before anything is compared, so a process killed from here on has spent the try.
        2. Outside the lock: the derivation (tens of milliseconds) and the comparison.
        3. Under the lock again, written on both outcomes alike: a wrong PIN keeps the decrement and raises
           CKR_PIN_INCORRECT (the try that empties the counter still says "incorrect", the next says "locked", as
           real tokens do); a right one restores the full counter, re-derives a legacy record with the token's
           current scheme, and returns the token key.
        """
        if not isinstance(pin, bytes | bytearray):
            raise CkrError(C.CKR_ARGUMENTS_BAD, "a PIN must be bytes")
        pin = bytes(pin)

        def take_try(state: dict[str, Any]) -> dict[str, Any]:
            rec = state["pins"].get(role)
            if rec is None:
                raise CkrError(C.CKR_USER_PIN_NOT_INITIALIZED)
            if int(rec["tries_left"]) <= 0:
                raise CkrError(C.CKR_PIN_LOCKED)
            rec["tries_left"] = int(rec["tries_left"]) - 1
            return {**rec, "_aad": token_key_aad(state, role), "_policy": policy(state)}

        seen = self.update(take_try)
        testhooks.reached("after-pin-decrement")

        kdf = pinkdf.record_kdf(seen)
        verifier, kek = _derive(pin, bytes.fromhex(seen["salt"]), kdf)
        good = hmac.compare_digest(verifier, bytes.fromhex(seen["verifier"]))
        token_key: bytes | None = None
        upgraded: dict[str, Any] | None = None
        if good:
            try:
                token_key = unseal(kek, bytes.fromhex(seen["wrapped_key"]), seen["_aad"])
            except SealError:
                token_key = None
            if token_key is not None and not pinkdf.is_current(kdf, seen["_policy"]):
                upgraded = new_pin_record(self.load(), role, pin, token_key, int(seen["max_tries"]))

        def settle(state: dict[str, Any]) -> bytes:
            current = state["pins"].get(role)
            if current is None:
                raise CkrError(C.CKR_USER_PIN_NOT_INITIALIZED)
            if current["salt"] != seen["salt"]:  # the PIN changed meanwhile: the try stays spent
                raise CkrError(C.CKR_PIN_INCORRECT, "the PIN changed during the check")
            if not good:
                raise CkrError(C.CKR_PIN_INCORRECT)
            current["tries_left"] = int(current["max_tries"])
            if token_key is None:
                raise CkrError(C.CKR_DEVICE_ERROR, "the token key does not unwrap")
            if upgraded is not None:
                state["pins"][role] = {**upgraded, "tries_left": int(current["max_tries"]),
                                       "max_tries": int(current["max_tries"])}
            return token_key

        return self.update(settle, always_write=True)

    def change_pin(self, role: str, old_pin: bytes, new_pin: bytes) -> None:
        """C_SetPIN: verify ``old_pin`` (counting tries) and re-wrap the token key under ``new_pin``."""
        check_pin_format(new_pin)
        token_key = self.check_pin(role, old_pin)
        self._set_pin_record(role, bytes(new_pin), token_key)

    def init_user_pin(self, token_key: bytes, new_pin: bytes) -> None:
        """C_InitPIN by the SO (or an SO unblock): set the user PIN, full counter, same token key."""
        check_pin_format(new_pin)
        self._set_pin_record("user", bytes(new_pin), token_key)

    def _set_pin_record(self, role: str, pin: bytes, token_key: bytes) -> None:
        def apply(state: dict[str, Any]) -> None:
            old = state["pins"].get(role)
            max_tries = int(old["max_tries"]) if old else int(state["retries"][role])
            state["pins"][role] = new_pin_record(state, role, pin, token_key, max_tries)

        self.update(apply)

    def unblock(self, so_pin: bytes, new_user_pin: bytes) -> None:
        """SO unblock: verify the SO PIN, then set a new user PIN with a full counter; keys stay usable."""
        check_pin_format(new_user_pin)
        token_key = self.check_pin("so", so_pin)
        self.init_user_pin(token_key, new_user_pin)

    def lock_pin(self, role: str = "user") -> None:
        """Set a PIN's retry counter to 0 (fault injection: the token then answers CKR_PIN_LOCKED)."""

        def apply(state: dict[str, Any]) -> None:
            rec = state["pins"].get(role)
            if rec is None:
                raise CkrError(C.CKR_USER_PIN_NOT_INITIALIZED)
            rec["tries_left"] = 0

        self.update(apply)

    def reinitialize(self, so_pin: bytes, label: str) -> None:
        """C_InitToken on an initialised token: SO PIN checked, every object destroyed, a new token key, the user
        PIN unset, the new label; the SO PIN stays the same."""
        self.check_pin("so", so_pin)
        token_key = os.urandom(64)

        def apply(state: dict[str, Any]) -> None:
            state["label"] = label
            state["objects"] = {}
            state["pins"]["user"] = None
            state["pins"]["so"] = new_pin_record(state, "so", bytes(so_pin), token_key,
                                                       int(state["pins"]["so"]["max_tries"]))
            state["presence_epoch"] = int(state["presence_epoch"]) + 1

        self.update(apply)

    # --- presence and faults ----------------------------------------------------------------------------------
    def set_present(self, present: bool) -> None:
        """Insert (True) or remove (False) the token; each change bumps the presence epoch."""

        def apply(state: dict[str, Any]) -> None:
            if bool(state["present"]) != present:
                state["present"] = present
                state["presence_epoch"] = int(state["presence_epoch"]) + 1

        self.update(apply)

    def set_faults(self, *, fail_next: int | None = None, ckr: int | None = None,
                   latency_ms: int | None = None, clear: bool = False) -> dict[str, int]:
        """Change the fault-injection settings and return them: fail the next N operations with a CKR, latency."""

        def apply(state: dict[str, Any]) -> dict[str, int]:
            faults = state["faults"]
            if clear:
                faults.update(fail_next=0, ckr=C.CKR_DEVICE_ERROR, latency_ms=0)
            if fail_next is not None:
                faults["fail_next"] = int(fail_next)
            if ckr is not None:
                faults["ckr"] = int(ckr)
            if latency_ms is not None:
                faults["latency_ms"] = int(latency_ms)
            return dict(faults)

        return self.update(apply)

    def take_fault(self, state: dict[str, Any] | None = None) -> tuple[int | None, int]:
        """For one operation: (CKR to fail with or None, latency in ms). Consumes one of the "fail next N".

        ``state`` is a just-loaded state, to spare a second look at the file.
        """
        faults = (state if state is not None else self.load())["faults"]
        latency = int(faults.get("latency_ms", 0))
        if int(faults.get("fail_next", 0)) <= 0:
            return None, latency

        def apply(state: dict[str, Any]) -> int | None:
            current = state["faults"]
            if int(current["fail_next"]) <= 0:
                return None
            current["fail_next"] = int(current["fail_next"]) - 1
            return int(current["ckr"])

        return self.update(apply), latency

    # --- objects ------------------------------------------------------------------------------------------------
    def objects(self) -> dict[int, StoredObject]:
        """Every token object by uid (decoded once per state generation)."""
        state = self.load()
        generation = int(state["generation"])
        if self._objects_cache is not None and self._objects_cache[0] == generation:
            return self._objects_cache[1]
        decoded: dict[int, StoredObject] = {}
        for uid_text, entry in state["objects"].items():
            uid = int(uid_text)
            attrs = {int(t): bytes.fromhex(v) for t, v in entry["attrs"].items()}
            decoded[uid] = StoredObject(uid, attrs, frozenset(int(t) for t in entry.get("sealed", {})))
        self._objects_cache = (generation, decoded)
        return decoded

    def _secret_aad(self, state: dict[str, Any], uid: int, attr: int) -> bytes:
        return f"pkcs11-sim object|{state['serial']}|{uid}|{attr}".encode()

    def add_object(self, attrs: dict[int, bytes], secrets_: dict[int, bytes] | None = None,
                   token_key: bytes | None = None) -> int:
        """Store a new object; ``secrets_`` (e.g. a private key's CKA_VALUE) are sealed under the token key."""
        if secrets_ and token_key is None:
            raise CkrError(C.CKR_USER_NOT_LOGGED_IN, "sealing needs the token key")

        def apply(state: dict[str, Any]) -> int:
            uid = int(state["next_uid"])
            state["next_uid"] = uid + 1
            entry: dict[str, Any] = {"attrs": {str(t): bytes(v).hex() for t, v in attrs.items()}, "sealed": {}}
            for t, v in (secrets_ or {}).items():
                assert token_key is not None
                entry["sealed"][str(t)] = seal(token_key, bytes(v), self._secret_aad(state, uid, t)).hex()
            state["objects"][str(uid)] = entry
            return uid

        return self.update(apply)

    def delete_object(self, uid: int) -> None:
        """Destroy a token object (CKR_OBJECT_HANDLE_INVALID when it is already gone)."""

        def apply(state: dict[str, Any]) -> None:
            if state["objects"].pop(str(uid), None) is None:
                raise CkrError(C.CKR_OBJECT_HANDLE_INVALID)

        self.update(apply)

    def set_attributes(self, uid: int, attrs: dict[int, bytes]) -> None:
        """Replace some clear attributes of a token object."""

        def apply(state: dict[str, Any]) -> None:
            entry = state["objects"].get(str(uid))
            if entry is None:
                raise CkrError(C.CKR_OBJECT_HANDLE_INVALID)
            for t, v in attrs.items():
                entry["attrs"][str(t)] = bytes(v).hex()

        self.update(apply)

    def reveal(self, uid: int, attr: int, token_key: bytes) -> bytes:
        """The clear value of a sealed attribute (CKR_DEVICE_ERROR if it does not authenticate)."""
        state = self.load()
        entry = state["objects"].get(str(uid))
        if entry is None or str(attr) not in entry.get("sealed", {}):
            raise CkrError(C.CKR_OBJECT_HANDLE_INVALID)
        try:
            return unseal(token_key, bytes.fromhex(entry["sealed"][str(attr)]), self._secret_aad(state, uid, attr))
        except SealError:
            raise CkrError(C.CKR_DEVICE_ERROR, "a sealed value does not authenticate") from None


def _slug(label: str) -> str:
    text = re.sub(r"[^A-Za-z0-9._-]+", "_", label).strip("._")
    return text[:48] or "token"


class SimRoot:
    """The directory holding every simulated token (``$PKCS11_SIM_DIR``)."""

    def __init__(self, root: str | Path | None = None) -> None:
        self.path = Path(root) if root is not None else default_root()
        self._stores: dict[str, TokenStore] = {}

    def tokens(self) -> list[TokenStore]:
        """Every token, ordered by slot id (directories whose state is unreadable are skipped)."""
        found = []
        try:
            entries = sorted(os.scandir(self.path), key=lambda e: e.name)
        except FileNotFoundError:
            return []
        for entry in entries:
            if entry.name.startswith(".") or not entry.is_dir():
                continue
            store = self._stores.get(entry.name)
            if store is None:
                store = self._stores[entry.name] = TokenStore(entry.path)
            try:
                store.load()
            except CkrError:
                continue
            found.append(store)
        return sorted(found, key=lambda s: s.slot_id)

    def find(self, label: str) -> TokenStore:
        """The token with this label; TokenNotFoundError otherwise."""
        for store in self.tokens():
            if store.label == label:
                return store
        raise TokenNotFoundError(label=repr(label), store=self.path)

    def create(self, label: str, so_pin: bytes, user_pin: bytes | None = None, *, model: str = DEFAULT_MODEL,
               retries: int = DEFAULT_RETRIES, so_retries: int | None = None,
               kdf_log2_n: int = pinkdf.DEFAULT_LOG2_N) -> TokenStore:
        """A new initialised token (the directory appears atomically, mode 0700). TokenExistsError for a taken label.

        ``kdf_log2_n`` sets the PIN derivation's cost (scrypt N = 2**kdf_log2_n, see :mod:`.pinkdf`); lower it
        only for tests.
        """
        if not label or len(label.encode()) > 32:
            raise InvalidInputError("a token label has 1 to 32 bytes of UTF-8")
        if retries < 1 or (so_retries is not None and so_retries < 1):
            raise InvalidInputError("retry counters must be at least 1")
        check_pin_format(so_pin)
        if user_pin is not None:
            check_pin_format(user_pin)
        if not self.path.is_dir():
            private_dir(self.path)  # a root we make is ours alone; an existing one keeps its mode
        with locked(self.path / LOCK_FILE):
            existing = self.tokens()
            if any(s.label == label for s in existing):
                raise TokenExistsError(label=repr(label))
            used = {s.slot_id for s in existing}
            slot_id = next(i for i in range(len(used) + 1) if i not in used)
            name = _slug(label)
            n = 1
            while (self.path / name).exists():
                n += 1
                name = f"{_slug(label)}-{n}"
            token_key = os.urandom(64)
            state: dict[str, Any] = {
                "format": FORMAT,
                "generation": 0,
                "slot_id": slot_id,
                "label": label,
                "serial": secrets.token_hex(8).upper(),
                "model": model[:16],
                "manufacturer": MANUFACTURER,
                "present": True,
                "presence_epoch": 0,
                "pin_kdf": pinkdf.scrypt_params(kdf_log2_n),
                "retries": {"user": retries, "so": so_retries or retries},
                "pins": {"user": None, "so": None},
                "next_uid": 1,
                "objects": {},
                "faults": {"fail_next": 0, "ckr": C.CKR_DEVICE_ERROR, "latency_ms": 0},
            }
            tmp_dir = self.path / f".new-{secrets.token_hex(6)}"
            tmp_dir.mkdir(mode=DIR_MODE)
            os.chmod(tmp_dir, DIR_MODE)
            state["pins"]["so"] = new_pin_record(state, "so", bytes(so_pin), token_key, state["retries"]["so"])
            if user_pin is not None:
                state["pins"]["user"] = new_pin_record(state, "user", bytes(user_pin), token_key,
                                                       state["retries"]["user"])
            atomic_write(tmp_dir / STATE_FILE, encode_state(state))
            os.replace(tmp_dir, self.path / name)
            fsync_dir(self.path)
        return self._stores.setdefault(name, TokenStore(self.path / name))

    def delete(self, label: str) -> None:
        """Remove a token for good (its directory is renamed away first, so it vanishes atomically)."""
        store = self.find(label)
        trash = self.path / f".deleted-{secrets.token_hex(6)}"
        with locked(self.path / LOCK_FILE):
            os.replace(store.path, trash)
            fsync_dir(self.path)
        self._stores.pop(store.path.name, None)
        shutil.rmtree(trash, ignore_errors=True)

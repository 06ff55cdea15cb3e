"""The engine's process state and its general-purpose functions (PKCS#11 v2.40 section 5.4: C_Initialize,
C_Finalize, C_GetInfo), the engine lock, and the look-ups of slots and injected faults every concern shares."""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from signagent.gost import PrivateKey

from .. import constants as C
from ..errors import CkrError
from ..store import SimRoot, TokenStore
from .records import Login, ObjectRef, Session

__all__ = ["FIRMWARE_VERSION", "HARDWARE_VERSION", "MANUFACTURER_ID", "EngineCore", "api"]

F = TypeVar("F", bound=Callable[..., Any])

LIBRARY_VERSION = (0, 1)
MANUFACTURER_ID = "signagent"
LIBRARY_DESCRIPTION = "signagent pkcs11-sim GOST token"
HARDWARE_VERSION = (1, 0)
FIRMWARE_VERSION = (0, 1)


def api(method: F) -> F:
    """Hold the engine lock and require C_Initialize for the call (CKR_CRYPTOKI_NOT_INITIALIZED otherwise)."""

    @functools.wraps(method)
    def wrapper(self: EngineCore, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            if not self._initialized:
                raise CkrError(C.CKR_CRYPTOKI_NOT_INITIALIZED)
            return method(self, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


class EngineCore:
    """What the engine keeps for this process (sessions, logins, handles, unsealed keys) and the calls every
    concern shares; the concerns (:mod:`.sessions`, :mod:`.slots`, :mod:`.objects`...) extend it."""

    def __init__(self, root: str | Path | None = None) -> None:
        self._root_arg = root
        self._lock = threading.RLock()
        self._initialized = False
        self._reset()

    def _reset(self) -> None:
        self._root: SimRoot | None = None
        self._sessions: dict[int, Session] = {}
        self._logins: dict[int, Login] = {}
        self._objects: dict[int, ObjectRef] = {}
        self._token_handles: dict[tuple[str, int], int] = {}
        self._next_handle = 1
        self._next_session = 1
        self._seen_events: dict[int, tuple[bool, int, str]] = {}
        self._key_cache: dict[tuple[str, int], PrivateKey] = {}

    def initialize(self) -> None:
        """C_Initialize: CKR_CRYPTOKI_ALREADY_INITIALIZED when called twice. Reads $PKCS11_SIM_DIR now."""
        with self._lock:
            if self._initialized:
                raise CkrError(C.CKR_CRYPTOKI_ALREADY_INITIALIZED)
            self._reset()
            self._root = SimRoot(self._root_arg)
            self._initialized = True
            self._seen_events = self._presence_snapshot()

    @api
    def finalize(self) -> None:
        """C_Finalize: every session closed, every login dropped."""
        self._initialized = False
        self._reset()

    @api
    def get_info(self) -> dict[str, Any]:
        """C_GetInfo."""
        return {
            "cryptoki_version": (2, 40),
            "manufacturer_id": MANUFACTURER_ID,
            "flags": 0,
            "library_description": LIBRARY_DESCRIPTION,
            "library_version": LIBRARY_VERSION,
        }

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

    def _presence_snapshot(self) -> dict[int, tuple[bool, int, str]]:
        out = {}
        for store in self._tokens():
            state = store.load()
            out[store.slot_id] = (bool(state["present"]), int(state["presence_epoch"]), state["serial"])
        return out

    def _fault(self, store: TokenStore, state: dict[str, Any] | None = None) -> None:
        """Apply the token's injected latency and "fail next N" (see :mod:`pkcs11_sim.engine`)."""
        ckr, latency_ms = store.take_fault(state)
        if latency_ms > 0:
            time.sleep(latency_ms / 1000.0)
        if ckr is not None:
            raise CkrError(ckr, "injected fault")

    def _forget_token(self, store: TokenStore) -> None:
        """Drop this process's handles and unsealed keys of a token that C_InitToken has just emptied."""
        serial_objects = [h for h, ref in self._objects.items() if ref.store is store]
        for h in serial_objects:
            del self._objects[h]
        self._token_handles = {k: v for k, v in self._token_handles.items() if v in self._objects}
        self._key_cache.clear()

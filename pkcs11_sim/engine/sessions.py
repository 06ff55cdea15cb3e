"""Session management (PKCS#11 v2.40 section 5.6): C_OpenSession, C_CloseSession, C_CloseAllSessions,
C_GetSessionInfo, C_Login, C_Logout, and the session look-up every other call starts with.

Login state is per application and token (section 5.6), so it lives here, in this process, never in the store.
"""

from __future__ import annotations

from typing import Any

from .. import constants as C
from ..errors import CkrError
from .core import EngineCore, api
from .records import Login, Session

__all__ = ["Sessions"]


class Sessions(EngineCore):
    """Sessions and logins of this process."""

    def _session(self, handle: int, *, fault: bool = True) -> Session:
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

    def _drop_session(self, s: Session) -> None:
        self._sessions.pop(s.handle, None)
        for h in [h for h, ref in self._objects.items() if ref.session == s.handle]:
            del self._objects[h]
        if not any(other.slot == s.slot for other in self._sessions.values()):
            self._logins.pop(s.slot, None)  # closing the last session logs the application out (v2.40 5.6)

    @api
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
        self._sessions[handle] = Session(handle, slot, store, rw, epoch)
        return handle

    @api
    def close_session(self, session: int) -> None:
        """C_CloseSession (also of a session whose token was removed)."""
        s = self._sessions.get(session)
        if s is None:
            raise CkrError(C.CKR_SESSION_HANDLE_INVALID)
        self._drop_session(s)

    @api
    def close_all_sessions(self, slot: int) -> None:
        """C_CloseAllSessions."""
        self._slot_store(slot)
        for s in [s for s in self._sessions.values() if s.slot == slot]:
            self._drop_session(s)
        self._logins.pop(slot, None)

    @api
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

    @api
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
        self._logins[s.slot] = Login(user_type, token_key, s.epoch)

    @api
    def logout(self, session: int) -> None:
        """C_Logout: CKR_USER_NOT_LOGGED_IN when nobody is logged in."""
        s = self._session(session)
        if self._logins.pop(s.slot, None) is None:
            raise CkrError(C.CKR_USER_NOT_LOGGED_IN)
        self._key_cache.clear()

    def _user(self, s: Session) -> Login | None:
        login = self._logins.get(s.slot)
        return login if login is not None and login.user_type == C.CKU_USER else None

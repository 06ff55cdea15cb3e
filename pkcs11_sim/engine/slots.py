"""Slot and token management (PKCS#11 v2.40 section 5.5): slot and token information, mechanisms, slot events,
C_InitToken, C_InitPIN and C_SetPIN."""

from __future__ import annotations

import time
from typing import Any

from .. import constants as C
from ..errors import CkrError
from ..pins import MAX_PIN_LEN, MIN_PIN_LEN
from .core import FIRMWARE_VERSION, HARDWARE_VERSION, MANUFACTURER_ID, api
from .mechanisms import MECHANISMS
from .sessions import Sessions

__all__ = ["Slots"]


class Slots(Sessions):
    """Every simulated token is a slot with a removable reader."""

    @api
    def get_slot_list(self, token_present: bool) -> list[int]:
        """C_GetSlotList: every simulated token is a slot; ``token_present`` keeps only inserted ones."""
        return [s.slot_id for s in self._tokens() if not token_present or s.load()["present"]]

    @api
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

    @api
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

    @api
    def get_mechanism_list(self, slot: int) -> list[int]:
        """C_GetMechanismList."""
        self._present_store(slot)
        return list(MECHANISMS)

    @api
    def get_mechanism_info(self, slot: int, mech: int) -> tuple[int, int, int]:
        """C_GetMechanismInfo: (min key bits, max key bits, CKF_ flags); CKR_MECHANISM_INVALID if unknown."""
        self._present_store(slot)
        info = MECHANISMS.get(mech)
        if info is None:
            raise CkrError(C.CKR_MECHANISM_INVALID)
        return info.min_bits, info.max_bits, info.flags

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

    @api
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

    @api
    def init_pin(self, session: int, pin: bytes) -> None:
        """C_InitPIN (SO, R/W session): sets the user PIN with a full counter -- also the way to unblock it."""
        s = self._session(session)
        login = self._logins.get(s.slot)
        if login is None or login.user_type != C.CKU_SO:
            raise CkrError(C.CKR_USER_NOT_LOGGED_IN)
        if not s.rw:
            raise CkrError(C.CKR_SESSION_READ_ONLY)
        s.store.init_user_pin(login.token_key, bytes(pin))

    @api
    def set_pin(self, session: int, old: bytes, new: bytes) -> None:
        """C_SetPIN: the SO's PIN in an SO session, the user's otherwise (the old PIN counts as a login try)."""
        s = self._session(session)
        if not s.rw:
            raise CkrError(C.CKR_SESSION_READ_ONLY)
        login = self._logins.get(s.slot)
        role = "so" if login is not None and login.user_type == C.CKU_SO else "user"
        s.store.change_pin(role, bytes(old), bytes(new))

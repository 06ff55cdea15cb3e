"""A token's PKCS#11 session: presence check, the one cached read-write session, login per operation, object calls.

:class:`TokenSession` runs every operation on a token under the slot lock (:func:`.guards.slot_lock`):

1. the token's info is read again (C_GetTokenInfo): a slot without a token, or another serial in it, gives
   ``token_removed`` (retriable), as does a CKR saying the device or the session went away;
2. the token's read-write session is reused while C_GetSessionInfo still answers for it, else one is opened
   (C_OpenSession) -- so after a removal and re-insertion the dead session is replaced;
3. with a :class:`~signagent.tokens.protocol.PinProvider`, the user logs in (C_Login) unless this application is
   already logged in, and is logged out again when the operation ends: a PIN serves exactly one operation
   (DESIGN.md section 5).

:class:`ObjectCalls` are the object functions on that session (C_FindObjects*, C_GetAttributeValue, C_Sign,
C_CreateObject, C_DestroyObject, C_GenerateKeyPair), each failure turned into the token's typed error.

Exports: TokenSession, ObjectCalls.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from asn1crypto import core

from signagent.errors import SignAgentError
from signagent.gost import PublicKey, curve

from ..errors import PinLockedError, PinRequiredError, TokenError, TokenRemovedError, error_for_ckr
from ..protocol import PinProvider
from .binding import PyKCS11
from .constants import (
    CKA_GOSTR3410_PARAMS,
    CKA_ID,
    CKA_VALUE,
    CKF_RW_SESSION,
    CKR_GONE,
    CKR_USER_ALREADY_LOGGED_IN,
    CKS_RO_USER_FUNCTIONS,
    CKS_RW_USER_FUNCTIONS,
    CKU_USER,
    padded_text,
)
from .guards import keep_locale, slot_lock

if TYPE_CHECKING:
    from .token import Pkcs11Token

__all__ = ["ObjectCalls", "TokenSession"]


def _oid_from_der(der: bytes) -> str | None:
    try:
        return core.ObjectIdentifier.load(bytes(der)).dotted
    except (ValueError, TypeError):
        return None


class ObjectCalls:
    """Object calls on one open session, translating CKR failures into the token's typed errors."""

    __slots__ = ("_fail", "session")

    def __init__(self, session: Any, fail: Callable[[Any, str], TokenError]) -> None:
        self.session = session
        self._fail = fail

    def find(self, template: list[tuple[int, Any]]) -> list[Any]:
        """Handles of the objects matching ``template`` (one C_FindObjectsInit / C_FindObjects / ...Final round)."""
        try:
            return list(self.session.findObjects(template))
        except PyKCS11.PyKCS11Error as exc:
            raise self._fail(exc, "C_FindObjects") from None

    def attrs(self, handle: Any, types: Iterable[int]) -> list[bytes]:
        """The values of attributes ``types`` of an object, as bytes (b"" for an absent one)."""
        types = list(types)
        try:
            values = self.session.getAttributeValue(handle, types, allAsBinary=True)
        except PyKCS11.PyKCS11Error as exc:
            raise self._fail(exc, "C_GetAttributeValue") from None
        return [bytes(v) if v is not None else b"" for v in values]

    def attr(self, handle: Any, kind: int) -> bytes:
        """One attribute's value."""
        return self.attrs(handle, [kind])[0]

    def destroy(self, handle: Any) -> None:
        """C_DestroyObject."""
        try:
            self.session.destroyObject(handle)
        except PyKCS11.PyKCS11Error as exc:
            raise self._fail(exc, "C_DestroyObject") from None

    def create(self, template: list[tuple[int, Any]]) -> Any:
        """C_CreateObject; the new object's handle."""
        try:
            return self.session.createObject(template)
        except PyKCS11.PyKCS11Error as exc:
            raise self._fail(exc, "C_CreateObject") from None

    def generate_key_pair(self, public_template: list[tuple[int, Any]], private_template: list[tuple[int, Any]],
                          mechanism: int) -> tuple[Any, Any]:
        """C_GenerateKeyPair; the (public, private) handles."""
        try:
            return self.session.generateKeyPair(public_template, private_template, PyKCS11.Mechanism(mechanism))
        except PyKCS11.PyKCS11Error as exc:
            raise self._fail(exc, "C_GenerateKeyPair") from None

    def sign(self, handle: Any, payload: bytes, mechanism: int) -> bytes:
        """C_SignInit + C_Sign of ``payload`` with the private key ``handle``."""
        try:
            return bytes(self.session.sign(handle, payload, PyKCS11.Mechanism(mechanism)))
        except PyKCS11.PyKCS11Error as exc:
            raise self._fail(exc, "C_Sign") from None

    def public_key(self, handle: Any, default_curve: str | None = None) -> tuple[bytes, PublicKey | None]:
        """(CKA_ID, key) of a GOST public key object; key None when it is not one signagent can read.

        CKA_VALUE is X || Y little-endian (the SPKI OCTET STRING content); some modules wrap it in a DER OCTET
        STRING, which is unwrapped here.
        """
        kid, value, params = self.attrs(handle, (CKA_ID, CKA_VALUE, CKA_GOSTR3410_PARAMS))
        oid = _oid_from_der(params) if params else default_curve
        if oid is None:
            return kid, None
        try:
            params_curve = curve(oid)
            if len(value) > 2 * params_curve.size and value[:1] == b"\x04":
                value = core.OctetString.load(value).native
            return kid, PublicKey.from_bytes(params_curve, value)
        except (SignAgentError, ValueError):
            return kid, None


class TokenSession:
    """The session side of one :class:`~.token.Pkcs11Token` (see the module docstring)."""

    __slots__ = ("_session", "_token", "lock")

    def __init__(self, token: Pkcs11Token) -> None:
        self._token = token
        self._session: Any = None
        self.lock = slot_lock(token.module.path, token.slot)

    def lib(self) -> Any:
        """The module's PyKCS11Lib; ``token_error`` once the module was closed."""
        lib = self._token.module.library
        if lib is None:
            raise TokenError(situation="module_closed")
        return lib

    def forget(self) -> None:
        """Close the cached session (errors ignored: the token may be gone already)."""
        session, self._session = self._session, None
        if session is not None:
            with contextlib.suppress(Exception):
                session.closeSession()

    def removed(self, detail: str) -> TokenRemovedError:
        """The ``token_removed`` error for this token (the cached session is dropped)."""
        self.forget()
        token = self._token
        return TokenRemovedError(situation="removed", label=token.label, serial=token.serial, detail=detail)

    def fail(self, exc: Any, operation: str) -> TokenError:
        """The typed error for a failed call (``token_removed`` when the token or session went away)."""
        if exc.value in CKR_GONE:
            return self.removed(operation)
        return error_for_ckr(exc.value, operation, label=self._token.label, serial=self._token.serial)

    def check_present(self) -> None:
        """Read the token info again: absent or another serial -> token_removed (and the session is dropped)."""
        try:
            info = self.lib().getTokenInfo(self._token.slot)
        except PyKCS11.PyKCS11Error as exc:
            if exc.value in CKR_GONE:
                raise self.removed("no token in the slot") from None
            raise error_for_ckr(exc.value, "C_GetTokenInfo") from None
        if padded_text(info.serialNumber.encode()) != self._token.serial:
            raise self.removed("another token is in the slot")
        self._token.refresh(info)

    def _open(self) -> tuple[Any, Any]:
        """The cached session if it is still alive, else a new read-write one; with the CK_SESSION_INFO that
        proved the cached one alive (None for a new one), so a login need not read it again."""
        if self._session is not None:
            try:
                return self._session, self._session.getSessionInfo()
            except PyKCS11.PyKCS11Error:  # a session from before a removal: gone for good
                self.forget()
        try:
            self._session = self.lib().openSession(self._token.slot, CKF_RW_SESSION)
        except PyKCS11.PyKCS11Error as exc:
            if exc.value in CKR_GONE:
                raise self.removed("cannot open a session") from None
            raise error_for_ckr(exc.value, "C_OpenSession") from None
        return self._session, None

    @contextlib.contextmanager
    def operation(self, pin_provider: PinProvider | None = None) -> Iterator[ObjectCalls]:
        """Under the slot lock: presence check, session, optional login (logged out again at the end)."""
        with self.lock, keep_locale():
            self.check_present()
            session, session_info = self._open()
            logged_in = False
            try:
                if pin_provider is not None:
                    logged_in = self._login(session, session_info, pin_provider)
                yield ObjectCalls(session, self.fail)
            finally:
                if logged_in:
                    with contextlib.suppress(Exception):
                        session.logout()

    def _login(self, session: Any, session_info: Any, pin_provider: PinProvider) -> bool:
        """C_Login with a PIN from the provider unless the session's state (``session_info``, read now when None)
        says this application is logged in already; True when this call logged in (and must log out)."""
        state = (session_info if session_info is not None else session.getSessionInfo()).state
        if state in (CKS_RO_USER_FUNCTIONS, CKS_RW_USER_FUNCTIONS):
            return False
        token = self._token
        info = token.info()
        if info.pin_locked:
            raise PinLockedError(label=token.label, serial=token.serial)
        pin = pin_provider.get_pin(info, 1 if info.pin_final_try else None)
        if pin is None:
            raise PinRequiredError(label=token.label, serial=token.serial)
        if isinstance(pin, str):
            pin = pin.encode()
        try:
            session.login(bytes(pin), CKU_USER)
        except PyKCS11.PyKCS11Error as exc:
            if exc.value == CKR_USER_ALREADY_LOGGED_IN:
                return False
            if exc.value in CKR_GONE:
                raise self.removed("during login") from None
            with contextlib.suppress(SignAgentError):  # the counter flags after the failure, when readable
                self.check_present()
            after = token.info()
            if after.pin_locked:
                raise PinLockedError(label=token.label, serial=token.serial) from None
            raise error_for_ckr(exc.value, "C_Login", tries_left=1 if after.pin_final_try else None,
                                label=token.label, serial=token.serial) from None
        return True

"""Token errors and the one table mapping PKCS#11 return values (CKR_*) to them.

Every token source (PKCS#11 modules, PC/SC cards, software keys) raises these, so the API and the CLI show the same
code for the same situation whatever the token. ``CKR_ERRORS`` is the only place where a CKR value gets a meaning;
:func:`error_for_ckr` turns a return value into an exception. CKR values are those of PKCS#11 v2.40 (pkcs11t.h).

Exports: TokenError, PinIncorrectError, PinLockedError, PinRequiredError, TokenRemovedError, TokenNotFoundError,
ModuleLoadError, KeyNotFoundError, MechanismUnsupportedError, CKR_ERRORS, error_for_ckr, ckr_label.
"""

from __future__ import annotations

from signagent.errors import SignAgentError

__all__ = [
    "CKR_ERRORS",
    "KeyNotFoundError",
    "MechanismUnsupportedError",
    "ModuleLoadError",
    "PinIncorrectError",
    "PinLockedError",
    "PinRequiredError",
    "TokenError",
    "TokenNotFoundError",
    "TokenRemovedError",
    "ckr_label",
    "error_for_ckr",
]


class TokenError(SignAgentError):
    """A token (smart card, USB token, module) failed an operation for a reason not covered by a narrower class."""

    code = "token_error"


class PinIncorrectError(TokenError):
    """The PIN was wrong. ``tries_left`` is the number of attempts left when the token tells it, else None."""

    code = "pin_incorrect"

    def __init__(self, message: str | None = None, *, message_ru: str | None = None, tries_left: int | None = None,
                 **details: object) -> None:
        self.tries_left = tries_left
        if tries_left is not None:  # the registry's wording then says how many attempts are left
            details["tries_left"] = tries_left
        super().__init__(message, message_ru=message_ru, **details)


class PinLockedError(TokenError):
    """The PIN is blocked after too many wrong attempts; the administrator (SO) PIN must unblock it."""

    code = "pin_locked"

    def __init__(self, message: str | None = None, *, message_ru: str | None = None, **details: object) -> None:
        self.tries_left = 0
        super().__init__(message, message_ru=message_ru, **details)


class PinRequiredError(TokenError):
    """The operation needs a PIN and none was given (no provider, or the user cancelled)."""

    code = "pin_required"


class TokenRemovedError(TokenError):
    """The token was pulled out (or replaced by another) before or during the operation; insert it and retry."""

    code = "token_removed"


class TokenNotFoundError(TokenError):
    """No token with the requested label, serial or slot is present."""

    code = "token_not_found"


class ModuleLoadError(TokenError):
    """A PKCS#11 module file is missing, unreadable or not a PKCS#11 module (``details['path']`` says which)."""

    code = "module_load_failed"


class KeyNotFoundError(TokenError):
    """No private key on the token belongs to the certificate (or no object has the requested id)."""

    code = "key_not_found"


class MechanismUnsupportedError(TokenError):
    """The token lacks the mechanism the operation needs (or rejects its parameters)."""

    code = "mechanism_unsupported"


# CKR_* values (PKCS#11 v2.40 pkcs11t.h) -> (name, error class). Values not listed become TokenError.
CKR_ERRORS: dict[int, tuple[str, type[TokenError]]] = {
    0x03: ("CKR_SLOT_ID_INVALID", TokenRemovedError),
    0x30: ("CKR_DEVICE_ERROR", TokenError),
    0x31: ("CKR_DEVICE_MEMORY", TokenError),
    0x32: ("CKR_DEVICE_REMOVED", TokenRemovedError),
    0x60: ("CKR_KEY_HANDLE_INVALID", KeyNotFoundError),
    0x63: ("CKR_KEY_TYPE_INCONSISTENT", MechanismUnsupportedError),
    0x68: ("CKR_KEY_FUNCTION_NOT_PERMITTED", MechanismUnsupportedError),
    0x70: ("CKR_MECHANISM_INVALID", MechanismUnsupportedError),
    0x71: ("CKR_MECHANISM_PARAM_INVALID", MechanismUnsupportedError),
    0x82: ("CKR_OBJECT_HANDLE_INVALID", KeyNotFoundError),
    0xA0: ("CKR_PIN_INCORRECT", PinIncorrectError),
    0xA1: ("CKR_PIN_INVALID", PinIncorrectError),
    0xA2: ("CKR_PIN_LEN_RANGE", PinIncorrectError),
    0xA3: ("CKR_PIN_EXPIRED", PinLockedError),
    0xA4: ("CKR_PIN_LOCKED", PinLockedError),
    0xB0: ("CKR_SESSION_CLOSED", TokenRemovedError),
    0xB3: ("CKR_SESSION_HANDLE_INVALID", TokenRemovedError),
    0xE0: ("CKR_TOKEN_NOT_PRESENT", TokenRemovedError),
    0xE1: ("CKR_TOKEN_NOT_RECOGNIZED", TokenError),
    0xE2: ("CKR_TOKEN_WRITE_PROTECTED", TokenError),
    0x101: ("CKR_USER_NOT_LOGGED_IN", PinRequiredError),
    0x102: ("CKR_USER_PIN_NOT_INITIALIZED", PinLockedError),
    0x130: ("CKR_DOMAIN_PARAMS_INVALID", MechanismUnsupportedError),
}


def ckr_label(rv: int) -> str:
    """``CKR_PIN_INCORRECT``-style name of a return value in the table, else its hex value."""
    entry = CKR_ERRORS.get(rv)
    return entry[0] if entry else f"CKR 0x{rv:08X}"


def error_for_ckr(rv: int, operation: str, *, tries_left: int | None = None, **details: object) -> TokenError:
    """The typed error for a failed PKCS#11 call: ``operation`` (e.g. "C_Sign") and the CKR name go to the message.

    ``tries_left`` is passed on to :class:`PinIncorrectError` (the caller reads it from the token flags).
    """
    name = ckr_label(rv)
    cls = CKR_ERRORS.get(rv, ("", TokenError))[1]
    details = {"ckr": name, "operation": operation, **details}
    if cls is PinIncorrectError:
        return PinIncorrectError(tries_left=tries_left, **details)
    base = cls.default_message
    return cls(f"{base} ({operation}: {name})", message_ru=f"{cls.default_message_ru} ({operation}: {name})",
               **details)

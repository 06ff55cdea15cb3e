"""The one exception of the simulator's engine: a PKCS#11 return value.

Every failure inside :class:`pkcs11_sim.engine.Engine` and the token store is a :class:`CkrError` carrying the
exact ``CK_RV`` the C module returns to its caller; anything else escaping the engine is a bug that the module
turns into CKR_GENERAL_ERROR.
"""

from __future__ import annotations

from .constants import ckr_name


class CkrError(Exception):
    """A PKCS#11 failure: ``rv`` is the CKR code the caller receives."""

    def __init__(self, rv: int, message: str | None = None) -> None:
        self.rv = rv
        self.message = message
        text = ckr_name(rv) if message is None else f"{ckr_name(rv)}: {message}"
        super().__init__(text)

    @property
    def name(self) -> str:
        """The symbolic CKR name (``CKR_PIN_INCORRECT``)."""
        return ckr_name(self.rv)

"""One loaded PKCS#11 module (a vendor's shared library, or the simulator's) and the tokens in its slots.

``Pkcs11Module(path)`` loads the file through PyKCS11 and C_Initializes it: a missing file, or a file that is not a
PKCS#11 module, gives ``module_load_failed`` naming the path. :meth:`Pkcs11Module.tokens` enumerates the slots
again on every call (C_GetSlotList with tokenPresent), so a token plugged in (or back) is seen at the next call;
a token keeps its object -- and its session -- for as long as the same serial stays in the same slot.

Exports: Pkcs11Module, load_modules.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from ..errors import ModuleLoadError, TokenNotFoundError, error_for_ckr
from .binding import PyKCS11
from .constants import padded_text
from .guards import gc_paused, keep_locale
from .token import Pkcs11Token

__all__ = ["Pkcs11Module", "load_modules"]

T = TypeVar("T")


class Pkcs11Module:
    """A loaded PKCS#11 module. ``Pkcs11Module(path)`` loads (and C_Initializes) it; :meth:`close` unloads it."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        if PyKCS11 is None:
            raise ModuleLoadError(situation="no_pykcs11", path=self.path)
        if not os.path.isfile(self.path):
            raise ModuleLoadError(situation="missing", path=self.path)
        lib = PyKCS11.PyKCS11Lib()
        try:
            with gc_paused(), keep_locale():
                lib.load(self.path)
        except PyKCS11.PyKCS11Error as exc:
            raise ModuleLoadError(situation="not_loadable", path=self.path, error=exc) from None
        #: The PyKCS11Lib while the module is loaded; None after :meth:`close`.
        self.library: Any = lib
        self._tokens: dict[tuple[int, str], Pkcs11Token] = {}
        self._guard = threading.Lock()
        self._info = self._call("C_GetInfo", lib.getInfo)

    @property
    def description(self) -> str:
        """The module's manufacturer and library description (CK_INFO)."""
        return (f"{padded_text(self._info.manufacturerID.encode())} "
                f"{padded_text(self._info.libraryDescription.encode())}").strip()

    def _call(self, operation: str, fn: Callable[..., T], *args: Any) -> T:
        try:
            with keep_locale():
                return fn(*args)
        except PyKCS11.PyKCS11Error as exc:
            raise error_for_ckr(exc.value, operation, module=self.path) from None

    def tokens(self) -> list[Pkcs11Token]:
        """The tokens present now (slots are enumerated again on every call). A token keeps its object (and
        session) for as long as the same serial stays in the same slot."""
        slots = self._call("C_GetSlotList", self.library.getSlotList, True)
        current: list[Pkcs11Token] = []
        with self._guard, keep_locale():
            for slot in slots:
                try:
                    info = self.library.getTokenInfo(slot)
                except PyKCS11.PyKCS11Error:
                    continue  # pulled out between the two calls
                serial = padded_text(info.serialNumber.encode())
                token = self._tokens.get((slot, serial))
                if token is None:
                    token = self._tokens[(slot, serial)] = Pkcs11Token(self, slot, info)
                else:
                    token.refresh(info)
                current.append(token)
            alive = {(t.slot, t.serial) for t in current}
            for key in [k for k in self._tokens if k not in alive]:
                self._tokens.pop(key).session.forget()
        return current

    def token(self, *, label: str | None = None, serial: str | None = None) -> Pkcs11Token:
        """The present token with this label and/or serial; ``token_not_found`` otherwise."""
        for token in self.tokens():
            if (label is None or token.label == label) and (serial is None or token.serial == serial):
                return token
        wanted = " ".join(f"{k}={v!r}" for k, v in (("label", label), ("serial", serial)) if v is not None)
        raise TokenNotFoundError(situation="in_module", wanted=wanted, path=self.path, label=label or "",
                                 serial=serial or "")

    def close(self) -> None:
        """Close the sessions and unload the module (PyKCS11 finalizes it when its last user goes)."""
        with self._guard, keep_locale():
            for token in self._tokens.values():
                token.session.forget()
            self._tokens.clear()
        lib, self.library = self.library, None
        if lib is not None:
            with contextlib.suppress(Exception), gc_paused(), keep_locale():
                lib.unload()
                del lib  # its __del__ (another unload under PyKCS11's lock) runs now, with the collector paused

    def __enter__(self) -> Pkcs11Module:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Pkcs11Module({self.path!r})"


def load_modules(paths: Iterable[str]) -> tuple[list[Pkcs11Module], list[ModuleLoadError]]:
    """Load each module; the ones that fail are returned as errors beside the loaded ones (the agent keeps going)."""
    modules: list[Pkcs11Module] = []
    errors: list[ModuleLoadError] = []
    for path in paths:
        try:
            modules.append(Pkcs11Module(path))
        except ModuleLoadError as exc:
            errors.append(exc)
    return modules, errors

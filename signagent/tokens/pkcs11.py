"""PKCS#11 backend over PyKCS11: vendor modules, their tokens, certificates, GOST R 34.10-2012 keys and signing.

* :func:`discover_modules` -- the usual install paths of the common Russian-market modules (Rutoken
  ``librtpkcs11ecp``, JaCarta ``libjcPKCS11-2``, ESMART ``libisbc_pkcs11_main``, SafeNet eToken ``libeToken``,
  OpenSC ``opensc-pkcs11``) on Linux, Windows and macOS that exist on this machine, then the modules named in
  ``$SIGNAGENT_PKCS11_MODULES`` (``os.pathsep``-separated) and by the caller's configuration.
* :class:`Pkcs11Module` -- one loaded module (missing file, or a file that is not a PKCS#11 module ->
  ``module_load_failed`` naming the path). :meth:`Pkcs11Module.tokens` enumerates the slots again on every call,
  so a token plugged in (or back) is seen at the next call.
* :class:`Pkcs11Token` -- one token in a slot, a :class:`signagent.tokens.protocol.Token`: certificates
  (CKO_CERTIFICATE -> :class:`signagent.x509.Certificate`), key pairs matched by CKA_ID, signing, key-pair
  generation, certificate import and object deletion.

Signing (PKCS#11 v2.40 section 2.50 for CKM_GOSTR3410; TC 26 vendor mechanisms for 512 bits and the hash-and-sign
ones, numbers as in OpenSC's pkcs11.h): the host computes the Streebog digest and the token signs it with
CKM_GOSTR3410 (256-bit keys) or CKM_GOSTR3410_512. A token that lacks the raw mechanism but has
CKM_GOSTR3410_WITH_GOSTR3411_12_256/512 hashes on the token instead: then the caller must pass the hashed bytes as
``data`` (the digest is then only checked against them), otherwise ``mechanism_unsupported``. The result is
s || r with big-endian halves (the PKCS#11 form, the same bytes as :meth:`signagent.gost.PrivateKey.sign_digest`).

Sessions and concurrency: each token keeps one read-write session, reused while it stays valid (checked with
C_GetSessionInfo before use, reopened after a removal and re-insertion). Login state in PKCS#11 belongs to the
application and the token, not to a session, so every operation on a token -- PIN login, the operation, logout --
runs under one lock per (module, slot), shared by every object of this process that names that slot. The user is
logged out after each operation needing the PIN, so a PIN serves exactly one operation (DESIGN.md section 5).

Removal: before each operation the token's info is read again; a slot without a token, or a different serial in
it, gives ``token_removed`` (retriable), as does a CKR saying the device or the session went away.

Exports: Pkcs11Module, Pkcs11Token, KeyPairSigner, discover_modules, default_module_paths, load_modules,
MODULES_ENV, and the CKM_/CKK_/CKA_ numbers of the GOST mechanisms used here.
"""

from __future__ import annotations

import contextlib
import gc
import locale
import os
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from asn1crypto import core

from signagent.errors import InvalidInputError, InvalidLengthError, InvalidTypeError, SignAgentError
from signagent.gost import PublicKey, curve, streebog256, streebog512
from signagent.x509 import Certificate

from .errors import (
    KeyNotFoundError,
    MechanismUnsupportedError,
    ModuleLoadError,
    PinLockedError,
    PinRequiredError,
    TokenError,
    TokenNotFoundError,
    TokenRemovedError,
    error_for_ckr,
)
from .protocol import PinProvider, TokenCertificate, TokenInfo, TokenSigner, cert_id_of

try:  # an optional dependency: without it no PKCS#11 module can be loaded (module_load_failed says so)
    import PyKCS11
except ImportError:  # pragma: no cover - exercised only on installs without the extra
    PyKCS11 = None

__all__ = [
    "CKA_GOSTR3410_PARAMS",
    "CKA_GOSTR3411_PARAMS",
    "CKK_GOSTR3410",
    "CKK_GOSTR3410_512",
    "CKM_GOSTR3410",
    "CKM_GOSTR3410_512",
    "CKM_GOSTR3410_512_KEY_PAIR_GEN",
    "CKM_GOSTR3410_KEY_PAIR_GEN",
    "CKM_GOSTR3410_WITH_GOSTR3411_12_256",
    "CKM_GOSTR3410_WITH_GOSTR3411_12_512",
    "MODULES_ENV",
    "KeyPairSigner",
    "Pkcs11Module",
    "Pkcs11Token",
    "default_module_paths",
    "discover_modules",
    "load_modules",
]

MODULES_ENV = "SIGNAGENT_PKCS11_MODULES"

# --- PKCS#11 v2.40 numbers (pkcs11t.h) and the TC 26 vendor extensions (base 0xD4321000) -------------------------
VENDOR_TC26 = 0xD4321000
CKO_CERTIFICATE = 1
CKO_PUBLIC_KEY = 2
CKO_PRIVATE_KEY = 3
CKC_X_509 = 0
CKK_GOSTR3410 = 0x30
CKK_GOSTR3410_512 = VENDOR_TC26 | 0x003
CKA_CLASS = 0x000
CKA_TOKEN = 0x001
CKA_PRIVATE = 0x002
CKA_LABEL = 0x003
CKA_VALUE = 0x011
CKA_CERTIFICATE_TYPE = 0x080
CKA_ISSUER = 0x081
CKA_SERIAL_NUMBER = 0x082
CKA_KEY_TYPE = 0x100
CKA_SUBJECT = 0x101
CKA_ID = 0x102
CKA_SENSITIVE = 0x103
CKA_SIGN = 0x108
CKA_VERIFY = 0x10A
CKA_EXTRACTABLE = 0x162
CKA_GOSTR3410_PARAMS = 0x250
CKA_GOSTR3411_PARAMS = 0x251
CKM_GOSTR3410_KEY_PAIR_GEN = 0x1200
CKM_GOSTR3410 = 0x1201
CKM_GOSTR3410_512_KEY_PAIR_GEN = VENDOR_TC26 | 0x005
CKM_GOSTR3410_512 = VENDOR_TC26 | 0x006
CKM_GOSTR3410_WITH_GOSTR3411_12_256 = VENDOR_TC26 | 0x008
CKM_GOSTR3410_WITH_GOSTR3411_12_512 = VENDOR_TC26 | 0x009
CKF_RW_SESSION = 0x2
CKF_USER_PIN_COUNT_LOW = 0x10000
CKF_USER_PIN_FINAL_TRY = 0x20000
CKF_USER_PIN_LOCKED = 0x40000
CKU_USER = 1
CKS_RO_USER_FUNCTIONS = 1
CKS_RW_USER_FUNCTIONS = 3
CKR_USER_ALREADY_LOGGED_IN = 0x100
CKR_USER_NOT_LOGGED_IN = 0x101
CKR_TOKEN_NOT_PRESENT = 0xE0
CKR_SLOT_ID_INVALID = 0x03
CKR_DEVICE_REMOVED = 0x32
CKR_SESSION_CLOSED = 0xB0
CKR_SESSION_HANDLE_INVALID = 0xB3
_GONE = {CKR_TOKEN_NOT_PRESENT, CKR_SLOT_ID_INVALID, CKR_DEVICE_REMOVED, CKR_SESSION_CLOSED,
         CKR_SESSION_HANDLE_INVALID}

STREEBOG256_OID = "1.2.643.7.1.1.2.2"
STREEBOG512_OID = "1.2.643.7.1.1.2.3"

# Module file names per vendor, then the directories they are installed in on each system.
_LINUX_NAMES = ("librtpkcs11ecp.so", "libjcPKCS11-2.so", "libisbc_pkcs11_main.so", "libeToken.so",
                "opensc-pkcs11.so")
_LINUX_DIRS = ("/usr/lib", "/usr/lib64", "/usr/local/lib", "/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu",
               "/usr/lib/x86_64-linux-gnu/pkcs11", "/usr/lib/pkcs11", "/opt/aktivco/rutokenecp/amd64",
               "/opt/aktivco/rutokenecp/x86_64", "/opt/aladdin/jcpkcs11/lib", "/opt/safenet/authentication/lib",
               "/opt/esmart/lib")
_WINDOWS_NAMES = ("rtPKCS11ECP.dll", "jcPKCS11-2.dll", "isbc_pkcs11_main.dll", "eTPKCS11.dll", "opensc-pkcs11.dll")
_WINDOWS_DIRS = (r"C:\Windows\System32", r"C:\Program Files\OpenSC Project\OpenSC\pkcs11")
_MAC_PATHS = ("/Library/Aktiv Co/Rutoken ECP/lib/librtpkcs11ecp.dylib", "/usr/local/lib/librtpkcs11ecp.dylib",
              "/Library/Frameworks/jcPKCS11-2.framework/jcPKCS11-2", "/usr/local/lib/libjcPKCS11-2.dylib",
              "/usr/local/lib/libisbc_pkcs11_main.dylib", "/usr/local/lib/libeTPkcs11.dylib",
              "/Library/OpenSC/lib/opensc-pkcs11.so", "/usr/local/lib/opensc-pkcs11.so",
              "/opt/homebrew/lib/opensc-pkcs11.so")

T = TypeVar("T")


def default_module_paths(platform: str | None = None) -> list[str]:
    """Every place a common vendor module is usually installed on ``platform`` (``sys.platform`` by default)."""
    platform = platform or sys.platform
    if platform.startswith("win"):
        return [str(Path(d) / n) for n in _WINDOWS_NAMES for d in _WINDOWS_DIRS]
    if platform == "darwin":
        return list(_MAC_PATHS)
    return [f"{d}/{n}" for n in _LINUX_NAMES for d in _LINUX_DIRS]


def discover_modules(extra: Iterable[str] = (), *, environ: dict[str, str] | None = None,
                     platform: str | None = None) -> list[str]:
    """Module paths to load: the vendor modules found at their usual paths, then ``$SIGNAGENT_PKCS11_MODULES``,
    then ``extra`` (the configuration). Configured paths are kept even when missing, so loading them reports
    ``module_load_failed`` instead of hiding a typo; duplicates (same real file) appear once.
    """
    env = os.environ if environ is None else environ
    found = [p for p in default_module_paths(platform) if os.path.isfile(p)]
    configured = [p for p in env.get(MODULES_ENV, "").split(os.pathsep) if p.strip()]
    out: list[str] = []
    seen: set[str] = set()
    for path in [*found, *configured, *extra]:
        key = os.path.realpath(path)
        if key not in seen:
            seen.add(key)
            out.append(path)
    return out


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


def _oid_der(dotted: str) -> bytes:
    return core.ObjectIdentifier(dotted).dump()


def _oid_from_der(der: bytes) -> str | None:
    try:
        return core.ObjectIdentifier.load(bytes(der)).dotted
    except (ValueError, TypeError):
        return None


def _text(raw: Any) -> str:
    return bytes(raw).decode("utf-8", "replace").rstrip(" \x00")


@contextlib.contextmanager
def _keep_locale() -> Iterator[None]:
    """Undo a module's setlocale(): vendor modules run inside this process, and some (OpenSC with a card present)
    call setlocale(LC_ALL, "") -- under LANG=C that turns Python's text encoding into ASCII for the whole agent."""
    saved = locale.setlocale(locale.LC_ALL)
    try:
        yield
    finally:
        if locale.setlocale(locale.LC_ALL) != saved:
            locale.setlocale(locale.LC_ALL, saved)


_GC_PAUSE_GUARD = threading.Lock()
_gc_pauses = 0
_gc_was_enabled = False


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while PyKCS11 loads or unloads a module.

    PyKCS11Lib.load/unload hold a class-wide non-reentrant lock, and PyKCS11Lib.__del__ takes the same lock. A
    PyKCS11Lib kept alive by a reference cycle (a Session in an exception's traceback holds one) is freed by the
    cyclic collector, which runs at any allocation -- also inside that locked section (a module written in Python,
    like the simulator, allocates in C_Initialize): the __del__ then waits for the lock its own thread holds, and
    the process hangs. Pausing the collector around these calls (counted, so overlapping pauses nest) rules it
    out; the garbage is collected after.
    """
    global _gc_pauses, _gc_was_enabled
    with _GC_PAUSE_GUARD:
        if _gc_pauses == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_pauses += 1
    try:
        yield
    finally:
        with _GC_PAUSE_GUARD:
            _gc_pauses -= 1
            if _gc_pauses == 0 and _gc_was_enabled:
                gc.enable()


_LOCKS: dict[tuple[str, int], threading.RLock] = {}
_LOCKS_GUARD = threading.Lock()


def _slot_lock(module_path: str, slot: int) -> threading.RLock:
    """The one lock of a (module, slot) in this process."""
    key = (os.path.realpath(module_path), slot)
    with _LOCKS_GUARD:
        lock = _LOCKS.get(key)
        if lock is None:
            lock = _LOCKS[key] = threading.RLock()
        return lock


class Pkcs11Module:
    """A loaded PKCS#11 module. ``Pkcs11Module(path)`` loads (and C_Initializes) it; :meth:`close` unloads it."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        if PyKCS11 is None:
            raise ModuleLoadError("PyKCS11 is not installed: no PKCS#11 module can be loaded",
                                  message_ru="PyKCS11 не установлен: модули PKCS#11 недоступны", path=self.path)
        if not os.path.isfile(self.path):
            raise ModuleLoadError(f"PKCS#11 module not found: {self.path}",
                                  message_ru=f"модуль PKCS#11 не найден: {self.path}", path=self.path)
        lib = PyKCS11.PyKCS11Lib()
        try:
            with _gc_paused(), _keep_locale():
                lib.load(self.path)
        except PyKCS11.PyKCS11Error as exc:
            raise ModuleLoadError(f"{self.path} is not a loadable PKCS#11 module ({exc})",
                                  message_ru=f"{self.path} не является загружаемым модулем PKCS#11",
                                  path=self.path) from None
        self._lib: Any = lib
        self._tokens: dict[tuple[int, str], Pkcs11Token] = {}
        self._guard = threading.Lock()
        self._info = self._call("C_GetInfo", lib.getInfo)

    @property
    def description(self) -> str:
        """The module's manufacturer and library description (CK_INFO)."""
        return f"{_text(self._info.manufacturerID.encode())} {_text(self._info.libraryDescription.encode())}".strip()

    def _call(self, operation: str, fn: Callable[..., T], *args: Any) -> T:
        try:
            with _keep_locale():
                return fn(*args)
        except PyKCS11.PyKCS11Error as exc:
            raise error_for_ckr(exc.value, operation, module=self.path) from None

    def tokens(self) -> list[Pkcs11Token]:
        """The tokens present now (slots are enumerated again on every call). A token keeps its object (and
        session) for as long as the same serial stays in the same slot."""
        slots = self._call("C_GetSlotList", self._lib.getSlotList, True)
        current: list[Pkcs11Token] = []
        with self._guard, _keep_locale():
            for slot in slots:
                try:
                    info = self._lib.getTokenInfo(slot)
                except PyKCS11.PyKCS11Error:
                    continue  # pulled out between the two calls
                serial = _text(info.serialNumber.encode())
                token = self._tokens.get((slot, serial))
                if token is None:
                    token = self._tokens[(slot, serial)] = Pkcs11Token(self, slot, info)
                else:
                    token._refresh(info)
                current.append(token)
            alive = {(t.slot, t.serial) for t in current}
            for key in [k for k in self._tokens if k not in alive]:
                self._tokens.pop(key)._forget_session()
        return current

    def token(self, *, label: str | None = None, serial: str | None = None) -> Pkcs11Token:
        """The present token with this label and/or serial; ``token_not_found`` otherwise."""
        for token in self.tokens():
            if (label is None or token.label == label) and (serial is None or token.serial == serial):
                return token
        wanted = " ".join(f"{k}={v!r}" for k, v in (("label", label), ("serial", serial)) if v is not None)
        raise TokenNotFoundError(f"no token {wanted} in {self.path}",
                                 message_ru=f"токен {wanted} не найден в модуле {self.path}",
                                 label=label or "", serial=serial or "")

    def close(self) -> None:
        """Close the sessions and unload the module (PyKCS11 finalizes it when its last user goes)."""
        with self._guard, _keep_locale():
            for token in self._tokens.values():
                token._forget_session()
            self._tokens.clear()
        lib, self._lib = self._lib, None
        if lib is not None:
            with contextlib.suppress(Exception), _gc_paused(), _keep_locale():
                lib.unload()
                del lib  # its __del__ (another unload under PyKCS11's lock) runs now, with the collector paused

    def __enter__(self) -> Pkcs11Module:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Pkcs11Module({self.path!r})"


class Pkcs11Token:
    """A token in a slot of a :class:`Pkcs11Module` (the :class:`~signagent.tokens.protocol.Token` protocol)."""

    def __init__(self, module: Pkcs11Module, slot: int, info: Any) -> None:
        self.module = module
        self.slot = int(slot)
        self._lock = _slot_lock(module.path, self.slot)
        self._session: Any = None
        self._mechanisms: set[int] | None = None
        self._refresh(info)

    # --- identity ---------------------------------------------------------------------------------------------

    def _refresh(self, info: Any) -> None:
        self._label = _text(info.label.encode())
        self._serial = _text(info.serialNumber.encode())
        self._model = _text(info.model.encode())
        self._manufacturer = _text(info.manufacturerID.encode())
        self._flags = int(info.flags)

    @property
    def label(self) -> str:
        """The token label (CK_TOKEN_INFO.label, blanks stripped)."""
        return self._label

    @property
    def serial(self) -> str:
        """The token serial number."""
        return self._serial

    @property
    def model(self) -> str:
        """The token model."""
        return self._model

    def info(self) -> TokenInfo:
        """Label, serial, model, module path, slot and the PIN counter flags as last read."""
        return TokenInfo(label=self._label, serial=self._serial, model=self._model, manufacturer=self._manufacturer,
                         source=self.module.path, slot=self.slot,
                         pin_count_low=bool(self._flags & CKF_USER_PIN_COUNT_LOW),
                         pin_final_try=bool(self._flags & CKF_USER_PIN_FINAL_TRY),
                         pin_locked=bool(self._flags & CKF_USER_PIN_LOCKED))

    def __repr__(self) -> str:
        return f"Pkcs11Token(label={self._label!r}, serial={self._serial!r}, slot={self.slot})"

    # --- sessions -----------------------------------------------------------------------------------------------

    def _removed(self, detail: str) -> TokenRemovedError:
        self._forget_session()
        return TokenRemovedError(f"the token {self._label!r} ({self._serial}) was removed: {detail}",
                                 message_ru=f"токен «{self._label}» ({self._serial}) извлечён",
                                 label=self._label, serial=self._serial)

    def _forget_session(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            with contextlib.suppress(Exception):
                session.closeSession()

    def _lib(self) -> Any:
        lib = self.module._lib
        if lib is None:
            raise TokenError("the PKCS#11 module was closed", message_ru="модуль PKCS#11 закрыт")
        return lib

    def _check_present(self) -> None:
        """Read the token info again: absent or another serial -> token_removed (and the session is dropped)."""
        try:
            info = self._lib().getTokenInfo(self.slot)
        except PyKCS11.PyKCS11Error as exc:
            if exc.value in _GONE:
                raise self._removed("no token in the slot") from None
            raise error_for_ckr(exc.value, "C_GetTokenInfo") from None
        if _text(info.serialNumber.encode()) != self._serial:
            raise self._removed("another token is in the slot")
        self._refresh(info)

    def _open(self) -> Any:
        """The cached session if it is still alive, else a new read-write one."""
        if self._session is not None:
            try:
                self._session.getSessionInfo()
                return self._session
            except PyKCS11.PyKCS11Error:  # a session from before a removal: gone for good
                self._forget_session()
        try:
            self._session = self._lib().openSession(self.slot, CKF_RW_SESSION)
        except PyKCS11.PyKCS11Error as exc:
            if exc.value in _GONE:
                raise self._removed("cannot open a session") from None
            raise error_for_ckr(exc.value, "C_OpenSession") from None
        return self._session

    @contextlib.contextmanager
    def _operation(self, pin_provider: PinProvider | None = None) -> Iterator[_Ops]:
        """Under the slot lock: presence check, session, optional login (logged out again at the end)."""
        with self._lock, _keep_locale():
            self._check_present()
            session = self._open()
            ops = _Ops(self, session)
            logged_in = False
            try:
                if pin_provider is not None:
                    logged_in = self._login(session, pin_provider)
                yield ops
            finally:
                if logged_in:
                    with contextlib.suppress(Exception):
                        session.logout()

    def _login(self, session: Any, pin_provider: PinProvider) -> bool:
        """C_Login with a PIN from the provider; True when this call logged in (and must log out)."""
        state = session.getSessionInfo().state
        if state in (CKS_RO_USER_FUNCTIONS, CKS_RW_USER_FUNCTIONS):
            return False
        info = self.info()
        if info.pin_locked:
            raise PinLockedError(label=self._label, serial=self._serial)
        tries = 1 if info.pin_final_try else None
        pin = pin_provider.get_pin(info, tries)
        if pin is None:
            raise PinRequiredError(label=self._label, serial=self._serial)
        if isinstance(pin, str):
            pin = pin.encode()
        try:
            session.login(bytes(pin), CKU_USER)
        except PyKCS11.PyKCS11Error as exc:
            if exc.value == CKR_USER_ALREADY_LOGGED_IN:
                return False
            if exc.value in _GONE:
                raise self._removed("during login") from None
            with contextlib.suppress(SignAgentError):  # the counter flags after the failure, when readable
                self._check_present()
            if self._flags & CKF_USER_PIN_LOCKED:
                raise PinLockedError(label=self._label, serial=self._serial) from None
            tries_left = 1 if self._flags & CKF_USER_PIN_FINAL_TRY else None
            raise error_for_ckr(exc.value, "C_Login", tries_left=tries_left, label=self._label,
                                serial=self._serial) from None
        return True

    # --- reading ------------------------------------------------------------------------------------------------

    def mechanisms(self) -> set[int]:
        """The mechanism numbers the token supports (read once per token object)."""
        if self._mechanisms is None:
            with self._lock, _keep_locale():
                self._check_present()
                # the low-level call: PyKCS11's getMechanismList returns names (and adds an entry of its own)
                numbers = PyKCS11.LowLevel.ckulonglist()
                rv = self._lib().lib.C_GetMechanismList(self.slot, numbers)
                if rv != 0:
                    raise self._fail(PyKCS11.PyKCS11Error(rv), "C_GetMechanismList")
                self._mechanisms = {int(m) for m in numbers}
        return set(self._mechanisms)

    def _fail(self, exc: Any, operation: str) -> TokenError:
        if exc.value in _GONE:
            return self._removed(operation)
        return error_for_ckr(exc.value, operation, label=self._label, serial=self._serial)

    def certificates(self) -> list[TokenCertificate]:
        """Every X.509 certificate object on the token (unreadable ones are skipped), with its key pair's presence:
        a public or private key object with the same CKA_ID (private keys are usually hidden before login, so a
        public key of the pair counts)."""
        with self._operation() as ops:
            certs = ops.find([(CKA_CLASS, CKO_CERTIFICATE), (CKA_CERTIFICATE_TYPE, CKC_X_509)])
            key_ids = {ops.attr(h, CKA_ID) for h in ops.find([(CKA_CLASS, CKO_PUBLIC_KEY)])}
            key_ids |= {ops.attr(h, CKA_ID) for h in ops.find([(CKA_CLASS, CKO_PRIVATE_KEY)])}
            out = []
            for handle in certs:
                value, key_id, label = ops.attrs(handle, (CKA_VALUE, CKA_ID, CKA_LABEL))
                try:
                    certificate = Certificate.from_der_cached(value)
                except SignAgentError:
                    continue
                out.append(TokenCertificate(certificate, _text(label), key_id, key_id in key_ids and key_id != b""))
        return out

    def certificate(self, cert_id: str) -> TokenCertificate:
        """The certificate with this id (Streebog thumbprint hex); ``key_not_found`` when the token lacks it."""
        for entry in self.certificates():
            if entry.cert_id == cert_id.lower():
                return entry
        raise KeyNotFoundError(f"no certificate {cert_id} on the token {self._label!r}",
                               message_ru=f"на токене «{self._label}» нет сертификата {cert_id}", cert_id=cert_id)

    def find_key(self, cert_id: str) -> bytes | None:
        """The CKA_ID of the certificate's key pair, or None when the token shows no key object for it."""
        entry = self.certificate(cert_id)
        return entry.key_id if entry.has_private_key else None

    def public_keys(self) -> list[tuple[bytes, PublicKey]]:
        """Every GOST public key object as (CKA_ID, key)."""
        with self._operation() as ops:
            return [(kid, key) for h in ops.find([(CKA_CLASS, CKO_PUBLIC_KEY)])
                    for kid, key in [ops.public_key(h)] if key is not None]

    # --- signing ------------------------------------------------------------------------------------------------

    def sign_digest(self, cert_id: str, digest: bytes, pin_provider: PinProvider, *,
                    data: bytes | None = None) -> bytes:
        """Signature s || r of a Streebog ``digest`` by the key of certificate ``cert_id`` (PIN via the provider).

        ``data``: the hashed bytes, needed only when the token has no raw CKM_GOSTR3410(_512) and must hash and
        sign itself (CKM_GOSTR3410_WITH_GOSTR3411_12_*); ``digest`` must then be their Streebog hash.
        """
        entry = self.certificate(cert_id)
        return self.sign_digest_with_key(entry.key_id, entry.certificate.public_key().curve.size, digest,
                                         pin_provider, data=data)

    def sign_digest_with_key(self, key_id: bytes, size: int, digest: bytes, pin_provider: PinProvider, *,
                             data: bytes | None = None) -> bytes:
        """As :meth:`sign_digest` for the private key with CKA_ID ``key_id``; ``size`` is 32 or 64 (key bytes)."""
        if not isinstance(digest, bytes | bytearray):
            raise InvalidTypeError("the digest must be bytes")
        if size not in (32, 64):
            raise InvalidInputError("a GOST R 34.10-2012 key has 32 or 64 bytes")
        if len(digest) != size:
            raise InvalidLengthError(f"a {size * 8}-bit key signs a {size}-byte Streebog digest, not {len(digest)}")
        raw, hashed = ((CKM_GOSTR3410, CKM_GOSTR3410_WITH_GOSTR3411_12_256) if size == 32
                       else (CKM_GOSTR3410_512, CKM_GOSTR3410_WITH_GOSTR3411_12_512))
        mechanisms = self.mechanisms()
        if raw in mechanisms:
            mechanism, payload = raw, bytes(digest)
        elif hashed in mechanisms:
            if data is None:
                raise MechanismUnsupportedError(
                    "the token cannot sign a ready digest; pass the data to hash and sign on the token",
                    message_ru="токен не подписывает готовый хэш; передайте сами данные для подписи на токене")
            check = streebog256(bytes(data)) if size == 32 else streebog512(bytes(data))
            if check.digest() != bytes(digest):
                raise InvalidInputError("the digest is not the Streebog hash of the data",
                                        message_ru="хэш не соответствует данным")
            mechanism, payload = hashed, bytes(data)
        else:
            raise MechanismUnsupportedError(f"the token has no GOST R 34.10-2012 {size * 8}-bit signing mechanism",
                                            message_ru="токен не поддерживает подпись ГОСТ Р 34.10-2012")
        with self._operation(pin_provider) as ops:
            handles = ops.find([(CKA_CLASS, CKO_PRIVATE_KEY), (CKA_ID, bytes(key_id))])
            if not handles:
                raise KeyNotFoundError(label=self._label, serial=self._serial, key_id=bytes(key_id).hex())
            try:
                signature = bytes(ops.session.sign(handles[0], payload, PyKCS11.Mechanism(mechanism)))
            except PyKCS11.PyKCS11Error as exc:
                raise self._fail(exc, "C_Sign") from None
        if len(signature) != 2 * size:
            raise TokenError(f"the token returned a {len(signature)}-byte signature, expected {2 * size}",
                             message_ru="токен вернул подпись неверной длины")
        return signature

    def signer(self, certificate: Certificate | str, pin_provider: PinProvider) -> TokenSigner:
        """A CMS/PKCS#10 signer over the certificate (an object or its id) and its key on this token."""
        if isinstance(certificate, str):
            certificate = self.certificate(certificate).certificate
        return TokenSigner(self, certificate, pin_provider)

    def key_signer(self, key_id: bytes, pin_provider: PinProvider) -> KeyPairSigner:
        """A PKCS#10 request signer (``public_key()`` + ``sign_digest()``) over the key pair with CKA_ID ``key_id``,
        for a key that has no certificate yet; ``key_not_found`` when the token shows no such public key."""
        key = next((k for kid, k in self.public_keys() if kid == bytes(key_id)), None)
        if key is None:
            raise KeyNotFoundError(f"no GOST key pair with id {bytes(key_id).hex()} on the token {self._label!r}",
                                   message_ru=f"на токене «{self._label}» нет ключевой пары {bytes(key_id).hex()}",
                                   key_id=bytes(key_id).hex())
        return KeyPairSigner(self, bytes(key_id), key, pin_provider)

    # --- managing objects ---------------------------------------------------------------------------------------

    def generate_key_pair(self, curve_oid: str, pin_provider: PinProvider, *, key_id: bytes | None = None,
                          label: str = "") -> tuple[bytes, PublicKey]:
        """Generate a GOST R 34.10-2012 key pair on the token (the private key never leaves it).

        ``curve_oid``: a TC 26 / CryptoPro parameter set (name or OID, as :func:`signagent.gost.curve` takes).
        ``key_id``: the CKA_ID to give both keys (default: 20 random bytes). Returns (CKA_ID, public key).
        """
        params = curve(curve_oid)
        size = params.size
        mech, key_type, digest_oid = ((CKM_GOSTR3410_KEY_PAIR_GEN, CKK_GOSTR3410, STREEBOG256_OID) if size == 32
                                      else (CKM_GOSTR3410_512_KEY_PAIR_GEN, CKK_GOSTR3410_512, STREEBOG512_OID))
        if mech not in self.mechanisms():
            raise MechanismUnsupportedError(f"the token cannot generate {size * 8}-bit GOST keys",
                                            message_ru="токен не умеет создавать ключи ГОСТ такой длины")
        kid = bytes(key_id) if key_id is not None else os.urandom(20)
        common = [(CKA_TOKEN, True), (CKA_ID, kid), (CKA_KEY_TYPE, key_type)]
        if label:
            common.append((CKA_LABEL, label))
        public_tpl = [(CKA_CLASS, CKO_PUBLIC_KEY), *common, (CKA_PRIVATE, False), (CKA_VERIFY, True),
                      (CKA_GOSTR3410_PARAMS, _oid_der(params.oid)), (CKA_GOSTR3411_PARAMS, _oid_der(digest_oid))]
        private_tpl = [(CKA_CLASS, CKO_PRIVATE_KEY), *common, (CKA_PRIVATE, True), (CKA_SENSITIVE, True),
                       (CKA_EXTRACTABLE, False), (CKA_SIGN, True)]
        with self._operation(pin_provider) as ops:
            try:
                pub, _ = ops.session.generateKeyPair(public_tpl, private_tpl, PyKCS11.Mechanism(mech))
            except PyKCS11.PyKCS11Error as exc:
                raise self._fail(exc, "C_GenerateKeyPair") from None
            _, key = ops.public_key(pub, default_curve=params.oid)
        if key is None:
            raise TokenError("the token returned an unreadable public key", message_ru="токен вернул неверный ключ")
        return kid, key

    def import_certificate(self, certificate: Certificate, pin_provider: PinProvider, *,
                           label: str = "") -> bytes:
        """Store ``certificate`` next to its key pair (same CKA_ID, found by matching the public key);
        ``key_not_found`` when no public key object on the token is the certificate's. Returns the CKA_ID."""
        if not isinstance(certificate, Certificate):
            raise InvalidTypeError("certificate must be a signagent.x509.Certificate")
        wanted = certificate.public_key().to_bytes()
        kid = next((k for k, key in self.public_keys() if key.to_bytes() == wanted), None)
        if kid is None:
            raise KeyNotFoundError("the token holds no key pair for this certificate",
                                   message_ru="на токене нет ключевой пары для этого сертификата",
                                   label=self._label, serial=self._serial)
        asn1 = certificate.asn1
        template = [(CKA_CLASS, CKO_CERTIFICATE), (CKA_CERTIFICATE_TYPE, CKC_X_509), (CKA_TOKEN, True),
                    (CKA_PRIVATE, False), (CKA_ID, kid), (CKA_VALUE, certificate.der),
                    (CKA_SUBJECT, asn1.subject.dump()), (CKA_ISSUER, asn1.issuer.dump()),
                    (CKA_SERIAL_NUMBER, asn1["tbs_certificate"]["serial_number"].dump()),
                    (CKA_LABEL, label or certificate.subject.get("common_name") or "certificate")]
        with self._operation(pin_provider) as ops:
            try:
                ops.session.createObject(template)
            except PyKCS11.PyKCS11Error as exc:
                raise self._fail(exc, "C_CreateObject") from None
        return kid

    def delete_objects(self, key_id: bytes, pin_provider: PinProvider, *, certificates: bool = True,
                       keys: bool = True) -> int:
        """Destroy the objects with CKA_ID ``key_id`` (certificates and/or both keys); returns how many."""
        classes = ([CKO_CERTIFICATE] if certificates else []) + ([CKO_PUBLIC_KEY, CKO_PRIVATE_KEY] if keys else [])
        count = 0
        with self._operation(pin_provider) as ops:
            for cls in classes:
                for handle in ops.find([(CKA_CLASS, cls), (CKA_ID, bytes(key_id))]):
                    try:
                        ops.session.destroyObject(handle)
                    except PyKCS11.PyKCS11Error as exc:
                        raise self._fail(exc, "C_DestroyObject") from None
                    count += 1
        return count

    def delete_certificate(self, cert_id: str, pin_provider: PinProvider, *, with_keys: bool = False) -> int:
        """Destroy the certificate ``cert_id`` (and its key pair when ``with_keys``); returns the object count."""
        entry = self.certificate(cert_id)
        count = 0
        with self._operation(pin_provider) as ops:
            for handle in ops.find([(CKA_CLASS, CKO_CERTIFICATE), (CKA_ID, entry.key_id)]):
                found = _certificate_or_none(ops.attr(handle, CKA_VALUE))
                if found is not None and cert_id_of(found) == entry.cert_id:
                    ops.destroy(handle)
                    count += 1
            if with_keys:
                for cls in (CKO_PUBLIC_KEY, CKO_PRIVATE_KEY):
                    for handle in ops.find([(CKA_CLASS, cls), (CKA_ID, entry.key_id)]):
                        ops.destroy(handle)
                        count += 1
        return count


class KeyPairSigner:
    """Signs with a token key pair that has no certificate yet (the request of a freshly generated key)."""

    __slots__ = ("_key", "_key_id", "_pin_provider", "_token")

    def __init__(self, token: Pkcs11Token, key_id: bytes, public_key: PublicKey, pin_provider: PinProvider) -> None:
        self._token = token
        self._key_id = key_id
        self._key = public_key
        self._pin_provider = pin_provider

    @property
    def key_id(self) -> bytes:
        """The CKA_ID of the key pair."""
        return self._key_id

    def public_key(self) -> PublicKey:
        """The key pair's public key, as the token's public key object holds it."""
        return self._key

    def sign_digest(self, digest: bytes) -> bytes:
        """Signature s || r of ``digest`` made on the token (the PIN is asked through the provider)."""
        return self._token.sign_digest_with_key(self._key_id, self._key.curve.size, digest, self._pin_provider)

    def sign_data(self, data: bytes, digest: bytes) -> bytes:
        """As :meth:`sign_digest`, with the hashed bytes for a token that can only hash and sign on the device."""
        return self._token.sign_digest_with_key(self._key_id, self._key.curve.size, digest, self._pin_provider,
                                                data=data)


def _certificate_or_none(der: bytes) -> Certificate | None:
    try:
        return Certificate.from_der_cached(der)
    except SignAgentError:
        return None


class _Ops:
    """Object calls on one open session, translating CKR failures into the token's typed errors."""

    __slots__ = ("session", "token")

    def __init__(self, token: Pkcs11Token, session: Any) -> None:
        self.token = token
        self.session = session

    def find(self, template: list[tuple[int, Any]]) -> list[Any]:
        try:
            return list(self.session.findObjects(template))
        except PyKCS11.PyKCS11Error as exc:
            raise self.token._fail(exc, "C_FindObjects") from None

    def attrs(self, handle: Any, types: Iterable[int]) -> list[bytes]:
        types = list(types)
        try:
            values = self.session.getAttributeValue(handle, types, allAsBinary=True)
        except PyKCS11.PyKCS11Error as exc:
            raise self.token._fail(exc, "C_GetAttributeValue") from None
        return [bytes(v) if v is not None else b"" for v in values]

    def attr(self, handle: Any, kind: int) -> bytes:
        return self.attrs(handle, [kind])[0]

    def destroy(self, handle: Any) -> None:
        try:
            self.session.destroyObject(handle)
        except PyKCS11.PyKCS11Error as exc:
            raise self.token._fail(exc, "C_DestroyObject") from None

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

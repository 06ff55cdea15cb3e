"""The Python side of the simulator's PKCS#11 module: C arguments in, :class:`~pkcs11_sim.engine.Engine` call,
results marshalled back into the caller's buffers.

The C shims (``pkcs11_sim/_module``) call one function here per PKCS#11 entry point, with cffi ``cdata`` for the
caller's pointers. This module owns what is about memory and calling conventions; the token semantics (sessions,
login rules, objects, mechanisms, the CKR of each misuse) are the engine's:

* pointer checks: a NULL where PKCS#11 requires a pointer -> CKR_ARGUMENTS_BAD;
* the output-length convention of PKCS#11 v2.40 section 5.2: a NULL output buffer asks for the length
  (CKR_OK, the operation stays active), a buffer too small gets CKR_BUFFER_TOO_SMALL and the needed length (the
  operation stays active too) -- :meth:`Engine.output_length` answers both without finishing the operation;
* C_GetAttributeValue per section 5.7 (table "C_GetAttributeValue" rules 1-5);
* blank-padded fixed-length strings in CK_INFO, CK_SLOT_INFO and CK_TOKEN_INFO (section 3.2);
* a :class:`~pkcs11_sim.errors.CkrError` becomes its ``rv``; any other exception becomes CKR_GENERAL_ERROR with a
  line on stderr and the traceback appended to ``module.log`` in the simulator's directory -- never a crash
  of the host program.

The engine is created at C_Initialize (so a test that changes ``PKCS11_SIM_DIR`` between a C_Finalize and the
next C_Initialize gets a fresh view) by a factory that tests may replace (:func:`set_engine_factory`). In a
Python host (PyKCS11 in pytest) this module is the host's own ``pkcs11_sim.glue``: the module shares the host's
interpreter, so such a replacement reaches the loaded module.
"""

from __future__ import annotations

import os
import sys
import threading
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import constants as C
from .errors import CkrError

__all__ = ["bind", "current_engine", "set_engine_factory"]

# Set by bind(): the cffi FFI of the embedded module (pointer reading/writing).
ffi: Any = None

_lock = threading.Lock()  # guards _engine across C_Initialize / C_Finalize
_engine: Any = None


def _default_engine_factory() -> Any:
    from .engine import Engine

    return Engine()


_engine_factory: Callable[[], Any] = _default_engine_factory


def set_engine_factory(factory: Callable[[], Any] | None) -> None:
    """Replace what C_Initialize creates (``None`` restores the real :class:`~pkcs11_sim.engine.Engine`).

    For tests of the module's glue only: takes effect at the next C_Initialize.
    """
    global _engine_factory
    _engine_factory = factory or _default_engine_factory


def current_engine() -> Any:
    """The engine serving the module since C_Initialize, or ``None`` before it / after C_Finalize."""
    return _engine


def _eng() -> Any:
    engine = _engine
    if engine is None:
        raise CkrError(C.CKR_CRYPTOKI_NOT_INITIALIZED)
    return engine


# --------------------------------------------------------------------------------------------------------------
# Reading arguments


def _is_null(ptr: Any) -> bool:
    return ptr == ffi.NULL


def _bytes_in(ptr: Any, length: int) -> bytes:
    """``length`` bytes at ``ptr``; a NULL pointer is allowed only with length 0."""
    if length == 0:
        return b""
    if _is_null(ptr):
        raise CkrError(C.CKR_ARGUMENTS_BAD, "NULL data pointer with a non-zero length")
    return ffi.buffer(ptr, length)[:]


def _template_in(ptr: Any, count: int) -> list[tuple[int, bytes]]:
    """A CK_ATTRIBUTE array as ``[(type, value bytes)]`` (CK_ULONG values stay in their native 8-byte form)."""
    if count == 0:
        return []
    if _is_null(ptr):
        raise CkrError(C.CKR_ARGUMENTS_BAD, "NULL template with a non-zero count")
    return [(ptr[i].type, _bytes_in(ptr[i].pValue, ptr[i].ulValueLen)) for i in range(count)]


def _mechanism_in(ptr: Any) -> tuple[int, bytes | None]:
    """A CK_MECHANISM as ``(mechanism, parameter bytes or None when pParameter is NULL)``."""
    if _is_null(ptr):
        raise CkrError(C.CKR_ARGUMENTS_BAD, "NULL mechanism")
    mech = ptr[0]
    if _is_null(mech.pParameter):
        if mech.ulParameterLen:
            raise CkrError(C.CKR_ARGUMENTS_BAD, "NULL mechanism parameter with a non-zero length")
        return mech.mechanism, None
    return mech.mechanism, ffi.buffer(mech.pParameter, mech.ulParameterLen)[:]


def _need(ptr: Any, what: str) -> None:
    if _is_null(ptr):
        raise CkrError(C.CKR_ARGUMENTS_BAD, f"NULL {what}")


# --------------------------------------------------------------------------------------------------------------
# Writing results


def _padded(text: str | bytes, size: int) -> bytes:
    """A blank-padded fixed-length field (PKCS#11 section 3.2): UTF-8, cut on a character boundary."""
    raw = text if isinstance(text, bytes) else text.encode("utf-8")
    if len(raw) > size:
        raw = raw[:size]
        if not isinstance(text, bytes):
            raw = raw.decode("utf-8", "ignore").encode("utf-8")
    return raw.ljust(size, b" ")


def _put_text(field: Any, text: str | bytes, size: int) -> None:
    ffi.memmove(field, _padded(text, size), size)


def _put_version(field: Any, version: tuple[int, int]) -> None:
    field.major, field.minor = version


def _ulong(value: int | None) -> int:
    return C.CK_UNAVAILABLE_INFORMATION if value is None else value


def _ulongs_out(array: Any, count_ptr: Any, values: list[int]) -> None:
    """The size-query convention for CK_ULONG arrays (slot lists, mechanism lists)."""
    _need(count_ptr, "count pointer")
    if _is_null(array):
        count_ptr[0] = len(values)
        return
    if count_ptr[0] < len(values):
        count_ptr[0] = len(values)
        raise CkrError(C.CKR_BUFFER_TOO_SMALL)
    for i, value in enumerate(values):
        array[i] = value
    count_ptr[0] = len(values)


def _output(session: int, operation: str, out: Any, out_len: Any, produce: Callable[[], bytes]) -> None:
    """The size-query convention for a one-shot output (signature, digest).

    NULL buffer -> the length, operation kept; too small -> CKR_BUFFER_TOO_SMALL with the length, operation kept;
    otherwise ``produce()`` (which ends the operation) and the bytes are copied out.
    """
    _need(out_len, "output length pointer")
    engine = _eng()
    if _is_null(out):
        out_len[0] = engine.output_length(session, operation)
        return
    needed = engine.output_length(session, operation)
    if out_len[0] < needed:
        out_len[0] = needed
        raise CkrError(C.CKR_BUFFER_TOO_SMALL)
    result = produce()
    if len(result) > out_len[0]:  # an engine whose output_length lied: never write past the caller's buffer
        raise RuntimeError(f"{operation} produced {len(result)} bytes, output_length said {needed}")
    ffi.memmove(out, result, len(result))
    out_len[0] = len(result)


# --------------------------------------------------------------------------------------------------------------
# Entry points (names = the PKCS#11 functions; return None for CKR_OK or raise CkrError)


def sim_Ping() -> None:
    """No-op: the C side calls it once so that cffi runs the init code."""


def sim_Initialize() -> None:
    global _engine
    with _lock:
        if _engine is not None:
            raise CkrError(C.CKR_CRYPTOKI_ALREADY_INITIALIZED)
        engine = _engine_factory()
        engine.initialize()
        _engine = engine


def C_Finalize(reserved: Any) -> None:
    global _engine
    if not _is_null(reserved):
        raise CkrError(C.CKR_ARGUMENTS_BAD, "pReserved must be NULL")
    with _lock:
        engine = _eng()
        _engine = None
        engine.finalize()


def C_GetInfo(info: Any) -> None:
    data = _eng().get_info()
    _need(info, "CK_INFO pointer")
    _put_version(info.cryptokiVersion, data["cryptoki_version"])
    _put_text(info.manufacturerID, data["manufacturer_id"], 32)
    info.flags = data["flags"]
    _put_text(info.libraryDescription, data["library_description"], 32)
    _put_version(info.libraryVersion, data["library_version"])


def C_GetSlotList(token_present: int, slots: Any, count: Any) -> None:
    engine = _eng()
    _need(count, "count pointer")
    _ulongs_out(slots, count, engine.get_slot_list(bool(token_present)))


def C_GetSlotInfo(slot: int, info: Any) -> None:
    engine = _eng()
    _need(info, "CK_SLOT_INFO pointer")
    data = engine.get_slot_info(slot)
    _put_text(info.slotDescription, data["slot_description"], 64)
    _put_text(info.manufacturerID, data["manufacturer_id"], 32)
    info.flags = data["flags"]
    _put_version(info.hardwareVersion, data["hardware_version"])
    _put_version(info.firmwareVersion, data["firmware_version"])


_TOKEN_COUNTS = (
    ("ulMaxSessionCount", "max_session_count"),
    ("ulSessionCount", "session_count"),
    ("ulMaxRwSessionCount", "max_rw_session_count"),
    ("ulRwSessionCount", "rw_session_count"),
    ("ulMaxPinLen", "max_pin_len"),
    ("ulMinPinLen", "min_pin_len"),
    ("ulTotalPublicMemory", "total_public_memory"),
    ("ulFreePublicMemory", "free_public_memory"),
    ("ulTotalPrivateMemory", "total_private_memory"),
    ("ulFreePrivateMemory", "free_private_memory"),
)


def C_GetTokenInfo(slot: int, info: Any) -> None:
    engine = _eng()
    _need(info, "CK_TOKEN_INFO pointer")
    data = engine.get_token_info(slot)
    _put_text(info.label, data["label"], 32)
    _put_text(info.manufacturerID, data["manufacturer_id"], 32)
    _put_text(info.model, data["model"], 16)
    _put_text(info.serialNumber, data["serial_number"], 16)
    info.flags = data["flags"]
    for field, key in _TOKEN_COUNTS:
        setattr(info, field, _ulong(data[key]))
    _put_version(info.hardwareVersion, data["hardware_version"])
    _put_version(info.firmwareVersion, data["firmware_version"])
    _put_text(info.utcTime, data.get("utc_time") or "", 16)


def C_GetMechanismList(slot: int, mechanisms: Any, count: Any) -> None:
    engine = _eng()
    _need(count, "count pointer")
    _ulongs_out(mechanisms, count, engine.get_mechanism_list(slot))


def C_GetMechanismInfo(slot: int, mechanism: int, info: Any) -> None:
    engine = _eng()
    _need(info, "CK_MECHANISM_INFO pointer")
    info.ulMinKeySize, info.ulMaxKeySize, info.flags = engine.get_mechanism_info(slot, mechanism)


def C_InitToken(slot: int, pin: Any, pin_len: int, label: Any) -> None:
    engine = _eng()
    _need(label, "label")
    so_pin = _bytes_in(pin, pin_len)
    # a 32-byte blank-padded field (section 3.2); some callers (PyKCS11) pass a shorter NUL-terminated string
    # instead, so reading stops at a NUL rather than past the caller's buffer
    text = ffi.string(ffi.cast("char *", label), 32).decode("utf-8", "replace").rstrip(" ")
    engine.init_token(slot, so_pin, text)


def C_InitPIN(session: int, pin: Any, pin_len: int) -> None:
    engine = _eng()
    engine.init_pin(session, _bytes_in(pin, pin_len))


def C_SetPIN(session: int, old: Any, old_len: int, new: Any, new_len: int) -> None:
    engine = _eng()
    engine.set_pin(session, _bytes_in(old, old_len), _bytes_in(new, new_len))


def C_OpenSession(slot: int, flags: int, application: Any, notify: Any, session_out: Any) -> None:
    engine = _eng()
    _need(session_out, "session handle pointer")
    # Notify callbacks are never called: the simulator has no events to report during a function call.
    session_out[0] = engine.open_session(slot, flags)


def C_CloseSession(session: int) -> None:
    _eng().close_session(session)


def C_CloseAllSessions(slot: int) -> None:
    _eng().close_all_sessions(slot)


def C_GetSessionInfo(session: int, info: Any) -> None:
    engine = _eng()
    _need(info, "CK_SESSION_INFO pointer")
    info.slotID, info.state, info.flags, info.ulDeviceError = engine.get_session_info(session)


def C_Login(session: int, user_type: int, pin: Any, pin_len: int) -> None:
    engine = _eng()
    engine.login(session, user_type, _bytes_in(pin, pin_len))


def C_Logout(session: int) -> None:
    _eng().logout(session)


def C_CreateObject(session: int, template: Any, count: int, handle_out: Any) -> None:
    engine = _eng()
    _need(handle_out, "object handle pointer")
    handle_out[0] = engine.create_object(session, _template_in(template, count))


def C_DestroyObject(session: int, handle: int) -> None:
    _eng().destroy_object(session, handle)


def C_GetAttributeValue(session: int, handle: int, template: Any, count: int) -> int:
    """PKCS#11 v2.40 section 5.7: per attribute, unavailable (sensitive / invalid type) -> ulValueLen =
    CK_UNAVAILABLE_INFORMATION; NULL pValue -> the length; big enough -> the value; too small -> unavailable and
    CKR_BUFFER_TOO_SMALL. Every attribute is processed whatever happens to the others; when several errors
    apply, the engine's (sensitive / type invalid) is returned, as the standard allows any of them."""
    engine = _eng()
    if count and _is_null(template):
        raise CkrError(C.CKR_ARGUMENTS_BAD, "NULL template with a non-zero count")
    types = [template[i].type for i in range(count)]
    rv, values = engine.get_attribute_value(session, handle, types)
    if len(values) != count:
        raise RuntimeError(f"get_attribute_value answered {len(values)} of {count} attributes")
    too_small = False
    for i, value in enumerate(values):
        attr = template[i]
        if value is None:
            attr.ulValueLen = C.CK_UNAVAILABLE_INFORMATION
        elif _is_null(attr.pValue):
            attr.ulValueLen = len(value)
        elif attr.ulValueLen >= len(value):
            ffi.memmove(attr.pValue, value, len(value))
            attr.ulValueLen = len(value)
        else:
            attr.ulValueLen = C.CK_UNAVAILABLE_INFORMATION
            too_small = True
    if rv == C.CKR_OK and too_small:
        return C.CKR_BUFFER_TOO_SMALL
    return rv


def C_SetAttributeValue(session: int, handle: int, template: Any, count: int) -> None:
    engine = _eng()
    engine.set_attribute_value(session, handle, _template_in(template, count))


def C_FindObjectsInit(session: int, template: Any, count: int) -> None:
    engine = _eng()
    engine.find_objects_init(session, _template_in(template, count))


def C_FindObjects(session: int, handles: Any, max_count: int, count_out: Any) -> None:
    engine = _eng()
    _need(count_out, "object count pointer")
    if max_count and _is_null(handles):
        raise CkrError(C.CKR_ARGUMENTS_BAD, "NULL handle array")
    found = engine.find_objects(session, max_count)[:max_count]
    for i, handle in enumerate(found):
        handles[i] = handle
    count_out[0] = len(found)


def C_FindObjectsFinal(session: int) -> None:
    _eng().find_objects_final(session)


def C_DigestInit(session: int, mechanism: Any) -> None:
    engine = _eng()
    engine.digest_init(session, *_mechanism_in(mechanism))


def C_Digest(session: int, data: Any, data_len: int, digest: Any, digest_len: Any) -> None:
    engine = _eng()
    message = _bytes_in(data, data_len)
    _output(session, "digest", digest, digest_len, lambda: engine.digest(session, message))


def C_DigestUpdate(session: int, part: Any, part_len: int) -> None:
    engine = _eng()
    engine.digest_update(session, _bytes_in(part, part_len))


def C_DigestFinal(session: int, digest: Any, digest_len: Any) -> None:
    engine = _eng()
    _output(session, "digest", digest, digest_len, lambda: engine.digest_final(session))


def C_SignInit(session: int, mechanism: Any, key: int) -> None:
    engine = _eng()
    mech, param = _mechanism_in(mechanism)
    engine.sign_init(session, mech, param, key)


def C_Sign(session: int, data: Any, data_len: int, signature: Any, signature_len: Any) -> None:
    engine = _eng()
    message = _bytes_in(data, data_len)
    _output(session, "sign", signature, signature_len, lambda: engine.sign(session, message))


def C_SignUpdate(session: int, part: Any, part_len: int) -> None:
    engine = _eng()
    engine.sign_update(session, _bytes_in(part, part_len))


def C_SignFinal(session: int, signature: Any, signature_len: Any) -> None:
    engine = _eng()
    _output(session, "sign", signature, signature_len, lambda: engine.sign_final(session))


def C_VerifyInit(session: int, mechanism: Any, key: int) -> None:
    engine = _eng()
    mech, param = _mechanism_in(mechanism)
    engine.verify_init(session, mech, param, key)


def C_Verify(session: int, data: Any, data_len: int, signature: Any, signature_len: int) -> None:
    engine = _eng()
    engine.verify(session, _bytes_in(data, data_len), _bytes_in(signature, signature_len))


def C_VerifyUpdate(session: int, part: Any, part_len: int) -> None:
    engine = _eng()
    engine.verify_update(session, _bytes_in(part, part_len))


def C_VerifyFinal(session: int, signature: Any, signature_len: int) -> None:
    engine = _eng()
    engine.verify_final(session, _bytes_in(signature, signature_len))


def C_GenerateKeyPair(session: int, mechanism: Any, public_template: Any, public_count: int,
                      private_template: Any, private_count: int, public_out: Any, private_out: Any) -> None:
    engine = _eng()
    mech, param = _mechanism_in(mechanism)
    _need(public_out, "public key handle pointer")
    _need(private_out, "private key handle pointer")
    public, private = engine.generate_key_pair(
        session, mech, param, _template_in(public_template, public_count),
        _template_in(private_template, private_count),
    )
    public_out[0], private_out[0] = public, private


def C_SeedRandom(session: int, seed: Any, seed_len: int) -> None:
    engine = _eng()
    engine.seed_random(session, _bytes_in(seed, seed_len))


def C_GenerateRandom(session: int, out: Any, length: int) -> None:
    engine = _eng()
    if length and _is_null(out):
        raise CkrError(C.CKR_ARGUMENTS_BAD, "NULL output buffer")
    data = engine.generate_random(session, length)
    if len(data) != length:
        raise RuntimeError(f"generate_random returned {len(data)} bytes instead of {length}")
    ffi.memmove(out, data, length)


def C_WaitForSlotEvent(flags: int, slot_out: Any, reserved: Any) -> None:
    engine = _eng()
    _need(slot_out, "slot pointer")
    if not _is_null(reserved):
        raise CkrError(C.CKR_ARGUMENTS_BAD, "pReserved must be NULL")
    slot_out[0] = engine.wait_for_slot_event(bool(flags & C.CKF_DONT_BLOCK))


# --------------------------------------------------------------------------------------------------------------
# Failure reporting and binding


def _log_dir() -> Path | None:
    root = os.environ.get("PKCS11_SIM_DIR")
    if root:
        return Path(root)
    try:
        from .statefile import default_root

        return Path(default_root())
    except Exception:
        return None


def _report_internal_error(function: str, exc: BaseException) -> None:
    """One line on stderr, the traceback in ``module.log``: an engine bug must be visible, never fatal."""
    where = ""
    try:
        folder = _log_dir()
        if folder is not None and folder.is_dir():
            log = folder / "module.log"
            with log.open("a", encoding="utf-8") as out:
                out.write(f"{datetime.now(UTC).isoformat()} pid {os.getpid()} {function}: CKR_GENERAL_ERROR\n")
                out.write("".join(traceback.format_exception(exc)))
            where = f" (traceback in {log})"
    except Exception:  # noqa: S110 -- reporting must never raise into the C caller
        pass
    try:
        print(f"pkcs11_sim: internal error in {function}: {type(exc).__name__}: {exc}{where}", file=sys.stderr)
    except Exception:  # noqa: S110
        pass


def _guarded(name: str, function: Callable[..., int | None]) -> Callable[..., int]:
    shown = "C_Initialize" if name == "sim_Initialize" else name

    def entry(*args: Any) -> int:
        try:
            rv = function(*args)
        except CkrError as exc:
            return exc.rv
        except BaseException as exc:  # a Python exception must never unwind into C
            _report_internal_error(shown, exc)
            return C.CKR_GENERAL_ERROR
        return C.CKR_OK if rv is None else rv

    entry.__name__ = name
    return entry


def bind(module_ffi: Any, lib: Any) -> None:
    """Attach every Python entry point of the module (``pkcs11sim_py_<name>``) to its function here.

    Called by the module's init code, once per process, before the C side is told that calls may flow.
    """
    global ffi
    from ._module.functions import python_routed

    ffi = module_ffi
    module = sys.modules[__name__]
    for name, _params in python_routed():
        module_ffi.def_extern(name=f"pkcs11sim_py_{name}", error=C.CKR_GENERAL_ERROR)(
            _guarded(name, getattr(module, name))
        )

"""Guards for running a vendor's PKCS#11 module inside this process: locale, garbage collector, slot locks.

A module is native code sharing the agent's process; three things it (or PyKCS11 around it) does would otherwise
hurt the whole agent:

* :func:`keep_locale` -- some modules (OpenSC with a card present) call ``setlocale(LC_ALL, "")``, which under
  ``LANG=C`` turns Python's text encoding into ASCII for the whole process;
* :func:`gc_paused` -- PyKCS11's load/unload and ``PyKCS11Lib.__del__`` share one non-reentrant lock, so a cyclic
  collection inside load/unload can deadlock the process;
* :func:`slot_lock` -- login state belongs to the application and the token, not to a session (PKCS#11 v2.40,
  C_Login: the user is logged in for every session of the application), so every operation on a slot, from
  login to logout, runs under one lock per (module, slot).

Exports: keep_locale, gc_paused, slot_lock.
"""

from __future__ import annotations

import contextlib
import gc
import locale
import os
import threading
from collections.abc import Iterator

__all__ = ["gc_paused", "keep_locale", "slot_lock"]


@contextlib.contextmanager
def keep_locale() -> Iterator[None]:
    """Undo a module's setlocale() when the block ends (the process keeps the locale it had)."""
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
def gc_paused() -> Iterator[None]:
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


def slot_lock(module_path: str, slot: int) -> threading.RLock:
    """The one lock of a (module, slot) in this process, shared by every object naming that slot."""
    key = (os.path.realpath(module_path), slot)
    with _LOCKS_GUARD:
        lock = _LOCKS.get(key)
        if lock is None:
            lock = _LOCKS[key] = threading.RLock()
        return lock

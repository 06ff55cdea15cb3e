"""Test hooks: named points where a test can freeze or end the process, inert unless asked for.

A hook fires only when the environment variable ``PKCS11_SIM_TEST_HOOK`` reads ``ACTION:POINT``, with ACTION

* ``stop`` -- the process sends itself SIGSTOP, so a test sees it stopped exactly there and can SIGKILL it;
* ``exit`` -- the process ends at once with status :data:`EXIT_STATUS` (``os._exit``: no cleanup, like a kill).

Points: ``after-pin-decrement`` (:meth:`pkcs11_sim.store.TokenStore.check_pin`, once the decremented retry
counter is on disk and before the PIN is compared). Used by the crash tests of the PIN counter; without the
variable, :func:`reached` only reads the environment.
"""

from __future__ import annotations

import os
import signal

__all__ = ["ENV", "EXIT_STATUS", "reached"]

ENV = "PKCS11_SIM_TEST_HOOK"
EXIT_STATUS = 86


def reached(point: str) -> None:
    """Fire the hook set for ``point`` in ``$PKCS11_SIM_TEST_HOOK``, if any."""
    wanted = os.environ.get(ENV)
    if not wanted:
        return
    action, _, where = wanted.partition(":")
    if where != point:
        return
    if action == "stop":
        os.kill(os.getpid(), signal.SIGSTOP)
    elif action == "exit":
        os._exit(EXIT_STATUS)

"""The card server: one process serving one token as a virtual card in one vpcd reader, and its control.

``python -m pkcs11_sim.pcsc.server --token-dir DIR --reader N`` runs until SIGTERM/SIGINT, until the token is
removed (``pkcs11-sim remove``) or deleted in the store, and exits closing its vpcd connection -- a card removal for
pcscd. Once vpcd polls the card it writes ``DIR/pcsc.pid`` ("<pid>\\n<reader>\\n"), and deletes it on exit.

For the CLI: :func:`start` spawns the server in the background and returns once the card is in the reader;
:func:`stop` ends it; :func:`running` says which server (pid, reader) serves a token.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from signagent.errors import SignAgentError

from ..errors import CkrError
from ..statefile import atomic_write
from ..store import TokenStore
from .card import Card
from .vpcd import VpcdUnavailable, port_for_reader, serve

__all__ = ["LOG_FILE", "PID_FILE", "CardServerError", "main", "running", "start", "stop"]

PID_FILE = "pcsc.pid"
LOG_FILE = "pcsc.log"
MAX_READER = 9
LOG_FORMAT = "%(asctime)s pid %(process)d %(levelname)s %(message)s"
_LOG_PREFIX = re.compile(r"^\S+ \S+ pid \d+ [A-Z]+ ")
log = logging.getLogger("pkcs11_sim.pcsc")


class CardServerError(SignAgentError):
    """The virtual card could not be started or stopped (pcscd/vpcd missing, reader busy...)."""

    code = "sim_card_server"


# --- the server process -----------------------------------------------------------------------------------------
def _write_pid(store: TokenStore, reader: int) -> None:
    atomic_write(store.path / PID_FILE, f"{os.getpid()}\n{reader}\n".encode())


def _remove_own_pid(store: TokenStore) -> None:
    info = _read_pid_file(store.path / PID_FILE)
    if info is not None and info[0] == os.getpid():
        with contextlib.suppress(OSError):
            (store.path / PID_FILE).unlink()


def run(store: TokenStore, reader: int, *, start_timeout: float = 5.0) -> int:
    """Serve ``store`` in reader ``reader`` until stopped; the process exit code (0 stopped, 1 failed)."""
    stop_requested = False

    def on_signal(signum: int, _frame: object) -> None:
        nonlocal stop_requested
        stop_requested = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    def should_stop() -> bool:
        if stop_requested:
            log.info("stop requested")
            return True
        try:
            present = bool(store.load()["present"])
        except CkrError:
            log.info("the token was deleted")
            return True
        if not present:
            log.info("the token was removed")
        return not present

    card = Card(store)
    port = port_for_reader(reader)
    log.info("serving token %s in reader %d (port %d), ATR %s", store.path.name, reader, port, card.atr.hex())
    try:
        serve(card, port, should_stop=should_stop, on_ready=lambda: _write_pid(store, reader),
              start_timeout=start_timeout)
    except VpcdUnavailable as exc:
        log.error("%s", exc)
        return 1
    finally:
        _remove_own_pid(store)
    log.info("card removed")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m pkcs11_sim.pcsc.server``."""
    parser = argparse.ArgumentParser(prog="pkcs11_sim.pcsc.server", description=__doc__.splitlines()[0])
    parser.add_argument("--token-dir", required=True, type=Path)
    parser.add_argument("--reader", type=int, default=0)
    parser.add_argument("--start-timeout", type=float, default=5.0)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    store = TokenStore(args.token_dir)
    if not store.exists():
        log.error("no token in %s", args.token_dir)
        return 1
    return run(store, args.reader, start_timeout=args.start_timeout)


# --- control from the CLI ---------------------------------------------------------------------------------------
def _read_pid_file(path: Path) -> tuple[int, int] | None:
    try:
        lines = path.read_text().split()
        return int(lines[0]), int(lines[1])
    except (OSError, ValueError, IndexError):
        return None


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie -- exited, not yet reaped by its parent -- counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
        return fields[0] != b"Z"
    except (OSError, IndexError):
        return False


def _is_our_server(pid: int, store: TokenStore) -> bool:
    """The process is a card server for this token (a stale pid file may name an unrelated process)."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return b"pkcs11_sim.pcsc.server" in argv and os.fsencode(str(store.path.resolve())) in argv


def running(store: TokenStore) -> tuple[int, int] | None:
    """(pid, reader) of the live card server of this token, or None (a stale pid file is removed)."""
    path = store.path / PID_FILE
    info = _read_pid_file(path)
    if info is None:
        return None
    if _alive(info[0]) and _is_our_server(info[0], store):
        return info
    with contextlib.suppress(OSError):
        path.unlink()
    return None


def start(store: TokenStore, reader: int = 0, *, others: Sequence[TokenStore] = (), timeout: float = 6.0) -> int:
    """Start the card server of ``store`` in ``reader`` in the background; its pid once vpcd polls the card.

    ``others``: the other tokens, whose servers must not hold the same reader. CardServerError when the token is
    already served, the reader is taken, or the server does not come up within ``timeout`` (the reason is the last
    line of ``pcsc.log`` in the token directory).
    """
    if not 0 <= reader <= MAX_READER:
        raise CardServerError(f"reader {reader} is out of range 0..{MAX_READER}")
    if not store.load()["present"]:
        raise CardServerError("the token is removed; insert it first")
    current = running(store)
    if current is not None:
        raise CardServerError(f"the token is already served in reader {current[1]} (pid {current[0]})")
    for other in others:
        if other.path != store.path and (busy := running(other)) is not None and busy[1] == reader:
            raise CardServerError(f"reader {reader} already holds the card of {other.label!r} (pid {busy[0]})")
    log_path = store.path / LOG_FILE
    with open(log_path, "ab") as log_file:
        proc = subprocess.Popen(
            [sys.executable, "-m", "pkcs11_sim.pcsc.server", "--token-dir", str(store.path.resolve()),
             "--reader", str(reader), "--start-timeout", str(max(1.0, timeout - 1.0))],
            stdin=subprocess.DEVNULL, stdout=log_file, stderr=log_file, start_new_session=True, close_fds=True)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        info = _read_pid_file(store.path / PID_FILE)
        if info is not None and info[0] == proc.pid:
            return proc.pid
        if proc.poll() is not None:
            raise CardServerError(f"the card server failed: {_last_line(log_path)}")
        time.sleep(0.05)
    proc.kill()
    proc.wait(2)
    raise CardServerError(f"the card server did not start within {timeout:g} s: {_last_line(log_path)}")


def _last_line(path: Path) -> str:
    try:
        lines = [ln for ln in path.read_text(errors="replace").splitlines() if ln.strip()]
    except OSError:
        return "no log"
    line = lines[-1] if lines else "no log"
    return _LOG_PREFIX.sub("", line)


def stop(store: TokenStore, *, timeout: float = 5.0) -> bool:
    """Stop the card server of ``store`` (SIGTERM, SIGKILL after ``timeout``); False when none was running."""
    current = running(store)
    if current is None:
        return False
    pid = current[0]
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    if _alive(pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(OSError):
        (store.path / PID_FILE).unlink()
    return True


if __name__ == "__main__":
    sys.exit(main())

"""The token state file on disk: names, modes, the writers' lock, the atomic replace and the format check.

Layout of a token directory (its name is derived from the label; the label itself lives in the state)::

    token.json     the whole token state (:mod:`.store`), replaced atomically on every change
    .lock          fcntl lock file serialising writers across processes
    test-ca/ ...   the test PKI made by ``pkcs11-sim provision`` (not part of the state; see :mod:`.provision`)

Modes are set explicitly, whatever the umask: a token directory is 0700, its state and lock files 0600 (the
state holds the sealed keys and the PIN verifiers; see :mod:`.pinkdf` for what that protection is worth).

Crash safety: a change is read-modify-write under an exclusive ``fcntl.flock`` on ``.lock``; the new state goes to
a temporary file in the same directory which is fsynced, renamed over ``token.json`` (atomic on POSIX) and the
directory fsynced (:func:`signagent.fileio.write_atomic`, the project's one atomic writer), so ``kill -9`` at any
moment leaves the old or the new state. Readers take no lock: they see one whole file or the other.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from signagent.fileio import fsync_dir, write_atomic

from . import constants as C
from .errors import CkrError

__all__ = [
    "DIR_MODE",
    "FILE_MODE",
    "FORMAT",
    "LOCK_FILE",
    "READABLE_FORMATS",
    "STATE_FILE",
    "atomic_write",
    "default_root",
    "encode_state",
    "fsync_dir",
    "locked",
    "private_dir",
    "read_state",
]

STATE_FILE = "token.json"
LOCK_FILE = ".lock"
FORMAT = 2
READABLE_FORMATS = (1, 2)  # format 1: PBKDF2 PIN records only, no "pin_kdf" policy
DIR_MODE = 0o700
FILE_MODE = 0o600


def default_root() -> Path:
    """``$PKCS11_SIM_DIR``, else the user's data directory for "pkcs11-sim" (platformdirs)."""
    env = os.environ.get("PKCS11_SIM_DIR")
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_data_dir("pkcs11-sim", appauthor=False))


def atomic_write(path: Path, data: bytes) -> None:
    """Replace ``path`` by ``data`` (mode 0600) so that a crash leaves either the old or the new content."""
    write_atomic(path, data, mode=FILE_MODE)


@contextlib.contextmanager
def locked(lock_path: Path) -> Iterator[None]:
    """Exclusive fcntl lock on ``lock_path`` (created if missing); released on exit, also by process death."""
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, FILE_MODE)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing the descriptor drops the flock


def private_dir(path: Path) -> None:
    """Make ``path`` (and missing parents) a directory and set its mode to 0700, whatever the umask."""
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    if (path.stat().st_mode & 0o777) != DIR_MODE:
        os.chmod(path, DIR_MODE)


def read_state(state_path: Path) -> dict[str, Any]:
    """The parsed state of ``state_path``: CKR_TOKEN_NOT_PRESENT when it is gone, CKR_TOKEN_NOT_RECOGNIZED when it
    is not a state of a format this version reads."""
    try:
        data = state_path.read_bytes()
    except FileNotFoundError:
        raise CkrError(C.CKR_TOKEN_NOT_PRESENT, "the token was deleted") from None
    try:
        state = json.loads(data)
    except ValueError:
        # Cannot happen with atomic writes unless someone edited the file by hand.
        raise CkrError(C.CKR_TOKEN_NOT_RECOGNIZED, f"unreadable token state {state_path}") from None
    if not isinstance(state, dict) or state.get("format") not in READABLE_FORMATS:
        raise CkrError(C.CKR_TOKEN_NOT_RECOGNIZED, f"unknown token state format in {state_path}")
    return state


def encode_state(state: dict[str, Any]) -> bytes:
    """The bytes of ``token.json`` for ``state`` (sorted keys, so unchanged states compare equal)."""
    return json.dumps(state, sort_keys=True, indent=1).encode()

"""The command line's last line of defence: an unexpected exception becomes one line and a log file.

A user must never see a traceback (issue 10): anything that is not a :class:`~signagent.errors.SignAgentError` or
a click exception is a bug, reported as "signagent: internal error, please report (details in LOGFILE)" with exit
status 2, and the traceback goes to a file readable only by the user (0600, in a 0700 directory): the user log
directory of platformdirs, or the configuration's ``log_dir`` / ``$SIGNAGENT_LOG_DIR`` (the test suite points it
at a temporary directory and fails when any file appears there).

Exports: INTERNAL_ERROR_PREFIX, log_dir, write_crash_log.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

__all__ = ["INTERNAL_ERROR_PREFIX", "log_dir", "write_crash_log"]

#: File names of the logs start with this, so a test harness can find them.
INTERNAL_ERROR_PREFIX = "internal-error-"


def log_dir() -> Path:
    """Where internal-error logs go: the configuration's ``log_dir`` (``$SIGNAGENT_LOG_DIR``, the configuration
    file, else the platform's user log directory)."""
    from signagent.service.config import SETTINGS, load_config  # only on this rare path

    try:
        return load_config().log_dir
    except Exception:  # a broken configuration must not cost the log of the bug: its default, or the variable
        default = next(s for s in SETTINGS if s.name == "log_dir").default()
        return Path(os.environ.get("SIGNAGENT_LOG_DIR") or default)


def write_crash_log(exc: BaseException, argv: list[str] | None) -> Path | None:
    """Write the traceback of ``exc`` (and the command's arguments) to a new 0600 file; its path, or None when
    it could not be written (the caller still prints its one line)."""
    import traceback  # only on this rare path: every command starts faster without it

    try:
        directory = log_dir()
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
        path = directory / f"{INTERNAL_ERROR_PREFIX}{stamp}-{os.getpid()}-{time.monotonic_ns() % 10**6}.log"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o600)
        args = sys.argv[1:] if argv is None else argv
        text = (f"signagent internal error\nargv: {args!r}\npython: {sys.version}\n\n"
                + "".join(traceback.format_exception(exc)))
        with os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace") as f:
            f.write(text)
        return path
    except Exception:  # the log is a courtesy: never let it hide the one-line report
        return None

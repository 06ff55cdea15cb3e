"""Process-level set-up of the command line: output streams that cannot fail to encode, SIGTERM as an exception.

* A terminal in a legacy encoding (``LANG=ru_RU.ISO-8859-1``, ``PYTHONIOENCODING=latin-1``) cannot show Cyrillic
  and a file name from argv may carry undecodable bytes (surrogate escapes): printing must never raise (issue 10,
  defect 5). The ``signagent-output`` error handler writes a file name's original bytes back (as sha256sum
  prints names) and ``\\uXXXX`` escapes for characters the encoding lacks.
* SIGTERM by default kills the process without running ``finally`` blocks, leaving a signature's temporary file
  behind (issue 10, defect 11). While a command runs, SIGTERM raises :class:`Terminated` instead, so the atomic
  writer removes its temporary file, and the command exits 143 (128 + 15, the shell's convention).

Exports: Terminated, safe_streams, terminate_raises.
"""

from __future__ import annotations

import codecs
import contextlib
import signal
import sys
import threading
from collections.abc import Iterator
from types import FrameType

__all__ = ["Terminated", "safe_streams", "terminate_raises"]


class Terminated(BaseException):  # named like KeyboardInterrupt, which it mirrors
    """SIGTERM arrived: unwinds like KeyboardInterrupt (a BaseException, so ``except Exception`` lets it pass)."""


_HANDLER = "signagent-output"


def _output_errors(exc: UnicodeError) -> tuple[str | bytes, int]:
    """Encoding error handler: a surrogate escape (PEP 383) becomes its original byte, anything else a
    backslash escape; one character at a time, so a mix of both is handled."""
    if not isinstance(exc, UnicodeEncodeError):
        raise exc
    char = exc.object[exc.start]
    if "\udc80" <= char <= "\udcff":
        return bytes([ord(char) - 0xDC00]), exc.start + 1
    return char.encode("ascii", "backslashreplace").decode("ascii"), exc.start + 1


codecs.register_error(_HANDLER, _output_errors)


def safe_streams() -> None:
    """Make stdout and stderr degrade what their encoding cannot represent instead of raising."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            with contextlib.suppress(Exception):  # a stream that cannot be reconfigured keeps its settings
                reconfigure(errors=_HANDLER)


def _raise_terminated(signum: int, frame: FrameType | None) -> None:
    raise Terminated


@contextlib.contextmanager
def terminate_raises() -> Iterator[None]:
    """Within the block, SIGTERM raises :class:`Terminated` (main thread only; elsewhere a no-op).

    The previous handler is restored afterwards, so calling the command line in-process (tests) leaves the
    interpreter as it was.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    try:
        previous = signal.signal(signal.SIGTERM, _raise_terminated)
    except (ValueError, OSError):  # no signals here (an embedded interpreter)
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)

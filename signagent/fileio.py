"""Reading and writing files safely: reads capped in size with typed errors, writes that are atomic.

Sits at the bottom of the layers beside :mod:`signagent.errors` (standard library only), so that every layer
reads user-supplied files and writes its state the same way:

* :func:`read_capped` never reads more than ``limit + 1`` bytes (a 50 MB file handed to a certificate loader is
  refused from its size, fast) and turns every OS error into :class:`~signagent.errors.FileAccessError`;
* :func:`write_atomic` replaces a file so that readers (and a crash at any moment) see the old or the new
  content, never a mix: temporary file in the same directory, fsync, ``os.replace``, fsync of the directory.

* :func:`iter_chunks` and :func:`open_input` read content of any size in constant memory (1 MiB reads into one
  reused buffer), with every OS error of opening a path turned into FileAccessError.

Exports: CHUNK, read_capped, iter_chunks, open_input, write_atomic, fsync_dir.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from signagent.errors import FileAccessError, InvalidInputError, SignAgentError

TooLarge = Callable[[str, str], SignAgentError]

# 1 MiB reads: large enough that the per-call overhead vanishes next to hashing, small enough that the resident
# memory stays a few MB whatever the file size.
CHUNK = 1 << 20


def _too_large(message: str, message_ru: str) -> SignAgentError:
    return InvalidInputError(message, message_ru=message_ru)


def read_capped(path: str | os.PathLike[str], limit: int, what: str = "input",
                too_large: TooLarge = _too_large) -> bytes:
    """The whole content of ``path`` if it has at most ``limit`` bytes.

    A missing, unreadable or directory path raises FileAccessError; a larger file raises what ``too_large(message,
    message_ru)`` returns (InvalidInputError by default; loaders pass their own format error).
    """
    p = Path(path)
    try:
        info = p.stat()
    except FileNotFoundError:
        raise FileAccessError(f"{p}: no such file", message_ru=f"{p}: файл не найден", path=p) from None
    except OSError as exc:
        raise FileAccessError(f"{p}: {exc.strerror or exc}", message_ru=f"{p}: нет доступа к файлу", path=p) from None
    if stat.S_ISDIR(info.st_mode):
        raise FileAccessError(f"{p}: is a directory", message_ru=f"{p}: это каталог", path=p)
    if info.st_size > limit:
        raise too_large(f"{p}: {info.st_size} bytes is more than the {limit}-byte limit for a {what} file",
                        f"{p}: размер {info.st_size} байт превышает предел {limit} байт")
    try:
        with p.open("rb") as f:
            data = f.read(limit + 1)  # a pipe or device reports no size: cap the read itself
    except OSError as exc:
        raise FileAccessError(f"{p}: {exc.strerror or exc}", message_ru=f"{p}: нет доступа к файлу", path=p) from None
    if len(data) > limit:
        raise too_large(f"{p}: more than the {limit}-byte limit for a {what} file",
                        f"{p}: размер превышает предел {limit} байт")
    return data


def fsync_dir(path: str | os.PathLike[str]) -> None:
    """Make the renames inside directory ``path`` durable."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: str | os.PathLike[str], data: bytes, *, mode: int | None = None, sync_dir: bool = True) -> None:
    """Replace ``path`` by ``data`` atomically (old or new content, never a mix, even after ``kill -9``).

    ``mode`` sets the permissions before the file becomes visible (0o600 for secrets). ``sync_dir=False`` leaves
    the fsync of the directory to the caller, so that a batch of files costs one directory sync. OS errors
    propagate (callers know which error of the tree fits: a trust store error, a file access error...).
    """
    target = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=target.parent)
    try:
        if mode is not None:
            os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    if sync_dir:
        fsync_dir(target.parent)


def iter_chunks(stream: BinaryIO) -> Iterator[memoryview]:
    """Everything readable from ``stream``, in chunks of at most :data:`CHUNK` bytes.

    The chunks are views of one reused buffer: use each one before asking for the next.
    """
    readinto = getattr(stream, "readinto", None)
    if readinto is None:  # streams without readinto (rare): plain reads
        while chunk := stream.read(CHUNK):
            yield memoryview(chunk)
        return
    buf = bytearray(CHUNK)
    view = memoryview(buf)
    while n := readinto(buf):
        yield view[:n]


@contextlib.contextmanager
def open_input(path: str | os.PathLike[str]) -> Iterator[BinaryIO]:
    """Open a file for streaming reads; missing, directory or unreadable -> FileAccessError naming it."""
    name = os.fspath(path)
    try:
        f = open(name, "rb", buffering=0)
    except FileNotFoundError:
        raise FileAccessError(f"{name}: no such file", message_ru=f"{name}: файл не найден", path=name) from None
    except IsADirectoryError:
        raise FileAccessError(f"{name}: is a directory", message_ru=f"{name}: это каталог", path=name) from None
    except PermissionError:
        raise FileAccessError(f"{name}: permission denied", message_ru=f"{name}: нет прав на чтение",
                              path=name) from None
    except OSError as exc:
        raise FileAccessError(f"{name}: {exc.strerror or exc}", message_ru=f"{name}: ошибка чтения",
                              path=name) from None
    with f:
        try:
            yield f
        except IsADirectoryError:  # some systems open a directory and fail on the first read
            raise FileAccessError(f"{name}: is a directory", message_ru=f"{name}: это каталог", path=name) from None

"""Reading and writing files safely: regular files only, reads capped in size, writes that are atomic.

Sits at the bottom of the layers beside :mod:`signagent.errors` (standard library only), so that every layer
reads user-supplied files and writes its state the same way:

* every path is opened with ``O_NONBLOCK`` and checked with ``fstat`` before a byte is read: a FIFO, a device or a
  socket raises :class:`~signagent.errors.NotRegularFileError` at once (reading a FIFO blocks until a writer
  comes, ``/dev/zero`` never ends, ``/dev/tty`` waits for the user). ``-`` (standard input) is the one stream a
  command accepts, and only where it says so;
* :func:`read_capped` never reads more than ``limit + 1`` bytes (a 50 MB file handed to a certificate loader is
  refused from its size, fast) and turns every OS error into :class:`~signagent.errors.FileAccessError`;
* :func:`read_secret` is the one reader of password and PIN files (first line, strict UTF-8, 4 KiB);
* :func:`iter_chunks` and :func:`open_input` read content of any size in constant memory (1 MiB reads into one
  reused buffer);
* :func:`atomic_output` / :func:`write_atomic` replace a file so that readers (and a crash at any moment) see the
  old or the new content, never a mix: temporary file in the same directory, fsync, ``os.replace``, fsync of the
  directory. They never rename over something that is not a regular file (``/dev/null`` stays a device), and
  the temporary file is removed on any exception -- the command line turns SIGTERM into one for that;
  :func:`open_output` adds ``-`` for standard output.
* :func:`hardened_xml_parser` -- the one expat set-up for untrusted XML (the accredited-CA list, ЕГРЮЛ/ЕГРИП
  extracts, XML shown in the agent's confirmation page): any DTD refused before it is expanded.

Exports: CHUNK, MAX_SECRET, read_capped, read_stream_capped, read_secret, iter_chunks, open_input, check_output,
atomic_output, open_output, write_atomic, fsync_dir, hardened_xml_parser.
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

from signagent.errors import (
    FileAccessError,
    InputTooLargeError,
    InvalidInputError,
    NotRegularFileError,
    SignAgentError,
    too_large_error,
)

PathLike = str | os.PathLike[str]

# 1 MiB reads: large enough that the per-call overhead vanishes next to hashing, small enough that the resident
# memory stays a few MB whatever the file size.
CHUNK = 1 << 20

#: Cap of a password or PIN file: a PIN is at most a few dozen characters, a passphrase a line.
MAX_SECRET = 4096

_KIND = {stat.S_IFIFO: "a FIFO (named pipe)", stat.S_IFCHR: "a character device", stat.S_IFBLK: "a block device",
         stat.S_IFSOCK: "a socket"}
_KIND_RU = {stat.S_IFIFO: "именованный канал (FIFO)", stat.S_IFCHR: "символьное устройство",
            stat.S_IFBLK: "блочное устройство", stat.S_IFSOCK: "сокет"}


def _access_error(name: str, exc: OSError) -> FileAccessError:
    if isinstance(exc, FileNotFoundError):
        return FileAccessError(situation="missing", path=name)
    if isinstance(exc, IsADirectoryError):
        return FileAccessError(situation="directory", path=name)
    if isinstance(exc, PermissionError):
        return FileAccessError(situation="permission", path=name)
    return FileAccessError(situation="os_error", path=name, error=exc.strerror or exc)


def _not_regular(name: str, mode: int, *, output: bool = False) -> NotRegularFileError:
    kind = stat.S_IFMT(mode)
    what, what_ru = _KIND.get(kind, "not a regular file"), _KIND_RU.get(kind, "не обычный файл")
    return NotRegularFileError(situation="output" if output else "", path=name, kind=what, kind_ru=what_ru)


def _check_mode(name: str, mode: int) -> None:
    if stat.S_ISDIR(mode):
        raise FileAccessError(situation="directory", path=name)
    if not stat.S_ISREG(mode):
        raise _not_regular(name, mode)


def _open_regular(path: PathLike) -> tuple[int, os.stat_result]:
    """A blocking read descriptor of the regular file ``path`` and its stat; never blocks on opening.

    The path is stat'ed first so that a device is never even opened (opening some has side effects), then opened
    with O_NONBLOCK (opening a FIFO without a writer would otherwise wait forever) and checked again with fstat
    on the descriptor itself, which closes the window where the path could be swapped between the two.
    """
    name = os.fspath(path)
    try:
        _check_mode(name, os.stat(name).st_mode)
        fd = os.open(name, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise _access_error(name, exc) from None
    try:
        info = os.fstat(fd)
        _check_mode(name, info.st_mode)
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd, info


def _read_limit(readinto: Callable[[memoryview], int | None], limit: int) -> bytes:
    """At most ``limit + 1`` bytes from a reader, in chunks (so that Ctrl-C is handled between reads)."""
    buf = bytearray()
    chunk = bytearray(min(CHUNK, limit + 1))
    view = memoryview(chunk)
    while len(buf) <= limit:
        n = readinto(view[:min(len(chunk), limit + 1 - len(buf))])
        if not n:
            break
        buf += view[:n]
    return bytes(buf)


def read_capped(path: PathLike, limit: int, what: str = "input",
                too_large: type[SignAgentError] = InputTooLargeError) -> bytes:
    """The whole content of the regular file ``path`` if it has at most ``limit`` bytes.

    A missing, unreadable or directory path raises FileAccessError, a FIFO, device or socket NotRegularFileError
    (without blocking); a larger file raises InputTooLargeError (code ``input_too_large`` for every kind of
    input), which is also a ``too_large`` when a loader names its own error class.
    """
    name = os.fspath(path)
    fd, info = _open_regular(name)
    with open(fd, "rb", buffering=0, closefd=True) as f:
        if info.st_size > limit:
            raise too_large_error(too_large)(path=name, size=info.st_size, limit=limit, what=what)
        try:
            data = _read_limit(f.readinto, limit)  # the file may grow between fstat and read: cap the read too
        except OSError as exc:
            raise _access_error(name, exc) from None
    if len(data) > limit:
        raise too_large_error(too_large)(path=name, limit=limit, what=f"{what} file")
    return data


def read_stream_capped(stream: BinaryIO, limit: int, what: str = "input",
                       too_large: type[SignAgentError] = InputTooLargeError, name: str = "standard input") -> bytes:
    """Everything readable from ``stream`` (standard input for ``-``) if it is at most ``limit`` bytes."""
    readinto = getattr(stream, "readinto", None)
    if readinto is None:
        def readinto(view: memoryview) -> int:
            data = stream.read(len(view))
            view[:len(data)] = data
            return len(data)
    data = _read_limit(readinto, limit)
    if len(data) > limit:
        raise too_large_error(too_large)(path=name, limit=limit, what=what)
    return data


def read_secret(path: PathLike, what: str = "PIN") -> str:
    """The password or PIN in the file ``path``: its first line, without its line end (LF or CR LF).

    The one reader every command uses, so that a key made with any password this accepts can be opened again:
    a regular file only (a FIFO or device raises NotRegularFileError without blocking), at most
    :data:`MAX_SECRET` bytes (InputTooLargeError beyond: never silently cut), strict UTF-8 and no NUL
    (InvalidInputError: a C string would end there). An empty first line gives "" (callers decide).
    """
    name = os.fspath(path)

    try:
        data = read_capped(name, MAX_SECRET, what)
    except InputTooLargeError:
        raise InputTooLargeError(situation="secret", path=name, what=what, limit=MAX_SECRET) from None
    line = data.split(b"\n", 1)[0]
    if line.endswith(b"\r"):
        line = line[:-1]
    if b"\0" in line:
        raise InvalidInputError(situation="nul_byte", path=name, what=what)
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInputError(situation="not_utf8", path=name, what=what, byte=exc.start + 1) from None


def fsync_dir(path: PathLike) -> None:
    """Make the renames inside directory ``path`` durable."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def check_output(path: PathLike) -> None:
    """Refuse an output path that names a directory, a FIFO, a device or a socket (through symlinks too).

    Output is written by rename, which would replace the special file itself (``-o /dev/null`` as root used to
    turn /dev/null into a regular file); writing into it in place could block (FIFO) or fill a disk (a block
    device). A missing path is fine: it will be created.
    """
    name = os.fspath(path)
    try:
        mode = os.stat(name).st_mode
    except FileNotFoundError:
        return
    except OSError as exc:
        raise _access_error(name, exc) from None
    if stat.S_ISDIR(mode):
        raise FileAccessError(situation="directory", path=name)
    if not stat.S_ISREG(mode):
        raise _not_regular(name, mode, output=True)


@contextlib.contextmanager
def atomic_output(path: PathLike, *, mode: int | None = None, sync_dir: bool = True) -> Iterator[BinaryIO]:
    """A binary stream that replaces ``path`` when the block ends without an exception, atomically.

    Temporary file beside the target, fsync, ``os.replace``, fsync of the directory. On any exception
    (KeyboardInterrupt, or SIGTERM turned into one by the command line) the temporary file is removed and the
    target is left as it was. ``mode`` sets the permissions before the file becomes visible (0o600 for
    secrets; default 0o644 minus nothing: what a signature or request needs). NotRegularFileError when
    ``path`` is a device, FIFO or socket; FileAccessError when the directory cannot be written.
    """
    target = Path(path)
    check_output(target)
    directory = target.parent if str(target.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise FileAccessError(situation="cannot_write", path=target, error=exc.strerror or exc) from None
    try:
        os.fchmod(fd, 0o644 if mode is None else mode)  # mkstemp makes 0600
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        check_output(target)  # it may have become a device while we wrote
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    if sync_dir:
        with contextlib.suppress(OSError):
            fsync_dir(directory)


@contextlib.contextmanager
def open_output(path: PathLike, *, mode: int | None = None) -> Iterator[BinaryIO]:
    """:func:`atomic_output`, or standard output when ``path`` is ``-`` (flushed, not closed)."""
    if os.fspath(path) == "-":
        out = sys.stdout.buffer
        yield out
        out.flush()
        return
    with atomic_output(path, mode=mode) as out:
        yield out


def write_atomic(path: PathLike, data: bytes, *, mode: int | None = None, sync_dir: bool = True) -> None:
    """Replace ``path`` by ``data`` atomically (old or new content, never a mix, even after ``kill -9``).

    ``mode`` sets the permissions before the file becomes visible (0o600 for secrets; default 0o600 as before,
    for state files). ``sync_dir=False`` leaves the fsync of the directory to the caller, so that a batch of
    files costs one directory sync. NotRegularFileError when ``path`` is a device, FIFO or socket; other OS
    errors propagate (callers know which error of the tree fits: a trust store error, a file access error...).
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError("write_atomic needs bytes")
    with atomic_output(path, mode=0o600 if mode is None else mode, sync_dir=sync_dir) as handle:
        handle.write(data)


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
def open_input(path: PathLike, *, allow_streams: bool = False) -> Iterator[BinaryIO]:
    """Open a regular file for streaming reads; missing, directory or unreadable -> FileAccessError naming it,
    FIFO, device or socket -> NotRegularFileError (without blocking).

    ``allow_streams=True`` (``signagent hash`` only, which is sha256sum's counterpart and reads in constant
    memory) also opens a FIFO or character device, blocking until a FIFO has a writer as sha256sum does, so that
    ``signagent hash <(command)`` works.
    """
    name = os.fspath(path)
    if allow_streams:
        try:
            mode = os.stat(name).st_mode
        except OSError as exc:
            raise _access_error(name, exc) from None
        if stat.S_ISFIFO(mode) or stat.S_ISCHR(mode):
            try:
                f = open(name, "rb", buffering=0)
            except OSError as exc:
                raise _access_error(name, exc) from None
            with f:
                yield f
            return
    fd, _ = _open_regular(name)
    with open(fd, "rb", buffering=0, closefd=True) as f:
        try:
            yield f
        except IsADirectoryError:  # some systems open a directory and fail on the first read
            raise FileAccessError(situation="directory", path=name) from None


def hardened_xml_parser(refuse: Callable[..., None], *, encoding: str | None = None,
                        namespace_separator: str | None = None) -> Any:
    """An expat parser for untrusted XML that calls ``refuse`` (which must raise) at any DTD: a DOCTYPE, an
    entity, notation or unparsed-entity declaration, an external or skipped entity -- before anything is expanded
    (billion laughs, XXE); parameter entities are never parsed. The caller sets the element handlers."""
    from xml.parsers import expat

    parser = expat.ParserCreate(encoding, namespace_separator)
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.UnparsedEntityDeclHandler = refuse
    parser.NotationDeclHandler = refuse
    parser.ExternalEntityRefHandler = refuse
    parser.SkippedEntityHandler = refuse
    return parser

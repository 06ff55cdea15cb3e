"""Use case: hash files with Streebog (GOST R 34.11-2012), streaming, in constant memory.

Exports: ALGORITHMS, hash_stream, hash_path.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import BinaryIO

from signagent.errors import FileAccessError, UnknownAlgorithmError
from signagent.gost.streebog import streebog256, streebog512

ALGORITHMS = {"streebog256": streebog256, "streebog512": streebog512}

# 1 MiB reads: large enough that the per-call overhead vanishes next to the hashing, small enough that the
# resident memory stays a few MB whatever the file size.
CHUNK = 1 << 20


def _constructor(algorithm: str):
    try:
        return ALGORITHMS[algorithm]
    except KeyError:
        raise UnknownAlgorithmError(
            f"unknown hash algorithm {algorithm!r} (known: {', '.join(ALGORITHMS)})",
            message_ru=f"неизвестный алгоритм хэширования {algorithm!r}",
        ) from None


def hash_stream(stream: BinaryIO, algorithm: str = "streebog256",
                progress: Callable[[int], None] | None = None) -> bytes:
    """Digest of everything readable from a binary stream; ``progress`` gets the byte count of each chunk."""
    h = _constructor(algorithm)()
    buf = bytearray(CHUNK)
    view = memoryview(buf)
    readinto = getattr(stream, "readinto", None)
    while True:
        if readinto is not None:
            n = readinto(buf)
            if not n:
                break
            h.update(view[:n])
        else:  # streams without readinto (rare): plain reads
            chunk = stream.read(CHUNK)
            if not chunk:
                break
            n = len(chunk)
            h.update(chunk)
        if progress is not None:
            progress(n)
    return h.digest()


def hash_path(path: str | os.PathLike[str], algorithm: str = "streebog256",
              progress: Callable[[int], None] | None = None) -> bytes:
    """Digest of a file's content; a missing, unreadable or non-regular file raises :class:`FileAccessError`."""
    _constructor(algorithm)  # reject a bad algorithm before touching the file
    name = os.fspath(path)
    try:
        with open(name, "rb", buffering=0) as f:
            return hash_stream(f, algorithm, progress)
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

"""signagent.fileio: capped reads with typed errors, atomic replacement."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from signagent.errors import CertificateFormatError, FileAccessError, InvalidInputError
from signagent.fileio import read_capped, write_atomic


def test_read_capped(tmp_path: Path) -> None:
    f = tmp_path / "f"
    f.write_bytes(b"x" * 10)
    assert read_capped(f, 10) == b"x" * 10
    with pytest.raises(InvalidInputError, match="10 bytes is more than the 9-byte limit"):
        read_capped(f, 9)
    with pytest.raises(CertificateFormatError):
        read_capped(f, 9, "certificate", lambda m, r: CertificateFormatError(m, message_ru=r))
    with pytest.raises(FileAccessError, match="no such file"):
        read_capped(tmp_path / "missing", 9)
    with pytest.raises(FileAccessError, match="is a directory"):
        read_capped(tmp_path, 9)


def test_read_capped_caps_streams_without_a_size(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    pid = os.fork()
    if pid == 0:  # writer: more than the limit
        with open(fifo, "wb") as w:
            w.write(b"y" * 100)
        os._exit(0)
    try:
        with pytest.raises(InvalidInputError, match="more than the 50-byte limit"):
            read_capped(fifo, 50)
    finally:
        os.waitpid(pid, 0)


def test_write_atomic_replaces_and_sets_mode(tmp_path: Path) -> None:
    f = tmp_path / "secret"
    f.write_bytes(b"old")
    write_atomic(f, b"new", mode=0o600)
    assert f.read_bytes() == b"new"
    assert stat.S_IMODE(f.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["secret"]  # no temporary file left


def test_write_atomic_keeps_the_old_file_on_failure(tmp_path: Path) -> None:
    f = tmp_path / "state"
    f.write_bytes(b"old")

    with pytest.raises(TypeError):
        write_atomic(f, "not bytes")  # type: ignore[arg-type]
    assert f.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["state"]


def test_iter_chunks_reuses_one_buffer_and_covers_everything(tmp_path: Path) -> None:
    import io

    from signagent.fileio import CHUNK, iter_chunks, open_input

    data = bytes(range(256)) * ((CHUNK * 2 + 1000) // 256)
    sizes = [c.nbytes for c in iter_chunks(io.BytesIO(data))]
    assert sizes[:2] == [CHUNK, CHUNK] and sum(sizes) == len(data)

    class NoReadinto:
        def __init__(self) -> None:
            self.inner = io.BytesIO(data)

        def read(self, n: int) -> bytes:
            return self.inner.read(n)

    assert b"".join(bytes(c) for c in iter_chunks(NoReadinto())) == data
    f = tmp_path / "f"
    f.write_bytes(data)
    with open_input(f) as stream:
        assert sum(c.nbytes for c in iter_chunks(stream)) == len(data)
    with pytest.raises(FileAccessError, match="no such file"), open_input(tmp_path / "nope"):
        pass
    with pytest.raises(FileAccessError, match="is a directory"), open_input(tmp_path):
        pass

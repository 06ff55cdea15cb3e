"""signagent.fileio: capped reads with typed errors, atomic replacement."""

from __future__ import annotations

import contextlib
import io
import os
import signal
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from signagent.errors import (
    CertificateFormatError,
    FileAccessError,
    InputTooLargeError,
    InvalidInputError,
    NotRegularFileError,
)
from signagent.fileio import (
    MAX_SECRET,
    atomic_output,
    open_input,
    read_capped,
    read_secret,
    read_stream_capped,
    write_atomic,
)


@contextlib.contextmanager
def hang_guard(seconds: float = 20) -> Iterator[None]:
    """Turn a blocked call into a failure instead of a hung suite (a guard, not a timing assertion): a FIFO
    opened without a writer blocks in open(2) forever, which is the defect these tests pin down."""
    def expire(signum: int, frame: object) -> None:
        raise TimeoutError("blocked: the call did not return")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def test_read_capped(tmp_path: Path) -> None:
    f = tmp_path / "f"
    f.write_bytes(b"x" * 10)
    assert read_capped(f, 10) == b"x" * 10
    with pytest.raises(InputTooLargeError, match="10 bytes is more than the 9-byte limit") as info:
        read_capped(f, 9)
    assert info.value.code == "input_too_large"
    with pytest.raises(CertificateFormatError) as caught:  # a loader's own error, with the one code of the situation
        read_capped(f, 9, "certificate", CertificateFormatError)
    assert isinstance(caught.value, InputTooLargeError) and caught.value.code == "input_too_large"
    with pytest.raises(FileAccessError, match="no such file"):
        read_capped(tmp_path / "missing", 9)
    with pytest.raises(FileAccessError, match="is a directory"):
        read_capped(tmp_path, 9)


def test_read_stream_capped_caps_streams_without_a_size() -> None:
    r, w = os.pipe()
    os.write(w, b"y" * 100)
    os.close(w)
    with os.fdopen(r, "rb", buffering=0) as stream, pytest.raises(InputTooLargeError, match="50-byte limit"):
        read_stream_capped(stream, 50)
    assert read_stream_capped(io.BytesIO(b"z" * 50), 50) == b"z" * 50


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


# -- issue 10, defects 4 and 6: inputs are regular files, checked without blocking -----------------------------


@pytest.mark.parametrize("reader", [
    lambda p: read_capped(p, 100),
    lambda p: read_secret(p),
    lambda p: open_input(p).__enter__(),
])
def test_readers_refuse_a_fifo_without_blocking(tmp_path: Path, reader) -> None:  # type: ignore[no-untyped-def]
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with hang_guard(), pytest.raises(NotRegularFileError, match="FIFO") as info:
        reader(fifo)
    assert info.value.code == "not_a_regular_file"


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/null"])
def test_readers_refuse_devices(device: str, tmp_path: Path) -> None:
    link = tmp_path / "looks-like-a-file.pem"
    link.symlink_to(device)
    for path in (device, link):
        with hang_guard(), pytest.raises(NotRegularFileError, match="character device"):
            read_capped(path, 1 << 30)
        with pytest.raises(NotRegularFileError):
            read_secret(path)
        with pytest.raises(NotRegularFileError), open_input(path):
            pass


def test_open_input_allows_streams_only_when_asked(tmp_path: Path) -> None:
    with open_input("/dev/null", allow_streams=True) as f:  # `signagent hash` may read a pipe, like sha256sum
        assert f.read() == b""


# -- issue 10, defect 10: one password/PIN file reader -----------------------------------------------------------


@pytest.mark.parametrize(("content", "expected"), [
    (b"1234\n", "1234"),
    (b"1234\r\nsecond line\n", "1234"),
    (b"1234", "1234"),
    ("пароль с пробелами  \n".encode(), "пароль с пробелами  "),
    (b"pass\rword\n", "pass\rword"),  # only a line end is removed, never a lone CR inside
    ("pass\u2028word\n".encode(), "pass\u2028word"),  # str.splitlines() would cut here
    (b"\n", ""),
    (b"", ""),
])
def test_read_secret_first_line(tmp_path: Path, content: bytes, expected: str) -> None:
    f = tmp_path / "pin"
    f.write_bytes(content)
    assert read_secret(f) == expected


@pytest.mark.parametrize(("content", "error", "fragment"), [
    (b"\xff\xfe1234\n", InvalidInputError, "not UTF-8"),
    (b"12\x0034\n", InvalidInputError, "NUL"),
    (b"x" * (MAX_SECRET + 1), InputTooLargeError, f"larger than {MAX_SECRET} bytes"),
    (b"short\n" + b"x" * MAX_SECRET, InputTooLargeError, "larger than"),  # never silently cut
])
def test_read_secret_refuses(tmp_path: Path, content: bytes, error: type[Exception], fragment: str) -> None:
    f = tmp_path / "pin"
    f.write_bytes(content)
    with pytest.raises(error, match=fragment) as info:
        read_secret(f, "password")
    assert "\n" not in str(info.value)


def test_static_pin_provider_reads_through_read_secret(tmp_path: Path) -> None:
    from signagent.tokens.protocol import StaticPinProvider

    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with hang_guard(), pytest.raises(NotRegularFileError):
        StaticPinProvider.from_file(fifo)
    bad = tmp_path / "bad"
    bad.write_bytes(b"\xff\n")
    with pytest.raises(InvalidInputError, match="not UTF-8"):
        StaticPinProvider.from_file(bad)
    good = tmp_path / "good"
    good.write_bytes(b"12345678\r\n")
    assert StaticPinProvider.from_file(good).get_pin(None, None) == b"12345678"  # type: ignore[arg-type]


# -- issue 10, defects 3 and 11: outputs never replace devices; no temporary file left ------------------------


def test_write_atomic_never_renames_over_a_device_or_fifo(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    link = tmp_path / "null-link"
    link.symlink_to(os.devnull)
    for target in (fifo, link):
        with pytest.raises(NotRegularFileError, match="must be a regular file"):
            write_atomic(target, b"data")
        with pytest.raises(NotRegularFileError), atomic_output(target) as out:
            out.write(b"data")
    assert stat.S_ISFIFO(fifo.lstat().st_mode) and link.is_symlink()
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fifo", "null-link"]


def test_atomic_output_removes_its_temporary_file_when_interrupted(tmp_path: Path) -> None:
    target = tmp_path / "out.sig"
    target.write_bytes(b"old")
    with pytest.raises(KeyboardInterrupt), atomic_output(target) as out:
        out.write(b"half a signature")
        raise KeyboardInterrupt
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.sig"]
    with atomic_output(target) as out:
        out.write(b"new")
    assert target.read_bytes() == b"new" and stat.S_IMODE(target.stat().st_mode) == 0o644

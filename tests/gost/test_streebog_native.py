"""The native Streebog core ``signagent.gost._streebog_c`` (GOST R 34.11-2012), tested on its own.

* Known answers: the standard's examples M1/M2 (Appendix A = RFC 6986 §10) and the 144-byte carry vector, hashed
  in one piece, byte by byte and through copies; HMAC (RFC 7836 Appendix A) through the standard ``hmac`` module.
* Differential: random messages of 0..1000 bytes in random chunkings against the pure-Python reference
  ``_streebog_ref`` and against ``gostcrypto`` (an independent implementation).
* Streaming: megabytes fed in uneven chunks equal the one-shot hash; digest() does not finalise; copy() forks.
* Buffers: every contiguous bytes-like type is accepted; str, int, None, strided views and bad digest sizes
  raise the typed errors of :mod:`signagent.errors`.
* Threads: separate objects hashed concurrently, and one object shared by several threads (updates above the
  GIL-release threshold), give the single-threaded results.
"""

from __future__ import annotations

import array
import hmac
import json
import mmap
import random
import threading
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from signagent.errors import InvalidInputError, InvalidTypeError
from tests.conftest import require

try:
    from signagent.gost import _streebog_c as native
except ImportError:  # not built: every test below skips locally and fails in CI
    native = None

try:
    from signagent.gost import _streebog_ref as reference
except ImportError:
    reference = None

try:
    import gostcrypto.gosthash as gostcrypto_hash
except ImportError:
    gostcrypto_hash = None

SIZES = (32, 64)


@pytest.fixture(autouse=True)
def _native_built() -> None:
    require(native is not None, "the compiled module signagent.gost._streebog_c (python setup.py build_ext)")


def _streebog(digest_size: int, data: object = b"") -> object:
    return native.Streebog(digest_size, data)


def _load_vectors(vectors_dir: Path) -> list[dict[str, object]]:
    return json.loads((vectors_dir / "streebog.json").read_text(encoding="utf-8"))["vectors"]


def _size_of(vector: dict[str, object]) -> int:
    return 64 if str(vector["id"]).endswith("-512") else 32


def _chunked(digest_size: int, data: bytes, cuts: list[int]) -> bytes:
    h = _streebog(digest_size)
    start = 0
    for cut in sorted(cuts):
        h.update(data[start:cut])
        start = cut
    h.update(data[start:])
    return h.digest()


# ------------------------------------------------------------------------------------------- it is the C core


def test_module_is_compiled() -> None:
    assert native.__file__.endswith((".so", ".pyd"))
    assert native.Streebog.__module__ == "signagent.gost._streebog_c"
    # A Python class would have a __dict__ or __slots__ per instance; the C type has neither.
    assert not hasattr(native.Streebog(32), "__dict__")


# -------------------------------------------------------------------------------------------- known answers


def test_standard_vectors(vectors_dir: Path) -> None:
    vectors = _load_vectors(vectors_dir)
    assert {v["id"] for v in vectors} >= {"M1-256", "M1-512", "M2-256", "M2-512", "habr144-256", "habr144-512"}
    for v in vectors:
        size = _size_of(v)
        message = bytes.fromhex(v["message_hex"])
        expected = bytes.fromhex(v["digest_hex"])
        assert len(message) == v["message_len"]
        assert _streebog(size, message).digest() == expected, v["id"]
        assert _streebog(size, message).hexdigest() == v["digest_hex"], v["id"]
        # Byte by byte: exercises the partial-block buffer at every offset.
        h = _streebog(size)
        for i in range(len(message)):
            h.update(message[i : i + 1])
        assert h.digest() == expected, v["id"]
        if "digest_as_printed_in_standard_be" in v:  # the byte-order convention of vectors/README.md
            assert expected[::-1].hex() == v["digest_as_printed_in_standard_be"]


def test_carry_vector_in_every_split(vectors_dir: Path) -> None:
    # The 144-byte message makes Σ overflow across 64-bit words; split it at every point.
    for v in _load_vectors(vectors_dir):
        if not str(v["id"]).startswith("habr144"):
            continue
        message = bytes.fromhex(v["message_hex"])
        for cut in range(len(message) + 1):
            assert _chunked(_size_of(v), message, [cut]).hex() == v["digest_hex"], (v["id"], cut)


def test_hmac_rfc7836(vectors_dir: Path) -> None:
    # The stdlib hmac module uses block_size, copy(), update() and digest(): a check of the whole interface.
    data = json.loads((vectors_dir / "hmac_streebog.json").read_text(encoding="utf-8"))["vectors"]
    assert len(data) == 2
    for v in data:
        size = 64 if v["id"].endswith("_512") else 32
        mac = hmac.new(bytes.fromhex(v["key_hex"]), bytes.fromhex(v["data_hex"]), lambda d=b"", s=size: _streebog(s, d))
        assert mac.hexdigest() == v["mac_hex"], v["id"]


def test_empty_message_paths_agree() -> None:
    for size in SIZES:
        empty = _streebog(size).digest()
        assert len(empty) == size
        assert _streebog(size, b"").digest() == empty
        h = _streebog(size)
        h.update(b"")
        h.update(bytearray())
        assert h.digest() == empty
        assert empty != _streebog(size, b"\x00").digest()


# ------------------------------------------------------------------------------------- differential checks


@settings(max_examples=150, deadline=None)
@given(
    size=st.sampled_from(SIZES),
    data=st.binary(min_size=0, max_size=1000),
    cuts=st.lists(st.integers(min_value=0, max_value=1000), max_size=6),
)
def test_against_reference(size: int, data: bytes, cuts: list[int]) -> None:
    require(reference is not None, "the pure-Python reference signagent.gost._streebog_ref")
    expected = reference.Streebog(size, data).digest()
    assert _streebog(size, data).digest() == expected
    assert _chunked(size, data, [c for c in cuts if c <= len(data)]) == expected


@settings(max_examples=60, deadline=None)
@given(size=st.sampled_from(SIZES), data=st.binary(min_size=0, max_size=1000))
def test_against_gostcrypto(size: int, data: bytes) -> None:
    require(gostcrypto_hash is not None, "gostcrypto (test dependency)")
    name = "streebog256" if size == 32 else "streebog512"
    assert _streebog(size, data).digest() == bytes(gostcrypto_hash.new(name, data=bytearray(data)).digest())


@pytest.mark.parametrize("size", SIZES)
def test_saturated_blocks_against_reference(size: int) -> None:
    # All-0xff and all-0x00 blocks drive the 512-bit sum Σ through long carry chains and through zero.
    require(reference is not None, "the pure-Python reference signagent.gost._streebog_ref")
    for data in (b"\xff" * 64 * 5, b"\xff" * 64 * 3 + b"\x00" * 63, b"\x00" * 64 * 4, b"\xff" * 200 + b"\x01"):
        assert _streebog(size, data).digest() == reference.Streebog(size, data).digest()


# ----------------------------------------------------------------------------------------------- streaming


@pytest.mark.parametrize("size", SIZES)
def test_megabytes_in_uneven_chunks(size: int) -> None:
    rng = random.Random(f"streebog-native-big-{size}")
    data = rng.randbytes(3 * 1024 * 1024 + 37)
    one_shot = _streebog(size, data).digest()
    h = _streebog(size)
    view = memoryview(data)
    pos = 0
    while pos < len(data):
        step = rng.choice((1, 63, 64, 65, 4095, 70_001, 1 << 20))
        h.update(view[pos : pos + step])
        pos += step
    assert h.digest() == one_shot
    # The last byte counts: flipping one bit changes the digest.
    assert _streebog(size, data[:-1] + bytes([data[-1] ^ 1])).digest() != one_shot


@pytest.mark.parametrize("size", SIZES)
def test_digest_does_not_finalise_and_copy_forks(size: int) -> None:
    h = _streebog(size, b"abc" * 50)
    first = h.digest()
    assert h.digest() == first
    assert h.hexdigest() == first.hex()
    fork = h.copy()
    assert type(fork) is type(h)
    h.update(b"tail")
    assert h.digest() == _streebog(size, b"abc" * 50 + b"tail").digest()
    assert fork.digest() == first  # the fork did not see "tail"
    fork.update(b"other")
    assert fork.digest() == _streebog(size, b"abc" * 50 + b"other").digest()
    assert h.digest() == _streebog(size, b"abc" * 50 + b"tail").digest()


def test_attributes() -> None:
    for size, name in ((32, "streebog256"), (64, "streebog512")):
        h = native.Streebog(digest_size=size, data=b"x")
        assert (h.name, h.digest_size, h.block_size) == (name, size, 64)
        assert h.copy().name == name
        assert name in repr(h)
        with pytest.raises(AttributeError):
            h.name = "sha256"
        with pytest.raises(AttributeError):
            h.digest_size = 16


# --------------------------------------------------------------------------------------------- buffer types


def test_every_contiguous_buffer_type(tmp_path: Path) -> None:
    data = bytes(range(256)) * 9
    expected = _streebog(32, data).digest()
    words = array.array("I")
    words.frombytes(data)
    path = tmp_path / "data.bin"
    path.write_bytes(data)
    with path.open("rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
        for obj in (
            bytearray(data),
            memoryview(data),
            memoryview(b"\x00" + data + b"\x00")[1:-1],  # a contiguous slice with an offset
            memoryview(data).cast("B", shape=[9, 256]),  # two-dimensional but C-contiguous
            words,
            mapped,
        ):
            assert _streebog(32, obj).digest() == expected, type(obj).__name__
            h = _streebog(32)
            h.update(obj)
            assert h.digest() == expected, type(obj).__name__


@pytest.mark.parametrize(
    "bad",
    ["text", "", 5, None, 1.5, [1, 2], object()],
    ids=["str", "empty-str", "int", "None", "float", "list", "object"],
)
def test_non_bytes_raise_invalid_type(bad: object) -> None:
    h = _streebog(32, b"before")
    before = h.digest()
    with pytest.raises(InvalidTypeError) as info:
        h.update(bad)
    assert info.value.code == "invalid_type"
    assert isinstance(info.value, TypeError)
    assert h.digest() == before  # a rejected update leaves the state alone
    with pytest.raises(InvalidTypeError):
        native.Streebog(64, bad)


def test_str_message_is_hashlib_like() -> None:
    with pytest.raises(InvalidTypeError, match="encoded before hashing"):
        _streebog(32).update("abc")


def test_strided_and_released_views_raise_typed_errors() -> None:
    with pytest.raises(InvalidTypeError) as info:
        _streebog(32).update(memoryview(b"abcdefgh")[::2])
    assert isinstance(info.value.__cause__, BufferError)
    view = memoryview(b"abc")
    view.release()
    with pytest.raises(InvalidInputError):
        _streebog(32).update(view)


@pytest.mark.parametrize("size", [0, 1, 16, 48, 63, 65, 128, -32, 2**64, 2**200])
def test_bad_digest_size_value(size: int) -> None:
    with pytest.raises(InvalidInputError) as info:
        native.Streebog(size)
    assert not isinstance(info.value, InvalidTypeError)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("size", [True, 32.0, "32", None, b"\x20"])
def test_bad_digest_size_type(size: object) -> None:
    with pytest.raises(InvalidTypeError):
        native.Streebog(size)


def test_constructor_arguments_and_type_rules() -> None:
    with pytest.raises(TypeError):
        native.Streebog()
    with pytest.raises(TypeError):
        native.Streebog(32, b"", b"")
    with pytest.raises(TypeError):

        class Sub(native.Streebog):  # not a base type, like hashlib's objects
            pass


# ------------------------------------------------------------------------------------------------- threads


def _run_threads(targets: list) -> None:
    errors: list[BaseException] = []

    def guard(fn):  # an exception in a thread must fail the test, not vanish
        def run() -> None:
            try:
                fn()
            except BaseException as exc:  # re-raised in the main thread below
                errors.append(exc)

        return run

    threads = [threading.Thread(target=guard(t)) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads)
    if errors:
        raise errors[0]


def test_threads_with_separate_objects() -> None:
    rng = random.Random("streebog-native-threads")
    inputs = [(size, rng.randbytes(rng.randrange(200_000, 600_000))) for size in SIZES for _ in range(3)]
    expected = [_streebog(size, data).digest() for size, data in inputs]
    results: dict[int, bytes] = {}

    def work(i: int) -> None:
        size, data = inputs[i]
        h = _streebog(size)
        for pos in range(0, len(data), 50_000):  # above the GIL-release threshold
            h.update(data[pos : pos + 50_000])
        results[i] = h.digest()

    _run_threads([lambda i=i: work(i) for i in range(len(inputs))])
    assert [results[i] for i in range(len(inputs))] == expected


@pytest.mark.parametrize("size", SIZES)
def test_threads_sharing_one_object(size: int) -> None:
    # Every thread feeds the same whole-block chunk, so any interleaving of complete updates gives one answer;
    # a torn update (two threads inside the core at once) would give another. Digests and copies taken by the
    # other threads run in between.
    chunk = bytes(range(256)) * 64  # 16 KiB, above the GIL-release threshold, a multiple of the block size
    threads, rounds = 4, 40
    assert len(chunk) >= native.GIL_MINSIZE and len(chunk) % 64 == 0
    shared = _streebog(size)

    def feed() -> None:
        for _ in range(rounds):
            shared.update(chunk)
            shared.digest()
            shared.copy()

    _run_threads([feed] * threads)
    assert shared.digest() == _streebog(size, chunk * (threads * rounds)).digest()

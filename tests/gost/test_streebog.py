"""Behaviour of the Streebog hash objects, on every backend present: streaming, copy, repeatable digest(),
bytes-like inputs, typed errors, the hashlib-like surface, stdlib ``hmac`` compatibility, and agreement with
gostcrypto (an independent pure-Python implementation) and between the backends on random inputs.
"""

from __future__ import annotations

import array
import hmac
import importlib
from types import ModuleType

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from signagent.errors import InvalidInputError, InvalidTypeError
from signagent.gost import streebog
from tests.conftest import require

try:
    import gostcrypto.gosthash as gc_hash
except ImportError:  # reported through require() in the test that needs it
    gc_hash = None


def _native_or_skip() -> ModuleType:
    try:
        module = importlib.import_module("signagent.gost._streebog_c")
    except ImportError as exc:
        pytest.skip(f"native Streebog not importable: {exc}")
    if not hasattr(module, "Streebog"):
        pytest.skip("signagent.gost._streebog_c is still the empty stub")
    return module


BACKENDS = {
    "ref": lambda: importlib.import_module("signagent.gost._streebog_ref"),
    "native": _native_or_skip,
}
SIZES = [32, 64]
# The pure backend hashes ~0.5 MB/s: inputs of a few blocks keep each example in the millisecond range.
MESSAGES = st.binary(max_size=400)
HYPOTHESIS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(params=sorted(BACKENDS))
def backend(request: pytest.FixtureRequest) -> ModuleType:
    return BACKENDS[request.param]()


@pytest.fixture(params=SIZES, ids=["256", "512"])
def size(request: pytest.FixtureRequest) -> int:
    return request.param


# ------------------------------------------------------------------------------------------------ streaming


@HYPOTHESIS
@given(data=MESSAGES, cuts=st.lists(st.integers(min_value=0, max_value=400), max_size=8))
def test_chunks_equal_one_shot(backend: ModuleType, size: int, data: bytes, cuts: list[int]) -> None:
    whole = backend.Streebog(size, data).digest()
    h = backend.Streebog(size)
    start = 0
    for cut in [*sorted(c for c in cuts if c <= len(data)), len(data)]:
        h.update(data[start:cut])
        start = cut
    assert h.digest() == whole


@HYPOTHESIS
@given(prefix=MESSAGES, a=MESSAGES, b=MESSAGES)
def test_copy_is_independent(backend: ModuleType, size: int, prefix: bytes, a: bytes, b: bytes) -> None:
    h = backend.Streebog(size, prefix)
    twin = h.copy()
    h.update(a)
    twin.update(b)
    assert h.digest() == backend.Streebog(size, prefix + a).digest()
    assert twin.digest() == backend.Streebog(size, prefix + b).digest()


@HYPOTHESIS
@given(first=MESSAGES, more=MESSAGES)
def test_digest_does_not_finalise(backend: ModuleType, size: int, first: bytes, more: bytes) -> None:
    h = backend.Streebog(size, first)
    d1 = h.digest()
    assert h.digest() == d1  # repeatable
    assert h.hexdigest() == d1.hex()
    h.update(more)  # and the object can still be fed, as with hashlib
    assert h.digest() == backend.Streebog(size, first + more).digest()


def test_empty_updates_change_nothing(backend: ModuleType, size: int) -> None:
    h = backend.Streebog(size, b"abc")
    h.update(b"")
    h.update(bytearray())
    assert h.digest() == backend.Streebog(size, b"abc").digest()


def test_block_boundaries(backend: ModuleType, size: int) -> None:
    # Lengths around the 64-byte block: split at every offset gives the one-shot answer.
    for n in (63, 64, 65, 128, 129):
        data = bytes(range(256))[:n] if n <= 256 else bytes(n)
        whole = backend.Streebog(size, data).digest()
        for cut in range(0, n + 1, 7):
            h = backend.Streebog(size, data[:cut])
            h.update(data[cut:])
            assert h.digest() == whole, (n, cut)


# ------------------------------------------------------------------------------------------------- inputs


def test_bytes_like_inputs(backend: ModuleType, size: int) -> None:
    raw = bytes(range(200))
    expected = backend.Streebog(size, raw).digest()
    for value in (bytearray(raw), memoryview(raw), memoryview(bytearray(raw))):
        assert backend.Streebog(size, value).digest() == expected
        h = backend.Streebog(size)
        h.update(value)
        assert h.digest() == expected
    words = array.array("I", range(50))  # multi-byte items: hashed as their raw bytes, like hashlib
    assert backend.Streebog(size, words).digest() == backend.Streebog(size, words.tobytes()).digest()
    strided = memoryview(raw)[::3]  # not C-contiguous, so not "bytes-like" (Python glossary); hashlib refuses it
    with pytest.raises(InvalidTypeError):
        backend.Streebog(size, strided)


@pytest.mark.parametrize("bad", ["abc", "", None, 5, 1.5, [1, 2], object()], ids=repr)
def test_non_bytes_raise_typed_error(backend: ModuleType, size: int, bad: object) -> None:
    with pytest.raises(InvalidTypeError):
        backend.Streebog(size, bad)
    h = backend.Streebog(size, b"x")
    with pytest.raises(InvalidTypeError):
        h.update(bad)
    assert h.digest() == backend.Streebog(size, b"x").digest()  # a rejected update leaves the state intact


@pytest.mark.parametrize("bad", [0, 16, 33, 48, 128, -32])
def test_bad_digest_size(backend: ModuleType, bad: int) -> None:
    with pytest.raises(InvalidInputError):
        backend.Streebog(bad)


@pytest.mark.parametrize("bad", ["32", None, 32.0])
def test_digest_size_of_wrong_type(backend: ModuleType, bad: object) -> None:
    with pytest.raises(InvalidInputError):  # InvalidTypeError is an InvalidInputError too
        backend.Streebog(bad)


def test_hashlib_like_attributes(backend: ModuleType, size: int) -> None:
    h = backend.Streebog(size, b"data")
    assert h.name == f"streebog{size * 8}"
    assert h.digest_size == size
    assert h.block_size == 64
    assert len(h.digest()) == size
    assert h.hexdigest() == h.digest().hex()
    assert isinstance(h.copy(), type(h))


def test_256_is_not_a_truncated_512(backend: ModuleType) -> None:
    # Different IVs (clause 5.1): the 256-bit hash is not a prefix or suffix of the 512-bit one.
    d256 = backend.Streebog(32, b"").digest()
    d512 = backend.Streebog(64, b"").digest()
    assert d256 not in (d512[:32], d512[32:])


def test_stdlib_hmac_accepts_the_backend(backend: ModuleType, size: int) -> None:
    def constructor(data: bytes = b"") -> object:
        return backend.Streebog(size, data)

    key, msg = b"k" * 100, b"message"  # a key longer than the block is hashed first (RFC 2104 section 2)
    mac = hmac.new(key, msg, constructor)
    assert mac.digest_size == size
    assert mac.block_size == 64
    # HMAC by hand, to check that hmac really used our block size and hash
    k = backend.Streebog(size, key).digest().ljust(64, b"\0")
    inner = backend.Streebog(size, bytes(x ^ 0x36 for x in k) + msg).digest()
    assert mac.digest() == backend.Streebog(size, bytes(x ^ 0x5C for x in k) + inner).digest()


# --------------------------------------------------------------------------------------- independent oracles


@HYPOTHESIS
@given(data=MESSAGES)
def test_agrees_with_gostcrypto(backend: ModuleType, size: int, data: bytes) -> None:
    require(gc_hash is not None, "gostcrypto (pip install gostcrypto==1.2.5)")
    theirs = gc_hash.new(f"streebog{size * 8}", data=data).digest()
    assert backend.Streebog(size, data).digest() == bytes(theirs)


@pytest.mark.parametrize("fill", [b"\xff", b"\x00"])
def test_agrees_with_gostcrypto_on_carry_heavy_input(backend: ModuleType, size: int, fill: bytes) -> None:
    # Runs of 0xFF blocks drive every carry of the 512-bit sums N and Sigma (clause 8.2).
    require(gc_hash is not None, "gostcrypto (pip install gostcrypto==1.2.5)")
    for n in (64, 128, 191, 256):
        data = fill * n
        assert backend.Streebog(size, data).digest() == bytes(gc_hash.new(f"streebog{size * 8}", data=data).digest())


@HYPOTHESIS
@given(data=st.binary(max_size=1000))
def test_backends_agree(size: int, data: bytes) -> None:
    native = _native_or_skip()
    ref = importlib.import_module("signagent.gost._streebog_ref")
    assert native.Streebog(size, data).digest() == ref.Streebog(size, data).digest()


# ---------------------------------------------------------------------------------------------- public API


def test_new_rejects_unknown_names() -> None:
    from signagent.errors import UnknownAlgorithmError

    with pytest.raises(UnknownAlgorithmError):
        streebog.new("sha256")
    with pytest.raises(InvalidTypeError):
        streebog.new(None)  # type: ignore[arg-type]

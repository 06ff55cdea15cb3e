"""One check for "a bytes-like argument", shared by every public function of ``signagent.gost``.

A bytes-like object in Python's sense is a C-contiguous buffer (bytes, bytearray, memoryview, array, mmap...).
``str`` is refused with a hint to encode it (as hashlib does), and so is a strided buffer, so that the
pure-Python reference and the C core accept exactly the same inputs.
"""

from __future__ import annotations

from ..errors import InvalidTypeError


def as_view(value: object, what: str) -> bytes | memoryview:
    """``value`` itself if it is bytes, else a flat unsigned-byte memoryview of it (no copy)."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        raise InvalidTypeError(f"{what} must be bytes, not str: encode the text first", got="str")
    try:
        view = memoryview(value)  # type: ignore[arg-type]
    except TypeError:
        raise InvalidTypeError(
            f"{what} must be a bytes-like object, not {type(value).__name__}", got=type(value).__name__
        ) from None
    if not view.c_contiguous:
        raise InvalidTypeError(f"{what} must be a contiguous bytes-like object", got="non-contiguous buffer")
    return view if view.format == "B" and view.ndim == 1 else view.cast("B")


def as_bytes(value: object, what: str) -> bytes:
    """``value`` as bytes (copied out of any other bytes-like object)."""
    view = as_view(value, what)
    return view if isinstance(view, bytes) else view.tobytes()

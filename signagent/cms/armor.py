"""PEM armour for CMS output (RFC 7468 section 9: label "CMS"), written as a stream.

:class:`PemWriter` is a file-like sink: bytes written to it come out base64-encoded in 64-character lines
between the BEGIN/END lines, so an attached signature of any size is armoured without being held in memory.

Exports: PemWriter, PEM_LABEL.
"""

from __future__ import annotations

import base64
from typing import BinaryIO

__all__ = ["PEM_LABEL", "PemWriter"]

PEM_LABEL = "CMS"
_LINE = 48  # input bytes per 64-character base64 line


class PemWriter:
    """Writes PEM to ``sink``: ``write()`` the DER in any pieces, then ``close()`` (does not close ``sink``)."""

    def __init__(self, sink: BinaryIO, label: str = PEM_LABEL) -> None:
        self._sink = sink
        self._label = label
        self._pending = bytearray()
        self._closed = False
        sink.write(f"-----BEGIN {label}-----\n".encode("ascii"))

    def write(self, data: bytes | bytearray | memoryview) -> int:
        """Encode ``data`` (complete lines now, the remainder later)."""
        self._pending += data
        whole = len(self._pending) - len(self._pending) % _LINE
        if whole:
            flat = base64.b64encode(self._pending[:whole])  # a multiple of 48 bytes: whole 64-char lines
            self._sink.write(b"".join(flat[i:i + 64] + b"\n" for i in range(0, len(flat), 64)))
            del self._pending[:whole]
        return len(data)

    def close(self) -> None:
        """Flush the last partial line and write the END line."""
        if self._closed:
            return
        if self._pending:
            self._sink.write(base64.b64encode(bytes(self._pending)) + b"\n")
            self._pending.clear()
        self._sink.write(f"-----END {self._label}-----\n".encode("ascii"))
        self._closed = True

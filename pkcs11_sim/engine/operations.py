"""Cryptographic operations of a session (PKCS#11 v2.40 section 5.2): at most one active operation of each kind
(digest, sign, verify) per session -- CKR_OPERATION_ACTIVE / CKR_OPERATION_NOT_INITIALIZED -- and the
single-part / multi-part rules shared by digesting, signing and verifying."""

from __future__ import annotations

from .. import constants as C
from ..errors import CkrError
from .core import api
from .records import Operation, Session
from .sessions import Sessions

__all__ = ["Operations"]


class Operations(Sessions):
    """The rules of active operations; :mod:`.digests` and :mod:`.signatures` use them."""

    def _start(self, s: Session, kind: str) -> None:
        if kind in s.operations:
            raise CkrError(C.CKR_OPERATION_ACTIVE)

    def _active(self, s: Session, kind: str) -> Operation:
        op = s.operations.get(kind)
        if op is None:
            raise CkrError(C.CKR_OPERATION_NOT_INITIALIZED)
        return op

    def _update(self, s: Session, kind: str, data: bytes) -> None:
        op = self._active(s, kind)
        if op.hasher is None:  # signing a ready digest is single-part only (as in PKCS#11 for CKM_GOSTR3410)
            del s.operations[kind]
            raise CkrError(C.CKR_MECHANISM_INVALID, "this mechanism has no multi-part form")
        op.hasher.update(bytes(data))
        op.updated = True

    def _digest_of(self, op: Operation, data: bytes | None) -> bytes:
        """The digest to sign or verify: the hash of the data, or the data itself for CKM_GOSTR3410(_512)."""
        if op.hasher is None:
            if data is None or len(data) != op.raw_size:
                raise CkrError(C.CKR_DATA_LEN_RANGE, f"the digest must be {op.raw_size} bytes")
            return data
        if data is not None:
            op.hasher.update(data)
        return op.hasher.digest()

    @api
    def output_length(self, session: int, operation: str) -> int:
        """The output size of the active "sign" or "digest" operation (for a size query; it stays active)."""
        s = self._session(session, fault=False)
        op = self._active(s, operation)
        return 2 * op.size if operation == "sign" else op.size

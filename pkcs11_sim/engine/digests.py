"""Message digesting (PKCS#11 v2.40 section 5.10): Streebog-256/512 (CKM_GOSTR3411_12_256/512)."""

from __future__ import annotations

from .. import constants as C
from ..errors import CkrError
from .core import api
from .mechanisms import MECHANISMS, no_param
from .operations import Operations
from .records import Operation

__all__ = ["Digesting"]


class Digesting(Operations):
    """C_DigestInit, C_Digest, C_DigestUpdate, C_DigestFinal."""

    @api
    def digest_init(self, session: int, mech: int, param: bytes | None) -> None:
        """C_DigestInit: CKM_GOSTR3411_12_256 / CKM_GOSTR3411_12_512."""
        s = self._session(session)
        self._start(s, "digest")
        info = MECHANISMS.get(mech)
        if info is None or not info.flags & C.CKF_DIGEST:
            raise CkrError(C.CKR_MECHANISM_INVALID)
        no_param(param)
        hasher = info.hash_factory()  # type: ignore[misc]
        s.operations["digest"] = Operation(mech, hasher=hasher, size=hasher.digest_size)

    @api
    def digest(self, session: int, data: bytes) -> bytes:
        """C_Digest (single part; ends the operation)."""
        s = self._session(session)
        op = self._active(s, "digest")
        del s.operations["digest"]
        if op.updated:
            raise CkrError(C.CKR_OPERATION_ACTIVE, "C_Digest after C_DigestUpdate")
        op.hasher.update(bytes(data))
        return op.hasher.digest()

    @api
    def digest_update(self, session: int, data: bytes) -> None:
        """C_DigestUpdate."""
        s = self._session(session)
        op = self._active(s, "digest")
        op.hasher.update(bytes(data))
        op.updated = True

    @api
    def digest_final(self, session: int) -> bytes:
        """C_DigestFinal."""
        s = self._session(session)
        op = self._active(s, "digest")
        del s.operations["digest"]
        return op.hasher.digest()

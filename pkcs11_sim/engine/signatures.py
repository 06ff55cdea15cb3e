"""Signing and verifying (PKCS#11 v2.40 sections 5.11 and 5.12) with GOST R 34.10-2012 keys.

Signatures are s || r, each half big-endian -- the PKCS#11 v2.40 form for GOST R 34.10 mechanisms, the same bytes
as :meth:`signagent.gost.PrivateKey.sign_digest`.
"""

from __future__ import annotations

from signagent.errors import SignAgentError
from signagent.gost import PrivateKey, PublicKey

from .. import constants as C
from ..attributes import as_bool, as_int, oid_dotted
from ..errors import CkrError
from ..objects import key_curve
from .core import api
from .mechanisms import HASH_PARAM_OK, MECHANISMS, Mechanism
from .objects import Objects
from .operations import Operations
from .records import ObjectRef, Operation, Session

__all__ = ["Signing"]


class Signing(Operations, Objects):
    """C_Sign* and C_Verify* over the session's key objects."""

    def _signing_mechanism(self, mech: int, param: bytes | None) -> Mechanism:
        info = MECHANISMS.get(mech)
        if info is None or not info.flags & C.CKF_SIGN:
            raise CkrError(C.CKR_MECHANISM_INVALID)
        if param:
            # Hash-and-sign mechanisms may carry the DER OID of their hash (TC 26 PKCS#11 extensions); nothing else.
            expected = HASH_PARAM_OK.get(mech)
            try:
                ok = expected is not None and oid_dotted(param) == expected
            except CkrError:
                ok = False
            if not ok:
                raise CkrError(C.CKR_MECHANISM_PARAM_INVALID)
        return info

    def _key_for(self, s: Session, info: Mechanism, handle: int, cls: int, usage: int
                 ) -> tuple[ObjectRef, dict[int, bytes]]:
        ref, attrs, _ = self._object(s, handle, C.CKR_KEY_HANDLE_INVALID)
        if as_int(attrs[C.CKA_CLASS]) != cls:
            raise CkrError(C.CKR_KEY_TYPE_INCONSISTENT, "wrong key class for this operation")
        if as_int(attrs[C.CKA_KEY_TYPE]) != info.key_type:
            raise CkrError(C.CKR_KEY_TYPE_INCONSISTENT)
        if not as_bool(attrs.get(usage)):
            raise CkrError(C.CKR_KEY_FUNCTION_NOT_PERMITTED)
        return ref, attrs

    def _private_key(self, s: Session, ref: ObjectRef, attrs: dict[int, bytes]) -> PrivateKey:
        if ref.obj is not None:
            return PrivateKey.from_bytes(key_curve(attrs), ref.obj.secrets[C.CKA_VALUE])
        assert ref.uid is not None
        # Unsealed keys are kept for the process's login (a real token keeps its keys at hand too); the cache is
        # dropped at logout, C_InitToken and C_DestroyObject.
        cache_key = (s.store.serial, ref.uid)
        key = self._key_cache.get(cache_key)
        if key is None:
            login = self._user(s)
            if login is None:
                raise CkrError(C.CKR_USER_NOT_LOGGED_IN)
            value = s.store.reveal(ref.uid, C.CKA_VALUE, login.token_key)
            key = PrivateKey.from_bytes(key_curve(attrs), value)
            self._key_cache[cache_key] = key
        return key

    @api
    def sign_init(self, session: int, mech: int, param: bytes | None, key: int) -> None:
        """C_SignInit with a GOST private key (CKR_KEY_TYPE_INCONSISTENT for a key of the other size)."""
        s = self._session(session)
        self._start(s, "sign")
        info = self._signing_mechanism(mech, param)
        ref, attrs = self._key_for(s, info, key, C.CKO_PRIVATE_KEY, C.CKA_SIGN)
        private = self._private_key(s, ref, attrs)
        size = private.curve.size
        hasher = info.hash_factory() if info.hash_factory else None
        s.operations["sign"] = Operation(mech, hasher=hasher, private_key=private, size=size,
                                          raw_size=info.digest_size)

    @api
    def sign(self, session: int, data: bytes) -> bytes:
        """C_Sign (single part; ends the operation): s || r, each half big-endian."""
        s = self._session(session)
        op = self._active(s, "sign")
        del s.operations["sign"]
        if op.updated:
            raise CkrError(C.CKR_OPERATION_ACTIVE, "C_Sign after C_SignUpdate")
        assert op.private_key is not None
        return op.private_key.sign_digest(self._digest_of(op, bytes(data)))

    @api
    def sign_update(self, session: int, data: bytes) -> None:
        """C_SignUpdate (hash-and-sign mechanisms)."""
        self._update(self._session(session), "sign", data)

    @api
    def sign_final(self, session: int) -> bytes:
        """C_SignFinal."""
        s = self._session(session)
        op = self._active(s, "sign")
        del s.operations["sign"]
        assert op.private_key is not None
        return op.private_key.sign_digest(self._digest_of(op, None))

    @api
    def verify_init(self, session: int, mech: int, param: bytes | None, key: int) -> None:
        """C_VerifyInit with a GOST public key object."""
        s = self._session(session)
        self._start(s, "verify")
        info = self._signing_mechanism(mech, param)
        _, attrs = self._key_for(s, info, key, C.CKO_PUBLIC_KEY, C.CKA_VERIFY)
        public = PublicKey.from_bytes(key_curve(attrs), attrs[C.CKA_VALUE])
        hasher = info.hash_factory() if info.hash_factory else None
        s.operations["verify"] = Operation(mech, hasher=hasher, public_key=public, size=public.curve.size,
                                            raw_size=info.digest_size)

    def _check_signature(self, op: Operation, digest: bytes, signature: bytes) -> None:
        if len(signature) != 2 * op.size:
            raise CkrError(C.CKR_SIGNATURE_LEN_RANGE)
        assert op.public_key is not None
        try:
            good = op.public_key.verify_digest(digest, signature)
        except SignAgentError:
            good = False
        if not good:
            raise CkrError(C.CKR_SIGNATURE_INVALID)

    @api
    def verify(self, session: int, data: bytes, signature: bytes) -> None:
        """C_Verify: CKR_SIGNATURE_INVALID or CKR_SIGNATURE_LEN_RANGE on failure; ends the operation."""
        s = self._session(session)
        op = self._active(s, "verify")
        del s.operations["verify"]
        if op.updated:
            raise CkrError(C.CKR_OPERATION_ACTIVE, "C_Verify after C_VerifyUpdate")
        self._check_signature(op, self._digest_of(op, bytes(data)), bytes(signature))

    @api
    def verify_update(self, session: int, data: bytes) -> None:
        """C_VerifyUpdate."""
        self._update(self._session(session), "verify", data)

    @api
    def verify_final(self, session: int, signature: bytes) -> None:
        """C_VerifyFinal."""
        s = self._session(session)
        op = self._active(s, "verify")
        del s.operations["verify"]
        self._check_signature(op, self._digest_of(op, None), bytes(signature))

"""Object management (PKCS#11 v2.40 section 5.7): object handles, C_CreateObject, C_DestroyObject,
C_GetAttributeValue, C_SetAttributeValue and C_FindObjects*.

A handle names a token object (store + uid, the same handle for the process's life) or a session object (gone
with its session). Building an object from a template is :mod:`pkcs11_sim.objects`.
"""

from __future__ import annotations

from .. import constants as C
from ..attributes import as_bool, match_value, parse_template
from ..errors import CkrError
from ..objects import build, check_modifiable
from ..store import TokenStore
from .core import api
from .records import ObjectRef, Session, SessionObject
from .sessions import Sessions

__all__ = ["Objects"]


class Objects(Sessions):
    """Object handles of this process over token and session objects."""

    def _new_handle(self, ref: ObjectRef) -> int:
        handle = self._next_handle
        self._next_handle += 1
        self._objects[handle] = ref
        return handle

    def _token_handle(self, store: TokenStore, uid: int) -> int:
        key = (store.serial, uid)
        handle = self._token_handles.get(key)
        if handle is None or handle not in self._objects:
            handle = self._new_handle(ObjectRef(store, uid=uid))
            self._token_handles[key] = handle
        return handle

    def _lookup(self, s: Session, handle: int) -> tuple[ObjectRef, dict[int, bytes], set[int]] | None:
        """(reference, clear attributes, sealed attribute types) of an object in the session's token, or None."""
        ref = self._objects.get(handle)
        if ref is None or ref.store is not s.store:
            return None
        if ref.obj is not None:
            if ref.session not in self._sessions:
                return None
            return ref, ref.obj.attrs, set(ref.obj.secrets)
        assert ref.uid is not None
        stored = s.store.objects().get(ref.uid)
        if stored is None:
            return None
        return ref, stored.attrs, set(stored.sealed)

    def _object(self, s: Session, handle: int, missing: int = C.CKR_OBJECT_HANDLE_INVALID
                ) -> tuple[ObjectRef, dict[int, bytes], set[int]]:
        found = self._lookup(s, handle)
        if found is None:
            raise CkrError(missing)
        if as_bool(found[1].get(C.CKA_PRIVATE)) and self._user(s) is None:
            if missing == C.CKR_KEY_HANDLE_INVALID:
                raise CkrError(C.CKR_USER_NOT_LOGGED_IN, "the key is a private object")
            raise CkrError(missing)
        return found

    def _store_object(self, s: Session, attrs: dict[int, bytes], secrets: dict[int, bytes]) -> int:
        """Put a built object in the token (CKA_TOKEN) or in the session; the caller checked the rules."""
        if as_bool(attrs.get(C.CKA_TOKEN)):
            login = self._logins.get(s.slot)
            uid = s.store.add_object(attrs, secrets, login.token_key if login else None)
            return self._token_handle(s.store, uid)
        return self._new_handle(ObjectRef(s.store, session=s.handle, obj=SessionObject(attrs, dict(secrets))))

    def _check_write(self, s: Session, attrs: dict[int, bytes], *, needs_user: bool = False) -> None:
        """R/W session for token objects, user login for private objects."""
        if as_bool(attrs.get(C.CKA_TOKEN)) and not s.rw:
            raise CkrError(C.CKR_SESSION_READ_ONLY)
        if (needs_user or as_bool(attrs.get(C.CKA_PRIVATE))) and self._user(s) is None:
            raise CkrError(C.CKR_USER_NOT_LOGGED_IN)

    @api
    def create_object(self, session: int, template: list[tuple[int, bytes]]) -> int:
        """C_CreateObject: data objects, X.509 certificates, GOST public and private keys."""
        s = self._session(session)
        parsed = parse_template(template)
        attrs, secrets = build(parsed)
        self._check_write(s, attrs, needs_user=bool(secrets))
        return self._store_object(s, attrs, secrets)

    @api
    def destroy_object(self, session: int, handle: int) -> None:
        """C_DestroyObject."""
        s = self._session(session)
        ref, attrs, _ = self._object(s, handle)
        if as_bool(attrs.get(C.CKA_TOKEN)) and not s.rw:
            raise CkrError(C.CKR_SESSION_READ_ONLY)
        if not as_bool(attrs.get(C.CKA_DESTROYABLE), True):
            raise CkrError(C.CKR_ACTION_PROHIBITED)
        if ref.uid is not None:
            s.store.delete_object(ref.uid)
            self._key_cache.pop((s.store.serial, ref.uid), None)
        del self._objects[handle]

    @api
    def get_attribute_value(self, session: int, handle: int, types: list[int]) -> tuple[int, list[bytes | None]]:
        """C_GetAttributeValue (v2.40 section 5.7): every available value is returned; for the others None and the
        call's rv is CKR_ATTRIBUTE_SENSITIVE (a secret that may not leave the token) or CKR_ATTRIBUTE_TYPE_INVALID
        (an attribute the object does not have)."""
        s = self._session(session)
        ref, attrs, sealed = self._object(s, handle)
        values: list[bytes | None] = []
        sensitive = invalid = False
        for t in types:
            t = int(t)
            if t in sealed:
                value = self._reveal_if_allowed(s, ref, attrs, t)
                sensitive |= value is None
                values.append(value)
            elif t in attrs:
                values.append(attrs[t])
            else:
                invalid = True
                values.append(None)
        rv = C.CKR_ATTRIBUTE_SENSITIVE if sensitive else C.CKR_ATTRIBUTE_TYPE_INVALID if invalid else C.CKR_OK
        return rv, values

    def _reveal_if_allowed(self, s: Session, ref: ObjectRef, attrs: dict[int, bytes], t: int) -> bytes | None:
        if as_bool(attrs.get(C.CKA_SENSITIVE), True) or not as_bool(attrs.get(C.CKA_EXTRACTABLE)):
            return None
        if ref.obj is not None:
            return ref.obj.secrets[t]
        login = self._user(s)
        if login is None or ref.uid is None:
            return None
        return s.store.reveal(ref.uid, t, login.token_key)

    @api
    def set_attribute_value(self, session: int, handle: int, template: list[tuple[int, bytes]]) -> None:
        """C_SetAttributeValue (label, id, usage flags...; CKR_ATTRIBUTE_READ_ONLY for the rest)."""
        s = self._session(session)
        ref, attrs, sealed = self._object(s, handle)
        if as_bool(attrs.get(C.CKA_TOKEN)) and not s.rw:
            raise CkrError(C.CKR_SESSION_READ_ONLY)
        changes = parse_template(template)
        check_modifiable(attrs, changes, sealed)
        if ref.obj is not None:
            ref.obj.attrs.update(changes)
        else:
            assert ref.uid is not None
            s.store.set_attributes(ref.uid, changes)

    @api
    def find_objects_init(self, session: int, template: list[tuple[int, bytes]]) -> None:
        """C_FindObjectsInit: objects matching every template attribute; private ones only after user login."""
        s = self._session(session)
        if s.found is not None:
            raise CkrError(C.CKR_OPERATION_ACTIVE)
        wanted: list[tuple[int, bytes | None]] = [(int(t), match_value(int(t), v)) for t, v in template]
        logged_in = self._user(s) is not None
        result = []
        candidates: list[tuple[int, dict[int, bytes]]] = []
        for uid, stored in sorted(s.store.objects().items()):
            candidates.append((self._token_handle(s.store, uid), stored.attrs))
        for handle, ref in sorted(self._objects.items()):
            if ref.obj is not None and ref.session in self._sessions and ref.store is s.store:
                candidates.append((handle, ref.obj.attrs))
        for handle, attrs in candidates:
            if as_bool(attrs.get(C.CKA_PRIVATE)) and not logged_in:
                continue
            if all(v is not None and attrs.get(t) == v for t, v in wanted):
                result.append(handle)
        s.found = result

    @api
    def find_objects(self, session: int, max_count: int) -> list[int]:
        """C_FindObjects: up to ``max_count`` more handles."""
        s = self._session(session, fault=False)
        if s.found is None:
            raise CkrError(C.CKR_OPERATION_NOT_INITIALIZED)
        out, s.found = s.found[: max(0, max_count)], s.found[max(0, max_count):]
        return out

    @api
    def find_objects_final(self, session: int) -> None:
        """C_FindObjectsFinal."""
        s = self._session(session, fault=False)
        if s.found is None:
            raise CkrError(C.CKR_OPERATION_NOT_INITIALIZED)
        s.found = None

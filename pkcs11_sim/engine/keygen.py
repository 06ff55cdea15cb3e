"""Key-pair generation (PKCS#11 v2.40 section 5.14, C_GenerateKeyPair for GOST R 34.10-2012) and random number
generation (section 5.15)."""

from __future__ import annotations

import os

from signagent.gost import PrivateKey

from .. import constants as C
from ..attributes import as_bool, as_int, parse_template, ulong
from ..errors import CkrError
from ..objects import build, key_curve
from .core import api
from .mechanisms import MECHANISMS, no_param
from .objects import Objects

__all__ = ["KeyGeneration"]


class KeyGeneration(Objects):
    """C_GenerateKeyPair, C_GenerateRandom, C_SeedRandom."""

    @api
    def generate_key_pair(self, session: int, mech: int, param: bytes | None,
                          public_template: list[tuple[int, bytes]],
                          private_template: list[tuple[int, bytes]]) -> tuple[int, int]:
        """C_GenerateKeyPair: CKM_GOSTR3410_KEY_PAIR_GEN / CKM_GOSTR3410_512_KEY_PAIR_GEN.

        The curve comes from CKA_GOSTR3410_PARAMS (DER OID) in either template; CKA_GOSTR3411_PARAMS defaults to
        the Streebog of the key's size. The private key is sensitive and not extractable unless asked otherwise.
        """
        s = self._session(session)
        info = MECHANISMS.get(mech)
        if info is None or not info.flags & C.CKF_GENERATE_KEY_PAIR:
            raise CkrError(C.CKR_MECHANISM_INVALID)
        no_param(param)
        pub_t, priv_t = parse_template(public_template), parse_template(private_template)
        for tpl, cls in ((pub_t, C.CKO_PUBLIC_KEY), (priv_t, C.CKO_PRIVATE_KEY)):
            if C.CKA_CLASS in tpl and as_int(tpl[C.CKA_CLASS]) != cls:
                raise CkrError(C.CKR_TEMPLATE_INCONSISTENT, "wrong CKA_CLASS in a key-pair template")
            if C.CKA_KEY_TYPE in tpl and as_int(tpl[C.CKA_KEY_TYPE]) != info.key_type:
                raise CkrError(C.CKR_TEMPLATE_INCONSISTENT, "CKA_KEY_TYPE does not match the mechanism")
            if C.CKA_VALUE in tpl:
                raise CkrError(C.CKR_ATTRIBUTE_READ_ONLY, "the token makes CKA_VALUE")
            for attr in (C.CKA_LOCAL, C.CKA_ALWAYS_SENSITIVE, C.CKA_NEVER_EXTRACTABLE, C.CKA_KEY_GEN_MECHANISM):
                if attr in tpl:
                    raise CkrError(C.CKR_ATTRIBUTE_READ_ONLY)
            tpl[C.CKA_CLASS] = ulong(cls)
            tpl[C.CKA_KEY_TYPE] = ulong(info.key_type or 0)
        params = pub_t.get(C.CKA_GOSTR3410_PARAMS) or priv_t.get(C.CKA_GOSTR3410_PARAMS)
        if params is None:
            raise CkrError(C.CKR_TEMPLATE_INCOMPLETE, "CKA_GOSTR3410_PARAMS is required")
        for tpl in (pub_t, priv_t):
            tpl.setdefault(C.CKA_GOSTR3410_PARAMS, params)
            if tpl[C.CKA_GOSTR3410_PARAMS] != params:
                raise CkrError(C.CKR_TEMPLATE_INCONSISTENT, "the two templates name different curves")
        found = key_curve(pub_t)
        if found.size * 8 != info.max_bits:
            raise CkrError(C.CKR_TEMPLATE_INCONSISTENT, "the curve size does not match the mechanism")
        hash_params = pub_t.get(C.CKA_GOSTR3411_PARAMS) or priv_t.get(C.CKA_GOSTR3411_PARAMS)
        if hash_params is not None:
            pub_t.setdefault(C.CKA_GOSTR3411_PARAMS, hash_params)
            priv_t.setdefault(C.CKA_GOSTR3411_PARAMS, hash_params)
        private = PrivateKey.generate(found)
        pub_t[C.CKA_VALUE] = private.public_key().to_bytes()
        priv_t[C.CKA_VALUE] = private.to_bytes()
        pub_attrs, _ = build(pub_t, generated=True)
        priv_attrs, priv_secrets = build(priv_t, generated=True)
        for attrs in (pub_attrs, priv_attrs):
            attrs[C.CKA_LOCAL] = b"\x01"
            attrs[C.CKA_KEY_GEN_MECHANISM] = ulong(mech)
        priv_attrs[C.CKA_ALWAYS_SENSITIVE] = priv_attrs[C.CKA_SENSITIVE]
        priv_attrs[C.CKA_NEVER_EXTRACTABLE] = b"\x00" if as_bool(priv_attrs[C.CKA_EXTRACTABLE]) else b"\x01"
        self._check_write(s, pub_attrs)
        self._check_write(s, priv_attrs, needs_user=True)
        pub_handle = self._store_object(s, pub_attrs, {})
        priv_handle = self._store_object(s, priv_attrs, priv_secrets)
        return pub_handle, priv_handle

    @api
    def generate_random(self, session: int, length: int) -> bytes:
        """C_GenerateRandom: bytes from the operating system's CSPRNG."""
        self._session(session)
        if length < 0:
            raise CkrError(C.CKR_ARGUMENTS_BAD)
        return os.urandom(length)

    @api
    def seed_random(self, session: int, seed: bytes) -> None:
        """C_SeedRandom: accepted and ignored (the OS generator needs no seeding)."""
        self._session(session)

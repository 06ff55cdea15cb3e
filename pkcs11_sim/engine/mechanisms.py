"""The mechanisms of the simulated token (PKCS#11 v2.40 section 5.5 C_GetMechanismInfo; the GOST mechanisms of the
TC 26 PKCS#11 extensions): key sizes, CKF_ flags, key types, hash functions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from signagent.gost import streebog256, streebog512

from .. import constants as C
from ..errors import CkrError
from ..objects import STREEBOG256_OID, STREEBOG512_OID

__all__ = ["HASH_PARAM_OK", "MECHANISMS", "Mechanism", "no_param"]


@dataclass(frozen=True)
class Mechanism:
    """What a mechanism does and takes: key sizes in bits, CKF_ flags, and what the operations need."""

    min_bits: int
    max_bits: int
    flags: int
    key_type: int | None = None  # for signing and key generation
    hash_factory: Callable[[], Any] | None = None  # for digests and hash-and-sign
    digest_size: int = 0  # the input length of a raw "sign a digest" mechanism


MECHANISMS: dict[int, Mechanism] = {
    C.CKM_GOSTR3410_KEY_PAIR_GEN: Mechanism(256, 256, C.CKF_GENERATE_KEY_PAIR, C.CKK_GOSTR3410),
    C.CKM_GOSTR3410_512_KEY_PAIR_GEN: Mechanism(512, 512, C.CKF_GENERATE_KEY_PAIR, C.CKK_GOSTR3410_512),
    C.CKM_GOSTR3410: Mechanism(256, 256, C.CKF_SIGN | C.CKF_VERIFY, C.CKK_GOSTR3410, digest_size=32),
    C.CKM_GOSTR3410_512: Mechanism(512, 512, C.CKF_SIGN | C.CKF_VERIFY, C.CKK_GOSTR3410_512, digest_size=64),
    C.CKM_GOSTR3410_WITH_GOSTR3411_12_256: Mechanism(256, 256, C.CKF_SIGN | C.CKF_VERIFY, C.CKK_GOSTR3410,
                                                     streebog256),
    C.CKM_GOSTR3410_WITH_GOSTR3411_12_512: Mechanism(512, 512, C.CKF_SIGN | C.CKF_VERIFY, C.CKK_GOSTR3410_512,
                                                     streebog512),
    C.CKM_GOSTR3411_12_256: Mechanism(0, 0, C.CKF_DIGEST, hash_factory=streebog256),
    C.CKM_GOSTR3411_12_512: Mechanism(0, 0, C.CKF_DIGEST, hash_factory=streebog512),
}

# The one parameter a hash-and-sign mechanism may carry: the DER OID of its own hash (TC 26 PKCS#11 extensions).
HASH_PARAM_OK = {
    C.CKM_GOSTR3410_WITH_GOSTR3411_12_256: STREEBOG256_OID,
    C.CKM_GOSTR3410_WITH_GOSTR3411_12_512: STREEBOG512_OID,
}


def no_param(param: bytes | None) -> None:
    """CKR_MECHANISM_PARAM_INVALID for a parameter given to a mechanism that takes none."""
    if param:
        raise CkrError(C.CKR_MECHANISM_PARAM_INVALID)

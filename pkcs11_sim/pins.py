"""PIN records of a token state: one per role (``user``, ``so``), and the token flags they imply.

A record holds a random salt, the derivation scheme and its parameters (:mod:`.pinkdf`: scrypt; records of format 1
name PBKDF2-HMAC-Streebog-512 iterations and are re-derived at the next right PIN), a verifier, the retry counter
and the *token key* sealed under a key derived from that PIN. One derivation gives the verifier and the
key-encryption key. The token key (64 random bytes) seals every private key value (:mod:`.sealing`), so a PIN
change, InitPIN by the SO or an SO unblock only re-wraps the token key and no key material is lost -- the scheme
SoftHSM uses. Checking a PIN against a record (the counted try) is :meth:`.store.TokenStore.check_pin`.
"""

from __future__ import annotations

import os
from typing import Any

from . import constants as C
from . import pinkdf
from .errors import CkrError
from .sealing import seal

__all__ = [
    "MAX_PIN_LEN",
    "MIN_PIN_LEN",
    "check_pin_format",
    "counter_flags",
    "new_pin_record",
    "policy",
    "token_key_aad",
]

MIN_PIN_LEN = 4
MAX_PIN_LEN = 32


def check_pin_format(pin: bytes) -> None:
    """CKR_ARGUMENTS_BAD for a PIN that is not bytes, CKR_PIN_LEN_RANGE outside 4..32 bytes (C_InitPIN, C_SetPIN)."""
    if not isinstance(pin, bytes | bytearray):
        raise CkrError(C.CKR_ARGUMENTS_BAD, "a PIN must be bytes")
    if not MIN_PIN_LEN <= len(pin) <= MAX_PIN_LEN:
        raise CkrError(C.CKR_PIN_LEN_RANGE, f"a PIN has {MIN_PIN_LEN} to {MAX_PIN_LEN} characters")


def policy(state: dict[str, Any]) -> dict[str, Any]:
    """The token's PIN derivation for new records (format-1 states have none: the current default)."""
    found = state.get("pin_kdf")
    return found if isinstance(found, dict) else pinkdf.scrypt_params()


def token_key_aad(state: dict[str, Any], role: str) -> bytes:
    """The associated data binding a wrapped token key to its token and role (a record cannot be swapped)."""
    return f"pkcs11-sim token key|{state['serial']}|{role}".encode()


def new_pin_record(state: dict[str, Any], role: str, pin: bytes, token_key: bytes, max_tries: int
                   ) -> dict[str, Any]:
    """A fresh record for ``pin`` under the token's current policy, wrapping ``token_key``, with a full counter."""
    salt = os.urandom(16)
    kdf = dict(policy(state))
    verifier, kek = pinkdf.derive(bytes(pin), salt, kdf)
    return {
        "salt": salt.hex(),
        "kdf": kdf,
        "verifier": verifier.hex(),
        "wrapped_key": seal(kek, token_key, token_key_aad(state, role)).hex(),
        "tries_left": max_tries,
        "max_tries": max_tries,
    }


def counter_flags(rec: dict[str, Any], low: int, final: int, locked: int) -> int:
    """The CKF_*_PIN_COUNT_LOW / FINAL_TRY / LOCKED token flags of a record (PKCS#11 v2.40 section 3.2,
    CK_TOKEN_INFO), as real tokens set them."""
    tries, max_tries = int(rec["tries_left"]), int(rec["max_tries"])
    if tries <= 0:
        return locked
    flags = 0
    if tries < max_tries:
        flags |= low
    if tries == 1:
        flags |= final
    return flags

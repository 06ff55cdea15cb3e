"""The derivation of a PIN's verifier and key-encryption key in the simulator's token store.

One derivation of (PIN, salt) gives 96 bytes: the first 32 are the verifier kept in the store, the last 64 the key
that seals the token key (:mod:`pkcs11_sim.sealing`). Both come from one run, so the sealed token key is a verifier
too and the derivation's cost is the only thing between a copied ``token.json`` and the PIN.

This is a simulator's protection, not a card's. A card keeps its verifier inside the chip and counts tries in
hardware; a software token's store can be copied by anyone who can read it, and then every PIN can be tried
offline at the derivation's speed. So a software token is worth no more than its file permissions (the store
is 0600 in 0700 directories) plus this cost: a 4-digit PIN is 10,000 derivations, about 12 minutes of one core
at the default, a 6-digit PIN about 20 hours; use long PINs on a simulated token that guards anything.

Schemes (a record names its own, so stores made with an older scheme stay readable):

* ``scrypt`` (RFC 7914), the current one: memory-hard, so guessing on GPUs or ASICs gains far less than with an
  iterated hash. Default N = 2**15, r = 8, p = 1 (32 MiB, about 70-80 ms a check on a 2020s x86 core); a token
  may be made with a smaller N for fast tests.
* ``pbkdf2-streebog512`` (R 50.1.111-2016), the legacy one: records with only an ``iterations`` field. The
  store recognises them and re-derives with scrypt at the next successful check of that PIN.

Parameters read from a store are bounded before use: a tampered ``token.json`` cannot make a check allocate
gigabytes or run for minutes.
"""

from __future__ import annotations

import hashlib
from typing import Any

from signagent.gost import pbkdf2_streebog512

from . import constants as C
from .errors import CkrError

__all__ = ["DEFAULT_LOG2_N", "LEGACY", "SCRYPT", "derive", "is_current", "scrypt_params"]

SCRYPT = "scrypt"
LEGACY = "pbkdf2-streebog512"
DEFAULT_LOG2_N = 15
SCRYPT_R = 8
SCRYPT_P = 1
OUTPUT = 96
# Bounds on stored parameters (the default sits well inside them).
MAX_LOG2_N = 20  # 1 GiB of memory at r = 8 would be the next step: refused
MAX_R = 16
MAX_P = 4
MAX_LEGACY_ITERATIONS = 1_000_000


def scrypt_params(log2_n: int = DEFAULT_LOG2_N) -> dict[str, Any]:
    """The stored description of the current scheme with N = 2**log2_n (1 to :data:`MAX_LOG2_N`)."""
    if not isinstance(log2_n, int) or not 1 <= log2_n <= MAX_LOG2_N:
        raise ValueError(f"log2(N) must be 1 to {MAX_LOG2_N}")
    return {"name": SCRYPT, "log2_n": log2_n, "r": SCRYPT_R, "p": SCRYPT_P}


def _bounded(value: Any, low: int, high: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise CkrError(C.CKR_TOKEN_NOT_RECOGNIZED, "PIN derivation parameters out of range in the token state")
    return value


def record_kdf(record: dict[str, Any]) -> dict[str, Any]:
    """The scheme of a stored PIN record: its ``kdf`` field, or the legacy PBKDF2 one for ``iterations`` only."""
    kdf = record.get("kdf")
    if kdf is None:
        return {"name": LEGACY, "iterations": record.get("iterations")}
    if not isinstance(kdf, dict):
        raise CkrError(C.CKR_TOKEN_NOT_RECOGNIZED, "unreadable PIN derivation parameters in the token state")
    return kdf


def is_current(kdf: dict[str, Any], policy: dict[str, Any]) -> bool:
    """Whether a record derived with ``kdf`` needs no upgrade under the token's ``policy``."""
    return kdf.get("name") == SCRYPT and kdf == policy


def derive(pin: bytes, salt: bytes, kdf: dict[str, Any]) -> tuple[bytes, bytes]:
    """(32-byte verifier, 64-byte key-encryption key) of ``pin`` under the stored scheme ``kdf``.

    CKR_TOKEN_NOT_RECOGNIZED for an unknown scheme or parameters outside the bounds.
    """
    name = kdf.get("name")
    if name == SCRYPT:
        log2_n = _bounded(kdf.get("log2_n"), 1, MAX_LOG2_N)
        r = _bounded(kdf.get("r"), 1, MAX_R)
        p = _bounded(kdf.get("p"), 1, MAX_P)
        # RFC 7914 section 2: the memory is 128 * r * N bytes (plus a little); allow it explicitly.
        out = hashlib.scrypt(pin, salt=salt, n=1 << log2_n, r=r, p=p, dklen=OUTPUT,
                             maxmem=129 * r * (1 << log2_n) + (1 << 20))
    elif name == LEGACY:
        iterations = _bounded(kdf.get("iterations"), 1, MAX_LEGACY_ITERATIONS)
        out = pbkdf2_streebog512(pin, salt, iterations, OUTPUT)
    else:
        raise CkrError(C.CKR_TOKEN_NOT_RECOGNIZED, "unknown PIN derivation scheme in the token state")
    return out[:32], out[32:]

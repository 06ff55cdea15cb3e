"""What the engine keeps per process: sessions, logins, object references and active operations.

As on a real token, these live in the application, never in the token store (PKCS#11 v2.40 section 5.6: login
state is per application); the store holds what every process shares.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from signagent.gost import PrivateKey, PublicKey

from ..store import TokenStore

__all__ = ["Login", "ObjectRef", "Operation", "Session", "SessionObject"]


@dataclass
class Operation:
    """An active digest, sign or verify operation of a session."""

    mechanism: int
    hasher: Any = None  # Streebog object for digests and hash-and-sign
    private_key: PrivateKey | None = None
    public_key: PublicKey | None = None
    size: int = 0  # curve size in bytes (signature = 2 * size), or the digest size
    raw_size: int = 0  # expected input length of CKM_GOSTR3410(_512)
    updated: bool = False  # an Update call happened: only Final may follow


@dataclass
class SessionObject:
    """An object with CKA_TOKEN false: clear attributes and secrets, gone with its session."""

    attrs: dict[int, bytes]
    secrets: dict[int, bytes]


@dataclass
class Session:
    """An open session: its slot and token, R/W or R/O, the presence epoch it was opened in, its operations."""

    handle: int
    slot: int
    store: TokenStore
    rw: bool
    epoch: int
    operations: dict[str, Operation] = field(default_factory=dict)
    found: list[int] | None = None  # the result of C_FindObjectsInit still to hand out


@dataclass
class Login:
    """Who is logged in to a token (CKU_USER or CKU_SO), with the token key the PIN unwrapped."""

    user_type: int
    token_key: bytes
    epoch: int


@dataclass
class ObjectRef:
    """What an object handle points at: a token object (store + uid) or a session object."""

    store: TokenStore
    uid: int | None = None
    session: int | None = None
    obj: SessionObject | None = None

"""Encryption of key material at rest in the simulator's token store -- a simulator's protection, not certified crypto.

``signagent.gost`` offers hashes, HMAC and PBKDF2 but no block cipher, so values are sealed with an authenticated
stream construction built from HMAC (encrypt-then-MAC):

* the 64-byte sealing key is split: ``enc_key`` = first 32 bytes, ``mac_key`` = last 32 bytes;
* keystream block i = HMAC_GOSTR3411_2012_512(enc_key, nonce || i as 8 bytes big-endian) (HMAC as a PRF in counter
  mode, the shape of NIST SP 800-108's counter KDF), ciphertext = plaintext XOR keystream;
* tag = HMAC_GOSTR3411_2012_256(mac_key, len(aad) || aad || nonce || ciphertext) (RFC 7836 section 4.1.1 HMAC);
* sealed = nonce (16 random bytes) || ciphertext || tag (32 bytes).

The associated data binds a sealed value to its place (which token, which object, which attribute), so values
cannot be swapped between objects in the JSON file unnoticed. A real token keeps keys in tamper-resistant hardware;
this only keeps a copied store directory from yielding keys without a PIN. Key values are sealed under the random
token key, and the token key under the key-encryption key of each PIN's derivation (:mod:`pkcs11_sim.pinkdf`), so
a copied store yields its keys at that derivation's cost per guessed PIN, no cheaper.
"""

from __future__ import annotations

import hmac
import os

from signagent.gost import hmac_streebog256, hmac_streebog512

NONCE_SIZE = 16
TAG_SIZE = 32
KEY_SIZE = 64


class SealError(Exception):
    """A sealed value failed authentication (wrong key, or the stored bytes were altered)."""


def _keystream(enc_key: bytes, nonce: bytes, length: int) -> bytes:
    blocks = []
    for counter in range((length + 63) // 64):
        blocks.append(hmac_streebog512(enc_key, nonce + counter.to_bytes(8, "big")))
    return b"".join(blocks)[:length]


def _tag(mac_key: bytes, aad: bytes, nonce: bytes, ciphertext: bytes) -> bytes:
    # The AAD's length goes first so that (aad, nonce||ct) splits are unambiguous.
    return hmac_streebog256(mac_key, len(aad).to_bytes(8, "big") + aad + nonce + ciphertext)


def seal(key: bytes, plaintext: bytes, aad: bytes = b"") -> bytes:
    """Encrypt and authenticate ``plaintext`` under a 64-byte ``key``; ``aad`` is authenticated, not stored."""
    if len(key) != KEY_SIZE:
        raise ValueError("the sealing key must be 64 bytes")
    nonce = os.urandom(NONCE_SIZE)
    stream = _keystream(key[:32], nonce, len(plaintext))
    ciphertext = bytes(a ^ b for a, b in zip(plaintext, stream, strict=True))
    return nonce + ciphertext + _tag(key[32:], aad, nonce, ciphertext)


def unseal(key: bytes, sealed: bytes, aad: bytes = b"") -> bytes:
    """The plaintext of a :func:`seal` output; :class:`SealError` when the key or the data do not match."""
    if len(key) != KEY_SIZE:
        raise ValueError("the sealing key must be 64 bytes")
    if len(sealed) < NONCE_SIZE + TAG_SIZE:
        raise SealError("sealed value too short")
    nonce, ciphertext, tag = sealed[:NONCE_SIZE], sealed[NONCE_SIZE:-TAG_SIZE], sealed[-TAG_SIZE:]
    if not hmac.compare_digest(tag, _tag(key[32:], aad, nonce, ciphertext)):
        raise SealError("authentication failed")
    stream = _keystream(key[:32], nonce, len(ciphertext))
    return bytes(a ^ b for a, b in zip(ciphertext, stream, strict=True))

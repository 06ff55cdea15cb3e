"""Signing on a PKCS#11 token with GOST R 34.10-2012: the mechanism, the key object, C_Sign.

Mechanisms (PKCS#11 v2.40 section 2.50 for CKM_GOSTR3410; the TC 26 vendor numbers for 512 bits and the
hash-and-sign ones, :mod:`.constants`): a ready Streebog digest is signed with CKM_GOSTR3410 (256-bit keys) or
CKM_GOSTR3410_512. A message is hashed on the host and signed the same way when the token has the raw mechanism;
a token that lacks it but has CKM_GOSTR3410_WITH_GOSTR3411_12_256/512 hashes the message itself. The result is
s || r with big-endian halves (the PKCS#11 form, the same bytes as :meth:`signagent.gost.PrivateKey.sign_digest`).

The key comes from the token's listing (:class:`~signagent.tokens.protocol.TokenKey`): one operation per
signature -- one session round, one login, one C_FindObjects for the private key by CKA_ID (private objects are
visible only after login, so it cannot be found earlier), then C_Sign.

Exports: sign_digest, sign_message, mechanism_for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import KeyNotFoundError, MechanismUnsupportedError, TokenError
from ..protocol import PinProvider, TokenKey
from .constants import (
    CKA_CLASS,
    CKA_ID,
    CKM_GOSTR3410,
    CKM_GOSTR3410_512,
    CKM_GOSTR3410_WITH_GOSTR3411_12_256,
    CKM_GOSTR3410_WITH_GOSTR3411_12_512,
    CKO_PRIVATE_KEY,
)

if TYPE_CHECKING:
    from .token import Pkcs11Token

__all__ = ["mechanism_for", "sign_digest", "sign_message"]


def mechanism_for(mechanisms: set[int], size: int, *, hashing_allowed: bool) -> int:
    """The mechanism a ``size``-byte key signs with on a token offering ``mechanisms``: the raw one, else (when
    ``hashing_allowed``, i.e. the message is at hand) the token's hash-and-sign one; ``mechanism_unsupported``
    otherwise."""
    raw, hashed = ((CKM_GOSTR3410, CKM_GOSTR3410_WITH_GOSTR3411_12_256) if size == 32
                   else (CKM_GOSTR3410_512, CKM_GOSTR3410_WITH_GOSTR3411_12_512))
    if raw in mechanisms:
        return raw
    if hashed in mechanisms:
        if hashing_allowed:
            return hashed
        raise MechanismUnsupportedError(situation="hashes_on_device")
    raise MechanismUnsupportedError(situation="no_sign_mechanism", bits=size * 8)


def sign_digest(token: Pkcs11Token, key: TokenKey, digest: bytes, pin_provider: PinProvider) -> bytes:
    """Signature of a ready Streebog ``digest`` by ``key`` on ``token`` (raw mechanism only)."""
    payload = key.check_digest(digest)
    mechanism = mechanism_for(token.mechanisms(), key.size, hashing_allowed=False)
    return _sign(token, key, mechanism, payload, pin_provider)


def sign_message(token: Pkcs11Token, key: TokenKey, message: bytes, pin_provider: PinProvider) -> bytes:
    """Signature of ``message`` by ``key`` on ``token``: hashed here for the raw mechanism, else on the token."""
    mechanism = mechanism_for(token.mechanisms(), key.size, hashing_allowed=True)
    payload = key.digest_of(message) if mechanism in (CKM_GOSTR3410, CKM_GOSTR3410_512) else bytes(message)
    return _sign(token, key, mechanism, payload, pin_provider)


def _sign(token: Pkcs11Token, key: TokenKey, mechanism: int, payload: bytes, pin_provider: PinProvider) -> bytes:
    with token.session.operation(pin_provider) as calls:
        handles = calls.find([(CKA_CLASS, CKO_PRIVATE_KEY), (CKA_ID, key.key_id)])
        if not handles:
            raise KeyNotFoundError(label=token.label, serial=token.serial, key_id=key.key_id.hex())
        signature = calls.sign(handles[0], payload, mechanism)
    if len(signature) != 2 * key.size:
        raise TokenError(situation="signature_length", got=len(signature), expected=2 * key.size)
    return signature

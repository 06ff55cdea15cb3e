"""Signers over a token's key: what :mod:`signagent.cms` and PKCS#10 requests sign with when the key is on a token.

Both carry the :class:`~signagent.tokens.protocol.TokenKey` their token listed (id and public key), so a
signature goes straight to the key -- one object search, one session, one login on a PKCS#11 token -- instead of
listing the token again to find it. They implement the signing protocol of :class:`signagent.cms.signer.Signer`
(structurally: ``tokens`` does not import ``cms``):

* ``sign_digest(digest)`` -- the signature of a ready Streebog digest;
* ``sign_message(message)`` -- hash and sign, where the token may do the hashing (a PKCS#11 module with only
  CKM_GOSTR3410_WITH_GOSTR3411_12_*).

:class:`TokenSigner` adds the certificate (CAdES signatures); :class:`KeyPairSigner` is a key pair without one yet
(the PKCS#10 request of a freshly generated key). The PIN is asked through the provider by each operation.

Exports: TokenSigner, KeyPairSigner.
"""

from __future__ import annotations

from signagent.errors import InvalidTypeError
from signagent.gost import PublicKey
from signagent.x509 import Certificate

from .protocol import PinProvider, Token, TokenCertificate, TokenKey

__all__ = ["KeyPairSigner", "TokenSigner"]


class KeyPairSigner:
    """Signs with a key pair on a token (PKCS#10 ``RequestSigner``: ``public_key()`` and both signing methods)."""

    __slots__ = ("_key", "_pin_provider", "_token")

    def __init__(self, token: Token, key: TokenKey, pin_provider: PinProvider) -> None:
        if not isinstance(key, TokenKey):
            raise InvalidTypeError("key must be a signagent.tokens.protocol.TokenKey")
        self._token = token
        self._key = key
        self._pin_provider = pin_provider

    @property
    def key(self) -> TokenKey:
        """The key pair: its id on the token and its public key."""
        return self._key

    @property
    def key_id(self) -> bytes:
        """The key pair's id on the token (PKCS#11 CKA_ID)."""
        return self._key.key_id

    def public_key(self) -> PublicKey:
        """The key pair's public key."""
        return self._key.public_key

    def sign_digest(self, digest: bytes) -> bytes:
        """Signature s || r of a ready Streebog ``digest``, made on the token."""
        return self._token.sign_digest_with_key(self._key, digest, self._pin_provider)

    def sign_message(self, message: bytes) -> bytes:
        """Signature s || r of ``message`` (Streebog of the key's size, on the host or on the token)."""
        return self._token.sign_message_with_key(self._key, message, self._pin_provider)


class TokenSigner(KeyPairSigner):
    """A CMS signer (:class:`signagent.cms.signer.Signer` protocol) over a certificate found on a token."""

    __slots__ = ("_certificate",)

    def __init__(self, token: Token, entry: TokenCertificate, pin_provider: PinProvider) -> None:
        if not isinstance(entry, TokenCertificate):
            raise InvalidTypeError("entry must be a signagent.tokens.protocol.TokenCertificate")
        super().__init__(token, entry.key, pin_provider)
        self._certificate = entry.certificate

    @property
    def certificate(self) -> Certificate:
        """The signer's certificate."""
        return self._certificate

"""Who signs: the :class:`Signer` protocol, and its software implementations over a key held in memory.

A signer holds a certificate and its key; it never sees the content, only what CMS or PKCS#10 signs (the DER of
the signed attributes or of the request info). The protocol declares the two operations a key holder may offer,
in the manner of pyHanko's ``Signer`` (a declared method for each, nothing found by probing):

* ``sign_digest(digest)`` -- the GOST R 34.10-2012 signature of a ready Streebog digest (the same operation as
  :meth:`signagent.gost.PrivateKey.sign_digest`);
* ``sign_message(message)`` -- hash and sign: Streebog of the key's size, then the signature. CMS and PKCS#10 call
  this one, so a token that can only hash on the device (PKCS#11 CKM_GOSTR3410_WITH_GOSTR3411_12_*) signs too.

Both return s || r with big-endian halves (DESIGN.md section 3), the form CMS and X.509 store. Token signers
(:class:`signagent.tokens.signer.TokenSigner`) implement the protocol over a key found on a token.
:class:`HostHashing` gives ``sign_message`` to a signer that signs digests and has ``public_key()``.

Exports: Signer, HostHashing, SoftwareSigner, KeySigner.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from signagent.errors import InvalidTypeError, SignAgentError
from signagent.gost import PrivateKey, PublicKey, streebog256, streebog512
from signagent.x509 import Certificate

from .errors import CmsSigningError

__all__ = ["HostHashing", "KeySigner", "Signer", "SoftwareSigner"]


@runtime_checkable
class Signer(Protocol):
    """Signs with the private key of ``certificate`` (see the module docstring for the two operations).

    ``digest`` is the Streebog output exactly as ``.digest()`` returns it: Streebog-256 for a 256-bit key,
    Streebog-512 for a 512-bit key.
    """

    @property
    def certificate(self) -> Certificate:
        """The signer's certificate (its key is the one that signs)."""
        ...

    def sign_digest(self, digest: bytes) -> bytes:
        """Signature s || r of a ready Streebog ``digest``."""
        ...

    def sign_message(self, message: bytes) -> bytes:
        """Signature s || r of ``message``: Streebog of the key's size, then the signature."""
        ...


class HostHashing:
    """``sign_message`` for a signer whose key signs digests: the message is hashed here, then ``sign_digest``.

    A subclass provides ``public_key()`` (which fixes the Streebog size) and ``sign_digest(digest)``.
    """

    __slots__ = ()

    def public_key(self) -> PublicKey:
        """The public key of the signing key (a subclass provides it)."""
        raise NotImplementedError

    def sign_digest(self, digest: bytes) -> bytes:
        """Signature s || r of a ready Streebog ``digest`` (a subclass provides it)."""
        raise NotImplementedError

    def sign_message(self, message: bytes) -> bytes:
        """Signature s || r of ``message``: GOST R 34.10-2012 pairs a 256-bit key with Streebog-256 and a 512-bit
        key with Streebog-512 (GOST R 34.11-2012)."""
        hasher = streebog256 if self.public_key().curve.size == 32 else streebog512
        return self.sign_digest(hasher(bytes(message)).digest())


class KeySigner(HostHashing):
    """A PKCS#10 request signer over a :class:`signagent.gost.PrivateKey` in memory (a key without certificate)."""

    __slots__ = ("_key",)

    def __init__(self, private_key: PrivateKey) -> None:
        if not isinstance(private_key, PrivateKey):
            raise InvalidTypeError("private_key must be a signagent.gost.PrivateKey")
        self._key = private_key

    def public_key(self) -> PublicKey:
        """The key's public half."""
        return self._key.public_key()

    def sign_digest(self, digest: bytes) -> bytes:
        """Signature s || r of ``digest`` with a fresh random k."""
        return self._key.sign_digest(digest)


class SoftwareSigner(KeySigner):
    """A :class:`Signer` over a :class:`signagent.gost.PrivateKey` held in memory (a key file) and its certificate."""

    __slots__ = ("_certificate",)

    def __init__(self, certificate: Certificate, private_key: PrivateKey) -> None:
        """Pair ``private_key`` with ``certificate``; CmsSigningError when the key is not the certificate's."""
        if not isinstance(certificate, Certificate):
            raise InvalidTypeError("certificate must be a signagent.x509.Certificate")
        super().__init__(private_key)
        try:
            certified = certificate.public_key()
        except SignAgentError as exc:  # any unreadable key means this certificate cannot sign
            raise CmsSigningError(situation="unusable_key", error=exc.message) from None
        if certified.to_bytes() != private_key.public_key().to_bytes() or certified.curve.oid != private_key.curve.oid:
            raise CmsSigningError(situation="key_mismatch")
        self._certificate = certificate

    @property
    def certificate(self) -> Certificate:
        """The signer's certificate."""
        return self._certificate

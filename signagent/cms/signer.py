"""Who signs: the :class:`Signer` protocol and its software implementation over a key file's private key.

A signer holds a certificate and can sign a digest; it never sees the content. Tokens (PKCS#11) will implement
the same protocol later, so the CMS code works with either.

Exports: Signer, SoftwareSigner.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from signagent.errors import InvalidTypeError, SignAgentError
from signagent.gost import PrivateKey
from signagent.x509 import Certificate

from .errors import CmsSigningError

__all__ = ["Signer", "SoftwareSigner", "signature_of"]


@runtime_checkable
class Signer(Protocol):
    """Signs digests with the private key of ``certificate``.

    ``sign_digest(digest)`` takes the Streebog output bytes exactly as ``.digest()`` returns them (Streebog-256
    for a 256-bit key, Streebog-512 for a 512-bit key) and returns the GOST R 34.10-2012 signature s || r,
    big-endian halves (DESIGN.md section 3) -- the form CMS stores.
    """

    @property
    def certificate(self) -> Certificate:
        """The signer's certificate (its key is the one that signs)."""
        ...

    def sign_digest(self, digest: bytes) -> bytes:
        """Signature s || r of ``digest``."""
        ...


def signature_of(signer: object, data: bytes, digest: bytes) -> bytes:
    """The signer's signature over ``data``, whose Streebog hash is ``digest``.

    A signer that also has ``sign_data(data, digest)`` gets the bytes too: a token whose module can only hash and
    sign on the device (CKM_GOSTR3410_WITH_GOSTR3411_12_*, no raw CKM_GOSTR3410) needs them. Every other signer
    gets the digest alone.
    """
    sign_data = getattr(signer, "sign_data", None)
    if callable(sign_data):
        return bytes(sign_data(data, digest))
    return bytes(signer.sign_digest(digest))  # type: ignore[attr-defined]


class SoftwareSigner:
    """A :class:`Signer` over a :class:`signagent.gost.PrivateKey` held in memory (a key file)."""

    __slots__ = ("_certificate", "_key")

    def __init__(self, certificate: Certificate, private_key: PrivateKey) -> None:
        """Pair ``private_key`` with ``certificate``; CmsSigningError when the key is not the certificate's."""
        if not isinstance(certificate, Certificate):
            raise InvalidTypeError("certificate must be a signagent.x509.Certificate")
        if not isinstance(private_key, PrivateKey):
            raise InvalidTypeError("private_key must be a signagent.gost.PrivateKey")
        try:
            certified = certificate.public_key()
        except SignAgentError as exc:  # any unreadable key means this certificate cannot sign
            raise CmsSigningError(f"the certificate's public key is not a usable GOST key: {exc.message}",
                                  message_ru="открытый ключ сертификата не является используемым ключом ГОСТ") from None
        if certified.to_bytes() != private_key.public_key().to_bytes() or certified.curve.oid != private_key.curve.oid:
            raise CmsSigningError(
                "the private key does not belong to the certificate",
                message_ru="закрытый ключ не соответствует сертификату",
            )
        self._certificate = certificate
        self._key = private_key

    @property
    def certificate(self) -> Certificate:
        """The signer's certificate."""
        return self._certificate

    def sign_digest(self, digest: bytes) -> bytes:
        """Signature s || r of ``digest`` with a fresh random k."""
        return self._key.sign_digest(digest)

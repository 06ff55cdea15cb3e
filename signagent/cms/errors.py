"""Errors of the CMS layer (subclasses of the tree in :mod:`signagent.errors`).

Verification never raises for a bad signature (that is a report); these are for input that cannot be processed
at all.

Exports: CmsFormatError, CmsContentMissingError, CmsSigningError.
"""

from __future__ import annotations

from signagent.errors import InvalidInputError

__all__ = ["CmsContentMissingError", "CmsFormatError", "CmsSigningError"]


class CmsFormatError(InvalidInputError):
    """Bytes that are not a readable CMS SignedData (malformed, truncated, another content type...)."""

    code = "cms_malformed"
    default_message = "not a readable CMS signature"
    default_message_ru = "не удаётся прочитать подпись CMS"


class CmsContentMissingError(InvalidInputError):
    """A detached signature was given without the content it signs."""

    code = "cms_content_missing"
    default_message = "the signature is detached: give the signed content (--content FILE)"
    default_message_ru = "подпись отсоединённая: укажите подписанные данные (--content FILE)"


class CmsSigningError(InvalidInputError):
    """A signature cannot be made with what was given (key does not match the certificate, non-GOST key...)."""

    code = "cms_signing_failed"
    default_message = "cannot sign with this certificate and key"
    default_message_ru = "невозможно подписать этим сертификатом и ключом"

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


class CmsContentMissingError(InvalidInputError):
    """A detached signature was given without the content it signs."""

    code = "cms_content_missing"


class CmsSigningError(InvalidInputError):
    """A signature cannot be made with what was given (key does not match the certificate, non-GOST key...)."""

    code = "cms_signing_failed"

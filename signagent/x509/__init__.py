"""Certificate model: loading any encoding, qualified-certificate identity (ФИО, ОГРН, ИНН, СНИЛС...).

* :mod:`.loading` -- :func:`load_certificates`, :func:`load_certificate`, :func:`load_certificates_file`,
  :func:`load_certificates_path` (file or directory), :func:`load_crl`, :func:`load_crls`, :func:`load_crl_file`;
* :mod:`.certificate` -- :class:`Certificate` (names, serial, validity, thumbprints, algorithms, key, extensions,
  ``identity``, ``problems``, ``is_signed_by``, and the one self-signature notion: ``is_self_issued`` (names,
  RFC 5280 3.2/6.1) and ``is_self_signed`` (self-issued and verified by its own key));
* :mod:`.identity` -- :class:`QualifiedIdentity` and the owner-kind rule; :mod:`.checksums` -- ИНН, ОГРН,
  ОГРНИП, СНИЛС check digits;
* :mod:`.signature` -- :func:`verify_signature` (GOST R 34.10-2012 256/512, GOST R 34.10-2001),
  :func:`crl_is_signed_by`, :func:`public_key_from_info`;
* :mod:`.names`, :mod:`.extensions` -- the pieces the certificate is made of; certificate problems are
  :class:`signagent.outcome.Reason` values with the ``field`` they concern;
* :mod:`.builder` -- issuing certificates and CRLs (used by the test PKI; import it as a module).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .certificate import AlgorithmName, BasicConstraints, Certificate, KeyUsagePeriod
from .extensions import ExtensionInfo
from .loading import (
    MAX_CERTIFICATE_FILE,
    MAX_CRL_FILE,
    LoadedCertificates,
    SkippedFile,
    load_certificate,
    load_certificates,
    load_certificates_file,
    load_certificates_path,
    load_crl,
    load_crl_file,
    load_crls,
)
from .names import DistinguishedName, NameAttribute
from .signature import crl_is_signed_by, public_key_from_info, signature_scheme, verify_signature

if TYPE_CHECKING:
    from .identity import IDENTIFICATION_KINDS, OWNER_KINDS, IssuerSignTool, QualifiedIdentity, extract_identity

# The identity model (a dataclass of 31 fields, its checks) is imported on first use, not with the package:
# `signagent sign` and most loaders never need it (PEP 562).
_LAZY_IDENTITY = {"IDENTIFICATION_KINDS", "OWNER_KINDS", "IssuerSignTool", "QualifiedIdentity", "extract_identity"}

__all__ = [
    "IDENTIFICATION_KINDS",
    "MAX_CERTIFICATE_FILE",
    "MAX_CRL_FILE",
    "OWNER_KINDS",
    "AlgorithmName",
    "BasicConstraints",
    "Certificate",
    "DistinguishedName",
    "ExtensionInfo",
    "IssuerSignTool",
    "KeyUsagePeriod",
    "LoadedCertificates",
    "NameAttribute",
    "QualifiedIdentity",
    "SkippedFile",
    "crl_is_signed_by",
    "extract_identity",
    "load_certificate",
    "load_certificates",
    "load_certificates_file",
    "load_certificates_path",
    "load_crl",
    "load_crl_file",
    "load_crls",
    "public_key_from_info",
    "signature_scheme",
    "verify_signature",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY_IDENTITY:
        from . import identity

        return getattr(identity, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

"""``cert validate`` and ``verify`` on bytes instead of files: the use cases of ``POST /v1/validate``.

The localhost API receives the certificate or signature, the anchors, intermediates and CRLs in the request
itself; these functions load them from bytes (every encoding the file readers accept: DER, PEM, bare base64,
PKCS#7 bundles), each piece capped at the size the file readers allow for its kind
(:data:`~signagent.x509.loading.MAX_CERTIFICATE_FILE`, :data:`~signagent.x509.loading.MAX_CRL_FILE`,
:data:`~signagent.cms.parsing.MAX_CMS_SIZE`), then run the very checks of the command line
(:func:`signagent.service.validation.validate_certificates`, :func:`signagent.service.signatures.verify_signature_data`)
and answer the document ``--json`` prints (:mod:`signagent.service.reports`), plus ``exit_code``: the command
line's exit status for that verdict (0 valid, 1 invalid, 2 indeterminate), so that a program can branch on one
number whichever way it called.

Malformed input raises the loaders' errors (``certificate_malformed``, ``crl_malformed``, ``cms_malformed``,
``not_der``, ``input_too_large``...), each message prefixed by the name of the piece (``trust[2]: ...``); an
ISO-8601 time that does not parse, or no trust anchor at all, a UsageError. A bad certificate or signature is a
verdict in the document, never an exception.

Unlike the command line, ``offline`` defaults to True here: the caller of the API may be a web page, and the
certificates it sends name the URLs (CRL distribution points, OCSP responders, CA issuers) the agent would fetch.

Exports: validate_certificate_bytes, verify_signature_bytes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any, Literal, TypeVar

from signagent.errors import CertificateFormatError, CrlFormatError, SignAgentError, too_large_error
from signagent.outcome import exit_code
from signagent.x509 import Certificate
from signagent.x509.loading import MAX_CERTIFICATE_FILE, MAX_CRL_FILE, load_certificates, load_crls

from . import reports
from .config import Config

__all__ = ["validate_certificate_bytes", "verify_signature_bytes"]

Revocation = Literal["soft", "hard", "off"]
_T = TypeVar("_T")
# errors about the signature's own bytes, named after it (the other pieces are named when they are loaded)
_SIGNATURE_INPUT_CODES = frozenset({"cms_malformed", "input_too_large", "not_der", "nesting_too_deep",
                                    "too_many_elements", "integer_too_large"})


def _named(error: SignAgentError, name: str) -> SignAgentError:
    """``error`` again (same class and code) with its message prefixed by the piece of input it is about."""
    try:
        return type(error)(f"{name}: {error.message}", message_ru=f"{name}: {error.message_ru}")
    except TypeError:  # a class with a constructor of its own: keep the error as it is
        return error


def _load(data: bytes, name: str, limit: int, kind: type[SignAgentError], what: str, what_ru: str,
          loader: Callable[[bytes], list[_T]]) -> list[_T]:
    if len(data) > limit:
        raise too_large_error(kind)(what=f"{name} ({what})", what_ru=f"{name} ({what_ru})", limit=limit)
    try:
        return loader(bytes(data))
    except SignAgentError as exc:
        raise _named(exc, name) from None


def _certificates(items: Iterable[bytes], name: str) -> list[Certificate]:
    found: list[Certificate] = []
    for index, data in enumerate(items):
        found += _load(data, f"{name}[{index}]", MAX_CERTIFICATE_FILE, CertificateFormatError, "certificate",
                       "сертификат", load_certificates)
    return found


def _crls(items: Iterable[bytes]) -> list[object]:
    found: list[object] = []
    for index, data in enumerate(items):
        found += _load(data, f"crls[{index}]", MAX_CRL_FILE, CrlFormatError, "CRL", "список отзыва", load_crls)
    return found


def validate_certificate_bytes(certificate: bytes, *, trust: Sequence[bytes] = (),
                               intermediates: Sequence[bytes] = (), crls: Sequence[bytes] = (),
                               at: datetime | str | None = None, offline: bool = True,
                               revocation: Revocation | None = None, use_trust_store: bool = True,
                               config: Config | None = None) -> dict[str, Any]:
    """The ``cert validate --json`` document of the first certificate in ``certificate`` (further certificates
    there, a bundle's, are intermediates), with ``exit_code``.

    ``trust``, ``intermediates``, ``crls``: pieces of bytes, each a certificate (or bundle) / CRL in any encoding.
    Without ``trust``, the user's trust store gives the anchors, intermediates and CRLs, as the command line does
    without ``--trust`` -- unless ``use_trust_store`` is False (then ``trust`` is required: UsageError
    ``no_trust_anchor`` otherwise). ``at``: a datetime or ISO-8601 text (None: now). ``revocation`` None: the
    configuration's, else soft.
    """
    from .validation import validate_certificates  # the trust layer: only when a check runs

    target = _certificates([certificate], "certificate")
    report, known = validate_certificates(
        target, trust_roots=_certificates(trust, "trust"), intermediates=_certificates(intermediates, "intermediates"),
        crls=_crls(crls), at=at, offline=offline, revocation=revocation, config=config,
        use_trust_store=use_trust_store)
    return {**reports.validation_document(report, known), "exit_code": exit_code(report)}


def verify_signature_bytes(signature: bytes, *, content: bytes | None = None, digest: bytes | None = None,
                           signer_certificates: Sequence[bytes] = (), trust: Sequence[bytes] = (),
                           intermediates: Sequence[bytes] = (), crls: Sequence[bytes] = (),
                           at: datetime | str | None = None, offline: bool = True,
                           revocation: Revocation | None = None, use_trust_store: bool = True,
                           check_chain: bool = True, config: Config | None = None) -> dict[str, Any]:
    """The ``verify --json`` document of the CMS ``signature`` (DER, PEM or base64), with ``exit_code``.

    ``content``: the signed bytes of a detached signature (CmsContentMissingError without them), or instead
    ``digest``, their Streebog digest (32 bytes: Streebog-256, 64: Streebog-512; CryptoPro's VerifyHash).
    ``check_chain`` False: the signatures alone, no trust anchor needed (each chain ``chain_not_checked``).
    ``at`` may also be ``"signing-time"`` (the time the signer claims). ``signer_certificates``: where to look
    for signers the CMS does not carry. The rest as :func:`validate_certificate_bytes`.
    """
    from signagent.cms.content import ContentDigest
    from signagent.cms.digests import digest_for_key_size

    from .signatures import verify_signature_data

    given: bytes | ContentDigest | None = None if content is None else bytes(content)
    if digest is not None:  # Streebog-256 or -512 by its length (InvalidTypeError for any other length)
        given = ContentDigest(digest_for_key_size(64 if len(digest) == 64 else 32).oid, bytes(digest))
    extra = _certificates(signer_certificates, "signer_certificates")
    roots, more, revocation_lists = (_certificates(trust, "trust"), _certificates(intermediates, "intermediates"),
                                     _crls(crls))
    try:
        report = verify_signature_data(
            bytes(signature), content=given, extra_certificates=extra,
            trust_roots=roots, intermediates=more, crls=revocation_lists, at=at, offline=offline,
            revocation=revocation, config=config, use_trust_store=use_trust_store, check_chain=check_chain)
    except SignAgentError as exc:
        if exc.code not in _SIGNATURE_INPUT_CODES:
            raise
        raise _named(exc, "signature") from None
    return {**reports.verification_document(report), "exit_code": exit_code(report)}

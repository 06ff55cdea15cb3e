"""The result of verifying a CMS signature: a value per SignerInfo and an overall verdict, never an exception.

Each signer gets ``valid`` / ``invalid`` / ``indeterminate``, the reasons (stable codes, messages in English and
Russian), warnings, who signed (the qualified identity of the certificate), the signing time *the signer claims*
(a CAdES-BES signingTime is not attested by anyone; :attr:`SignerReport.signing_time_source` says so) and the
chain report of the certificate. Reasons come from two scopes: ``signature`` (this module's :data:`REASONS`)
and ``chain`` (copied from the trust layer's validation report, whose codes they keep).

Every reason is a :class:`~signagent.outcome.Reason` (the project's one reason type) with its ``scope`` set.
The overall status is the worst signer's (:func:`signagent.outcome.worst`: valid < indeterminate < invalid); a
SignedData without signers is invalid.

Exports: REASONS, INDETERMINATE_CODES, SignerReport, CmsVerificationReport, cms_reason, combine_status, status_of.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from signagent.outcome import Reason, ReasonTable, Status, status_of
from signagent.outcome import worst as combine_status
from signagent.x509 import Certificate

__all__ = [
    "INDETERMINATE_CODES",
    "REASONS",
    "ChainResult",
    "CmsVerificationReport",
    "SignerReport",
    "cms_reason",
    "combine_status",
    "status_of",
]

#: code -> (English, Russian). Never rename a code: ``--json`` output and portals rely on them.
REASONS: dict[str, tuple[str, str]] = {
    "message_digest_mismatch": (
        "the content does not match the signature (messageDigest differs)",
        "данные не соответствуют подписи (значение messageDigest не совпадает)"),
    "bad_signature": ("the signature value does not verify with the signer certificate's key",
                      "значение подписи не проверяется ключом сертификата подписанта"),
    "signer_certificate_not_found": (
        "the signer certificate ({signer}) is neither in the signature nor among the certificates given",
        "сертификат подписанта ({signer}) не найден ни в подписи, ни среди переданных сертификатов"),
    "signing_certificate_mismatch": (
        "the signingCertificateV2 attribute names another certificate than the one that verifies",
        "атрибут signingCertificateV2 указывает на другой сертификат, а не на сертификат подписанта"),
    "not_cades_bes": ("the signature is not CAdES-BES: {missing}", "подпись не является CAdES-BES: {missing}"),
    "content_type_mismatch": ("the contentType attribute ({attribute}) differs from the content type ({content})",
                              "атрибут contentType ({attribute}) не совпадает с типом данных ({content})"),
    "required_attribute_missing": ("the signed attribute {attribute} is missing (RFC 5652 section 5.3)",
                                   "отсутствует обязательный подписанный атрибут {attribute}"),
    "attribute_malformed": ("the signed attribute {attribute} is malformed or repeated",
                            "подписанный атрибут {attribute} повреждён или повторяется"),
    "algorithm_not_supported": ("the algorithm {algorithm} is not supported",
                                "алгоритм {algorithm} не поддерживается"),
    "algorithm_mismatch": ("the algorithms do not fit together or the key: {detail}",
                           "алгоритмы не соответствуют друг другу или ключу: {detail}"),
    "chain_not_checked": ("the signer certificate's chain was not checked (no trust anchors given)",
                          "цепочка сертификата подписанта не проверялась (нет доверенных сертификатов)"),
    "signing_time_missing": ("the signature claims no signing time; the chain was checked at the current time",
                             "в подписи нет времени подписания; цепочка проверена на текущий момент"),
    "no_signers": ("the SignedData has no signer", "в подписи нет ни одного подписанта"),
    "content_digest_algorithm": (
        "the content was given as a {given} digest; this signer's digest algorithm is {algorithm}",
        "данные переданы хэш-значением {given}, а подписант использовал алгоритм хэширования {algorithm}"),
    "signer_certificate_not_der": (
        "the signer certificate carried in the signature is not DER (RFC 5280 section 4.1): {detail}",
        "сертификат подписанта в подписи закодирован не по DER (RFC 5280, раздел 4.1): {detail}"),
    "signed_attributes_not_der": (
        "the signed attributes are not DER-encoded (RFC 5652 section 5.3): {detail}",
        "подписанные атрибуты закодированы не по DER (RFC 5652, раздел 5.3): {detail}"),
}

#: Codes that leave the verdict open (more data or support could change it) rather than invalid: this layer's, and
#: the trust layer's (a chain reason carried into a CMS report keeps the severity the trust layer gave it).
INDETERMINATE_CODES = frozenset({"signer_certificate_not_found", "algorithm_not_supported", "chain_not_checked",
                                 "content_digest_algorithm",
                                 "issuer_not_found", "revocation_unknown", "crl_expired"})

#: ``cms_reason(code, **details)``: a signature-scope :class:`~signagent.outcome.Reason` for ``code`` of
#: :data:`REASONS`, messages filled from ``details``. Chain reasons come from the trust layer, placed in scope
#: ``chain`` with :meth:`~signagent.outcome.Reason.in_scope`.
cms_reason = ReasonTable(REASONS, INDETERMINATE_CODES, scope="signature")


class ChainResult(Protocol):
    """What a chain validator returns (the trust layer's ValidationReport fits)."""

    status: Status
    reasons: Any
    warnings: Any

    def to_dict(self) -> dict[str, Any]: ...


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


@dataclass(frozen=True)
class SignerReport:
    """The verdict on one SignerInfo."""

    index: int
    status: Status
    reasons: tuple[Reason, ...]
    warnings: tuple[Reason, ...]
    certificate: Certificate | None
    signing_time: datetime | None  # claimed by the signer (signingTime attribute); None when absent
    cades_bes: bool
    digest_algorithm: str
    signature_algorithm: str
    signed_attributes: bool
    chain: ChainResult | None = None
    chain_checked_at: datetime | None = None
    signing_time_source: str = "signer_claim"  # CAdES-BES signingTime is the signer's claim, not attested
    origin: str | None = None  # signagent's origin attribute: the web origin the signature was asked for

    @property
    def codes(self) -> tuple[str, ...]:
        """The reason codes, in order."""
        return tuple(r.code for r in self.reasons)

    @property
    def warning_codes(self) -> tuple[str, ...]:
        """The warning codes, in order."""
        return tuple(w.code for w in self.warnings)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        cert = self.certificate
        signer: dict[str, Any] | None = None
        if cert is not None:
            signer = {"subject": cert.subject.display, "issuer": cert.issuer.display, "serial": cert.serial_hex,
                      "sha1": cert.sha1_thumbprint, "identity": cert.identity.to_dict()}
        return {
            "index": self.index,
            "status": self.status,
            "cades_bes": self.cades_bes,
            "signer": signer,
            "signing_time": _iso(self.signing_time),
            "signing_time_source": self.signing_time_source,
            "origin": self.origin,
            "digest_algorithm": self.digest_algorithm,
            "signature_algorithm": self.signature_algorithm,
            "signed_attributes": self.signed_attributes,
            "reasons": [r.to_dict() for r in self.reasons],
            "warnings": [w.to_dict() for w in self.warnings],
            "chain_checked_at": _iso(self.chain_checked_at),
            "chain": None if self.chain is None else self.chain.to_dict(),
        }


@dataclass(frozen=True)
class CmsVerificationReport:
    """The verdict on a whole SignedData: overall status, every signer, and reasons about the whole."""

    status: Status
    signers: tuple[SignerReport, ...]
    detached: bool
    content_type: str
    reasons: tuple[Reason, ...] = ()

    @property
    def codes(self) -> tuple[str, ...]:
        """Every reason code: the whole's, then each signer's."""
        return tuple(r.code for r in self.reasons) + tuple(c for s in self.signers for c in s.codes)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (``signagent verify --json``)."""
        return {
            "status": self.status,
            "detached": self.detached,
            "content_type": self.content_type,
            "reasons": [r.to_dict() for r in self.reasons],
            "signers": [s.to_dict() for s in self.signers],
        }

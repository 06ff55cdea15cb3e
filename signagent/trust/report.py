"""The result of a certificate validation: a value, never an exception.

A :class:`ValidationReport` says ``valid`` / ``invalid`` / ``indeterminate``, which chain was chosen (end entity
first, trust anchor last), every path found (cross-certificates give several), the checks made on each
certificate and the reasons for the verdict. Reasons carry **stable codes** (the CLI's ``--json``, the HTTP API
and portals rely on them; never rename one) and a message in Russian and in English. :data:`REASONS` is the one
table of codes; :func:`reason` builds a :class:`~signagent.outcome.Reason` (the project's one reason type) from
it, with severity ``indeterminate`` for :data:`INDETERMINATE_CODES`. Statuses rank as :mod:`signagent.outcome`
says (valid < indeterminate < invalid).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from signagent.outcome import Reason, ReasonTable, Status

__all__ = [
    "INDETERMINATE_CODES",
    "REASONS",
    "CertificateCheck",
    "CertificateInfo",
    "PathReport",
    "Reason",
    "Status",
    "ValidationReport",
    "reason",
]

#: code -> (English template, Russian template). Templates may use {details} keys given to :func:`reason`.
REASONS: dict[str, tuple[str, str]] = {
    "expired": ("certificate expired on {not_after}", "срок действия сертификата истёк {not_after}"),
    "not_yet_valid": ("certificate is not valid before {not_before}", "сертификат действует только с {not_before}"),
    "revoked": ("certificate was revoked on {revoked_at} (reason: {revocation_reason})",
                "сертификат отозван {revoked_at} (причина: {revocation_reason})"),
    "untrusted_root": ("the chain ends in a root that is not trusted: {subject}",
                       "цепочка заканчивается недоверенным корневым сертификатом: {subject}"),
    "issuer_not_found": ("the issuer certificate was not found: {issuer}",
                         "не найден сертификат издателя: {issuer}"),
    "bad_signature": ("the signature of the certificate does not verify with its issuer's key",
                      "подпись сертификата не проверяется ключом издателя"),
    "not_a_ca": ("the issuer certificate is not a certification authority (basicConstraints)",
                 "сертификат издателя не является сертификатом УЦ (basicConstraints)"),
    "path_length_exceeded": ("the chain is longer than the issuer's pathLenConstraint allows",
                             "длина цепочки превышает ограничение pathLenConstraint издателя"),
    "key_usage_not_allowed": ("the key usage does not allow signing (digitalSignature or nonRepudiation)",
                              "назначение ключа не допускает подпись (digitalSignature или nonRepudiation)"),
    "ca_key_usage_missing": ("the CA certificate's key usage lacks keyCertSign",
                             "в назначении ключа сертификата УЦ нет keyCertSign"),
    "private_key_usage_period_over": (
        "the private key may be used only from {not_before} to {not_after}",
        "закрытый ключ можно использовать только с {not_before} по {not_after}"),
    "unknown_critical_extension": ("the certificate has an unsupported critical extension: {extensions}",
                                   "сертификат содержит неподдерживаемое критическое расширение: {extensions}"),
    "revocation_unknown": ("the revocation status could not be established: {detail}",
                           "не удалось установить статус отзыва: {detail}"),
    "revocation_not_checked": ("revocation was not checked (revocation checking is off)",
                               "статус отзыва не проверялся (проверка отзыва отключена)"),
    "crl_expired": ("the only available CRL is out of date (next update was {next_update})",
                    "доступный список отзыва устарел (следующее обновление ожидалось {next_update})"),
    "algorithm_not_allowed": ("the signature algorithm {algorithm} is not allowed",
                              "алгоритм подписи {algorithm} не допускается"),
    "malformed": ("the certificate cannot be processed: {detail}", "сертификат не удаётся обработать: {detail}"),
    "not_der": ("the certificate is not DER-encoded (RFC 5280 section 4.1): {detail}",
                "кодировка сертификата не соответствует DER (RFC 5280, раздел 4.1): {detail}"),
    "signature_algorithm_mismatch": (
        "the outer signature algorithm differs from the one inside the signed part (RFC 5280 section 4.1.1.2)",
        "алгоритм подписи сертификата не совпадает с алгоритмом в подписанной части (RFC 5280, раздел 4.1.1.2)"),
    "policy_violation": ("certificate policy or name constraints are violated: {detail}",
                         "нарушены политики сертификатов или ограничения имён: {detail}"),
    "validation_failed": ("the chain is not valid: {detail}", "цепочка недействительна: {detail}"),
}

#: Codes that make a verdict indeterminate rather than invalid (more data could change it).
INDETERMINATE_CODES = frozenset({"issuer_not_found", "revocation_unknown", "crl_expired"})


#: ``reason(code, certificate=..., subject=..., **details)``: the :class:`~signagent.outcome.Reason` for ``code``
#: of :data:`REASONS` (the trust layer's table of codes), severity ``indeterminate`` for :data:`INDETERMINATE_CODES`.
reason = ReasonTable(REASONS, INDETERMINATE_CODES)


def _text(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%SZ")


@dataclass(frozen=True)
class CertificateCheck:
    """One check on one certificate: ``name`` (signature, validity, revocation...), ``status`` and why."""

    name: str
    status: Literal["passed", "failed", "unknown", "skipped"]
    reason: Reason | None = None
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        out: dict[str, Any] = {"name": self.name, "status": self.status}
        if self.detail:
            out["detail"] = self.detail
        if self.reason is not None:
            out["reason"] = self.reason.to_dict()
        return out


@dataclass(frozen=True)
class CertificateInfo:
    """A certificate of the chain: identification, role and the checks made on it."""

    subject: str
    issuer: str
    serial: str
    sha1: str
    sha256: str
    not_before: datetime
    not_after: datetime
    role: Literal["end_entity", "intermediate", "root"]
    checks: tuple[CertificateCheck, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "subject": self.subject, "issuer": self.issuer, "serial": self.serial, "sha1": self.sha1,
            "sha256": self.sha256, "not_before": _text(self.not_before), "not_after": _text(self.not_after),
            "role": self.role, "checks": [c.to_dict() for c in self.checks],
        }


@dataclass(frozen=True)
class PathReport:
    """One certification path found: its certificates (end entity first), verdict and reasons."""

    certificates: tuple[CertificateInfo, ...]
    status: Status
    reasons: tuple[Reason, ...] = ()
    warnings: tuple[Reason, ...] = ()

    @property
    def thumbprints(self) -> tuple[str, ...]:
        """SHA-1 thumbprints from the end entity to the anchor."""
        return tuple(c.sha1 for c in self.certificates)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "status": self.status,
            "certificates": [{"subject": c.subject, "sha1": c.sha1} for c in self.certificates],
            "reasons": [r.to_dict() for r in self.reasons],
            "warnings": [w.to_dict() for w in self.warnings],
        }


@dataclass(frozen=True)
class ValidationReport:
    """The verdict on a certificate: status, chosen chain, all paths, reasons, warnings, validation time."""

    status: Status
    chain: tuple[CertificateInfo, ...]
    paths: tuple[PathReport, ...]
    reasons: tuple[Reason, ...]
    warnings: tuple[Reason, ...]
    validated_at: datetime
    revocation_mode: str = "soft"

    @property
    def codes(self) -> tuple[str, ...]:
        """The reason codes, in order."""
        return tuple(r.code for r in self.reasons)

    @property
    def warning_codes(self) -> tuple[str, ...]:
        """The warning codes, in order."""
        return tuple(w.code for w in self.warnings)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (``--json``)."""
        return {
            "status": self.status,
            "validated_at": _text(self.validated_at),
            "revocation_mode": self.revocation_mode,
            "reasons": [r.to_dict() for r in self.reasons],
            "warnings": [w.to_dict() for w in self.warnings],
            "chain": [c.to_dict() for c in self.chain],
            "paths": [p.to_dict() for p in self.paths],
        }

"""The verdict of the portal-side verifier: a value, never an exception (DESIGN.md section 9 step 4).

A :class:`RegistrationReport` (a signed registration request) or :class:`LoginReport` (an authentication proof)
says ``valid`` / ``invalid`` / ``indeterminate`` with the reasons for it. Every reason is a
:class:`~signagent.outcome.Reason` of this layer's table :data:`REASONS` (scope ``registration``): a stable code
(portals branch on it; never rename one), a message in English and in Russian. The signature's and the chain's own
reasons are not repeated one by one: ``signature_invalid`` / ``chain_invalid`` (and their ``_indeterminate``
twins) carry their codes in the detail ``codes`` and the first one's message in ``detail``, and the report keeps
the whole chain report (:attr:`RegistrationReport.chain`).

Codes of severity ``indeterminate`` (:data:`INDETERMINATE_CODES`): more data could change the answer -- the
revocation status could not be had, the signer's certificate is not in the signature, or the register names a
managing organisation whose own head this verifier does not look up.

Exports: REASONS, INDETERMINATE_CODES, registration_reason, RegistrationReport, LoginReport, signer_summary,
exit_code (the project's one mapping of a verdict to an exit status, :func:`signagent.outcome.exit_code`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, is_dataclass
from datetime import datetime
from typing import Any

from signagent.outcome import Reason, ReasonTable, Status, exit_code
from signagent.x509 import Certificate

__all__ = ["INDETERMINATE_CODES", "REASONS", "LoginReport", "RegistrationReport", "exit_code", "registration_reason",
           "signer_summary"]

#: code -> (English template, Russian template). Never rename a code: portals rely on them.
REASONS: dict[str, tuple[str, str]] = {
    # the signature
    "signature_malformed": ("the signature is not a CMS SignedData: {detail}",
                            "подпись не является структурой CMS SignedData: {detail}"),
    "signature_detached": ("the signature does not contain the request (a detached signature)",
                           "подпись не содержит запроса (отсоединённая подпись)"),
    "signer_count": ("the signature must have exactly one signer, it has {count}",
                     "в подписи должен быть ровно один подписант, а их {count}"),
    "signature_invalid": ("the signature is not valid: {detail} ({codes})",
                          "подпись недействительна: {detail} ({codes})"),
    "signature_indeterminate": ("the signature could not be verified: {detail} ({codes})",
                                "подпись не удалось проверить: {detail} ({codes})"),
    "origin_missing": ("the signature does not state the site it was made for (no origin attribute): it was not "
                       "made through the agent for a web page",
                       "в подписи не указан сайт, для которого она сделана (нет атрибута origin): она сделана не "
                       "через агент для веб-страницы"),
    "origin_mismatch": ("the signature was made for {got}, not for {expected}",
                        "подпись сделана для сайта {got}, а не для {expected}"),
    # the certificate
    "chain_invalid": ("the signer's certificate is not valid: {detail} ({codes})",
                      "сертификат подписанта недействителен: {detail} ({codes})"),
    "chain_indeterminate": ("the signer's certificate could not be validated: {detail} ({codes})",
                            "сертификат подписанта не удалось проверить: {detail} ({codes})"),
    "not_qualified": ("the signer's certificate is not a qualified one: {missing}",
                      "сертификат подписанта не является квалифицированным: {missing}"),
    # the request
    "not_canonical": ("the signed request is not in canonical JSON form (UTF-8, sorted keys, no spaces)",
                      "подписанный запрос не в каноническом виде JSON (UTF-8, ключи по порядку, без пробелов)"),
    "request_invalid": ("the signed request does not fit the schema: {fields}",
                        "подписанный запрос не соответствует схеме: {fields}"),
    "request_origin_mismatch": ("the request names the site {got}, not {expected}",
                                "в запросе указан сайт {got}, а не {expected}"),
    "nonce_unknown": ("the request's nonce was not issued by this portal for this purpose",
                      "nonce запроса не выдавался этим порталом для этой операции"),
    "nonce_used": ("the request's nonce was already used: the signed request is replayed",
                   "nonce запроса уже использован: подписанный запрос отправлен повторно"),
    "nonce_expired": ("the request's nonce has expired: sign a new request",
                      "срок действия nonce запроса истёк: подпишите новый запрос"),
    # the organisation and its head (ЕГРЮЛ)
    "ogrn_mismatch": ("the certificate's ОГРН {certificate_value} differs from the request's {request_value}",
                      "ОГРН в сертификате ({certificate_value}) не совпадает с ОГРН в запросе ({request_value})"),
    "inn_le_mismatch": ("the certificate's ИНН ЮЛ {certificate_value} differs from the request's {request_value}",
                        "ИНН ЮЛ в сертификате ({certificate_value}) не совпадает с ИНН в запросе ({request_value})"),
    "organisation_not_in_register": ("no organisation with ОГРН {ogrn} in the ЕГРЮЛ extract",
                                     "организации с ОГРН {ogrn} нет в выписке из ЕГРЮЛ"),
    "register_ogrn_mismatch": ("the register has the organisation with ИНН {inn} under ОГРН {register_value}, "
                               "not {request_value}",
                               "в реестре организация с ИНН {inn} имеет ОГРН {register_value}, а не {request_value}"),
    "register_inn_mismatch": ("the register gives ИНН {register_value}, the request {request_value}",
                              "в реестре ИНН {register_value}, а в запросе {request_value}"),
    "not_authorized_head": ("{person} is not a person who may act for {organisation} without a power of attorney "
                            "according to the register",
                            "{person} не является лицом, имеющим право без доверенности действовать от имени "
                            "{organisation}, по сведениям реестра"),
    "head_inn_missing": ("the register's entry for {person} has no personal ИНН (ИННФЛ): the person cannot be told "
                         "apart from a namesake",
                         "в записи реестра о {person} нет ИНН физического лица (ИННФЛ): нельзя отличить это лицо "
                         "от однофамильца"),
    "head_disputed": ("the register marks the data on {person} as unreliable (СвНедДанДолжнФЛ)",
                      "в реестре сведения о {person} помечены как недостоверные (СвНедДанДолжнФЛ)"),
    "head_disqualified": ("the register marks {person} as disqualified (СвДискв)",
                          "в реестре {person} отмечен(а) как дисквалифицированное лицо (СвДискв)"),
    "managed_by_organisation": (
        "{organisation} is managed by an organisation ({manager}): who acts for it is that organisation's "
        "head, which this check does not establish",
        "{organisation} управляется управляющей организацией ({manager}): действует от её имени руководитель "
        "управляющей организации, это проверкой не устанавливается"),
    # the entrepreneur (ЕГРИП)
    "ogrnip_mismatch": ("the certificate's ОГРНИП {certificate_value} differs from the request's {request_value}",
                        "ОГРНИП в сертификате ({certificate_value}) не совпадает с ОГРНИП в запросе "
                        "({request_value})"),
    "inn_mismatch": ("the certificate's ИНН {certificate_value} differs from the request's {request_value}",
                     "ИНН в сертификате ({certificate_value}) не совпадает с ИНН в запросе ({request_value})"),
    "entrepreneur_not_in_register": ("no entrepreneur with ОГРНИП {ogrnip} in the ЕГРИП extract",
                                     "индивидуального предпринимателя с ОГРНИП {ogrnip} нет в выписке из ЕГРИП"),
    "entrepreneur_name_mismatch": ("the register names the entrepreneur {register_value}, the certificate "
                                   "{certificate_value}",
                                   "в реестре предприниматель -- {register_value}, а в сертификате -- "
                                   "{certificate_value}"),
    # the employee
    "organisation_unknown": ("the organisation (ОГРН {ogrn}, ИНН {inn}) is not registered in this portal",
                             "организация (ОГРН {ogrn}, ИНН {inn}) не зарегистрирована на этом портале"),
    # a login (authentication proof)
    "proof_invalid": ("the authentication proof is not valid: {detail}",
                      "подтверждение владения ключом недействительно: {detail}"),
    "challenge_mismatch": ("the authentication proof was made for another challenge",
                           "подтверждение владения ключом сделано для другого вызова"),
}

#: Codes that leave the verdict open rather than invalid.
INDETERMINATE_CODES = frozenset({"signature_indeterminate", "chain_indeterminate", "managed_by_organisation"})

#: ``registration_reason(code, **details)``: the :class:`~signagent.outcome.Reason` for ``code`` of
#: :data:`REASONS`, scope ``registration``.
registration_reason = ReasonTable(REASONS, INDETERMINATE_CODES, scope="registration")


def signer_summary(certificate: Certificate | None) -> dict[str, Any] | None:
    """Who signed, JSON-ready: the certificate's ids, subject, issuer, validity and qualified identity."""
    if certificate is None:
        return None
    identity = certificate.identity
    return {
        "certificate_id": certificate.streebog_thumbprint,
        "sha1": certificate.sha1_thumbprint,
        "serial": certificate.serial_hex,
        "subject": certificate.subject.display,
        "issuer": certificate.issuer.display,
        "not_before": certificate.not_before.isoformat(),
        "not_after": certificate.not_after.isoformat(),
        "owner_name": identity.full_name,
        "organisation": identity.organization,
        "identity": identity.to_dict(),
    }


def _record_dict(record: Any) -> dict[str, Any] | None:
    """A register record (a dataclass of :mod:`signagent.registration.egr`, or a portal's own) as JSON."""
    if record is None:
        return None
    to_dict = getattr(record, "to_dict", None)
    if callable(to_dict):
        return to_dict()  # type: ignore[no-any-return]
    if is_dataclass(record) and not isinstance(record, type):
        return asdict(record)
    return {"value": str(record)}


def _codes(reasons: Sequence[Reason]) -> tuple[str, ...]:
    return tuple(r.code for r in reasons)


@dataclass(frozen=True)
class RegistrationReport:
    """The verdict on a signed registration request.

    ``request``: the parsed request (a model of :mod:`signagent.registration.schema`) when the content parsed,
    else None; ``certificate`` the signer's; ``signer`` its summary (:func:`signer_summary`); ``chain`` the
    trust layer's report on it (None when the chain was not reached); ``nonce`` what the nonce store answered
    (None when the nonce was not consumed: the request was not authentic for this portal, or the verdict was
    indeterminate and may be asked again); ``problems`` the schema's field problems (JSON-ready);
    ``register`` the register record matched (JSON-ready, None when none); ``checked_at`` the time of the check.
    """

    status: Status
    reasons: tuple[Reason, ...]
    request: Any = None
    certificate: Certificate | None = None
    chain: Any = None
    nonce: str | None = None
    problems: tuple[dict[str, Any], ...] = ()
    register: Any = None
    origin: str | None = None
    checked_at: datetime | None = None
    signed_origin: str | None = None
    warnings: tuple[Reason, ...] = field(default=())

    @property
    def codes(self) -> tuple[str, ...]:
        """The reason codes, in order."""
        return _codes(self.reasons)

    @property
    def signer(self) -> dict[str, Any] | None:
        """The signer's summary (:func:`signer_summary`)."""
        return signer_summary(self.certificate)

    @property
    def request_type(self) -> str | None:
        """``head-registration``, ``entrepreneur-registration``, ``employee-registration`` or None."""
        return None if self.request is None else getattr(self.request, "type", None)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (``signagent registration verify --json``, the verifier's HTTP answer)."""
        request = None
        if self.request is not None:
            dump = getattr(self.request, "model_dump", None)
            request = dump(mode="json") if callable(dump) else self.request
        return {
            "status": self.status,
            "type": self.request_type,
            "origin": self.origin,
            "signed_origin": self.signed_origin,
            "checked_at": None if self.checked_at is None else self.checked_at.isoformat(),
            "reasons": [r.to_dict() for r in self.reasons],
            "warnings": [w.to_dict() for w in self.warnings],
            "nonce": self.nonce,
            "signer": self.signer,
            "request": request,
            "problems": list(self.problems),
            "register": _record_dict(self.register),
            "chain": None if self.chain is None else self.chain.to_dict(),
        }


@dataclass(frozen=True)
class LoginReport:
    """The verdict on an authentication proof (``/v1/authenticate``'s result) presented to log in.

    ``certificate``: the certificate whose key made the proof (None when the proof did not verify); ``chain``
    its chain report; ``nonce`` the nonce store's answer for the challenge (None when not consumed)."""

    status: Status
    reasons: tuple[Reason, ...]
    certificate: Certificate | None = None
    chain: Any = None
    nonce: str | None = None
    origin: str | None = None
    checked_at: datetime | None = None

    @property
    def codes(self) -> tuple[str, ...]:
        """The reason codes, in order."""
        return _codes(self.reasons)

    @property
    def signer(self) -> dict[str, Any] | None:
        """The certificate owner's summary (:func:`signer_summary`)."""
        return signer_summary(self.certificate)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "status": self.status,
            "origin": self.origin,
            "checked_at": None if self.checked_at is None else self.checked_at.isoformat(),
            "reasons": [r.to_dict() for r in self.reasons],
            "nonce": self.nonce,
            "signer": self.signer,
            "chain": None if self.chain is None else self.chain.to_dict(),
        }

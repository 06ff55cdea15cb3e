"""The verifier a portal's backend runs on a signed registration request and on a login proof (DESIGN.md
section 9 step 4; issue 14 item 3).

:func:`verify_registration` takes the CMS the agent returned (attached CAdES-BES over the canonical JSON request)
and checks, each failure a reason of :data:`signagent.registration.report.REASONS`:

1. **the signature**: a CMS SignedData (``signature_malformed``) that carries the request (``signature_detached``),
   with exactly one signer (``signer_count``), whose signature verifies (``signature_invalid`` /
   ``signature_indeterminate``, carrying the CMS layer's codes). Nothing else is judged when the signature does
   not hold: the content is then nobody's statement;
2. **the origin**: signagent's signed origin attribute is present (``origin_missing``) and equals the portal's
   origin (``origin_mismatch``) -- a request signed for one site is useless at another;
3. **the certificate**: its chain to ``trust_roots`` is valid now (or at ``at``) with revocation ``hard``
   (``chain_invalid`` / ``chain_indeterminate``, carrying the trust layer's codes: ``expired``, ``revoked``...);
   it is qualified: a policy class КС1..КА1 and issuerSignTool present (``not_qualified``);
4. **the request**: the content parses against the schema in canonical form (``not_canonical``,
   ``request_invalid`` with the field problems) and names the portal's origin (``request_origin_mismatch``);
5. **who signs**, by the request's type:

   * ``head-registration``: the certificate's ОГРН and ИНН ЮЛ equal the request's (``ogrn_mismatch``,
     ``inn_le_mismatch``); the organisation is in the ЕГРЮЛ (``organisation_not_in_register``) under the
     request's ОГРН and ИНН (``register_ogrn_mismatch``, ``register_inn_mismatch``); the certificate's person
     (surname, given names, personal ИНН: :func:`signagent.registration.egr.person_matches`) is one of the
     register's persons who may act without a power of attorney (СведДолжнФЛ; ``not_authorized_head``;
     ``head_inn_missing`` when the only entry with the signer's name has no ИННФЛ, so a namesake cannot be told
     apart), not flagged as unreliable (``head_disputed``) or disqualified (``head_disqualified``). An
     organisation that the register shows managed by another organisation (СвУпрОрг) and whose СведДолжнФЛ does
     not name the signer gives ``managed_by_organisation`` (indeterminate): the person who acts is the managing
     organisation's head, which this verifier does not establish -- the portal decides such registrations by
     hand;
   * ``entrepreneur-registration``: the certificate's ОГРНИП and personal ИНН equal the request's
     (``ogrnip_mismatch``, ``inn_mismatch``) and the ЕГРИП's (``entrepreneur_not_in_register``,
     ``register_inn_mismatch``), and the register's ФИО is the certificate's (``entrepreneur_name_mismatch``);
   * ``employee-registration``: the organisation exists in the portal (``organisation_unknown``, through the
     portal's :class:`OrganisationDirectory`) and the certificate's ОГРН / ИНН ЮЛ are the organisation's
     (``ogrn_mismatch``, ``inn_le_mismatch``);

6. **the nonce** (``nonce_unknown``, ``nonce_used``, ``nonce_expired``).

When the nonce is consumed. It is consumed *after* the checks above, and only when the request is authentic for
this portal (the signature verifies, both origins are the portal's, the request parses) and the verdict so far is
not ``indeterminate``. So: (a) garbage -- or a request signed for another site -- never burns a nonce, although
anyone can put a nonce they saw into an unsigned or foreign CMS; (b) an authentic request is judged once: even a
refused one uses its nonce, and sending it again gives ``nonce_used``; (c) an indeterminate verdict (revocation
status unreachable) leaves the nonce unused so that the same signed request may be sent again while the nonce
lives. Replays race safely: consumption is atomic (:mod:`.nonces`), so of two concurrent submissions of one
request exactly one is ``valid``.

:func:`verify_login` checks the result of the agent's ``/v1/authenticate`` (docs/API.md "Authentication proof")
for a challenge that is a nonce this portal issued with purpose ``login``: the proof was made for this origin
(``origin_mismatch``) and this challenge (``challenge_mismatch``) and its signature verifies (``proof_invalid``);
the certificate's chain is valid now, revocation hard; the nonce is consumed (same codes as above) when the proof
verifies and the verdict is not indeterminate.

Malformed arguments of the portal itself (its own origin, a revocation mode) raise; whatever comes from the
user's side is a reason in the report.

Exports: verify_registration, verify_login, OrganisationDirectory, MAX_SIGNED_REQUEST.
"""

from __future__ import annotations

import binascii
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

from signagent.cms.parsing import load_signed_data
from signagent.cms.verification import verify as verify_cms
from signagent.errors import SignAgentError
from signagent.outcome import Reason, status_of
from signagent.service.authentication import ProofError, verify_proof
from signagent.service.origins import normalize_origin
from signagent.trust.validation import validate
from signagent.x509 import Certificate

from . import egr
from .canonical import parse_request
from .nonces import NonceStore
from .problems import RegistrationRequestError
from .report import LoginReport, RegistrationReport, registration_reason

__all__ = ["MAX_SIGNED_REQUEST", "OrganisationDirectory", "verify_login", "verify_registration"]

Revocation = Literal["soft", "hard", "off"]
reason = registration_reason

#: The largest signed request accepted (a registration request with every section is a few tens of kilobytes).
MAX_SIGNED_REQUEST = 1 << 20


class OrganisationDirectory(Protocol):
    """The organisations registered in the portal (an employee can join only one of them)."""

    def exists(self, *, ogrn: str | None = None, inn: str | None = None) -> bool:
        """Whether an organisation with this ОГРН (when given) and ИНН (when given) is registered."""
        ...


def _now(at: datetime | None) -> datetime:
    if at is None:
        return datetime.now(UTC)
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def _chain_validator(trust_roots: Sequence[Any], intermediates: Sequence[Any], crls: Sequence[Any], *,
                     offline: bool, revocation: Revocation, fetcher: Any, cache_dir: str | None) -> Any:
    def run(cert: Certificate, others: Sequence[Certificate], when: datetime | None) -> Any:
        return validate(cert, trust_roots=trust_roots, intermediates=[*others, *intermediates], crls=crls, at=when,
                        offline=offline, revocation=revocation, fetcher=fetcher, cache_dir=cache_dir)

    return run


def _bilingual(code: str, ru: dict[str, object], **details: object) -> Reason:
    """``reason(code, **details)`` whose Russian message is filled with ``details`` updated by ``ru`` (a detail
    that is itself a message: English in the English text, Russian in the Russian)."""
    found = reason(code, **details)
    return replace(found, message_ru=reason(code, **{**details, **ru}).message_ru)


def _summarise(kind: str, reasons: Sequence[Reason]) -> Reason | None:
    """``<kind>_invalid`` or ``<kind>_indeterminate`` carrying ``reasons``' codes and the first one's message."""
    if not reasons:
        return None
    worst = status_of(reasons)
    first = next(r for r in reasons if r.severity == worst)
    codes = ", ".join(dict.fromkeys(r.code for r in reasons))
    return _bilingual(f"{kind}_{worst}", {"detail": first.message_ru}, codes=codes, detail=first.message)


def _qualified(cert: Certificate) -> Reason | None:
    identity = cert.identity
    missing_en, missing_ru = [], []
    if not identity.policy_classes:
        missing_en.append("no policy class КС1..КА1 (certificatePolicies)")
        missing_ru.append("нет класса средств ЭП КС1..КА1 (certificatePolicies)")
    if identity.issuer_sign_tool is None:
        missing_en.append("no issuerSignTool")
        missing_ru.append("нет расширения issuerSignTool")
    if not missing_en:
        return None
    return _bilingual("not_qualified", {"missing": "; ".join(missing_ru)}, missing="; ".join(missing_en))


def _same_origin(value: object, portal: str) -> bool:
    if not isinstance(value, str):
        return False
    try:
        return normalize_origin(value) == portal
    except SignAgentError:
        return False


def _person(cert: Certificate) -> str:
    identity = cert.identity
    return identity.full_name or identity.common_name or cert.subject.display


def _named(entry: egr.AuthorizedPerson | egr.EntrepreneurRecord, cert: Certificate) -> bool:
    """Whether the register's ``entry`` has the certificate owner's surname and given names (the register's
    rules: :func:`signagent.registration.egr.names_equal`)."""
    identity = cert.identity
    if not identity.surname or not identity.given_names:
        return False
    given = entry.name if not entry.patronymic else f"{entry.name} {entry.patronymic}"
    return egr.names_equal(entry.surname, identity.surname) and egr.names_equal(given, identity.given_names)


def _is(entry: egr.AuthorizedPerson, cert: Certificate) -> bool:
    """Whether the register's ``entry`` is the certificate's owner: name and personal ИНН
    (:func:`signagent.registration.egr.person_matches`)."""
    identity = cert.identity
    if not identity.surname or not identity.given_names:
        return False
    return egr.person_matches(entry, surname=identity.surname, given_names=identity.given_names,
                              inn=identity.personal_inn)


class _Check:
    """One verification's state: the reasons found so far."""

    def __init__(self) -> None:
        self.reasons: list[Reason] = []
        self.register: Any = None  # the register record matched

    def add(self, code: str, **details: object) -> None:
        self.reasons.append(reason(code, **details))

    def extend(self, found: Reason | None) -> None:
        if found is not None:
            self.reasons.append(found)

    # -- who signs ------------------------------------------------------------------------------------------

    def head(self, request: Any, cert: Certificate, registry: egr.Registry) -> None:
        identity = cert.identity
        org = request.organisation
        if identity.ogrn != org.ogrn:
            self.add("ogrn_mismatch", certificate_value=identity.ogrn or "-", request_value=org.ogrn)
        if identity.organization_inn != org.inn:
            self.add("inn_le_mismatch", certificate_value=identity.organization_inn or "-", request_value=org.inn)
        record = registry.legal_entity(ogrn=org.ogrn)
        if record is None:
            other = registry.legal_entity(inn=org.inn)
            if other is None:
                self.add("organisation_not_in_register", ogrn=org.ogrn)
            else:
                self.register = other
                self.add("register_ogrn_mismatch", inn=org.inn, register_value=other.ogrn, request_value=org.ogrn)
            return
        self.register = record
        if record.inn != org.inn:
            self.add("register_inn_mismatch", register_value=record.inn, request_value=org.inn)
        name = record.short_name or record.full_name or org.ogrn
        matched = [p for p in record.heads if _is(p, cert)]
        person = _person(cert)
        if not matched:
            manager = record.managing_organisation
            if manager is not None:
                self.add("managed_by_organisation", organisation=name, manager=manager.full_name)
            elif any(p.inn is None and _named(p, cert) for p in record.heads):
                self.add("head_inn_missing", person=person)
            else:
                self.add("not_authorized_head", person=person, organisation=name)
            return
        if all(p.disqualified for p in matched):
            self.add("head_disqualified", person=person)
        elif all(p.disputed or p.disqualified for p in matched):
            self.add("head_disputed", person=person)

    def entrepreneur(self, request: Any, cert: Certificate, registry: egr.Registry) -> None:
        identity = cert.identity
        ip = request.entrepreneur
        if identity.ogrnip != ip.ogrnip:
            self.add("ogrnip_mismatch", certificate_value=identity.ogrnip or "-", request_value=ip.ogrnip)
        if identity.personal_inn != ip.inn:
            self.add("inn_mismatch", certificate_value=identity.personal_inn or "-", request_value=ip.inn)
        record = registry.entrepreneur(ogrnip=ip.ogrnip)
        if record is None:
            self.add("entrepreneur_not_in_register", ogrnip=ip.ogrnip)
            return
        self.register = record
        if record.inn != ip.inn:
            self.add("register_inn_mismatch", register_value=record.inn, request_value=ip.inn)
        if not _named(record, cert):
            shown = " ".join(p for p in (record.surname, record.name, record.patronymic) if p)
            self.add("entrepreneur_name_mismatch", register_value=shown or "-", certificate_value=_person(cert))

    def employee(self, request: Any, cert: Certificate, organisations: OrganisationDirectory | None) -> None:
        identity = cert.identity
        org = request.organisation
        ogrn, inn = getattr(org, "ogrn", None), getattr(org, "inn", None)
        if organisations is None or not organisations.exists(ogrn=ogrn, inn=inn):
            self.add("organisation_unknown", ogrn=ogrn or "-", inn=inn or "-")
        if ogrn is not None and len(ogrn) == 15 and identity.ogrnip != ogrn:  # an entrepreneur's employee
            self.add("ogrnip_mismatch", certificate_value=identity.ogrnip or "-", request_value=ogrn)
        elif ogrn is not None and len(ogrn) != 15 and identity.ogrn != ogrn:
            self.add("ogrn_mismatch", certificate_value=identity.ogrn or "-", request_value=ogrn)
        if inn is not None and identity.organization_inn != inn:
            self.add("inn_le_mismatch", certificate_value=identity.organization_inn or "-", request_value=inn)


def _nonce_reason(answer: str) -> str | None:
    return None if answer == "ok" else f"nonce_{answer}"


def _request_problems(error: Exception) -> tuple[list[Reason], tuple[dict[str, Any], ...]]:
    problems = tuple(getattr(error, "problems", ()) or ())
    shown = tuple(_problem_dict(p) for p in problems)
    reasons: list[Reason] = []
    if any(p.get("code") == "not_canonical" for p in shown):
        reasons.append(reason("not_canonical"))
    others = [p for p in shown if p.get("code") != "not_canonical"]
    if others or not reasons:
        fields = ", ".join(dict.fromkeys(str(p.get("path") or "-") for p in others)) or "-"
        reasons.append(reason("request_invalid", fields=fields))
    return reasons, shown


def _problem_dict(problem: Any) -> dict[str, Any]:
    to_dict = getattr(problem, "to_dict", None)
    if callable(to_dict):
        return to_dict()  # type: ignore[no-any-return]
    dump = getattr(problem, "model_dump", None)
    if callable(dump):
        return dump(mode="json")  # type: ignore[no-any-return]
    from dataclasses import asdict, is_dataclass

    if is_dataclass(problem):
        return asdict(problem)  # type: ignore[arg-type]
    return {"code": "invalid", "message": str(problem)}


def verify_registration(signed: bytes, *, origin: str, nonce_store: NonceStore, registry: egr.Registry,
                        trust_roots: Iterable[Any], intermediates: Iterable[Any] = (), crls: Iterable[Any] = (),
                        at: datetime | None = None, offline: bool = False, revocation: Revocation = "hard",
                        fetcher: Any = None, organisations: OrganisationDirectory | None = None,
                        cache_dir: str | None = None) -> RegistrationReport:
    """Verify a signed registration request for the portal at ``origin``; a :class:`RegistrationReport`.

    ``signed``: the CMS (DER, PEM or base64) the agent returned. ``nonce_store``: where the portal issued the
    request's nonce (purpose ``registration``). ``registry``: the ЕГРЮЛ/ЕГРИП access. ``trust_roots``,
    ``intermediates``, ``crls``: certificates and CRLs (objects or encodings) for the chain check, made at
    ``at`` (default now) with ``revocation`` (default hard), without the network when ``offline``; ``fetcher``
    and ``cache_dir`` as :func:`signagent.trust.validation.validate` takes them. ``organisations``: the
    portal's registered organisations (employee requests; without it, every employee request is
    ``organisation_unknown``). Raises OriginInvalidError for a malformed ``origin`` (the portal's own
    configuration); everything about ``signed`` is a reason in the report.
    """
    portal = normalize_origin(origin)
    now = _now(at)
    roots, more, revocation_lists = list(trust_roots), list(intermediates), list(crls)

    def done(check: _Check, **parts: Any) -> RegistrationReport:
        return RegistrationReport(status=status_of(check.reasons), reasons=tuple(check.reasons), origin=portal,
                                  checked_at=now, register=check.register, **parts)

    check = _Check()
    if not isinstance(signed, bytes | bytearray | memoryview) or len(signed) > MAX_SIGNED_REQUEST:
        check.add("signature_malformed", detail=f"not bytes of at most {MAX_SIGNED_REQUEST} bytes")
        return done(check)
    try:
        parsed = load_signed_data(bytes(signed))
    except SignAgentError as exc:
        check.extend(_bilingual("signature_malformed", {"detail": exc.message_ru}, detail=exc.message))
        return done(check)
    if parsed.content is None:
        check.add("signature_detached")
        return done(check)
    if len(parsed.signers) != 1:
        check.add("signer_count", count=len(parsed.signers))
        return done(check)

    validator = _chain_validator(roots, more, revocation_lists, offline=offline, revocation=revocation,
                                 fetcher=fetcher, cache_dir=cache_dir)
    cms_report = verify_cms(parsed, validate_chain=validator, at=now)
    signer = cms_report.signers[0]
    cert = signer.certificate
    signature_reasons = [r for r in signer.reasons if r.scope != "chain"]
    chain_reasons = [r for r in signer.reasons if r.scope == "chain"]
    parts: dict[str, Any] = {"certificate": cert, "chain": signer.chain, "signed_origin": signer.origin,
                             "warnings": tuple(signer.warnings)}
    if signature_reasons or cert is None:
        check.extend(_summarise("signature", signature_reasons))
        return done(check, **parts)

    if signer.origin is None:
        check.add("origin_missing")
    elif not _same_origin(signer.origin, portal):
        check.add("origin_mismatch", got=signer.origin[:200], expected=portal)
    bound = not check.reasons
    check.extend(_summarise("chain", chain_reasons))
    check.extend(_qualified(cert))

    try:
        request = parse_request(parsed.content, require_canonical=True)
    except RegistrationRequestError as exc:
        found, problems = _request_problems(exc)
        check.reasons.extend(found)
        return done(check, problems=problems, **parts)
    if not _same_origin(request.origin, portal):
        check.add("request_origin_mismatch", got=str(request.origin)[:200], expected=portal)
        bound = False

    kind = request.type
    if kind == "head-registration":
        check.head(request, cert, registry)
    elif kind == "entrepreneur-registration":
        check.entrepreneur(request, cert, registry)
    elif kind == "employee-registration":
        check.employee(request, cert, organisations)

    answer: str | None = None
    if bound and status_of(check.reasons) != "indeterminate":
        answer = nonce_store.consume(request.nonce, portal, purpose="registration")
        code = _nonce_reason(answer)
        if code:
            check.add(code)
    return done(check, request=request, nonce=answer, **parts)


def _challenge(nonce: str) -> bytes | None:
    try:
        raw = bytes.fromhex(nonce) if isinstance(nonce, str) else b""
    except ValueError:
        return None
    return raw if len(raw) == 32 else None


def verify_login(proof: dict[str, Any], *, origin: str, challenge_nonce: str, nonce_store: NonceStore,
                 trust_roots: Iterable[Any], intermediates: Iterable[Any] = (), crls: Iterable[Any] = (),
                 at: datetime | None = None, offline: bool = False, revocation: Revocation = "hard",
                 fetcher: Any = None, cache_dir: str | None = None) -> LoginReport:
    """Verify an authentication proof (the result of ``/v1/authenticate``) presented to log in at ``origin``.

    ``challenge_nonce``: the nonce (64 hex digits) the portal issued with purpose ``login`` and gave the page as
    the challenge (its 32 bytes are what the agent signs). The rest as :func:`verify_registration`.
    """
    portal = normalize_origin(origin)
    now = _now(at)
    check = _Check()

    def done(**parts: Any) -> LoginReport:
        return LoginReport(status=status_of(check.reasons), reasons=tuple(check.reasons), origin=portal,
                           checked_at=now, **parts)

    challenge = _challenge(challenge_nonce)
    if challenge is None:
        check.add("nonce_unknown")
        return done()
    try:
        cert = verify_proof(proof, origin=portal, challenge=challenge)
    except ProofError as exc:
        situation = exc.details.get("situation")
        if situation == "origin":
            check.add("origin_mismatch", got=str(exc.details.get("got")), expected=portal)
        elif situation == "challenge":
            check.add("challenge_mismatch")
        else:
            _add_bilingual(check, "proof_invalid", exc)
        return done()
    except SignAgentError as exc:  # a certificate that is not DER, a key of no known curve
        _add_bilingual(check, "proof_invalid", exc)
        return done()
    except (binascii.Error, ValueError, TypeError) as exc:
        check.add("proof_invalid", detail=type(exc).__name__)
        return done()
    validator = _chain_validator(list(trust_roots), list(intermediates), list(crls), offline=offline,
                                 revocation=revocation, fetcher=fetcher, cache_dir=cache_dir)
    chain = validator(cert, [], now)
    check.extend(_summarise("chain", list(chain.reasons)))
    answer: str | None = None
    if status_of(check.reasons) != "indeterminate":
        answer = nonce_store.consume(challenge_nonce, portal, purpose="login")
        code = _nonce_reason(answer)
        if code:
            check.add(code)
    return done(certificate=cert, chain=chain, nonce=answer)


def _add_bilingual(check: _Check, code: str, exc: SignAgentError) -> None:
    check.extend(_bilingual(code, {"detail": exc.message_ru}, detail=exc.message))

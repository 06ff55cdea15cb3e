"""What the portal asks of :mod:`signagent.registration`, in one place: the ЕГРЮЛ/ЕГРИП lookup, nonces, the
registration request built from the wizard's draft, and the two verifications (login proof, signed request).

Everything the portal knows about the library's names is here, so that the pages and routes speak only in the
portal's own terms (:class:`Outcome`, :class:`Identity`, plain dictionaries).

Exports: REQUEST_CONTENT_TYPE, Trust, Identity, Outcome, Reason, RequestInvalid, Verification.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from signagent.registration import canonical as _canonical
from signagent.registration import nonces as _nonces
from signagent.registration import problems as _problems
from signagent.registration import schema as _schema
from signagent.registration import verifier as _verifier

__all__ = ["REQUEST_CONTENT_TYPE", "Identity", "Outcome", "Reason", "RequestInvalid", "Trust", "Verification"]

REQUEST_CONTENT_TYPE: str = _schema.REQUEST_CONTENT_TYPE
NONCE_TTL = 900  # seconds a login challenge or a registration nonce stays usable
PURGE_EVERY = 200  # nonces issued between two purges of the long-expired ones


@dataclass(frozen=True)
class Trust:
    """What signatures are checked against: root, intermediate and CRL files' bytes; network use; revocation."""

    roots: Sequence[bytes] = ()
    intermediates: Sequence[bytes] = ()
    crls: Sequence[bytes] = ()
    offline: bool = False
    revocation: str = "hard"


@dataclass(frozen=True)
class Reason:
    code: str
    message: str
    message_ru: str

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message, "message_ru": self.message_ru}


@dataclass(frozen=True)
class Identity:
    """The certificate owner as the portal keys users: СНИЛС, else the personal ИНН."""

    full_name: str
    inn: str | None
    snils: str | None
    certificate_id: str | None

    @property
    def key(self) -> str:
        return f"snils:{self.snils}" if self.snils else f"inn:{self.inn}"


@dataclass
class Outcome:
    """A verification's result in the portal's terms."""

    valid: bool
    reasons: list[Reason] = field(default_factory=list)
    request: dict[str, Any] | None = None  # the verified request (JSON form)
    identity: Identity | None = None


def _reasons(report: Any) -> list[Reason]:
    out = []
    for reason in getattr(report, "reasons", ()) or ():
        get = reason.get if isinstance(reason, dict) else (lambda n, r=reason: getattr(r, n, None))
        code = str(get("code") or "invalid")
        message = str(get("message") or code)
        out.append(Reason(code, message, str(get("message_ru") or message)))
    return out


def _identity(signer: dict[str, Any] | None) -> Identity | None:
    """An :class:`Identity` from the report's signer summary (``report.signer``: certificate_id, owner_name and
    the qualified identity: personal_inn, snils, surname, given_names)."""
    if not signer:
        return None
    identity = signer.get("identity") or {}
    snils, inn = identity.get("snils"), identity.get("personal_inn")
    if not (snils or inn):
        return None
    name = signer.get("owner_name") or identity.get("full_name") or " ".join(
        str(identity[k]) for k in ("surname", "given_names") if identity.get(k)) or str(inn or snils)
    return Identity(str(name), inn, snils, signer.get("certificate_id"))


class Verification:
    """The portal's verifier, registry and nonce store, for the portal's ``origin``."""

    def __init__(self, *, origin: str, engine: Any, trust: Trust, registry: Any | None,
                 organisations: Callable[[], Any]) -> None:
        self.origin, self.trust, self.registry = origin, trust, registry
        self.nonces = _nonces.SqlNonceStore(engine)
        self._organisations = organisations
        self._issued = 0

    # --- nonces -----------------------------------------------------------------------------------------------

    def _issue(self, purpose: str) -> str:
        self._issued += 1
        if self._issued % PURGE_EVERY == 0:  # anyone may ask for a login challenge: old ones must not pile up
            self.nonces.purge()
        return self.nonces.issue(self.origin, ttl=NONCE_TTL, purpose=purpose)

    def login_challenge(self) -> str:
        """A fresh login challenge as the JS client takes it: base64 of the nonce's 32 bytes (the verifier gets the
        nonce back as the hex of the proof's challenge)."""
        nonce = self._issue("login")
        return base64.b64encode(bytes.fromhex(nonce)).decode("ascii")

    def registration_nonce(self) -> str:
        return self._issue("registration")

    # --- registry ---------------------------------------------------------------------------------------------

    def lookup(self, query: str) -> dict[str, Any] | None:
        """Public data of the legal entity (ОГРН 13 digits, ИНН 10) or entrepreneur (ОГРНИП 15, ИНН 12)."""
        if self.registry is None:
            return None
        digits = query.strip()
        if not digits.isdigit():
            return None
        if len(digits) in (13, 10):
            found = self.registry.legal_entity(**({"ogrn": digits} if len(digits) == 13 else {"inn": digits}))
            return None if found is None else _record("legal", found)
        if len(digits) in (15, 12):
            found = self.registry.entrepreneur(**({"ogrnip": digits} if len(digits) == 15 else {"inn": digits}))
            return None if found is None else _record("entrepreneur", found)
        return None

    # --- requests ---------------------------------------------------------------------------------------------

    def build_request(self, document: dict[str, Any]) -> tuple[str, Any]:
        """The canonical text of the request ``document`` (its own nonce, origin and time added) and the model;
        :class:`RequestInvalid` with field errors when the schema refuses it."""
        document = {**document, "nonce": self.registration_nonce(), "origin": self.origin,
                    "requested_at": datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")}
        model = _parse(document)
        return _canonical.canonical_json(model).decode("utf-8"), model

    def verify_login(self, proof: dict[str, Any]) -> Outcome:
        try:
            nonce = base64.b64decode(str(proof.get("challenge", "")), validate=True).hex()
        except (binascii.Error, ValueError):
            return Outcome(False, [Reason("proof_malformed", "The proof is malformed", "Доказательство повреждено")])
        report = _verifier.verify_login(proof, origin=self.origin, challenge_nonce=nonce, nonce_store=self.nonces,
                                        **self._trust_options())
        valid = report.status == "valid"
        return Outcome(valid, _reasons(report), identity=_identity(report.signer) if valid else None)

    def verify_registration(self, cms: bytes) -> Outcome:
        report = _verifier.verify_registration(cms, origin=self.origin, nonce_store=self.nonces,
                                               registry=self.registry, organisations=self._organisations(),
                                               **self._trust_options())
        document = report.to_dict()
        return Outcome(report.status == "valid", _reasons(report), request=document["request"],
                       identity=_identity(document["signer"]))

    def _trust_options(self) -> dict[str, Any]:
        t = self.trust
        return {"trust_roots": list(t.roots), "intermediates": list(t.intermediates), "crls": list(t.crls),
                "offline": t.offline, "revocation": t.revocation}


class RequestInvalid(ValueError):
    """The wizard's draft does not make a valid request: ``errors`` are ``{field, message, message_ru}``."""

    def __init__(self, errors: list[dict[str, str]]) -> None:
        super().__init__("; ".join(e["message"] for e in errors))
        self.errors = errors


def _parse(document: dict[str, Any]) -> Any:
    try:
        return _schema.validate_request(document)
    except _problems.RegistrationRequestError as err:
        raise RequestInvalid([{"field": p.path, "code": p.code, "message": p.message, "message_ru": p.message_ru}
                              for p in err.problems]) from None


def _record(kind: str, record: Any) -> dict[str, Any]:
    """A register record (:class:`~signagent.registration.egr.LegalEntityRecord` or ``EntrepreneurRecord``) as
    the wizard fills its fields from it."""
    if kind == "entrepreneur":
        full = " ".join(p for p in (record.surname, record.name, record.patronymic) if p)
        return {"kind": kind, "ogrnip": record.ogrnip, "inn": record.inn, "full_name": f"ИП {full}",
                "surname": record.surname, "name": record.name, "patronymic": record.patronymic, "heads": []}
    heads = [{"surname": h.surname, "name": h.name, "patronymic": h.patronymic, "inn": h.inn,
              "position": h.position} for h in record.heads]
    return {"kind": kind, "ogrn": record.ogrn, "inn": record.inn, "kpp": record.kpp, "full_name": record.full_name,
            "short_name": record.short_name, "address": record.address, "heads": heads}

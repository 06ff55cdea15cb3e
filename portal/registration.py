"""The portal's side of a registration: the request document built from the wizard's draft (before the nonce,
origin and time :meth:`portal.verification.Verification.build_request` adds), the directory of registered
organisations the verifier asks about employees, and what a verified request changes in the portal.

Exports: Directory, build_organisation_request, build_employee_request, apply_registration, clean.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker

from .access import Viewer
from .models import ROLE_ADMIN, STATUS_PENDING, STATUS_REMOVED, Membership, Organisation, Subdivision, User
from .verification import Outcome

__all__ = ["Directory", "apply_registration", "build_employee_request", "build_organisation_request", "clean"]

FORMAT_VERSION = 1
_ORGANISATION_PARTS = {
    "head-registration": ("organisation", "head", "real_estate", "subdivisions", "beneficiaries"),
    "entrepreneur-registration": ("entrepreneur", "real_estate"),
}
_LISTS = {"real_estate", "subdivisions", "beneficiaries"}


class Directory:
    """The organisations registered in this portal (:class:`signagent.registration.verifier.OrganisationDirectory`)."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def exists(self, *, ogrn: str | None = None, inn: str | None = None) -> bool:
        if ogrn is None and inn is None:
            return False
        query = select(Organisation.id)
        if ogrn is not None:
            query = query.where(Organisation.ogrn == ogrn)
        if inn is not None:
            query = query.where(Organisation.inn == inn)
        with self._sessions() as s:
            return s.scalar(query.limit(1)) is not None


def clean(value: Any) -> Any:
    """The draft without what the format leaves absent: ``None``, empty texts and empty objects are dropped (an
    optional field is absent, never null); texts are stripped; lists stay (possibly empty)."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            item = clean(item)
            if item is None or item == "" or item == {}:
                continue
            out[str(key)] = item
        return out
    if isinstance(value, list):
        return [c for c in (clean(v) for v in value) if c not in (None, "", {})]
    if isinstance(value, str):
        return value.strip()
    return value


def _profile(user: User) -> dict[str, str]:
    values = {"email": user.email, "phone": user.phone, "position": user.position, "department": user.department}
    return {k: v for k, v in values.items() if v}


def build_organisation_request(kind: str, draft: dict[str, Any], user: User) -> dict[str, Any]:
    """A ``head-registration`` or ``entrepreneur-registration`` document from the wizard's ``draft`` and the
    signer's own profile (no nonce, origin or time yet)."""
    document: dict[str, Any] = {"version": FORMAT_VERSION, "type": kind}
    for part in _ORGANISATION_PARTS[kind]:
        value = clean(draft.get(part))
        document[part] = value if value is not None else ([] if part in _LISTS else {})
    document["profile"] = _profile(user)
    return document


def build_employee_request(draft: dict[str, Any], user: User) -> dict[str, Any]:
    """An ``employee-registration`` document: the organisation (ОГРН/ОГРНИП and ИНН) and the subdivision's name."""
    document: dict[str, Any] = {"version": FORMAT_VERSION, "type": "employee-registration",
                                "organisation": clean(draft.get("organisation")) or {}, "profile": _profile(user)}
    subdivision = clean(draft.get("subdivision"))
    if subdivision:
        document["subdivision"] = subdivision
    return document


def _error(code: str, message: str, message_ru: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "message_ru": message_ru}}


def _requisites(request: dict[str, Any]) -> dict[str, Any]:
    """The organisation's columns from a verified head or entrepreneur request."""
    if request["type"] == "entrepreneur-registration":
        e = request["entrepreneur"]
        full = " ".join(p for p in (e["surname"], e["name"], e.get("patronymic")) if p)
        return {"kind": "entrepreneur", "ogrn": e["ogrnip"], "inn": e["inn"], "kpp": None, "name": f"ИП {full}",
                "short_name": None, "email": e["email"], "phone": e["phone"]}
    o = request["organisation"]
    return {"kind": "legal", "ogrn": o["ogrn"], "inn": o["inn"], "kpp": o["kpp"], "name": o["full_name"],
            "short_name": o["short_name"], "email": o["email"], "phone": o["phone"]}


def _sync_subdivisions(s: Session, org: Organisation, wanted: list[dict[str, Any]]) -> None:
    """The organisation's subdivisions made those of the request (matched by name; others deleted)."""
    existing = {sub.name: sub for sub in org.subdivisions}
    keep = set()
    for index, item in enumerate(wanted):
        sub = existing.get(item["name"])
        if sub is None:
            sub = Subdivision(organisation=org, name=item["name"], key=str(index), kind=item["kind"])
            s.add(sub)
        sub.key, sub.kind, sub.kpp, sub.address = str(index), item["kind"], item.get("kpp"), item.get("address")
        keep.add(item["name"])
    for name, sub in existing.items():
        if name not in keep:
            s.delete(sub)


def _apply_profile(user: User, profile: dict[str, Any]) -> None:
    for name in ("email", "phone", "position", "department"):
        if profile.get(name):
            setattr(user, name, profile[name])


def apply_registration(s: Session, who: Viewer, outcome: Outcome, cms: bytes, now: datetime) -> dict[str, Any]:
    """Make a verified request take effect for the logged-in ``who``: register or update the organisation (the
    signer becomes or stays «Администратор организации»), or file the employee's request to join. The answer is
    ``{type, organisation_id, membership_status}`` or ``{"error": {...}}`` when the portal refuses it."""
    request = outcome.request or {}
    user = who.user
    assert user is not None
    if outcome.identity is None or outcome.identity.key != user.identity:
        return _error("signer_not_user", "The request was signed with another person's certificate than the one "
                      "you logged in with", "Заявление подписано сертификатом другого лица, а не того, кем вы вошли")
    kind = request.get("type")
    if kind == "employee-registration":
        return _join(s, who, request, cms, now)
    values = _requisites(request)
    org = s.scalar(select(Organisation).where(Organisation.ogrn == values["ogrn"]))
    mine = who.membership if who.membership is not None and who.membership.status != STATUS_REMOVED else None
    if org is None:
        if mine is not None:
            return _error("already_member", "You already belong to an organisation",
                          "Вы уже состоите в организации")
        org = Organisation(registered_by=user.id, registered_at=now, **values, request=request, signed_request=cms,
                           updated_at=now)
        s.add(org)
        s.flush()
        mine = Membership(user=user, organisation=org, roles=[ROLE_ADMIN], status="active", created_at=now)
        s.add(mine)
    elif mine is None or mine.organisation_id != org.id or ROLE_ADMIN not in who.roles:
        return _error("organisation_registered", "This organisation is already registered: ask its administrator "
                      "to add you", "Организация уже зарегистрирована: обратитесь к её администратору")
    else:
        for name, value in values.items():
            setattr(org, name, value)
        org.request, org.signed_request, org.updated_at = request, cms, now
    _sync_subdivisions(s, org, request.get("subdivisions", []))
    _apply_profile(user, request.get("profile", {}))
    s.flush()
    return {"type": kind, "organisation_id": org.id, "membership_status": mine.status}


def _join(s: Session, who: Viewer, request: dict[str, Any], cms: bytes, now: datetime) -> dict[str, Any]:
    wanted = request.get("organisation", {})
    conditions = [getattr(Organisation, k) == v for k, v in wanted.items() if k in ("ogrn", "inn")]
    org = s.scalar(select(Organisation).where(*conditions)) if conditions else None
    if org is None:
        return _error("organisation_unknown", "The organisation is not registered in this portal",
                      "Организация не зарегистрирована на этом портале")
    subdivision_id = None
    if request.get("subdivision"):
        sub = s.scalar(select(Subdivision).where(Subdivision.organisation_id == org.id,
                                                 Subdivision.name == request["subdivision"]))
        if sub is None:
            return _error("subdivision_unknown", "The organisation has no such subdivision",
                          "У организации нет такого подразделения")
        subdivision_id = sub.id
    user = who.user
    assert user is not None
    member = s.scalar(select(Membership).where(Membership.user_id == user.id, Membership.organisation_id == org.id))
    others = s.scalar(select(Membership).where(Membership.user_id == user.id, Membership.organisation_id != org.id,
                                               or_(Membership.status != STATUS_REMOVED)))
    if others is not None or (member is not None and member.status != STATUS_REMOVED):
        return _error("already_member", "You already belong to an organisation", "Вы уже состоите в организации")
    if member is None:
        member = Membership(user=user, organisation=org, created_at=now)
        s.add(member)
    member.roles, member.status, member.subdivision_id, member.signed_request = [], STATUS_PENDING, subdivision_id, cms
    _apply_profile(user, request.get("profile", {}))
    s.flush()
    return {"type": "employee-registration", "organisation_id": org.id, "membership_status": member.status}

"""The portal's web application: server-rendered pages (Jinja2, Russian first and English second, no inline
script: each page's script is a file of ``static/``) and the JSON actions those scripts call.

Every page and every action decides on the server who may do it (:mod:`portal.access`); a page's script only
talks to the agent (login proof, signatures, the certificate list) and posts what the agent gave to this backend.
State-changing requests must come from the portal's own pages: JSON bodies and an ``Origin`` equal to the
portal's own origin (a cross-site form cannot send either).

Exports: create_app.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from . import db
from .access import Denied, Viewer, require
from .models import (
    ROLE_ADMIN,
    ROLES,
    STATUS_ACTIVE,
    STATUS_PENDING,
    STATUS_REMOVED,
    Document,
    ExchangeProfile,
    Membership,
    Organisation,
    Subdivision,
    User,
)
from .registration import Directory, apply_registration, build_employee_request, build_organisation_request
from .sessions import COOKIE, SessionCodec, load_secret
from .settings import PortalSettings
from .verification import REQUEST_CONTENT_TYPE, Outcome, RequestInvalid, Verification

__all__ = ["create_app"]

_HERE = Path(__file__).parent
_STATIC = _HERE / "static"
_STATIC_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
MAX_BODY = 12 << 20  # a document upload as base64 in JSON (10 MiB of file)
MAX_DOCUMENT = 10 << 20


class ApiError(Exception):
    """An action refused: HTTP ``status`` with ``{"error": {code, message, message_ru}}``."""

    def __init__(self, status: int, code: str, message: str, message_ru: str, **extra: Any) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.message_ru, self.extra = status, code, message, message_ru, extra

    def response(self) -> JSONResponse:
        error = {"code": self.code, "message": self.message, "message_ru": self.message_ru}
        if "field" in self.extra:
            error["field"] = self.extra["field"]
        rest = {k: v for k, v in self.extra.items() if k != "field"}
        return JSONResponse({"error": error, **rest}, status_code=self.status)


def _csp(agent_url: str) -> str:
    return (f"default-src 'self'; script-src 'self' {agent_url}; connect-src 'self' {agent_url}; "
            "style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; "
            "object-src 'none'")


def create_app(settings: PortalSettings) -> FastAPI:
    """The portal for ``settings``; the database is migrated to the newest revision before the app is returned."""
    engine = db.make_engine(settings.database_url or db.default_url(settings.data_dir))
    db.upgrade(engine)
    sessions = db.session_factory(engine)
    codec = SessionCodec(settings.secret or load_secret(settings.data_dir))
    origin = settings.origin.rstrip("/")
    own_host = urlsplit(origin).netloc.lower()

    def directory() -> Directory:
        return Directory(sessions)

    verification = Verification(origin=origin, engine=engine, trust=settings.trust, registry=settings.registry,
                                organisations=directory)
    templates = Environment(loader=FileSystemLoader(_HERE / "templates"), autoescape=select_autoescape(["html"]))
    headers = {"content-security-policy": _csp(settings.agent_url), "x-frame-options": "DENY",
               "x-content-type-options": "nosniff", "referrer-policy": "same-origin", "cache-control": "no-store"}

    app = FastAPI(title="signagent reference portal", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.engine, app.state.sessions, app.state.verification = engine, sessions, verification

    @app.middleware("http")
    async def guard(request: Request, call_next: Any) -> Response:
        host = request.headers.get("host", "").lower()
        if host != own_host:
            response: Response = JSONResponse({"error": {"code": "host_not_allowed", "message": "wrong Host",
                                                         "message_ru": "неверный Host"}}, status_code=421)
        elif request.method not in ("GET", "HEAD") and request.headers.get("origin", "").rstrip("/") != origin:
            response = ApiError(403, "origin_refused", "Actions are accepted from the portal's own pages only",
                                "Действия принимаются только со страниц самого портала").response()
        else:
            response = await call_next(request)
        for name, value in headers.items():
            response.headers.setdefault(name, value)
        return response

    @app.exception_handler(ApiError)
    async def api_error(_request: Request, exc: ApiError) -> JSONResponse:
        return exc.response()

    @app.exception_handler(Denied)
    async def denied(request: Request, exc: Denied) -> Response:
        if request.url.path.startswith("/api/"):
            status = 401 if exc.code == "login_required" else 403
            return ApiError(status, exc.code, exc.message, exc.message_ru).response()
        if exc.code == "login_required":
            return RedirectResponse("/", status_code=303)
        return HTMLResponse(render("denied.html", None, error=exc), status_code=403)

    # --- helpers ------------------------------------------------------------------------------------------------

    def viewer(request: Request, s: Session) -> Viewer:
        user_id = codec.load(request.cookies.get(COOKIE))
        user = s.get(User, user_id) if user_id is not None else None
        return Viewer.of(user)

    def render(name: str, who: Viewer | None, **values: Any) -> str:
        return templates.get_template(name).render(
            viewer=who, roles=ROLES, agent_port=settings.agent_port, agent_url=settings.agent_url,
            client_url=f"{settings.agent_url}/signagent.js", demo_pin=settings.demo_pin,
            content_type=REQUEST_CONTENT_TYPE, **values)

    def page(name: str, who: Viewer | None, **values: Any) -> HTMLResponse:
        return HTMLResponse(render(name, who, **values))

    async def body(request: Request) -> dict[str, Any]:
        if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
            raise ApiError(415, "json_required", "Send JSON", "Ожидается JSON")
        raw = b""
        async for chunk in request.stream():
            raw += chunk
            if len(raw) > MAX_BODY:
                raise ApiError(413, "too_large", "The request is too large", "Запрос слишком велик")
        try:
            value = json.loads(raw)
        except ValueError:
            raise ApiError(400, "json_invalid", "Malformed JSON", "Повреждённый JSON") from None
        if not isinstance(value, dict):
            raise ApiError(400, "json_invalid", "Expected a JSON object", "Ожидается объект JSON")
        return value

    def text(data: dict[str, Any], name: str, limit: int = 300, *, required: bool = False) -> str | None:
        value = data.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                raise ApiError(422, "field_required", f"{name} is required", f"поле {name} обязательно",
                               field=name)
            return None
        if not isinstance(value, str) or len(value) > limit:
            raise ApiError(422, "field_invalid", f"{name} is invalid", f"поле {name} заполнено неверно", field=name)
        return value.strip()

    def day(data: dict[str, Any], name: str, *, required: bool = False) -> date | None:
        value = text(data, name, 10, required=required)
        if value is None:
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise ApiError(422, "field_invalid", f"{name}: a date YYYY-MM-DD", f"{name}: дата ГГГГ-ММ-ДД",
                           field=name) from None

    def b64(data: dict[str, Any], name: str, limit: int) -> bytes:
        value = data.get(name)
        try:
            raw = base64.b64decode(value if isinstance(value, str) else "", validate=True)
        except (binascii.Error, ValueError):
            raise ApiError(422, "field_invalid", f"{name}: base64 expected", f"{name}: ожидается base64",
                           field=name) from None
        if not raw or len(raw) > limit:
            raise ApiError(422, "field_invalid", f"{name} is empty or too large", f"{name} пуст или слишком велик",
                           field=name)
        return raw

    def refused(outcome: Outcome) -> JSONResponse:
        return JSONResponse({"status": "invalid", "reasons": [r.as_dict() for r in outcome.reasons]},
                            status_code=422)

    def now() -> datetime:
        return datetime.now(UTC)

    # --- static files -------------------------------------------------------------------------------------------

    @app.get("/static/{name}", include_in_schema=False)
    def static(name: str) -> Response:
        path = _STATIC / name
        if "/" in name or name.startswith(".") or path.suffix not in _STATIC_TYPES or not path.is_file():
            return Response(status_code=404)
        return Response(path.read_bytes(), media_type=_STATIC_TYPES[path.suffix])

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        return Response(b"", media_type="image/x-icon")

    # --- login --------------------------------------------------------------------------------------------------

    @app.get("/", response_class=HTMLResponse)
    def home(request: Request) -> HTMLResponse:
        with sessions() as s:
            who = viewer(request, s)
            if who.user is None:
                return page("login.html", who)
            return page("home.html", who)

    @app.post("/api/login/challenge")
    def login_challenge() -> JSONResponse:
        return JSONResponse({"challenge": verification.login_challenge()})

    @app.post("/api/login")
    async def login(request: Request) -> Response:
        data = await body(request)
        proof = data.get("proof")
        if not isinstance(proof, dict):
            raise ApiError(422, "field_invalid", "proof is required", "нет доказательства входа", field="proof")
        outcome = await run_in_threadpool(verification.verify_login, proof)
        if not outcome.valid or outcome.identity is None:
            return refused(outcome)
        identity = outcome.identity
        with sessions.begin() as s:
            user = s.scalar(select(User).where(User.identity == identity.key))
            if user is None:
                user = User(identity=identity.key, full_name=identity.full_name, inn=identity.inn,
                            snils=identity.snils, created_at=now())
                s.add(user)
            user.full_name, user.certificate_id = identity.full_name, identity.certificate_id or user.certificate_id
            s.flush()
            user_id = user.id
        response = JSONResponse({"status": "valid", "user": {"id": user_id, "full_name": identity.full_name}})
        response.set_cookie(COOKIE, codec.dump(user_id), max_age=codec.max_age, httponly=True, samesite="lax",
                            secure=settings.secure_cookies, path="/")
        return response

    @app.post("/api/logout")
    def logout() -> Response:
        response = JSONResponse({"status": "ok"})
        response.delete_cookie(COOKIE, path="/")
        return response

    # --- my profile ---------------------------------------------------------------------------------------------

    @app.get("/profile", response_class=HTMLResponse)
    def profile_page(request: Request) -> HTMLResponse:
        with sessions() as s:
            who = require(viewer(request, s))
            return page("profile.html", who)

    @app.post("/api/profile")
    async def profile_save(request: Request) -> JSONResponse:
        data = await body(request)
        values = {"email": text(data, "email", 254), "phone": text(data, "phone", 40),
                  "position": text(data, "position", 200), "department": text(data, "department", 200)}
        if values["email"] and "@" not in values["email"]:
            raise ApiError(422, "field_invalid", "email is invalid", "неверный адрес электронной почты",
                           field="email")
        with sessions.begin() as s:
            who = require(viewer(request, s))
            for name, value in values.items():
                setattr(who.user, name, value)
        return JSONResponse({"status": "ok", "profile": values})

    # --- my organisation ----------------------------------------------------------------------------------------

    @app.get("/organisation", response_class=HTMLResponse)
    def organisation_page(request: Request) -> HTMLResponse:
        with sessions() as s:
            who = require(viewer(request, s))
            return page("organisation.html", who)

    @app.get("/organisation/wizard", response_class=HTMLResponse)
    def wizard_page(request: Request, edit: int = 0) -> HTMLResponse:
        with sessions() as s:
            who = require(viewer(request, s))
            if edit:
                require(who, ROLE_ADMIN)
                draft = who.organisation.request if who.organisation else None
            else:
                if who.membership is not None:
                    raise Denied("already_member", "You already belong to an organisation",
                                 "Вы уже состоите в организации")
                draft = None
            return page("wizard.html", who, draft=json.dumps(draft, ensure_ascii=False) if draft else "",
                        editing=bool(edit))

    @app.get("/api/registry")
    def registry_lookup(request: Request, query: str = "") -> JSONResponse:
        with sessions() as s:
            require(viewer(request, s))
        found = verification.lookup(query)
        if found is None:
            raise ApiError(404, "not_in_register", "Nothing found in ЕГРЮЛ/ЕГРИП for this ОГРН/ИНН",
                           "В ЕГРЮЛ/ЕГРИП не найдено записи с таким ОГРН/ИНН")
        return JSONResponse(found)

    @app.post("/api/registration/prepare")
    async def registration_prepare(request: Request) -> JSONResponse:
        data = await body(request)
        with sessions() as s:
            who = require(viewer(request, s))
            kind = data.get("type")
            draft = data.get("request")
            if not isinstance(draft, dict):
                raise ApiError(422, "field_invalid", "request is required", "нет данных заявления", field="request")
            if kind == "employee-registration":
                if who.membership is not None and who.membership.status != STATUS_REMOVED:
                    raise Denied("already_member", "You already belong to an organisation",
                                 "Вы уже состоите в организации")
                document = build_employee_request(draft, who.user)
            elif kind in ("head-registration", "entrepreneur-registration"):
                if who.membership is not None and who.membership.status != STATUS_REMOVED:
                    require(who, ROLE_ADMIN)  # editing: the administrator re-signs the organisation's profile
                document = build_organisation_request(kind, draft, who.user)
            else:
                raise ApiError(422, "field_invalid", "unknown request type", "неизвестный вид заявления",
                               field="type")
        try:
            canonical, _model = await run_in_threadpool(verification.build_request, document)
        except RequestInvalid as err:
            raise ApiError(422, "request_invalid", "The request has errors", "В заявлении есть ошибки",
                           errors=err.errors) from None
        return JSONResponse({"canonical": canonical, "content_type": REQUEST_CONTENT_TYPE,
                             "filename": "registration.json",
                             "description": "Регистрация в портале · Registration in the portal"})

    @app.post("/api/registration/submit")
    async def registration_submit(request: Request) -> JSONResponse:
        data = await body(request)
        cms = b64(data, "cms", 4 << 20)
        with sessions() as s:
            require(viewer(request, s))
        outcome = await run_in_threadpool(verification.verify_registration, cms)
        if not outcome.valid or outcome.request is None:
            return refused(outcome)
        with sessions.begin() as s:
            who = require(viewer(request, s))
            result = apply_registration(s, who, outcome, cms, now())
        if "error" in result:
            error = result["error"]
            raise ApiError(409, error["code"], error["message"], error["message_ru"])
        return JSONResponse({"status": "valid", **result})

    # --- documents ----------------------------------------------------------------------------------------------

    @app.get("/organisation/documents", response_class=HTMLResponse)
    def documents_page(request: Request) -> HTMLResponse:
        with sessions() as s:
            who = require(viewer(request, s), ROLE_ADMIN, "dmdk")
            documents = s.scalars(select(Document).where(Document.organisation_id == who.organisation.id)
                                  .order_by(Document.id)).all()
            attached = _attached(s, who.organisation.id)
            return page("documents.html", who, documents=documents, attached=attached, today=date.today())

    @app.get("/organisation/documents/{doc_id}/file")
    def document_file(request: Request, doc_id: int) -> Response:
        with sessions() as s:
            who = require(viewer(request, s), ROLE_ADMIN, "dmdk")
            document = s.get(Document, doc_id)
            if document is None or document.organisation_id != who.organisation.id:
                return Response(status_code=404)
            return Response(document.content, media_type="application/octet-stream",
                            headers={"content-disposition": f"attachment; filename=document-{document.id}"})

    @app.post("/api/documents")
    async def document_add(request: Request) -> JSONResponse:
        data = await body(request)
        values = {"doc_type": text(data, "doc_type", 200, required=True),
                  "number": text(data, "number", 100, required=True),
                  "issued_on": day(data, "issued_on", required=True), "expires_on": day(data, "expires_on"),
                  "filename": text(data, "filename", 255, required=True)}
        content = b64(data, "content", MAX_DOCUMENT)
        if values["expires_on"] and values["expires_on"] < values["issued_on"]:  # type: ignore[operator]
            raise ApiError(422, "field_invalid", "the expiry precedes the date", "срок действия раньше даты",
                           field="expires_on")
        with sessions.begin() as s:
            who = require(viewer(request, s), ROLE_ADMIN)
            document = Document(organisation_id=who.organisation.id, content=content, uploaded_by=who.user.id,
                                uploaded_at=now(), **values)
            s.add(document)
            s.flush()
            return JSONResponse({"status": "ok", "id": document.id}, status_code=201)

    @app.delete("/api/documents/{doc_id}")
    def document_delete(request: Request, doc_id: int) -> JSONResponse:
        with sessions.begin() as s:
            who = require(viewer(request, s), ROLE_ADMIN)
            document = s.get(Document, doc_id)
            if document is None or document.organisation_id != who.organisation.id:
                raise ApiError(404, "not_found", "No such document", "Документ не найден")
            if doc_id in _attached(s, who.organisation.id):
                raise ApiError(409, "document_attached", "The document is attached to an exchange profile and "
                               "cannot be deleted", "Документ прикреплён к профилю информационного обмена и не "
                               "может быть удалён")
            s.delete(document)
        return JSONResponse({"status": "ok"})

    # --- information-exchange profiles --------------------------------------------------------------------------

    @app.get("/organisation/exchange", response_class=HTMLResponse)
    def exchange_page(request: Request) -> HTMLResponse:
        with sessions() as s:
            who = require(viewer(request, s), ROLE_ADMIN)
            org = who.organisation
            profiles = s.scalars(select(ExchangeProfile).where(ExchangeProfile.organisation_id == org.id)
                                 .order_by(ExchangeProfile.id)).all()
            documents = s.scalars(select(Document).where(Document.organisation_id == org.id)).all()
            return page("exchange.html", who, profiles=profiles, documents=documents,
                        subdivisions=org.subdivisions)

    @app.post("/api/exchange-profiles")
    async def exchange_add(request: Request) -> JSONResponse:
        data = await body(request)
        values = {"system_name": text(data, "system_name", 300, required=True),
                  "system_code": text(data, "system_code", 100, required=True),
                  "certificate_id": text(data, "certificate_id", 128, required=True),
                  "certificate_owner": text(data, "certificate_owner", 300)}
        certificate = b64(data, "certificate", 64 << 10) if data.get("certificate") else None
        with sessions.begin() as s:
            who = require(viewer(request, s), ROLE_ADMIN)
            org = who.organisation
            subdivision_id = _own_id(s, Subdivision, data.get("subdivision_id"), org.id, "subdivision_id")
            document_id = _own_id(s, Document, data.get("document_id"), org.id, "document_id")
            profile = ExchangeProfile(organisation_id=org.id, subdivision_id=subdivision_id, document_id=document_id,
                                      certificate=certificate, created_at=now(), **values)
            s.add(profile)
            s.flush()
            return JSONResponse({"status": "ok", "id": profile.id}, status_code=201)

    @app.delete("/api/exchange-profiles/{profile_id}")
    def exchange_delete(request: Request, profile_id: int) -> JSONResponse:
        with sessions.begin() as s:
            who = require(viewer(request, s), ROLE_ADMIN)
            profile = s.get(ExchangeProfile, profile_id)
            if profile is None or profile.organisation_id != who.organisation.id:
                raise ApiError(404, "not_found", "No such profile", "Профиль не найден")
            s.delete(profile)
        return JSONResponse({"status": "ok"})

    # --- employees ----------------------------------------------------------------------------------------------

    @app.get("/organisation/join", response_class=HTMLResponse)
    def join_page(request: Request) -> HTMLResponse:
        with sessions() as s:
            who = require(viewer(request, s))
            if who.membership is not None and who.membership.status != STATUS_REMOVED:
                raise Denied("already_member", "You already belong to an organisation",
                             "Вы уже состоите в организации")
            organisations = s.scalars(select(Organisation).order_by(Organisation.name)).all()
            return page("join.html", who, organisations=organisations)

    @app.get("/organisation/employees", response_class=HTMLResponse)
    def employees_page(request: Request) -> HTMLResponse:
        with sessions() as s:
            who = require(viewer(request, s), ROLE_ADMIN)
            members = s.scalars(select(Membership).where(Membership.organisation_id == who.organisation.id)
                                .order_by(Membership.id)).all()
            return page("employees.html", who, members=members)

    @app.post("/api/employees/{membership_id}/roles")
    async def employee_roles(request: Request, membership_id: int) -> JSONResponse:
        data = await body(request)
        roles = data.get("roles")
        if not isinstance(roles, list) or any(r not in ROLES for r in roles):
            raise ApiError(422, "field_invalid", "roles: a list of " + ", ".join(ROLES),
                           "роли: список из " + ", ".join(ROLES), field="roles")
        with sessions.begin() as s:
            who = require(viewer(request, s), ROLE_ADMIN)
            member = s.get(Membership, membership_id)
            if member is None or member.organisation_id != who.organisation.id:
                raise ApiError(404, "not_found", "No such employee", "Сотрудник не найден")
            if member.id == who.membership.id and ROLE_ADMIN not in roles:
                raise ApiError(409, "last_admin", "You cannot take the administrator role from yourself",
                               "Нельзя снять роль администратора с самого себя")
            ordered = [r for r in ROLES if r in roles]
            member.roles = ordered
            if ordered:
                member.status = STATUS_ACTIVE
            elif member.status != STATUS_PENDING:
                member.status = STATUS_REMOVED
            return JSONResponse({"status": "ok", "roles": ordered, "member_status": member.status})

    # --- what roles open ----------------------------------------------------------------------------------------

    @app.get("/batches", response_class=HTMLResponse)
    def batches_page(request: Request) -> HTMLResponse:
        with sessions() as s:
            who = require(viewer(request, s), "batches")
            return page("section.html", who, section="batches", title="Операции с партиями",
                        title_en="Batch operations")

    @app.get("/applications", response_class=HTMLResponse)
    def applications_page(request: Request) -> HTMLResponse:
        with sessions() as s:
            who = require(viewer(request, s), "applications")
            return page("section.html", who, section="applications", title="Работа с заявлениями",
                        title_en="Applications")

    @app.get("/dmdk", response_class=HTMLResponse)
    def dmdk_page(request: Request) -> HTMLResponse:
        with sessions() as s:
            who = require(viewer(request, s), "dmdk")
            return page("section.html", who, section="dmdk", title="Участник ДМДК", title_en="DMDK participant")

    return app


def _attached(s: Session, organisation_id: int) -> set[int]:
    """Ids of the organisation's documents some exchange profile cites."""
    rows = s.scalars(select(ExchangeProfile.document_id).where(ExchangeProfile.organisation_id == organisation_id,
                                                               ExchangeProfile.document_id.is_not(None)))
    return {int(r) for r in rows}


def _own_id(s: Session, model: type, value: object, organisation_id: int, name: str) -> int | None:
    """``value`` as the id of a row of ``model`` belonging to the organisation (None when not given)."""
    if value in (None, ""):
        return None
    try:
        number = int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        raise ApiError(422, "field_invalid", f"{name} is invalid", f"поле {name} заполнено неверно",
                       field=name) from None
    row = s.get(model, number)
    if row is None or row.organisation_id != organisation_id:
        raise ApiError(422, "field_invalid", f"{name}: not of your organisation", f"{name}: не из вашей организации",
                       field=name)
    return number

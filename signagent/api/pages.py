"""The agent's own pages (server-rendered, Jinja2, no script at all): the pairing page, the confirmation page of
operations on a token, and their decisions.

DESIGN.md section 5: the user allows a site, and approves each signature, in a page served by the agent, never in
the site's page. A page shows the requesting origin and carries the request's one-time consent token in its form;
the decision is accepted only from the agent's own origin (``Origin`` is the agent's own, or, for a browser that
sends none, ``Sec-Fetch-Site: same-origin``) and only with that token. The PIN field exists only in the
confirmation page: the PIN goes from this form to the token and is dropped after the operation. The middleware
forbids framing (CSP ``frame-ancestors 'none'``, ``X-Frame-Options: DENY``), so no site can overlay or click the
buttons.

Exports: router.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import jinja2
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.responses import Response

from signagent.errors import SignAgentError
from signagent.service import web_operations as ops
from signagent.service.access import AgentOriginRequiredError, RequestInvalidError, RequestNotFoundError
from signagent.service.consent import ConsentRequest
from signagent.service.origins import is_extension_origin

from .callers import caller_of
from .context import AgentContext
from .routes_pairing import extension_key_of

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
_MAX_FORM = 4096  # a token, a PIN, a choice; anything bigger is not our form
_STATIC = Path(__file__).with_name("static")
_templates = jinja2.Environment(loader=jinja2.FileSystemLoader(Path(__file__).with_name("templates")),
                                autoescape=True, undefined=jinja2.StrictUndefined)
_KIND_TITLES = {
    "sign": ("Подписать документ?", "Sign a document?"),
    "sign_batch": ("Подписать документы?", "Sign these documents?"),
    "cosign": ("Добавить вашу подпись к документу?", "Add your signature to a signed document?"),
    "authenticate": ("Подтвердить владение сертификатом?", "Prove you hold this certificate?"),
    "keygen": ("Создать ключ на токене?", "Create a key on the token?"),
    "import": ("Записать сертификат на токен?", "Store a certificate on the token?"),
    "delete": ("Удалить сертификат с токена?", "Delete a certificate from the token?"),
}


def _context(request: Request) -> AgentContext:
    return request.app.state.agent  # type: ignore[no-any-return]


def _page(name: str, status_code: int = 200, **values: object) -> HTMLResponse:
    return HTMLResponse(_templates.get_template(name).render(**values), status_code=status_code)


@router.get("/agent.css")
def stylesheet() -> Response:
    """The pages' one stylesheet (a file, since the CSP allows no inline style)."""
    return Response((_STATIC / "agent.css").read_bytes(), media_type="text/css")


async def _form(request: Request, decisions: tuple[str, ...] = ("approve", "deny")) -> dict[str, str]:
    """The decision form of an agent page, posted by that page only."""
    caller = caller_of(request)
    # A form a site posts at us carries that site's Origin; the agent's page is same-origin. Sec-Fetch-Site is
    # set by the browser itself (a forbidden header name in the Fetch standard), a page cannot forge it.
    same_origin = caller.kind == "agent" or (
        caller.kind == "anonymous" and request.headers.get("sec-fetch-site") == "same-origin")
    if not same_origin:
        raise AgentOriginRequiredError()
    body = await request.body()
    if len(body) > _MAX_FORM:
        raise RequestInvalidError(detail="form too large")
    form = parse_qs(body.decode("utf-8", "replace"), max_num_fields=6, keep_blank_values=True)
    values = {k: v[0] for k, v in form.items() if v}
    if values.get("decision") not in decisions or not values.get("token"):
        raise RequestInvalidError(detail=f"token and decision ({' or '.join(decisions)}) are needed")
    return values


# -- home --

@router.get("/", response_class=HTMLResponse)
async def home(request: Request) -> HTMLResponse:
    """The agent's home: tokens and certificates (chain status, days left, warnings), paired sites with a revoke
    button each, the latest audit log entries."""
    from starlette.concurrency import run_in_threadpool

    from signagent.service.audit import iter_entries

    ctx = _context(request)
    inventory = await run_in_threadpool(ctx.inventory.inventory)
    entries = list(iter_entries(ctx.audit.path))[-30:] if ctx.audit is not None else []
    return _page("home.html", inventory=inventory, owner_of=ops.owner_of, pairings=ctx.pairings.list(),
                 audit=list(reversed(entries)), token=ctx.home_token, base_url=ctx.base_url)


@router.post("/pairings/revoke", response_class=HTMLResponse)
async def revoke_from_home(request: Request) -> Response:
    """The revoke button of the home page (``token``, ``origin``): unpairs the site, back to the home page."""
    import hmac

    from starlette.responses import RedirectResponse

    form = await _form(request, decisions=("revoke",))
    ctx = _context(request)
    if not hmac.compare_digest(form["token"].encode(), ctx.home_token.encode()):
        from signagent.service.access import ConsentTokenInvalidError

        raise ConsentTokenInvalidError()
    ctx.pairings.revoke(form.get("origin", ""))
    ctx.record("unpair", "revoked", origin=form.get("origin", "")[:200])
    return RedirectResponse("/", status_code=303)


# -- pairing --

@router.get("/pair/{request_id}", response_class=HTMLResponse)
def pair_page(request: Request, request_id: str) -> HTMLResponse:
    """The page where the user allows or refuses a site (only while the request is pending)."""
    pending = _context(request).requests.pending(request_id)
    if pending.kind != "pair":
        raise RequestNotFoundError()
    return _page("pair.html", origin=pending.origin, request_id=pending.request_id, token=pending.token,
                 extension=is_extension_origin(pending.origin))


@router.post("/pair/{request_id}", response_class=HTMLResponse)
async def pair_decision(request: Request, request_id: str) -> HTMLResponse:
    """The form of the pairing page: ``token`` and ``decision`` (approve or deny)."""
    form = await _form(request)
    ctx = _context(request)
    found, _ = ctx.requests.get(request_id)
    if found.kind != "pair":
        raise RequestNotFoundError()
    if form["decision"] == "deny":
        decided = ctx.requests.deny(request_id, form["token"])
    else:
        decided = ctx.requests.claim(request_id, form["token"])
        try:
            # persisted before the site can see "approved"
            ctx.pairings.add(decided.origin, extension_key=extension_key_of(decided))
        except SignAgentError as exc:
            ctx.requests.fail(decided, exc)
            raise
        ctx.requests.complete(decided)
    return _page("paired.html", origin=decided.origin, approved=form["decision"] == "approve")


# -- operations on a token --

def _previews(request: ConsentRequest) -> list[Any]:
    """The documents of a signing request as a person sees them (built once per request, then kept)."""
    job = request.payload
    if not isinstance(job, ops.SignJob):
        return []
    cached = request.extra.get("previews")
    if cached is None:
        from signagent.service.preview import build_preview

        pages = 10 if len(job.documents) == 1 else 3
        # d.digest_hex: the content's digest, computed once when the request started (the audit log's)
        cached = [build_preview(content=d.content, digest_hex=None if d.content is not None else d.digest_hex,
                                content_digest=d.digest_hex if d.content is not None else None,
                                content_type=d.content_type, filename=d.filename or None, max_pages=pages)
                  for d in job.documents]
        request.extra["previews"] = cached
        request.extra["registrations"] = [_registration(d) for d in job.documents]
    return cached  # type: ignore[no-any-return]


def _registration(doc: ops.Document) -> dict[str, Any] | None:
    """A registration request (DESIGN.md section 9) rendered for a person: ``{"rendering"}`` when it parses,
    ``{"problems"}`` when it does not (shown; the portal's verifier will refuse it anyway)."""
    from signagent.registration.canonical import parse_request
    from signagent.registration.problems import RegistrationRequestError
    from signagent.registration.rendering import render_request
    from signagent.registration.schema import REQUEST_CONTENT_TYPE

    if doc.content is None or doc.content_type.split(";")[0].strip().lower() != REQUEST_CONTENT_TYPE:
        return None
    try:
        return {"rendering": render_request(parse_request(doc.content, require_canonical=False))}
    except RegistrationRequestError as exc:
        return {"problems": exc.problems[:20]}


def _confirm_page(request: ConsentRequest, *, token: str, error: SignAgentError | None = None,
                  status_code: int = 200) -> HTMLResponse:
    job = request.payload
    title_ru, title_en = _KIND_TITLES.get(request.kind, ("Подтвердите действие", "Confirm"))
    documents = []
    if isinstance(job, ops.SignJob):
        previews = _previews(request)
        registrations = request.extra.get("registrations") or [None] * len(previews)
        for i, (doc, preview) in enumerate(zip(job.documents, previews, strict=True)):
            documents.append({"index": i, "doc": doc, "preview": preview, "registration": registrations[i]})
    certificate = getattr(job, "certificate", None)
    choices = job.choices if isinstance(job, ops.AuthJob) and job.certificate is None else ()
    return _page("confirm.html", status_code=status_code, request=request, kind=request.kind, job=job,
                 title_ru=title_ru, title_en=title_en, certificate=certificate, choices=choices,
                 documents=documents, token=token, error=error,
                 tries_left=getattr(error, "tries_left", None))


@router.get("/confirm/{request_id}", response_class=HTMLResponse)
def confirm_page(request: Request, request_id: str) -> HTMLResponse:
    """What a site asks for, for a person: who asks, which certificate, what exactly will be signed; the PIN field
    and the approve and deny buttons (data-testid ``pin``, ``approve``, ``deny``)."""
    pending = _context(request).requests.pending(request_id)
    if pending.kind == "pair":
        raise RequestNotFoundError()
    return _confirm_page(pending, token=pending.token)


@router.get("/confirm/{request_id}/page/{document}/{number}.png")
def preview_image(request: Request, request_id: str, document: int, number: int) -> Response:
    """Page ``number`` (1-based) of the PDF ``document`` (0-based) of a pending signing request, as a PNG."""
    pending = _context(request).requests.pending(request_id)
    previews = _previews(pending)
    if not 0 <= document < len(previews) or not 1 <= number <= len(previews[document].pages):
        raise RequestNotFoundError()
    return Response(previews[document].pages[number - 1], media_type="image/png")


def _finished_page(request: ConsentRequest, *, approved: bool, error: SignAgentError | None = None) -> HTMLResponse:
    return _page("confirmed.html", origin=request.origin, kind=request.kind, approved=approved, error=error,
                 status_code=200 if approved or error is None else 409 if error.code == "pin_locked" else 400)


@router.post("/confirm/{request_id}", response_class=HTMLResponse)
async def confirm_decision(request: Request, request_id: str) -> HTMLResponse:
    """The confirmation form: ``token``, ``decision`` (approve or deny), ``pin``, and for an authentication
    without a named certificate the chosen ``certificate_id``. A wrong PIN shows the page again (with the tries
    the token has left) until the request's limit; a locked token ends the request."""
    from starlette.concurrency import run_in_threadpool

    form = await _form(request)
    ctx = _context(request)
    found, _ = ctx.requests.get(request_id)
    if found.kind == "pair":
        raise RequestNotFoundError()
    if form["decision"] == "deny":
        denied = ctx.requests.deny(request_id, form["token"])
        return _finished_page(denied, approved=False)
    claimed = ctx.requests.claim(request_id, form["token"])
    chosen = None
    job = claimed.payload
    if isinstance(job, ops.AuthJob) and job.certificate is None:
        chosen = next((c for c in job.choices if c.cert_id == form.get("certificate_id")), None)
        if chosen is None:
            retry_token = ctx.requests.release(claimed)
            return _confirm_page(claimed, token=retry_token, status_code=400,
                                 error=RequestInvalidError(detail="choose a certificate"))
    pin = form.get("pin", "")
    form.pop("pin", None)
    try:
        result = await run_in_threadpool(ops.run, ctx.config, job, pin, chosen=chosen)
    except SignAgentError as exc:
        if exc.code == "pin_incorrect":  # the user may type it again, up to the request's limit
            retry_token = ctx.requests.retry(claimed)
            if retry_token is not None:
                return _confirm_page(claimed, token=retry_token, error=exc, status_code=400)
            assert claimed.error is not None
            return _finished_page(claimed, approved=False, error=claimed.error)
        ctx.requests.fail(claimed, exc)
        return _finished_page(claimed, approved=False, error=exc)
    except Exception:
        ctx.requests.fail(claimed, SignAgentError())  # a bug: the request must not stay "running" forever
        raise
    finally:
        del pin
    ctx.requests.complete(claimed, result)
    return _finished_page(claimed, approved=True)

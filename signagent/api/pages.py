"""The agent's own pages (server-rendered, Jinja2, no script at all): the pairing page and its decision.

DESIGN.md section 5: the user allows a site in a page served by the agent, never in the site's page. The page shows
the requesting origin and carries the request's one-time consent token in its form; the decision is accepted only
from the agent's own origin (``Origin`` is the agent's, or, for a browser that sends none, ``Sec-Fetch-Site:
same-origin``) and only with that token. The middleware forbids framing (CSP ``frame-ancestors 'none'``,
``X-Frame-Options: DENY``), so no site can overlay or click the buttons.

Exports: router.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs

import jinja2
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.responses import Response

from signagent.service.access import AgentOriginRequiredError, RequestInvalidError

from .callers import caller_of
from .context import AgentContext

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
_MAX_FORM = 4096  # a token and a word; anything bigger is not our form
_STATIC = Path(__file__).with_name("static")
_templates = jinja2.Environment(loader=jinja2.FileSystemLoader(Path(__file__).with_name("templates")),
                                autoescape=True, undefined=jinja2.StrictUndefined)


def _context(request: Request) -> AgentContext:
    return request.app.state.agent  # type: ignore[no-any-return]


def _page(name: str, **values: object) -> HTMLResponse:
    return HTMLResponse(_templates.get_template(name).render(**values))


@router.get("/agent.css")
def stylesheet() -> Response:
    """The pages' one stylesheet (a file, since the CSP allows no inline style)."""
    return Response((_STATIC / "agent.css").read_bytes(), media_type="text/css")


@router.get("/pair/{request_id}", response_class=HTMLResponse)
def pair_page(request: Request, request_id: str) -> HTMLResponse:
    """The page where the user allows or refuses a site (only while the request is pending)."""
    pending = _context(request).requests.pending(request_id)
    return _page("pair.html", origin=pending.origin, request_id=pending.request_id, token=pending.token)


@router.post("/pair/{request_id}", response_class=HTMLResponse)
async def pair_decision(request: Request, request_id: str) -> HTMLResponse:
    """The form of the pairing page: ``token`` and ``decision`` (approve or deny)."""
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
    form = parse_qs(body.decode("ascii", "replace"), max_num_fields=4)
    token, decision = form.get("token", [""])[0], form.get("decision", [""])[0]
    if decision not in ("approve", "deny") or not token:
        raise RequestInvalidError(detail="token and decision (approve or deny) are needed")
    decided = _context(request).requests.decide(request_id, token, approve=decision == "approve")
    return _page("paired.html", origin=decided.origin, approved=decision == "approve")

"""``GET /v1/info``: what a page needs to know before anything else -- is the agent there, which version, what it
can do, and whether the page's own origin is already paired.

Exports: router.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel

from signagent.service.agent_info import agent_info

from .callers import caller_of

__all__ = ["router"]

router = APIRouter()


class Info(BaseModel):
    """The agent's self-description."""

    version: str
    gost_backend: str
    capabilities: list[str]
    paired: bool


@router.get("/info", response_model=Info, summary="The agent's version, GOST backend and capabilities")
async def info(request: Request) -> Info:
    """``paired`` is true when the caller may use the protected endpoints: a paired site, the agent's own pages or
    a local program holding the secret."""
    # async: nothing here blocks, so it is answered on the event loop without a hop to the thread pool
    caller = caller_of(request)
    return Info(**agent_info(), paired=caller.paired or caller.trusted)  # type: ignore[arg-type]

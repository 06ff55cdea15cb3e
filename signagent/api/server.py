"""Serving the application: bind 127.0.0.1 only, run uvicorn until SIGINT/SIGTERM.

The socket is bound here, before uvicorn starts, so that a taken port is one clear error
(:class:`PortInUseError`) instead of uvicorn's log lines, and so that no other address can ever be bound: the
agent is for this computer's browser only (DESIGN.md section 5).

Exports: LOOPBACK, PortInUseError, ApiHostRefusedError, bind_loopback, make_server, run_server.
"""

from __future__ import annotations

import errno
import socket
from collections.abc import Callable
from typing import TYPE_CHECKING

from signagent.errors import SignAgentError, UsageError

if TYPE_CHECKING:
    import uvicorn
    from fastapi import FastAPI

__all__ = ["LOOPBACK", "ApiHostRefusedError", "PortInUseError", "bind_loopback", "make_server", "run_server"]

LOOPBACK = "127.0.0.1"


class PortInUseError(SignAgentError):
    """Another program (often another agent) already listens on the port."""

    code = "port_in_use"


class ApiHostRefusedError(UsageError):
    """The configuration asks to listen on an address other than 127.0.0.1."""

    code = "api_host_refused"


_GRACE = 3  # seconds open requests may still take once the agent is asked to stop


def bind_loopback(host: str, port: int) -> socket.socket:
    """A listening socket on 127.0.0.1:``port``; refuses any other host."""
    if host != LOOPBACK:
        raise ApiHostRefusedError(host=host)
    # IPPROTO_TCP named explicitly: asyncio sets TCP_NODELAY on accepted connections only when the listening
    # socket says it is TCP (proto != 0); without it every answer waits ~40 ms for a delayed acknowledgement.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        # SO_REUSEADDR lets a restarted agent bind while old connections linger in TIME_WAIT; on Linux it does
        # not allow two listeners on one port, so a running agent is still detected.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((LOOPBACK, port))
        sock.listen(128)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise PortInUseError(host=LOOPBACK, port=port) from None
        raise
    sock.set_inheritable(True)
    return sock


def make_server(app: FastAPI) -> uvicorn.Server:
    """A uvicorn server for ``app``: no logging configuration of its own (the command line sets it), no access log
    (:mod:`.request_log` writes one line per request), no ``Server`` header."""
    import uvicorn

    # A page's event stream or long poll would keep a stopping agent waiting: they get a few seconds, no more.
    return uvicorn.Server(uvicorn.Config(app, log_config=None, access_log=False, lifespan="off",
                                         server_header=False, timeout_graceful_shutdown=_GRACE))


def run_server(app: FastAPI, sock: socket.socket, *, on_started: Callable[[], None] | None = None) -> None:
    """Serve ``app`` on ``sock`` until stopped (uvicorn handles SIGINT/SIGTERM: it finishes open requests)."""
    server = make_server(app)
    if on_started is not None:
        original = server.startup

        async def startup(sockets: list[socket.socket] | None = None) -> None:
            await original(sockets=sockets)
            if server.started:
                on_started()

        server.startup = startup  # type: ignore[method-assign]
    original_shutdown = server.shutdown

    async def shutdown(sockets: list[socket.socket] | None = None) -> None:
        events = getattr(getattr(app.state, "agent", None), "events", None)
        if events is not None:
            events.close()  # the open event streams end now, instead of holding the stop for the grace period
        await original_shutdown(sockets=sockets)

    server.shutdown = shutdown  # type: ignore[method-assign]
    server.run(sockets=[sock])

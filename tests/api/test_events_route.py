"""``GET /v1/events`` and ``GET /v1/diagnostics`` through a real server: the agent's application (``create_app``:
the real security middleware and context) with the two routers mounted under ``/v1`` and an event bus of small
limits, served by uvicorn on 127.0.0.1 in a thread and read with httpx (the SSE stream as a real HTTP client reads
it).

Checked: the text/event-stream format, every event kind, origin filtering (a site sees its own request events and
never another's; trusted callers see all), heartbeats, the end of a stream when the client leaves, when the bus
closes and when the site's pairing is revoked, the per-site stream cap, and the two views of the diagnostics.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn

from signagent.api import routes_diagnostics, routes_events
from signagent.api.app import create_app
from signagent.api.context import AgentContext
from signagent.api.server import bind_loopback
from signagent.service.config import load_config
from signagent.service.events import REQUEST_STATUS, TOKEN_INSERTED, EventBus
from signagent.service.local_secret import SECRET_HEADER
from signagent.service.pairing import PairingStore

from .conftest import HANG_GUARD, _free_port

PORTAL, OTHER, STRANGER = "https://portal.test", "https://other.test", "https://stranger.test"


@dataclass
class Served:
    """A running test agent: its URL, context (with ``events``), and an httpx client."""

    url: str
    context: AgentContext
    bus: EventBus
    client: httpx.Client

    def local(self) -> dict[str, str]:
        return {SECRET_HEADER: self.context.secret}


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    port = _free_port()
    state = tmp_path / "state"
    pairings = PairingStore(state)
    pairings.add(PORTAL)
    pairings.add(OTHER)
    (tmp_path / "config.toml").write_text("")
    config = load_config({"api_port": port, "trust_dir": tmp_path / "trust"}, environ={}, path=tmp_path / "config.toml")
    # The agent's real application (security middleware, context), with this routers mounted on it.
    app = create_app(config, state_dir=state)
    app.include_router(routes_events.router, prefix="/v1")
    app.include_router(routes_diagnostics.router, prefix="/v1")
    context: AgentContext = app.state.agent
    bus = EventBus(max_per_owner=2)
    context.events = bus
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, access_log=False, lifespan="off",
                                           timeout_graceful_shutdown=1))
    sock = bind_loopback("127.0.0.1", port)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + HANG_GUARD
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert server.started
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=HANG_GUARD)
    try:
        yield Served(f"http://127.0.0.1:{port}", context, bus, client)
    finally:
        client.close()
        bus.close()
        server.should_exit = True
        thread.join(HANG_GUARD)
        assert not thread.is_alive(), "the server did not stop"


class Stream:
    """An open SSE response, read line by line into events (``comments`` keeps the comment lines)."""

    def __init__(self, served: Served, headers: dict[str, str]) -> None:
        self._cm = served.client.stream("GET", "/v1/events", headers=headers)
        self.response = self._cm.__enter__()
        self.raw: list[str] = []
        self._lines = self._recorded(self.response.iter_lines())
        self.comments: list[str] = []

    def _recorded(self, lines: Iterator[str]) -> Iterator[str]:
        for line in lines:
            self.raw.append(line)
            yield line

    def next(self) -> dict[str, object] | None:
        """The next event as {"id", "event", "data"}; None when the stream ended."""
        fields: dict[str, object] = {}
        for line in self._lines:
            if line == "":
                if "event" in fields:
                    return fields
                continue
            if line.startswith(":"):
                self.comments.append(line)
                continue
            name, _, value = line.partition(": ")
            fields[name] = json.loads(value) if name == "data" else int(value) if name == "id" else value
        return None

    def until(self, kind: str) -> list[dict[str, object]]:
        """Events up to and including the first of ``kind``."""
        seen = []
        while (event := self.next()) is not None:
            seen.append(event)
            if event["event"] == kind:
                return seen
        raise AssertionError(f"the stream ended before a {kind} event: {seen}")

    def wait_comment(self, text: str) -> None:
        for line in self._lines:
            if line.startswith(":"):
                self.comments.append(line)
                if text in line:
                    return
        raise AssertionError(f"the stream ended before {text!r}")

    def close(self) -> None:
        self._cm.__exit__(None, None, None)


def _open(served: Served, headers: dict[str, str]) -> Stream:
    stream = Stream(served, headers)
    assert stream.response.status_code == 200, stream.response.read()
    assert stream.response.headers["content-type"].startswith("text/event-stream")
    stream.wait_comment("connected")  # the subscription exists from here on
    return stream


def _wait(condition, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + HANG_GUARD
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.02)


def _request_event(bus: EventBus, origin: str, request_id: str) -> None:
    bus.publish(REQUEST_STATUS, {"request_id": request_id, "status": "approved", "kind": "sign", "origin": origin})


def test_events_in_sse_format_for_a_local_program(served: Served) -> None:
    stream = _open(served, served.local())
    try:
        token = {"kind": "pkcs11", "serial": "1A2B", "label": "Токен", "certificates": ["ab" * 32]}
        threading.Thread(target=served.bus.publish, args=(TOKEN_INSERTED, token)).start()  # from another thread
        event = stream.next()
        assert event == {"id": 1, "event": TOKEN_INSERTED, "data": token}
        assert stream.response.headers["cache-control"] == "no-store"
        assert stream.raw[:2] == ["retry: 3000", ": connected"]  # the browser's reconnection delay, first
        assert stream.raw[-4:] == ["id: 1", f"event: {TOKEN_INSERTED}",
                                   "data: " + json.dumps(token, ensure_ascii=False, separators=(",", ":")), ""]
    finally:
        stream.close()


def test_a_site_sees_only_its_own_request_events(served: Served) -> None:
    portal = _open(served, {"Origin": PORTAL})
    other = _open(served, {"Origin": OTHER})
    local = _open(served, served.local())
    try:
        assert portal.response.headers["access-control-allow-origin"] == PORTAL
        _request_event(served.bus, PORTAL, "portal-1")
        _request_event(served.bus, OTHER, "other-1")
        _request_event(served.bus, STRANGER, "stranger-1")
        served.bus.publish("internal-only", {"secret_looking": "x"})
        served.bus.publish(TOKEN_INSERTED, {"serial": "sentinel"})
        seen_portal, seen_other, seen_local = (s.until(TOKEN_INSERTED) for s in (portal, other, local))
        assert [e["data"]["request_id"] for e in seen_portal[:-1]] == ["portal-1"]  # type: ignore[index]
        assert [e["data"]["request_id"] for e in seen_other[:-1]] == ["other-1"]  # type: ignore[index]
        assert [e["event"] for e in seen_local] == [REQUEST_STATUS] * 3 + ["internal-only", TOKEN_INSERTED]
        assert seen_portal[-1]["data"] == seen_other[-1]["data"] == {"serial": "sentinel"}
        assert seen_portal[-1]["id"] == seen_local[-1]["id"] == 5  # one numbering for all
    finally:
        for s in (portal, other, local):
            s.close()


def test_who_may_open_a_stream(served: Served) -> None:
    refused = served.client.get("/v1/events", headers={"Origin": STRANGER})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "origin_not_paired"
    anonymous = served.client.get("/v1/events")
    assert anonymous.status_code == 401 and anonymous.json()["error"]["code"] == "local_secret_required"
    first, second = _open(served, {"Origin": PORTAL}), _open(served, {"Origin": PORTAL})
    try:
        third = served.client.get("/v1/events", headers={"Origin": PORTAL})  # max_per_owner=2
        assert third.status_code == 429 and third.json()["error"]["code"] == "rate_limited"
        local = _open(served, served.local())  # the agent's own callers are not held back by a site's streams
        local.close()
    finally:
        first.close()
        second.close()


def test_heartbeat_and_the_end_of_streams(served: Served, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(routes_events, "HEARTBEAT_SECONDS", 0.2)
    stream = _open(served, served.local())
    stream.wait_comment("heartbeat")
    # The client leaves: the server drops its subscription.
    stream.close()
    _wait(lambda: served.bus.subscriber_count == 0, "the subscription outlived its client")
    # The bus closes (the agent stopping): the stream ends.
    stream = _open(served, served.local())
    served.bus.close()
    assert stream.next() is None
    stream.close()
    # The user revokes the site's pairing: its stream ends at the next heartbeat, a local one goes on.
    site, local = _open(served, {"Origin": PORTAL}), _open(served, served.local())
    served.context.pairings.revoke(PORTAL)
    assert site.next() is None
    local.wait_comment("heartbeat")
    site.close()
    local.close()
    _wait(lambda: served.bus.subscriber_count == 0, "subscriptions left behind")


def test_a_slow_site_is_told_of_lost_events(served: Served) -> None:
    """A client that does not read: the socket fills, the server's stream waits, the subscription's buffer (3
    events here) drops the oldest; the client then reads an ``overflow`` event and the newest events."""
    served.bus.queue_size = 3
    stream = _open(served, {"Origin": PORTAL})
    pad = "x" * (64 << 10)
    count = 400  # 25 MB: far more than the loopback socket buffers hold
    try:
        for n in range(count):
            _request_event(served.bus, OTHER, f"not-for-portal-{n}")  # filtered before buffering: never counted
            served.bus.publish(TOKEN_INSERTED, {"n": n, "pad": pad})
        seen = []
        while not seen or seen[-1]["data"].get("n") != count - 1:  # type: ignore[union-attr]
            event = stream.next()
            assert event is not None
            seen.append(event)
        overflow = [e for e in seen if e["event"] == "overflow"]
        assert overflow and all(e["data"]["dropped"] > 0 for e in overflow)  # type: ignore[index]
        numbers = [e["data"]["n"] for e in seen if e["event"] == TOKEN_INSERTED]  # type: ignore[index]
        assert numbers == sorted(numbers) and len(numbers) < count
        dropped = sum(e["data"]["dropped"] for e in overflow)  # type: ignore[misc]
        assert len(numbers) + dropped == count  # every lost event counted, the other site's ones not at all
        assert all(e["event"] != REQUEST_STATUS for e in seen)
    finally:
        stream.close()


def test_diagnostics_views(served: Served) -> None:
    full = served.client.get("/v1/diagnostics", headers=served.local())
    assert full.status_code == 200, full.text
    report = full.json()
    assert {"agent", "pkcs11", "pcsc", "trust_store", "state", "running"} <= set(report)
    assert report["running"]["event_subscribers"] == 0 and report["state"]["paired_sites"] == 2
    assert served.context.secret not in full.text
    public = served.client.get("/v1/diagnostics", headers={"Origin": PORTAL})
    assert public.status_code == 200 and public.headers["access-control-allow-origin"] == PORTAL
    view = public.json()
    assert view["view"] == "public" and "state" not in view and "running" not in view
    assert str(served.context.state_dir) not in public.text
    refused = served.client.get("/v1/diagnostics", headers={"Origin": STRANGER})
    assert refused.status_code == 403

"""A real agent for the API tests: the application of ``create_app`` served by uvicorn on 127.0.0.1, in a thread
of the test process (so a test can move the clock pairing requests expire by), talked to with httpx.

Waits are bounded by a hang guard only; nothing here measures time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from signagent.api.app import create_app
from signagent.api.server import bind_loopback, make_server
from signagent.service.config import load_config
from signagent.service.local_secret import SECRET_FILE, SECRET_HEADER

HANG_GUARD = 30.0  # seconds: only ever reached when something is broken


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Agent:
    """A running agent: its base URL, port, state directory and an httpx client for it."""

    port: int
    state_dir: Path
    clock: FakeClock
    client: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        self.client = httpx.Client(base_url=self.url, timeout=HANG_GUARD)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def secret(self) -> str:
        return (self.state_dir / SECRET_FILE).read_text().strip()

    def local(self) -> dict[str, str]:
        """Headers of a local program: the secret, no Origin."""
        return {SECRET_HEADER: self.secret}


def _free_port() -> int:
    sock = bind_loopback("127.0.0.1", 0)
    port = sock.getsockname()[1]
    sock.close()
    return int(port)


class AgentRunner:
    """Starts agents (several, one after the other, to test restarts) and stops them all at the end."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self._running: list[tuple[object, threading.Thread, Agent]] = []

    def start(self, state_dir: Path | None = None, port: int | None = None, clock: FakeClock | None = None,
              options: dict[str, object] | None = None, trust_roots: tuple[object, ...] = (),
              intermediates: tuple[object, ...] = ()) -> Agent:
        """An agent on ``port`` (a free one by default); ``options`` are settings (``pkcs11_modules``, ``keys_dir``,
        ``trust_dir``...) over the defaults, ``trust_roots``/``intermediates`` added for the inventory's chains."""
        port = port or _free_port()
        state = state_dir or self.tmp_path / "state"
        clock = clock or FakeClock()
        config_file = self.tmp_path / "config.toml"
        config_file.write_text("")  # an empty file: defaults only, whatever the user running the tests has
        config = load_config({"api_port": port, **(options or {})}, environ={}, path=config_file)
        app = create_app(config, state_dir=state, clock=clock, trust_roots=trust_roots, intermediates=intermediates)
        sock = bind_loopback("127.0.0.1", port)
        server = make_server(app)
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        deadline = time.monotonic() + HANG_GUARD
        while not server.started and thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.01)  # started flips once the socket serves; a dead thread means start-up failed
        assert server.started, "the agent did not start"
        agent = Agent(port, state, clock)
        agent.app = app  # type: ignore[attr-defined]  -- tests reach the agent's context (watcher, requests)
        self._running.append((server, thread, agent))
        return agent

    def stop(self, agent: Agent) -> None:
        for entry in list(self._running):
            server, thread, running = entry
            if running is agent:
                agent.client.close()
                server.should_exit = True  # type: ignore[attr-defined]
                thread.join(HANG_GUARD)
                assert not thread.is_alive(), "the agent did not stop"
                self._running.remove(entry)

    def stop_all(self) -> None:
        for _, _, agent in list(self._running):
            self.stop(agent)


@pytest.fixture
def runner(tmp_path: Path) -> Iterator[AgentRunner]:
    r = AgentRunner(tmp_path)
    try:
        yield r
    finally:
        r.stop_all()


@pytest.fixture
def agent(runner: AgentRunner) -> Agent:
    return runner.start()

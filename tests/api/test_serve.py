"""``signagent serve`` as a user runs it: a real process on 127.0.0.1, one log line per request without secrets,
a clean stop on SIGINT and SIGTERM, one clear line and exit 2 for a taken port or a non-loopback host."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from signagent.service.local_secret import SECRET_FILE, SECRET_HEADER
from tests.serving import ServeProcess

from .conftest import HANG_GUARD, _free_port


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    config = tmp_path / "config.toml"
    config.write_text("")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIGNAGENT_")}
    return {**env, "SIGNAGENT_CONFIG": str(config), "LANG": "C.UTF-8", **extra}


def _command(port: int, state: Path) -> list[str]:
    return [sys.executable, "-m", "signagent", "serve", "--port", str(port), "--state-dir", str(state)]


class Serving(ServeProcess):
    """A running ``signagent serve`` on ``port`` with its own state directory."""

    def __init__(self, tmp_path: Path, port: int) -> None:
        self.port, self.state = port, tmp_path / "state"
        super().__init__(_command(port, self.state), _env(tmp_path))


@pytest.fixture
def serving(tmp_path: Path):
    running = Serving(tmp_path, _free_port())
    try:
        running.wait_for("listening on http://127.0.0.1:")
        yield running
    finally:
        running.kill()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_serve_answers_logs_and_stops_cleanly(serving: Serving, sig: int) -> None:
    secret = (serving.state / SECRET_FILE).read_text().strip()
    url = f"http://127.0.0.1:{serving.port}"
    with httpx.Client(base_url=url, timeout=HANG_GUARD) as client:
        info = client.get("/v1/info", headers={SECRET_HEADER: secret})
        assert info.status_code == 200 and info.json()["version"]
        assert client.get("/openapi.json").json()["paths"]["/v1/info"]
    line = serving.wait_for('"GET /v1/info" 200')
    assert secret not in line
    assert serving.stop(sig) == 0
    serving.wait_for("stopped")
    serving.wait_for("<eof>")
    assert not any("Traceback" in line for line in serving.seen), serving.seen


def test_taken_port_is_one_line_and_exit_2(serving: Serving, tmp_path: Path) -> None:
    second = subprocess.run(_command(serving.port, tmp_path / "other"), env=_env(tmp_path), capture_output=True,
                            text=True, timeout=HANG_GUARD)
    assert second.returncode == 2
    assert second.stderr.strip().splitlines() == [
        f"signagent: port {serving.port} on 127.0.0.1 is already in use (another agent running?)"]


def test_only_loopback_is_served(tmp_path: Path) -> None:
    refused = subprocess.run(_command(_free_port(), tmp_path / "state"), capture_output=True, text=True,
                             env=_env(tmp_path, SIGNAGENT_API_HOST="0.0.0.0"), timeout=HANG_GUARD)  # noqa: S104
    assert refused.returncode == 2
    assert refused.stderr.strip().splitlines() == ["signagent: the agent listens on 127.0.0.1 only, not on 0.0.0.0"]

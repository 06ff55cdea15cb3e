"""``signagent pairings list | revoke``: through the running agent (it owns the list), or on the file when no agent
runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from signagent.cli import main

from .conftest import _free_port
from .test_pairing import PORTAL, _pair


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "empty-config.toml"
    config.write_text("")
    monkeypatch.setenv("SIGNAGENT_CONFIG", str(config))
    monkeypatch.setenv("LANG", "C.UTF-8")
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LC_MESSAGES", raising=False)


def _cli(agent_port: int, state: Path, *args: str) -> list[str]:
    return ["pairings", "--port", str(agent_port), "--state-dir", str(state), *args]


def test_list_and_revoke_through_the_running_agent(agent, capsys) -> None:
    _pair(agent)
    assert main(_cli(agent.port, agent.state_dir, "list", "--json")) == 0
    assert [p["origin"] for p in json.loads(capsys.readouterr().out)] == [PORTAL]
    assert main(_cli(agent.port, agent.state_dir, "revoke", "HTTPS://Portal.test:443")) == 0
    assert capsys.readouterr().out.strip() == f"revoked: {PORTAL}"
    # the running agent itself forgot the site, not only the file
    assert agent.client.get("/v1/info", headers={"Origin": PORTAL}).json()["paired"] is False
    assert main(_cli(agent.port, agent.state_dir, "revoke", PORTAL)) == 2
    assert "not in the list of paired sites" in capsys.readouterr().err


def test_without_a_running_agent_the_file_is_used(runner, capsys) -> None:
    agent = runner.start()
    _pair(agent)
    runner.stop(agent)
    port = _free_port()  # nothing listens there
    assert main(_cli(port, agent.state_dir, "list")) == 0
    assert capsys.readouterr().out.startswith(f"{PORTAL}  ")
    assert main(_cli(port, agent.state_dir, "revoke", PORTAL)) == 0
    assert capsys.readouterr().out.strip() == f"revoked: {PORTAL}"
    assert main(_cli(port, agent.state_dir, "list", "--json")) == 0
    assert json.loads(capsys.readouterr().out) == []
    # the next agent starts with the list as revoked
    again = runner.start(state_dir=agent.state_dir)
    assert again.client.get("/v1/info", headers={"Origin": PORTAL}).json()["paired"] is False


def test_revoking_a_malformed_origin_is_a_usage_error(tmp_path, capsys) -> None:
    assert main(_cli(_free_port(), tmp_path / "state", "revoke", "portal.test")) == 2
    assert "is not a web origin" in capsys.readouterr().err

"""The security middleware through a real server (DESIGN.md section 5): Host, Origin, local secret, CORS."""

from __future__ import annotations

import os
import stat

from signagent.service.local_secret import SECRET_FILE, SECRET_HEADER

PORTAL = "https://portal.test"


def _error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) == {"code", "message", "message_ru", "retriable"}
    assert error["code"] == code and error["message"] and error["message_ru"] != error["message"]
    assert any("\u0400" <= ch <= "\u04ff" for ch in error["message_ru"])
    return error


def _no_cors(response) -> None:
    assert not any(name.lower().startswith("access-control-") for name in response.headers), response.headers


def test_foreign_host_is_refused_dns_rebinding(agent) -> None:
    for host in ("evil.test", f"evil.test:{agent.port}", f"127.0.0.1:{agent.port + 1}", "127.0.0.1"):
        response = agent.client.get("/v1/info", headers={"Host": host, "Origin": "http://evil.test"})
        _error(response, 421, "host_not_allowed")
        _no_cors(response)
    # the agent's own pages are refused too: the rebinding page must not read a consent token
    _error(agent.client.get("/pair/x", headers={"Host": "evil.test"}), 421, "host_not_allowed")


def test_own_host_names_are_accepted(agent) -> None:
    for host in (f"127.0.0.1:{agent.port}", f"localhost:{agent.port}", f"LOCALHOST:{agent.port}"):
        assert agent.client.get("/v1/info", headers={"Host": host, **agent.local()}).status_code == 200


def test_without_origin_the_local_secret_is_needed(agent) -> None:
    _error(agent.client.get("/v1/info"), 401, "local_secret_required")
    _error(agent.client.get("/v1/pairings", headers={SECRET_HEADER: "0" * 64}), 401, "local_secret_required")
    response = agent.client.get("/v1/pairings", headers=agent.local())
    assert response.status_code == 200 and response.json() == []
    _no_cors(response)


def test_unpaired_origin_is_refused_on_protected_endpoints_without_cors(agent) -> None:
    for method, path in (("GET", "/v1/pairings"), ("DELETE", f"/v1/pairings/{PORTAL}"), ("GET", "/v1/nothing")):
        response = agent.client.request(method, path, headers={"Origin": PORTAL})
        _error(response, 403, "origin_not_paired")
        _no_cors(response)


def test_open_endpoints_answer_an_unpaired_site_naming_only_it(agent) -> None:
    response = agent.client.get("/v1/info", headers={"Origin": PORTAL})
    assert response.status_code == 200 and response.json()["paired"] is False
    assert response.headers["access-control-allow-origin"] == PORTAL  # never "*"
    assert "origin" in response.headers["vary"].lower()


def test_preflight_from_unpaired_origin_is_refused_without_cors(agent) -> None:
    asked = {"Origin": PORTAL, "Access-Control-Request-Method": "DELETE"}
    response = agent.client.options(f"/v1/pairings/{PORTAL}", headers=asked)
    _error(response, 403, "origin_not_paired")
    _no_cors(response)
    # the open endpoint's preflight is granted, for its own method and the JSON content type only
    ok = agent.client.options("/v1/pair", headers={"Origin": PORTAL, "Access-Control-Request-Method": "POST",
                                                   "Access-Control-Request-Headers": "content-type"})
    assert ok.status_code == 204
    assert ok.headers["access-control-allow-origin"] == PORTAL
    assert ok.headers["access-control-allow-methods"] == "POST"
    sneaky = agent.client.options("/v1/pair", headers={"Origin": PORTAL, "Access-Control-Request-Method": "POST",
                                                       "Access-Control-Request-Headers": SECRET_HEADER})
    assert sneaky.status_code == 403
    _no_cors(sneaky)


def test_opaque_or_malformed_origin_is_refused(agent) -> None:
    for origin in ("null", "https://portal.test/path", "ftp://portal.test", "portal.test"):
        response = agent.client.get("/v1/info", headers={"Origin": origin})
        _error(response, 403, "origin_invalid")
        _no_cors(response)


def test_another_site_may_not_fetch_the_agents_pages(agent) -> None:
    _error(agent.client.get("/pair/whatever", headers={"Origin": PORTAL}), 403, "agent_origin_required")
    _error(agent.client.get("/openapi.json", headers={"Origin": PORTAL}), 403, "agent_origin_required")


def test_unknown_endpoint_is_the_error_document(agent) -> None:
    _error(agent.client.get("/v1/nothing", headers=agent.local()), 404, "endpoint_not_found")
    _error(agent.client.get("/v1/requests/x", params={"wait": "soon"}, headers=agent.local()), 422,
           "request_invalid")


def test_every_answer_forbids_framing(agent) -> None:
    for response in (agent.client.get("/v1/info", headers=agent.local()), agent.client.get("/v1/info")):
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        assert response.headers["x-frame-options"] == "DENY"


def test_local_secret_is_private_and_survives_a_restart(runner, tmp_path) -> None:
    first = runner.start()
    path = first.state_dir / SECRET_FILE
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    secret = first.secret
    assert len(secret) == 64 and int(secret, 16) >= 0
    runner.stop(first)
    second = runner.start(state_dir=first.state_dir)
    assert second.secret == secret
    assert second.client.get("/v1/info", headers={SECRET_HEADER: secret}).status_code == 200


def test_a_secret_others_could_read_is_replaced(runner, tmp_path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    (state / SECRET_FILE).write_text("a" * 64 + "\n")
    os.chmod(state / SECRET_FILE, 0o644)
    agent = runner.start(state_dir=state)
    assert agent.secret != "a" * 64
    assert stat.S_IMODE(os.stat(state / SECRET_FILE).st_mode) == 0o600

"""``GET /v1/info`` and the OpenAPI document."""

from __future__ import annotations

from signagent.gost import backend_name


def test_info_describes_the_agent(agent) -> None:
    body = agent.client.get("/v1/info", headers=agent.local()).json()
    assert body["version"] == "0.1.0" and body["gost_backend"] == backend_name()
    assert {"info", "pair"} <= set(body["capabilities"])
    assert body["paired"] is True  # a local program with the secret may use everything


def test_info_tells_an_unpaired_site_so(agent) -> None:
    assert agent.client.get("/v1/info", headers={"Origin": "https://portal.test"}).json()["paired"] is False


def test_openapi_lists_the_v1_endpoints(agent) -> None:
    doc = agent.client.get("/openapi.json").json()
    assert {"/v1/info", "/v1/pair", "/v1/requests/{request_id}", "/v1/pairings"} <= set(doc["paths"])
    assert not any(path.startswith("/pair/") for path in doc["paths"])  # the agent's pages are not API

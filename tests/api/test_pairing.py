"""Pairing end to end through a real server: a site asks, the user decides in the agent's own page, the decision
is accepted only from that page with its one-time token, the pairing list is persisted and revocable."""

from __future__ import annotations

import json
import os
import re
import stat
import threading
from urllib.parse import quote

from signagent.service.pairing import PAIRINGS_FILE

from .test_security import _error, _no_cors

PORTAL, OTHER = "https://portal.test", "https://other.test"


def _start_pairing(agent, origin: str = PORTAL) -> dict:
    response = agent.client.post("/v1/pair", headers={"Origin": origin})
    assert response.status_code == 200, response.text
    assert response.headers["access-control-allow-origin"] == origin
    started = response.json()
    assert started["confirm_url"] == f"{agent.url}/pair/{started['request_id']}"
    return started


def _token(agent, request_id: str) -> str:
    page = agent.client.get(f"/pair/{request_id}")  # a navigation: no Origin
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    found = re.search(r'name="token" value="([^"]+)"', page.text)
    assert found, page.text
    return found.group(1)


def _decide(agent, request_id: str, token: str, decision: str = "approve", headers: dict | None = None):
    return agent.client.post(f"/pair/{request_id}", data={"token": token, "decision": decision},
                             headers={"Origin": agent.url} if headers is None else headers)


def _status(agent, request_id: str, origin: str = PORTAL, **params: object):
    return agent.client.get(f"/v1/requests/{request_id}", params=params, headers={"Origin": origin})


def _pair(agent, origin: str = PORTAL) -> None:
    started = _start_pairing(agent, origin)
    response = _decide(agent, started["request_id"], _token(agent, started["request_id"]))
    assert response.status_code == 200, response.text


def test_pairing_end_to_end(agent) -> None:
    before = agent.client.get("/v1/pairings", headers={"Origin": PORTAL})
    _error(before, 403, "origin_not_paired")
    started = _start_pairing(agent)
    assert _status(agent, started["request_id"]).json()["status"] == "pending"
    token = _token(agent, started["request_id"])
    assert token not in json.dumps(started)  # the site never sees the consent token
    done = _decide(agent, started["request_id"], token)
    assert done.status_code == 200 and 'data-testid="pair-result"' in done.text and PORTAL in done.text
    status = _status(agent, started["request_id"])
    assert status.json() == {"request_id": started["request_id"], "kind": "pair", "origin": PORTAL,
                             "status": "approved"}
    info = agent.client.get("/v1/info", headers={"Origin": PORTAL})
    assert info.json()["paired"] is True
    # now a protected endpoint lets the site through; its preflight is granted with CORS naming it alone
    after = agent.client.options("/v1/pairings", headers={"Origin": PORTAL, "Access-Control-Request-Method": "GET"})
    assert after.status_code == 204 and after.headers["access-control-allow-origin"] == PORTAL
    missing = agent.client.get("/v1/nothing", headers={"Origin": PORTAL})
    assert missing.status_code == 404 and missing.headers["access-control-allow-origin"] == PORTAL
    # ...but not for another, unpaired site
    refused = agent.client.options("/v1/pairings", headers={"Origin": OTHER, "Access-Control-Request-Method": "GET"})
    _error(refused, 403, "origin_not_paired")
    _no_cors(refused)


def test_pairing_page_shows_the_origin_with_both_buttons_and_strict_headers(agent) -> None:
    started = _start_pairing(agent)
    page = agent.client.get(f"/pair/{started['request_id']}")
    assert PORTAL in page.text and "Подключить" in page.text and "Allow" in page.text
    assert page.text.index("Подключить сайт") < page.text.index("Pair this site")  # Russian first
    assert 'data-testid="pair-approve"' in page.text and 'data-testid="pair-deny"' in page.text
    assert "<script" not in page.text.lower() and "style=" not in page.text.lower()
    csp = page.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["cache-control"] == "no-store"
    css = agent.client.get("/agent.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")


def test_origin_in_the_page_is_escaped(agent) -> None:
    # an origin cannot carry markup (it is normalized first), but the template escapes whatever it shows
    started = _start_pairing(agent, "https://xn--80ak6aa92e.test:8443")
    assert "https://xn--80ak6aa92e.test:8443" in agent.client.get(f"/pair/{started['request_id']}").text


def test_approve_posted_by_the_site_itself_is_refused(agent) -> None:
    started = _start_pairing(agent)
    token = _token(agent, started["request_id"])
    for headers in ({"Origin": PORTAL}, {"Origin": OTHER}, {}, {"Sec-Fetch-Site": "cross-site"},
                    {"Origin": PORTAL, "Sec-Fetch-Site": "same-origin"}):
        refused = _decide(agent, started["request_id"], token, headers=headers)
        assert refused.status_code == 403, (headers, refused.text)
        assert refused.json()["error"]["code"] in ("agent_origin_required",)
    assert _status(agent, started["request_id"]).json()["status"] == "pending"
    # a browser that sends no Origin but marks the request same-origin is the agent's own page
    accepted = _decide(agent, started["request_id"], token, headers={"Sec-Fetch-Site": "same-origin"})
    assert accepted.status_code == 200


def test_wrong_token_is_refused(agent) -> None:
    started = _start_pairing(agent)
    _token(agent, started["request_id"])
    _error(_decide(agent, started["request_id"], "guess"), 403, "consent_token_invalid")
    assert _status(agent, started["request_id"]).json()["status"] == "pending"


def test_replay_of_a_used_request_is_refused(agent) -> None:
    started = _start_pairing(agent)
    token = _token(agent, started["request_id"])
    assert _decide(agent, started["request_id"], token, "deny").status_code == 200
    assert _status(agent, started["request_id"]).json()["status"] == "denied"
    _error(_decide(agent, started["request_id"], token, "approve"), 409, "request_finished")
    _error(agent.client.get(f"/pair/{started['request_id']}"), 409, "request_finished")
    assert agent.client.get("/v1/info", headers={"Origin": PORTAL}).json()["paired"] is False


def test_expired_request_is_refused(agent) -> None:
    started = _start_pairing(agent)
    token = _token(agent, started["request_id"])
    agent.clock.advance(started["expires_in"] + 1)
    assert _status(agent, started["request_id"]).json()["status"] == "expired"
    _error(agent.client.get(f"/pair/{started['request_id']}"), 410, "request_expired")
    _error(_decide(agent, started["request_id"], token), 410, "request_expired")
    assert agent.client.get("/v1/info", headers={"Origin": PORTAL}).json()["paired"] is False


def test_unknown_request_and_another_sites_request_are_not_found(agent) -> None:
    _error(agent.client.get("/pair/" + "A" * 43), 404, "request_not_found")
    started = _start_pairing(agent)
    _error(_status(agent, started["request_id"], origin=OTHER), 404, "request_not_found")
    assert agent.client.get(f"/v1/requests/{started['request_id']}", headers=agent.local()).status_code == 200


def test_request_ids_are_unguessable_and_distinct(agent) -> None:
    ids = {_start_pairing(agent)["request_id"] for _ in range(3)}
    assert len(ids) == 3 and all(len(i) >= 43 for i in ids)


def test_long_poll_answers_when_the_user_decides(agent) -> None:
    started = _start_pairing(agent)
    token = _token(agent, started["request_id"])
    answers: list[dict] = []
    poller = threading.Thread(target=lambda: answers.append(
        _status(agent, started["request_id"], wait=30).json()), daemon=True)
    poller.start()
    assert _decide(agent, started["request_id"], token).status_code == 200
    poller.join(60)  # hang guard only
    assert answers == [{"request_id": started["request_id"], "kind": "pair", "origin": PORTAL, "status": "approved"}]


def test_pairing_requests_are_rate_limited_per_origin(agent) -> None:
    for _ in range(5):
        _start_pairing(agent)
    error = _error(agent.client.post("/v1/pair", headers={"Origin": PORTAL}), 429, "rate_limited")
    assert error["retriable"] is True
    _start_pairing(agent, OTHER)  # another site is not held back
    agent.clock.advance(61)
    _start_pairing(agent)


def test_pairing_needs_a_site_origin(agent) -> None:
    _error(agent.client.post("/v1/pair", headers=agent.local()), 403, "origin_invalid")
    _error(agent.client.post("/v1/pair", headers={"Origin": "null"}), 403, "origin_invalid")


def test_pairing_list_survives_a_restart_and_is_private(runner) -> None:
    first = runner.start()
    _pair(first)
    path = first.state_dir / PAIRINGS_FILE
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert [p["origin"] for p in json.loads(path.read_text())["pairings"]] == [PORTAL]
    runner.stop(first)
    second = runner.start(state_dir=first.state_dir)
    assert second.client.get("/v1/info", headers={"Origin": PORTAL}).json()["paired"] is True
    listed = second.client.get("/v1/pairings", headers=second.local()).json()
    assert [p["origin"] for p in listed] == [PORTAL]


def test_revoke_needs_the_local_secret_and_unpairs(agent) -> None:
    _pair(agent)
    # a paired site may not manage the list, its own entry included
    _error(agent.client.delete(f"/v1/pairings/{PORTAL}", headers={"Origin": PORTAL}), 401, "local_secret_required")
    revoked = agent.client.delete(f"/v1/pairings/{quote(PORTAL, safe='')}", headers=agent.local())
    assert revoked.status_code == 200 and revoked.json() == {"revoked": PORTAL}
    assert agent.client.get("/v1/info", headers={"Origin": PORTAL}).json()["paired"] is False
    _error(agent.client.get("/v1/pairings", headers={"Origin": PORTAL}), 403, "origin_not_paired")
    _error(agent.client.delete(f"/v1/pairings/{PORTAL}", headers=agent.local()), 403, "origin_not_paired")

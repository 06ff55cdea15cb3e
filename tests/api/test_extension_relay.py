"""A browser extension speaking for the page it runs in (signagent.api.security, rule 3a; issue 13's extension):
the extension is known by its key (``X-SignAgent-Extension-Key``; Chromium sends its GET requests without
``Origin``), paired once with the origin its POST carried; the page is named in ``X-SignAgent-Page-Origin``, and
the agent believes that name only from an extension the user allowed. Through a real server."""

from __future__ import annotations

import hashlib
import json

import pytest

from signagent.api.security import EXTENSION_KEY_HEADER, PAGE_ORIGIN_HEADER
from signagent.service.pairing import PAIRINGS_FILE

from .test_pairing import _decide, _pair, _start_pairing, _token
from .test_security import _error, _no_cors

PORTAL = "https://portal.test"
EXTENSION = "chrome-extension://" + "abcdefghijklmnop" * 2
FIREFOX_EXTENSION = "moz-extension://7d2c3a4e-1b5f-4c6d-9e8f-0a1b2c3d4e5f"
KEY, OTHER_KEY = "k" * 43, "o" * 43


def _for(page: str, extension: str | None = EXTENSION, key: str | None = KEY) -> dict[str, str]:
    """The headers of an extension's request for ``page``: its key, and its Origin unless None (Chromium's GET)."""
    headers = {PAGE_ORIGIN_HEADER: page}
    if extension is not None:
        headers["Origin"] = extension
    if key is not None:
        headers[EXTENSION_KEY_HEADER] = key
    return headers


def _pair_extension(agent, extension: str = EXTENSION, key: str = KEY) -> None:
    """What the extension's background part does: POST /v1/pair with its key; the user allows it."""
    started = agent.client.post("/v1/pair", headers={"Origin": extension, EXTENSION_KEY_HEADER: key})
    assert started.status_code == 200, started.text
    request_id = started.json()["request_id"]
    assert _decide(agent, request_id, _token(agent, request_id)).status_code == 200


def _cors(response, origin: str = EXTENSION) -> None:
    assert response.headers["access-control-allow-origin"] == origin, response.headers


def test_an_unpaired_extension_may_not_speak_for_a_page(agent) -> None:
    for method, path in (("GET", "/v1/certificates"), ("POST", "/v1/pair"), ("POST", "/v1/sign")):
        response = agent.client.request(method, path, headers=_for(PORTAL))
        _error(response, 403, "extension_not_paired")
        _cors(response)  # the extension must read the code: it then asks the user to allow it
    # ... except learning that the agent is there, as an unpaired page would (whatever the page's own state)
    _pair(agent, PORTAL)
    info = agent.client.get("/v1/info", headers=_for(PORTAL))
    assert info.status_code == 200 and info.json()["paired"] is False
    _cors(info)


def test_the_user_allows_the_extension_in_the_agents_window(agent) -> None:
    started = agent.client.post("/v1/pair", headers={"Origin": EXTENSION, EXTENSION_KEY_HEADER: KEY}).json()
    page = agent.client.get(f"/pair/{started['request_id']}")
    assert 'data-testid="pair-extension"' in page.text and EXTENSION in page.text
    assert "browser extension" in page.text and "расширение браузера" in page.text
    assert _decide(agent, started["request_id"], _token(agent, started["request_id"])).status_code == 200
    # the extension asks how it went with its key alone (a GET: no Origin from Chromium); no one else learns it
    polled = agent.client.get(f"/v1/requests/{started['request_id']}", headers={EXTENSION_KEY_HEADER: KEY})
    assert polled.status_code == 200 and polled.json()["status"] == "approved", polled.text
    other = agent.client.get(f"/v1/requests/{started['request_id']}", headers={EXTENSION_KEY_HEADER: OTHER_KEY})
    _error(other, 404, "request_not_found")
    saved = json.loads((agent.state_dir / PAIRINGS_FILE).read_text())
    assert saved["pairings"] == [{"origin": EXTENSION, "paired_at": saved["pairings"][0]["paired_at"],
                                  "extension_key": hashlib.sha256(KEY.encode()).hexdigest()}]  # never the key
    home = agent.client.get("/")
    assert 'data-testid="home-pairing-extension"' in home.text
    # an ordinary site's page says nothing of extensions
    site = agent.client.get(f"/pair/{_start_pairing(agent, PORTAL)['request_id']}")
    assert 'data-testid="pair-extension"' not in site.text


def test_a_paired_extension_speaks_for_pages_which_pair_themselves(agent) -> None:
    _pair_extension(agent)
    # the page is a caller of its own: unpaired until the user pairs it (through the extension)
    refused = agent.client.get("/v1/certificates", headers=_for(PORTAL))
    _error(refused, 403, "origin_not_paired")
    _cors(refused)
    started = agent.client.post("/v1/pair", headers=_for(PORTAL))
    assert started.status_code == 200
    _cors(started)
    request_id = started.json()["request_id"]
    page = agent.client.get(f"/pair/{request_id}")
    assert PORTAL in page.text and 'data-testid="pair-extension"' not in page.text  # the page's origin is asked
    _decide(agent, request_id, _token(agent, request_id))
    polled = agent.client.get(f"/v1/requests/{request_id}", headers=_for(PORTAL))
    assert polled.json()["status"] == "approved" and polled.json()["origin"] == PORTAL
    # the page's own pairing, not the extension's: the page itself may call the agent directly too
    assert agent.client.get("/v1/info", headers={"Origin": PORTAL}).json()["paired"] is True
    listed = agent.client.get("/v1/certificates", headers=_for(PORTAL))
    assert listed.status_code == 200
    _cors(listed)
    # Chromium's GET: no Origin, the key alone
    assert agent.client.get("/v1/certificates", headers=_for(PORTAL, extension=None)).status_code == 200
    assert agent.client.get("/v1/info", headers=_for(PORTAL)).json()["paired"] is True
    # another page through the same extension is not paired by it
    _error(agent.client.get("/v1/certificates", headers=_for("https://other.test")), 403, "origin_not_paired")


def test_a_paired_extension_uses_the_agent_only_for_pages(agent) -> None:
    _pair_extension(agent)
    itself = {"Origin": EXTENSION, EXTENSION_KEY_HEADER: KEY}
    _error(agent.client.get("/v1/certificates", headers=itself), 403, "origin_invalid")
    assert agent.client.get("/v1/info", headers=itself).json()["paired"] is True


def test_the_key_is_the_extension(agent) -> None:
    _pair_extension(agent)
    _pair(agent, PORTAL)
    # its origin without its key, or another key: not the paired extension
    for headers in (_for(PORTAL, key=None), _for(PORTAL, key=OTHER_KEY), _for(PORTAL, extension=None, key=OTHER_KEY)):
        _error(agent.client.get("/v1/certificates", headers=headers), 403, "extension_not_paired")
    # its key sent by another extension: refused
    stolen = _for(PORTAL, extension="chrome-extension://" + "p" * 32)
    _error(agent.client.get("/v1/certificates", headers=stolen), 403, "extension_not_paired")
    # ... or by a web page (which could not even send it: its preflight is refused)
    _error(agent.client.get("/v1/certificates", headers=_for(PORTAL, extension="https://evil.test")), 403,
           "origin_invalid")
    for bad in ("short", "k" * 129, "k" * 42 + "!"):
        _error(agent.client.get("/v1/certificates", headers=_for(PORTAL, key=bad)), 403, "origin_invalid")
    # revoked: the key is gone with the pairing
    agent.client.delete(f"/v1/pairings/{EXTENSION}", headers=agent.local())
    _error(agent.client.get("/v1/certificates", headers=_for(PORTAL)), 403, "extension_not_paired")


@pytest.mark.parametrize("claim", [
    "null", "https://portal.test/path", "file:///etc", "portal.test", "",
    EXTENSION, FIREFOX_EXTENSION,  # an extension never speaks for another extension
])
def test_what_an_extension_may_not_claim(agent, claim: str) -> None:
    _pair_extension(agent)
    _error(agent.client.get("/v1/info", headers=_for(claim)), 403, "origin_invalid")


def test_no_one_claims_the_agents_own_origin(agent) -> None:
    _pair_extension(agent)
    for own in (agent.url, f"http://localhost:{agent.port}"):
        _error(agent.client.get("/v1/info", headers=_for(own)), 403, "origin_invalid")
        _error(agent.client.get("/", headers=_for(own)), 403, "agent_origin_required")


def test_a_web_page_may_not_name_another_page(agent) -> None:
    _pair(agent, PORTAL)
    response = agent.client.get("/v1/certificates", headers={"Origin": "https://evil.test", PAGE_ORIGIN_HEADER: PORTAL})
    _error(response, 403, "origin_invalid")
    _no_cors(response)
    # nor may it ask the browser for leave to send the header
    asked = {"Origin": PORTAL, "Access-Control-Request-Method": "GET",
             "Access-Control-Request-Headers": PAGE_ORIGIN_HEADER}
    preflight = agent.client.options("/v1/certificates", headers=asked)
    assert preflight.status_code == 403
    _no_cors(preflight)


def test_an_extensions_preflight_allows_the_page_header(agent) -> None:
    for extension in (EXTENSION, FIREFOX_EXTENSION):  # paired or not: a preflight carries no header values
        asked = {"Origin": extension, "Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": f"content-type,{PAGE_ORIGIN_HEADER}"}
        response = agent.client.options("/v1/sign", headers=asked)
        assert response.status_code == 204, response.text
        _cors(response, extension)
        allowed = {h.strip() for h in response.headers["access-control-allow-headers"].split(",")}
        assert allowed == {"content-type", PAGE_ORIGIN_HEADER, EXTENSION_KEY_HEADER}
        allowed_now = {h.strip() for h in response.headers["access-control-allow-headers"].split(",")}
        assert EXTENSION_KEY_HEADER in allowed_now
        secret = {**asked, "Access-Control-Request-Headers": "x-signagent-secret"}
        assert agent.client.options("/v1/sign", headers=secret).status_code == 403


def test_firefox_extension_origins_pair_too(agent) -> None:
    _pair_extension(agent, FIREFOX_EXTENSION)
    _pair(agent, PORTAL)
    listed = agent.client.get("/v1/certificates", headers=_for(PORTAL, FIREFOX_EXTENSION))
    assert listed.status_code == 200
    _cors(listed, FIREFOX_EXTENSION)
    revoked = agent.client.delete(f"/v1/pairings/{FIREFOX_EXTENSION}", headers=agent.local())
    assert revoked.json() == {"revoked": FIREFOX_EXTENSION}
    _error(agent.client.get("/v1/certificates", headers=_for(PORTAL, FIREFOX_EXTENSION)), 403,
           "extension_not_paired")
    assert json.loads((agent.state_dir / PAIRINGS_FILE).read_text())["pairings"][0]["origin"] == PORTAL


@pytest.mark.parametrize("origin", [
    "chrome-extension://short", "chrome-extension://" + "q" * 32, "moz-extension://not-a-uuid",
    "chrome-extension://" + "a" * 32 + "/path",
])
def test_malformed_extension_origins_are_refused(agent, origin: str) -> None:
    _error(agent.client.get("/v1/info", headers={"Origin": origin}), 403, "origin_invalid")

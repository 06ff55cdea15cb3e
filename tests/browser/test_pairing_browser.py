"""Pairing and the agent's defences, in a real Chromium (DESIGN.md section 5, docs/API.md "Who may call").

A portal pairs through the agent's popup (or, popup blocked, through the link the client puts in the page); an
unpaired site is told NotPaired; the pairing page cannot be framed by another site; a DNS-rebinding page (a
foreign host name pointed at 127.0.0.1, reaching the agent's port) gets 421.
"""

from __future__ import annotations

import json

import pytest

from .conftest import GUARD_MS, click_decision, decide_in_agent_window, dump, open_portal, pair_through_popup, result


def _paired_origins(agent) -> list[str]:
    answer = agent.client.get("/v1/pairings", headers=agent.local())
    assert answer.status_code == 200, answer.text
    return [p["origin"] for p in answer.json()]


def test_portal_pairs_through_the_agents_popup(context, agent, portal) -> None:
    page = open_portal(context, portal, agent.port)
    connected = result(page, "connect")
    assert connected["ok"] and connected["value"]["paired"] is False, dump(connected)

    with context.expect_page() as opened:
        page.get_by_test_id("pair").click()
    popup = opened.value
    popup.wait_for_url(f"{agent.url}/pair/*")
    # The agent's own page names the site that asks, and the client has not resolved yet: the user decides.
    assert popup.get_by_test_id("pair-origin").inner_text().strip() == portal.origin
    assert page.evaluate("() => 'pair' in window.results") is False
    click_decision(popup, "pair-approve")

    paired = result(page, "pair")
    assert paired == {"ok": True, "value": True}, dump(paired)
    assert _paired_origins(agent) == [portal.origin]
    page.get_by_test_id("info").click()
    info = result(page, "info")
    assert info["ok"] and info["value"]["paired"] is True, dump(info)


def test_denied_pairing_is_user_cancelled(context, agent, portal) -> None:
    page = open_portal(context, portal, agent.port)
    decide_in_agent_window(context, lambda: page.get_by_test_id("pair").click(), approve=False)
    denied = result(page, "pair")
    assert not denied["ok"] and denied["name"] == "UserCancelled" and denied["code"] == "user_cancelled", dump(denied)
    assert denied["typed"] and denied["messageRu"]
    assert _paired_origins(agent) == []


def test_unpaired_site_is_told_not_paired(context, agent, portal, evil) -> None:
    # The portal is paired; evil.test is not, and its call is refused (without CORS headers: the client learns
    # why from /v1/info, which any site may read).
    portal_page = open_portal(context, portal, agent.port)
    assert pair_through_popup(context, portal_page)["ok"]
    page = open_portal(context, evil, agent.port)
    assert result(page, "connect")["value"]["paired"] is False
    page.get_by_test_id("certificates").click()
    refused = result(page, "certificates")
    assert not refused["ok"] and refused["name"] == "NotPaired" and refused["code"] == "origin_not_paired", \
        dump(refused)
    assert refused["typed"] and "не подключён" in refused["messageRu"]
    assert _paired_origins(agent) == [portal.origin]


def test_blocked_popup_falls_back_to_a_link(context, agent, portal) -> None:
    # window.open answers null (a popup blocker): the client puts a link into the page instead and keeps waiting.
    page = open_portal(context, portal, agent.port, nopopup=1)
    page.get_by_test_id("pair").click()
    link = page.locator("a[data-signagent=confirm-link]")
    link.wait_for(state="visible", timeout=GUARD_MS)
    assert len(context.pages) == 1, [p.url for p in context.pages]  # no popup was opened
    assert link.get_attribute("href").startswith(f"{agent.url}/pair/")
    assert link.get_attribute("target") == "_blank" and "Откройте окно SignAgent" in link.inner_text()
    assert page.evaluate("() => 'pair' in window.results") is False

    decide_in_agent_window(context, link.click)
    paired = result(page, "pair")
    assert paired == {"ok": True, "value": True}, dump(paired)
    link.wait_for(state="detached", timeout=GUARD_MS)  # the link goes once the request is finished
    assert _paired_origins(agent) == [portal.origin]


def test_blocked_popup_goes_to_the_pages_own_handler(context, agent, portal) -> None:
    page = open_portal(context, portal, agent.port, nopopup=1, onlink=1)
    page.get_by_test_id("pair").click()
    url = result(page, "confirm-link")["value"]
    assert url.startswith(f"{agent.url}/pair/")
    assert page.locator("a[data-signagent=confirm-link]").count() == 0  # the page shows it its own way
    window = context.new_page()
    window.goto(url)
    click_decision(window, "pair-approve")
    assert result(page, "pair") == {"ok": True, "value": True}


def test_pairing_page_refuses_to_be_framed(context, agent, evil) -> None:
    started = agent.client.post("/v1/pair", headers={"Origin": evil.origin})
    assert started.status_code == 200, started.text
    confirm_url = started.json()["confirm_url"]
    messages: list[str] = []
    page = context.new_page()
    page.on("console", lambda m: messages.append(m.text))

    # Control: this page frames its own site's page, and that works -- so a missing frame below is the agent's
    # refusal, not a broken test page.
    page.goto(evil.url("/frame", src=evil.url("/")))
    page.frame_locator("[data-testid=frame]").get_by_test_id("pair").wait_for(timeout=GUARD_MS)

    page.goto(evil.url("/frame", src=confirm_url))
    page.wait_for_load_state("load")
    frame = page.locator("[data-testid=frame]").element_handle().content_frame()
    assert frame is not None
    assert frame.url != confirm_url  # Chromium shows its error page instead of the agent's
    assert frame.locator("[data-testid=pair-approve]").count() == 0
    assert frame.locator("[data-testid=pair-origin]").count() == 0
    assert any("frame-ancestors" in m or "X-Frame-Options" in m for m in messages), messages
    status = agent.client.get(f"/v1/requests/{started.json()['request_id']}", headers={"Origin": evil.origin})
    assert status.json()["status"] == "pending"  # nothing was decided through the frame


def test_rebinding_host_gets_421(context, agent) -> None:
    # evil.test resolves to 127.0.0.1: a page loaded from evil.test:AGENT_PORT reaches the agent and would be
    # same-origin with its answers, were Host not checked.
    page = context.new_page()
    response = page.goto(f"http://evil.test:{agent.port}/")
    assert response is not None and response.status == 421
    assert response.json()["error"]["code"] == "host_not_allowed"
    fetched = page.evaluate("""async () => {
        const r = await fetch('/v1/info');
        return {status: r.status, body: await r.text()};
    }""")
    assert fetched["status"] == 421, fetched
    assert json.loads(fetched["body"])["error"]["code"] == "host_not_allowed"
    assert "version" not in fetched["body"]


@pytest.mark.needs_lead("security.py: /signagent.js and /signagent.d.ts public to every origin; routes_client mounted")
def test_client_module_loads_from_the_agent(context, agent, portal) -> None:
    for path, media in (("/signagent.js", "text/javascript"), ("/signagent.d.ts", "")):
        answer = agent.client.get(path, headers={"Origin": portal.origin})
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"].startswith(media)
        assert answer.headers["access-control-allow-origin"] == "*"
    page = open_portal(context, portal, agent.port, client=f"{agent.url}/signagent.js")
    loaded = result(page, "load")
    assert loaded["ok"], dump(loaded)
    assert result(page, "connect")["ok"]
    assert not any(r.startswith("/signagent.js") for r in portal.requests)  # the agent's copy, not the portal's

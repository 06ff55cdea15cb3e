"""Chromium's Local Network Access (DESIGN.md section 5): the JS client tells "permission refused" apart from "agent
not running" and says which.

How Chromium is made to treat the test portal as a public, secure site calling loopback (checked on Chromium 156):

* the portal is served over HTTPS (a throw-away certificate; ``--ignore-certificate-errors``): a secure context;
* ``--ip-address-space-overrides=127.0.0.1:PORT=public`` puts the portal's address in the public space, so its
  calls to the agent on 127.0.0.1 are "public -> loopback" requests that need the permission (without the flag the
  portal, resolved to 127.0.0.1, is loopback itself and nothing is checked);
* the permission is set per origin through CDP ``Browser.setPermission`` in the Playwright context's own browser
  context (``browserContextId``; without it the default context is changed and nothing happens). Chromium 145+
  governs loopback by ``loopback-network``; ``local-network-access`` (142-144) is set too, for older builds.
  Unset, headless Chromium treats the prompt as refused while the state still reads ``prompt``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.api.conftest import _free_port

from .conftest import GUARD_MS, BrowserAgentRunner, PortalServer, dump, launch_browser, result

PERMISSIONS = ("loopback-network", "local-network-access")


@pytest.fixture
def public_portal(tmp_path: Path) -> Iterator[PortalServer]:
    server = PortalServer("portal.test", tls_dir=tmp_path)
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def lna_context(pw: Any, public_portal: PortalServer, runner: BrowserAgentRunner) -> Iterator[Any]:
    """A browser for which the public portal is a public, secure site (its own launch: the flags name the port);
    closed before the agents stop."""
    browser = launch_browser(pw, ("--ignore-certificate-errors",
                                  f"--ip-address-space-overrides=127.0.0.1:{public_portal.port}=public"))
    try:
        context = browser.new_context()
        context.set_default_timeout(GUARD_MS)
        yield context
    finally:
        browser.close()


def _set_loopback_permission(context: Any, origin: str, setting: str) -> None:
    page = context.pages[0] if context.pages else context.new_page()
    target = context.new_cdp_session(page).send("Target.getTargetInfo")["targetInfo"]
    browser_cdp = context.browser.new_browser_cdp_session()
    for name in PERMISSIONS:
        browser_cdp.send("Browser.setPermission", {"permission": {"name": name}, "setting": setting, "origin": origin,
                                                   "browserContextId": target["browserContextId"]})


def _connect(context: Any, portal: PortalServer, agent_port: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """The outcome of SignAgent.connect on the portal page, and what the page saw (secure context, permission)."""
    page = context.pages[0] if context.pages else context.new_page()
    page.goto(portal.page_url(agent_port))
    outcome = result(page, "connect")
    seen = page.evaluate("""async () => ({
        secure: isSecureContext,
        permission: (await navigator.permissions.query({name: 'loopback-network'})).state,
    })""")
    return outcome, seen


def test_agent_running_but_permission_denied(lna_context, agent, public_portal) -> None:
    _set_loopback_permission(lna_context, public_portal.origin, "denied")
    outcome, seen = _connect(lna_context, public_portal, agent.port)
    assert seen == {"secure": True, "permission": "denied"}
    assert not outcome["ok"] and outcome["name"] == "LocalNetworkAccessDenied", dump(outcome)
    assert outcome["code"] == "local_network_access_denied" and outcome["typed"]
    assert "Доступ к локальной сети" in outcome["messageRu"] and "Local network access" in outcome["message"]


def test_nothing_listening_with_permission_granted(lna_context, public_portal) -> None:
    _set_loopback_permission(lna_context, public_portal.origin, "granted")
    outcome, seen = _connect(lna_context, public_portal, _free_port())
    assert seen == {"secure": True, "permission": "granted"}
    assert not outcome["ok"] and outcome["name"] == "AgentNotRunning", dump(outcome)
    assert outcome["code"] == "agent_not_running" and "не запущена" in outcome["messageRu"]


def test_agent_running_with_permission_granted(lna_context, agent, public_portal) -> None:
    # The control of the two above: the same page reaches the agent once the permission is granted -- so the
    # refusal above was the permission's, not a broken setup's.
    _set_loopback_permission(lna_context, public_portal.origin, "granted")
    outcome, _ = _connect(lna_context, public_portal, agent.port)
    assert outcome["ok"] and outcome["value"]["paired"] is False, dump(outcome)

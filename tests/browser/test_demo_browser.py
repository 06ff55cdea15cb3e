"""``signagent serve --demo`` in a real Chromium: the README's first command, as the user lives it.

The agent and its demo portal run as one real process (``signagent serve --demo``); the user opens the portal at
``http://localhost:DEMO_PORT``, pairs it in the agent's popup, sees the demo certificate, signs the text (PIN typed
into the agent's confirmation page) and reads the portal's server-side verdict.
"""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from tests.api.conftest import _free_port
from tests.test_cli_serve_demo import _start

from .conftest import GUARD_MS, decide_in_agent_window


@pytest.mark.needs_lead("/v1/certificates, /v1/sign, the confirmation page; /signagent.js served to every origin")
def test_demo_pairs_signs_and_shows_the_verified_result(context, tmp_path: Path) -> None:
    port, demo_port = _free_port(), _free_port()
    while demo_port == port:
        demo_port = _free_port()
    serving = _start(tmp_path, port, demo_port)
    try:
        page = context.new_page()
        page.goto(f"http://localhost:{demo_port}/")
        status = page.get_by_test_id("demo-status")
        assert page.get_by_test_id("demo-pin").inner_text() == "1234"
        page.wait_for_function("() => document.getElementById('demo-status').textContent.includes('Подключить')",
                               timeout=GUARD_MS)

        decide_in_agent_window(context, lambda: page.get_by_test_id("demo-pair").click())
        certificate = page.get_by_test_id("demo-certificates").get_by_test_id("demo-certificate").first
        certificate.wait_for(state="attached", timeout=GUARD_MS)
        assert certificate.is_checked()
        listing = page.get_by_test_id("demo-certificates").inner_text()
        assert "цепочка действительна" in listing, listing  # the demo's test root is trusted by the demo agent

        page.get_by_test_id("demo-text").fill("Заявление о регистрации профиля организации «Демо»")
        decide_in_agent_window(context, lambda: page.get_by_test_id("demo-sign").click(), pin="1234")
        verdict = page.get_by_test_id("demo-result").locator(".verdict")
        verdict.wait_for(state="visible", timeout=GUARD_MS)
        assert verdict.get_attribute("data-status") == "valid", page.get_by_test_id("demo-result").inner_text()
        shown = page.get_by_test_id("demo-result").inner_text()
        assert "Подписал" in shown and "Время подписи" in shown
        assert "проверена" in status.inner_text()
        assert serving.stop(signal.SIGTERM) == 0
    finally:
        serving.kill()

"""The reference portal end to end in Chromium: the real agent with simulated tokens (head and employee of
ООО «Ромашка-Тест», from the SAME test PKI the portal trusts), the portal on its own origin
(``http://portal.test:PORT``), the user's clicks and PIN typed in the agent's own window.

* the head logs in by certificate, goes through the whole wizard (lookup in the demo ЕГРЮЛ -> requisites ->
  ОКВЭД -> head -> real estate -> subdivisions -> beneficiaries -> «Зарегистрировать»), signs in the agent's
  window, and the organisation appears with the head as «Администратор организации»; a screenshot of every
  wizard step is kept (``$SIGNAGENT_TEST_ARTEFACTS/portal-wizard/``, else the test's temporary directory);
* the employee's certificate is refused as head, with the verifier's reason shown to the user; a replayed signed
  request is refused; a request signed for another origin (another site the user paired with the agent, made to
  sign the portal's own request text) is refused with ``origin_mismatch`` and registers nothing;
* «Мой профиль»: the fields edited, saved and shown again after a reload;
* an entrepreneur registers with ОГРНИП;
* an employee logs in with their own certificate (another browser profile), asks to join the organisation's
  subdivision, the head gives a role -- the employee is «Активный» and sees what the role allows and no more --
  and takes it away -- «Удален».
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pytest
import uvicorn

from portal.app import create_app
from portal.settings import PortalSettings
from portal.verification import Trust
from signagent.registration.egr import demo_registry
from signagent.testpki import generate
from signagent.testpki.generator import TestPKI
from tests.conftest import simulator_env

from .conftest import (
    GUARD_MS,
    HANG_GUARD,
    PIN,
    SO_PIN,
    BrowserAgentRunner,
    PortalServer,
    click_decision,
    decide_in_agent_window,
    open_portal,
    pair_through_popup,
    result,
)

pytestmark = pytest.mark.needs_lead("the agent's operations and confirmation page; the registration library")


@dataclass
class Setup:
    agent: Any
    pki: TestPKI
    head_id: str
    employee_id: str
    ip_id: str
    origin: str


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class TempDirs(Protocol):
    """What :func:`portal_world` needs of pytest's ``tmp_path_factory``: fresh directories by name."""

    def mktemp(self, basename: str, numbered: bool = True) -> Path: ...


@contextlib.contextmanager
def portal_world(runner: BrowserAgentRunner, tmp: TempDirs,
                 close_pages: Callable[[], None] = lambda: None) -> Iterator[Setup]:
    """The test PKI, the agent seeing the tokens "Head", "Employee" and "IP" made from it, and the portal (SQLite
    in a temporary directory) trusting it, on ``http://portal.test:PORT``. On exit ``close_pages`` runs first (a
    page's long poll would hold the agent's shutdown), then the portal and the agent stop. Also used by
    ``benchmarks/bench_portal.py``."""
    import pkcs11_sim
    from pkcs11_sim.provision import provision
    from pkcs11_sim.store import SimRoot

    pki = generate(tmp.mktemp("portal-browser-pki"))
    with simulator_env(tmp) as sim_dir:  # type: ignore[arg-type]  -- only its mktemp is used
        root = SimRoot(sim_dir)
        head = provision(root, label="Head", pin=PIN.encode(), so_pin=SO_PIN.encode(), profile="head",
                         pki_dir=pki.out_dir)
        employee = provision(root, label="Employee", pin=PIN.encode(), so_pin=SO_PIN.encode(), profile="employee",
                             pki_dir=pki.out_dir)
        ip = provision(root, label="IP", pin=PIN.encode(), so_pin=SO_PIN.encode(), profile="ip", pki_dir=pki.out_dir)
        agent = runner.start_with({"pkcs11_modules": [pkcs11_sim.module_path()],
                                   "keys_dir": str(tmp.mktemp("agent-keys"))},
                                  trust_roots=(pki.root.der,), intermediates=(pki.intermediate.der,))
        port = _free_port()
        origin = f"http://portal.test:{port}"
        settings = PortalSettings(
            data_dir=tmp.mktemp("portal-data"), origin=origin, agent_port=agent.port,
            trust=Trust(roots=[pki.root.der], intermediates=[pki.intermediate.der],
                        crls=[pki.crls["inter"].der, pki.crls["root"].der], offline=True, revocation="hard"),
            registry=demo_registry(), secret=b"browser-test", demo_pin=PIN)
        server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning",
                                               lifespan="off"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + HANG_GUARD
        while not server.started and thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert server.started, "the portal did not start"
        try:
            yield Setup(agent, pki, head.certificate_id, employee.certificate_id, ip.certificate_id, origin)
        finally:
            close_pages()
            server.should_exit = True
            thread.join(HANG_GUARD)
            runner.stop(agent)


@pytest.fixture
def setup(context: Any, runner: BrowserAgentRunner, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    """:func:`portal_world` for one test; the test's browser pages are closed before the agent stops."""
    with portal_world(runner, tmp_path_factory, context.close) as world:
        yield world


@pytest.fixture
def other() -> Iterator[PortalServer]:
    """Another web site the user has open (``other.test``, conftest's test page): not the portal."""
    server = PortalServer("other.test")
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    base = os.environ.get("SIGNAGENT_TEST_ARTEFACTS")
    out = (Path(base) if base else tmp_path) / "portal-wizard"
    out.mkdir(parents=True, exist_ok=True)
    return out


def by(page: Any, testid: str) -> Any:
    return page.get_by_test_id(testid)


def ready(page: Any) -> None:
    """Wait until the page's own script has set up its handlers (it marks ``body[data-ready]``)."""
    page.wait_for_selector("body[data-ready]", state="attached", timeout=GUARD_MS)


def login(context: Any, setup: Setup, certificate_id: str, *, pair: bool = True) -> Any:
    """The login page: pair the portal with the agent (first time), choose the certificate, confirm with the PIN."""
    page = context.new_page()
    page.goto(setup.origin + "/")
    ready(page)
    if pair:
        by(page, "pair").wait_for(state="visible", timeout=GUARD_MS)
        decide_in_agent_window(context, lambda: by(page, "pair").click())
    page.locator(f'[data-testid="certificate"][value="{certificate_id}"]').check(timeout=GUARD_MS)
    by(page, "login").wait_for(state="visible")
    page.wait_for_function("() => !document.querySelector('[data-testid=login]').disabled", timeout=GUARD_MS)
    decide_in_agent_window(context, lambda: by(page, "login").click(), pin=PIN)
    page.wait_for_url(setup.origin + "/organisation", timeout=GUARD_MS)
    return page


def next_step(page: Any, step: str, shots: Path | None = None, number: int = 0) -> None:
    by(page, "wizard-next").click()
    by(page, f"wizard-step-{step}").wait_for(state="visible", timeout=GUARD_MS)
    if shots is not None:
        page.screenshot(path=str(shots / f"{number:02d}-{step}.png"), full_page=True)


def fill_wizard(page: Any, shots: Path | None) -> None:
    """Every step of the wizard for ООО «Ромашка-Тест», as the head fills it."""
    by(page, "start-registration").click()
    by(page, "wizard-step-lookup").wait_for(state="visible", timeout=GUARD_MS)
    ready(page)
    by(page, "wizard-query").fill("1127700000031")
    by(page, "wizard-find").click()
    page.wait_for_function("() => document.querySelector('[data-testid=wizard-found]').dataset.kind === 'legal'",
                           timeout=GUARD_MS)
    if shots is not None:
        page.screenshot(path=str(shots / "01-lookup.png"), full_page=True)
    next_step(page, "requisites", shots, 2)
    assert by(page, "org-inn").input_value() == "7701000033"
    by(page, "org-category").select_option(index=2)
    by(page, "org-email").fill("info@romashka.test")
    by(page, "org-phone").fill("+7 495 000-00-00")
    next_step(page, "okved", shots, 3)
    by(page, "okved-main").fill("32.12")
    by(page, "okved-main-comment").fill("Производство ювелирных изделий")
    by(page, "okved-aux-1").fill("46.48")
    by(page, "okved-other-add").click()
    by(page, "okved-other-code").fill("47.77")
    next_step(page, "head", shots, 4)
    assert by(page, "head-surname").input_value() == "Иванов"
    by(page, "head-birth-date").fill("1980-05-15")
    by(page, "head-doc-kind").fill("Паспорт гражданина РФ")
    by(page, "head-doc-number").fill("123456")
    by(page, "head-registration-address").fill("г. Москва, ул. Цветочная, д. 1")
    by(page, "head-actual-address").fill("г. Москва, ул. Цветочная, д. 1")
    next_step(page, "estate", shots, 5)
    by(page, "estate-add").click()
    by(page, "estate-address").fill("г. Москва, ул. Цветочная, д. 3, склад")
    next_step(page, "subdivisions", shots, 6)
    by(page, "subdivision-add").click()
    by(page, "subdivision-name").fill("Филиал «Север»")
    by(page, "subdivision-address").fill("г. Москва, ул. Северная, д. 1")
    by(page, "subdivision-okved").fill("32.12")
    next_step(page, "beneficiaries", shots, 7)
    by(page, "beneficiary-add").click()
    for testid, value in (("beneficiary-surname", "Иванов"), ("beneficiary-name", "Иван"),
                          ("beneficiary-birth-date", "1980-05-15"), ("beneficiary-doc-kind", "Паспорт"),
                          ("beneficiary-doc-number", "123456"), ("beneficiary-registration-address", "г. Москва")):
        by(page, testid).fill(value)
    next_step(page, "review", None)
    page.wait_for_function("() => !document.querySelector('[data-testid=wizard-register]').disabled",
                           timeout=GUARD_MS)
    if shots is not None:
        page.screenshot(path=str(shots / "08-review.png"), full_page=True)


def test_the_head_registers_the_organisation_through_the_wizard(context: Any, setup: Setup, shots: Path) -> None:
    page = login(context, setup, setup.head_id)
    fill_wizard(page, shots)
    canonical = by(page, "wizard-canonical").inner_text()
    assert '"type": "head-registration"' in canonical and setup.origin in canonical

    def shown_to_the_user(window: Any) -> None:
        # the agent's confirmation page renders the registration request for a person, not only its JSON
        title = window.get_by_test_id("confirm-registration-title").inner_text()
        assert title.startswith("Регистрация организации") and "1127700000031" in title, title
        assert "Иванов И. И." in title and setup.origin in window.get_by_test_id("confirm-origin").inner_text()
        window.screenshot(path=str(shots / "08b-agent-confirmation.png"), full_page=True)

    decide_in_agent_window(context, lambda: by(page, "wizard-register").click(), pin=PIN, inspect=shown_to_the_user)
    verdict = by(page, "wizard-verdict")
    verdict.wait_for(timeout=GUARD_MS)
    page.screenshot(path=str(shots / "09-registered.png"), full_page=True)
    assert verdict.get_attribute("data-status") == "valid", page.inner_text("body")
    by(page, "wizard-done").click()
    page.wait_for_url(setup.origin + "/organisation")
    assert by(page, "organisation-ogrn").inner_text() == "1127700000031"
    assert page.locator('[data-testid="my-roles"] [data-role="admin"]').count() == 1
    assert by(page, "nav-employees").is_visible()

    # editing the profile: the same wizard, filled from the registered request, signed again
    by(page, "edit-organisation").click()
    ready(page)
    by(page, "wizard-step-requisites").wait_for(state="visible", timeout=GUARD_MS)
    assert by(page, "org-email").input_value() == "info@romashka.test"
    by(page, "org-email").fill("office@romashka.test")
    for step in ("okved", "head", "estate", "subdivisions", "beneficiaries", "review"):
        next_step(page, step)
    assert by(page, "okved-other-code").input_value() == "47.77"
    assert by(page, "subdivision-name").input_value() == "Филиал «Север»"
    page.wait_for_function("() => !document.querySelector('[data-testid=wizard-register]').disabled",
                           timeout=GUARD_MS)
    decide_in_agent_window(context, lambda: by(page, "wizard-register").click(), pin=PIN)
    by(page, "wizard-verdict").wait_for(timeout=GUARD_MS)
    assert by(page, "wizard-verdict").get_attribute("data-status") == "valid", page.inner_text("body")
    page.goto(setup.origin + "/organisation")
    assert "office@romashka.test" in page.inner_text("body")


def test_the_employees_certificate_is_refused_as_head_with_the_reason(context: Any, setup: Setup) -> None:
    page = login(context, setup, setup.employee_id)
    fill_wizard(page, None)
    decide_in_agent_window(context, lambda: by(page, "wizard-register").click(), pin=PIN)
    verdict = by(page, "wizard-verdict")
    verdict.wait_for(timeout=GUARD_MS)
    assert verdict.get_attribute("data-status") == "invalid"
    reasons = page.locator('[data-testid="reason"]')
    reasons.first.wait_for(timeout=GUARD_MS)
    codes = [reasons.nth(i).get_attribute("data-code") for i in range(reasons.count())]
    assert "not_authorized_head" in codes, codes
    assert "не является лицом, имеющим право без доверенности" in page.inner_text('[data-testid="reasons"]')


def test_a_replayed_signed_request_is_refused(context: Any, setup: Setup) -> None:
    page = login(context, setup, setup.head_id)
    fill_wizard(page, None)
    posted: list[str] = []
    page.on("request", lambda r: posted.append(r.post_data or "") if r.url.endswith("/api/registration/submit")
            else None)
    decide_in_agent_window(context, lambda: by(page, "wizard-register").click(), pin=PIN)
    by(page, "wizard-verdict").wait_for(timeout=GUARD_MS)
    assert by(page, "wizard-verdict").get_attribute("data-status") == "valid"
    assert len(posted) == 1
    again = page.evaluate("""async (body) => {
        const r = await fetch('/api/registration/submit', {method: 'POST', body,
                                                            headers: {'content-type': 'application/json'}});
        return {status: r.status, body: await r.json()};
    }""", posted[0])  # the same signed request sent again from the page
    assert again["status"] == 422
    assert [r["code"] for r in again["body"]["reasons"]] == ["nonce_used"]


def test_a_request_signed_for_another_origin_is_refused(context: Any, setup: Setup, other: PortalServer,
                                                        shots: Path) -> None:
    """Another site the user has paired with the agent makes the head sign the portal's own registration request
    (its canonical text, nonce and all, as the portal issued it): the agent binds THAT site's origin into the
    CMS, and the portal refuses the signature with ``origin_mismatch`` -- the reason shown in the wizard -- and
    registers nothing. The same request signed through the portal's own page is then accepted: the refusal was
    the origin's alone, and it did not use up the request's nonce."""
    page = login(context, setup, setup.head_id)
    issued: list[Any] = []
    page.on("response", lambda r: issued.append(r) if r.url.endswith("/api/registration/prepare") else None)
    fill_wizard(page, None)
    assert len(issued) == 1 and issued[0].ok
    canonical = issued[0].json()["canonical"]  # the exact bytes the portal wants signed
    assert json.loads(canonical) == json.loads(by(page, "wizard-canonical").inner_text())
    assert json.loads(canonical)["origin"] == setup.origin

    # the other site: paired by the user, it asks the agent to sign the portal's text (the agent shows the user
    # which site asks; the user, deceived, confirms with the PIN)
    foreign = open_portal(context, other, setup.agent.port, cert=setup.head_id)
    assert pair_through_popup(context, foreign)["ok"]
    by(foreign, "text").fill(canonical)
    with context.expect_page(timeout=GUARD_MS) as opened:
        by(foreign, "sign-text").click()
    window = opened.value
    window.wait_for_url(re.compile(r"/confirm/[^/?#]+"), timeout=GUARD_MS)
    assert by(window, "confirm-origin").inner_text().strip() == other.origin
    by(window, "pin").fill(PIN)
    click_decision(window, "approve")
    signed = result(foreign, "sign-text")
    assert signed["ok"], signed
    foreign_cms = signed["value"]["cms"]

    # back in the portal's wizard: its own «Зарегистрировать», but what reaches the portal's endpoint (from this
    # page, with the head's session and the portal's Origin) is the other site's CMS
    genuine: list[str] = []

    def substitute(route: Any) -> None:
        genuine.append(route.request.post_data or "")
        route.continue_(post_data=json.dumps({"cms": foreign_cms}))

    page.route("**/api/registration/submit", substitute)
    with page.expect_response(lambda r: r.url.endswith("/api/registration/submit")) as answered:
        decide_in_agent_window(context, lambda: by(page, "wizard-register").click(), pin=PIN)
    page.unroute("**/api/registration/submit")
    answer = answered.value
    assert answer.status == 422 and answer.request.headers.get("origin") == setup.origin
    refusal = answer.json()
    assert refusal["status"] == "invalid"
    assert [r["code"] for r in refusal["reasons"]] == ["origin_mismatch"], refusal

    verdict = by(page, "wizard-verdict")
    verdict.wait_for(timeout=GUARD_MS)
    assert verdict.get_attribute("data-status") == "invalid"
    reason = page.locator('[data-testid="reason"][data-code="origin_mismatch"]')
    reason.wait_for(timeout=GUARD_MS)
    assert page.locator('[data-testid="reason"]').count() == 1
    assert f"подпись сделана для сайта {other.origin}" in reason.inner_text(), reason.inner_text()
    page.screenshot(path=str(shots / "foreign-origin-refused.png"), full_page=True)

    page.goto(setup.origin + "/organisation")  # nothing registered: the head may still start a registration
    assert by(page, "start-registration").is_visible() and by(page, "organisation-ogrn").count() == 0
    assert page.goto(setup.origin + "/organisation/employees").status == 403

    # the head's own signature of the same request (held back above) is still good: same content, same nonce
    assert len(genuine) == 1 and json.loads(genuine[0])["cms"] != foreign_cms
    page.goto(setup.origin + "/organisation")
    again = page.evaluate("""async (body) => {
        const r = await fetch('/api/registration/submit', {method: 'POST', body,
                                                            headers: {'content-type': 'application/json'}});
        return {status: r.status, body: await r.json()};
    }""", genuine[0])
    assert again["status"] == 200 and again["body"]["status"] == "valid", again
    page.reload()
    assert by(page, "organisation-ogrn").inner_text() == "1127700000031"


def test_the_profile_page_keeps_what_the_user_saved(context: Any, setup: Setup) -> None:
    """«Мой профиль»: every field optional; saved for the logged-in user, shown again after a reload."""
    page = login(context, setup, setup.head_id)
    by(page, "nav-profile").click()
    page.wait_for_url(setup.origin + "/profile")
    ready(page)
    assert by(page, "profile-name").inner_text() == by(page, "user-name").inner_text()
    assert by(page, "profile-name").inner_text().startswith("Иванов")
    values = {"profile-email": "ivanov@romashka.test", "profile-phone": "+7 495 000-00-01",
              "profile-position": "Генеральный директор", "profile-department": "Дирекция"}
    for testid, value in values.items():
        assert by(page, testid).input_value() == ""
        by(page, testid).fill(value)

    def save() -> None:
        with page.expect_response(lambda r: r.url.endswith("/api/profile")) as answered:
            by(page, "profile-save").click()
        assert answered.value.status == 200, answered.value.text()
        page.wait_for_function("() => document.getElementById('status').dataset.state === 'ok'",
                               timeout=GUARD_MS)
        assert "Профиль сохранён" in by(page, "status").inner_text()

    save()
    page.reload()
    ready(page)
    for testid, value in values.items():
        assert by(page, testid).input_value() == value, testid

    # change one field, clear another (optional): kept across pages, not only a reload
    by(page, "profile-phone").fill("+7 495 000-00-02")
    by(page, "profile-department").fill("")
    save()
    by(page, "nav-organisation").click()
    page.wait_for_url(setup.origin + "/organisation")
    by(page, "nav-profile").click()
    page.wait_for_url(setup.origin + "/profile")
    ready(page)
    assert by(page, "profile-phone").input_value() == "+7 495 000-00-02"
    assert by(page, "profile-department").input_value() == ""
    assert by(page, "profile-email").input_value() == values["profile-email"]
    assert by(page, "profile-position").input_value() == values["profile-position"]


def test_an_entrepreneur_registers(context: Any, setup: Setup) -> None:
    page = login(context, setup, setup.ip_id)
    by(page, "start-registration").click()
    ready(page)
    by(page, "wizard-query").fill("317770000000050")
    by(page, "wizard-find").click()
    page.wait_for_function("() => document.querySelector('[data-testid=wizard-found]').dataset.kind === "
                           "'entrepreneur'", timeout=GUARD_MS)
    next_step(page, "entrepreneur")
    assert by(page, "ip-surname").input_value() == "СИДОРОВ"
    by(page, "ip-email").fill("sidorov@ip.test")
    by(page, "ip-phone").fill("+7 900 000-00-00")
    next_step(page, "okved")
    by(page, "okved-main").fill("47.77")
    next_step(page, "estate")
    next_step(page, "review")
    page.wait_for_function("() => !document.querySelector('[data-testid=wizard-register]').disabled",
                           timeout=GUARD_MS)
    decide_in_agent_window(context, lambda: by(page, "wizard-register").click(), pin=PIN)
    by(page, "wizard-verdict").wait_for(timeout=GUARD_MS)
    assert by(page, "wizard-verdict").get_attribute("data-status") == "valid", page.inner_text("body")
    page.goto(setup.origin + "/organisation")
    assert by(page, "organisation-ogrn").inner_text() == "317770000000050"


def test_an_employee_joins_gets_a_role_and_loses_it(browser: Any, context: Any, setup: Setup) -> None:
    head_page = login(context, setup, setup.head_id)
    fill_wizard(head_page, None)
    decide_in_agent_window(context, lambda: by(head_page, "wizard-register").click(), pin=PIN)
    by(head_page, "wizard-verdict").wait_for(timeout=GUARD_MS)
    assert by(head_page, "wizard-verdict").get_attribute("data-status") == "valid"

    other = browser.new_context()  # the employee's own browser profile (the origin stays paired in the agent)
    other.set_default_timeout(GUARD_MS)
    try:
        page = login(other, setup, setup.employee_id, pair=False)
        by(page, "start-join").click()
        ready(page)
        by(page, "join-organisation").select_option(label="ОБЩЕСТВО С ОГРАНИЧЕННОЙ ОТВЕТСТВЕННОСТЬЮ \"РОМАШКА-ТЕСТ\""
                                                    " (ОГРН 1127700000031)")
        by(page, "join-subdivision").select_option("Филиал «Север»")
        by(page, "join-prepare").click()
        page.wait_for_function("() => !document.querySelector('[data-testid=join-sign]').disabled",
                               timeout=GUARD_MS)
        decide_in_agent_window(other, lambda: by(page, "join-sign").click(), pin=PIN)
        page.wait_for_url(setup.origin + "/organisation", timeout=GUARD_MS)
        assert by(page, "membership-pending").is_visible()

        head_page.goto(setup.origin + "/organisation/employees")
        ready(head_page)
        row = head_page.locator('[data-testid="employee"][data-name^="Петрова"]')
        row.get_by_test_id("role-batches").check()
        with head_page.expect_navigation():
            row.get_by_test_id("employee-save").click()
        row = head_page.locator('[data-testid="employee"][data-name^="Петрова"]')
        assert row.get_by_test_id("employee-status").get_attribute("data-status") == "active"

        page.goto(setup.origin + "/")
        assert by(page, "nav-batches").is_visible() and by(page, "nav-employees").count() == 0
        assert page.goto(setup.origin + "/batches").status == 200
        denied = page.goto(setup.origin + "/organisation/employees")
        assert denied.status == 403 and by(page, "denied").get_attribute("data-code") == "role_required"

        row.get_by_test_id("role-batches").uncheck()
        with head_page.expect_navigation():
            row.get_by_test_id("employee-save").click()
        row = head_page.locator('[data-testid="employee"][data-name^="Петрова"]')
        assert row.get_by_test_id("employee-status").get_attribute("data-status") == "removed"
        assert page.goto(setup.origin + "/batches").status == 403
    finally:
        other.close()


def test_documents_and_an_exchange_profile_with_a_certificate_from_the_agent(context: Any, setup: Setup,
                                                                            tmp_path: Path) -> None:
    page = login(context, setup, setup.head_id)
    fill_wizard(page, None)
    decide_in_agent_window(context, lambda: by(page, "wizard-register").click(), pin=PIN)
    by(page, "wizard-verdict").wait_for(timeout=GUARD_MS)

    page.goto(setup.origin + "/organisation/documents")
    ready(page)
    charter = tmp_path / "устав.pdf"
    charter.write_bytes(b"%PDF-1.4 charter")
    by(page, "document-type").fill("Устав")
    by(page, "document-number").fill("1")
    by(page, "document-date").fill("2024-01-10")
    by(page, "document-expires").fill("2030-01-10")
    by(page, "document-file").set_input_files(str(charter))
    with page.expect_navigation():
        by(page, "document-upload").click()
    assert by(page, "document").count() == 1

    page.goto(setup.origin + "/organisation/exchange")
    ready(page)
    by(page, "exchange-system-name").fill("ГИИС ДМДК")
    by(page, "exchange-system-code").fill("DMDK")
    by(page, "exchange-subdivision").select_option(label="Филиал «Север»")
    by(page, "exchange-document").select_option(label="Устав № 1")
    by(page, "exchange-load-certificates").click()
    page.locator(f'[data-testid="certificate"][value="{setup.head_id}"]').check(timeout=GUARD_MS)
    with page.expect_navigation():
        by(page, "exchange-save").click()
    assert by(page, "exchange-profile").count() == 1
    assert "Филиал «Север»" in by(page, "exchange-profile").inner_text()

    page.goto(setup.origin + "/organisation/documents")
    ready(page)
    assert by(page, "document-attached").is_visible()
    by(page, "document-delete").click()
    reason = page.locator('[data-testid="reason"][data-code="document_attached"]')
    reason.wait_for(timeout=GUARD_MS)
    assert "не может быть удалён" in reason.inner_text()
    assert by(page, "document").count() == 1

"""The browser extension's Firefox build (``signagent extension build --browser firefox``) in a real Firefox: Debian's
``firefox-esr``, with the build installed as a temporary add-on, running the page of
``test_cadesplugin_extension.py`` (:class:`VendorPortal`): only the unmodified npm package ``crypto-pro`` (CryptoPro's
own loader inside) and the page's crypto-pro calls, nothing of signagent's. Checked, as a user of that page sees it:

* ``window.cadesplugin`` is the extension's before the page's first script runs, and CryptoPro's loader stood down;
  the agent's own pages get none;
* crypto-pro's ``getUserCertificates()`` lists the simulated token's certificate, once the user paired the page's
  origin in the agent's window (which shows that origin);
* crypto-pro's ``createAttachedSignature`` signs after the user typed the PIN and approved in the agent's window; the
  CMS verifies with signagent's verifier and with ``openssl cms -verify`` (``_check``);
* the user's "no" is crypto-pro's "cancelled" and, to a page in CryptoPro's sample style (``/ext/samples``),
  CryptoPro's cancel error with its code, 0x8010006E (crypto-pro cuts the code off its messages).

No control case without the extension here: CryptoPro's loader then waits out its own load timeout (about 20 s),
and test_cadesplugin_extension.py has that case in Chromium already.

How Firefox is driven: Playwright's Firefox is a patched build of its own that is never downloaded here, so the
pinned npm package ``puppeteer-core`` drives Debian's Firefox over WebDriver BiDi instead
(``tests/browser/firefox_driver.mjs``, one Node process per test). The test sends it one JSON command per line
(open a page, click a ``data-testid``, wait for ``window.results[name]``, read, type and click in the agent's window)
and asserts on its answers here, in Python; the CMS is checked here too. The add-on is installed with BiDi's
``webExtension.install`` (``browser.installExtension``): a temporary add-on, so Firefox takes it unsigned, from
whatever :func:`build_extension` writes for Firefox; nothing here depends on the extension's insides.

Test host names: Firefox has no ``--host-resolver-rules``. The preference ``network.dns.localDomains``
(``portal.test``) makes Firefox resolve that name as it resolves ``localhost``, to this machine, where
:class:`VendorPortal` listens; no proxy, so requests to the agent on ``127.0.0.1`` go direct, as in a user's
browser. The page's origin stays ``http://portal.test:PORT``, the one the agent pairs and shows.

The agent's windows: whoever opens them (the page's script in its click handler, or the extension), the driver
takes the next top-level window at the agent's ``/pair/`` or ``/confirm/`` page. When the agent first asks to allow
the extension itself (its window with ``pair-extension``), the test allows it, as the user would, and goes on.
Puppeteer turns Firefox's popup blocker off by default (``dom.disable_open_during_load: false``); it is put back on
here (Firefox's default), as the Chromium tests keep Chromium's; the page's clicks are real input events (BiDi
``input.performActions``), with the user activation a window opened in a click handler needs.

``context`` is overridden in this module: what ``signing_agent`` (conftest) closes before it stops the agent is this
Firefox, so the agent is started by the same fixture as the Chromium tests' and stops after the browser is gone.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from signagent.service.extension import build_extension
from tests.api.conftest import HANG_GUARD
from tests.conftest import require

from .conftest import BrowserAgentRunner, Token, dump
from .test_cadesplugin_browser import CANCELLED, CRYPTO_PRO, NPM_DIR, TEXT, _check, _der, _thumbprint
from .test_cadesplugin_extension import VendorPortal

FIREFOX = Path(os.environ.get("SIGNAGENT_TEST_FIREFOX", "/usr/bin/firefox-esr"))
DRIVER = Path(__file__).with_name("firefox_driver.mjs")
PUPPETEER = NPM_DIR / "node_modules" / "puppeteer-core" / "package.json"

#: Preferences of the test profile, over puppeteer's own (which already keep Firefox off the network).
PREFS = {
    "network.dns.localDomains": "portal.test",  # the test origin's name, resolved to this machine
    "dom.disable_open_during_load": True,        # the popup blocker on, as Firefox ships it
}

#: True in the agent's window when it asks to allow a browser extension rather than to pair a site.
ASKS_FOR_EXTENSION = "document.querySelector('[data-testid=pair-extension]') !== null"


class Firefox:
    """One Firefox (a fresh profile) behind ``firefox_driver.mjs``: :meth:`call` sends a command, returns the
    answer's value, and raises with the driver's error and the page's console when the command failed."""

    def __init__(self, stderr_path: Path) -> None:
        self._stderr_path = stderr_path
        self._stderr = stderr_path.open("wb")
        node = shutil.which("node")
        assert node is not None
        self._proc = subprocess.Popen([node, str(DRIVER), str(FIREFOX), json.dumps(PREFS)], stdin=subprocess.PIPE,
                                      stdout=subprocess.PIPE, stderr=self._stderr, text=True, encoding="utf-8")
        # Answers are read by a thread so that a hung driver fails the test at the hang guard, not never.
        self._answers: queue.Queue[str] = queue.Queue()
        self.extension_allowed: str | None = None
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self._proc.stdout is not None
        for line in self._proc.stdout:
            self._answers.put(line)
        self._answers.put("")  # end of output: the driver has exited

    def call(self, cmd: str, **args: Any) -> Any:
        assert self._proc.stdin is not None
        try:
            self._proc.stdin.write(json.dumps({"cmd": cmd, **args}) + "\n")
            self._proc.stdin.flush()
        except BrokenPipeError:
            pass  # the driver has exited (Firefox did not start?): its reader says so below, with its stderr
        try:
            line = self._answers.get(timeout=2 * HANG_GUARD)  # the driver's own waits end at HANG_GUARD
        except queue.Empty:
            raise AssertionError(f"the Firefox driver did not answer {cmd} {args}; {self._log()}") from None
        if not line:
            raise AssertionError(f"the Firefox driver exited ({self._proc.wait(HANG_GUARD)}); {self._log()}")
        answer = json.loads(line)
        if not answer["ok"]:
            console = self.call("console") if cmd != "console" else None
            raise AssertionError(f"{cmd} {args} failed in Firefox: {answer['error']}\nconsole: {console}")
        return answer["value"]

    def _log(self) -> str:
        self._stderr.flush()
        return "driver's stderr: " + self._stderr_path.read_text(errors="replace")[-3000:]

    def close(self) -> None:
        """Close the browser (closing twice is harmless)."""
        if self._proc.poll() is None:
            try:
                assert self._proc.stdin is not None
                self._proc.stdin.write(json.dumps({"cmd": "close"}) + "\n")
                self._proc.stdin.close()
                self._proc.wait(HANG_GUARD)
            except (OSError, subprocess.TimeoutExpired):
                self._proc.kill()  # our own child only
                self._proc.wait(HANG_GUARD)
        self._stderr.close()

    # --- what a user does --------------------------------------------------------------------------------------

    def result(self, name: str) -> dict[str, Any]:
        """The outcome of the page's operation ``name`` (waits until there is one)."""
        outcome: dict[str, Any] = self.call("result", name=name)
        return outcome

    def decide(self, testid: str, agent: str, *, approve: bool = True, pin: str | None = None,
               read: str | None = None) -> str | None:
        """Click ``testid`` in the page, then in the window of the agent (at ``agent``) that comes up: read the text
        of ``read`` (what the user is shown), type ``pin``, and approve or deny. Returns the text read.

        A window asking to allow the browser extension itself (``pair-extension``: an extension that speaks to the
        agent for the pages) is allowed first, once, as its user would; :attr:`extension_allowed` says what it
        showed."""
        self.call("click", testid=testid)
        url = self.call("window", origin=agent)
        if "/pair/" in url and self.call("window_evaluate", expression=ASKS_FOR_EXTENSION):
            assert self.extension_allowed is None, "the agent asked twice to allow the extension"
            self.extension_allowed = self.call("window_text", testid="pair-origin")
            self._answer(self.call("window_click", testid="pair-approve"))
            url = self.call("window", origin=agent)
        shown = self.call("window_text", testid=read) if read else None
        if pin is not None:
            self.call("window_fill", testid="pin", value=pin)
        self._answer(self.call("window_click",
                               testid=("pair-" if "/pair/" in url else "") + ("approve" if approve else "deny")))
        return shown

    @staticmethod
    def _answer(page: str | None) -> None:
        # None: the window was closed once the agent had the answer. Else the agent's page after the click.
        assert page is None or not page.lstrip().startswith('{"error"'), f"the agent refused: {page[:500]}"


@pytest.fixture
def context(runner: BrowserAgentRunner, tmp_path: Path) -> Iterator[Firefox]:
    """Firefox in place of the Chromium context of conftest: ``signing_agent`` closes it before stopping the agent
    (a page's pending long poll would hold the agent's shutdown). Depends on ``runner`` for the same reason."""
    require(FIREFOX.is_file() and os.access(FIREFOX, os.X_OK),
            f"Firefox at {FIREFOX} (apt-get install firefox-esr)")
    require(shutil.which("node") and PUPPETEER.is_file(),
            f"node and {PUPPETEER.parent} (cd tests/browser/npm && npm ci --ignore-scripts)")
    require(CRYPTO_PRO.is_file(), f"{CRYPTO_PRO} (cd tests/browser/npm && npm ci --ignore-scripts)")
    firefox = Firefox(tmp_path / "firefox-driver.log")
    try:
        yield firefox
    finally:
        firefox.close()


@pytest.fixture
def firefox(context: Firefox, signing_agent: Token, tmp_path: Path) -> Firefox:
    """The Firefox of ``context`` with the extension's Firefox build for the agent's port installed."""
    build = build_extension(tmp_path / "extension", browser="firefox", port=signing_agent.agent.port)
    context.call("install", path=str(build.directory))
    return context


@pytest.fixture
def vendor_portal() -> Iterator[VendorPortal]:
    server = VendorPortal()
    try:
        yield server
    finally:
        server.close()


def _open(firefox: Firefox, portal: VendorPortal, token: Token) -> None:
    firefox.call("open", url=portal.url("/ext/crypto-pro", thumbprint=_thumbprint(token)))
    loaded = firefox.result("load")
    assert loaded["ok"] and loaded["value"] == {"ours": True, "version": "2.3.5"}, \
        f"{dump(loaded)}; early: {firefox.call('evaluate', expression='window.early')}; " \
        f"console: {firefox.call('console')}"


# --- the extension's script runs first -----------------------------------------------------------------------------

def test_firefox_gets_cadesplugin_from_the_extension_before_the_page(firefox, signing_agent, vendor_portal) -> None:
    _open(firefox, vendor_portal, signing_agent)
    early = firefox.call("evaluate", expression="window.early")
    assert early["cadesplugin"] == "object" and early["ours"] is True, early
    assert early["options"]["port"] == signing_agent.agent.port, early  # the build's settings ran before it too
    # CryptoPro's loader (in crypto-pro's bundle) stood down: window.cadesplugin is still ours, and it injected no
    # script of CryptoPro's extension
    assert firefox.call("evaluate", expression="window.cadesplugin.__signagent === true") is True
    assert firefox.call("evaluate",
                        expression="document.querySelectorAll('script[src*=\"nmcades_plugin_api\"]').length") == 0

    # the agent's own pages are excluded
    firefox.call("open", url=signing_agent.agent.url + "/")
    assert firefox.call("evaluate", expression="typeof window.cadesplugin") == "undefined"

    # and the popup blocker is on in this Firefox, as in a user's: a page's window.open without a click is refused
    firefox.call("open", url="data:text/html,<script>window.opened = Boolean(window.open('about:blank'))</script>")
    assert firefox.call("evaluate", expression="window.opened") is False


# --- crypto-pro lists, signs, and the user's "no" -------------------------------------------------------------------

def test_crypto_pro_pairs_lists_signs_and_is_refused_in_firefox(firefox, signing_agent, vendor_portal,
                                                               tmp_path: Path) -> None:
    from signagent.cms.parsing import load_signed_data

    token, agent = signing_agent, signing_agent.agent
    _open(firefox, vendor_portal, token)

    # first use: the agent's window asks to pair the page's own origin
    shown = firefox.decide("certificates", agent.url, read="pair-origin")
    assert shown == vendor_portal.origin
    # (if the agent asked to allow the extension first, that window named the extension, not a site)
    assert firefox.extension_allowed is None or firefox.extension_allowed.startswith("moz-extension://")
    listed = firefox.result("certificates")
    assert listed["ok"], dump(listed)
    (entry,) = [c for c in listed["value"] if c["thumbprint"] == _thumbprint(token)]
    assert f"CN={entry['name']}" in entry["subjectName"]

    # the signature: the confirmation window names the page's origin, the PIN is typed there
    shown = firefox.decide("sign-attached", agent.url, pin=token.pin, read="confirm-origin")
    assert shown == vendor_portal.origin
    signed = firefox.result("sign-attached")
    assert signed["ok"], dump(signed)
    cms = _der(signed["value"])
    assert load_signed_data(cms).content == TEXT.encode()
    _check(token, cms, tmp_path)

    # the user's "no": crypto-pro's "cancelled" (crypto-pro cuts CryptoPro's message before its " (0x...)") ...
    firefox.call("evaluate", expression="delete window.results['sign-attached']")
    firefox.decide("sign-attached", agent.url, approve=False)
    denied = firefox.result("sign-attached")
    assert not denied["ok"] and denied["message"] == "Действие было отменено пользователем", dump(denied)
    # ... and, to a page written in CryptoPro's sample style (same origin: paired already), CryptoPro's cancel
    # error itself, code included, as cadesplugin.getLastError gives it
    firefox.call("open", url=vendor_portal.url("/ext/samples", thumbprint=_thumbprint(token)))
    firefox.decide("sign-attached", agent.url, approve=False)
    denied = firefox.result("sign-attached")
    assert not denied["ok"] and denied["lastError"].endswith(CANCELLED), dump(denied)


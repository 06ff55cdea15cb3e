"""The browser extension (``signagent extension build``, issue 13 delivery way (a)) in a real Chromium: portal pages
that do NOT load anything of ours -- only what a portal written for CryptoPro's plug-in loads: the unmodified npm
package ``crypto-pro`` (whose bundle embeds CryptoPro's own loader ``cadesplugin_api.js`` 2.3.5), then the page's
code (crypto-pro calls, or CryptoPro's sample style). The extension's content script defines ``window.cadesplugin``
in the page's world at ``document_start``; the vendor loader finds it and stands down; the page lists the
simulated token's certificates, signs, co-signs, and every CMS verifies with signagent's verifier and with
``openssl cms -verify``. The user decides in the agent's window (pairing, then each signature with the PIN),
which shows the page's own origin: the extension's requests are the page's. Without the extension (the control
case) the same page gets CryptoPro's "plug-in unavailable".

The browser: Debian's Chromium through Playwright's ``launch_persistent_context`` (extensions need a persistent
profile) with ``--load-extension``. Playwright passes ``--headless``, which since Chromium 132 is the new headless
mode (the old one left for chrome-headless-shell): it runs extensions. Playwright also passes
``--disable-extensions`` by default; it is dropped here (``ignore_default_args``), as is ``--disable-popup-blocking``
(conftest: the tests run with the popup blocker on, as users do).

The pages, scripts and checks are those of ``test_cadesplugin_browser.py`` (imported, not copied); only the page
template differs: no ``<script src=".../cadesplugin_api.js">``.
"""

from __future__ import annotations

import base64
import html
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from signagent.service.extension import build_extension
from tests.conftest import require

from .conftest import (
    BROWSER_ARGS,
    CHROMIUM,
    CONSOLES,
    GUARD_MS,
    IGNORED_DEFAULT_ARGS,
    PortalServer,
    Token,
    click_decision,
    decide_in_agent_window,
    dump,
    open_portal,
    pair_through_popup,
    result,
)
from .test_cadesplugin_browser import (
    CRYPTO_PRO,
    CRYPTO_PRO_BUTTONS,
    SAMPLES_BUTTONS,
    TEXT,
    CadesPortal,
    _check,
    _der,
    _der_certificate,
    _signed,
    _thumbprint,
    round_trip_figures,
    sign_hash,
)

# A portal page as CryptoPro's users write it: the vendor code (crypto-pro's bundle, CryptoPro's loader inside),
# then the page's own code. Nothing of signagent's.
VENDOR_PAGE = """<!doctype html>
<html lang="ru"><head><meta charset="utf-8"><title>Портал на crypto-pro</title>
<script>
// First script of the page: what exists before any of the page's code runs, and what goes to the extension.
window.early = {{cadesplugin: typeof window.cadesplugin,
                ours: Boolean(window.cadesplugin && window.cadesplugin.__signagent),
                options: window.signagent_cadesplugin_options || null}};
window.relayed = [];
window.addEventListener('message', function (e) {{
  if (e.data && e.data['signagent-relay'] === 'request') window.relayed.push(e.data.path || e.data.kind);
}});
</script></head>
<body>
<h1>Портал на КриптоПро ЭЦП Browser plug-in</h1>
<p><input data-testid="thumbprint" size="50" value="{thumbprint}"></p>
<p><textarea data-testid="text">{text}</textarea></p>
<p>{buttons}</p>
<pre data-testid="log"></pre>
{frame}
<script src="/crypto-pro.js"></script>
<script src="/{script}"></script>
</body></html>
"""


class VendorPortal(CadesPortal):
    """``portal.test`` serving :data:`VENDOR_PAGE`: ``/ext/crypto-pro`` and ``/ext/samples`` (``?thumbprint=``,
    ``?frame=1`` adds an iframe of the crypto-pro page). Everything else as :class:`CadesPortal`."""

    def __init__(self, tls_dir: Path | None = None, csp: str | None = None) -> None:
        self.csp = csp  # the Content-Security-Policy of every answer, if any
        PortalServer.__init__(self, "portal.test", tls_dir=tls_dir)

    @staticmethod
    def _handler(server: PortalServer) -> type[Any]:
        base = CadesPortal._handler(server)

        class Handler(base):  # type: ignore[misc, valid-type]
            def end_headers(self) -> None:
                if getattr(server, "csp", None):
                    self.send_header("Content-Security-Policy", server.csp)  # type: ignore[attr-defined]
                super().end_headers()

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
                pages = {"/ext/crypto-pro": ("crypto-pro-page.js", CRYPTO_PRO_BUTTONS),
                         "/ext/samples": ("samples-page.js", SAMPLES_BUTTONS),
                         "/ext/quiet": ("", ())}  # a page that never touches window.cadesplugin
                if parts.path not in pages:
                    super().do_GET()
                    return
                script, buttons = pages[parts.path]
                frame = ('<iframe data-testid="frame" src="/ext/crypto-pro" width="600" height="300"></iframe>'
                         if query.get("frame") else "")
                body = VENDOR_PAGE.format(
                    thumbprint=html.escape(query.get("thumbprint", "")), text=html.escape(TEXT), frame=frame,
                    script=script, buttons="".join(f'<button data-testid="{b}">{b}</button>' for b in buttons))
                if not script:
                    body = body.replace('<script src="/crypto-pro.js"></script>', "").replace(
                        '<script src="/"></script>', "")
                self._send(body.encode(), "text/html; charset=utf-8")

        return Handler


@pytest.fixture
def vendor_portal() -> Iterator[VendorPortal]:
    require(CRYPTO_PRO.is_file(), f"{CRYPTO_PRO} (cd tests/browser/npm && npm ci --ignore-scripts)")
    server = VendorPortal()
    try:
        yield server
    finally:
        server.close()


def launch_with_extension(pw: Any, extension: Path, profile: Path, extra_args: tuple[str, ...] = ()) -> Any:
    """Debian's Chromium, headless, with ``extension`` loaded (unpacked) into a fresh persistent profile."""
    context = pw.chromium.launch_persistent_context(
        str(profile), executable_path=str(CHROMIUM), headless=True, timeout=GUARD_MS,
        args=[*BROWSER_ARGS, *extra_args, f"--disable-extensions-except={extension}", f"--load-extension={extension}"],
        ignore_default_args=[*IGNORED_DEFAULT_ARGS, "--disable-extensions"])
    context.set_default_timeout(GUARD_MS)
    return context


@pytest.fixture
def extension_context(pw: Any, signing_agent: Token, tmp_path: Path) -> Iterator[Any]:
    """A browser with the extension built (as ``signagent extension build`` does) for the agent's port. Closed before
    the agent stops (it depends on ``signing_agent``): a page's pending long poll would hold the agent's shutdown."""
    build = build_extension(tmp_path / "extension", browser="chromium", port=signing_agent.agent.port)
    context = launch_with_extension(pw, build.directory, tmp_path / "profile")
    try:
        yield context
    finally:
        context.close()


# --- helpers -------------------------------------------------------------------------------------------------------

def _open(context: Any, portal: VendorPortal, token: Token, path: str, **params: object) -> Any:
    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
    page.on("pageerror", lambda e: console.append(f"pageerror: {e}"))
    CONSOLES[id(page)] = console
    page.goto(portal.url(path, thumbprint=_thumbprint(token), **params))
    return page


def _loaded_ours(page: Any) -> None:
    loaded = result(page, "load")
    assert loaded["ok"] and loaded["value"]["ours"], dump(loaded)
    assert loaded["value"]["version"] == "2.3.5"


def _pair_on_first_use(context: Any, page: Any, portal: VendorPortal, first: str) -> dict[str, Any]:
    """Click ``first`` (an action that reads the certificates). The agent's window asks first to allow the extension
    itself (its own ``chrome-extension://`` origin, with the page that says what that means), then, in a second
    window, to pair the page's origin (shown there; no cadesplugin of ours inside the agent's own pages). Allow
    both; the operation then goes on by itself."""
    seen: list[dict[str, Any]] = []

    def inspect(window: Any) -> None:
        seen.append({"origin": window.get_by_test_id("pair-origin").inner_text(),
                     "extension": window.get_by_test_id("pair-extension").count() == 1,
                     "cadesplugin": window.evaluate("() => typeof window.cadesplugin")})

    opened: list[Any] = []

    def record(window: Any) -> None:
        opened.append(window)

    context.on("page", record)  # before the click: the second window may open while the first closes
    try:
        first_window = decide_in_agent_window(context, lambda: page.get_by_test_id(first).click(), inspect=inspect)
        # the second is opened by the extension once the first is allowed
        page.wait_for_function("() => true")  # a round trip to the browser: page events seen so far are delivered
        deadline = time.monotonic() + GUARD_MS / 1000
        while not [w for w in opened if w != first_window] and time.monotonic() < deadline:
            page.wait_for_timeout(50)
    finally:
        context.remove_listener("page", record)
    (second,) = [w for w in opened if w != first_window]
    _decide_opened(second, inspect=inspect)
    assert len(seen) == 2 and re.fullmatch(r"chrome-extension://[a-p]{32}", seen[0]["origin"]), seen
    assert seen == [{"origin": seen[0]["origin"], "extension": True, "cadesplugin": "undefined"},
                    {"origin": portal.origin, "extension": False, "cadesplugin": "undefined"}], seen
    outcome = result(page, first)
    assert outcome["ok"], dump(outcome)
    return outcome


def _sign_attached_shown_as(context: Any, page: Any, token: Token, origin: str) -> bytes:
    """Click ``sign-attached``; the agent's window must name ``origin``; type the PIN, approve; the CMS (DER)."""
    origins: list[str] = []
    decide_in_agent_window(context, lambda: page.get_by_test_id("sign-attached").click(), pin=token.pin,
                           inspect=lambda w: origins.append(w.get_by_test_id("confirm-origin").inner_text()))
    assert origins == [origin]
    signed = result(page, "sign-attached")
    assert signed["ok"], dump(signed)
    return _der(signed["value"])


def _decide_opened(window: Any, *, approve: bool = True, pin: str | None = None,
                   inspect: Callable[[Any], None] | None = None) -> None:
    """Decide in an agent's window that has already opened (as :func:`decide_in_agent_window` does)."""
    window.wait_for_url(re.compile(r"/(pair|confirm)/[^/?#]+"), timeout=GUARD_MS)
    window.wait_for_load_state()
    if inspect is not None:
        inspect(window)
    if pin is not None:
        window.get_by_test_id("pin").fill(pin)
    click_decision(window, ("pair-" if "/pair/" in window.url else "") + ("approve" if approve else "deny"))


# --- the extension's script runs first, everywhere it should ---------------------------------------------------------

def test_the_extension_defines_cadesplugin_before_the_page_in_every_frame(extension_context, signing_agent,
                                                                          vendor_portal) -> None:
    page = _open(extension_context, vendor_portal, signing_agent, "/ext/crypto-pro", frame=1)
    early = page.evaluate("() => window.early")
    assert early == {"cadesplugin": "object", "ours": True,
                     "options": {"port": signing_agent.agent.port, "relay": True}}, early
    _loaded_ours(page)
    # CryptoPro's loader (in crypto-pro's bundle) stood down: window.cadesplugin is still ours, no vendor extension
    # script was injected
    assert page.evaluate("() => window.cadesplugin.__signagent === true")
    assert page.evaluate("() => document.querySelectorAll('script[src*=\"nmcades_plugin_api\"]').length") == 0
    frame = page.frame_locator("[data-testid=frame]")
    frame.locator("[data-testid=log]").wait_for()
    (child,) = [f for f in page.frames if f != page.main_frame]
    child.wait_for_function("() => window.results && 'load' in window.results", timeout=GUARD_MS)
    assert child.evaluate("() => window.early.ours") is True
    assert child.evaluate("() => window.results.load.value.ours") is True

    # the agent's own pages are excluded
    own = extension_context.new_page()
    own.goto(signing_agent.agent.url + "/")
    assert own.evaluate("() => typeof window.cadesplugin") == "undefined"


# --- crypto-pro ----------------------------------------------------------------------------------------------------

def test_crypto_pro_signs_through_the_extension(extension_context, signing_agent, vendor_portal,
                                                tmp_path: Path) -> None:
    from signagent.cms.parsing import load_signed_data
    from signagent.gost import streebog256

    token, context = signing_agent, extension_context
    page = _open(context, vendor_portal, token, "/ext/crypto-pro")
    _loaded_ours(page)
    listed = _pair_on_first_use(context, page, vendor_portal, "certificates")
    thumbprint = _thumbprint(token)
    (entry,) = [c for c in listed["value"] if c["thumbprint"] == thumbprint]
    assert f"CN={entry['name']}" in entry["subjectName"]

    page.get_by_test_id("certificate").click()
    read = result(page, "certificate")
    assert read["ok"], dump(read)
    assert base64.b64decode("".join(read["value"]["exported"].split())) == _der_certificate(token)
    assert read["value"]["algorithm"]["oid"].startswith("1.2.643.7.1.1.1.")

    page.get_by_test_id("system").click()
    system = result(page, "system")
    assert system["ok"] and system["value"]["valid"] is True, dump(system)

    # attached: the confirmation window names the page's origin, the PIN is typed there
    cms = _sign_attached_shown_as(context, page, token, vendor_portal.origin)
    assert load_signed_data(cms).content == TEXT.encode()
    _check(token, cms, tmp_path)

    # detached over crypto-pro's createHash: verifies against the original text
    detached = _signed(context, page, token, "sign-detached")
    assert detached["ok"], dump(detached)
    assert detached["value"]["hash"] == streebog256(TEXT.encode()).hexdigest().upper()
    cms = _der(detached["value"]["signature"])
    assert load_signed_data(cms).content is None
    _check(token, cms, tmp_path, content=TEXT.encode())

    # the user's "no" keeps crypto-pro's "cancelled" shape; an unknown thumbprint is "not found"
    page.evaluate("() => { delete window.results['sign-attached']; }")
    denied = _signed(context, page, token, "sign-attached", approve=False)
    assert not denied["ok"] and denied["message"] == "Действие было отменено пользователем", dump(denied)
    page.get_by_test_id("unknown").click()
    unknown = result(page, "unknown")
    assert not unknown["ok"] and "не найден" in unknown["message"], dump(unknown)


# --- CryptoPro's sample style --------------------------------------------------------------------------------------

def test_samples_style_signs_cosigns_and_signs_a_hash_through_the_extension(extension_context, signing_agent,
                                                                            vendor_portal, tmp_path: Path) -> None:
    from signagent.cms.parsing import load_signed_data

    token, context = signing_agent, extension_context
    page = _open(context, vendor_portal, token, "/ext/samples")
    _loaded_ours(page)
    described = _pair_on_first_use(context, page, vendor_portal, "describe")["value"]
    assert described["thumbprint"] == _thumbprint(token) and described["hasKey"] is True
    assert described["csp"].startswith("SignAgent")

    attached = _signed(context, page, token, "sign-attached")
    assert attached["ok"], dump(attached)
    cms = _der(attached["value"])
    assert load_signed_data(cms).content == TEXT.encode()
    _check(token, cms, tmp_path)

    with context.expect_page(timeout=GUARD_MS) as opened:
        page.get_by_test_id("cosign").click()
    window = opened.value
    window.wait_for_url(re.compile(r"/confirm/[^/?#]+"), timeout=GUARD_MS)
    window.wait_for_load_state()
    assert window.get_by_test_id("confirm-origin").inner_text() == vendor_portal.origin
    window.get_by_test_id("pin").fill(token.pin)
    click_decision(window, "approve")
    cosigned = result(page, "cosign")
    assert cosigned["ok"], dump(cosigned)
    _check(token, _der(cosigned["value"]["signature"]), tmp_path, signers=2)

    sign_hash(context, page, token, tmp_path)

    page.get_by_test_id("cades-t").click()
    refused = result(page, "cades-t")
    assert not refused["ok"] and refused["message"].endswith("(0x80004001)"), dump(refused)


# --- the control case: the same page without the extension --------------------------------------------------------

def test_without_the_extension_crypto_pro_reports_the_plugin_unavailable(context, signing_agent,
                                                                         vendor_portal) -> None:
    page = _open(context, vendor_portal, signing_agent, "/ext/crypto-pro")
    assert page.evaluate("() => window.early") == {"cadesplugin": "undefined", "ours": False, "options": None}
    loaded = result(page, "load")  # no window.cadesplugin at all: crypto-pro loads CryptoPro's loader on first use
    assert not loaded["ok"], dump(loaded)
    page.get_by_test_id("certificates").click()
    listed = result(page, "certificates")
    # crypto-pro's own words for a plug-in that did not load ...
    assert not listed["ok"] and listed["message"] == "Ошибка при инициализации модуля для работы с Cades plugin", \
        dump(listed)
    # ... because CryptoPro's loader, now in window.cadesplugin, found no CryptoPro extension in this browser
    vendor = page.evaluate("() => window.cadesplugin.then(() => 'loaded', (e) => String(e))")
    assert vendor == "Плагин недоступен"
    assert page.evaluate("() => Boolean(window.cadesplugin.__signagent)") is False


# --- what the extension changes for the page ------------------------------------------------------------------------

#: A portal that may not reach the agent itself: its Content-Security-Policy allows connections to itself only.
#: ('unsafe-eval': crypto-pro builds its calls as code strings and evals them, so a portal on it must allow that.)
LOCKED_CSP = "default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; connect-src 'self'"


@pytest.fixture
def locked_portal(tmp_path: Path) -> Iterator[VendorPortal]:
    """``https://portal.test`` with :data:`LOCKED_CSP`; the browser below puts it in the public address space."""
    require(CRYPTO_PRO.is_file(), f"{CRYPTO_PRO} (cd tests/browser/npm && npm ci --ignore-scripts)")
    server = VendorPortal(tls_dir=tmp_path / "tls", csp=LOCKED_CSP)
    try:
        yield server
    finally:
        server.close()


def test_a_public_https_portal_that_may_not_reach_the_agent_signs_through_the_extension(
        pw, signing_agent, locked_portal, tmp_path: Path) -> None:
    # The portal's own fetch to the agent is refused twice over (its CSP; Chromium's local network access for a
    # public site calling loopback, never granted here): the extension's requests are its own, so the page still
    # lists and signs, and the agent still shows the page's origin.
    build = build_extension(tmp_path / "extension", browser="chromium", port=signing_agent.agent.port)
    context = launch_with_extension(pw, build.directory, tmp_path / "profile", (
        "--ignore-certificate-errors", f"--ip-address-space-overrides=127.0.0.1:{locked_portal.port}=public"))
    try:
        token = signing_agent
        page = _open(context, locked_portal, token, "/ext/crypto-pro")
        assert locked_portal.origin.startswith("https://")
        direct = page.evaluate("""(url) => fetch(url + '/v1/info', {targetAddressSpace: 'loopback'})
                                  .then(() => 'reached', (e) => e.name)""", signing_agent.agent.url)
        assert direct == "TypeError", direct
        _loaded_ours(page)
        listed = _pair_on_first_use(context, page, locked_portal, "certificates")
        assert _thumbprint(token) in [c["thumbprint"] for c in listed["value"]]
        _check(token, _sign_attached_shown_as(context, page, token, locked_portal.origin), tmp_path)
    finally:
        context.close()


def test_refusing_the_extension_is_cancelled_for_the_page(extension_context, signing_agent, vendor_portal) -> None:
    # The user says no to the extension itself (the first window): the page gets crypto-pro's "cancelled", and no
    # second window (the page's pairing) opens.
    page = _open(extension_context, vendor_portal, signing_agent, "/ext/crypto-pro")
    _loaded_ours(page)
    window = decide_in_agent_window(extension_context, lambda: page.get_by_test_id("certificates").click(),
                                    approve=False)
    listed = result(page, "certificates")
    assert not listed["ok"] and "отменено пользователем" in listed["message"], dump(listed)
    assert [p for p in extension_context.pages if p not in (page, window) and not p.is_closed()
            and "/pair/" in p.url] == []
    # the next use asks again (the user may have changed their mind); a refusal's code is CryptoPro's "cancelled
    # by the user"
    decide_in_agent_window(extension_context, lambda: page.evaluate("""() => {
        cadesplugin.CreateObjectAsync('CAdESCOM.Store')
          .then((store) => store.Open(2, 'My', 0).then(() => store.Certificates))
          .then(() => 'listed', (e) => cadesplugin.getLastError(e)).then((code) => { window.refusal = code; });
      }"""), approve=False)
    code = page.wait_for_function("() => window.refusal", timeout=GUARD_MS).json_value()
    assert code.endswith("(0x8010006E)"), code


def test_a_page_that_never_uses_cadesplugin_sends_nothing_to_the_agent(extension_context, signing_agent,
                                                                     vendor_portal) -> None:
    # The extension is in every page of every site: a page that does not use it costs no request to the agent
    # (loading is lazy), and the first use loads it.
    page = _open(extension_context, vendor_portal, signing_agent, "/ext/quiet")
    page.wait_for_load_state("load")
    page.wait_for_timeout(500)
    assert page.evaluate("() => window.early.ours") is True
    assert page.evaluate("() => window.relayed") == []
    version = page.evaluate("() => window.cadesplugin.then(() => cadesplugin.JSModuleVersion)")
    assert version == "2.3.5"
    assert page.evaluate("() => window.relayed") == ["/v1/info"]


def test_round_trip_figures_through_the_extension(extension_context, signing_agent, vendor_portal, portal) -> None:
    """One signature with the approval automated, three times each in the same browser: crypto-pro through the
    extension (relay), and our own JS client (``SIGNAGENT_CADES_TIMINGS``, as test_cadesplugin_browser.py)."""
    token, context = signing_agent, extension_context
    cades = _open(context, vendor_portal, token, "/ext/crypto-pro")
    _loaded_ours(page=cades)
    _pair_on_first_use(context, cades, vendor_portal, "certificates")
    ours = open_portal(context, portal, token.agent.port, text=TEXT, cert=token.certificate_id)
    assert pair_through_popup(context, ours)["ok"]
    round_trip_figures(context, token, {"crypto_pro_extension": (cades, "sign-attached"),
                                        "signagent_js_beside_extension": (ours, "sign-text")})

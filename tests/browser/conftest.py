"""Browser tests: Debian's Chromium driven by Playwright (sync API) against a real agent and test portals.

* The browser is the system's ``/usr/bin/chromium`` (scripts/setup.sh installs it); Playwright never downloads
  one. A missing Chromium or Playwright skips on a developer's machine and fails in CI (``tests.conftest.require``).
* Test origins have their own names: ``portal.test``, ``evil.test`` and ``other.test`` all resolve to 127.0.0.1
  inside the browser (``--host-resolver-rules``), each served by its own :class:`PortalServer` on its own port.
* A portal page (``/``) loads the JS client (a copy of ``signagent/api/static/signagent.js`` read at request time,
  or the agent's own ``/signagent.js`` with ``client=agent``), connects on load and has one button per operation
  (``data-testid`` = ``pair``, ``certificates``, ``sign-text``, ``sign-pdf``, ``authenticate``, ``info``;
  ``events`` subscribes to ``request-status`` events, collected in ``window.events``); each
  outcome lands in ``window.results[name]`` as ``{ok: true, value}`` or ``{ok: false, name, code, messageRu}``.
  ``?nopopup=1`` makes ``window.open`` answer null, as under a popup blocker; ``?onlink=1`` gives the client an
  ``onConfirmLink`` handler (its URL lands in ``results['confirm-link']``); ``?pdf=1`` loads ``/document.pdf``.
* :func:`decide_in_agent_window` waits for the agent's popup and clicks its buttons (typing the PIN first).
* The agent is ``tests/api/conftest.py``'s :class:`AgentRunner` (uvicorn in a thread of this process);
  :func:`signing_agent` adds a simulated token with the head-of-organisation certificate.

Waits are bounded by a hang guard only; nothing here measures time.
"""

from __future__ import annotations

import datetime
import html
import http.server
import json
import os
import re
import ssl
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from tests.api.conftest import HANG_GUARD, Agent, AgentRunner
from tests.conftest import ROOT, require, simulator_env

os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")  # the system's Chromium only, never a download

CHROMIUM = Path(os.environ.get("SIGNAGENT_TEST_CHROMIUM", "/usr/bin/chromium"))
CLIENT_JS = ROOT / "signagent" / "api" / "static" / "signagent.js"
TEST_HOSTS = ("portal.test", "evil.test", "other.test")
GUARD_MS = HANG_GUARD * 1000  # Playwright counts in milliseconds
PIN, SO_PIN = "1234", "87654321"

#: This machine's network is closed: without these Chromium keeps trying (and logging) refused connections.
#: --no-sandbox: the tests may run as root, where Chromium's sandbox refuses to start.
BROWSER_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=" + ", ".join(f"MAP {name} 127.0.0.1" for name in TEST_HOSTS),
)
#: Playwright turns Chromium's popup blocker off by default; these tests need it on, as a user has it.
IGNORED_DEFAULT_ARGS = ("--disable-popup-blocking",)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "browser: drives a real Chromium (tests/browser)")
    config.addinivalue_line("markers", "needs_lead(what): needs agent work landing in parallel (issue 12): the "
                            "operations endpoints and confirmation page, or the client files served cross-origin")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if item.path.is_relative_to(here):
            item.add_marker(pytest.mark.browser)


# --- the browser ---------------------------------------------------------------------------------------------------

def launch_browser(playwright: Any, extra_args: tuple[str, ...] = ()) -> Any:
    """Debian's Chromium, headless, with the test host names and the popup blocker on."""
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=[*BROWSER_ARGS, *extra_args],
                                      ignore_default_args=list(IGNORED_DEFAULT_ARGS), timeout=GUARD_MS)


@pytest.fixture(scope="package")  # not session: Playwright's sync API keeps an event loop running in this thread
def pw() -> Iterator[Any]:          # while it lives, and later tests' asyncio.run() would fail
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        require(False, "playwright (the test extra of pyproject.toml)")
    require(CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK), f"Chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="package")
def browser(pw: Any) -> Iterator[Any]:
    b = launch_browser(pw)
    try:
        yield b
    finally:
        b.close()


@pytest.fixture
def context(browser: Any, runner: BrowserAgentRunner) -> Iterator[Any]:
    """A fresh browser profile per test (no permission, cookie or popup survives a test). Closed before the agents
    stop (it depends on ``runner``): a page's pending long poll would otherwise hold the agent's shutdown."""
    ctx = browser.new_context()
    ctx.set_default_timeout(GUARD_MS)
    try:
        yield ctx
    finally:
        ctx.close()


# --- test portals --------------------------------------------------------------------------------------------------

PORTAL_PAGE = """<!doctype html>
<html lang="ru"><head><meta charset="utf-8"><title>Тестовый портал</title></head>
<body>
<h1>Тестовый портал · Test portal</h1>
<p><label>Сертификат <input data-testid="certificate-id" size="70" value="{cert}"></label></p>
<p><label>Текст <textarea data-testid="text">{text}</textarea></label></p>
<p><label>Challenge <input data-testid="challenge" size="70" value="{challenge}"></label></p>
<p>
<button data-testid="info">info</button>
<button data-testid="pair">Подключить · Pair</button>
<button data-testid="certificates">Сертификаты · Certificates</button>
<button data-testid="sign-text">Подписать текст · Sign text</button>
<button data-testid="sign-pdf">Подписать PDF · Sign PDF</button>
<button data-testid="authenticate">Войти · Authenticate</button>
<button data-testid="events">События · Events</button>
</p>
<pre data-testid="log"></pre>
<script type="module" src="/portal.js"></script>
</body></html>
"""

# The page's script: outcomes in window.results; every operation starts synchronously in the click handler (the
# client must open its popup before its first await).
PORTAL_JS = r"""
const params = new URLSearchParams(location.search);
const results = window.results = {};
const log = document.querySelector('[data-testid=log]');
let client = null;
function finish(name, outcome) {
  results[name] = outcome;
  log.textContent += `${name}: ${JSON.stringify(outcome).slice(0, 300)}\n`;
}
function describe(err) {
  return {ok: false, name: err && err.name, code: err && err.code, message: String(err && err.message),
          messageRu: err && err.messageRu, typed: Boolean(client && err instanceof client.SignAgentError)};
}
function track(name, start) {
  let promise;
  try { promise = start(); } catch (err) { promise = Promise.reject(err); }
  promise.then((value) => finish(name, {ok: true, value}), (err) => finish(name, describe(err)));
}

if (params.has('nopopup')) {
  // What a popup blocker does to the page: window.open answers null. (Chromium's own blocker is on in these tests,
  // but Playwright's waits run script in the page with a user gesture, which lets a popup through afterwards.)
  window.open = () => null;
}
try {
  client = await import(params.get('client') || '/signagent.js');
  window.client = client;
  finish('load', {ok: true});
} catch (err) {
  finish('load', describe(err));
  throw err;
}

let pdf = null;
if (params.has('pdf')) {
  pdf = new Uint8Array(await (await fetch('/document.pdf')).arrayBuffer());
  finish('pdf', {ok: true, value: pdf.length});
}

const value = (id) => document.querySelector(`[data-testid=${id}]`).value;
let agent = null;
const actions = {
  info: () => agent.info(),
  pair: () => agent.pair(),
  certificates: () => agent.certificates(),
  'sign-text': () => agent.sign({certificateId: value('certificate-id'), content: value('text'),
                                 contentType: 'text/plain', filename: 'заявление.txt', description: 'Заявление'}),
  'sign-pdf': () => agent.sign({certificateId: value('certificate-id'), content: pdf, detached: true,
                                contentType: 'application/pdf', filename: 'document.pdf'}),
  authenticate: () => agent.authenticate(value('challenge'), {certificateId: value('certificate-id') || undefined}),
  events: async () => {  // every request-status event the agent sends this page, in window.events
    window.events = [];
    agent.on('request-status', (data) => window.events.push(data));
    return true;
  },
};
for (const [name, start] of Object.entries(actions)) {
  document.querySelector(`[data-testid="${name}"]`).addEventListener('click', () => track(name, start));
}

const options = {port: Number(params.get('agent')), timeoutMs: 20000};
if (params.has('onlink')) options.onConfirmLink = (url) => finish('confirm-link', {ok: true, value: url});
track('connect', () => client.SignAgent.connect(options).then((connected) => {
  agent = window.agent = connected;
  return connected.lastInfo;
}));
"""

FRAME_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>frame</title></head>
<body><iframe data-testid="frame" name="victim" src="{src}" width="600" height="400"></iframe></body></html>
"""


class PortalServer:
    """A web site for the browser: ``name`` (one of :data:`TEST_HOSTS`) on its own port, HTTP or HTTPS."""

    def __init__(self, name: str, tls_dir: Path | None = None) -> None:
        self.name = name
        self.document = b""  # served at /document.pdf
        self.requests: list[str] = []
        server = self
        self._httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), self._handler(server))
        self._httpd.daemon_threads = True
        self.scheme = "http"
        if tls_dir is not None:
            cert, key = self_signed(tls_dir, name)
            tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            tls.load_cert_chain(cert, key)
            self._httpd.socket = tls.wrap_socket(self._httpd.socket, server_side=True)
            self.scheme = "https"
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()

    @property
    def origin(self) -> str:
        return f"{self.scheme}://{self.name}:{self.port}"

    def url(self, path: str = "/", **params: object) -> str:
        return self.origin + path + ("?" + urlencode(params) if params else "")

    def page_url(self, agent_port: int, **params: object) -> str:
        """The portal page, talking to the agent on ``agent_port``."""
        return self.url("/", agent=agent_port, **params)

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(HANG_GUARD)

    @staticmethod
    def _handler(server: PortalServer) -> type[http.server.BaseHTTPRequestHandler]:
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
                server.requests.append(self.path)
                if parts.path == "/":
                    body = PORTAL_PAGE.format(cert=html.escape(query.get("cert", "")),
                                              text=html.escape(query.get("text", "Заявление о регистрации")),
                                              challenge=html.escape(query.get("challenge", ""))).encode()
                    self._send(body, "text/html; charset=utf-8")
                elif parts.path == "/portal.js":
                    self._send(PORTAL_JS.encode(), "text/javascript; charset=utf-8")
                elif parts.path == "/signagent.js":
                    # Read now, not copied into the repository: the tests always run the client as it is.
                    self._send(CLIENT_JS.read_bytes(), "text/javascript; charset=utf-8")
                elif parts.path == "/document.pdf":
                    self._send(server.document, "application/pdf")
                elif parts.path == "/favicon.ico":
                    self._send(b"", "image/x-icon")  # no 404 in the console logs the tests print
                elif parts.path == "/frame":
                    self._send(FRAME_PAGE.format(src=html.escape(query.get("src", ""))).encode(),
                               "text/html; charset=utf-8")
                else:
                    self.send_error(404)

            def _send(self, body: bytes, media_type: str) -> None:
                self.send_response(200)
                self.send_header("Content-Type", media_type)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass  # quiet: pytest shows failures, not access logs

        return Handler


def self_signed(directory: Path, name: str) -> tuple[Path, Path]:
    """A throw-away TLS certificate and key for ``name`` (the browser runs with --ignore-certificate-errors)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=7))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .sign(key, hashes.SHA256()))
    directory.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = directory / f"{name}.crt", directory / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@pytest.fixture
def portal() -> Iterator[PortalServer]:
    server = PortalServer("portal.test")
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def evil() -> Iterator[PortalServer]:
    server = PortalServer("evil.test")
    try:
        yield server
    finally:
        server.close()


# --- the agent -----------------------------------------------------------------------------------------------------

class BrowserAgentRunner(AgentRunner):
    """:class:`AgentRunner` whose agents can be given configuration options (a PKCS#11 module, a key directory)."""

    def start_with(self, options: dict[str, object], **kwargs: Any) -> Agent:
        """An agent started by :meth:`AgentRunner.start` with ``options`` added to its configuration."""
        import tests.api.conftest as api_conftest

        original = api_conftest.load_config

        def load_config(given: dict[str, object], **rest: Any) -> Any:
            return original({**given, **options}, **rest)

        api_conftest.load_config = load_config  # type: ignore[assignment]
        try:
            return self.start(**kwargs)
        finally:
            api_conftest.load_config = original


@pytest.fixture
def runner(tmp_path: Path) -> Iterator[BrowserAgentRunner]:
    r = BrowserAgentRunner(tmp_path)
    try:
        yield r
    finally:
        r.stop_all()


@pytest.fixture
def agent(runner: BrowserAgentRunner) -> Agent:
    """A running agent without tokens (pairing, info, refusals)."""
    return runner.start()


@dataclass
class Token:
    """A simulated token holding the head-of-organisation certificate and key, and the agent that sees it."""

    agent: Agent
    certificate_id: str
    pin: str
    certificate: Path
    root: Path
    intermediate: Path

    def chain_file(self, directory: Path) -> Path:
        """Root and intermediate in one PEM file (``openssl cms -verify -CAfile``)."""
        path = directory / "chain.pem"
        path.write_bytes(self.root.read_bytes() + self.intermediate.read_bytes())
        return path


@pytest.fixture
def signing_agent(context: Any, runner: BrowserAgentRunner,
                  tmp_path_factory: pytest.TempPathFactory) -> Iterator[Token]:
    """An agent whose PKCS#11 module is the simulator's, with the token "Head" (PIN :data:`PIN`). Stopped after the
    browser context closes (an open page's event stream or long poll would hold the agent's shutdown) and before
    the simulator's environment goes."""
    import pkcs11_sim
    from pkcs11_sim.provision import provision
    from pkcs11_sim.store import SimRoot

    with simulator_env(tmp_path_factory) as sim_dir:
        made = provision(SimRoot(sim_dir), label="Head", pin=PIN.encode(), so_pin=SO_PIN.encode(), profile="head")
        agent = runner.start_with({"pkcs11_modules": [pkcs11_sim.module_path()],
                                   "keys_dir": str(tmp_path_factory.mktemp("agent-keys"))})
        yield Token(agent, made.certificate_id, PIN, made.certificate, made.root_certificate,
                    made.intermediate_certificate)
        context.close()  # its pages first (closing twice is harmless)
        runner.stop(agent)


# --- helpers -------------------------------------------------------------------------------------------------------

def open_portal(context: Any, server: PortalServer, agent_port: int, **params: object) -> Any:
    """A portal page, loaded, its client connected (or failed to); a page for the test to click."""
    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
    page.on("pageerror", lambda e: console.append(f"pageerror: {e}"))
    CONSOLES[id(page)] = console
    page.goto(server.page_url(agent_port, **params))
    result(page, "connect")
    return page


#: Console lines of the pages :func:`open_portal` opened, by ``id(page)``: shown when an outcome never comes.
CONSOLES: dict[int, list[str]] = {}


def result(page: Any, name: str) -> dict[str, Any]:
    """The outcome of the page's operation ``name`` (waits until there is one)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_function("n => window.results && n in window.results", arg=name, timeout=GUARD_MS)
    except PlaywrightTimeout:
        log = page.evaluate("() => window.results || null") if not page.is_closed() else None
        raise AssertionError(f"no outcome {name!r}; results: {log}; console: {CONSOLES.get(id(page))}") from None
    outcome: dict[str, Any] = page.evaluate("n => window.results[n]", name)
    return outcome


def decide_in_agent_window(context: Any, start: Callable[[], None], *, approve: bool = True,
                           pin: str | None = None, inspect: Callable[[Any], None] | None = None) -> Any:
    """Run ``start`` (a click that makes the client open the agent's window), wait for that window, let
    ``inspect`` look at it (what the user is shown), type the PIN when given, and approve or deny. Returns the
    agent's window (closed already when the client closed it)."""

    with context.expect_page(timeout=GUARD_MS) as opened:
        start()
    window = opened.value
    window.wait_for_url(re.compile(r"/(pair|confirm)/[^/?#]+"), timeout=GUARD_MS)
    window.wait_for_load_state()
    pairing = "/pair/" in window.url
    if inspect is not None:
        inspect(window)
    if pin is not None:
        window.get_by_test_id("pin").fill(pin)
    click_decision(window, ("pair-" if pairing else "") + ("approve" if approve else "deny"))
    return window


def click_decision(window: Any, button: str) -> None:
    """Click ``button`` (its ``data-testid``) in the agent's window; fails at once when the agent refuses it."""
    from playwright.sync_api import Error as PlaywrightError

    try:
        window.get_by_test_id(button).click()
        window.wait_for_load_state("load")
        answer = window.evaluate("() => document.body ? document.body.innerText : ''")
    except PlaywrightError:
        if not window.is_closed():  # the client closes its popup once the request is finished: that is fine
            raise
        return
    if answer.lstrip().startswith('{"error"'):  # the agent refused the decision: say so now, not at a timeout
        raise AssertionError(f"the agent's page refused the user's decision: {answer[:500]}")


def pair_through_popup(context: Any, page: Any) -> dict[str, Any]:
    """Pair the page's origin the way a user does: click "pair", allow it in the agent's popup."""
    decide_in_agent_window(context, lambda: page.get_by_test_id("pair").click())
    return result(page, "pair")


def dump(outcome: dict[str, Any]) -> str:
    """An outcome for an assertion message."""
    return json.dumps(outcome, ensure_ascii=False)[:2000]

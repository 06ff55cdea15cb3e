"""Reference portal benchmark: one full head registration in Chromium, timed from opening the portal to the
verifier's "valid" verdict, and the registration verifier's throughput (issue 14).

Run from the repository root::

    .venv/bin/python -m benchmarks.bench_portal [--quick] [--json] [--no-verifier]

Set-up: the same world as the browser tests (``tests/browser/test_portal_browser.py``'s :func:`portal_world`,
imported): a fresh test PKI, the agent (uvicorn in a thread of this process) seeing the simulated tokens "Head",
"Employee" and "IP" made from it, the reference portal on SQLite in a temporary directory, trusting that PKI
(both CRLs, revocation ``hard``, offline) and answering ЕГРЮЛ/ЕГРИП from the demo extracts, on its own origin
``http://portal.test:PORT``. The browser is Debian's Chromium (``/usr/bin/chromium``) driven by Playwright,
launched with the tests' flags (``tests/browser/conftest.py``'s :func:`launch_browser`: headless, the test host
names mapped to 127.0.0.1, the popup blocker on), one fresh browser profile.

**One registration** (one run, first use of everything: the portal's first verification, the agent's first
inventory and signature; nothing warmed up before), the user's steps automated with the tests' own helpers:
pairing the portal with the agent in the agent's window, login by certificate (PIN typed in the agent's window),
the whole wizard (lookup in the demo ЕГРЮЛ -> requisites -> ОКВЭД -> head -> real estate -> subdivisions ->
beneficiaries -> review), «Зарегистрировать», the PIN in the agent's confirmation window, the verdict.

* **wall time**: from ``page.goto`` of the portal to the verdict ``valid`` on the page;
* **typed input**: the time spent in Playwright's ``fill`` (every form field and both PINs; counted by wrapping
  ``Locator.fill`` for the run), and the wall time **minus** it -- what the machine costs, the user's typing
  excluded (clicks, choices and Playwright's own waits for elements stay in);
* **the phases**: login (pairing + certificate login), the wizard, and the registration signature;
* **the agent's share of the signature**: ``(a)`` from the click on «Зарегистрировать» to the agent's confirmation
  page loaded in its window (the client's ``POST /v1/sign``, the popup, the page) plus ``(b)`` from the click on
  «Подписать» in that window to the signed request leaving the portal's page (the token's PIN check and
  signature, the agent's answer to the client's poll); **the portal's verification**: the ``POST
  /api/registration/submit`` request's duration as the page's Resource Timing reports it (the verifier, the
  register match, the database). Page times are read as wall-clock epoch milliseconds (``performance.timeOrigin``)
  and compared with this process's ``time.time()``: same clock, ~1 ms precision.

The agent, the portal and the Playwright client share this process (and its GIL) and the machine's cores with
Chromium: the figures are of the whole set-up on this machine, not of any one part alone.

**Verifier throughput**: ``benchmarks/bench_registration.py``'s ``main`` is called (it exposes no function that
returns figures; its lines are printed as it prints them, or its JSON embedded with ``--json``): signed
registration requests verified per second beside raw CMS verification of the same bytes, chain and revocation
warm. ``--quick`` runs it with its ``--quick``; ``--no-verifier`` skips it.

Informative only; the exit status is 0 (a figure that cannot be measured shows ``-`` with the reason).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import re
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

_ROOT = Path(__file__).resolve().parent.parent
if str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))

SUBMIT = "/api/registration/submit"


class _TempDirs:
    """Fresh directories under ``base``, by name (what :func:`portal_world` asks of pytest's tmp_path_factory)."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.count = 0

    def mktemp(self, basename: str, numbered: bool = True) -> Path:
        self.count += 1
        path = self.base / (f"{basename}{self.count}" if numbered else basename)
        path.mkdir(parents=True)
        return path


class _Typing:
    """Time spent in Playwright's ``Locator.fill`` while active (the run's typed input)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.fields = 0

    @contextlib.contextmanager
    def counted(self) -> Iterator[_Typing]:
        from playwright.sync_api import Locator

        original = Locator.fill
        typing = self

        def fill(self: Any, *args: Any, **kwargs: Any) -> None:
            begin = time.perf_counter()
            try:
                original(self, *args, **kwargs)
            finally:
                typing.seconds += time.perf_counter() - begin
                typing.fields += 1

        Locator.fill = fill  # type: ignore[method-assign]
        try:
            yield self
        finally:
            Locator.fill = original  # type: ignore[method-assign]


def _register(context: Any, page: Any) -> dict[str, float]:
    """«Зарегистрировать», the PIN in the agent's confirmation window, the verdict; the signature's timeline."""
    from tests.browser.conftest import GUARD_MS, PIN, click_decision
    from tests.browser.test_portal_browser import by

    clicked = time.time()
    with context.expect_page(timeout=GUARD_MS) as opened:
        by(page, "wizard-register").click()
    window = opened.value
    window.wait_for_url(re.compile(r"/confirm/[^/?#]+"), timeout=GUARD_MS)
    window.wait_for_load_state()
    shown = time.time()
    window.get_by_test_id("pin").fill(PIN)
    approved = time.time()
    click_decision(window, "approve")
    verdict = by(page, "wizard-verdict")
    verdict.wait_for(timeout=GUARD_MS)
    done = time.time()
    status = verdict.get_attribute("data-status")
    if status != "valid":
        raise RuntimeError(f"the registration was not accepted ({status}): {page.inner_text('body')[:500]}")
    entries = page.evaluate("""(path) => performance.getEntriesByType('resource')
        .filter((e) => new URL(e.name).pathname === path)
        .map((e) => ({start: performance.timeOrigin + e.startTime, end: performance.timeOrigin + e.responseEnd}))""",
                            SUBMIT)
    if len(entries) != 1:
        raise RuntimeError(f"expected one {SUBMIT} in the page's resource timing, found {len(entries)}")
    submitted, answered = entries[0]["start"] / 1000, entries[0]["end"] / 1000
    return {"agent_page_s": shown - clicked, "agent_token_s": submitted - approved,
            "portal_verify_s": answered - submitted, "verdict_shown_s": done - answered, "total_s": done - clicked}


def browser_registration() -> dict[str, Any]:
    """One full head registration in Chromium (see the module's docstring); the figures, in seconds."""
    from playwright.sync_api import sync_playwright

    from tests.browser.conftest import CHROMIUM, GUARD_MS, BrowserAgentRunner, launch_browser
    from tests.browser.test_portal_browser import fill_wizard, login, portal_world

    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        raise RuntimeError(f"no Chromium at {CHROMIUM}")
    with tempfile.TemporaryDirectory(prefix="signagent-bench-portal-") as tmp, sync_playwright() as pw:
        began = time.perf_counter()
        browser = launch_browser(pw)
        launched = time.perf_counter() - began
        runner = BrowserAgentRunner(Path(tmp) / "agent")
        (Path(tmp) / "agent").mkdir()
        context = browser.new_context()
        context.set_default_timeout(GUARD_MS)
        typing = _Typing()
        try:
            with portal_world(runner, _TempDirs(Path(tmp)), context.close) as world, typing.counted():
                start = time.perf_counter()
                page = login(context, world, world.head_id)  # opens the portal, pairs, logs in by certificate
                logged_in = time.perf_counter()
                login_typing = typing.seconds
                fill_wizard(page, None)
                filled = time.perf_counter()
                wizard_typing = typing.seconds - login_typing
                sign = _register(context, page)
                wall = time.perf_counter() - start
        finally:
            runner.stop_all()
            browser.close()
    typed = typing.seconds
    return {"browser_launch_s": launched, "wall_s": wall, "typed_s": typed, "typed_fields": typing.fields,
            "wall_minus_typed_s": wall - typed,
            "login_s": logged_in - start, "login_typed_s": login_typing,
            "wizard_s": filled - logged_in, "wizard_typed_s": wizard_typing,
            "signature": sign, "signature_typed_s": typed - login_typing - wizard_typing}


def verifier_throughput(quick: bool, as_json: bool) -> str:
    """``benchmarks/bench_registration.py``'s output (text, or its JSON document)."""
    from benchmarks import bench_registration

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        bench_registration.main((["--quick"] if quick else []) + (["--json"] if as_json else []))
    return out.getvalue()


def _ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:,.0f} ms"


def _report(found: dict[str, Any]) -> list[str]:
    net = found["wall_minus_typed_s"]
    sign = found["signature"]
    agent = sign["agent_page_s"] + sign["agent_token_s"]

    def share(seconds: float) -> str:
        return f"{seconds / net:.0%} of wall-typed"

    rows = [
        ("Chromium launch (not in the wall time)", _ms(found["browser_launch_s"]), ""),
        ("wall: open portal -> verdict 'valid'", _ms(found["wall_s"]), ""),
        ("  typed input (Playwright fill)", _ms(found["typed_s"]), f"{found['typed_fields']} fields incl. 2 PINs"),
        ("  wall minus typed input", _ms(net), "the figure of the issue"),
        ("login: pair + certificate login", _ms(found["login_s"] - found["login_typed_s"]),
         f"minus {_ms(found['login_typed_s'])} typed; " + share(found["login_s"] - found["login_typed_s"])),
        ("wizard: lookup .. review", _ms(found["wizard_s"] - found["wizard_typed_s"]),
         f"minus {_ms(found['wizard_typed_s'])} typed; " + share(found["wizard_s"] - found["wizard_typed_s"])),
        ("registration signature", _ms(sign["total_s"] - found["signature_typed_s"]),
         f"minus {_ms(found['signature_typed_s'])} typed (PIN); "
         + share(sign["total_s"] - found["signature_typed_s"])),
        ("  agent: click -> confirmation page shown", _ms(sign["agent_page_s"]), ""),
        ("  agent: approve -> signature at the portal", _ms(sign["agent_token_s"]), "token PIN check + signature"),
        ("  agent's share (both)", _ms(agent), share(agent)),
        ("  portal: POST /api/registration/submit", _ms(sign["portal_verify_s"]), "verifier + register + DB; "
         + share(sign["portal_verify_s"])),
        ("  verdict shown after the answer", _ms(sign["verdict_shown_s"]), "page + Playwright's notice"),
    ]
    width = max(len(r[0]) for r in rows)
    return [f"  {name:<{width}} {value:>10}  {note}".rstrip() for name, value, note in rows]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the verifier figures with bench_registration --quick")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument("--no-verifier", action="store_true", help="only the browser registration")
    args = parser.parse_args(argv)

    try:
        found: dict[str, Any] | None = browser_registration()
        problem = None
    except Exception as exc:  # a figure that cannot be measured is shown as such; the others go on
        found, problem = None, f"{type(exc).__name__}: {exc}"
    verifier = None if args.no_verifier else verifier_throughput(args.quick, args.json)

    if args.json:
        print(json.dumps({"cores": os.cpu_count(), "browser_registration": found, "not_measured": problem,
                          "verifier": json.loads(verifier) if verifier else None}, indent=2, ensure_ascii=False))
        return 0
    print(f"reference portal: one head registration in Chromium ({os.cpu_count()} cores; agent, portal and "
          "Playwright in one process)")
    if found is None:
        print(f"  -  not measured: {problem}")
    else:
        print("\n".join(_report(found)))
    if verifier is not None:
        print(verifier, end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

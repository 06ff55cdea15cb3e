"""cadesplugin layer benchmark (issue 13): what a portal written for CryptoPro's plug-in costs through SignAgent,
beside the same work through SignAgent's own JS client, in one run.

Run from the repository root::

    .venv/bin/python -m benchmarks.bench_cadesplugin [--json]

The figures come from the browser tests that do this work with real clients (Debian's Chromium through
Playwright, the unmodified npm ``crypto-pro`` 2.5.2, the simulated token through PKCS#11); this script runs just
those tests with ``SIGNAGENT_CADES_TIMINGS`` pointing at a temporary file, where they write their medians, and
prints them:

* ``crypto-pro getUserCertificates, 5 certificates``: paired, warm, the median of five listings of an agent that
  sees five certificates on five simulated tokens, through the agent-served ``/cadesplugin_api.js``;
* ``sign round trip``: one attached signature with the approval automated (the click, the agent's window, the PIN
  typed, «Подписать», the CMS back in the page), median of three, alternating with SignAgent's own JS client
  (``signagent.js``) signing the same text in the same browser: through ``/cadesplugin_api.js`` and through the
  browser extension (relay: page -> content script -> the extension's service worker -> the agent).

The round trips are dominated by the simulator's PIN check (scrypt, ~70 ms) and by Chromium opening the agent's
window; the browser, the agent and the test driver share this machine's cores. Informative only: the exit status
is 0 unless the tests themselves fail.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

_ROOT = Path(__file__).resolve().parent.parent

#: The tests that write the figures (node ids relative to the repository root).
TESTS = (
    "tests/browser/test_cadesplugin_browser.py::test_crypto_pro_lists_five_certificates",
    "tests/browser/test_cadesplugin_browser.py::test_round_trip_figures_beside_our_own_client",
    "tests/browser/test_cadesplugin_extension.py::test_round_trip_figures_through_the_extension",
)

#: (label, cadesplugin key, own-client key or None, its label): ratio = cadesplugin / own client (above 1: slower).
ROWS = (
    ("crypto-pro getUserCertificates, 5 certificates (ms)", "crypto_pro_getUserCertificates_5_certs_median_ms",
     None, ""),
    ("sign round trip, crypto-pro via /cadesplugin_api.js (ms)", "crypto_pro_sign_round_trip_median_ms",
     "signagent_js_sign_round_trip_median_ms", "signagent.js"),
    ("sign round trip, crypto-pro via the extension (ms)", "crypto_pro_extension_sign_round_trip_median_ms",
     "signagent_js_beside_extension_sign_round_trip_median_ms", "signagent.js"),
)


def measure() -> dict[str, float]:
    """Run the figure tests; their recorded medians (ms) by name."""
    with tempfile.TemporaryDirectory(prefix="signagent-bench-cades-") as tmp:
        where = Path(tmp) / "figures.json"
        env = dict(os.environ, SIGNAGENT_CADES_TIMINGS=str(where))
        done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *TESTS],
                              cwd=_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if done.returncode != 0:
            sys.stderr.write(done.stdout)
            raise SystemExit(f"bench_cadesplugin: the figure tests failed (exit {done.returncode})")
        return json.loads(where.read_text()) if where.exists() else {}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    figures = measure()
    if args.json:
        print(json.dumps(figures, indent=2, sort_keys=True))
        return 0
    print(f"{'':58} {'cadesplugin':>12} {'own client':>12} {'ratio':>7}")
    for label, key, peer, peer_label in ROWS:
        value = figures.get(key)
        other = figures.get(peer) if peer else None
        ratio = f"{value / other:.2f}x" if value and other else "-"
        print(f"{label:58} {value if value is not None else '-':>12} "
              f"{other if other is not None else '-':>12} {ratio:>7}  {peer_label}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

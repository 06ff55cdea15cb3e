#!/usr/bin/env bash
# Sets up everything signagent and its tests need on Debian 12 (run as root), idempotently:
# system packages (compiler, Python headers, OpenSSL with the GOST engine as the test oracle, valgrind),
# then a virtual environment in .venv with signagent built (its C core compiled here) and the test extras.
# Usage: bash scripts/setup.sh            (set SIGNAGENT_SKIP_APT=1 to skip the system packages)
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
    gcc libc6-dev make            # the native GOST core
    python3 python3-venv python3-dev python3-pip
    openssl libengine-gost-openssl  # independent oracle: OpenSSL 3 + GOST engine
    valgrind                        # constant-time check of the signing path (memcheck client requests)
    opensc                          # pkcs11-tool: a third-party consumer of the simulator's PKCS#11 module
    libp11-kit-dev                  # pkcs11.h for the simulator's module
    pcscd vsmartcard-vpcd libpcsclite-dev  # a real PC/SC stack with a virtual reader (pyscard builds against it)
    chromium fonts-dejavu-core      # browser tests (tests/browser): Playwright drives this Chromium, never downloads
                                    # one; DejaVu so that Cyrillic text renders
    firefox-esr                     # the extension's Firefox build in a real Firefox (puppeteer-core over BiDi)
    postgresql                      # the portal's storage tests on a real PostgreSQL (the fixture starts its own)
)

missing=()
if [ "${SIGNAGENT_SKIP_APT:-0}" != 1 ]; then
    for p in "${APT_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
    done
    # npm runs the browser tests' third-party clients (tests/browser/npm, pinned: crypto-pro, and puppeteer-core,
    # which drives Firefox); Debian's only when no npm is on the PATH already (a Node.js installed otherwise is fine)
    command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
fi
if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing system packages: ${missing[*]}"
    if [ "$(id -u)" != 0 ]; then
        echo "setup: need root to install system packages (or install them yourself and set SIGNAGENT_SKIP_APT=1)" >&2
        exit 2
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

PYTHON="${PYTHON:-python3}"
"$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' || {
    echo "setup: Python 3.11 or newer is required ($PYTHON is $("$PYTHON" --version 2>&1))" >&2; exit 2; }

if [ ! -x .venv/bin/python ]; then
    echo "setup: creating .venv"
    "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
# Editable install: the C core is compiled in place by the package build (setup.py).
.venv/bin/python -m pip install -q -e ".[test]"
.venv/bin/python -c 'import signagent.gost as g; print("setup: signagent ready, GOST backend:", g.backend_name())'

# The npm packages the browser tests run unmodified (tests/browser/npm/package-lock.json pins them; no install
# scripts are run). Without npm the tests that need them skip on a developer's machine.
if command -v npm >/dev/null 2>&1; then
    (cd tests/browser/npm && npm ci --ignore-scripts --no-audit --no-fund)
else
    echo "setup: npm not found: the browser tests' npm packages (tests/browser/npm) are not installed" >&2
fi

#!/usr/bin/env bash
# Sets up (scripts/setup.sh) and runs every check: ruff, import-linter, the test suite against the native core,
# then the GOST suite again against the pure-Python reference (SIGNAGENT_PURE=1).
# Exits non-zero if any check fails or if no test ran.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$PWD/.venv/bin:$PATH"

echo "== ruff"; ruff check .
echo "== import-linter"; lint-imports
echo "== tests (native core)"
pytest "$@"
echo "== tests (pure-Python reference, SIGNAGENT_PURE=1)"
SIGNAGENT_PURE=1 pytest -m "not slow" tests/gost "$@"

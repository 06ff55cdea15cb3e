#!/usr/bin/env bash
# The agent at work on a simulated token, no hardware needed: run after scripts/setup.sh.
#
#   bash scripts/demo.sh            # idempotent: the demo token is made once, then reused
#
# It makes (once) a software GOST-2012 token "Demo Head" holding the key and qualified certificate of an
# organisation's head, issued by the project's test PKI; then lists tokens and certificates as the agent sees them,
# signs a document on the token (CAdES-BES) and verifies the signature against the test PKI.
# State lives in $SIGNAGENT_DEMO_DIR (default ~/.local/share/signagent-demo); delete it to start over.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${SIGNAGENT_VENV:-.venv}"
if [ ! -x "$VENV/bin/signagent" ]; then
    echo "demo: $VENV/bin/signagent is missing; run: bash scripts/setup.sh" >&2
    exit 2
fi
DEMO="${SIGNAGENT_DEMO_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/signagent-demo}"
LABEL="Demo Head"
PIN=1234
mkdir -p "$DEMO/keys"
chmod 700 "$DEMO"

export PKCS11_SIM_DIR="$DEMO/tokens"
export SIGNAGENT_KEYS_DIR="$DEMO/keys"
SIGNAGENT_PKCS11_MODULES="$("$VENV/bin/python" -c 'import pkcs11_sim; print(pkcs11_sim.module_path())')"
export SIGNAGENT_PKCS11_MODULES

# The PINs go through files readable by the user only, never on a command line (/proc/PID/cmdline is public).
umask 077
printf '%s\n' "$PIN" > "$DEMO/pin"
printf '%s\n' 87654321 > "$DEMO/so-pin"

TOKEN_DIR="$PKCS11_SIM_DIR/Demo_Head"
if [ ! -f "$TOKEN_DIR/token.json" ]; then
    echo "== making the simulated token «$LABEL» (test PKI, head of an organisation)"
    "$VENV/bin/pkcs11-sim" provision --label "$LABEL" --pin-file "$DEMO/pin" --so-pin-file "$DEMO/so-pin" \
        --profile head
fi
ROOT="$TOKEN_DIR/root.pem"
INTER="$TOKEN_DIR/intermediate.pem"

run() { echo; printf '$ signagent'; printf ' %q' "$@"; echo; "$VENV/bin/signagent" "$@"; }

run tokens
run certs --trust "$ROOT" --intermediate "$INTER"
CERT_ID="$("$VENV/bin/signagent" certs --json --trust "$ROOT" --intermediate "$INTER" | "$VENV/bin/python" -c '
import json, sys
doc = json.load(sys.stdin)
print(next(c["id"] for c in doc["certificates"] if c["source"]["label"] == sys.argv[1] and c["has_private_key"]))
' "$LABEL")"
printf 'Заявление о регистрации профиля организации\n' > "$DEMO/document.txt"
run sign "$DEMO/document.txt" --token "$LABEL" --cert "${CERT_ID:0:16}" --pin-file "$DEMO/pin" -o "$DEMO/document.txt.sig"
run verify "$DEMO/document.txt.sig" --trust "$ROOT" --intermediate "$INTER" --offline --revocation off
echo
echo "demo: done; files in $DEMO"

"""The agent serves only its own user: a connection from another account of the computer is refused (Linux)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from signagent.service.peer_user import peer_uid, same_user

NOBODY = 65534


def test_our_own_connection_is_ours(agent) -> None:
    response = agent.client.get("/v1/info", headers=agent.local())
    assert response.status_code == 200
    import socket

    with socket.create_connection(("127.0.0.1", agent.port)) as sock:
        client = sock.getsockname()
        assert peer_uid(client, ("127.0.0.1", agent.port)) == os.getuid()
        assert same_user(client, ("127.0.0.1", agent.port))


@pytest.mark.skipif(not sys.platform.startswith("linux") or os.getuid() != 0,
                    reason="needs Linux and root to connect as another user")
def test_another_users_connection_is_refused(agent) -> None:
    script = (
        "import os, http.client, encodings.idna  # imported before dropping root: nobody cannot read them\n"
        f"os.setgid({NOBODY}); os.setuid({NOBODY})\n"
        f"c = http.client.HTTPConnection('127.0.0.1', {agent.port}, timeout=20)\n"
        "c.request('POST', '/v1/pair', headers={'Origin': 'https://portal.test'})\n"
        "r = c.getresponse(); print(r.status, r.read().decode())\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60,
                          env={"PATH": os.environ.get("PATH", "")})
    assert done.returncode == 0, done.stderr
    status, body = done.stdout.split(" ", 1)
    assert status == "403" and '"another_user"' in body
    # and the same request from this user is let through
    mine = agent.client.post("/v1/pair", headers={"Origin": "https://portal.test"})
    assert mine.status_code == 200

"""``python -m portal serve`` as a user starts it (a subprocess on a free port, the demo register and the test
PKI's root trusted), its refusals of a bad configuration, and the session cookie's codec."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from portal.cli import main, read_certificates
from portal.sessions import SessionCodec
from signagent.testpki.generator import TestPKI
from tests.conftest import ROOT

HANG_GUARD = 60.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_portal_serve_starts_migrates_and_serves_the_login_page(tmp_path: Path, pki: TestPKI) -> None:
    port = free_port()
    root = tmp_path / "root.pem"
    root.write_bytes(pki.root.pem)
    bundle = tmp_path / "inter.pem"
    bundle.write_bytes(pki.intermediate.pem)
    log = tmp_path / "portal.log"
    env = {**os.environ, "PORTAL_SECRET_KEY": "x" * 32, "DATABASE_URL": ""}
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "portal", "serve", "--port", str(port), "--agent-port", "41000",
                                 "--data-dir", str(tmp_path / "data"), "--demo", "--trust", str(root),
                                 "--intermediate", str(bundle), "--offline"],
                                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + HANG_GUARD
        page = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                page = httpx.get(f"http://127.0.0.1:{port}/", timeout=5)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        assert page is not None, log.read_text()
        assert page.status_code == 200 and 'data-testid="login"' in page.text
        assert 'data-client-url="http://127.0.0.1:41000/signagent.js"' in page.text
        assert "http://127.0.0.1:41000" in page.headers["content-security-policy"]
        assert 'data-testid="demo-pin"' in page.text
        assert (tmp_path / "data" / "portal.db").is_file()
        refused = httpx.get(f"http://127.0.0.1:{port}/", headers={"host": f"localhost:{port}"}, timeout=5)
        assert refused.status_code == 421  # only the configured origin's host
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(HANG_GUARD)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(HANG_GUARD)
    assert "http://127.0.0.1:" in log.read_text()


def test_serve_without_trust_or_register_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                                          ) -> None:
    assert main(["serve", "--data-dir", str(tmp_path), "--demo-dir", str(tmp_path / "none"), "--demo"]) == 2
    assert "signagent serve --demo" in capsys.readouterr().err
    root = tmp_path / "root.pem"
    root.write_bytes(b"x")
    assert main(["serve", "--data-dir", str(tmp_path), "--trust", str(root)]) == 2
    assert "--egrul" in capsys.readouterr().err
    assert main(["serve", "--data-dir", str(tmp_path), "--trust", str(tmp_path / "missing.pem"), "--demo"]) == 2
    assert "missing.pem" in capsys.readouterr().err


def test_a_pem_bundle_is_read_certificate_by_certificate(tmp_path: Path, pki: TestPKI) -> None:
    bundle = tmp_path / "chain.pem"
    bundle.write_bytes(pki.root.pem + b"\n" + pki.intermediate.pem)
    assert len(read_certificates(bundle)) == 2
    der = tmp_path / "root.der"
    der.write_bytes(pki.root.der)
    assert read_certificates(der) == [pki.root.der]


def test_the_session_cookie_is_signed_and_expires() -> None:
    codec = SessionCodec(b"secret", max_age=60)
    value = codec.dump(7, now=1000.0)
    assert codec.load(value, now=1030.0) == 7
    assert codec.load(value, now=1061.0) is None  # expired
    assert SessionCodec(b"other").load(value, now=1030.0) is None  # another portal's key
    body, mac = value.split(".")
    assert codec.load(body[:-1] + ("A" if body[-1] != "A" else "B") + "." + mac, now=1030.0) is None
    for garbage in ("", ".", "a.b.c", "x" * 500, None):
        assert codec.load(garbage) is None


def test_portal_demo_is_the_whole_thing_in_one_command(tmp_path: Path) -> None:
    """`portal demo`: the agent with its three demo tokens as a child, the portal on SQLite, one address printed;
    SIGTERM stops both."""
    port, agent_port = free_port(), free_port()
    log = tmp_path / "demo.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SIGNAGENT_", "PKCS11_SIM_"))}
    env.update({"PORTAL_SECRET_KEY": "x" * 32, "DATABASE_URL": "", "SIGNAGENT_CONFIG": str(tmp_path / "c.toml"),
                "XDG_CONFIG_HOME": str(tmp_path / "config")})
    (tmp_path / "c.toml").write_text("")
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "portal", "demo", "--port", str(port), "--agent-port",
                                 str(agent_port), "--demo-dir", str(tmp_path / "demo"), "--data-dir",
                                 str(tmp_path / "data")], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 2 * HANG_GUARD
        while time.monotonic() < deadline and proc.poll() is None and f"{port}/" not in log.read_text():
            time.sleep(0.1)
        text = log.read_text()
        assert f"open in the browser:  http://127.0.0.1:{port}/" in text, text
        page = httpx.get(f"http://127.0.0.1:{port}/", timeout=10)
        assert page.status_code == 200 and 'data-testid="login"' in page.text
        info = httpx.get(f"http://127.0.0.1:{agent_port}/v1/info", headers={"Origin": f"http://127.0.0.1:{port}"},
                         timeout=10)
        assert info.status_code == 200  # the agent runs beside it
        people = (tmp_path / "demo" / "people.json").read_text()
        assert "Demo Employee" in people and "Demo Entrepreneur" in people
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(HANG_GUARD)
    with pytest.raises(httpx.TransportError):
        httpx.get(f"http://127.0.0.1:{agent_port}/v1/info", timeout=5)  # the agent went with the portal

"""``signagent serve --demo`` as a user runs it: a real process that makes the demo token once, serves the agent and
the demo portal (another origin: ``http://localhost:DEMO_PORT``) whose backend verifies signatures against the demo
PKI, and stops both on SIGTERM or SIGINT.

The browser flow (pair, choose, sign in the agent's pages) belongs to the browser tests; here the portal's page,
its configuration, the agent as the portal's origin sees it, and the portal's verifier (with a signature made on
the demo token by ``signagent sign``) are checked over HTTP.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from signagent.service.local_secret import SECRET_FILE
from tests.api.conftest import HANG_GUARD, _free_port
from tests.serving import ServeProcess

HOOKS = ("demo-pair", "demo-certificates", "demo-text", "demo-sign", "demo-result", "demo-status")


def _env(tmp_path: Path) -> dict[str, str]:
    config = tmp_path / "config.toml"
    config.write_text("")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SIGNAGENT_", "PKCS11_SIM_")) and k != "XDG_DATA_HOME"}
    return {**env, "SIGNAGENT_CONFIG": str(config), "LANG": "C.UTF-8", "XDG_DATA_HOME": str(tmp_path / "data")}


class DemoServing(ServeProcess):
    """A running ``signagent serve --demo``; its stderr lines arrive in a queue (read by a thread)."""

    def __init__(self, tmp_path: Path, port: int, demo_port: int) -> None:
        self.port, self.demo_port = port, demo_port
        self.demo_dir, self.state = tmp_path / "demo", tmp_path / "state"
        self.env = _env(tmp_path)
        command = [sys.executable, "-m", "signagent", "serve", "--demo", "--port", str(port), "--demo-port",
                   str(demo_port), "--demo-dir", str(self.demo_dir), "--state-dir", str(self.state)]
        super().__init__(command, self.env)

    @property
    def portal(self) -> str:
        return f"http://127.0.0.1:{self.demo_port}"

    @property
    def portal_headers(self) -> dict[str, str]:
        return {"Host": f"localhost:{self.demo_port}"}  # the address the user opens: http://localhost:PORT


def _start(tmp_path: Path, port: int, demo_port: int) -> DemoServing:
    running = DemoServing(tmp_path, port, demo_port)
    running.wait_for(f"listening on http://127.0.0.1:{port}")
    running.wait_for(f"demo portal: open http://localhost:{demo_port}")
    running.wait_for("PIN 1234")
    return running


def _closed(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


@pytest.fixture
def ports() -> tuple[int, int]:
    port = _free_port()
    demo_port = _free_port()
    while demo_port == port:
        demo_port = _free_port()
    return port, demo_port


def _sign_on_demo_token(serving: DemoServing, tmp_path: Path, text: str) -> bytes:
    """A CAdES-BES signature of ``text`` made on the demo token by `signagent sign`, as the agent would make it."""
    state = json.loads((serving.demo_dir / "demo.json").read_text())
    env = {**serving.env, "PKCS11_SIM_DIR": str(serving.demo_dir / "tokens"),
           "SIGNAGENT_KEYS_DIR": str(serving.demo_dir / "keys"),
           "SIGNAGENT_PKCS11_MODULES": subprocess.run(
               [sys.executable, "-c", "import pkcs11_sim; print(pkcs11_sim.module_path())"], capture_output=True,
               text=True, check=True, timeout=HANG_GUARD).stdout.strip()}
    document, signature = tmp_path / "document.txt", tmp_path / "document.txt.sig"
    document.write_text(text, encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "signagent", "sign", str(document), "--token", "Demo Head",
                           "--cert", state["certificate_id"][:16], "--pin-file", str(serving.demo_dir / "pin"),
                           "-o", str(signature)], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return signature.read_bytes()


def test_demo_serves_the_portal_verifies_and_stops(tmp_path: Path, ports: tuple[int, int]) -> None:
    port, demo_port = ports
    serving = _start(tmp_path, port, demo_port)
    try:
        assert any("demo token «Demo Head» prepared" in line for line in serving.seen), serving.seen
        pin_file = serving.demo_dir / "pin"
        assert pin_file.read_text() == "1234\n"
        for name in ("pin", "so-pin"):
            assert (serving.demo_dir / name).stat().st_mode & 0o077 == 0
        assert (serving.demo_dir / "so-pin").read_text().strip() != "1234"
        with httpx.Client(base_url=serving.portal, headers=serving.portal_headers, timeout=HANG_GUARD) as portal:
            page = portal.get("/")
            assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
            for hook in HOOKS:
                assert f'data-testid="{hook}"' in page.text
            assert "<script>" not in page.text and "style=" not in page.text  # no inline code (CSP)
            csp = page.headers["content-security-policy"]
            assert f"script-src 'self' http://127.0.0.1:{port}" in csp and "frame-ancestors 'none'" in csp
            assert portal.get("/demo.js").headers["content-type"].startswith("text/javascript")
            assert portal.get("/demo.css").headers["content-type"].startswith("text/css")
            config = portal.get("/config.json").json()
            assert config == {"agent_port": port, "agent_url": f"http://127.0.0.1:{port}",
                              "client_url": f"http://127.0.0.1:{port}/signagent.js", "demo_pin": "1234"}
            # The portal answers only at its own address (DNS rebinding).
            assert portal.get("/config.json", headers={"Host": f"evil.test:{demo_port}"}).status_code == 421

            # The portal's backend verifies a signature made on the demo token against the demo PKI.
            text = "Заявление о регистрации профиля организации\n"
            cms = _sign_on_demo_token(serving, tmp_path, text)
            own = {"Origin": f"http://localhost:{demo_port}"}
            answer = portal.post("/verify", json={"cms": base64.b64encode(cms).decode()}, headers=own)
            assert answer.status_code == 200, answer.text
            summary = answer.json()
            assert summary["status"] == "valid" and summary["valid"] is True, summary
            signer = summary["signers"][0]
            assert signer["name"] and signer["signing_time"] and signer["organisation"], signer
            # A changed text no longer verifies.
            forged = cms.replace("регистрации".encode(), "регистрацию".encode()[:len("регистрации".encode())])
            assert forged != cms
            answer = portal.post("/verify", json={"cms": base64.b64encode(forged).decode()}, headers=own)
            assert answer.status_code == 200 and answer.json()["status"] == "invalid", answer.text
            # Garbage and another site's page are refused.
            bad = portal.post("/verify", json={"cms": "not base64!"}, headers=own)
            assert bad.status_code == 422 and bad.json()["error"]["code"] == "request_invalid"
            assert portal.post("/verify", json={"cms": base64.b64encode(b"0").decode()},
                               headers=own).json()["error"]["code"]
            other = portal.post("/verify", json={"cms": base64.b64encode(cms).decode()},
                                headers={"Origin": "https://evil.test"})
            assert other.status_code == 403

        # The agent sees the portal as another site: /v1/info answers it (with CORS), pairing is still needed.
        demo_origin = {"Origin": f"http://localhost:{demo_port}"}
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=HANG_GUARD) as agent:
            info = agent.get("/v1/info", headers=demo_origin)
            assert info.status_code == 200 and info.json()["version"]
            assert info.headers["access-control-allow-origin"] == f"http://localhost:{demo_port}"
            listing = agent.get("/v1/certificates", headers=demo_origin)
            assert listing.status_code == 403 and listing.json()["error"]["code"] == "origin_not_paired"
        assert (serving.state / SECRET_FILE).is_file()  # the agent's state is where --state-dir says

        assert serving.stop(signal.SIGTERM) == 0
        serving.wait_for("stopped")
        serving.wait_for("<eof>")
        assert not any("Traceback" in line for line in serving.seen), serving.seen
        assert _closed(port) and _closed(demo_port)
    finally:
        serving.kill()


def test_second_start_reuses_the_token_and_ctrl_c_stops_both(tmp_path: Path, ports: tuple[int, int]) -> None:
    port, demo_port = ports
    first = _start(tmp_path, port, demo_port)
    try:
        assert first.stop(signal.SIGTERM) == 0
    finally:
        first.kill()
    token = first.demo_dir / "tokens"
    made = {p: p.stat().st_mtime_ns for p in token.rglob("*") if p.is_file()}
    so_pin = (first.demo_dir / "so-pin").read_text()
    second = _start(tmp_path, port, demo_port)
    try:
        assert any("demo token «Demo Head» found" in line for line in second.seen), second.seen
        assert not any("prepared" in line for line in second.seen)
        assert (first.demo_dir / "so-pin").read_text() == so_pin
        with httpx.Client(base_url=second.portal, headers=second.portal_headers, timeout=HANG_GUARD) as portal:
            assert portal.get("/config.json").json()["agent_port"] == port
        assert second.stop(signal.SIGINT) == 0
        second.wait_for("stopped")
        assert _closed(port) and _closed(demo_port)
    finally:
        second.kill()
    remade = {p: p.stat().st_mtime_ns for p in token.rglob("*") if p.is_file() and p in made}
    assert {p for p in made if p.name == "token.json"} and all(
        remade[p] == made[p] for p in made if p.name in ("token.json", "root.pem", "intermediate.pem"))


def test_demo_options_are_checked(tmp_path: Path) -> None:
    env = _env(tmp_path)
    for args in (["--demo-port", "40000"], ["--force"], ["--demo", "--port", "40000", "--demo-port", "40000"]):
        done = subprocess.run([sys.executable, "-m", "signagent", "serve", *args,
                               "--state-dir", str(tmp_path / "state"), "--demo-dir", str(tmp_path / "demo")],
                              env=env, capture_output=True, text=True, timeout=HANG_GUARD)
        assert done.returncode == 2, (args, done.stderr)
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert not (tmp_path / "demo" / "demo.json").exists()


def test_taken_demo_port_is_one_line_and_exit_2(tmp_path: Path, ports: tuple[int, int]) -> None:
    port, demo_port = ports
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", demo_port))
        taken.listen(1)
        done = subprocess.run([sys.executable, "-m", "signagent", "serve", "--demo", "--port", str(port),
                               "--demo-port", str(demo_port), "--demo-dir", str(tmp_path / "demo"),
                               "--state-dir", str(tmp_path / "state")],
                              env=_env(tmp_path), capture_output=True, text=True, timeout=HANG_GUARD)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"signagent: port {demo_port} on 127.0.0.1 is already in use (another agent running?)"]


def test_prepare_demo_is_idempotent_and_keeps_the_users_modules(tmp_path: Path) -> None:
    from signagent.errors import SignAgentError
    from signagent.service.demo import DEMO_PIN, prepare_demo

    environ = {**_env(tmp_path), "SIGNAGENT_PKCS11_MODULES": "/opt/vendor/libvendor.so"}
    first = prepare_demo(tmp_path / "d", environ=environ)
    assert first.provisioned and first.pin == DEMO_PIN == "1234" and first.label == "Demo Head"
    assert first.environment["SIGNAGENT_PKCS11_MODULES"] == os.pathsep.join([first.module_path,
                                                                              "/opt/vendor/libvendor.so"])
    assert first.environment["PKCS11_SIM_DIR"] == str(tmp_path / "d" / "tokens")
    assert first.environment["SIGNAGENT_KEYS_DIR"] == str(tmp_path / "d" / "keys")
    assert [p.name for p in first.trust_roots + first.intermediates] == ["root.pem", "intermediate.pem"]
    assert first.state_dir == tmp_path / "d" / "state"
    assert (tmp_path / "d").stat().st_mode & 0o077 == 0
    target: dict[str, str] = {}
    first.apply(target)
    assert target == dict(first.environment)
    # the employee and the entrepreneur, on tokens of their own issued by the head token's test PKI
    assert {p: v["label"] for p, v in first.people.items()} == {"employee": "Demo Employee",
                                                               "ip": "Demo Entrepreneur"}
    issued = (first.pki_dir / "certs" / "employee.cer").read_bytes()
    assert all(Path(v["token_dir"], "token.json").is_file() for v in first.people.values()) and issued
    second = prepare_demo(tmp_path / "d", environ=environ)
    assert not second.provisioned and second.certificate_id == first.certificate_id
    assert second.people == first.people
    (tmp_path / "file").write_text("")
    with pytest.raises(SignAgentError) as caught:
        prepare_demo(tmp_path / "file", environ=environ)
    assert caught.value.code == "demo_setup_failed" and str(tmp_path / "file") in caught.value.message

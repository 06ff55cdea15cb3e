"""Signing, authentication and token changes through the localhost API, on simulated tokens loaded through the real
PKCS#11 module: a paired site asks, the user approves with the PIN in the agent's confirmation page (driven here
as a browser would: the page fetched by navigation, its form posted from the agent's own origin), the site polls
the result; the signatures verify with our verifier and with OpenSSL's GOST engine.
"""

from __future__ import annotations

import base64
import json
import os
import re
from pathlib import Path

import pytest

import pkcs11_sim
from pkcs11_sim.provision import provision
from pkcs11_sim.store import SimRoot
from signagent.cms.verification import verify
from signagent.gost import streebog256
from signagent.service.audit import verify_log
from signagent.service.authentication import ProofError, verify_proof
from signagent.testpki import generate
from signagent.x509 import Certificate
from tests.conftest import require
from tests.oracles import openssl_gost

PORTAL, OTHER = "https://portal.test", "https://other.test"
PIN, SO_PIN = b"1234", b"87654321"


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory):
    """Tokens "Head" (head profile) and "Lockable" (3 PIN tries) in a fresh simulator directory."""
    try:
        import PyKCS11  # noqa: F401
    except ImportError:
        require(False, "PyKCS11")
    path = tmp_path_factory.mktemp("sim")
    saved = os.environ.get("PKCS11_SIM_DIR")
    os.environ["PKCS11_SIM_DIR"] = str(path)
    pki = generate(tmp_path_factory.mktemp("pki"))
    root = SimRoot(path)
    provision(root, label="Head", pin=PIN, so_pin=SO_PIN, profile="head", pki_dir=pki.out_dir)
    provision(root, label="Lockable", pin=PIN, so_pin=SO_PIN, profile="person", pki_dir=pki.out_dir, retries=3)
    yield root, pki
    if saved is None:
        os.environ.pop("PKCS11_SIM_DIR", None)
    else:
        os.environ["PKCS11_SIM_DIR"] = saved


@pytest.fixture
def signing_agent(runner, sim, tmp_path: Path):
    _, pki = sim
    options = {"pkcs11_modules": [pkcs11_sim.module_path()], "keys_dir": str(tmp_path / "keys"),
               "trust_dir": str(tmp_path / "trust")}
    return runner.start(options=options, trust_roots=(pki.root.certificate,),
                        intermediates=(pki.intermediate.certificate,))


def _pair(agent, origin: str = PORTAL) -> None:
    started = agent.client.post("/v1/pair", headers={"Origin": origin}).json()
    page = agent.client.get(f"/pair/{started['request_id']}")
    token = re.search(r'name="token" value="([^"]+)"', page.text).group(1)
    done = agent.client.post(f"/pair/{started['request_id']}", data={"token": token, "decision": "approve"},
                             headers={"Origin": agent.url})
    assert done.status_code == 200, done.text


def _cert_id(agent, label: str = "Head", origin: str = PORTAL) -> str:
    response = agent.client.get("/v1/certificates", headers={"Origin": origin})
    assert response.status_code == 200, response.text
    entries = [c for c in response.json()["certificates"] if c["source"]["label"] == label and c["has_private_key"]]
    assert entries, response.text
    return str(entries[0]["id"])


def _confirm_token(agent, request_id: str) -> tuple[str, str]:
    page = agent.client.get(f"/confirm/{request_id}")  # a navigation: no Origin
    assert page.status_code == 200, page.text
    return re.search(r'name="token" value="([^"]+)"', page.text).group(1), page.text


def _decide(agent, request_id: str, *, pin: bytes | None = PIN, decision: str = "approve",
            extra: dict | None = None):
    token, _ = _confirm_token(agent, request_id)
    form = {"token": token, "decision": decision, **(extra or {})}
    if pin is not None:
        form["pin"] = pin.decode()
    return agent.client.post(f"/confirm/{request_id}", data=form, headers={"Origin": agent.url})


def _status(agent, request_id: str, origin: str = PORTAL) -> dict:
    response = agent.client.get(f"/v1/requests/{request_id}", params={"wait": 5}, headers={"Origin": origin})
    assert response.status_code == 200, response.text
    return response.json()


def _sign(agent, body: dict, origin: str = PORTAL, path: str = "/v1/sign"):
    return agent.client.post(path, json=body, headers={"Origin": origin})


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _chain_validator(pki):
    from signagent.trust.validation import validate

    def check(cert, others, moment):
        return validate(cert, trust_roots=[pki.root.certificate], intermediates=[pki.intermediate.certificate],
                        at=moment, offline=True, revocation="off")
    return check


def _openssl_accepts(pki, cms: bytes, tmp_path: Path, content: bytes | None = None) -> None:
    require(openssl_gost.available(), f"openssl with the GOST engine ({openssl_gost.reason()})")
    sig = tmp_path / "sig.der"
    sig.write_bytes(cms)
    args = ["cms", "-verify", "-binary", "-inform", "DER", "-in", str(sig), "-CAfile", str(pki.out_dir / "chain.pem"),
            "-out", str(tmp_path / "out.bin")]
    if content is not None:
        (tmp_path / "content.bin").write_bytes(content)
        args += ["-content", str(tmp_path / "content.bin")]
    done = openssl_gost.run_cli(args)
    assert done.returncode == 0, done.stderr.decode(errors="replace")


def test_a_site_signs_text_the_user_approves_with_the_pin(signing_agent, sim, tmp_path: Path) -> None:
    _, pki = sim
    agent = signing_agent
    _pair(agent)
    cert_id = _cert_id(agent)
    text = "Заявление о регистрации ООО «Ромашка»\n".encode()
    started = _sign(agent, {"certificate_id": cert_id, "content": _b64(text), "content_type": "text/plain",
                            "filename": "заявление.txt", "description": "Регистрация"})
    assert started.status_code == 202, started.text
    request_id = started.json()["request_id"]
    assert started.json()["confirm_url"] == f"{agent.url}/confirm/{request_id}"
    assert _status(agent, request_id)["status"] == "pending"
    _, page = _confirm_token(agent, request_id)
    assert "Заявление о регистрации ООО «Ромашка»" in page  # the person reads what is signed
    assert PORTAL in page and 'data-testid="pin"' in page and 'data-testid="approve"' in page
    assert streebog256(text).hexdigest() in page
    done = _decide(agent, request_id)
    assert done.status_code == 200 and 'data-result="approved"' in done.text, done.text
    status = _status(agent, request_id)
    assert status["status"] == "approved" and status["kind"] == "sign"
    result = status["result"]
    cms = base64.b64decode(result["cms"])
    report = verify(cms, validate_chain=_chain_validator(pki))
    assert report.status == "valid", report.to_dict()
    assert report.signers[0].origin == PORTAL  # the origin the agent saw, under the signature
    assert result["certificate_id"] == cert_id
    assert Certificate.from_der(base64.b64decode(result["certificate"])).streebog_thumbprint == cert_id
    _openssl_accepts(pki, cms, tmp_path)
    # the audit log: requested then approved, with the digest of what was signed and never the content or PIN
    log = (agent.state_dir / "audit.jsonl").read_text()
    entries = [json.loads(line) for line in log.splitlines()]
    signs = [e for e in entries if e["operation"] == "sign"]
    assert [e["result"] for e in signs] == ["requested", "approved"]
    assert signs[-1]["digest"] == streebog256(text).hexdigest() and signs[-1]["certificate_id"] == cert_id
    assert "Ромашка" not in log and "Заявление" not in log and '"1234"' not in log
    assert verify_log(agent.state_dir / "audit.jsonl").ok


def test_detached_and_digest_only_signatures_verify(signing_agent, sim, tmp_path: Path) -> None:
    _, pki = sim
    agent = signing_agent
    _pair(agent)
    cert_id = _cert_id(agent)
    content = os.urandom(100_000)
    digest = streebog256(content).hexdigest()
    batch = _sign(agent, {"certificate_id": cert_id, "documents": [
        {"content": _b64(content), "detached": True, "filename": "a.bin"},
        {"digest": digest, "detached": True, "filename": "big.iso"},
    ]}, path="/v1/sign/batch")
    assert batch.status_code == 202, batch.text
    request_id = batch.json()["request_id"]
    _, page = _confirm_token(agent, request_id)
    assert "big.iso" in page and 'data-testid="confirm-warning"' in page  # digest only: cannot be shown
    assert _decide(agent, request_id).status_code == 200
    result = _status(agent, request_id)["result"]
    assert [s["filename"] for s in result["signatures"]] == ["a.bin", "big.iso"]
    for signature in result["signatures"]:
        cms = base64.b64decode(signature["cms"])
        report = verify(cms, content=content, validate_chain=_chain_validator(pki))
        assert report.status == "valid", report.to_dict()
        _openssl_accepts(pki, cms, tmp_path, content)
        assert verify(cms, content=content + b"!", validate_chain=_chain_validator(pki)).status == "invalid"


def test_input_is_checked_before_the_user_is_asked(signing_agent) -> None:
    agent = signing_agent
    _pair(agent)
    cert_id = _cert_id(agent)
    cases = [
        ({"certificate_id": "ab" * 32, "content": _b64(b"x")}, 404, "certificate_not_found"),
        ({"certificate_id": cert_id, "content": "not base64!"}, 422, "request_invalid"),
        ({"certificate_id": cert_id}, 422, "request_invalid"),
        ({"certificate_id": cert_id, "content": _b64(b"x"), "digest": "00" * 32}, 422, "request_invalid"),
        ({"certificate_id": cert_id, "digest": "00" * 32}, 422, "request_invalid"),  # digest needs detached
        ({"certificate_id": cert_id, "digest": "00" * 64, "detached": True}, 422, "request_invalid"),  # 512 bits
    ]
    for body, status, code in cases:
        response = _sign(agent, body)
        assert response.status_code == status and response.json()["error"]["code"] == code, (body, response.text)
    too_many = {"certificate_id": cert_id, "documents": [{"content": _b64(b"x")}] * 51}
    response = _sign(agent, too_many, path="/v1/sign/batch")
    assert response.status_code == 413 and response.json()["error"]["code"] == "content_too_large"


def test_the_user_denies_nothing_is_signed(signing_agent) -> None:
    agent = signing_agent
    _pair(agent)
    started = _sign(agent, {"certificate_id": _cert_id(agent), "content": _b64(b"hello")}).json()
    done = _decide(agent, started["request_id"], pin=None, decision="deny")
    assert 'data-result="denied"' in done.text
    status = _status(agent, started["request_id"])
    assert status["status"] == "denied" and "result" not in status
    again = _decide  # a finished request cannot be approved: its page is gone
    page = agent.client.get(f"/confirm/{started['request_id']}")
    assert page.status_code == 409 and page.json()["error"]["code"] == "request_finished"
    assert again is _decide


def test_wrong_pins_then_the_request_fails_and_the_token_locks(signing_agent) -> None:
    agent = signing_agent
    _pair(agent)
    cert_id = _cert_id(agent, "Lockable")
    started = _sign(agent, {"certificate_id": cert_id, "content": _b64(b"x")}).json()
    first = _decide(agent, started["request_id"], pin=b"0000")
    assert first.status_code == 400 and 'data-testid="confirm-error"' in first.text
    assert 'data-testid="pin"' in first.text  # asked again
    second = _decide(agent, started["request_id"], pin=b"0001")
    assert second.status_code == 400 and "осталось попыток: 1" in second.text  # the token's final try is shown
    third = _decide(agent, started["request_id"], pin=b"0002")
    assert 'data-result="failed"' in third.text
    status = _status(agent, started["request_id"])
    assert status["status"] == "failed" and status["error"]["code"] in ("rate_limited", "pin_locked")
    # the token itself is now locked: a new request fails with pin_locked, and says so
    again = _sign(agent, {"certificate_id": cert_id, "content": _b64(b"x")}).json()
    done = _decide(agent, again["request_id"], pin=PIN)
    assert 'data-code="pin_locked"' in done.text
    assert _status(agent, again["request_id"])["error"]["code"] == "pin_locked"


def test_authentication_proof_binds_the_origin(signing_agent, sim) -> None:
    agent = signing_agent
    _pair(agent)
    challenge = os.urandom(32)
    short = agent.client.post("/v1/authenticate", json={"challenge": _b64(b"x" * 31)}, headers={"Origin": PORTAL})
    assert short.status_code == 422
    started = agent.client.post("/v1/authenticate", json={"challenge": _b64(challenge)}, headers={"Origin": PORTAL})
    assert started.status_code == 202, started.text
    request_id = started.json()["request_id"]
    _, page = _confirm_token(agent, request_id)
    assert 'data-testid="confirm-choices"' in page  # no certificate named: the user chooses
    cert_id = _cert_id(agent)
    assert _decide(agent, request_id, extra={"certificate_id": cert_id}).status_code == 200
    result = _status(agent, request_id)["result"]
    assert result["origin"] == PORTAL and result["format"] == "signagent-auth" and result["version"] == 1
    certificate = verify_proof(result, origin=PORTAL, challenge=challenge)
    assert certificate.streebog_thumbprint == cert_id
    with pytest.raises(ProofError):
        verify_proof(result, origin=OTHER, challenge=challenge)
    with pytest.raises(ProofError):
        verify_proof(result, origin=PORTAL, challenge=os.urandom(32))
    forged = dict(result, origin=OTHER)
    with pytest.raises(ProofError):
        verify_proof(forged, origin=OTHER, challenge=challenge)  # the signature binds the origin the agent saw


def test_a_site_cannot_approve_or_poll_requests_it_does_not_own(signing_agent) -> None:
    agent = signing_agent
    _pair(agent)
    _pair(agent, OTHER)
    started = _sign(agent, {"certificate_id": _cert_id(agent), "content": _b64(b"x")}).json()
    request_id = started["request_id"]
    token, _ = _confirm_token(agent, request_id)
    # the paired site posting the approval itself (even with the token, were it ever leaked): refused
    forged = agent.client.post(f"/confirm/{request_id}", data={"token": token, "decision": "approve", "pin": "1234"},
                               headers={"Origin": PORTAL})
    assert forged.status_code == 403 and forged.json()["error"]["code"] == "agent_origin_required"
    other = agent.client.get(f"/v1/requests/{request_id}", headers={"Origin": OTHER})
    assert other.status_code == 404
    assert _status(agent, request_id)["status"] == "pending"  # nothing happened
    unpaired = _sign(agent, {"certificate_id": "ab" * 32, "content": _b64(b"x")}, origin="https://evil.test")
    assert unpaired.status_code == 403 and unpaired.json()["error"]["code"] == "origin_not_paired"
    # replaying the finished request's approval: refused, still one signature
    assert _decide(agent, request_id).status_code == 200
    replay = agent.client.post(f"/confirm/{request_id}", data={"token": token, "decision": "approve", "pin": "1234"},
                               headers={"Origin": agent.url})
    assert replay.status_code == 409 and replay.json()["error"]["code"] == "request_finished"
    log = [json.loads(line) for line in (agent.state_dir / "audit.jsonl").read_text().splitlines()]
    assert [e["result"] for e in log if e["operation"] == "sign"] == ["requested", "approved"]
    refused = {(e["origin"], e["code"]) for e in log if e["operation"] == "refused"}
    assert (PORTAL, "agent_origin_required") in refused and ("https://evil.test", "origin_not_paired") in refused


def test_pending_requests_die_with_the_agent(runner, sim, tmp_path: Path) -> None:
    options = {"pkcs11_modules": [pkcs11_sim.module_path()], "keys_dir": str(tmp_path / "keys"),
               "trust_dir": str(tmp_path / "trust")}
    agent = runner.start(options=options)
    _pair(agent)
    started = _sign(agent, {"certificate_id": _cert_id(agent), "content": _b64(b"x")}).json()
    port, state = agent.port, agent.state_dir
    runner.stop(agent)
    again = runner.start(state_dir=state, port=port, options=options)
    response = again.client.get(f"/v1/requests/{started['request_id']}", headers={"Origin": PORTAL})
    assert response.status_code == 404 and response.json()["error"]["code"] == "request_not_found"
    assert again.client.get(f"/confirm/{started['request_id']}").status_code == 404


def test_token_removed_while_the_request_waits(signing_agent, sim) -> None:
    root, pki = sim
    agent = signing_agent
    _pair(agent)
    provision(root, label="Gone", pin=PIN, so_pin=SO_PIN, profile="employee", pki_dir=pki.out_dir)
    agent_inventory = agent.client.get("/v1/certificates", headers={"Origin": PORTAL})
    assert agent_inventory.status_code == 200
    import shutil

    try:
        cert_id = _cert_id(agent, "Gone")
    except AssertionError:
        pytest.skip("the simulator module does not show tokens added after it was loaded")
    started = _sign(agent, {"certificate_id": cert_id, "content": _b64(b"x")}).json()
    shutil.rmtree(root.path / "Gone")
    done = _decide(agent, started["request_id"])
    assert 'data-code="token_removed"' in done.text, done.text
    assert _status(agent, started["request_id"])["error"]["code"] == "token_removed"
    assert agent.client.get("/v1/info", headers={"Origin": PORTAL}).status_code == 200  # the agent keeps running


def _pdf(pages: int) -> bytes:
    import io

    import pypdfium2

    document = pypdfium2.PdfDocument.new()
    for _ in range(pages):
        document.new_page(595, 842)
    out = io.BytesIO()
    document.save(out)
    document.close()
    return out.getvalue()


def test_a_pdf_is_shown_as_page_images(signing_agent) -> None:
    agent = signing_agent
    _pair(agent)
    pdf = _pdf(2)
    started = _sign(agent, {"certificate_id": _cert_id(agent), "content": _b64(pdf), "detached": True,
                            "content_type": "application/pdf", "filename": "устав.pdf"}).json()
    _, page = _confirm_token(agent, started["request_id"])
    sources = re.findall(r'<img class="page" data-testid="confirm-page" alt="[^"]*" src="([^"]+)"', page)
    assert len(sources) == 2, page
    image = agent.client.get(sources[0])
    assert image.status_code == 200 and image.headers["content-type"] == "image/png"
    assert image.content.startswith(b"\x89PNG")
    assert agent.client.get(sources[0].replace("/1.png", "/3.png")).status_code == 404
    assert _decide(agent, started["request_id"]).status_code == 200
    assert agent.client.get(sources[0]).status_code == 409  # the request is over: its pages are gone


def test_home_page_lists_certificates_pairings_and_revokes(signing_agent) -> None:
    agent = signing_agent
    _pair(agent)
    home = agent.client.get("/")
    assert home.status_code == 200 and 'data-testid="home-certificate"' in home.text and PORTAL in home.text
    token = re.search(r'name="token" value="([^"]+)"', home.text).group(1)
    refused = agent.client.post("/pairings/revoke", data={"token": token, "decision": "revoke", "origin": PORTAL},
                                headers={"Origin": PORTAL})
    assert refused.status_code == 403
    wrong = agent.client.post("/pairings/revoke", data={"token": "x" * 43, "decision": "revoke", "origin": PORTAL},
                              headers={"Origin": agent.url})
    assert wrong.status_code == 403 and wrong.json()["error"]["code"] == "consent_token_invalid"
    done = agent.client.post("/pairings/revoke", data={"token": token, "decision": "revoke", "origin": PORTAL},
                             headers={"Origin": agent.url})
    assert done.status_code == 303
    assert agent.client.get("/v1/certificates", headers={"Origin": PORTAL}).status_code == 403


def test_two_origins_sign_at_once(signing_agent, sim) -> None:
    import concurrent.futures

    _, pki = sim
    agent = signing_agent
    _pair(agent)
    _pair(agent, OTHER)
    cert_id = _cert_id(agent)
    started = {origin: _sign(agent, {"certificate_id": cert_id, "content": _b64(origin.encode())}, origin).json()
               for origin in (PORTAL, OTHER)}
    tokens = {origin: _confirm_token(agent, s["request_id"])[0] for origin, s in started.items()}

    def approve(origin: str) -> int:
        import httpx

        with httpx.Client(base_url=agent.url, timeout=30) as client:  # one connection per "window"
            return client.post(f"/confirm/{started[origin]['request_id']}", headers={"Origin": agent.url},
                               data={"token": tokens[origin], "decision": "approve", "pin": PIN.decode()}).status_code

    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        assert list(pool.map(approve, (PORTAL, OTHER))) == [200, 200]
    for origin, s in started.items():
        status = _status(agent, s["request_id"], origin)
        assert status["status"] == "approved" and status["origin"] == origin
        cms = base64.b64decode(status["result"]["cms"])
        report = verify(cms, validate_chain=_chain_validator(pki))
        assert report.status == "valid"
        assert origin.encode() in cms  # each site got the signature of its own document


def test_the_watcher_fails_a_waiting_request_when_its_token_goes(signing_agent, sim) -> None:
    import shutil

    root, pki = sim
    agent = signing_agent
    _pair(agent)
    provision(root, label="Pulled", pin=PIN, so_pin=SO_PIN, profile="ip", pki_dir=pki.out_dir)
    watcher = agent.app.state.agent.watcher
    watcher.poll(publish=False)  # the baseline, as the running watcher's first poll
    cert_id = _cert_id(agent, "Pulled")
    started = _sign(agent, {"certificate_id": cert_id, "content": _b64(b"x")}).json()
    shutil.rmtree(root.path / "Pulled")
    changes = watcher.poll()
    assert any(c.event == "token-removed" for c in changes)
    status = _status(agent, started["request_id"])
    assert status["status"] == "failed" and status["error"]["code"] == "token_removed"
    assert agent.client.get(f"/confirm/{started['request_id']}").status_code == 409  # nothing left to approve
    assert _cert_id(agent) != cert_id  # the inventory was refreshed: the pulled token's certificate is gone
    listed = agent.client.get("/v1/certificates", headers={"Origin": PORTAL}).json()["certificates"]
    assert cert_id not in {c["id"] for c in listed}


def test_a_registration_request_is_rendered_for_a_person(signing_agent) -> None:
    from signagent.registration.canonical import canonical_json
    from signagent.registration.examples import example_head_request
    from signagent.registration.schema import REQUEST_CONTENT_TYPE

    agent = signing_agent
    _pair(agent)
    request = example_head_request("ab" * 32, PORTAL, "2026-12-03T19:00:00Z")
    started = _sign(agent, {"certificate_id": _cert_id(agent), "content": _b64(canonical_json(request)),
                            "content_type": REQUEST_CONTENT_TYPE, "filename": "registration.json"}).json()
    _, page = _confirm_token(agent, started["request_id"])
    assert 'data-testid="confirm-registration"' in page
    title = re.search(r'data-testid="confirm-registration-title">([^<]+)<', page).group(1)
    assert title.startswith("Регистрация организации") and request.organisation.ogrn in title
    assert "Иванов И. И." in title.replace("&#34;", '"')
    broken = _sign(agent, {"certificate_id": _cert_id(agent), "content": _b64(b'{"type": "head-registration"}'),
                           "content_type": REQUEST_CONTENT_TYPE}).json()
    _, page = _confirm_token(agent, broken["request_id"])
    assert 'data-testid="confirm-registration-problems"' in page

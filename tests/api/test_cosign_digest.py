"""A detached signature checked and co-signed by the content's digest alone (CryptoPro's VerifyHash and CoSignHash,
issue 13): ``POST /v1/validate`` with ``digest`` and ``POST /v1/cosign`` with ``digest``, on the simulated token
through the real PKCS#11 module; the co-signature verifies with the content, by our verifier and by OpenSSL."""

from __future__ import annotations

import base64
import os
from pathlib import Path

from signagent.cms.verification import verify
from signagent.gost import streebog256, streebog512

from .test_signing import (
    PORTAL,
    _b64,
    _cert_id,
    _chain_validator,
    _confirm_token,
    _decide,
    _openssl_accepts,
    _pair,
    _sign,
    _status,
)
from .test_signing import signing_agent as _signing_agent_fixture
from .test_signing import sim as _sim_fixture

# the fixtures of test_signing (the simulator's "Head" token, an agent that sees it and trusts its test PKI)
signing_agent, sim = _signing_agent_fixture, _sim_fixture

CONTENT = os.urandom(30_000)


def _signed_detached(agent, cert_id: str) -> bytes:
    started = _sign(agent, {"certificate_id": cert_id, "content": _b64(CONTENT), "detached": True})
    assert started.status_code == 202, started.text
    request_id = started.json()["request_id"]
    assert _decide(agent, request_id).status_code == 200
    return base64.b64decode(_status(agent, request_id)["result"]["cms"])


def _validate(agent, pki, cms: bytes, **body: object):
    anchors = {"trust": [_b64(pki.root.certificate.dump())],
               "intermediates": [_b64(pki.intermediate.certificate.dump())], "revocation": "off"}
    return agent.client.post("/v1/validate", json={"signature": _b64(cms), **anchors, **body},
                             headers={"Origin": PORTAL})


def test_a_detached_signature_is_verified_by_the_contents_digest(signing_agent, sim) -> None:
    _, pki = sim
    agent = signing_agent
    _pair(agent)
    cms = _signed_detached(agent, _cert_id(agent))
    valid = _validate(agent, pki, cms, digest=streebog256(CONTENT).hexdigest())
    assert valid.status_code == 200 and valid.json()["status"] == "valid", valid.text
    changed = _validate(agent, pki, cms, digest=streebog256(CONTENT + b"!").hexdigest().upper())
    assert changed.json()["status"] == "invalid" and changed.json()["exit_code"] == 1, changed.text
    other = _validate(agent, pki, cms, digest=streebog512(CONTENT).hexdigest())  # the signer used Streebog-256
    assert other.json()["status"] == "indeterminate", other.text
    assert "content_digest_algorithm" in other.text
    for bad in ({"digest": "ab" * 20}, {"digest": "zz" * 32}, {"digest": "ab" * 32, "content": _b64(CONTENT)}):
        refused = _validate(agent, pki, cms, **bad)
        assert refused.status_code == 422 and refused.json()["error"]["code"] == "request_invalid", refused.text


def test_a_detached_signature_is_cosigned_by_the_contents_digest(signing_agent, sim, tmp_path: Path) -> None:
    _, pki = sim
    agent = signing_agent
    _pair(agent)
    cert_id = _cert_id(agent)
    first = _signed_detached(agent, cert_id)
    digest = streebog256(CONTENT).hexdigest()
    started = agent.client.post("/v1/cosign", headers={"Origin": PORTAL}, json={
        "certificate_id": cert_id, "cms": _b64(first), "digest": digest, "filename": "big.iso"})
    assert started.status_code == 202, started.text
    request_id = started.json()["request_id"]
    _, page = _confirm_token(agent, request_id)
    # the user sees that only a digest is signed, and which
    assert "big.iso" in page and digest in page and 'data-testid="confirm-warning"' in page
    assert _decide(agent, request_id).status_code == 200
    status = _status(agent, request_id)
    assert status["status"] == "approved" and status["kind"] == "cosign", status
    both = base64.b64decode(status["result"]["cms"])
    report = verify(both, content=CONTENT, validate_chain=_chain_validator(pki))
    assert report.status == "valid" and len(report.signers) == 2, report.to_dict()
    assert [s.origin for s in report.signers] == [PORTAL, PORTAL]
    _openssl_accepts(pki, both, tmp_path, CONTENT)


def test_cosigning_by_digest_checks_its_input(signing_agent, sim) -> None:
    agent = signing_agent
    _pair(agent)
    cert_id = _cert_id(agent)
    detached = _signed_detached(agent, cert_id)
    attached = _sign(agent, {"certificate_id": cert_id, "content": _b64(b"inside")})
    request_id = attached.json()["request_id"]
    assert _decide(agent, request_id).status_code == 200
    attached_cms = base64.b64decode(_status(agent, request_id)["result"]["cms"])
    digest = streebog256(CONTENT).hexdigest()
    for body in ({"cms": _b64(detached), "digest": streebog512(CONTENT).hexdigest()},  # not this key's size
                 {"cms": _b64(detached), "digest": "xy" * 32},
                 {"cms": _b64(detached), "digest": digest, "content": _b64(CONTENT)},
                 {"cms": _b64(attached_cms), "digest": digest}):  # an attached signature co-signs its content
        refused = agent.client.post("/v1/cosign", headers={"Origin": PORTAL},
                                    json={"certificate_id": cert_id, **body})
        assert refused.status_code == 422 and refused.json()["error"]["code"] == "request_invalid", refused.text


def test_the_signature_alone_is_checked_without_a_trust_anchor(signing_agent, sim) -> None:
    # check_chain false (what the cadesplugin layer asks when the agent trusts no root): the signature's own verdict
    agent = signing_agent
    _pair(agent)
    cms = _signed_detached(agent, _cert_id(agent))

    def alone(**body: object):
        answer = agent.client.post("/v1/validate", headers={"Origin": PORTAL},
                                   json={"signature": _b64(cms), "check_chain": False, "use_trust_store": False,
                                         **body})
        assert answer.status_code == 200, answer.text
        return answer.json()

    holds = alone(content=_b64(CONTENT))
    assert holds["status"] == "indeterminate" and "chain_not_checked" in str(holds["signers"]), holds
    changed = alone(digest=streebog256(CONTENT[1:]).hexdigest())
    assert changed["status"] == "invalid" and "message_digest_mismatch" in str(changed["signers"]), changed
    certificate = agent.client.post("/v1/validate", headers={"Origin": PORTAL},
                                    json={"certificate": _b64(cms), "check_chain": False})
    assert certificate.status_code == 422, certificate.text


def test_the_confirmation_page_names_the_digests_algorithm() -> None:
    # a digest given for a 512-bit key is Streebog-512 (the page had said Streebog-256 for every digest)
    from types import SimpleNamespace

    from signagent.api import pages

    template = pages._templates.get_template("confirm.html")

    def shown(digest: str) -> list[str]:
        preview = SimpleNamespace(title="big.iso", content_type="application/octet-stream", size=None,
                                  digest=digest, warning_ru="", warning_en="", kind="digest")
        doc = SimpleNamespace(description="", detached=True)
        html = template.render(title_ru="t", title_en="t", request=SimpleNamespace(origin=PORTAL, request_id="r"),
                               certificate=None, kind="cosign", job=None, choices=(), token="t", error=None,  # noqa: S106 -- a page token
                               tries_left=None,
                               documents=[{"doc": doc, "preview": preview, "index": 0, "registration": None}])
        return [line for line in html.splitlines() if "confirm-digest" in line]

    assert "Стрибог-512 / Streebog-512" in shown("ab" * 64)[0]
    assert "Стрибог-256 / Streebog-256" in shown("ab" * 32)[0]

"""``POST /v1/validate`` on a real agent: real state-PKI certificates, signatures of the test PKI, hostile bodies."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from signagent.cms.signer import SoftwareSigner
from signagent.cms.signing import sign
from signagent.service.audit import AuditLog
from signagent.testpki import generate
from signagent.testpki.generator import TestPKI
from signagent.x509 import load_certificate

ROOT_2022 = "root_mincifry2022_guc2022_2F0CB09B.pem"
FNS_2022_11 = "ca_fns_2022-11_by_mincifry2022_08A4C134.pem"
NUC_2017 = "ca_nuc_2017_gost2001_by_guc2012_8F89950A.pem"  # expired 2026-10-26
ROOT_2012 = "root_guc2012_gost2001_8CAE88BB.pem"
REAL_ROOT = base64.b64encode((Path(__file__).parents[2] / "certs" / "real" / ROOT_2022).read_bytes()).decode()
CONTENT = "Заявление о регистрации профиля организации\n".encode()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> TestPKI:
    return generate(tmp_path_factory.mktemp("validate-pki"))


def _pki_options(pki: TestPKI) -> dict[str, object]:
    return {"trust": [b64(pki.root.der)], "intermediates": [b64(pki.intermediate.der)],
            "crls": [b64(pki.crls["inter"].der), b64(pki.crls["root"].der)]}


def _signed(pki: TestPKI, *, detached: bool = False) -> bytes:
    signer = SoftwareSigner(load_certificate(pki["head"].der), pki["head"].key)
    der = sign(CONTENT, signer, detached=detached)
    assert der is not None
    return der


def post(agent, body: object, **kwargs):  # type: ignore[no-untyped-def]
    headers = kwargs.pop("headers", None) or agent.local()
    return agent.client.post("/v1/validate", json=body, headers=headers, **kwargs)


def test_real_state_pki_certificate_is_valid(agent, real_pki_dir: Path) -> None:
    body = {"certificate": b64((real_pki_dir / FNS_2022_11).read_bytes()),
            "trust": [b64((real_pki_dir / ROOT_2022).read_bytes())], "revocation": "off"}
    answer = post(agent, body)
    assert answer.status_code == 200, answer.text
    doc = answer.json()
    assert doc["status"] == "valid" and doc["exit_code"] == 0 and doc["reasons"] == []
    assert [c["role"] for c in doc["chain"]] == ["end_entity", "root"]
    assert doc["chain"][0]["sha1"].startswith("08A4C134") and doc["chain"][0]["owner_name"]
    logged = [e for e in AuditLog(agent.state_dir).entries() if e["operation"] == "validate"]
    assert [(e["result"], e["origin"], e["detail"]) for e in logged] == [("valid", "local", {"kind": "certificate"})]


def test_the_document_is_the_command_lines(agent, real_pki_dir: Path) -> None:
    from signagent.service.validation import certificate_report

    at = "2025-01-01T00:00:00Z"
    _, expected = certificate_report(real_pki_dir / FNS_2022_11, config=None,  # type: ignore[arg-type]
                                     trust_paths=[real_pki_dir / ROOT_2022], at=at, revocation="off", offline=True)
    body = {"certificate": b64((real_pki_dir / FNS_2022_11).read_bytes()),
            "trust": [b64((real_pki_dir / ROOT_2022).read_bytes())], "revocation": "off", "at": at}
    doc = post(agent, body).json()
    assert doc.pop("exit_code") == 0
    assert doc == expected


def test_the_verification_document_is_the_command_lines(agent, pki: TestPKI, tmp_path: Path) -> None:
    from signagent.service import reports, signatures

    at = datetime.now(UTC).replace(microsecond=0).isoformat()
    signature = tmp_path / "doc.sig"
    signature.write_bytes(_signed(pki))
    files = {"trust_paths": [tmp_path / "root.der"], "intermediate_paths": [tmp_path / "inter.der"],
             "crl_paths": [tmp_path / "inter.crl", tmp_path / "root.crl"]}
    for path, data in zip([*files["trust_paths"], *files["intermediate_paths"], *files["crl_paths"]],
                          [pki.root.der, pki.intermediate.der, pki.crls["inter"].der, pki.crls["root"].der],
                          strict=True):
        path.write_bytes(data)
    report = signatures.verify_signature_file(signature, at=at, offline=True, **files)  # type: ignore[arg-type]
    expected = reports.verification_document(report)
    doc = post(agent, {"signature": b64(signature.read_bytes()), "at": at, **_pki_options(pki)}).json()
    assert doc.pop("exit_code") == 0
    assert doc == expected


def test_expired_certificate_is_invalid_with_reasons(agent, real_pki_dir: Path) -> None:
    body = {"certificate": b64((real_pki_dir / NUC_2017).read_bytes()),
            "trust": [b64((real_pki_dir / ROOT_2012).read_bytes())], "revocation": "off",
            "at": "2026-12-01T00:00:00Z"}
    doc = post(agent, body).json()
    assert doc["status"] == "invalid" and doc["exit_code"] == 1
    assert "expired" in {r["code"] for r in doc["reasons"]}, doc["reasons"]


def test_tampered_certificate_is_not_valid(agent, real_pki_dir: Path) -> None:
    der = bytearray(load_certificate((real_pki_dir / FNS_2022_11).read_bytes()).der)
    der[-5] ^= 0x01  # inside the signature value
    body = {"certificate": b64(bytes(der)), "trust": [b64((real_pki_dir / ROOT_2022).read_bytes())],
            "revocation": "off"}
    doc = post(agent, body).json()
    assert doc["status"] in ("invalid", "indeterminate") and doc["exit_code"] in (1, 2)
    assert doc["reasons"] and all(r["code"] and r["message"] and r["message_ru"] for r in doc["reasons"])


def test_attached_signature_of_the_test_pki_is_valid(agent, pki: TestPKI) -> None:
    answer = post(agent, {"signature": b64(_signed(pki)), **_pki_options(pki)})
    assert answer.status_code == 200, answer.text
    doc = answer.json()
    assert doc["status"] == "valid" and doc["exit_code"] == 0 and doc["detached"] is False
    assert doc["signers"][0]["cades_bes"] is True and doc["signers"][0]["signer"]["owner_name"]


def test_detached_signature_with_its_content(agent, pki: TestPKI) -> None:
    detached = b64(_signed(pki, detached=True))
    doc = post(agent, {"signature": detached, "content": b64(CONTENT), **_pki_options(pki)}).json()
    assert doc["status"] == "valid" and doc["detached"] is True
    changed = post(agent, {"signature": detached, "content": b64(CONTENT + b"!"), **_pki_options(pki)}).json()
    assert changed["status"] == "invalid" and changed["exit_code"] == 1
    missing = post(agent, {"signature": detached, **_pki_options(pki)})
    assert missing.status_code == 400 and missing.json()["error"]["code"] == "cms_content_missing"


def test_signature_in_pem_text(agent, pki: TestPKI) -> None:
    pem = b"-----BEGIN CMS-----\n" + base64.encodebytes(_signed(pki)) + b"-----END CMS-----\n"
    doc = post(agent, {"signature": b64(pem), **_pki_options(pki)}).json()
    assert doc["status"] == "valid"


def test_without_anchors_and_without_the_store(agent, pki: TestPKI) -> None:
    answer = post(agent, {"signature": b64(_signed(pki)), "use_trust_store": False})
    assert answer.status_code == 400 and answer.json()["error"]["code"] == "usage_error"


@pytest.mark.parametrize(("body", "status", "code"), [
    ({"certificate": b64(b"\x30\x82\xff\xff garbage")}, 400, "certificate_malformed"),
    ({"certificate": b64(b"hello")}, 400, "certificate_malformed"),
    ({"signature": b64(b"\x30\x03\x02\x01\x01"), "trust": [b64(b"\x30\x00")]}, 400, "certificate_malformed"),
    ({"signature": b64(b"\x30\x03\x02\x01\x01"), "trust": [REAL_ROOT]}, 400, "cms_malformed"),
    ({"certificate": "@@not base64@@"}, 422, "request_invalid"),
    ({"certificate": b64(b"x"), "signature": b64(b"x")}, 422, "request_invalid"),
    ({}, 422, "request_invalid"),
    ({"certificate": b64(b"x"), "revocation": "sometimes"}, 422, "request_invalid"),
    ({"certificate": b64(b"x"), "surprise": 1}, 422, "request_invalid"),
    ({"certificate": b64(b"x"), "trust": ["AAAA"] * 1000}, 422, "request_invalid"),
])
def test_garbage_is_an_error_document(agent, body: dict[str, object], status: int, code: str) -> None:
    answer = post(agent, body)
    assert answer.status_code == status, answer.text
    error = answer.json()["error"]
    assert error["code"] == code and error["message"] and error["message_ru"] and error["retriable"] is False


def test_garbage_pieces_are_named(agent, real_pki_dir: Path) -> None:
    body = {"certificate": b64((real_pki_dir / FNS_2022_11).read_bytes()), "trust": [b64(b"junk")]}
    error = post(agent, body).json()["error"]
    assert error["code"] == "certificate_malformed" and error["message"].startswith("trust[0]: ")
    bad_time = post(agent, {**body, "trust": [b64((real_pki_dir / ROOT_2022).read_bytes())], "at": "yesterday"})
    assert bad_time.status_code == 400 and bad_time.json()["error"]["code"] == "usage_error"


def test_not_json_is_an_error_document(agent) -> None:
    answer = agent.client.post("/v1/validate", content=b"\xff\x00{", headers={**agent.local(),
                                                                              "content-type": "application/json"})
    assert answer.status_code == 422 and answer.json()["error"]["code"] == "request_invalid"


def test_oversize_body_is_refused_with_413(agent) -> None:
    from signagent.api.routes_validate import MAX_BODY

    huge = {"certificate": "A" * (MAX_BODY + 16)}
    answer = post(agent, huge)
    assert answer.status_code == 413 and answer.json()["error"]["code"] == "content_too_large"

    def chunks() -> Iterator[bytes]:  # no Content-Length: the bytes are counted as they come
        yield b'{"certificate": "'
        for _ in range(MAX_BODY // (1 << 20) + 1):
            yield b"A" * (1 << 20)
        yield b'"}'

    streamed = agent.client.post("/v1/validate", content=chunks(),
                                 headers={**agent.local(), "content-type": "application/json"})
    assert streamed.status_code == 413 and streamed.json()["error"]["code"] == "content_too_large"


def test_unpaired_origin_is_refused(agent, real_pki_dir: Path) -> None:
    body = {"certificate": b64((real_pki_dir / FNS_2022_11).read_bytes())}
    answer = agent.client.post("/v1/validate", json=body, headers={"Origin": "https://evil.test"})
    assert answer.status_code == 403 and answer.json()["error"]["code"] == "origin_not_paired"
    assert "access-control-allow-origin" not in answer.headers
    anonymous = agent.client.post("/v1/validate", json=body)
    assert anonymous.status_code == 401 and anonymous.json()["error"]["code"] == "local_secret_required"


def test_a_site_may_not_ask_for_a_check_online(agent, real_pki_dir: Path) -> None:
    from .test_pairing import _pair

    _pair(agent, "https://portal.test")  # the user's way: the agent's pairing page
    site = {"Origin": "https://portal.test"}
    body = {"certificate": b64((real_pki_dir / FNS_2022_11).read_bytes()),
            "trust": [b64((real_pki_dir / ROOT_2022).read_bytes())], "revocation": "off"}
    refused = agent.client.post("/v1/validate", json={**body, "offline": False}, headers=site)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "online_check_not_allowed"
    allowed = agent.client.post("/v1/validate", json=body, headers=site)
    assert allowed.status_code == 200 and allowed.json()["status"] == "valid"
    assert allowed.headers["access-control-allow-origin"] == "https://portal.test"


def test_openapi_declares_the_route_and_its_errors(agent) -> None:
    doc = agent.client.get("/openapi.json").json()
    operation = doc["paths"]["/v1/validate"]["post"]
    assert {"200", "400", "403", "413", "422"} <= set(operation["responses"])
    schema = operation["responses"]["422"]["content"]["application/json"]["schema"]
    assert schema["$ref"].endswith("/ErrorDocument")


def test_time_of_the_check_is_used(agent, real_pki_dir: Path) -> None:
    body = {"certificate": b64((real_pki_dir / FNS_2022_11).read_bytes()),
            "trust": [b64((real_pki_dir / ROOT_2022).read_bytes())], "revocation": "off", "at": "2019-01-01"}
    doc = post(agent, body).json()
    assert doc["status"] == "invalid" and doc["validated_at"].startswith("2019-01-01")
    assert datetime.fromisoformat(doc["validated_at"].replace("Z", "+00:00")) < datetime.now(UTC)


def test_revocation_choices_are_the_command_lines() -> None:
    from typing import get_args

    from signagent.api.routes_validate import ValidateRequest
    from signagent.service.choices import REVOCATION_MODES

    annotation = ValidateRequest.model_fields["revocation"].annotation
    assert {a for arg in get_args(annotation) for a in get_args(arg)} == set(REVOCATION_MODES)

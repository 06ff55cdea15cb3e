"""The test PKI's OCSP responder and HTTP server: OpenSSL's ``ocsp`` client, direct requests, files, failures."""

from __future__ import annotations

import base64
import hashlib
import http.client
import socket
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from asn1crypto import crl, ocsp, x509

from signagent.errors import InvalidInputError
from signagent.gost import PublicKey, curve, streebog256, streebog512
from signagent.testpki import OcspResponder, PkiServer, TestPKI, generate
from tests.conftest import require
from tests.oracles import openssl_gost as oracle


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestPKI, PkiServer]]:
    with PkiServer() as server:
        pki = generate(tmp_path_factory.mktemp("pki"), base_url=server.base_url)
        server.serve_pki(pki)
        yield pki, server


@pytest.fixture
def server(served: tuple[TestPKI, PkiServer]) -> Iterator[PkiServer]:
    srv = served[1]
    yield srv
    srv.set_failure(None)  # leave the shared server healthy for the next test
    srv.delay = 0.0
    srv.serve_pki(served[0])


@pytest.fixture
def pki(served: tuple[TestPKI, PkiServer]) -> TestPKI:
    return served[0]


def _request(issuer: x509.Certificate, serial: int, *, algorithm: str = "sha1", nonce: bytes | None = None) -> bytes:
    fn = {"sha1": lambda d: hashlib.sha1(d).digest(), "sha256": lambda d: hashlib.sha256(d).digest(),  # noqa: S324
          "streebog256": lambda d: streebog256(d).digest()}[algorithm]
    key_bits = issuer.public_key["public_key"].contents[1:]
    tbs: dict[str, object] = {"request_list": [{"req_cert": {
        "hash_algorithm": {"algorithm": algorithm},
        "issuer_name_hash": fn(issuer.subject.dump()),
        "issuer_key_hash": fn(key_bits),
        "serial_number": serial,
    }}]}
    if nonce is not None:
        tbs["request_extensions"] = [{"extn_id": "nonce", "critical": False, "extn_value": nonce}]
    return ocsp.OCSPRequest({"tbs_request": tbs}).dump()


def _signature_ok(basic: ocsp.BasicOCSPResponse, signer: x509.Certificate) -> bool:
    spki = signer.public_key
    pub = PublicKey.from_bytes(curve(spki["algorithm"]["parameters"]["public_key_param_set"].dotted),
                               spki["public_key"].parsed.native)
    algorithm = basic["signature_algorithm"]["algorithm"].dotted
    digest = (streebog256 if algorithm == "1.2.643.7.1.1.3.2" else streebog512)(basic["tbs_response_data"].dump())
    return pub.verify_digest(digest.digest(), basic["signature"].native)


def _post(url: str, body: bytes, timeout: float = 5) -> bytes:
    req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/ocsp-request"})  # noqa: S310
    with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310  (our own 127.0.0.1 server)
        return resp.read()


def _get(url: str, timeout: float = 5) -> bytes:
    with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310
        return resp.read()


# --------------------------------------------------------------------------------------------- the responder


def test_good_revoked_unknown_answers_are_signed_by_the_ca(pki: TestPKI) -> None:
    responder = OcspResponder.for_pki(pki)
    inter = pki.intermediate.certificate
    cases = {pki["head"].serial: "good", pki["revoked"].serial: "revoked", 0x0BADBEEF: "unknown"}
    for serial, expected in cases.items():
        response = ocsp.OCSPResponse.load(responder.respond(_request(inter, serial, nonce=b"n" * 16)))
        assert response["response_status"].native == "successful"
        basic = response["response_bytes"]["response"].parsed
        data = basic["tbs_response_data"]
        single = data["responses"][0]
        assert single["cert_status"].name == expected
        assert single["cert_id"]["serial_number"].native == serial
        assert single["next_update"].native > single["this_update"].native
        assert data["responder_id"].chosen.native == inter.key_identifier
        assert data["response_extensions"][0]["extn_value"].parsed.native == b"n" * 16  # nonce echoed
        assert basic["certs"][0].dump() == inter.dump()
        assert _signature_ok(basic, inter)
        if expected == "revoked":
            info = single["cert_status"].chosen
            assert info["revocation_time"].native == pki.revocations["inter"][serial].revoked_at
            assert info["revocation_reason"].native == "key_compromise"


@pytest.mark.parametrize("algorithm", ["sha256", "streebog256"])
def test_other_certid_hashes_are_matched(pki: TestPKI, algorithm: str) -> None:
    response = ocsp.OCSPResponse.load(OcspResponder.for_pki(pki).respond(
        _request(pki.intermediate.certificate, pki["revoked"].serial, algorithm=algorithm)))
    single = response["response_bytes"]["response"].parsed["tbs_response_data"]["responses"][0]
    assert single["cert_status"].name == "revoked"


def test_the_root_answers_for_the_intermediate_with_its_512_bit_key(pki: TestPKI) -> None:
    response = ocsp.OCSPResponse.load(OcspResponder.for_pki(pki).respond(
        _request(pki.root.certificate, pki.intermediate.serial)))
    basic = response["response_bytes"]["response"].parsed
    assert basic["tbs_response_data"]["responses"][0]["cert_status"].name == "good"
    assert basic["signature_algorithm"]["algorithm"].dotted == "1.2.643.7.1.1.3.3"
    assert _signature_ok(basic, pki.root.certificate)


def test_delegated_responder_signs_with_its_own_certificate(pki: TestPKI) -> None:
    assert pki.ocsp_responder is not None
    response = ocsp.OCSPResponse.load(OcspResponder.for_pki(pki, delegated=True).respond(
        _request(pki.intermediate.certificate, pki["head"].serial)))
    basic = response["response_bytes"]["response"].parsed
    signer = pki.ocsp_responder.certificate
    assert basic["certs"][0].dump() == signer.dump()
    assert _signature_ok(basic, signer) and not _signature_ok(basic, pki.intermediate.certificate)
    assert signer.extended_key_usage_value.native == ["ocsp_signing"]


def test_fixed_clock(pki: TestPKI) -> None:
    when = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    response = ocsp.OCSPResponse.load(OcspResponder.for_pki(pki, clock=lambda: when).respond(
        _request(pki.intermediate.certificate, pki["head"].serial)))
    data = response["response_bytes"]["response"].parsed["tbs_response_data"]
    assert data["produced_at"].native == when and data["responses"][0]["this_update"].native == when


@pytest.mark.parametrize("body", [b"", b"\x30\x03\x02\x01", b"garbage" * 10, ocsp.OCSPRequest(
    {"tbs_request": {"request_list": []}}).dump()])
def test_malformed_requests_get_malformed_request(pki: TestPKI, body: bytes) -> None:
    response = ocsp.OCSPResponse.load(OcspResponder.for_pki(pki).respond(body))
    assert response["response_status"].native == "malformed_request"


def test_unknown_issuer_gets_unauthorized(pki: TestPKI, tmp_path: Path) -> None:
    other = generate(tmp_path, seed="other")
    response = ocsp.OCSPResponse.load(OcspResponder.for_pki(pki).respond(
        _request(other.intermediate.certificate, other["head"].serial)))
    assert response["response_status"].native == "unauthorized"


# ----------------------------------------------------------------------------------------------- OpenSSL ocsp


def _openssl_ocsp(pki: TestPKI, name: str, *extra: str, issuer: str = "inter") -> str:
    d = pki.out_dir
    args = ["ocsp", "-issuer", str(d / f"certs/{issuer}.pem"), *extra]
    if not any(a == "-serial" for a in extra):
        args += ["-cert", str(d / f"certs/{name}.pem")]
    args += ["-url", pki.urls["ocsp"], "-CAfile", str(d / "certs/root.pem")]
    result = oracle.run_cli(args)
    return (result.stdout + result.stderr).decode("utf-8", "replace")


@pytest.mark.oracle
@pytest.mark.parametrize("delegated", [False, True], ids=["ca-signed", "delegated"])
def test_openssl_ocsp_client(served: tuple[TestPKI, PkiServer], server: PkiServer, delegated: bool) -> None:
    require(oracle.openssl_binary() and oracle.available(), f"openssl with the GOST engine ({oracle.reason()})")
    pki = served[0]
    server.serve_pki(pki, delegated=delegated)
    good = _openssl_ocsp(pki, "head")
    assert "head.pem: good" in good and "Response verify OK" in good
    revoked = _openssl_ocsp(pki, "revoked")
    assert "revoked.pem: revoked" in revoked and "Reason: keyCompromise" in revoked
    assert "Response verify OK" in revoked
    when = pki.revocations["inter"][pki["revoked"].serial].revoked_at
    assert f"Revocation Time: {when.strftime('%b %e %H:%M:%S %Y')} GMT" in revoked
    unknown = _openssl_ocsp(pki, "", "-serial", "0x0BADBEEF")
    assert "0x0BADBEEF: unknown" in unknown and "Response verify OK" in unknown
    for digest in ("-sha256", "-md_gost12_256"):  # CertID hashed with SHA-256, then with Streebog-256
        other_hash = _openssl_ocsp(pki, "revoked", digest)
        assert "revoked.pem: revoked" in other_hash and "Response verify OK" in other_hash, digest
    for_inter = _openssl_ocsp(pki, "inter", issuer="root")
    assert "inter.pem: good" in for_inter and "Response verify OK" in for_inter


# ----------------------------------------------------------------------------------------------- HTTP server


def test_get_request_and_static_files(pki: TestPKI, server: PkiServer) -> None:
    request = _request(pki.intermediate.certificate, pki["revoked"].serial)
    path = urllib.request.quote(base64.b64encode(request).decode(), safe="")
    answer = ocsp.OCSPResponse.load(_get(pki.urls["ocsp"] + "/" + path))
    assert answer["response_bytes"]["response"].parsed["tbs_response_data"]["responses"][0][
        "cert_status"].name == "revoked"
    crl_der = _get(pki.urls["crl_inter"])
    assert crl_der == pki.crls["inter"].der
    assert crl.CertificateList.load(crl_der).issuer == pki.intermediate.certificate.subject
    assert _get(pki.urls["crl_root"]) == pki.crls["root"].der
    assert _get(pki.urls["cert_inter"]) == pki.intermediate.der
    assert _get(pki.urls["cert_root"]) == pki.root.der
    assert _get(server.base_url + "crl/inter_expired.crl") == pki.crls["inter_expired"].der
    with pytest.raises(urllib.error.HTTPError) as missing:
        _get(server.base_url + "nothing/here")
    assert missing.value.code == 404
    assert ("GET", "/crl/inter.crl") in server.requests


def test_files_can_be_swapped(pki: TestPKI, server: PkiServer) -> None:
    server.files["/crl/inter.crl"] = (pki.crls["inter_expired"].der, "application/pkix-crl")
    assert _get(pki.urls["crl_inter"]) == pki.crls["inter_expired"].der


def test_failure_modes(pki: TestPKI, server: PkiServer) -> None:
    request = _request(pki.intermediate.certificate, pki["head"].serial)
    server.set_failure("http500")
    with pytest.raises(urllib.error.HTTPError) as err:
        _post(pki.urls["ocsp"], request)
    assert err.value.code == 500
    server.set_failure("garbage")
    junk = _post(pki.urls["ocsp"], request)
    with pytest.raises(ValueError):
        ocsp.OCSPResponse.load(junk).native  # noqa: B018  (parsing is what must fail)
    server.set_failure("close")
    with pytest.raises((http.client.RemoteDisconnected, urllib.error.URLError, ConnectionError)):
        _get(pki.urls["crl_inter"])
    server.set_failure("http500", "/ocsp")  # only OCSP fails; CRLs still come
    assert _get(pki.urls["crl_inter"]) == pki.crls["inter"].der
    with pytest.raises(urllib.error.HTTPError):
        _post(pki.urls["ocsp"], request)
    server.set_failure(None)
    assert ocsp.OCSPResponse.load(_post(pki.urls["ocsp"], request))["response_status"].native == "successful"
    with pytest.raises(InvalidInputError):
        server.set_failure("explode")


def test_slow_server_times_out_the_client(pki: TestPKI, server: PkiServer) -> None:
    server.delay = 3.0
    with pytest.raises((TimeoutError, socket.timeout, urllib.error.URLError)):  # answered after 3 s, asked 0.3 s
        _get(pki.urls["crl_inter"], timeout=0.3)


def test_stopping_abandons_delayed_requests_and_frees_the_port(tmp_path: Path) -> None:
    srv = PkiServer().start()
    pki = generate(tmp_path, base_url=srv.base_url)
    srv.serve_pki(pki)
    srv.delay = 30.0
    with pytest.raises((TimeoutError, socket.timeout, urllib.error.URLError)):
        _get(pki.urls["crl_inter"], timeout=0.2)
    stopper = threading.Thread(target=srv.stop, daemon=True)
    stopper.start()
    stopper.join(timeout=20)  # a hang guard: a stop that waited for the delayed answer would take 30 s
    assert not stopper.is_alive(), "stop() waited for the delayed request"
    with pytest.raises((ConnectionError, urllib.error.URLError)):
        _get(pki.urls["crl_inter"], timeout=1)


def test_post_with_absurd_length_is_refused(pki: TestPKI, server: PkiServer) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    try:
        conn.putrequest("POST", "/ocsp")
        conn.putheader("Content-Length", str(10**9))
        conn.endheaders()
        assert conn.getresponse().status == 413
    finally:
        conn.close()

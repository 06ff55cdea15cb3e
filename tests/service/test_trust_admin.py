"""Trust administration use cases: pinned root update over a local HTTP server, file and TSL imports, listing."""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from asn1crypto import cms, pem, x509

from signagent.errors import CertificateFormatError, DownloadError, FileAccessError, InvalidInputError
from signagent.service.trust_admin import http_fetch, import_file, import_tsl, list_store, update_roots
from signagent.trust.manifest import load_manifest, parse_manifest
from signagent.trust.store import NotCaCertificateError, NotSelfSignedError, TrustStore
from tests.trust.test_store import make_certificate
from tests.trust.test_tsl import build_tsl


@pytest.fixture(scope="module")
def real_dir(real_pki_dir: Path) -> Path:
    return real_pki_dir


def der(real_dir: Path, stem: str) -> bytes:
    return pem.unarmor((real_dir / f"{stem}.pem").read_bytes())[2]


def sha1(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest().upper()  # noqa: S324


class Server:
    """A stub HTTP server on 127.0.0.1: path -> body (bytes), status code (int) or a delay in seconds (float)."""

    def __init__(self, routes: dict[str, object]):
        self.routes = routes
        self.hits: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                server.hits.append(self.path)
                answer = server.routes.get(self.path, 404)
                if isinstance(answer, float):
                    time.sleep(answer)
                    answer = b"late"
                if isinstance(answer, int):
                    self.send_response(answer)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/pkix-cert")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                try:
                    self.wfile.write(answer)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up on purpose (size limit)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.httpd.block_on_close = False
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def manifest_for(server: Server, urls: dict[str, list[str]]):
    """The project's manifest with each anchor's addresses replaced by paths on the stub server."""
    raw = json.loads(json.dumps({"schema": 1, "anchors": [a.to_dict() for a in load_manifest().anchors]}))
    raw["anchors"] = [a for a in raw["anchors"] if a["id"] in urls]
    for anchor in raw["anchors"]:
        anchor["urls"] = [{"url": server.url(p), "verified": False, "source": "test"} for p in urls[anchor["id"]]]
    return parse_manifest(raw)


# --- update ------------------------------------------------------------------------------------------------------

def test_update_accepts_only_pinned_files(tmp_path, real_dir):
    good_2022 = der(real_dir, "root_mincifry2022_guc2022_2F0CB09B")
    good_2021_pem = (real_dir / "root_minkomsvyaz2021_guc2021_AFF05C9E.pem").read_bytes()
    tampered = bytearray(good_2022)
    tampered[200] ^= 0xFF
    routes = {
        "/tampered/guc2022.crt": bytes(tampered),          # one bit changed
        "/good/guc2022.crt": good_2022,
        "/good/guc2021.pem": good_2021_pem,                  # PEM is accepted too
        "/other/guc_gost12.crt": der(real_dir, "root_mincifry2026_2FDEDE3B"),  # a real root, but not this one
        "/gone/guc.crt": 404,
        "/good/mincifry2025.crt": der(real_dir, "root_mincifry2025_9EC1A7DD"),
    }
    store = TrustStore(tmp_path)
    with Server(routes) as server:
        manifest = manifest_for(server, {
            "mincifry-2022": ["/tampered/guc2022.crt", "/good/guc2022.crt"],
            "minkomsvyaz-2021": ["/good/guc2021.pem"],
            "minkomsvyaz-2018": ["/other/guc_gost12.crt"],
            "guc-2012-gost2001": ["/gone/guc.crt"],
            "mincifry-2025": ["/good/mincifry2025.crt"],
        })
        report = update_roots(store, manifest)
        by_id = {a["id"]: a for a in report["anchors"]}
        assert (report["added"], report["failed"], report["present"]) == (3, 2, 0)

        first = by_id["mincifry-2022"]
        assert first["status"] == "added" and first["url"].endswith("/good/guc2022.crt")
        assert [e["code"] for e in first["errors"]] == ["fingerprint_mismatch"]
        assert first["errors"][0]["details"]["actual"] == hashlib.sha256(tampered).hexdigest()
        assert by_id["minkomsvyaz-2021"]["status"] == "added"
        assert by_id["minkomsvyaz-2018"]["status"] == "failed"
        assert by_id["minkomsvyaz-2018"]["errors"][0]["code"] == "fingerprint_mismatch"
        assert by_id["guc-2012-gost2001"]["status"] == "failed"
        assert by_id["guc-2012-gost2001"]["errors"][0]["code"] == "download_failed"
        json.dumps(report)

        stored = {e.sha256 for e in store.list()}
        assert stored == {hashlib.sha256(d).hexdigest() for d in (
            good_2022, pem.unarmor(good_2021_pem)[2], der(real_dir, "root_mincifry2025_9EC1A7DD"))}
        assert hashlib.sha256(routes["/other/guc_gost12.crt"]).hexdigest() not in stored

        # only_missing: present anchors are not downloaded again; the failed ones are retried.
        server.hits.clear()
        again = update_roots(store, manifest, only_missing=True)
        assert {a["id"]: a["status"] for a in again["anchors"]} == {
            "mincifry-2022": "present", "minkomsvyaz-2021": "present", "mincifry-2025": "present",
            "minkomsvyaz-2018": "failed", "guc-2012-gost2001": "failed"}
        assert sorted(server.hits) == ["/gone/guc.crt", "/other/guc_gost12.crt"]
        # Without only_missing, everything is fetched and checked again; nothing changes.
        assert update_roots(store, manifest)["present"] == 3
        assert update_roots(store, manifest, include_legacy=False)["skipped"] == 1


def test_http_fetch_timeouts_and_limits():
    with Server({"/slow": 1.0, "/big": b"x" * 300_000, "/ok": b"fine", "/err": 500}) as server:
        with pytest.raises(DownloadError) as info:  # the answer comes after 1 s: only the 0.3 s timeout fails it
            http_fetch(server.url("/slow"), timeout=0.3)
        assert info.value.retriable
        with pytest.raises(DownloadError, match="more than"):
            http_fetch(server.url("/big"))
        with pytest.raises(DownloadError, match="HTTP 500"):
            http_fetch(server.url("/err"))
        assert http_fetch(server.url("/ok")) == b"fine"
    with pytest.raises(DownloadError):
        http_fetch("http://127.0.0.1:9/closed-port", timeout=1.0)


# --- import FILE -------------------------------------------------------------------------------------------------

def p7b(certs: list[bytes]) -> bytes:
    """A degenerate PKCS#7 SignedData carrying only certificates (what Windows exports as .p7b)."""
    signed = cms.SignedData({
        "version": "v1", "digest_algorithms": [], "encap_content_info": {"content_type": "data"},
        "certificates": [x509.Certificate.load(c) for c in certs], "signer_infos": [],
    })
    return cms.ContentInfo({"content_type": "signed_data", "content": signed}).dump()


def test_import_file_auto_detects_roots_and_intermediates(tmp_path, real_dir):
    store = TrustStore(tmp_path / "store")
    bundle = tmp_path / "bundle.pem"
    bundle.write_bytes((real_dir / "root_mincifry2022_guc2022_2F0CB09B.pem").read_bytes()
                       + (real_dir / "ca_fns_2022-11_by_mincifry2022_08A4C134.pem").read_bytes()
                       + (real_dir / "cross_mincifry2022_by_minkomsvyaz2021_1D131217.pem").read_bytes())
    report = import_file(store, bundle)
    assert [(i["kind"], i["status"]) for i in report["items"]] == [
        ("root", "added"), ("intermediate", "added"), ("intermediate", "added")]
    assert report["added"] == 3

    exported = tmp_path / "nuc.cer"  # CryptoPro's export: base64 without armour
    exported.write_bytes(base64.encodebytes(der(real_dir, "ca_nuc_2019_by_minkomsvyaz2018_8B450F7C")))
    assert import_file(store, exported)["items"][0]["kind"] == "intermediate"

    bundle_p7b = tmp_path / "chain.p7b"
    bundle_p7b.write_bytes(p7b([der(real_dir, "root_minkomsvyaz2018_guc_gost12_4BC6DC14"),
                                der(real_dir, "ca_kaluga_astral_by_minkomsvyaz2018_9C6FECB4")]))
    report = import_file(store, bundle_p7b)
    assert [(i["kind"], i["status"]) for i in report["items"]] == [("root", "added"), ("intermediate", "added")]

    crl = tmp_path / "guc.crl"
    crl.write_bytes((real_dir / "crl_guc2012_gost2001_2018-05-24.pem").read_bytes())
    assert import_file(store, crl)["items"][0]["kind"] == "crl"
    assert import_file(store, crl)["items"][0]["status"] == "present"

    listing = list_store(store)
    assert [e["kind"] for e in listing] == ["root"] * 2 + ["intermediate"] * 4 + ["crl"]
    json.dumps(listing, ensure_ascii=False)


def test_import_file_refusals_change_nothing(tmp_path, real_dir):
    store = TrustStore(tmp_path / "store")
    mixed = tmp_path / "mixed.pem"
    mixed.write_bytes((real_dir / "ca_fns_2022-11_by_mincifry2022_08A4C134.pem").read_bytes()
                      + pem.armor("CERTIFICATE", make_certificate(ca=False, common_name="Иванов Иван")))
    with pytest.raises(NotCaCertificateError, match="Иванов Иван"):
        import_file(store, mixed)
    intermediate = tmp_path / "fns.pem"
    intermediate.write_bytes((real_dir / "ca_fns_2022-11_by_mincifry2022_08A4C134.pem").read_bytes())
    with pytest.raises(NotSelfSignedError):
        import_file(store, intermediate, kind="root")
    garbage = tmp_path / "garbage.bin"
    garbage.write_bytes(b"\x00not a certificate at all")
    with pytest.raises(CertificateFormatError):
        import_file(store, garbage)
    with pytest.raises(FileAccessError):
        import_file(store, tmp_path / "absent.cer")
    with pytest.raises(InvalidInputError):
        import_file(store, intermediate, kind="banana")
    assert list_store(store) == []


# --- import-tsl --------------------------------------------------------------------------------------------------

def test_import_tsl(tmp_path, real_dir):
    tsl = tmp_path / "tsl.xml"
    tsl.write_bytes(build_tsl(real_dir, wrong_thumbprint=True))
    store = TrustStore(tmp_path / "store")
    # A manifest pinning only the 2022 root: the 2021 root in the list must not become trusted through the list.
    raw = {"schema": 1, "anchors": [load_manifest().by_id("mincifry-2022").to_dict()]}
    report = import_tsl(store, tsl, manifest=parse_manifest(raw))

    assert (report["version"], report["cas"], report["cas_imported"]) == (16314, 4, 3)
    assert report["certificates"] == 7  # 3 of Минцифры, 3 of ФНС, 1 of Казначейство; Ростелеком is not active
    assert (report["added"], report["roots_added"]) == (5, 1)
    reasons = {s["sha1"]: s["reason"] for s in report["skipped"]}
    assert set(reasons) == {"AFF05C9E2464941E7EC2AB15C91539360B79AA9D", "08A4C134FFE120D8572DF0CB8465E6C3A77E7727"}
    assert "not an official root" in reasons["AFF05C9E2464941E7EC2AB15C91539360B79AA9D"]
    assert "Отпечаток" in reasons["08A4C134FFE120D8572DF0CB8465E6C3A77E7727"]

    entries = {e.sha1: e for e in store.list()}
    assert entries["2F0CB09BE3550EF17EC4F29C90ABD18BFCAAD63A"].kind == "root"
    fns = entries["E5AA1938ED28E003B7FEFEF4EAAE4CE7A979A479"]
    assert fns.kind == "intermediate" and fns.source == "tsl:16314"
    assert fns.crl_urls == ("http://pki.tax.gov.ru/cdp/c1836f31.crl", "http://uc.nalog.ru/cdp/c1836f31.crl")
    assert entries["1D13121735DD6E1F59EA58C786B8F7E8B7E6E20F"].kind == "intermediate"  # the cross-certificate
    assert "90BFFA78BA74AE48B7AA1568261E6B16B8F2B7B2" not in entries  # accreditation ended

    again = import_tsl(store, tsl, manifest=parse_manifest(raw))
    assert (again["added"], again["present"]) == (0, 5)
    everything = import_tsl(store, tsl, include_inactive=True, manifest=parse_manifest(raw))
    assert everything["added"] == 1 and everything["cas_imported"] == 4
    json.dumps(report, ensure_ascii=False)

"""Online revocation and issuer fetching against the test PKI's HTTP server on 127.0.0.1.

CRL download and on-disk cache (a second validation does not download again, and works offline), OCSP good and
revoked (issuer-signed and delegated responder), caIssuers fetch of a missing intermediate, and a slow or failing
server giving "revocation unknown" quickly, never a hang.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from signagent.testpki import PkiServer, TestPKI, generate
from signagent.trust.fetching import FetchCache, HttpFetcher, is_fetchable
from signagent.trust.validation import clear_caches, validate


class CountingFetcher(HttpFetcher):
    """The real fetcher, recording what it was asked for."""

    def __init__(self, **kw: float) -> None:
        super().__init__(**kw)
        self.calls: list[tuple[str, str]] = []

    def get(self, url: str) -> bytes:
        self.calls.append(("GET", url))
        return super().get(url)

    def post(self, url: str, body: bytes, content_type: str) -> bytes:
        self.calls.append(("POST", url))
        return super().post(url, body, content_type)


class FailingFetcher:
    def get(self, url: str) -> bytes:
        pytest.fail(f"offline validation fetched {url}")

    def post(self, url: str, body: bytes, content_type: str) -> bytes:
        pytest.fail(f"offline validation posted to {url}")


@pytest.fixture
def online(tmp_path: Path) -> Iterator[tuple[PkiServer, TestPKI]]:
    clear_caches()
    with PkiServer() as server:
        pki = generate(tmp_path / "pki", base_url=server.base_url, seed="trust-online")
        server.serve_pki(pki)
        yield server, pki
    clear_caches()


def _validate(pki: TestPKI, name: str, fetcher: object, cache: Path, **kw: object):
    kw.setdefault("intermediates", [pki.intermediate.certificate])
    return validate(pki.end_entities[name].certificate, trust_roots=[pki.root.certificate], fetcher=fetcher,
                    cache_dir=str(cache), **kw)  # type: ignore[arg-type]


def test_crl_download_and_cache(online: tuple[PkiServer, TestPKI], tmp_path: Path) -> None:
    server, pki = online
    server.set_failure("http500", "/ocsp")  # force the CRL path
    cache = tmp_path / "cache"
    first = CountingFetcher(timeout=2)
    report = _validate(pki, "head", first, cache, revocation="hard")
    assert report.status == "valid", report.to_dict()
    gets = sorted(u for m, u in first.calls if m == "GET")
    assert gets == [pki.urls["crl_inter"], pki.urls["crl_root"]]
    assert "crl" in next(c for c in report.chain[0].checks if c.name == "revocation").detail
    clear_caches()  # drop in-memory results: only the disk cache remains
    second = CountingFetcher(timeout=2)
    again = _validate(pki, "head", second, cache, revocation="hard")
    assert again.status == "valid"
    assert [m for m, _ in second.calls if m == "GET"] == []
    clear_caches()
    offline = _validate(pki, "revoked", FailingFetcher(), cache, revocation="hard", offline=True)
    assert offline.codes == ("revoked",)


def test_ocsp_good_and_revoked(online: tuple[PkiServer, TestPKI], tmp_path: Path) -> None:
    _server, pki = online
    fetcher = CountingFetcher(timeout=2)
    good = _validate(pki, "head", fetcher, tmp_path, revocation="hard")
    assert good.status == "valid"
    assert next(c for c in good.chain[0].checks if c.name == "revocation").detail == "not revoked (ocsp)"
    assert ("POST", pki.urls["ocsp"]) in fetcher.calls
    revoked = _validate(pki, "revoked", fetcher, tmp_path, revocation="hard")
    assert revoked.codes == ("revoked",)
    assert revoked.reasons[0].details["source"] == "ocsp"
    assert revoked.reasons[0].details["revocation_reason"] == "key_compromise"


def test_ocsp_delegated_responder(online: tuple[PkiServer, TestPKI], tmp_path: Path) -> None:
    server, pki = online
    assert pki.ocsp_responder is not None
    server.serve_pki(pki, delegated=True)
    revoked = _validate(pki, "revoked", HttpFetcher(timeout=2), tmp_path, revocation="hard")
    assert revoked.codes == ("revoked",) and revoked.reasons[0].details["source"] == "ocsp"


def test_ca_issuers_fetch_of_missing_intermediate(online: tuple[PkiServer, TestPKI], tmp_path: Path) -> None:
    _server, pki = online
    fetcher = CountingFetcher(timeout=2)
    report = _validate(pki, "person", fetcher, tmp_path, intermediates=[], revocation="hard")
    assert report.status == "valid"
    assert report.chain[1].sha1 == pki.intermediate.sha1.upper()
    assert ("GET", pki.urls["cert_inter"]) in fetcher.calls
    clear_caches()
    second = CountingFetcher(timeout=2)
    assert _validate(pki, "person", second, tmp_path, intermediates=[], revocation="hard").status == "valid"
    assert ("GET", pki.urls["cert_inter"]) not in second.calls  # from the disk cache
    # offline, a missing intermediate is not fetched: issuer not found
    clear_caches()
    offline = _validate(pki, "person", FailingFetcher(), tmp_path / "empty", intermediates=[], offline=True,
                        revocation="off")
    assert offline.codes == ("issuer_not_found",)


def test_slow_server_gives_unknown_quickly(online: tuple[PkiServer, TestPKI], tmp_path: Path) -> None:
    server, pki = online
    server.delay = 5.0
    # the server answers after 5 s: only the client's 0.3 s timeout turns the answers into "unknown"
    soft = _validate(pki, "head", HttpFetcher(timeout=0.3), tmp_path, revocation="soft")
    assert soft.status == "valid" and "revocation_unknown" in soft.warning_codes
    assert "0.3 s" in soft.warnings[0].message
    hard = _validate(pki, "head", HttpFetcher(timeout=0.3), tmp_path, revocation="hard")
    assert hard.status == "indeterminate" and "revocation_unknown" in hard.codes


@pytest.mark.parametrize("failure", ["http500", "garbage", "close"])
def test_failing_server_gives_unknown(online: tuple[PkiServer, TestPKI], tmp_path: Path, failure: str) -> None:
    server, pki = online
    server.set_failure(failure)
    report = _validate(pki, "head", HttpFetcher(timeout=2), tmp_path, revocation="hard")
    assert report.status == "indeterminate" and set(report.codes) == {"revocation_unknown"}


def test_fetcher_limits(online: tuple[PkiServer, TestPKI]) -> None:
    _server, pki = online
    from signagent.errors import DownloadError

    with pytest.raises(DownloadError):
        HttpFetcher(max_size=100).get(pki.urls["crl_inter"])  # the CRL is larger than 100 bytes
    with pytest.raises(DownloadError):
        HttpFetcher().get("ldap://example.invalid/cn=crl")
    assert not is_fetchable("file:///etc/passwd") and not is_fetchable("ldap://x/") and is_fetchable("http://a/b")


def test_cache_round_trip(tmp_path: Path) -> None:
    cache = FetchCache(tmp_path)
    assert cache.load("crl", "http://a/b.crl") is None
    cache.store("crl", "http://a/b.crl", b"data")
    loaded = cache.load("crl", "http://a/b.crl")
    assert loaded is not None and loaded[0] == b"data"

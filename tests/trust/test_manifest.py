"""The official-roots manifest: its facts equal the real certificates, and broken manifests are refused clearly."""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path

import pytest
from asn1crypto import pem, x509

import signagent.asn1  # noqa: F401
from signagent.errors import FileAccessError, TrustStoreError
from signagent.trust.manifest import DEFAULT_MANIFEST_PATH, ManifestFormatError, load_manifest, parse_manifest
from signagent.x509 import Certificate


@pytest.fixture(scope="module")
def real_roots(real_pki_dir: Path) -> dict[str, bytes]:
    """DER of the real root certificates, by SHA-1 thumbprint."""
    out = {}
    for path in sorted((real_pki_dir).glob("root_*.pem")):
        der = pem.unarmor(path.read_bytes())[2]
        out[hashlib.sha1(der).hexdigest().upper()] = der  # noqa: S324
    assert len(out) == 6
    return out


@pytest.fixture(scope="module")
def raw_manifest() -> dict:
    return json.loads(DEFAULT_MANIFEST_PATH.read_text(encoding="utf-8"))


def test_the_project_manifest_loads_with_the_expected_anchors():
    manifest = load_manifest()
    ids = [a.id for a in manifest.anchors]
    assert ids == ["guc-2012-gost2001", "minkomsvyaz-2018", "minkomsvyaz-2021", "mincifry-2022", "mincifry-2025",
                   "mincifry-2026"]
    assert [a.id for a in manifest.anchors if a.legacy] == ["guc-2012-gost2001"]
    mincifry = manifest.by_id("mincifry-2022")
    assert mincifry is not None and mincifry.common_name == "Минцифры России"
    assert mincifry.sha256 == "4bb37cc7c0ff4bf2aa893e95076ebb3565c69237ee1b61635beee4c1966495c7"
    assert manifest.by_sha256(mincifry.sha256.upper()) is mincifry
    assert manifest.by_sha256("00" * 32) is None and manifest.by_id("nope") is None


def test_every_anchor_matches_its_real_certificate(real_roots):
    manifest = load_manifest()
    assert {a.sha1 for a in manifest.anchors} == set(real_roots)
    for anchor in manifest.anchors:
        der = real_roots[anchor.sha1]
        cert = x509.Certificate.load(der)
        tbs = cert["tbs_certificate"]
        assert anchor.sha256 == hashlib.sha256(der).hexdigest()
        assert int(anchor.serial, 16) == tbs["serial_number"].native
        assert anchor.not_before == tbs["validity"]["not_before"].native
        assert anchor.not_after == tbs["validity"]["not_after"].native
        assert bytes.fromhex(anchor.subject_key_identifier) == cert.key_identifier
        subject = cert.subject.native
        assert anchor.subject["CN"] == subject["common_name"]
        assert anchor.subject["OGRN"] == subject["ogrn"] == "1047702026701"
        assert anchor.subject["O"] == subject["organization_name"]
        # Every pinned anchor is a real self-signed root (GOST 2012 and the legacy GOST 2001 one alike).
        assert Certificate.from_der(der).is_self_signed, anchor.id
        legacy_algorithm = cert["signature_algorithm"]["algorithm"].dotted == "1.2.643.2.2.3"
        assert anchor.legacy == legacy_algorithm


def test_every_anchor_has_http_urls_and_says_which_are_verified():
    manifest = load_manifest()
    for anchor in manifest.anchors:
        assert anchor.urls
        for link in anchor.urls:
            assert link.url.startswith(("http://", "https://")) and link.source
    unverified = [a.id for a in manifest.anchors if not any(link.verified for link in a.urls)]
    assert unverified == ["mincifry-2025"]


def test_to_dict_round_trips(raw_manifest):
    manifest = parse_manifest(raw_manifest)
    again = parse_manifest({"schema": 1, "anchors": [a.to_dict() for a in manifest.anchors]})
    assert again.anchors == manifest.anchors


def _broken(raw: dict, change) -> dict:
    doc = copy.deepcopy(raw)
    change(doc)
    return doc


def _set(path: tuple, value):
    def change(doc):
        target = doc
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
    return change


def _delete(path: tuple):
    def change(doc):
        target = doc
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]
    return change


@pytest.mark.parametrize(("change", "needle"), [
    (_set(("schema",), 2), "unsupported schema"),
    (_set(("anchors",), []), "non-empty list"),
    (_set(("anchors", 0), "root"), "must be an object"),
    (_delete(("anchors", 0, "sha256")), "missing field 'sha256'"),
    (_set(("anchors", 0, "sha256"), "ab" * 31), "64 hexadecimal"),
    (_set(("anchors", 0, "sha1"), "zz" * 20), "40 hexadecimal"),
    (_set(("anchors", 0, "legacy"), 1), "'legacy' must be bool"),
    (_set(("anchors", 0, "id"), "Bad Id"), "lower-case"),
    (_set(("anchors", 0, "not_before"), "yesterday"), "ISO-8601"),
    (_set(("anchors", 0, "not_before"), "2012-07-20T12:31:14"), "time zone"),
    (_set(("anchors", 0, "not_after"), "2001-01-01T00:00:00Z"), "later than"),
    (_set(("anchors", 0, "urls"), []), "at least one"),
    (_set(("anchors", 0, "urls", 0, "url"), "file:///etc/passwd"), "not an http(s) address"),
    (_set(("anchors", 0, "subject"), {"O": "x"}), "needs a CN"),
    (_set(("anchors", 1, "sha256"), "4e450e4971f2d77d22567b55ecc2162b3dfd0d2fa6a8da8a92cdcabc80489b59"),
     "duplicate sha256"),
])
def test_broken_manifests_are_refused_with_the_reason(raw_manifest, change, needle):
    with pytest.raises(ManifestFormatError) as info:
        parse_manifest(_broken(raw_manifest, change))
    assert needle in info.value.message
    assert isinstance(info.value, TrustStoreError) and info.value.code == "trust_manifest_invalid"


@pytest.mark.parametrize("text", [b"", b"{", b"[]", b"\xff\xfe", b'"anchors"'])
def test_non_json_or_non_object_is_refused(text):
    with pytest.raises(ManifestFormatError):
        parse_manifest(text)


def test_load_manifest_file_errors(tmp_path):
    with pytest.raises(FileAccessError):
        load_manifest(tmp_path / "missing.json")
    big = tmp_path / "big.json"
    big.write_bytes(b" " * (2 << 20))
    with pytest.raises(ManifestFormatError, match="limit for a trust-anchor manifest"):
        load_manifest(big)

"""Use cases behind ``signagent trust list | import FILE | import-tsl FILE | update``.

Every function returns a JSON-ready value (dicts and lists of str/int/bool/None) and raises only errors of the
signagent tree for bad input. ``update_roots`` never raises for one anchor's failure: each anchor has its own
result, with the typed error's ``to_dict()`` when it failed.

Exports: update_roots, import_file, import_tsl, list_store, http_fetch, MAX_ANCHOR_BYTES, MAX_IMPORT_BYTES.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import httpx

from signagent.errors import (
    CertificateFormatError,
    CrlFormatError,
    DownloadError,
    FingerprintMismatchError,
    InvalidInputError,
    SignAgentError,
)
from signagent.fileio import read_capped
from signagent.trust.manifest import Anchor, Manifest, load_manifest
from signagent.trust.store import NotCaCertificateError, TrustStore, certificate_facts
from signagent.trust.tsl import parse_tsl
from signagent.x509 import load_certificates

# A root certificate is ~2 kB; anything much bigger at a root's address is not the root.
MAX_ANCHOR_BYTES = 256 << 10
# Certificate bundles and CRLs given to `trust import`.
MAX_IMPORT_BYTES = 64 << 20
# At most this many skipped TSL entries are listed one by one in the report (the count is always exact).
MAX_LISTED_SKIPS = 200

Fetch = Callable[[str], bytes]


def http_fetch(url: str, *, timeout: float = 15.0, max_bytes: int = MAX_ANCHOR_BYTES) -> bytes:
    """GET ``url`` with connect/read timeouts and a size bound; raises :class:`~signagent.errors.DownloadError`."""
    limits = httpx.Timeout(timeout, connect=min(timeout, 10.0))
    try:
        with httpx.Client(timeout=limits, follow_redirects=True, max_redirects=5) as client, \
                client.stream("GET", url, headers={"User-Agent": "signagent"}) as response:
            if response.status_code != 200:
                raise DownloadError(situation="http_status", url=url, status=response.status_code)
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > max_bytes:
                    raise DownloadError(situation="too_large", url=url, limit=max_bytes)
            return bytes(body)
    except httpx.HTTPError as exc:
        detail = " ".join(str(exc).split())[:300]
        raise DownloadError(situation="http_error", url=url, error_type=type(exc).__name__, error=detail) from None


def _anchor_der(data: bytes, anchor: Anchor, url: str) -> bytes:
    """The DER of the downloaded file (DER or PEM) if its SHA-256 is the pinned one, else raise."""
    candidates = [data]
    try:
        candidates += [cert.der for cert in load_certificates(data)]
    except CertificateFormatError:
        pass  # not a certificate at all: still reported as a mismatch, with the digest of what came
    for der in candidates:
        if hashlib.sha256(der).hexdigest() == anchor.sha256:
            return der
    got = hashlib.sha256(candidates[-1]).hexdigest()
    raise FingerprintMismatchError(anchor=anchor.id, url=url, expected=anchor.sha256, actual=got)


def update_roots(store: TrustStore, manifest: Manifest | None = None, fetch: Fetch | None = None,
                 only_missing: bool = False, include_legacy: bool = True) -> dict[str, object]:
    """Download the manifest's anchors and add to ``store`` only files whose SHA-256 equals the pinned value.

    Each anchor's addresses are tried in order until one gives the pinned certificate. Result::

        {"added": n, "present": n, "failed": n, "skipped": n,
         "anchors": [{"id", "subject", "sha256", "status": "added"|"present"|"failed"|"skipped",
                      "url"?: the address used, "errors"?: [error dicts, one per address tried]}]}
    """
    manifest = manifest if manifest is not None else load_manifest()
    fetch = fetch if fetch is not None else http_fetch
    stored = {entry.sha256 for entry in store.list() if entry.kind == "root"}
    results: list[dict[str, object]] = []
    for anchor in manifest.anchors:
        result: dict[str, object] = {"id": anchor.id, "subject": anchor.common_name, "sha256": anchor.sha256,
                                     "legacy": anchor.legacy}
        results.append(result)
        if anchor.legacy and not include_legacy:
            result["status"] = "skipped"
            continue
        if only_missing and anchor.sha256 in stored:
            result["status"] = "present"
            continue
        errors: list[dict[str, object]] = []
        for link in anchor.urls:
            try:
                der = _anchor_der(fetch(link.url), anchor, link.url)
                outcome = store.add_root(der, source=f"manifest:{anchor.id} {link.url}")
            except SignAgentError as exc:
                errors.append({"url": link.url, **exc.to_dict()})
                continue
            result.update(status=outcome.status, url=link.url)
            break
        else:
            result["status"] = "failed"
        if errors:
            result["errors"] = errors
    counts = {status: sum(1 for r in results if r["status"] == status)
              for status in ("added", "present", "failed", "skipped")}
    return {**counts, "anchors": results}


def _read_file(path: str | Path, limit: int) -> bytes:
    return read_capped(path, limit, "certificate or CRL")


def import_file(store: TrustStore, path: str | Path, kind: str = "auto") -> dict[str, object]:
    """Add the certificates (or the CRL) of a file to the store.

    ``kind``: ``"root"``, ``"intermediate"``, ``"crl"`` or ``"auto"`` (a self-signed CA certificate becomes a
    root, any other CA certificate an intermediate; a file that holds no certificate but a CRL is stored as a
    CRL). DER, PEM (several blocks too), bare base64 and PKCS#7 ``.p7b`` bundles are read. All certificates are
    checked before any is stored: one non-CA certificate refuses the whole file. Result::

        {"path", "added": n, "present": n, "items": [{"status", "kind", "sha1", "subject", ...}]}
    """
    if kind not in ("auto", "root", "intermediate", "crl"):
        raise InvalidInputError(situation="unknown_kind", kind=repr(kind), known="auto, root, intermediate or crl")
    data = _read_file(path, MAX_IMPORT_BYTES)
    if kind == "crl":
        outcomes = [store.add_crl(data, source=f"file:{path}")]
    else:
        try:
            certs = load_certificates(data)
        except CertificateFormatError:
            if kind != "auto":
                raise
            try:
                outcomes = [store.add_crl(data, source=f"file:{path}")]
            except CrlFormatError:
                raise CertificateFormatError(situation="neither_certificate_nor_crl", path=str(path)) from None
        else:
            items = []
            for cert in certs:
                if kind != "auto":
                    items.append((cert, kind))
                    continue
                facts = certificate_facts(cert)
                if not facts["is_ca"]:
                    name = facts["subject_cn"] or facts["subject"]
                    raise NotCaCertificateError(situation="import_not_ca", path=path, certificate=name,
                                                sha1=facts["sha1"])
                items.append((cert, "root" if cert.is_self_signed else "intermediate"))
            outcomes = store.add_certificates(items, source=f"file:{path}")
    out_items = [outcome.to_dict() for outcome in outcomes]
    return {"path": str(path),
            "added": sum(1 for o in outcomes if o.status == "added"),
            "present": sum(1 for o in outcomes if o.status != "added"),
            "items": out_items}


def import_tsl(store: TrustStore, path: str | Path, include_inactive: bool = False,
               manifest: Manifest | None = None) -> dict[str, object]:
    """Import the accredited-CA list: its CA certificates become intermediates, with their CRL addresses.

    Only CAs whose accreditation is in force are read unless ``include_inactive``. A self-signed certificate of
    the list becomes a root only if the manifest pins it (the list itself is not a trust anchor); others are
    skipped. Entries whose Отпечаток differs from the SHA-1 of their data, unreadable and non-CA certificates
    are skipped with a reason. Result::

        {"path", "version", "date", "cas": n, "cas_imported": n, "certificates": n,
         "added": n, "roots_added": n, "present": n, "updated": n, "skipped_count": n,
         "skipped": [{"sha1", "ca", "reason"}] (at most MAX_LISTED_SKIPS), "problems": [...]}
    """
    manifest = manifest if manifest is not None else load_manifest()
    document = parse_tsl(path)
    skipped: list[dict[str, str]] = []
    chosen: dict[str, list] = {}  # sha1 -> [der, kind, crl_urls]
    seen = 0
    cas = [ca for ca in document.cas if include_inactive or ca.is_active]
    for ca in cas:
        for entry in ca.certificates:
            seen += 1
            sha1 = entry.sha1
            if not entry.thumbprint_matches:
                skipped.append({"sha1": sha1, "ca": ca.name,
                                "reason": f"Отпечаток {entry.declared_sha1} is not the SHA-1 of the certificate"})
                continue
            if sha1 in chosen:
                chosen[sha1][2] = tuple(dict.fromkeys((*chosen[sha1][2], *entry.crl_urls)))
                continue
            try:
                cert = load_certificates(entry.der)[0]
            except CertificateFormatError as exc:
                skipped.append({"sha1": sha1, "ca": ca.name, "reason": exc.message})
                continue
            facts = certificate_facts(cert)
            if not facts["is_ca"] or facts["key_cert_sign"] is False:
                skipped.append({"sha1": sha1, "ca": ca.name, "reason": "not a CA certificate"})
                continue
            if cert.is_self_signed:
                if manifest.by_sha256(str(facts["sha256"])) is None:
                    skipped.append({"sha1": sha1, "ca": ca.name,
                                    "reason": "self-signed but not an official root pinned in the manifest"})
                    continue
                chosen[sha1] = [cert, "root", ()]
            else:
                chosen[sha1] = [cert, "intermediate", entry.crl_urls]
    source = f"tsl:{document.version}" if document.version is not None else f"tsl:{path}"
    outcomes = store.add_certificates([tuple(v) for v in chosen.values()], source=source, on_conflict="skip")
    for outcome in outcomes:
        if outcome.status == "conflict":
            skipped.append({"sha1": outcome.entry.sha1, "ca": outcome.entry.subject_cn,
                            "reason": f"already in the store as {outcome.entry.kind}"})

    def count(status: str, kind: str | None = None) -> int:
        return sum(1 for o in outcomes if o.status == status and (kind is None or o.entry.kind == kind))

    return {
        "path": str(path), "version": document.version, "date": document.date,
        "cas": len(document.cas), "cas_imported": len(cas), "certificates": seen,
        "added": count("added"), "roots_added": count("added", "root"), "present": count("present"),
        "updated": count("updated"), "skipped_count": len(skipped), "skipped": skipped[:MAX_LISTED_SKIPS],
        "problems": list(document.problems),
    }


def list_store(store: TrustStore) -> list[dict[str, object]]:
    """Every root, intermediate and CRL of the store as JSON-ready dicts (``kind``, ``subject``, ``sha1``,
    ``sha256``, validity, ``source``, ``crl_urls`` of intermediates...)."""
    return [entry.to_dict() for entry in store.list()]

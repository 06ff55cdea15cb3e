"""Revocation status of one certificate from CRLs (RFC 5280 sections 5 and 6.3) and OCSP (RFC 6960).

:class:`RevocationChecker` answers "was this certificate revoked at time T?" with a :class:`RevocationStatus`
(``good`` / ``revoked`` / ``unknown``), never an exception. Sources, in order:

1. OCSP, when the certificate names a responder (AIA id-ad-ocsp) and the network is allowed: the request names the
   certificate by a SHA-1 CertID (RFC 6960 section 4.1.1, what the state-PKI responders accept); the response must
   be signed by the issuer or by a responder certificate the issuer gave id-kp-OCSPSigning (section 4.2.2.2).
2. CRLs: the local ones given by the caller, then each http(s) distribution point of the certificate -- from the
   on-disk cache while its nextUpdate is ahead, else downloaded (never when offline). A CRL counts only when its
   issuer is the certificate's issuer, its signature verifies with the issuer's key (which must allow cRLSign),
   it has no unknown critical extension and its issuingDistributionPoint covers the certificate (RFC 5280
   section 6.3.3 b). Indirect and delta CRLs are not used (the state PKI issues neither).

A CRL whose nextUpdate is before T only says "unknown" (code ``crl_expired``); a slow or failing server gives
``revocation_unknown`` within the fetcher's timeout.

Signatures are verified over the bytes received (RFC 5280 5.1, RFC 6960 4.2.1 require DER): CRLs read from bytes
are strict DER (:func:`signagent.x509.loading.load_crl`), a CRL whose outer signatureAlgorithm differs from the
one inside tbsCertList is not used, and an OCSP response must be DER down to its BasicOCSPResponse, whose
tbsResponseData is verified as read; a delegated responder's certificate is admitted only as strict DER.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal

from asn1crypto import algos, core, crl, ocsp, x509

from signagent.asn1 import oids
from signagent.asn1.strict_der import check_der, received_encoding, sequence_elements
from signagent.errors import CrlFormatError, DownloadError, NotDerError
from signagent.x509.certificate import Certificate
from signagent.x509.loading import load_crl as x509_load_crl
from signagent.x509.signature import crl_signed_bytes

from .fetching import FetchCache, Fetcher, is_fetchable
from .gost_validator import GostAlgorithmPolicy, GostSignatureValidator

__all__ = ["RevocationChecker", "RevocationStatus", "load_crl", "ocsp_request"]

_TOLERANCE = timedelta(seconds=1)
# When an OCSP response has no nextUpdate, trust it this long after thisUpdate (RFC 6960 section 4.2.2.1 leaves it
# to local policy; pyhanko-certvalidator uses the same 30 minutes).
_OCSP_DEFAULT_VALIDITY = timedelta(minutes=30)
_KNOWN_CRL_EXTENSIONS = frozenset({
    "crl_number", "authority_key_identifier", "issuing_distribution_point", "issuer_alt_name", "freshest_crl",
    "authority_information_access", "delta_crl_indicator",
})


@dataclass(frozen=True)
class RevocationStatus:
    """Revocation verdict for one certificate at one time.

    ``state``: good / revoked / unknown; ``source``: "crl", "ocsp" or ""; for revoked, ``revoked_at`` and
    ``revocation_reason`` (RFC 5280 CRLReason name); for unknown, ``code`` (``crl_expired`` or
    ``revocation_unknown``) and ``detail``. ``bounds``: times at which this verdict may change (CRL thisUpdate and
    nextUpdate, revocation dates) -- used to cache whole validation results safely.
    """

    state: Literal["good", "revoked", "unknown"]
    source: str = ""
    revoked_at: datetime | None = None
    revocation_reason: str | None = None
    code: str | None = None
    detail: str = ""
    next_update: datetime | None = None
    bounds: tuple[datetime, ...] = field(default=())
    fetched: bool = False


def load_crl(data: bytes) -> crl.CertificateList:
    """Parse one CRL (DER, PEM or bare base64); CrlFormatError for anything else."""
    return x509_load_crl(data)


def _cdp_urls(cert: x509.Certificate) -> list[list[str]]:
    """The URIs of each CRL distribution point (mirrors of one point are alternatives, tried in order)."""
    points: list[list[str]] = []
    try:
        for dp in cert.crl_distribution_points_value or []:
            name = dp["distribution_point"]
            if name.name == "full_name":
                uris = [g.native for g in name.chosen if g.name == "uniform_resource_identifier"]
                if uris:
                    points.append(uris)
    except (ValueError, TypeError, KeyError):
        return []
    return points


def _ocsp_urls(cert: x509.Certificate) -> list[str]:
    try:
        return list(cert.ocsp_urls)
    except (ValueError, TypeError, KeyError):
        return []


def _now() -> datetime:
    return datetime.now(UTC)


class _CrlEntryIndex:
    """serial -> (revocation date, reason name) of one CRL, built once (real CRLs have 10^5 entries)."""

    def __init__(self, certificate_list: crl.CertificateList) -> None:
        self.entries: dict[int, tuple[datetime, str]] = {}
        revoked = certificate_list["tbs_cert_list"]["revoked_certificates"]
        for entry in revoked:
            serial = entry["user_certificate"].native
            reason_name = "unspecified"
            try:
                code = entry.crl_reason_value
                if code is not None:
                    reason_name = code.native
            except (ValueError, TypeError, KeyError):
                pass
            self.entries[serial] = (entry["revocation_date"].native, reason_name)


@dataclass
class _CrlRecord:
    crl: crl.CertificateList
    index: _CrlEntryIndex | None = None
    verified_with: set[bytes] = field(default_factory=set)


class RevocationChecker:
    """Revocation checks for one validation run (or many: parsed CRLs and verdicts are kept in memory).

    ``crls``: local CRLs (parsed or bytes). ``fetcher``: network access (None = offline). ``cache``: on-disk cache
    of downloaded CRLs (None = not kept on disk). ``use_ocsp``: ask responders named by certificates.
    """

    def __init__(self, *, crls: Iterable[crl.CertificateList | bytes] = (), fetcher: Fetcher | None = None,
                 cache: FetchCache | None = None, use_ocsp: bool = True,
                 sig_validator: GostSignatureValidator | None = None,
                 algorithm_policy: GostAlgorithmPolicy | None = None) -> None:
        self._records: dict[bytes, _CrlRecord] = {}
        self.local = [self._record(c if isinstance(c, crl.CertificateList) else load_crl(c)) for c in crls]
        self.fetcher = fetcher
        self.cache = cache
        self.use_ocsp = use_ocsp
        self.sig_validator = sig_validator or GostSignatureValidator()
        self.algorithm_policy = algorithm_policy or GostAlgorithmPolicy()
        self._by_url: dict[str, _CrlRecord] = {}
        self.fetch_failures: dict[str, str] = {}

    def _record(self, certificate_list: crl.CertificateList) -> _CrlRecord:
        # the bytes received: dump() may re-encode (and so decode every string of) a CRL read from BER
        key = hashlib.sha256(received_encoding(certificate_list)).digest()
        if key not in self._records:
            self._records[key] = _CrlRecord(certificate_list)
        return self._records[key]

    # ----------------------------------------------------------------------------------------------- sources

    def _crl_from_url(self, url: str, at: datetime) -> tuple[_CrlRecord | None, bool]:
        """The CRL at ``url``: memory, then disk cache while fresh, then the network. (record, downloaded?)"""
        now = _now()
        record = self._by_url.get(url)
        if record is not None and _fresh(record.crl, now):
            return record, False
        stale: _CrlRecord | None = record
        if record is None and self.cache is not None:
            cached = self.cache.load("crl", url)
            if cached is not None:
                try:
                    stale = self._record(load_crl(cached[0]))
                except CrlFormatError:
                    stale = None
                if stale is not None and _fresh(stale.crl, now):
                    self._by_url[url] = stale
                    return stale, False
        if self.fetcher is None or not is_fetchable(url):
            if stale is not None:
                self._by_url[url] = stale
            return stale, False
        try:
            data = self.fetcher.get(url)
            record = self._record(load_crl(data))
        except (DownloadError, CrlFormatError) as exc:
            self.fetch_failures[url] = exc.message
            return stale, False
        if self.cache is not None:
            self.cache.store("crl", url, data)
        self._by_url[url] = record
        return record, True

    # ----------------------------------------------------------------------------------------------- checking

    def check(self, certificate: Certificate, issuer_certificate: Certificate, at: datetime) -> RevocationStatus:
        """Revocation status of ``certificate`` (issued by ``issuer_certificate``) at time ``at``."""
        # CRL entries, OCSP CertIDs and responder names are asn1crypto structures: compared with the asn1 forms
        cert, issuer = certificate.asn1, issuer_certificate.asn1
        problems: list[str] = []
        fetched = False
        if self.use_ocsp and self.fetcher is not None:
            for url in _ocsp_urls(cert):
                status = self._check_ocsp(url, cert, issuer, at, problems)
                if status is not None:
                    return status
        records = [r for r in self.local if r.crl.issuer == cert.issuer]
        for mirrors in _cdp_urls(cert):
            for url in mirrors:
                record, downloaded = self._crl_from_url(url, at)
                fetched = fetched or downloaded
                if record is None:
                    problems.append(f"{url}: {self.fetch_failures.get(url, 'not available offline')}")
                    continue
                if record not in records:
                    records.append(record)
                break
        good: list[crl.CertificateList] = []
        stale_next: datetime | None = None
        bounds: list[datetime] = []
        for record in records:
            verdict = self._use_crl(record, cert, issuer, at, problems)
            if verdict is None:
                continue
            kind, value = verdict
            tbs = record.crl["tbs_cert_list"]
            bounds += [tbs["this_update"].native] + ([tbs["next_update"].native] if tbs["next_update"].native
                                                     else [])
            if kind == "revoked":
                revoked_at, why = value  # type: ignore[misc]
                return RevocationStatus("revoked", "crl", revoked_at, why, bounds=(*bounds, revoked_at),
                                        fetched=fetched)
            if kind == "stale":
                stale_next = value  # type: ignore[assignment]
                continue
            if kind == "good":
                good.append(record.crl)
                if value is not None:
                    bounds.append(value)  # type: ignore[arg-type]
        if good:
            next_updates = [c["tbs_cert_list"]["next_update"].native for c in good]
            return RevocationStatus("good", "crl", next_update=max((n for n in next_updates if n), default=None),
                                    bounds=tuple(bounds), fetched=fetched)
        if stale_next is not None:
            return RevocationStatus("unknown", code="crl_expired", detail=f"CRL next update was {stale_next}",
                                    next_update=stale_next, bounds=tuple(bounds), fetched=fetched)
        if not records and not problems:
            problems.append("the certificate names no CRL distribution point or OCSP responder and no CRL of its "
                            "issuer was given")
        return RevocationStatus("unknown", code="revocation_unknown", detail="; ".join(problems) or "no usable CRL",
                                bounds=tuple(bounds), fetched=fetched)

    def _use_crl(self, record: _CrlRecord, cert: x509.Certificate, issuer: x509.Certificate, at: datetime,
                 problems: list[str]) -> tuple[str, object] | None:
        """("revoked", (date, reason)) / ("good", revocation date after T or None) / ("stale", nextUpdate) /
        None when the CRL does not apply or cannot be trusted (why is appended to ``problems``)."""
        certificate_list = record.crl
        tbs = certificate_list["tbs_cert_list"]
        if certificate_list.issuer != cert.issuer:
            return None
        try:
            extensions = {e["extn_id"].native: e for e in tbs["crl_extensions"]}
            critical = {name for name, e in extensions.items() if e["critical"].native}
            if critical - _KNOWN_CRL_EXTENSIONS or "delta_crl_indicator" in extensions:
                problems.append("CRL has an unsupported critical extension or is a delta CRL")
                return None
            if not self._idp_covers(certificate_list, cert):
                return None
        except (ValueError, TypeError, KeyError):
            problems.append("CRL extensions cannot be parsed")
            return None
        key_usage = issuer.key_usage_value
        if key_usage is not None and "crl_sign" not in key_usage.native:
            problems.append("the CRL issuer's key usage does not allow cRLSign")
            return None
        key_der = issuer.public_key.dump()
        if key_der not in record.verified_with:
            algorithm = certificate_list["signature_algorithm"]
            signed = crl_signed_bytes(certificate_list)
            if signed is None:
                problems.append("the CRL's outer signature algorithm differs from the one in tbsCertList "
                                "(RFC 5280 section 5.1.1.2), or the CRL is not DER")
                return None
            if not self.algorithm_policy.signature_algorithm_allowed(algorithm, at, issuer.public_key):
                problems.append(f"CRL signature algorithm {algorithm['algorithm'].native} is not allowed")
                return None
            try:
                self.sig_validator.validate_signature(certificate_list["signature"].native, signed,
                                                      issuer.public_key, algorithm)
            except Exception:  # InvalidSignature and the default validator's own errors on foreign keys
                problems.append("CRL signature does not verify with the issuer's key")
                return None
            record.verified_with.add(key_der)
        if record.index is None:
            record.index = _CrlEntryIndex(certificate_list)
        entry = record.index.entries.get(cert.serial_number)
        if entry is not None and entry[0] <= at + _TOLERANCE and entry[1] != "remove_from_crl":
            return "revoked", entry
        next_update = tbs["next_update"].native
        if next_update is not None and next_update < at - _TOLERANCE:
            return "stale", next_update
        return "good", entry[0] if entry is not None else None

    @staticmethod
    def _idp_covers(certificate_list: crl.CertificateList, cert: x509.Certificate) -> bool:
        """RFC 5280 section 6.3.3 (b): the CRL's issuingDistributionPoint scope includes ``cert``."""
        idp = certificate_list.issuing_distribution_point_value
        if idp is None:
            return True
        if idp["indirect_crl"].native or idp["only_contains_attribute_certs"].native:
            return False
        if idp["only_contains_user_certs"].native and cert.ca:
            return False
        if idp["only_contains_ca_certs"].native and not cert.ca:
            return False
        if idp["only_some_reasons"].native:
            return False  # a partial CRL cannot say "good"; the state PKI does not partition CRLs by reason
        dp_name = idp["distribution_point"]
        if dp_name.name != "full_name":
            return True
        idp_names = {n.dump() for n in dp_name.chosen}
        cert_names = set()
        for dp in cert.crl_distribution_points or []:
            point = dp["distribution_point"]
            if point.name == "full_name":
                cert_names |= {n.dump() for n in point.chosen}
        return not cert_names or bool(idp_names & cert_names)

    # ----------------------------------------------------------------------------------------------- OCSP

    def _check_ocsp(self, url: str, cert: x509.Certificate, issuer: x509.Certificate, at: datetime,
                    problems: list[str]) -> RevocationStatus | None:
        if not is_fetchable(url) or self.fetcher is None:
            return None
        nonce = os.urandom(16)
        try:
            body = self.fetcher.post(url, ocsp_request(cert, issuer, nonce).dump(), "application/ocsp-request")
            check_der(body, what="the OCSP response")  # before asn1crypto: strict framing, bounded nesting
            response = ocsp.OCSPResponse.load(body, strict=True)
            return self._ocsp_verdict(response, cert, issuer, at, nonce)
        except NotDerError as exc:  # NestingTooDeepError is not one: it is below, with the parse errors
            problems.append(f"OCSP {url}: {exc.message}")
        except DownloadError as exc:
            problems.append(f"OCSP {url}: {exc.message}")
        except _OcspError as exc:
            problems.append(f"OCSP {url}: {exc}")
        except (ValueError, TypeError, KeyError, IndexError, OverflowError, RecursionError) as exc:
            # NestingTooDeepError and other InvalidInputErrors are ValueErrors too; asn1crypto's chain: one line
            detail = getattr(exc, "message", None) or " ".join(str(exc).split("\n")[0].split())
            problems.append(f"OCSP {url}: unreadable response ({detail})")
        return None

    def _ocsp_verdict(self, response: ocsp.OCSPResponse, cert: x509.Certificate, issuer: x509.Certificate,
                      at: datetime, nonce: bytes) -> RevocationStatus | None:
        if response["response_status"].native != "successful":
            raise _OcspError(f"responder answered {response['response_status'].native}")
        if response["response_bytes"]["response_type"].native != "basic_ocsp_response":
            raise _OcspError("response is not a BasicOCSPResponse")
        # RFC 6960 4.2.1: BasicOCSPResponse is DER; its parts are taken as received, never re-encoded
        basic_der = response["response_bytes"]["response"].contents
        check_der(basic_der, what="the OCSP response")
        parts = sequence_elements(basic_der, what="the OCSP response")
        if not 3 <= len(parts) <= 4:
            raise _OcspError(f"BasicOCSPResponse has {len(parts)} elements")
        basic = response.basic_ocsp_response
        tbs = basic["tbs_response_data"]
        signer = self._ocsp_signer(basic, issuer, at)
        algorithm = basic["signature_algorithm"]
        if algorithm["algorithm"].dotted in oids.GOST_SIGNATURE_ALGORITHMS and len(sequence_elements(parts[1])) != 1:
            # RFC 9215 section 3.1: a GOST signature AlgorithmIdentifier has no parameters. The identifier lies
            # outside the signed tbsResponseData, so anything added there would pass the signature check.
            raise _OcspError("the signature algorithm identifier carries parameters (RFC 9215 section 3.1)")
        if not self.algorithm_policy.signature_algorithm_allowed(algorithm, at, signer.public_key):
            raise _OcspError(f"signature algorithm {algorithm['algorithm'].native} is not allowed")
        try:
            self.sig_validator.validate_signature(basic["signature"].native, parts[0], signer.public_key,
                                                  algorithm)
        except Exception:
            raise _OcspError("response signature does not verify") from None
        for ext in tbs["response_extensions"] or []:
            if ext["extn_id"].native == "nonce" and ext["extn_value"].parsed.native not in (nonce, None):
                raise _OcspError("response nonce does not match the request")
        now = _now()
        for single in tbs["responses"]:
            cert_id = single["cert_id"]
            if cert_id["serial_number"].native != cert.serial_number or not _cert_id_matches(cert_id, issuer):
                continue
            this_update = single["this_update"].native
            next_update = single["next_update"].native or this_update + _OCSP_DEFAULT_VALIDITY
            if this_update > now + timedelta(minutes=5) or next_update < min(now, at) - _TOLERANCE:
                raise _OcspError("response is not current")
            status = single["cert_status"]
            bounds = (this_update, next_update)
            if status.name == "good":
                return RevocationStatus("good", "ocsp", next_update=next_update, bounds=bounds, fetched=True)
            if status.name == "revoked":
                info = status.chosen
                revoked_at = info["revocation_time"].native
                why = info["revocation_reason"].native or "unspecified"
                if revoked_at <= at + _TOLERANCE:
                    return RevocationStatus("revoked", "ocsp", revoked_at, why, bounds=(*bounds, revoked_at),
                                            fetched=True)
                return RevocationStatus("good", "ocsp", next_update=next_update, bounds=(*bounds, revoked_at),
                                        fetched=True)
            raise _OcspError("responder does not know the certificate")
        raise _OcspError("response does not cover the certificate")

    def _ocsp_signer(self, basic: ocsp.BasicOCSPResponse, issuer: x509.Certificate,
                     at: datetime) -> x509.Certificate:
        """The issuer itself, or a delegated responder certificate issued by it (RFC 6960 section 4.2.2.2)."""
        responder = basic["tbs_response_data"]["responder_id"]
        if _names_responder(responder, issuer):
            return issuer
        for candidate in basic["certs"] or []:
            if not _names_responder(responder, candidate):
                continue
            if candidate.issuer != issuer.subject:
                continue
            try:
                strict = Certificate.from_der(received_encoding(candidate))  # DER, algorithms equal (RFC 5280 4.1)
                if not strict.algorithms_match:
                    continue
                self.sig_validator.validate_signature(candidate["signature_value"].native, strict.tbs_der,
                                                      issuer.public_key, candidate["signature_algorithm"])
            except Exception:  # noqa: S112  (unreadable, not DER or not verifying: simply not the responder)
                continue
            eku = candidate.extended_key_usage_value
            validity = candidate["tbs_certificate"]["validity"]
            if (eku is not None and "ocsp_signing" in eku.native
                    and validity["not_before"].native <= _now() <= validity["not_after"].native):
                return candidate
        raise _OcspError("response is not signed by the issuer or an authorised responder")


class _OcspError(Exception):
    pass


def _names_responder(responder: ocsp.ResponderId, cert: x509.Certificate) -> bool:
    if responder.name == "by_name":
        return responder.chosen == cert.subject
    return responder.chosen.native == cert.public_key.sha1


def _cert_id_matches(cert_id: ocsp.CertId, issuer: x509.Certificate) -> bool:
    """CertID hashes of the issuer's name and key (RFC 6960 section 4.1.1) with the response's hash algorithm."""
    name = cert_id["hash_algorithm"]["algorithm"].native
    digest = _hash_function(name)
    if digest is None:
        return True  # an algorithm we cannot compute: the serial and the signature already tie it to the issuer
    return (cert_id["issuer_name_hash"].native == digest(issuer.subject.dump())
            and cert_id["issuer_key_hash"].native == digest(bytes(issuer.public_key["public_key"])))


def _hash_function(name: str):  # type: ignore[no-untyped-def]
    from signagent import gost

    if name in ("sha1", "sha256", "sha384", "sha512"):
        return lambda data: hashlib.new(name, data).digest()
    if name in ("streebog256", "streebog512", "gost341194"):
        return lambda data: getattr(gost, name)(data).digest()
    return None


def ocsp_request(cert: x509.Certificate, issuer: x509.Certificate, nonce: bytes | None = None) -> ocsp.OCSPRequest:
    """An unsigned OCSP request for ``cert`` with a SHA-1 CertID (RFC 6960 section 4.1.1) and an optional nonce."""
    cert_id = ocsp.CertId({
        "hash_algorithm": algos.DigestAlgorithm({"algorithm": "sha1"}),
        "issuer_name_hash": hashlib.sha1(issuer.subject.dump()).digest(),  # noqa: S324 (protocol identifier)
        "issuer_key_hash": hashlib.sha1(bytes(issuer.public_key["public_key"])).digest(),  # noqa: S324
        "serial_number": cert.serial_number,
    })
    extensions = None
    if nonce is not None:
        extensions = [{"extn_id": "nonce", "critical": False, "extn_value": core.OctetString(nonce)}]
    return ocsp.OCSPRequest({"tbs_request": {"request_list": [{"req_cert": cert_id}],
                                             "request_extensions": extensions}})


def _fresh(certificate_list: crl.CertificateList, now: datetime) -> bool:
    next_update = certificate_list["tbs_cert_list"]["next_update"].native
    return next_update is not None and next_update > now

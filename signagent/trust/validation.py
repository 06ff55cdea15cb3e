"""Certificate validation: every path to a trust anchor, RFC 5280 checks, revocation, a report with reason codes.

:func:`validate` builds all certification paths (:mod:`signagent.trust.path_building`), and on each one:

1. our checks, per certificate, so that a report names *every* problem with a stable code: signature with the
   issuer's key and the algorithm policy (:mod:`signagent.trust.gost_validator`), validity at the validation time
   (the anchor's too, as OpenSSL does), privateKeyUsagePeriod (2.5.29.16: the end-entity key at the validation
   time, a CA key at the time it issued the next certificate), key usage (signing for the end entity:
   digitalSignature or nonRepudiation; keyCertSign for CAs), basicConstraints cA and pathLenConstraint, unknown
   critical extensions;
2. the RFC 5280 section 6.1 algorithm of pyhanko-certvalidator (policies, name constraints, name chaining) with
   our signature validator and algorithm policy, on paths our checks passed; its exceptions map to reason codes
   through :data:`PYHANKO_ERRORS`;
3. revocation (:mod:`signagent.trust.revocation`) of every certificate below the anchor: ``off`` (noted in the
   report), ``soft`` (unknown status: valid with a warning) or ``hard`` (unknown status: indeterminate).

The best path decides (valid before indeterminate before invalid, then fewer problems, then shorter). Missing
intermediates are fetched from AIA caIssuers unless ``offline``. Results are kept in memory for the time window
in which nothing they depend on changes (certificate validity bounds, CRL updates), which is what makes a repeated
validation fast.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from asn1crypto import crl, x509
from pyhanko_certvalidator import errors as pv_errors
from pyhanko_certvalidator.authority import CertTrustAnchor
from pyhanko_certvalidator.context import ValidationContext
from pyhanko_certvalidator.path import ValidationPath
from pyhanko_certvalidator.policy_decl import NO_REVOCATION, CertRevTrustPolicy
from pyhanko_certvalidator.validate import SUPPORTED_EXTENSIONS, async_validate_path

import signagent.asn1  # noqa: F401  (registers the GOST algorithms and Russian extensions with asn1crypto)
from signagent.asn1 import oids
from signagent.asn1.failures import PARSE_ERRORS
from signagent.asn1.strict_der import received_encoding
from signagent.errors import CertificateFormatError, CrlFormatError, DownloadError, InvalidInputError, SignAgentError
from signagent.outcome import rank, status_of
from signagent.x509.certificate import Certificate
from signagent.x509.signature import certificate_signed_bytes

from .fetching import FetchCache, Fetcher, HttpFetcher, is_fetchable
from .gost_validator import GostAlgorithmPolicy, GostSignatureValidator
from .path_building import CandidatePath, CertificatePool, build_paths, name_key
from .report import (
    CertificateCheck,
    CertificateInfo,
    PathReport,
    Reason,
    ValidationReport,
    reason,
)
from .revocation import RevocationChecker, RevocationStatus, load_crl

__all__ = ["PYHANKO_ERRORS", "CertificateSource", "CrlSource", "RevocationMode", "clear_caches", "validate"]

RevocationMode = Literal["soft", "hard", "off"]
#: A certificate as :func:`validate` takes it: the project's Certificate, or its encoding (DER, PEM, base64).
CertificateSource = Certificate | bytes
#: A CRL as :func:`validate` takes it: the project's CRL type (:func:`signagent.x509.load_crl`), or its encoding.
CrlSource = crl.CertificateList | bytes
_TOLERANCE = timedelta(seconds=1)


def _one_line(exc: BaseException) -> str:
    """A message on one line: a project error's own, or the first line of asn1crypto's ("while parsing" chain
    dropped)."""
    message = getattr(exc, "message", None)
    if isinstance(message, str):
        return message
    return " ".join(str(exc).split("\n")[0].split()) or type(exc).__name__
# Critical extensions a validator may meet: what pyhanko-certvalidator processes, plus privateKeyUsagePeriod
# (checked here). Anything else critical makes the certificate unusable (RFC 5280 section 4.2).
_SUPPORTED_CRITICAL = SUPPORTED_EXTENSIONS | {"private_key_usage_period"}

#: pyhanko-certvalidator exception -> reason code, first match wins; a message pattern narrows the generic ones.
PYHANKO_ERRORS: tuple[tuple[type[Exception], str | None, str], ...] = (
    (pv_errors.RevokedError, None, "revoked"),
    (pv_errors.StaleRevinfoError, None, "crl_expired"),
    (pv_errors.InsufficientRevinfoError, None, "revocation_unknown"),
    (pv_errors.ExpiredError, None, "expired"),
    (pv_errors.NotYetValidError, None, "not_yet_valid"),
    (pv_errors.DisallowedAlgorithmError, None, "algorithm_not_allowed"),
    (pv_errors.PathBuildingError, None, "issuer_not_found"),
    (pv_errors.InvalidCertificateError, r"self-signed", "untrusted_root"),
    (pv_errors.InvalidCertificateError, r"usage|purpose", "key_usage_not_allowed"),
    (pv_errors.InvalidCertificateError, None, "malformed"),
    (pv_errors.PathValidationError, r"signature .* could not be verified|signature parameters", "bad_signature"),
    (pv_errors.PathValidationError, r"is not a CA", "not_a_ca"),
    (pv_errors.PathValidationError, r"maximum path length", "path_length_exceeded"),
    (pv_errors.PathValidationError, r"not allowed to sign certificates", "ca_key_usage_missing"),
    (pv_errors.PathValidationError, r"unsupported critical extension", "unknown_critical_extension"),
    (pv_errors.PathValidationError, r"issuer name could not be matched", "issuer_not_found"),
    (pv_errors.PathValidationError, r"polic|name constraint|namespace|subtree", "policy_violation"),
    (pv_errors.PathError, None, "validation_failed"),
    (pv_errors.ValidationError, None, "validation_failed"),
)


def reason_code_for(exc: Exception) -> str:
    """The reason code of a pyhanko-certvalidator exception (:data:`PYHANKO_ERRORS`)."""
    text = str(exc)
    for cls, pattern, code in PYHANKO_ERRORS:
        if isinstance(exc, cls) and (pattern is None or re.search(pattern, text, re.IGNORECASE)):
            return code
    return "validation_failed"


# ----------------------------------------------------------------------------------------------------- inputs

def _as_certificate(obj: object, what: str = "certificate") -> Certificate:
    """A signagent Certificate as given, or one read from encoded bytes (or from the bytes an asn1crypto certificate
    was read from) -- always one that went through :meth:`Certificate.from_der`, so it is strict DER (RFC 5280
    section 4.1) and its bytes are the bytes received (CertificateFormatError, code ``not_der``, otherwise)."""
    if isinstance(obj, Certificate):
        return obj
    if isinstance(obj, x509.Certificate):
        # the caller's own parse: checked from the bytes it was read from (a BER one fails, as it must)
        return Certificate.from_der_cached(received_encoding(obj))
    if isinstance(obj, bytes | bytearray | memoryview):
        data = bytes(obj)
        first: CertificateFormatError | None = None
        if data[:1] == b"\x30":  # DER (the common case); parsed once per distinct certificate
            try:
                return Certificate.from_der_cached(data)
            except CertificateFormatError as exc:
                first = exc  # a bundle, PEM...: the full loader; else its specific code (not_der) stands
        from signagent.x509.loading import load_certificate

        try:
            return load_certificate(data)
        except CertificateFormatError:
            if first is not None and first.code != "certificate_malformed":
                raise first from None
            raise
    raise CertificateFormatError(situation="wrong_type", what=what, type=type(obj).__name__)


def _as_crl(obj: object) -> crl.CertificateList:
    if isinstance(obj, crl.CertificateList):
        return obj
    if isinstance(obj, bytes | bytearray | memoryview):
        return load_crl(bytes(obj))
    raise CrlFormatError(situation="wrong_type", type=type(obj).__name__)


def _utc(at: datetime | None) -> datetime:
    if at is None:
        return datetime.now(UTC)
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


# ----------------------------------------------------------------------------------------------- descriptions

def _subject(cert: Certificate) -> str:
    try:
        return cert.asn1.subject.human_friendly
    except PARSE_ERRORS:
        return cert.asn1.subject.dump().hex()


def _issuer(cert: Certificate) -> str:
    try:
        return cert.asn1.issuer.human_friendly
    except PARSE_ERRORS:
        return cert.asn1.issuer.dump().hex()


def _validity(cert: Certificate) -> tuple[datetime, datetime]:
    return cert.not_before, cert.not_after


def _key_usage_period(cert: Certificate) -> tuple[datetime | None, datetime | None] | None:
    """privateKeyUsagePeriod (RFC 3280 section 4.2.1.4) or None when absent; a value that does not decode raises
    (the path's structure check reports it as ``malformed``)."""
    for ext in cert.asn1["tbs_certificate"]["extensions"] or []:
        if ext["extn_id"].dotted == oids.EXT_PRIVATE_KEY_USAGE_PERIOD:
            value = ext["extn_value"].parsed
            return value["not_before"].native, value["not_after"].native
    return None


@dataclass
class _Evaluation:
    report: PathReport
    bounds: list[datetime]
    cacheable: bool


class _Run:
    """One call of :func:`validate`: its settings and shared helpers."""

    def __init__(self, at: datetime, mode: RevocationMode, checker: RevocationChecker | None,
                 sig_validator: GostSignatureValidator, policy: GostAlgorithmPolicy, purpose: str) -> None:
        self.at = at
        self.mode = mode
        self.checker = checker
        self.sig_validator = sig_validator
        self.policy = policy
        self.purpose = purpose

    # --- per certificate -----------------------------------------------------------------------------------

    def _ref(self, cert: Certificate) -> dict[str, str]:
        # the SHA-1 of the bytes received, never of a re-encoding
        return {"certificate": cert.sha1_thumbprint, "subject": _subject(cert)}

    def _signature(self, cert: Certificate, issuer: Certificate) -> CertificateCheck:
        algorithm = cert.asn1["signature_algorithm"]
        name = algorithm["algorithm"].native
        signed = certificate_signed_bytes(cert.der)
        if signed is None:
            # RFC 5280 4.1.1.2: the outer signatureAlgorithm must be the one the issuer signed inside the TBS
            return CertificateCheck("signature", "failed",
                                    reason("signature_algorithm_mismatch", **self._ref(cert)))
        if not self.policy.signature_algorithm_allowed(algorithm, self.at, issuer.asn1.public_key):
            return CertificateCheck("signature", "failed",
                                    reason("algorithm_not_allowed", algorithm=name, **self._ref(cert)))
        try:
            # over the TBS as received: a re-encoding could differ from what the issuer signed
            self.sig_validator.validate_signature(cert.signature_value, signed, issuer.asn1.public_key,
                                                  algorithm)
        except Exception:  # InvalidSignature, or the default validator failing on a key it cannot load
            return CertificateCheck("signature", "failed", reason("bad_signature", **self._ref(cert)))
        return CertificateCheck("signature", "passed", detail=str(name))

    def _validity(self, cert: Certificate, bounds: list[datetime]) -> CertificateCheck:
        not_before, not_after = _validity(cert)
        bounds += [not_before, not_after]
        if self.at + _TOLERANCE < not_before:
            return CertificateCheck("validity", "failed",
                                    reason("not_yet_valid", not_before=not_before, **self._ref(cert)))
        if self.at - _TOLERANCE > not_after:
            return CertificateCheck("validity", "failed", reason("expired", not_after=not_after, **self._ref(cert)))
        return CertificateCheck("validity", "passed")

    def _key_usage_period(self, cert: Certificate, child: Certificate | None,
                          bounds: list[datetime]) -> CertificateCheck | None:
        period = _key_usage_period(cert)
        if period is None or (child is None and cert.asn1.ca):
            return None  # a CA key's period limits what it signs, not the use of its certificate
        start, end = period
        # the end-entity key is used now; a CA key was used when it signed the certificate below it
        when = self.at if child is None else _validity(child)[0]
        if child is None:
            bounds += [t for t in period if t is not None]
        if (start is not None and when + _TOLERANCE < start) or (end is not None and when - _TOLERANCE > end):
            return CertificateCheck("private_key_usage_period", "failed", reason(
                "private_key_usage_period_over", not_before=start or "-", not_after=end or "-", **self._ref(cert)))
        return CertificateCheck("private_key_usage_period", "passed")

    def _key_usage(self, cert: Certificate, is_target: bool) -> CertificateCheck | None:
        usage = cert.asn1.key_usage_value
        if is_target:
            if self.purpose != "signing" or cert.asn1.ca:
                return None  # a CA certificate validated on its own is not used to sign documents
            if usage is not None and not ({"digital_signature", "non_repudiation"} & set(usage.native)):
                return CertificateCheck("key_usage", "failed", reason("key_usage_not_allowed", **self._ref(cert)))
            return CertificateCheck("key_usage", "passed")
        if usage is not None and "key_cert_sign" not in usage.native:
            return CertificateCheck("key_usage", "failed", reason("ca_key_usage_missing", **self._ref(cert)))
        return CertificateCheck("key_usage", "passed")

    def _ca(self, cert: Certificate, below: Sequence[Certificate]) -> CertificateCheck:
        """basicConstraints of an issuer: cA, and pathLenConstraint against the CAs below it (RFC 5280 6.1.4).
        A version 1 self-issued certificate (it cannot carry basicConstraints) is taken as a CA."""
        if not cert.asn1.ca and not (cert.version == 1 and cert.is_self_issued):
            return CertificateCheck("basic_constraints", "failed", reason("not_a_ca", **self._ref(cert)))
        limit = cert.asn1.max_path_length
        # non-self-issued intermediates between this CA and the end entity (RFC 5280 6.1.4 (l))
        intermediates = sum(1 for c in below[1:] if not c.is_self_issued)
        if limit is not None and intermediates > limit:
            return CertificateCheck("basic_constraints", "failed", reason(
                "path_length_exceeded", limit=limit, **self._ref(cert)))
        return CertificateCheck("basic_constraints", "passed")

    def _critical(self, cert: Certificate) -> CertificateCheck:
        unknown = sorted(str(x) for x in cert.asn1.critical_extensions - _SUPPORTED_CRITICAL)
        if unknown:
            return CertificateCheck("critical_extensions", "failed", reason(
                "unknown_critical_extension", extensions=", ".join(unknown), **self._ref(cert)))
        return CertificateCheck("critical_extensions", "passed")

    def _revocation(self, cert: Certificate, issuer: Certificate,
                    bounds: list[datetime]) -> tuple[CertificateCheck, RevocationStatus | None]:
        if self.mode == "off" or self.checker is None:
            return CertificateCheck("revocation", "skipped", detail="revocation checking is off"), None
        try:
            status = self.checker.check(cert, issuer, self.at)
        except PARSE_ERRORS as exc:  # a value of the certificate or of a CRL asn1crypto cannot decode
            status = RevocationStatus("unknown", code="revocation_unknown", detail=_one_line(exc))
        bounds += list(status.bounds)
        if status.state == "good":
            return CertificateCheck("revocation", "passed", detail=f"not revoked ({status.source})"), status
        if status.state == "revoked":
            return CertificateCheck("revocation", "failed", reason(
                "revoked", revoked_at=status.revoked_at, revocation_reason=status.revocation_reason,
                source=status.source, **self._ref(cert))), status
        code = status.code or "revocation_unknown"
        details: dict[str, Any] = {"detail": status.detail}
        if code == "crl_expired":
            details["next_update"] = status.next_update
        return CertificateCheck("revocation", "unknown", reason(code, **details, **self._ref(cert))), status

    # --- per path ------------------------------------------------------------------------------------------

    def evaluate(self, candidate: CandidatePath) -> _Evaluation:
        certs = candidate.certificates
        n = len(certs)
        bounds: list[datetime] = []
        checks: list[list[CertificateCheck]] = [[] for _ in certs]
        structural: list[Reason] = []
        cacheable = True
        anchored = candidate.end == "anchor"
        for i, cert in enumerate(certs):
            try:
                own = checks[i]
                last = i == n - 1
                if not last:
                    own.append(self._signature(cert, certs[i + 1]))
                elif anchored:
                    own.append(CertificateCheck("signature", "skipped", detail="trust anchor"))
                own.append(self._validity(cert, bounds))
                pkup = self._key_usage_period(cert, certs[i - 1] if i else None, bounds)
                if pkup is not None:
                    own.append(pkup)
                ku = self._key_usage(cert, is_target=i == 0)
                if ku is not None:
                    own.append(ku)
                if i > 0:
                    own.append(self._ca(cert, certs[:i]))
                own.append(self._critical(cert))
            except (*PARSE_ERRORS, SignAgentError) as exc:
                checks[i].append(CertificateCheck("structure", "failed", reason(
                    "malformed", detail=_one_line(exc), **self._ref(cert))))
        for own in checks:
            structural += [c.reason for c in own if c.status == "failed" and c.reason is not None]
        last = certs[-1]
        if candidate.end == "untrusted_root":
            structural.append(reason("untrusted_root", **self._ref(last)))
        elif candidate.end == "issuer_not_found":
            structural.append(reason("issuer_not_found", issuer=_issuer(last), **self._ref(last)))
        if anchored and not structural and n > 1:
            code, message = self._pkix(certs)
            if code is not None:
                structural.append(reason(code if code != "validation_failed" else "validation_failed",
                                         detail=message, **self._ref(certs[0])))
        reasons = list(structural)
        warnings: list[Reason] = []
        if anchored and not structural:
            for i in range(n - 1):
                check, status = self._revocation(certs[i], certs[i + 1], bounds)
                checks[i].append(check)
                if check.status == "failed" and check.reason is not None:
                    reasons.append(check.reason)
                elif check.status == "unknown" and check.reason is not None:
                    cacheable = cacheable and status is not None and status.code == "crl_expired"
                    (warnings if self.mode == "soft" else reasons).append(check.reason)
            if self.mode == "off":
                warnings.append(reason("revocation_not_checked"))
        infos = tuple(self._info(cert, checks[i], i, n, candidate.end) for i, cert in enumerate(certs))
        return _Evaluation(PathReport(infos, status_of(reasons), tuple(reasons), tuple(warnings)), bounds,
                           cacheable)

    def _info(self, cert: Certificate, checks: list[CertificateCheck], i: int, n: int,
              end: str) -> CertificateInfo:
        not_before, not_after = _validity(cert)
        # the last certificate is a root when the path ends at an anchor or at an untrusted root
        role = "end_entity" if i == 0 else ("root" if i == n - 1 and end in ("anchor", "untrusted_root")
                                            else "intermediate")
        return CertificateInfo(
            subject=_subject(cert), issuer=_issuer(cert), serial=format(cert.serial_number, "X"),
            sha1=cert.sha1_thumbprint, sha256=cert.sha256_fingerprint.upper(),
            not_before=not_before, not_after=not_after, role=role, checks=tuple(checks))  # type: ignore[arg-type]

    def _pkix(self, certs: tuple[Certificate, ...]) -> tuple[str | None, str]:
        """pyhanko-certvalidator's RFC 5280 section 6.1 run on this exact path (revocation is ours).

        The anchor given is the path's last certificate, which path building ends only on a certificate
        byte-identical to a trusted one; pyhanko takes the path as given (its trust manager, which matches roots by
        name and key, is consulted only by its own path builder, not used here)."""
        anchor = certs[-1].asn1
        context = ValidationContext(
            trust_roots=[anchor], moment=self.at, allow_fetching=False,
            revinfo_policy=CertRevTrustPolicy(NO_REVOCATION), algorithm_usage_policy=self.policy,
            signature_validator=self.sig_validator, time_tolerance=_TOLERANCE)
        path = ValidationPath(CertTrustAnchor(anchor), [c.asn1 for c in reversed(certs[1:-1])], certs[0].asn1)
        try:
            _run_sync(lambda: async_validate_path(context, path))
        except (pv_errors.PathError, pv_errors.ValidationError) as exc:
            return reason_code_for(exc), _one_line(exc)
        except PARSE_ERRORS as exc:
            return "malformed", _one_line(exc)
        return None, ""


def _run_sync(make_coroutine: Any) -> Any:
    """Run a coroutine that does not really wait (no fetching) without the cost of an event loop; fall back to
    asyncio.run if it does wait."""
    coroutine = make_coroutine()
    try:
        coroutine.send(None)
    except StopIteration as done:
        return done.value
    coroutine.close()
    return asyncio.run(make_coroutine())


# ----------------------------------------------------------------------------------------------- AIA fetching

def _issuer_fetcher(fetcher: Fetcher, cache: FetchCache | None):  # type: ignore[no-untyped-def]
    from signagent.x509.loading import load_certificates

    def fetch(cert: Certificate) -> list[Certificate]:
        found: list[Certificate] = []
        try:
            urls = [entry["access_location"].native for entry in cert.asn1.authority_information_access_value or []
                    if entry["access_method"].native == "ca_issuers"
                    and entry["access_location"].name == "uniform_resource_identifier"]
        except PARSE_ERRORS:
            return found
        for url in urls:
            if not is_fetchable(url):
                continue
            data = None
            if cache is not None:
                cached = cache.load("cert", url)
                data = cached[0] if cached else None
            downloaded = False
            if data is None:
                try:
                    data = fetcher.get(url)
                    downloaded = True
                except DownloadError:
                    continue
            try:
                certs = load_certificates(data)
            except SignAgentError:
                continue
            if downloaded and cache is not None:
                cache.store("cert", url, data)
            found += [c for c in certs if name_key(c.asn1.subject) == name_key(cert.asn1.issuer)]
            if found:
                break
        return found

    return fetch


# ----------------------------------------------------------------------------------------------- result cache

# key -> [(low, high, report, fetcher)]: the caller's fetcher is held with its results, so that its id() (part of the
# key) cannot be reused by another fetcher while they are remembered (a freed fetcher's VALID once answered for a
# new one serving a bad OCSP response).
_RESULTS: OrderedDict[tuple[Any, ...], list[tuple[datetime, datetime, ValidationReport, object]]] = OrderedDict()
_RESULTS_SIZE = 512
_RESULTS_LOCK = threading.Lock()  # the HTTP API validates from several threads
_SIG_VALIDATOR = GostSignatureValidator()
_DEFAULT_FETCHER: HttpFetcher | None = None


def clear_caches() -> None:
    """Forget remembered validation results and signature verdicts (the on-disk CRL cache stays)."""
    global _SIG_VALIDATOR
    with _RESULTS_LOCK:
        _RESULTS.clear()
    _SIG_VALIDATOR = GostSignatureValidator()


def _input_digest(item: object) -> bytes:
    """SHA-256 of an input's encoding, whatever form it was given in (bytes, asn1crypto or signagent object)."""
    if isinstance(item, bytes | bytearray | memoryview):
        return hashlib.sha256(item).digest()
    der = getattr(item, "der", None)
    if isinstance(der, bytes):
        return hashlib.sha256(der).digest()
    if isinstance(item, x509.Certificate | crl.CertificateList):
        # the bytes it was read from: its dump() may be a DER re-encoding of a BER input, which must not share a
        # cache entry with the DER certificate it is not
        return hashlib.sha256(received_encoding(item)).digest()
    dump = getattr(item, "dump", None)
    if callable(dump):
        return hashlib.sha256(dump()).digest()
    return repr(item).encode()  # not a certificate: parsing will reject it


def _window(bounds: list[datetime], at: datetime) -> tuple[datetime, datetime]:
    """The interval around ``at`` in which no bound lies: the verdict cannot change inside it."""
    below = [b for b in bounds if b <= at]
    above = [b for b in bounds if b > at]
    low = max(below) if below else datetime.min.replace(tzinfo=UTC)
    high = min(above) if above else datetime.max.replace(tzinfo=UTC)
    return low + _TOLERANCE, high - _TOLERANCE


# ----------------------------------------------------------------------------------------------- entry point

def validate(cert: CertificateSource, *, trust_roots: Iterable[CertificateSource],
             intermediates: Iterable[CertificateSource] = (), crls: Iterable[CrlSource] = (),
             at: datetime | None = None, offline: bool = False,
             revocation: RevocationMode = "soft", fetcher: Fetcher | None = None,
             cache_dir: str | None = None, purpose: Literal["signing", "any"] = "signing",
             allow_foreign_algorithms: bool = False) -> ValidationReport:
    """Validate ``cert`` against ``trust_roots``; return a :class:`~signagent.trust.report.ValidationReport`.

    ``cert``, ``trust_roots`` and ``intermediates`` are :class:`signagent.x509.Certificate` objects, or their
    encodings (DER, PEM, base64: read with :mod:`signagent.x509.loading`, strict DER required); an asn1crypto
    certificate a caller still holds is read again from the bytes it was parsed from. ``crls`` are CRLs as
    :func:`signagent.x509.load_crl` returns them (asn1crypto ``CertificateList``), or their encodings. Trust
    anchors are exact: a path ends only at a certificate byte-identical to one of ``trust_roots``.
    ``at``: validation time (default now; naive = UTC). ``offline``: never use the network
    (revocation data from ``crls`` and the on-disk cache only). ``revocation``: soft / hard / off.
    ``fetcher``: network access (default: an :class:`~signagent.trust.fetching.HttpFetcher` with a 5 s timeout).
    ``cache_dir``: on-disk cache of downloads (default under the user cache directory). ``purpose``: "signing"
    requires digitalSignature or nonRepudiation of a non-CA target. ``allow_foreign_algorithms``: accept non-GOST
    algorithms (RSA, ECDSA...) by pyhanko's default policy instead of reporting ``algorithm_not_allowed``.

    Raises only for malformed input (:class:`~signagent.errors.CertificateFormatError`,
    :class:`~signagent.errors.CrlFormatError`) or a bad argument.
    """
    if revocation not in ("soft", "hard", "off"):
        raise InvalidInputError(f"revocation mode must be soft, hard or off, not {revocation!r:.40}",
                                message_ru="режим проверки отзыва: soft, hard или off")
    trust_roots, intermediates, crls = list(trust_roots), list(intermediates), list(crls)
    when = _utc(at)
    # the result cache is keyed by the inputs' bytes, before any parsing: a repeated validation costs a few hashes
    key = (_input_digest(cert), frozenset(map(_input_digest, trust_roots)),
           frozenset(map(_input_digest, intermediates)), frozenset(map(_input_digest, crls)),
           revocation, offline, purpose, allow_foreign_algorithms, cache_dir, id(fetcher) if fetcher else None)
    with _RESULTS_LOCK:
        for low, high, cached, holder in _RESULTS.get(key, ()):
            if low <= when <= high and holder is fetcher:
                _RESULTS.move_to_end(key)
                return cached if cached.validated_at == when else replace(cached, validated_at=when)

    target = _as_certificate(cert)
    roots = [_as_certificate(c, "trust root") for c in trust_roots]
    extra = [_as_certificate(c, "intermediate") for c in intermediates]
    local_crls = [_as_crl(c) for c in crls]

    cache = FetchCache(cache_dir)
    network: Fetcher | None = None
    if not offline:
        global _DEFAULT_FETCHER
        if fetcher is None:
            _DEFAULT_FETCHER = _DEFAULT_FETCHER or HttpFetcher()
            fetcher = _DEFAULT_FETCHER
        network = fetcher
    policy = GostAlgorithmPolicy(allow_foreign=allow_foreign_algorithms)
    sig_validator = _SIG_VALIDATOR  # it defers foreign algorithms; the policy decides whether they are allowed
    checker = None if revocation == "off" else RevocationChecker(
        crls=local_crls, fetcher=network, cache=cache, sig_validator=sig_validator, algorithm_policy=policy)
    run = _Run(when, revocation, checker, sig_validator, policy, purpose)

    try:
        pool = CertificatePool(roots, extra)
        candidates = build_paths(target, pool, fetch_issuers=_issuer_fetcher(network, cache) if network else None)
        evaluations = [run.evaluate(c) for c in candidates]
    except PARSE_ERRORS as exc:
        # the boundary: whatever value asn1crypto still cannot decode is malformed input, told in one line
        raise CertificateFormatError(situation="unprocessable", reason=_one_line(exc)) from None
    order = sorted(range(len(evaluations)), key=lambda i: (
        rank(evaluations[i].report.status), len(evaluations[i].report.reasons),
        len(evaluations[i].report.certificates), i))
    best = evaluations[order[0]]
    report = ValidationReport(
        status=best.report.status, chain=best.report.certificates,
        paths=tuple(e.report for e in evaluations), reasons=best.report.reasons,
        warnings=best.report.warnings, validated_at=when, revocation_mode=revocation)

    if all(e.cacheable for e in evaluations):
        bounds = [b for e in evaluations for b in e.bounds]
        if network is not None:
            bounds.append(datetime.now(UTC) + timedelta(minutes=30))  # online data ages; re-check periodically
        low, high = _window(bounds, when)
        with _RESULTS_LOCK:
            windows = _RESULTS.setdefault(key, [])
            windows.append((low, high, report, fetcher))
            del windows[:-8]  # a few time windows per input set are plenty
            _RESULTS.move_to_end(key)
            while len(_RESULTS) > _RESULTS_SIZE:
                _RESULTS.popitem(last=False)
    return report

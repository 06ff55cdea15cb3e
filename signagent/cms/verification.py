"""CAdES-BES / CMS SignedData verification (RFC 5652 section 5.4-5.6; ETSI EN 319 122-1; RFC 9215 section 4).

:func:`verify` checks every SignerInfo:

1. the signer certificate, found by issuerAndSerialNumber or subjectKeyIdentifier among the certificates of the
   SignedData and the ``extra_certificates`` given (``signer_certificate_not_found``, indeterminate);
2. the algorithms: digestAlgorithm Streebog-256/512 (GOST R 34.11-94 for legacy 2001 keys), signatureAlgorithm
   the key OID or the signwithdigest OID, both fitting the key (``algorithm_mismatch``,
   ``algorithm_not_supported``);
3. with signed attributes: exactly one contentType equal to eContentType and one messageDigest equal to the
   content's digest (``message_digest_mismatch``), and the signature over the DER SET OF the attributes;
   without signed attributes (OpenSSL ``-noattr``, the TC 26 example): the signature over the content digest,
   reported as ``not_cades_bes`` (a warning: the signature itself is valid);
4. CAdES-BES: signingTime and signingCertificateV2 present (else the ``not_cades_bes`` warning); the
   ESSCertIDv2 (or ESSCertID) must name the certificate that verifies (``signing_certificate_mismatch``);
5. the certificate's chain, through the ``validate_chain`` callable the caller gives (the service layer passes
   :func:`signagent.trust.validation.validate` with its trust anchors, CRLs and revocation mode; this layer does
   not import the trust layer), at the time ``at``: now (None), a datetime, or ``"signing-time"`` -- the time
   the signer claims (the report says it is a claim).

Content: the embedded eContent, or for a detached signature ``content`` (bytes, a binary stream or a path),
hashed once in 1 MiB chunks for every digest algorithm the signers use, so content of any size is verified in
constant memory. ``content`` given for an attached signature is what gets checked (a different file then gives
``message_digest_mismatch``).

Exports: verify, ChainValidator, find_signer_certificate.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, Literal

from asn1crypto import cms, x509

from signagent.asn1.failures import PARSE_ERRORS
from signagent.errors import InvalidTypeError, NotDerError, SignAgentError, UsageError
from signagent.outcome import Reason
from signagent.x509 import Certificate, signature_scheme
from signagent.x509.builder import key_identifier

from . import der
from .attributes import AttributeView, ess_cert_id_matches
from .content import ContentDigest, hash_content
from .digests import digest_by_oid
from .errors import CmsContentMissingError
from .parsing import ParsedSignedData, load_signed_data
from .received import ReceivedSigner, check_attributes_der, read_attributes
from .report import (
    ChainResult,
    CmsVerificationReport,
    SignerReport,
    cms_reason,
    combine_status,
    status_of,
)
from .signer_certificate import find_signer, own_signing_certificate_v2, public_key_of

__all__ = ["ChainValidator", "find_signer_certificate", "verify"]

#: (signer certificate, other certificates available, validation time or None for now) -> chain report.
ChainValidator = Callable[[Certificate, Sequence[Certificate], datetime | None], ChainResult]
At = datetime | Literal["signing-time"] | None


def _ski(cert: Certificate) -> bytes | None:
    try:
        return cert.subject_key_identifier or key_identifier(cert.public_key_info)
    except (SignAgentError, *PARSE_ERRORS):
        return None


def find_signer_certificate(sid: cms.SignerIdentifier, pool: Iterable[Certificate]) -> Certificate | None:
    """The certificate a SignerIdentifier names (RFC 5652 section 5.3), or None."""
    if sid.name == "issuer_and_serial_number":
        issuer = sid.chosen["issuer"]
        serial = sid.chosen["serial_number"].native
        for cert in pool:
            if cert.serial_number != serial:
                continue
            cert_issuer = cert.asn1["tbs_certificate"]["issuer"]
            try:
                same = cert_issuer.dump() == issuer.dump() or cert_issuer == issuer
            except PARSE_ERRORS:
                same = False
            if same:
                return cert
        return None
    wanted = sid.chosen.native
    for cert in pool:
        if _ski(cert) == wanted:
            return cert
    return None


def _names_rejected(sid: cms.SignerIdentifier, cert: x509.Certificate) -> bool:
    """Would ``sid`` name this certificate, read leniently (it was rejected as not DER; only for the report)?"""
    try:
        if sid.name == "issuer_and_serial_number":
            tbs = cert["tbs_certificate"]
            return bool(tbs["serial_number"].native == sid.chosen["serial_number"].native
                        and tbs["issuer"].dump() == sid.chosen["issuer"].dump())
        return bool(cert.key_identifier == sid.chosen.native)
    except (*PARSE_ERRORS, RecursionError):
        return False


def _describe_sid(sid: cms.SignerIdentifier) -> str:
    try:
        if sid.name == "issuer_and_serial_number":
            return f"issuer {sid.chosen['issuer'].human_friendly}, serial {sid.chosen['serial_number'].native:x}"
        return f"subjectKeyIdentifier {sid.chosen.native.hex()}"
    except (*PARSE_ERRORS, RecursionError):  # a hostile Name nested deep enough to exhaust asn1crypto's recursion
        return "?"


def _attribute_view(si: ReceivedSigner) -> AttributeView:
    """The signed attributes' view: read from the bytes when they are the plain CAdES-BES four, else by
    asn1crypto (the SignerInfo's own parse, or the same contents under the universal SET tag)."""
    if si.asn1 is not None:
        return AttributeView.read(si.asn1["signed_attrs"])
    contents = si.signed_attrs or b""
    attributes = si.attributes if si.attributes is not None else read_attributes(contents)
    view = AttributeView.from_received(attributes) if attributes is not None else None
    return view if view is not None else AttributeView.read(cms.CMSAttributes.load(der.tlv(der.TAG_SET, contents)))


# ----------------------------------------------------------------------------------------------------- signers

class _SignerCheck:
    """The checks of one SignerInfo, collecting reasons and warnings."""

    def __init__(self, index: int, si: ReceivedSigner, parsed: ParsedSignedData, pool: list[Certificate],
                 digests: dict[str, bytes], prehashed: ContentDigest | None = None) -> None:
        self.index, self.si, self.parsed, self.pool, self.digests = index, si, parsed, pool, digests
        self.prehashed = prehashed  # the content was given as this digest only
        self.reasons: list[Reason] = []
        self.warnings: list[Reason] = []
        self.digest_oid = si.digest_oid
        self.signature_oid = si.signature_oid
        self.certificate = find_signer(si, pool)
        self.has_attributes = si.signed_attrs is not None
        self.view = _attribute_view(si) if self.has_attributes else None

    def run(self) -> None:
        if self.certificate is None:
            rejected = next((exc for cert, exc in self.parsed.rejected_certificates
                             if _names_rejected(self.si.sid, cert)), None)
            if rejected is not None:
                self.reasons.append(cms_reason("signer_certificate_not_der", detail=rejected.message))
            else:
                self.reasons.append(cms_reason("signer_certificate_not_found",
                                               signer=_describe_sid(self.si.sid)))
        digest = self._message_digest_check()
        self._cades_check()
        if self.certificate is None or digest is None:
            return
        self._signature_check(digest)
        self._signing_certificate_check()

    def _message_digest_check(self) -> bytes | None:
        """The digest the signature is over (None if it cannot be computed), checking messageDigest."""
        try:
            spec = digest_by_oid(self.digest_oid)
        except SignAgentError:
            self.reasons.append(cms_reason("algorithm_not_supported", algorithm=self.digest_oid))
            return None
        content_digest = self.digests.get(self.digest_oid)
        if content_digest is None and self.prehashed is not None:  # a digest of another algorithm was given
            self.reasons.append(cms_reason("content_digest_algorithm", algorithm=spec.name,
                                           given=digest_by_oid(self.prehashed.oid).name))
            return None
        if not self.has_attributes:
            return content_digest
        view = self.view
        assert view is not None
        for name in ("content_type", "message_digest", "signing_time", "signing_certificate_v2", "origin"):
            if view.counts.get(name, 0) > 1:
                self.reasons.append(cms_reason("attribute_malformed", attribute=name))
        for name in view.unreadable:
            self.reasons.append(cms_reason("attribute_malformed", attribute=name))
        if view.content_type is None:
            if "content_type" not in view.unreadable:
                self.reasons.append(cms_reason("required_attribute_missing", attribute="contentType"))
        elif view.content_type != self.parsed.content_type:
            self.reasons.append(cms_reason("content_type_mismatch", attribute=view.content_type,
                                           content=self.parsed.content_type))
        if view.message_digest is None:
            if "message_digest" not in view.unreadable:
                self.reasons.append(cms_reason("required_attribute_missing", attribute="messageDigest"))
        elif content_digest is not None and view.message_digest != content_digest:
            self.reasons.append(cms_reason("message_digest_mismatch"))
        # RFC 5652 section 5.4: the signature covers the DER SET OF -- the [0] IMPLICIT contents as received,
        # re-tagged with the universal SET tag. Section 5.3: SignedAttributes MUST be DER even in a BER CMS, so
        # the contents are checked as DER (not re-encoded: the signer's bytes are what was signed).
        signed = der.tlv(der.TAG_SET, self.si.signed_attrs or b"")
        try:
            check_attributes_der(signed)  # check_der, remembering each attribute's verdict by its bytes
        except NotDerError as exc:
            self.reasons.append(cms_reason("signed_attributes_not_der", detail=exc.message))
            return None
        except SignAgentError as exc:  # nested too deep
            self.reasons.append(cms_reason("signed_attributes_not_der", detail=exc.message))
            return None
        return spec.factory(signed).digest()

    def _cades_check(self) -> None:
        if not self.has_attributes:
            self.warnings.append(cms_reason("not_cades_bes", missing="no signed attributes"))
            return
        view = self.view
        assert view is not None
        missing = []
        if view.signing_time is None:
            missing.append("signingTime")
        if view.signing_certificate_v2 is None and view.signing_certificate is None:
            missing.append("signingCertificateV2")
        if missing:
            self.warnings.append(cms_reason("not_cades_bes", missing="missing " + ", ".join(missing)))

    def _signature_check(self, digest: bytes) -> None:
        cert = self.certificate
        assert cert is not None
        try:
            scheme = signature_scheme(self.signature_oid)
        except SignAgentError:
            self.reasons.append(cms_reason("algorithm_not_supported", algorithm=self.signature_oid))
            return
        key_oid = cert.public_key_algorithm.oid
        spec = digest_by_oid(self.digest_oid)
        if scheme.key_oid != key_oid or scheme.hash_name != spec.name:
            self.reasons.append(cms_reason(
                "algorithm_mismatch",
                detail=f"signature {self.signature_oid}, digest {self.digest_oid}, key {key_oid}"))
            return
        try:
            key = public_key_of(cert)
        except SignAgentError:
            self.reasons.append(cms_reason("algorithm_not_supported", algorithm=key_oid))
            return
        signature = self.si.signature
        if len(signature) != 2 * scheme.size or not key.verify_digest(digest, signature):
            self.reasons.append(cms_reason("bad_signature"))

    def _signing_certificate_check(self) -> None:
        view = self.view
        cert = self.certificate
        if view is None or cert is None:
            return
        checks: list[tuple[Any, bool]] = []
        if (view.signing_certificate_v2_der is not None
                and view.signing_certificate_v2_der == own_signing_certificate_v2(cert)):
            pass  # byte for byte what the checks below accept for this certificate: its hash, issuer and serial
        elif view.signing_certificate_v2 is not None:
            checks.append((view.signing_certificate_v2, True))
        if view.signing_certificate is not None:
            checks.append((view.signing_certificate, False))
        for value, v2 in checks:
            try:
                certs = value["certs"]
                empty = len(certs) == 0
                first = None if empty else certs[0]  # parsing the first ESSCertIDv2 can fail too
            except PARSE_ERRORS:
                empty = True
            if empty:
                self.reasons.append(cms_reason("attribute_malformed", attribute="signingCertificateV2"))
                continue
            # RFC 5035 section 3: the first ESSCertIDv2 identifies the signer's certificate.
            verdict = ess_cert_id_matches(first, cert, v2=v2)
            if verdict is False:
                self.reasons.append(cms_reason("signing_certificate_mismatch"))
            elif verdict is None:  # ess_cert_id_matches read the algorithm already: it parses
                oid = first["hash_algorithm"]["algorithm"].dotted if v2 else "sha1"
                self.reasons.append(cms_reason("algorithm_not_supported", algorithm=oid))

    @property
    def claimed_signing_time(self) -> datetime | None:
        return None if self.view is None else self.view.signing_time


def _chain_time(at: At, claimed: datetime | None, warnings: list[Reason]) -> datetime | None:
    if at == "signing-time":
        if claimed is None:
            warnings.append(cms_reason("signing_time_missing"))
            return None
        return claimed
    return at  # type: ignore[return-value]


def verify(signature: bytes | ParsedSignedData, *, content: object = None,
           extra_certificates: Iterable[Certificate] = (), validate_chain: ChainValidator | None = None,
           at: At = None) -> CmsVerificationReport:
    """Verify every signer of a CMS SignedData; return a :class:`CmsVerificationReport`.

    ``signature``: the CMS as DER, BER, PEM or base64 bytes (or already parsed). ``content``: the signed content
    for a detached signature (bytes, a binary stream or a path; streamed), or only its digest
    (:class:`~.content.ContentDigest`: CryptoPro's VerifyHash; a signer of another digest algorithm is then
    ``indeterminate`` with ``content_digest_algorithm``). ``extra_certificates``: where to look
    for signers the CMS does not carry. ``validate_chain(cert, available_certs, when)``: the chain check (None:
    not checked, the signer is then ``indeterminate`` with ``chain_not_checked``). ``at``: the chain's time --
    None (now), a datetime, or ``"signing-time"`` (the signer's claimed signingTime).

    Raises CmsFormatError for malformed input, CmsContentMissingError for a detached signature without content,
    FileAccessError for an unreadable content file; never for a bad signature.
    """
    if at is not None and at != "signing-time" and not isinstance(at, datetime):
        raise UsageError(situation="bad_at")
    if isinstance(at, datetime) and at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    parsed = signature if isinstance(signature, ParsedSignedData) else load_signed_data(signature)
    if content is None:
        content = parsed.content
        if content is None and parsed.signers:
            raise CmsContentMissingError(needs="content")
    extra = list(extra_certificates)
    for cert in extra:
        if not isinstance(cert, Certificate):
            raise InvalidTypeError("extra_certificates must be signagent.x509.Certificate objects")
    pool = parsed.certificates + [c for c in extra if c not in parsed.certificates]
    wanted = {si.digest_oid for si in parsed.signers}
    digests = hash_content(content, wanted) if content is not None else {}

    signers = []
    for index, si in enumerate(parsed.signers):
        check = _SignerCheck(index, si, parsed, pool, digests,
                             content if isinstance(content, ContentDigest) else None)
        check.run()
        chain: ChainResult | None = None
        when: datetime | None = None
        status = status_of(check.reasons)
        if check.certificate is not None:
            if validate_chain is None:
                check.reasons.append(cms_reason("chain_not_checked"))
                status = combine_status(status, "indeterminate")
            else:
                when = _chain_time(at, check.claimed_signing_time, check.warnings)
                others = [c for c in pool if c != check.certificate]
                chain = validate_chain(check.certificate, others, when)
                check.reasons.extend(r.in_scope("chain") for r in chain.reasons)
                check.warnings.extend(w.in_scope("chain") for w in chain.warnings)
                status = combine_status(status, chain.status)
                when = getattr(chain, "validated_at", when)
        signers.append(SignerReport(
            index=index, status=status, reasons=tuple(check.reasons), warnings=tuple(check.warnings),
            certificate=check.certificate, signing_time=check.claimed_signing_time,
            cades_bes=not any(w.code == "not_cades_bes" for w in check.warnings),
            digest_algorithm=check.digest_oid, signature_algorithm=check.signature_oid,
            signed_attributes=check.has_attributes, chain=chain, chain_checked_at=when,
            origin=None if check.view is None else check.view.origin))

    reasons: tuple[Reason, ...] = ()
    if not signers:
        reasons = (cms_reason("no_signers"),)
    overall = combine_status(*(s.status for s in signers)) if signers else "invalid"
    return CmsVerificationReport(status=overall, signers=tuple(signers), detached=parsed.detached,
                                 content_type=parsed.content_type, reasons=reasons)

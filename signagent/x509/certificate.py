"""The certificate model: an immutable X.509 certificate (RFC 5280) with everything the agent shows or checks.

:class:`Certificate` wraps an asn1crypto certificate and its DER. It is built only through
:meth:`Certificate.from_der` (or :mod:`signagent.x509.loading` for PEM, base64 and bundles), which checks the
whole structure up front (every field, names, the framing of every extension) so that a malformed certificate
fails at load time with a :class:`~signagent.errors.CertificateFormatError`, never later with a traceback.
Extension *values* are decoded one by one on first use (:mod:`signagent.x509.extensions`): a value that does not
decode is recorded beside its extension (and in :attr:`Certificate.problems`), never raised.

The DER must be strict (RFC 5280 section 4.1; :func:`check_certificate_der`): definite minimal lengths, nothing
after the certificate or inside it that DER would not encode, three elements in the outer SEQUENCE, DER extension
values, at most :data:`signagent.asn1.strict_der.MAX_DEPTH` levels of nesting (checked before asn1crypto sees the
bytes). The signature is verified over tbsCertificate *as received* (:attr:`Certificate.tbs_der`), and only when
the outer signatureAlgorithm equals the inner one (:attr:`Certificate.algorithms_match`); thumbprints are of the
bytes received.

Equality and hashing go by DER.

Exports: Certificate, AlgorithmName, BasicConstraints, KeyUsagePeriod, CertificateNotDerError,
CertificateNestingError, check_certificate_der.
"""

from __future__ import annotations

import datetime as _dt
import functools
import hashlib
from typing import TYPE_CHECKING, NamedTuple

from asn1crypto import core, crl, keys, x509

import signagent.asn1  # noqa: F401  -- registers GOST algorithms and Russian attributes with asn1crypto
from signagent.asn1 import oids
from signagent.asn1.failures import PARSE_ERRORS
from signagent.asn1.opaque_specs import OpaqueCertificate
from signagent.asn1.strict_der import check_canonical, check_der, sequence_elements
from signagent.errors import (
    CertificateFormatError,
    InvalidInputError,
    NestingTooDeepError,
    NotDerError,
    SignAgentError,
)
from signagent.gost import Curve, PublicKey, curve, streebog256
from signagent.outcome import Reason

from .extensions import ExtensionInfo, check_extension_framing, parse_extensions
from .names import DistinguishedName
from .signature import certificate_signed_bytes, public_key_from_info, verify_signature

if TYPE_CHECKING:  # the identity model is made on first use: signing a file never needs it
    from .identity import IssuerSignTool, QualifiedIdentity

__all__ = [
    "AlgorithmName",
    "BasicConstraints",
    "Certificate",
    "CertificateNestingError",
    "CertificateNotDerError",
    "KeyUsagePeriod",
    "check_certificate_der",
]


# Signature algorithms asn1crypto does not name itself are named from our OID tables.
_ALGORITHM_NAMES = {**oids.GOST_SIGNATURE_ALGORITHMS, **oids.GOST_PUBLIC_KEY_ALGORITHMS}


class AlgorithmName(NamedTuple):
    """An algorithm as dotted OID and name (the asn1crypto-style name, or the OID when unnamed)."""

    oid: str
    name: str


class BasicConstraints(NamedTuple):
    """basicConstraints (RFC 5280 section 4.2.1.9)."""

    is_ca: bool
    path_len: int | None


class KeyUsagePeriod(NamedTuple):
    """privateKeyUsagePeriod (RFC 3280 section 4.2.1.4): either bound may be absent."""

    not_before: _dt.datetime | None
    not_after: _dt.datetime | None


class CertificateNotDerError(NotDerError, CertificateFormatError):
    """A certificate that is not in DER (RFC 5280 section 4.1): code ``not_der``, and a CertificateFormatError so
    that every caller that skips or reports unreadable certificates treats it as one."""


class CertificateNestingError(NestingTooDeepError, CertificateFormatError):
    """A certificate nested deeper than any genuine one (code ``nesting_too_deep``); a CertificateFormatError too."""


def _one_line(exc: BaseException) -> str:
    """The first line of an asn1crypto message, whitespace collapsed (its "while parsing ..." chain is noise)."""
    return " ".join(str(exc).split("\n")[0].split()) or type(exc).__name__


def check_certificate_der(der: bytes) -> None:
    """Raise CertificateNotDerError / CertificateNestingError unless ``der`` is one certificate in strict DER.

    The TLV walk (:func:`signagent.asn1.strict_der.check_der`) runs before asn1crypto sees the bytes, so a hostile
    nesting is refused before it costs memory or recursion; then the outer SEQUENCE must hold exactly
    tbsCertificate, signatureAlgorithm and signatureValue (RFC 5280 section 4.1), and every extension value must
    itself be DER (section 4.1: extnValue holds "the DER encoding of an ASN.1 value").
    """
    check_der(der, what="the certificate", error=CertificateNotDerError, too_deep=CertificateNestingError)
    parts = sequence_elements(der, what="the certificate", error=CertificateNotDerError)
    if len(parts) > 3:  # fewer is simply malformed, and the parser says which field is missing
        raise CertificateNotDerError(situation="outer_sequence", what="certificate", what_ru="сертификат",
                                     count=len(parts), section="4.1")


def _check_extension_values(cert: OpaqueCertificate) -> None:
    # the outline spec: asn1crypto's would decode each value by its OID on access, before the walk could look
    for ext in cert["tbs_certificate"]["extensions"] or ():
        oid = ext["extn_id"].dotted
        contents = ext["extn_value"].contents
        check_der(contents, what=f"the value of extension {oid}", error=CertificateNotDerError,
                  too_deep=CertificateNestingError)


def _check_structure(cert: x509.Certificate) -> None:
    """Touch every field of the certificate so that asn1crypto's lazy parser meets any damage now."""
    tbs = cert["tbs_certificate"]
    version = tbs["version"].native
    if version not in ("v1", "v2", "v3"):
        raise CertificateFormatError(situation="version", version=repr(version))
    _ = tbs["serial_number"].native
    _ = tbs["signature"]["algorithm"].dotted
    _ = tbs["issuer"].chosen
    _ = tbs["subject"].chosen
    for field in ("not_before", "not_after"):
        value = tbs["validity"][field].native
        if not isinstance(value, _dt.datetime):
            raise CertificateFormatError(situation="validity", field=field)
    spki = tbs["subject_public_key_info"]
    _ = spki["algorithm"]["algorithm"].dotted
    _ = spki["public_key"].contents
    # Extensions: only their framing here; values are decoded one by one on first use (a broken value is recorded
    # beside its extension, never fatal).
    check_extension_framing(tbs["extensions"])
    _ = cert["signature_algorithm"]["algorithm"].dotted
    _ = cert["signature_value"].native


def _looks_like_crl(der: bytes) -> bool:
    try:
        parsed = crl.CertificateList.load(der, strict=True)
        _ = parsed["tbs_cert_list"]["this_update"].native
        _ = parsed["tbs_cert_list"]["issuer"].chosen
        return True
    except PARSE_ERRORS:
        return False


class Certificate:
    """An immutable X.509 certificate. Build it with :meth:`from_der` or :func:`signagent.x509.load_certificate`."""

    __slots__ = ("_asn1", "_cache", "_der", "_extensions", "_issuer", "_subject")

    _asn1: x509.Certificate
    _der: bytes

    def __init__(self) -> None:
        raise TypeError("use Certificate.from_der() or signagent.x509.load_certificate()")

    @classmethod
    def from_der_cached(cls, der: bytes) -> Certificate:
        """As :meth:`from_der`, but DER seen recently gives the object parsed then (with everything it has
        computed since: thumbprints, identity). Token listings read the same certificates on every call."""
        return _from_der_cached(bytes(der))

    @classmethod
    def from_der(cls, der: bytes) -> Certificate:
        """Parse one DER certificate (nothing before or after it), checking its whole structure.

        Raises CertificateFormatError with a specific message for anything that is not a well-formed certificate.
        """
        der = bytes(der)
        try:
            check_certificate_der(der)
            asn1 = x509.Certificate.load(der, strict=True)
            _check_structure(asn1)
            # last, as the structure is known to be a certificate: asn1crypto's DER re-encoding must be the input
            # (junk inside an EXPLICIT wrapper, DEFAULT values encoded, SET OF out of order -- X.690 clause 11).
            outline = check_canonical(OpaqueCertificate, der, what="the certificate", error=CertificateNotDerError)
            _check_extension_values(outline)
            self = object.__new__(cls)
            self._asn1 = asn1
            self._der = der
            self._subject = DistinguishedName(asn1["tbs_certificate"]["subject"])
            self._issuer = DistinguishedName(asn1["tbs_certificate"]["issuer"])
            self._extensions: tuple[ExtensionInfo, ...] | None = None
            self._cache: dict[str, object] = {}
        except CertificateFormatError:
            raise
        except PARSE_ERRORS as exc:
            if _looks_like_crl(der):
                raise CertificateFormatError(situation="is_crl") from None
            raise CertificateFormatError(situation="malformed", reason=_one_line(exc)) from None
        return self

    @classmethod
    def from_asn1(cls, asn1: x509.Certificate) -> Certificate:
        """Wrap an asn1crypto certificate (re-checked from its DER)."""
        return cls.from_der(asn1.dump())

    # -- raw forms ------------------------------------------------------------------------------------------------

    @property
    def der(self) -> bytes:
        """The DER encoding."""
        return self._der

    @property
    def asn1(self) -> x509.Certificate:
        """The asn1crypto certificate (never call ``.native`` on it: some real extensions break asn1crypto)."""
        return self._asn1

    @property
    def tbs_der(self) -> bytes:
        """tbsCertificate exactly as received: the bytes the issuer signed (never a re-encoding)."""
        cached = self._cache.get("tbs")
        if cached is None:
            cached = self._cache["tbs"] = sequence_elements(self._der)[0]
        return cached  # type: ignore[return-value]

    @property
    def algorithms_match(self) -> bool:
        """Is the outer signatureAlgorithm the same AlgorithmIdentifier as tbsCertificate.signature, byte for
        byte (RFC 5280 section 4.1.1.2: the two fields "MUST contain the same algorithm identifier")?"""
        return certificate_signed_bytes(self._der) is not None

    @property
    def signature_value(self) -> bytes:
        """The signature BIT STRING contents (for GOST: s || r, big-endian halves)."""
        return self._asn1["signature_value"].native

    # -- names, serial, validity ----------------------------------------------------------------------------------

    @property
    def version(self) -> int:
        """1, 2 or 3."""
        return int(self._asn1["tbs_certificate"]["version"].native[1])

    @property
    def subject(self) -> DistinguishedName:
        """The subject name (``.get("inn")``, ``.to_dict()``, ``.display``)."""
        return self._subject

    @property
    def issuer(self) -> DistinguishedName:
        """The issuer name."""
        return self._issuer

    @property
    def serial_number(self) -> int:
        """The serial number as a Python int (certificate serials are up to 20 bytes: never a 64-bit int)."""
        return self._asn1["tbs_certificate"]["serial_number"].native

    @property
    def serial_hex(self) -> str:
        """The serial number in upper-case hex with an even number of digits, as CryptoPro shows it."""
        n = self.serial_number
        digits = format(abs(n), "X")
        if len(digits) % 2:
            digits = "0" + digits
        return ("-" if n < 0 else "") + digits

    @property
    def not_before(self) -> _dt.datetime:
        """Start of validity (timezone-aware, UTC)."""
        return self._asn1["tbs_certificate"]["validity"]["not_before"].native

    @property
    def not_after(self) -> _dt.datetime:
        """End of validity (timezone-aware, UTC)."""
        return self._asn1["tbs_certificate"]["validity"]["not_after"].native

    def is_valid_at(self, when: _dt.datetime) -> bool:
        """Is ``when`` (timezone-aware) within notBefore..notAfter inclusive?"""
        if when.tzinfo is None:
            raise InvalidInputError(situation="naive_time")
        return self.not_before <= when <= self.not_after

    # -- fingerprints ---------------------------------------------------------------------------------------------

    @property
    def sha1_thumbprint(self) -> str:
        """SHA-1 of the DER in upper-case hex: the "thumbprint" CryptoPro and Windows show."""
        return hashlib.sha1(self._der, usedforsecurity=False).hexdigest().upper()

    @property
    def sha256_fingerprint(self) -> str:
        """SHA-256 of the DER in lower-case hex (the trust-anchor manifest pins these)."""
        return hashlib.sha256(self._der).hexdigest()

    @property
    def streebog_thumbprint(self) -> str:
        """Streebog-256 of the DER in lower-case hex: the stable certificate id the other layers use."""
        cached = self._cache.get("streebog")
        if cached is None:
            cached = self._cache["streebog"] = streebog256(self._der).hexdigest()
        return cached  # type: ignore[return-value]

    # -- algorithms and key ---------------------------------------------------------------------------------------

    @staticmethod
    def _name_of(oid: str, asn1_name: object) -> AlgorithmName:
        name = _ALGORITHM_NAMES.get(oid) or (asn1_name if isinstance(asn1_name, str) else oid)
        return AlgorithmName(oid, name)

    @property
    def signature_algorithm(self) -> AlgorithmName:
        """The algorithm the issuer signed with (outer signatureAlgorithm)."""
        alg = self._asn1["signature_algorithm"]["algorithm"]
        return self._name_of(alg.dotted, alg.native)

    @property
    def public_key_info(self) -> keys.PublicKeyInfo:
        """The SubjectPublicKeyInfo (asn1crypto)."""
        return self._asn1["tbs_certificate"]["subject_public_key_info"]

    @property
    def public_key_algorithm(self) -> AlgorithmName:
        """The subject key's algorithm."""
        alg = self.public_key_info["algorithm"]["algorithm"]
        return self._name_of(alg.dotted, alg.native)

    @property
    def public_key_param_set(self) -> str | None:
        """The publicKeyParamSet OID of a GOST key, or None."""
        if self.public_key_algorithm.oid not in oids.GOST_PUBLIC_KEY_ALGORITHMS:
            return None
        try:
            params = self.public_key_info["algorithm"]["parameters"]
            return params["public_key_param_set"].dotted if params.native is not None else None
        except PARSE_ERRORS:
            return None

    @property
    def public_key_curve(self) -> Curve | None:
        """The GOST curve of the subject key, or None (not GOST, or an unknown parameter set)."""
        param_set = self.public_key_param_set
        if param_set is None:
            return None
        try:
            return curve(param_set)
        except SignAgentError:
            return None

    def public_key(self) -> PublicKey:
        """The subject's GOST public key. CertificateFormatError for a non-GOST or unreadable key."""
        try:
            return public_key_from_info(self.public_key_info)
        except SignAgentError as exc:
            raise CertificateFormatError(situation="unusable_key", error=exc.message, error_ru=exc.message_ru) from None

    # -- extensions -----------------------------------------------------------------------------------------------

    @property
    def extensions(self) -> tuple[ExtensionInfo, ...]:
        """Every extension, in order: oid, name, critical, JSON-ready value, parse error."""
        if self._extensions is None:
            # Framing was checked at load time, so only value errors remain, and parse_extensions records those.
            self._extensions = parse_extensions(self._asn1["tbs_certificate"]["extensions"])
        return self._extensions

    def extension(self, oid_or_name: str) -> ExtensionInfo | None:
        """The first extension with this OID or name, or None."""
        for ext in self.extensions:
            if oid_or_name in (ext.oid, ext.name):
                return ext
        return None

    def _parsed(self, oid: str) -> object | None:
        ext = self.extension(oid)
        return ext.parsed if ext is not None else None

    @property
    def unknown_critical_extensions(self) -> tuple[str, ...]:
        """OIDs of critical extensions this project does not process, or that cannot be decoded (RFC 5280 4.2)."""
        return tuple(e.oid for e in self.extensions if e.critical and (not e.known or e.error is not None))

    @property
    def key_usage(self) -> frozenset[str] | None:
        """keyUsage bits by name (``digital_signature``, ``non_repudiation``, ``key_cert_sign``...), None if absent."""
        parsed = self._parsed(oids.EXT_KEY_USAGE)
        return frozenset(parsed.native) if parsed is not None else None

    @property
    def extended_key_usage(self) -> tuple[str, ...] | None:
        """extKeyUsage purposes as dotted OIDs, None if absent."""
        parsed = self._parsed(oids.EXT_EXTENDED_KEY_USAGE)
        return tuple(p.dotted for p in parsed) if parsed is not None else None

    @property
    def basic_constraints(self) -> BasicConstraints | None:
        """basicConstraints, None if absent."""
        parsed = self._parsed(oids.EXT_BASIC_CONSTRAINTS)
        if parsed is None:
            return None
        return BasicConstraints(bool(parsed["ca"].native), parsed["path_len_constraint"].native)

    @property
    def is_ca(self) -> bool:
        """True when basicConstraints says cA=TRUE."""
        bc = self.basic_constraints
        return bool(bc and bc.is_ca)

    @property
    def subject_key_identifier(self) -> bytes | None:
        """subjectKeyIdentifier, None if absent."""
        parsed = self._parsed(oids.EXT_SUBJECT_KEY_IDENTIFIER)
        return parsed.native if parsed is not None else None

    @property
    def authority_key_identifier(self) -> bytes | None:
        """The keyIdentifier of authorityKeyIdentifier, None if absent."""
        parsed = self._parsed(oids.EXT_AUTHORITY_KEY_IDENTIFIER)
        return parsed["key_identifier"].native if parsed is not None else None

    @property
    def authority_cert_serial(self) -> int | None:
        """authorityKeyIdentifier.authorityCertSerialNumber (CryptoPro CAs fill it), None if absent."""
        parsed = self._parsed(oids.EXT_AUTHORITY_KEY_IDENTIFIER)
        return parsed["authority_cert_serial_number"].native if parsed is not None else None

    @property
    def crl_distribution_urls(self) -> tuple[str, ...]:
        """URLs of the cRLDistributionPoints full names (URI general names only)."""
        parsed = self._parsed(oids.EXT_CRL_DISTRIBUTION_POINTS)
        urls: list[str] = []
        for point in parsed or ():
            name = point["distribution_point"]
            # distributionPoint is OPTIONAL (RFC 5280 4.2.1.13): a point may name only its cRLIssuer
            if isinstance(name, core.Void) or name.name != "full_name":
                continue
            urls.extend(g.native for g in name.chosen if g.name == "uniform_resource_identifier")
        return tuple(urls)

    def _access_urls(self, method: str) -> tuple[str, ...]:
        parsed = self._parsed(oids.EXT_AUTHORITY_INFO_ACCESS)
        return tuple(
            d["access_location"].native
            for d in parsed or ()
            if d["access_method"].native == method and d["access_location"].name == "uniform_resource_identifier"
        )

    @property
    def ocsp_urls(self) -> tuple[str, ...]:
        """OCSP responder URLs from authorityInfoAccess."""
        return self._access_urls("ocsp")

    @property
    def ca_issuers_urls(self) -> tuple[str, ...]:
        """caIssuers URLs from authorityInfoAccess (where the issuer's certificate can be downloaded)."""
        return self._access_urls("ca_issuers")

    @property
    def policy_oids(self) -> tuple[str, ...]:
        """certificatePolicies identifiers as dotted OIDs (anyPolicy is 2.5.29.32.0)."""
        parsed = self._parsed(oids.EXT_CERTIFICATE_POLICIES)
        return tuple(p["policy_identifier"].dotted for p in parsed or ())

    @property
    def private_key_usage_period(self) -> KeyUsagePeriod | None:
        """privateKeyUsagePeriod, None if absent."""
        parsed = self._parsed(oids.EXT_PRIVATE_KEY_USAGE_PERIOD)
        if parsed is None:
            return None
        return KeyUsagePeriod(parsed["not_before"].native, parsed["not_after"].native)

    @property
    def subject_sign_tool(self) -> str | None:
        """subjectSignTool (1.2.643.100.111): the owner's signature tool, None if absent."""
        parsed = self._parsed(oids.SUBJECT_SIGN_TOOL)
        return parsed.native if parsed is not None else None

    @property
    def issuer_sign_tool(self) -> IssuerSignTool | None:
        """issuerSignTool (1.2.643.100.112): the CA's tools and their conformity certificates, None if absent."""
        parsed = self._parsed(oids.ISSUER_SIGN_TOOL)
        if parsed is None:
            return None
        from .identity import IssuerSignTool

        return IssuerSignTool(parsed["sign_tool"].native, parsed["ca_tool"].native,
                              parsed["sign_tool_cert"].native, parsed["ca_tool_cert"].native)

    @property
    def identification_kind(self) -> int | None:
        """identificationKind (1.2.643.100.114): how the owner was identified (0-3), None if absent."""
        parsed = self._parsed(oids.IDENTIFICATION_KIND)
        return parsed.native if parsed is not None else None

    # -- signatures -----------------------------------------------------------------------------------------------

    @property
    def is_self_issued(self) -> bool:
        """Subject and issuer names are equal (RFC 5280 sections 3.2 and 6.1; compared as section 7.1 says), whatever
        key signed it (a CA's key-rollover certificate is self-issued, signed by its other key)."""
        return self._subject == self._issuer

    def is_signed_by(self, issuer: Certificate) -> bool:
        """Does ``issuer``'s public key verify this certificate's signature?

        False when the outer signatureAlgorithm differs from the one inside tbsCertificate (RFC 5280 4.1.1.2): the
        issuer's signature covers only the inner one. Raises UnknownAlgorithmError for a non-GOST algorithm or an
        algorithm that does not fit the issuer's key.
        """
        if not self.algorithms_match:
            return False
        return verify_signature(self.tbs_der, self._asn1["signature_algorithm"], self.signature_value,
                                issuer.public_key_info)

    @property
    def is_self_signed(self) -> bool:
        """Self-issued *and* its signature verifies with its own key over tbsCertificate as received (RFC 5280 6.2);
        False when the algorithm or key cannot be used. The one notion the trust layer uses (roots, path ends)."""
        cached = self._cache.get("self_signed")
        if cached is None:
            try:
                cached = self.is_self_issued and self.is_signed_by(self)
            except SignAgentError:
                cached = False
            self._cache["self_signed"] = cached
        return bool(cached)

    # -- qualified identity and problems --------------------------------------------------------------------------

    @property
    def identity(self) -> QualifiedIdentity:
        """The qualified-certificate identity of the subject (ФИО, ОГРН, ИНН, СНИЛС, owner kind, problems)."""
        cached = self._cache.get("identity")
        if cached is None:
            from .identity import extract_identity

            cached = self._cache["identity"] = extract_identity(self)
        return cached  # type: ignore[return-value]

    @property
    def problems(self) -> tuple[Reason, ...]:
        """Everything flagged (never fatal) about this certificate, as reasons with the ``field`` they concern."""
        found: list[Reason] = list(self.identity.problems)
        seen: set[str] = set()
        for ext in self.extensions:
            if ext.oid in seen:
                found.append(Reason("extension_duplicate",
                                    f"extension {ext.name} appears more than once (RFC 5280 section 4.2)",
                                    f"расширение {ext.name} встречается более одного раза", field=ext.oid))
            seen.add(ext.oid)
            if ext.error is not None:
                found.append(Reason("extension_malformed", f"extension {ext.name}: {ext.error}",
                                    f"расширение {ext.name} не соответствует своей ASN.1-спецификации",
                                    field=ext.oid))
        for oid in self.unknown_critical_extensions:
            found.append(Reason("unknown_critical_extension", f"critical extension {oid} is not understood",
                                f"критическое расширение {oid} не поддерживается", field=oid))
        inner = self._asn1["tbs_certificate"]["signature"]["algorithm"].dotted
        if not self.algorithms_match:
            found.append(Reason("signature_algorithm_mismatch",
                                f"tbsCertificate names {inner} but the certificate is signed with "
                                f"{self.signature_algorithm.oid} or other parameters (RFC 5280 section 4.1.1.2)",
                                "алгоритм подписи в tbsCertificate не совпадает с алгоритмом подписи сертификата",
                                field="signature"))
        return tuple(found)

    # -- identity of the object -----------------------------------------------------------------------------------

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Certificate):
            return NotImplemented
        return self._der == other._der

    def __hash__(self) -> int:
        return hash(self._der)

    def __repr__(self) -> str:
        return f"Certificate(subject={self._subject.display!r}, serial={self.serial_hex})"


@functools.lru_cache(maxsize=512)
def _from_der_cached(der: bytes) -> Certificate:
    # Failures are not cached (lru_cache keeps results only); 512 certificates of a few kB each at most.
    return Certificate.from_der(der)

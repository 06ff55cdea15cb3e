"""Certification path building with several candidate issuers (RFC 4158 in spirit, RFC 5280 section 6 input).

Every path from the target certificate up to a trust anchor is found, not just the first: in the state PKI the
2022 "Минцифры России" root and the cross-certificate issued to the same key by the 2021 "Минкомсвязь России" root
have the same subject and key identifier, so a CA under the 2022 key has two valid paths; and the 2018 and 2021
roots share a subject but not a key. A candidate issuer of a certificate is any known certificate whose subject
equals the certificate's issuer name (RFC 5280 section 7.1 comparison, as asn1crypto implements it) and whose
subjectKeyIdentifier does not contradict the authorityKeyIdentifier. The AKI's authorityCertIssuer/serial only
orders candidates: it names one certificate of the key, while a cross-certificate of the same key is as good.

pyhanko-certvalidator's own builder stops at the first trust anchor and skips certificates whose name and key
equal a trust anchor's (the cross-certificate), so it finds only one of the two paths; hence this module.

A path ends at a trust anchor (``anchor``), at a self-signed certificate that is not one (``untrusted_root``), or
at a certificate whose issuer is unknown (``issuer_not_found``).

**Anchors are exact**: a path ends at a trust anchor only on a certificate byte-identical to one the caller
trusts. A certificate with an anchor's name and key but other bytes -- a re-issue, or a copy someone edited
(validity extended, serial changed) while keeping the original signature -- is just another certificate: when its
own signature does not verify with its own key it is not a root at all, and its issuer is looked for like any
certificate's (the anchor, by name), so the signature check on that step rejects the edit. This is what OpenSSL
does too (X509_verify_cert checks every certificate's signature up to a certificate of the trusted store).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

from asn1crypto import x509

from signagent.asn1.strict_der import received_encoding
from signagent.errors import SignAgentError
from signagent.x509.signature import certificate_signed_bytes, verify_signature

__all__ = ["CandidatePath", "CertificatePool", "build_paths", "is_self_signed", "name_key", "verifies_itself"]

MAX_DEPTH = 10
MAX_PATHS = 16

End = Literal["anchor", "untrusted_root", "issuer_not_found"]


@dataclass(frozen=True)
class CandidatePath:
    """Certificates from the target (first) towards the anchor (last) and how the path ends."""

    certificates: tuple[x509.Certificate, ...]
    end: End


_NAME_KEYS: dict[bytes, str] = {}
_rdn_sequence_hashable = x509.RDNSequence.hashable.fget  # type: ignore[attr-defined]


def _sequence_key(sequence: x509.RDNSequence) -> str:
    der = sequence.dump()
    found = _NAME_KEYS.get(der)
    if found is None:
        if len(_NAME_KEYS) > 8192:
            _NAME_KEYS.clear()
        found = _NAME_KEYS[der] = _rdn_sequence_hashable(sequence)
    return found


def _memoise_name_comparison() -> None:
    """Make asn1crypto's RFC 5280 section 7.1 name comparison remember its results by DER.

    asn1crypto prepares every string of both names (RFC 4518 LDAP string preparation) on *each* comparison, and
    pyhanko-certvalidator compares names many times per path: that was a third of a validation's time. The
    comparison form of a name depends only on its DER, so memoising it by DER changes no result; equality of two
    sequences is equality of their comparison forms (asn1crypto joins the RDN forms with a separator that string
    preparation never leaves in a value).
    """
    if getattr(x509.RDNSequence, "_signagent_memoised", False):
        return

    def equal(self: x509.RDNSequence, other: object) -> bool:
        return isinstance(other, x509.RDNSequence) and _sequence_key(self) == _sequence_key(other)

    x509.RDNSequence.hashable = property(_sequence_key, doc=x509.RDNSequence.hashable.__doc__)  # type: ignore
    x509.RDNSequence.__eq__ = equal  # type: ignore[method-assign,assignment]
    x509.RDNSequence.__ne__ = lambda self, other: not equal(self, other)  # type: ignore[method-assign,assignment]
    x509.RDNSequence._signagent_memoised = True  # type: ignore[attr-defined]


_memoise_name_comparison()


_PARSE_ERRORS = (ValueError, TypeError, KeyError, IndexError, OverflowError, AttributeError, RecursionError)


def name_key(name: x509.Name) -> str:
    """The RFC 5280 section 7.1 comparison form of a name (asn1crypto's ``hashable``), remembered by DER.

    A name whose strings cannot be prepared (a hostile value asn1crypto cannot decode) is compared by its DER:
    it then equals only itself, byte for byte, which is all RFC 5280 section 7.1 requires of a binary match."""
    try:
        return _sequence_key(name.chosen)
    except _PARSE_ERRORS:
        return "der:" + name.dump().hex()


def _aki(cert: x509.Certificate) -> bytes | None:
    """authorityKeyIdentifier.keyIdentifier, None when absent or unreadable (then it constrains nothing)."""
    try:
        return cert.authority_key_identifier
    except _PARSE_ERRORS:
        return None


def _ski(cert: x509.Certificate) -> bytes | None:
    try:
        return cert.key_identifier
    except _PARSE_ERRORS:
        return None


def _issuer_serial(cert: x509.Certificate) -> object:
    try:
        return cert.authority_issuer_serial
    except _PARSE_ERRORS:
        return None


def _own_issuer_serial(cert: x509.Certificate) -> object:
    try:
        return cert.issuer_serial
    except _PARSE_ERRORS:
        return None


def is_self_signed(cert: x509.Certificate) -> bool:
    """Self-issued (subject = issuer) and, when both identifiers are present, AKI = SKI.

    This looks at names only; :func:`verifies_itself` adds the signature."""
    if name_key(cert.subject) != name_key(cert.issuer):
        return False
    aki, ski = _aki(cert), _ski(cert)
    return not (aki and ski and aki != ski)


_SELF_VERDICTS: dict[bytes, bool] = {}


def verifies_itself(cert: x509.Certificate) -> bool:
    """Self-signed by names (:func:`is_self_signed`) and its signature verifies with its own key, over the TBS as
    received. A non-GOST self-signed certificate (a foreign root) counts as self-signed: this module does not judge
    foreign algorithms, the validator does. Verdicts are remembered by DER."""
    if not is_self_signed(cert):
        return False
    der = received_encoding(cert)
    verdict = _SELF_VERDICTS.get(der)
    if verdict is None:
        signed = certificate_signed_bytes(der)
        try:
            verdict = signed is not None and verify_signature(
                signed, cert["signature_algorithm"], cert["signature_value"].native, cert.public_key)
        except SignAgentError as exc:
            # UnknownAlgorithmError for a foreign (RSA, ECDSA...) root: leave it to the validator's policy.
            verdict = signed is not None and exc.code == "unknown_algorithm"
        except _PARSE_ERRORS:
            verdict = False
        if len(_SELF_VERDICTS) > 4096:
            _SELF_VERDICTS.clear()
        _SELF_VERDICTS[der] = verdict
    return verdict


class CertificatePool:
    """Known certificates by subject, with the trust anchors marked."""

    def __init__(self, anchors: Iterable[x509.Certificate], others: Iterable[x509.Certificate] = ()) -> None:
        self._by_subject: dict[object, list[x509.Certificate]] = {}
        self._seen: set[bytes] = set()
        self._anchor_der: set[bytes] = set()
        for cert in anchors:
            self._anchor_der.add(received_encoding(cert))
            self.add(cert)
        for cert in others:
            self.add(cert)

    def add(self, cert: x509.Certificate) -> bool:
        """Add a certificate (once); True if it was new."""
        der = received_encoding(cert)
        if der in self._seen:
            return False
        self._seen.add(der)
        self._by_subject.setdefault(name_key(cert.subject), []).append(cert)
        return True

    def is_anchor(self, cert: x509.Certificate) -> bool:
        """A trust anchor: byte for byte one of the given roots. Nothing else -- not a re-issue with the same
        name and key, not a cross-certificate (which stays an intermediate, so the path through it is built too).
        """
        return received_encoding(cert) in self._anchor_der

    def issuers_of(self, cert: x509.Certificate) -> list[x509.Certificate]:
        """Candidate issuers: subject = issuer name, key identifier not contradicting; preferred ones first."""
        aki = _aki(cert)
        named = _issuer_serial(cert)
        found = []
        for candidate in self._by_subject.get(name_key(cert.issuer), ()):
            ski = _ski(candidate)
            if aki and ski and aki != ski:
                continue
            found.append(candidate)
        # anchors first (shortest paths), then the certificate the AKI names, then the rest in the order given
        found.sort(key=lambda c: (not self.is_anchor(c), not (named and _own_issuer_serial(c) == named)))
        return found


def build_paths(cert: x509.Certificate, pool: CertificatePool, *,
                fetch_issuers: Callable[[x509.Certificate], list[x509.Certificate]] | None = None,
                max_depth: int = MAX_DEPTH, max_paths: int = MAX_PATHS) -> list[CandidatePath]:
    """Every path from ``cert`` to a trust anchor of ``pool`` (depth-first, at most ``max_paths``), followed by
    the dead ends (untrusted self-signed roots, missing issuers) met on the way.

    ``fetch_issuers(c)`` is asked for more candidates when the pool has none for ``c`` (AIA caIssuers); what it
    returns is added to the pool.
    """
    complete: list[CandidatePath] = []
    dead_ends: list[CandidatePath] = []

    def walk(path: tuple[x509.Certificate, ...]) -> None:
        if len(complete) >= max_paths:
            return
        head = path[-1]
        if pool.is_anchor(head):
            complete.append(CandidatePath(path, "anchor"))
            return
        if verifies_itself(head):
            dead_ends.append(CandidatePath(path, "untrusted_root"))
            return
        if len(path) >= max_depth:
            dead_ends.append(CandidatePath(path, "issuer_not_found"))
            return
        on_path = {received_encoding(c) for c in path}
        candidates = [c for c in pool.issuers_of(head) if received_encoding(c) not in on_path]
        if not candidates and fetch_issuers is not None:
            for fetched in fetch_issuers(head):
                pool.add(fetched)
            candidates = [c for c in pool.issuers_of(head) if received_encoding(c) not in on_path]
        if not candidates:
            # a self-issued certificate whose signature fails, with no other issuer: still an untrusted root
            dead_ends.append(CandidatePath(path, "untrusted_root" if is_self_signed(head) else "issuer_not_found"))
            return
        for candidate in candidates:
            walk((*path, candidate))

    walk((cert,))
    return complete + dead_ends

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
at a certificate whose issuer is unknown (``issuer_not_found``). "Self-signed" is
:attr:`signagent.x509.Certificate.is_self_signed`: self-issued (RFC 5280 section 3.2: subject = issuer) *and* its
signature verifies with its own key over the bytes received.

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

from signagent.asn1.failures import PARSE_ERRORS
from signagent.x509 import Certificate

__all__ = ["CandidatePath", "CertificatePool", "build_paths", "name_key"]

MAX_DEPTH = 10
MAX_PATHS = 16

End = Literal["anchor", "untrusted_root", "issuer_not_found"]


@dataclass(frozen=True)
class CandidatePath:
    """Certificates from the target (first) towards the anchor (last) and how the path ends."""

    certificates: tuple[Certificate, ...]
    end: End


_NAME_KEYS: dict[bytes, str] = {}
_rdn_sequence_hashable = x509.RDNSequence.hashable.fget  # type: ignore[attr-defined]


def _sequence_key(sequence: x509.RDNSequence) -> str:
    """The comparison form of a name, remembered by DER. A name whose strings cannot be prepared (a hostile value
    asn1crypto cannot decode, met by any name comparison once :func:`_memoise_name_comparison` has run) is
    compared by its DER: it then equals only itself, byte for byte, which is all RFC 5280 section 7.1 requires of
    a binary match."""
    der = sequence.dump()
    found = _NAME_KEYS.get(der)
    if found is None:
        if len(_NAME_KEYS) > 8192:
            _NAME_KEYS.clear()
        try:
            found = _rdn_sequence_hashable(sequence)
        except PARSE_ERRORS:
            found = "der:" + der.hex()
        _NAME_KEYS[der] = found
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


def name_key(name: x509.Name) -> str:
    """The RFC 5280 section 7.1 comparison form of a name (asn1crypto's ``hashable``), remembered by DER (a name
    that cannot be prepared compares by its DER, see :func:`_sequence_key`)."""
    try:
        return _sequence_key(name.chosen)
    except PARSE_ERRORS:  # not even an RDNSequence to walk
        return "der:" + name.dump().hex()


def _aki(cert: Certificate) -> bytes | None:
    """authorityKeyIdentifier.keyIdentifier, None when absent or unreadable (then it constrains nothing)."""
    try:
        return cert.asn1.authority_key_identifier
    except PARSE_ERRORS:
        return None


def _ski(cert: Certificate) -> bytes | None:
    try:
        return cert.asn1.key_identifier
    except PARSE_ERRORS:
        return None


def _issuer_serial(cert: Certificate) -> object:
    try:
        return cert.asn1.authority_issuer_serial
    except PARSE_ERRORS:
        return None


def _own_issuer_serial(cert: Certificate) -> object:
    try:
        return cert.asn1.issuer_serial
    except PARSE_ERRORS:
        return None


def _key_ids_agree(cert: Certificate, candidate: Certificate) -> bool:
    """Does ``candidate``'s subjectKeyIdentifier not contradict ``cert``'s authorityKeyIdentifier (either absent
    constrains nothing; RFC 5280 section 4.2.1.1)?"""
    aki, ski = _aki(cert), _ski(candidate)
    return not (aki and ski and aki != ski)


class CertificatePool:
    """Known certificates by subject, with the trust anchors marked."""

    def __init__(self, anchors: Iterable[Certificate], others: Iterable[Certificate] = ()) -> None:
        self._by_subject: dict[object, list[Certificate]] = {}
        self._seen: set[bytes] = set()
        self._anchor_der: set[bytes] = set()
        for cert in anchors:
            self._anchor_der.add(cert.der)
            self.add(cert)
        for cert in others:
            self.add(cert)

    def add(self, cert: Certificate) -> bool:
        """Add a certificate (once); True if it was new."""
        if cert.der in self._seen:
            return False
        self._seen.add(cert.der)
        self._by_subject.setdefault(name_key(cert.asn1.subject), []).append(cert)
        return True

    def is_anchor(self, cert: Certificate) -> bool:
        """A trust anchor: byte for byte one of the given roots. Nothing else -- not a re-issue with the same
        name and key, not a cross-certificate (which stays an intermediate, so the path through it is built too).
        """
        return cert.der in self._anchor_der

    def issuers_of(self, cert: Certificate) -> list[Certificate]:
        """Candidate issuers: subject = issuer name, key identifier not contradicting; preferred ones first."""
        named = _issuer_serial(cert)
        found = [candidate for candidate in self._by_subject.get(name_key(cert.asn1.issuer), ())
                 if _key_ids_agree(cert, candidate)]
        # anchors first (shortest paths), then the certificate the AKI names, then the rest in the order given
        found.sort(key=lambda c: (not self.is_anchor(c), not (named and _own_issuer_serial(c) == named)))
        return found


def build_paths(cert: Certificate, pool: CertificatePool, *,
                fetch_issuers: Callable[[Certificate], list[Certificate]] | None = None,
                max_depth: int = MAX_DEPTH, max_paths: int = MAX_PATHS) -> list[CandidatePath]:
    """Every path from ``cert`` to a trust anchor of ``pool`` (depth-first, at most ``max_paths``), followed by
    the dead ends (untrusted self-signed roots, missing issuers) met on the way.

    ``fetch_issuers(c)`` is asked for more candidates when the pool has none for ``c`` (AIA caIssuers); what it
    returns is added to the pool.
    """
    complete: list[CandidatePath] = []
    dead_ends: list[CandidatePath] = []

    def walk(path: tuple[Certificate, ...]) -> None:
        if len(complete) >= max_paths:
            return
        head = path[-1]
        if pool.is_anchor(head):
            complete.append(CandidatePath(path, "anchor"))
            return
        if head.is_self_signed:  # a root, but not one the caller trusts
            dead_ends.append(CandidatePath(path, "untrusted_root"))
            return
        if len(path) >= max_depth:
            dead_ends.append(CandidatePath(path, "issuer_not_found"))
            return
        on_path = {c.der for c in path}
        candidates = [c for c in pool.issuers_of(head) if c.der not in on_path]
        if not candidates and fetch_issuers is not None:
            for fetched in fetch_issuers(head):
                pool.add(fetched)
            candidates = [c for c in pool.issuers_of(head) if c.der not in on_path]
        if not candidates:
            # a self-issued certificate whose signature fails, with no other issuer: still an untrusted root -- unless
            # its key identifiers say another key signed it (a key-rollover certificate whose issuer is missing)
            claims_root = head.is_self_issued and _key_ids_agree(head, head)
            dead_ends.append(CandidatePath(path, "untrusted_root" if claims_root else "issuer_not_found"))
            return
        for candidate in candidates:
            walk((*path, candidate))

    walk((cert,))
    return complete + dead_ends

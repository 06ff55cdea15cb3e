"""Report documents for people and programs: a report's ``to_dict()`` plus the owner's short name of each
certificate it names.

A person reads "Иванов Иван Иванович", not the whole distinguished name (which for qualified certificates mixes
multi-valued and single-valued parts); a program should not parse a human-friendly DN to get it. So every
certificate a document describes carries ``owner_name``: the ФИО of the qualified identity when the certificate
has one (surname and given names, or a CN holding them), else its CN, else the subject as displayed.

Exports: owner_name, validation_document, verification_document.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from asn1crypto import x509 as asn1_x509

from signagent.errors import SignAgentError
from signagent.x509 import Certificate

if TYPE_CHECKING:  # annotations only: `cert show` describes owners without loading the report modules
    from signagent.cms.report import CmsVerificationReport
    from signagent.trust.report import ValidationReport

__all__ = ["owner_name", "validation_document", "verification_document"]


def owner_name(cert: Certificate) -> str:
    """The owner's short name: ФИО, else CN, else the subject as displayed."""
    try:
        identity = cert.identity
        name = identity.full_name or identity.common_name
    except SignAgentError:  # an identity that cannot be read still has a subject
        name = None
    return name or cert.subject.display


def _sha1(item: object) -> str | None:
    # the thumbprint reports use: SHA-1 of the encoding received, upper-case hex
    if isinstance(item, Certificate):
        return item.sha1_thumbprint.replace(":", "").upper()
    if isinstance(item, asn1_x509.Certificate):
        return hashlib.sha1(item.dump()).hexdigest().upper()  # noqa: S324  (a thumbprint, not security)
    return None


def _names_by_thumbprint(known: Iterable[object], wanted: set[str]) -> dict[str, str]:
    """Owner names of the ``wanted`` thumbprints among ``known`` certificates (only those are parsed)."""
    names: dict[str, str] = {}
    for item in known:
        sha1 = _sha1(item)
        if sha1 is None or sha1 not in wanted or sha1 in names:
            continue
        try:
            cert = item if isinstance(item, Certificate) else Certificate.from_asn1(item)  # type: ignore[arg-type]
            names[sha1] = owner_name(cert)
        except SignAgentError:
            continue
    return names


def validation_document(report: ValidationReport, known: Iterable[object]) -> dict[str, Any]:
    """``report.to_dict()`` with ``owner_name`` beside the ``subject`` of each chain certificate and of each reason
    or warning naming one; ``known`` are the certificates the validation was given (the chain comes from them).
    A certificate not among them (fetched from the network) keeps its subject as its owner_name."""
    doc = report.to_dict()
    entries: list[dict[str, Any]] = [*doc["chain"], *doc["reasons"], *doc["warnings"]]
    wanted = {str(e.get("sha1") or e.get("certificate") or "").upper() for e in entries} - {""}
    names = _names_by_thumbprint(known, wanted)
    for entry in entries:
        if not entry.get("subject"):
            continue
        sha1 = str(entry.get("sha1") or entry.get("certificate") or "").upper()
        entry["owner_name"] = names.get(sha1, entry["subject"])
    return doc


def verification_document(report: CmsVerificationReport) -> dict[str, Any]:
    """``report.to_dict()`` with ``owner_name`` in each signer's certificate description."""
    doc = report.to_dict()
    by_index = {s.index: s for s in report.signers}
    for signer in doc["signers"]:
        described = signer.get("signer")
        found = by_index.get(signer["index"])
        if described is not None and found is not None and found.certificate is not None:
            described["owner_name"] = owner_name(found.certificate)
    return doc

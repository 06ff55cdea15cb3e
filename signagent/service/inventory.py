"""The certificate inventory: one view of every certificate on every token, key file directory and card.

Each entry is named by its Streebog-256 thumbprint (``cert_id``), so a page can refer to it across calls, and
carries where it lives, the owner's qualified identity, its validity, whether its private key is present, the chain
status from :mod:`signagent.trust` and warnings 30 and 14 days before the certificate or its private key usage
period (privateKeyUsagePeriod, RFC 5280 4.2.1 / qualified-profile.md 2.2) ends.

The sources are found by :mod:`signagent.tokens.discovery` (PKCS#11 tokens, PKCS#15 cards over PC/SC, the key
directory), wired by :mod:`signagent.service.sources`; each says its ``kind`` (pkcs11, pcsc, file).

A source that fails (a token pulled out, a module that does not load, a card that is not PKCS#15 or is busy) is
reported in ``Inventory.errors``; the other sources are still listed. No PC/SC service at all (pcscd not running,
pyscard missing) is not an error: ``Inventory.pcsc`` says so.

Exports: build_inventory, collect_inventory, Inventory, InventoryEntry, WARNING_DAYS.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from signagent.errors import SignAgentError
from signagent.tokens.discovery import PcscStatus, SourceError
from signagent.tokens.protocol import Token, TokenCertificate
from signagent.x509 import Certificate

from .sources import discover_sources

__all__ = ["WARNING_DAYS", "Inventory", "InventoryEntry", "build_inventory", "collect_inventory"]

#: Days before an end date at which a warning is given (issue #6: 30 and 14).
WARNING_DAYS = (30, 14)
#: Width of the time bucket the chain status is cached for: a status may be an hour old, not more.
_BUCKET_SECONDS = 3600
_CACHE_LIMIT = 1024
_chain_cache: OrderedDict[tuple[Any, ...], tuple[str, tuple[str, ...]]] = OrderedDict()
_chain_lock = threading.Lock()


@dataclass(frozen=True)
class InventoryEntry:
    """One certificate of the inventory."""

    id: str
    kind: str
    token_label: str
    token_serial: str
    token_model: str
    label: str
    certificate: Certificate
    identity: dict[str, object]
    not_before: datetime
    not_after: datetime
    days_left: int
    private_key_not_after: datetime | None
    has_private_key: bool
    chain_status: str
    chain_reasons: tuple[str, ...]
    warnings: tuple[dict[str, object], ...]
    token_location: str = ""

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form (dates ISO-8601). ``source.location`` is the module path, reader name or directory;
        ``source.reader`` the reader name for a card read over PC/SC, else None."""
        return {
            "id": self.id,
            "source": {"kind": self.kind, "label": self.token_label, "serial": self.token_serial,
                       "model": self.token_model, "location": self.token_location,
                       "reader": self.token_location if self.kind == "pcsc" else None},
            "label": self.label,
            "subject": str(self.certificate.subject),
            "issuer": str(self.certificate.issuer),
            "serial_number": self.certificate.serial_hex,
            "identity": self.identity,
            "not_before": self.not_before.isoformat(),
            "not_after": self.not_after.isoformat(),
            "days_left": self.days_left,
            "private_key_not_after": self.private_key_not_after.isoformat() if self.private_key_not_after else None,
            "has_private_key": self.has_private_key,
            "chain": {"status": self.chain_status, "reasons": list(self.chain_reasons)},
            "warnings": list(self.warnings),
        }


@dataclass(frozen=True)
class Inventory:
    """Every certificate found (``entries``) and the sources that failed (``errors``), at ``generated_at``."""

    entries: tuple[InventoryEntry, ...]
    errors: tuple[SourceError, ...]
    generated_at: datetime
    extra_errors: tuple[SignAgentError, ...] = field(default=())
    pcsc: PcscStatus | None = None

    def entry(self, cert_id: str) -> InventoryEntry | None:
        """The entry with this id (case-insensitive), or None."""
        wanted = cert_id.lower()
        return next((e for e in self.entries if e.id == wanted), None)

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form: ``generated_at``, ``certificates``, ``errors`` and ``pcsc`` (``{"available", "error"}``,
        None when the PC/SC readers were not looked at)."""
        errors = [e.to_dict() for e in self.errors]
        errors += [{"source": None, "error": e.to_dict()} for e in self.extra_errors]
        return {"generated_at": self.generated_at.isoformat(),
                "certificates": [e.to_dict() for e in self.entries], "errors": errors,
                "pcsc": self.pcsc.to_dict() if self.pcsc else None}


def _kind_of(source: Token) -> str:
    """The source's kind as the inventory shows it (the Token protocol's ``kind``)."""
    return source.kind


def _utc(moment: datetime | None) -> datetime:
    if moment is None:
        return datetime.now(UTC)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _days_left(end: datetime, now: datetime) -> int:
    """Whole days from ``now`` to ``end`` (floor: 0 on the last day, negative once past)."""
    return (end - now) // _ONE_DAY


_ONE_DAY = datetime(2000, 1, 2, tzinfo=UTC) - datetime(2000, 1, 1, tzinfo=UTC)


def _warnings(certificate: Certificate, key_end: datetime | None, now: datetime) -> list[dict[str, object]]:
    """One warning per end date within the largest threshold it has crossed (or past)."""
    out: list[dict[str, object]] = []
    for what, end, code, en, ru in (
        ("certificate", _utc(certificate.not_after), "certificate_expires", "the certificate",
         "сертификат"),
        ("private_key", key_end, "private_key_usage_ends", "the private key usage period",
         "срок действия закрытого ключа"),
    ):
        if end is None:
            continue
        days = _days_left(end, now)
        if days < 0:
            out.append({"code": f"{code}_past", "subject": what, "days_left": days, "threshold": 0,
                        "message": f"{en} ended on {end.date().isoformat()}",
                        "message_ru": f"{ru}: срок истёк {end.date().isoformat()}"})
            continue
        crossed = [t for t in WARNING_DAYS if days < t]
        if crossed:
            threshold = min(crossed)
            out.append({"code": f"{code}_in_{threshold}_days", "subject": what, "days_left": days,
                        "threshold": threshold,
                        "message": f"{en} ends in {days} days ({end.date().isoformat()})",
                        "message_ru": f"{ru}: истекает через {days} дн. ({end.date().isoformat()})"})
    return out


def _input_key(item: object) -> str:
    if isinstance(item, Certificate):
        data = item.der
    elif isinstance(item, bytes | bytearray):
        data = bytes(item)
    elif hasattr(item, "dump"):
        data = item.dump()
    else:
        data = repr(item).encode()
    return hashlib.sha256(data).hexdigest()


def _chain_status(certificate: Certificate, cert_id: str, now: datetime, roots: list[object],
                  intermediates: list[object], crls: list[object], offline: bool,
                  revocation: str) -> tuple[str, tuple[str, ...]]:
    """The validation status and reason codes, cached per certificate, inputs and hour."""
    if not roots:
        return "unknown", ()
    key = (cert_id, int(now.timestamp()) // _BUCKET_SECONDS, frozenset(map(_input_key, roots)),
           frozenset(map(_input_key, intermediates)), frozenset(map(_input_key, crls)), offline, revocation)
    with _chain_lock:
        hit = _chain_cache.get(key)
        if hit is not None:
            _chain_cache.move_to_end(key)
            return hit
    from signagent.trust.validation import validate  # pyhanko: paid only when there is something to validate

    try:
        report = validate(certificate, trust_roots=roots, intermediates=intermediates, crls=crls, at=now,
                          offline=offline, revocation=revocation)  # type: ignore[arg-type]
        result = (str(report.status), report.codes)
    except SignAgentError as exc:
        result = ("indeterminate", (exc.code,))
    with _chain_lock:
        _chain_cache[key] = result
        while len(_chain_cache) > _CACHE_LIMIT:
            _chain_cache.popitem(last=False)
    return result


def _entry(source: Token, kind: str, location: str, found: TokenCertificate, now: datetime,
           validation: dict[str, Any]) -> InventoryEntry:
    cert = found.certificate
    identity = cert.identity
    key_end = identity.private_key_not_after
    key_end = _utc(key_end) if key_end is not None else None
    status, reasons = _chain_status(cert, found.cert_id, now, **validation)
    return InventoryEntry(
        id=found.cert_id, kind=kind, token_label=source.label, token_serial=source.serial,
        token_model=source.model, label=found.label, certificate=cert, identity=identity.to_dict(),
        not_before=_utc(cert.not_before), not_after=_utc(cert.not_after),
        days_left=_days_left(_utc(cert.not_after), now), private_key_not_after=key_end,
        has_private_key=found.has_private_key, chain_status=status, chain_reasons=reasons,
        warnings=tuple(_warnings(cert, key_end, now)), token_location=location)


def _location(source: Token) -> str:
    try:
        return source.info().source
    except SignAgentError:
        return ""


def _safe(getter: Any, default: str = "") -> str:
    try:
        return str(getter())
    except SignAgentError:
        return default


def build_inventory(sources: Iterable[Token], *, trust_roots: Iterable[object] = (),
                    intermediates: Iterable[object] = (), crls: Iterable[object] = (), now: datetime | None = None,
                    offline: bool = True, revocation: str = "off") -> Inventory:
    """The inventory of every certificate of ``sources`` at ``now`` (default: the current time, UTC).

    Without ``trust_roots`` the chain status is "unknown"; otherwise it is the status of
    :func:`signagent.trust.validation.validate` (valid / invalid / indeterminate) with the given intermediates,
    CRLs, ``offline`` and ``revocation`` mode. A source whose listing raises a typed error lands in ``errors``.
    A certificate found in several sources is listed once per source (same ``id``).
    """
    when = _utc(now)
    validation = {"roots": list(trust_roots), "intermediates": list(intermediates), "crls": list(crls),
                  "offline": offline, "revocation": revocation}
    entries: list[InventoryEntry] = []
    errors: list[SourceError] = []
    for source in sources:
        kind = _kind_of(source)
        location = _location(source)
        try:
            found = source.certificates()
        except SignAgentError as exc:
            errors.append(SourceError(kind, _safe(lambda s=source: s.label), _safe(lambda s=source: s.serial), exc,
                                      location))
            continue
        for item in found:
            entries.append(_entry(source, kind, location, item, when, validation))
    entries.sort(key=lambda e: (e.not_after, e.id))
    return Inventory(entries=tuple(entries), errors=tuple(errors), generated_at=when)


def collect_inventory(*, use_trust_store: bool = True, trust_roots: Iterable[object] = (),
                      intermediates: Iterable[object] = (), crls: Iterable[object] = (),
                      extra_modules: Iterable[str] = (), keys_dir: str | None = None, now: datetime | None = None,
                      offline: bool = True, revocation: str = "off") -> Inventory:
    """The inventory of this machine's sources (:func:`discover_sources`), chains checked against the given roots
    plus, with ``use_trust_store``, the user's trust store. Module load errors are in ``extra_errors``, unreadable
    cards in ``errors``, the PC/SC service status in ``pcsc``."""
    roots, inters, crl_list = list(trust_roots), list(intermediates), list(crls)
    if use_trust_store:
        from signagent.trust.store import TrustStore

        store = TrustStore()
        roots += store.roots()
        inters += store.intermediates()
        crl_list += store.crls()
    found = discover_sources(extra_modules, keys_dir=keys_dir)
    try:
        result = build_inventory(found.tokens, trust_roots=roots, intermediates=inters, crls=crl_list, now=now,
                                 offline=offline, revocation=revocation)
    finally:
        found.close()
    return Inventory(entries=result.entries, errors=result.errors + tuple(found.card_errors),
                     generated_at=result.generated_at, extra_errors=tuple(found.errors), pcsc=found.pcsc)

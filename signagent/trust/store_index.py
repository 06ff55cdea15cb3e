"""The records of the trust store's ``index.json``: one :class:`StoreEntry` per certificate or CRL, and the
:class:`ImportOutcome` of offering one to the store.

An entry names exactly one file, ``<subdir>/<its SHA-1><suffix>`` (:func:`entry_file`): :meth:`StoreEntry.from_dict`
refuses any other, so a tampered index can never make the store read or delete a path of its choosing. Fields are
checked type by type as they are read (a damaged record raises TypeError, which the store reports as damage).

Exports: KINDS, SUBDIRS, StoreEntry, ImportOutcome, entry_file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = ["KINDS", "SUBDIRS", "ImportOutcome", "StoreEntry", "entry_file"]

KINDS = ("root", "intermediate", "crl")
SUBDIRS = {"root": "roots", "intermediate": "intermediates", "crl": "crls"}
_SUFFIX = {"root": ".der", "intermediate": ".der", "crl": ".crl"}


@dataclass(frozen=True)
class StoreEntry:
    """One certificate or CRL of the store, as ``trust list`` shows it.

    ``crl_urls`` of an intermediate are where that CA publishes the CRLs of the certificates it issues (from the
    accredited-CA list); ``cdp_urls`` are the certificate's own cRLDistributionPoints (where its issuer's CRL is).
    """

    kind: str
    sha1: str
    sha256: str
    subject: str
    issuer: str
    file: str
    source: str
    added_at: str
    streebog256: str = ""
    subject_cn: str = ""
    serial: str = ""
    not_before: str | None = None
    not_after: str | None = None
    key_identifier: str | None = None
    crl_urls: tuple[str, ...] = ()
    cdp_urls: tuple[str, ...] = ()
    this_update: str | None = None
    next_update: str | None = None
    scope: str | None = None
    extra: dict[str, object] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form; absent optional values are left out."""
        out: dict[str, object] = {
            "kind": self.kind, "sha1": self.sha1, "sha256": self.sha256, "subject": self.subject,
            "issuer": self.issuer, "file": self.file, "source": self.source, "added_at": self.added_at,
        }
        optional = {
            "streebog256": self.streebog256, "subject_cn": self.subject_cn, "serial": self.serial,
            "not_before": self.not_before, "not_after": self.not_after, "key_identifier": self.key_identifier,
            "crl_urls": list(self.crl_urls), "cdp_urls": list(self.cdp_urls), "this_update": self.this_update,
            "next_update": self.next_update, "scope": self.scope,
        }
        for key, value in optional.items():
            if value:
                out[key] = value
        if self.kind == "intermediate":
            out.setdefault("crl_urls", [])
        out.update(self.extra)
        return out

    @classmethod
    def from_dict(cls, data: dict) -> StoreEntry:
        """Inverse of :meth:`to_dict`; raises TypeError on a damaged record: a field of the wrong type, an unknown
        kind, a malformed thumbprint, or a ``file`` other than the one the store itself names for that entry."""
        if not isinstance(data, dict):
            raise TypeError(f"an entry is {type(data).__name__}, not an object")
        known = {f for f in cls.__dataclass_fields__ if f != "extra"}
        values = {k: v for k, v in data.items() if k in known}
        for key, value in values.items():
            if key in ("crl_urls", "cdp_urls"):
                if not isinstance(value, list) or not all(isinstance(u, str) for u in value):
                    raise TypeError(f"entry field {key!r} is not a list of strings")
            elif not isinstance(value, str) and not (value is None and key in _OPTIONAL_FIELDS):
                raise TypeError(f"entry field {key!r} is {type(value).__name__}, not a string")
        for key in ("crl_urls", "cdp_urls"):
            values[key] = tuple(values.get(key, ()))
        extra = {k: v for k, v in data.items() if k not in known}
        entry = cls(**values, extra=extra)
        if entry.kind not in KINDS or not re.fullmatch(r"[0-9A-F]{40}", entry.sha1):
            raise TypeError(f"bad entry {str(entry.kind)[:20]!r} {str(entry.sha1)[:40]!r}")
        if entry.file != entry_file(entry.kind, entry.sha1):
            # The only file an entry may name is the one the store gives it: never a path of the index's choosing.
            raise TypeError(f"entry {entry.sha1} names the file {entry.file[:200]!r}, expected "
                            f"{entry_file(entry.kind, entry.sha1)!r}")
        return entry


_OPTIONAL_FIELDS = frozenset({"not_before", "not_after", "key_identifier", "this_update", "next_update", "scope"})


def entry_file(kind: str, sha1: str) -> str:
    """The path, relative to the store, of the file of the ``kind`` entry with this SHA-1 (the only one it has)."""
    return f"{SUBDIRS[kind]}/{sha1}{_SUFFIX[kind]}"


@dataclass(frozen=True)
class ImportOutcome:
    """What happened to one offered item: ``added``, ``present`` (already there, unchanged), ``updated`` (new CRL
    addresses merged, or a CRL replaced by a newer one), ``older`` (a CRL older than the stored one) or
    ``conflict`` (the certificate is already stored under another kind)."""

    status: str
    entry: StoreEntry
    replaced: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form."""
        out = {"status": self.status, **self.entry.to_dict()}
        if self.replaced:
            out["replaced"] = list(self.replaced)
        return out

"""The manifest of official trust anchors (``certs/manifest.json``): which roots exist and their pinned fingerprints.

A root certificate is trusted by what it *is* (its exact bytes), never by where it came from: the manifest pins
the SHA-256 of each official root's DER, and ``signagent trust update`` accepts a downloaded file only when its
digest equals the pin. The download addresses are therefore hints, and plain HTTP is as good as HTTPS for them.

Schema (version 1)::

    {"schema": 1, "description": str,
     "anchors": [{"id": str, "legacy": bool,
                  "subject": {"CN": str, "O"?: str, "OGRN"?: str, "INN"?: str, "INNLE"?: str, ...},
                  "serial": hex, "not_before": ISO-8601 UTC, "not_after": ISO-8601 UTC,
                  "signature_algorithm": str, "subject_key_identifier": hex,
                  "sha256": 64 hex digits, "sha1": 40 hex digits,
                  "urls": [{"url": http(s) URL, "verified": bool, "source": str}, ...]}]}

Exports: Anchor, AnchorUrl, Manifest, ManifestFormatError, load_manifest, parse_manifest, DEFAULT_MANIFEST_PATH.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from signagent.errors import TrustStoreError
from signagent.fileio import read_capped

#: ``certs/manifest.json`` of the source tree (the package lives in ``signagent/``, beside ``certs/``); an installed
#: wheel has no source tree and carries the build's copy beside this module (setup.py's BuildPy).
_SOURCE_MANIFEST = Path(__file__).resolve().parents[2] / "certs" / "manifest.json"
DEFAULT_MANIFEST_PATH = (_SOURCE_MANIFEST if _SOURCE_MANIFEST.is_file()
                         else Path(__file__).resolve().parent / "manifest.json")

# The real manifest is a few kB; a bound keeps a wrong path (a CRL dump, a log) from being read whole.
MAX_MANIFEST_BYTES = 1 << 20

SCHEMA_VERSION = 1

_HEX = re.compile(r"^[0-9a-fA-F]+$")
_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")


class ManifestFormatError(TrustStoreError):
    """The trust-anchor manifest is missing, not JSON, or does not follow the schema."""

    code = "trust_manifest_invalid"


@dataclass(frozen=True)
class AnchorUrl:
    """One address from which an anchor may be downloaded, and whether a public source confirms it."""

    url: str
    verified: bool
    source: str

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form."""
        return {"url": self.url, "verified": self.verified, "source": self.source}


@dataclass(frozen=True)
class Anchor:
    """An official root certificate, described by its facts and pinned by the SHA-256 of its DER."""

    id: str
    subject: dict[str, str]
    serial: str
    not_before: datetime
    not_after: datetime
    signature_algorithm: str
    subject_key_identifier: str
    sha256: str
    sha1: str
    urls: tuple[AnchorUrl, ...]
    legacy: bool = False

    @property
    def common_name(self) -> str:
        """The subject's CN, the name people know the root by."""
        return self.subject["CN"]

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form (dates as ISO-8601 UTC)."""
        return {
            "id": self.id,
            "legacy": self.legacy,
            "subject": dict(self.subject),
            "serial": self.serial,
            "not_before": _iso(self.not_before),
            "not_after": _iso(self.not_after),
            "signature_algorithm": self.signature_algorithm,
            "subject_key_identifier": self.subject_key_identifier,
            "sha256": self.sha256,
            "sha1": self.sha1,
            "urls": [u.to_dict() for u in self.urls],
        }


@dataclass(frozen=True)
class Manifest:
    """The parsed manifest: its anchors in file order."""

    anchors: tuple[Anchor, ...]
    description: str = ""

    def by_sha256(self, fingerprint: str) -> Anchor | None:
        """The anchor pinned to this SHA-256 (hex, any case), or None."""
        fingerprint = fingerprint.lower()
        for anchor in self.anchors:
            if anchor.sha256 == fingerprint:
                return anchor
        return None

    def by_id(self, anchor_id: str) -> Anchor | None:
        """The anchor with this id, or None."""
        for anchor in self.anchors:
            if anchor.id == anchor_id:
                return anchor
        return None


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _short(value: object) -> str:
    """repr of a value from the file, cut to one readable line (a message must not carry a megabyte of it)."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _fail(where: str, problem: str) -> ManifestFormatError:
    return ManifestFormatError(where=where, problem=problem)


def _field(obj: dict, key: str, kind: type, where: str) -> object:
    if key not in obj:
        raise _fail(where, f"missing field {key!r}")
    value = obj[key]
    # bool is an int subclass; a manifest saying "legacy": 1 is a typo worth catching.
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        raise _fail(where, f"field {key!r} must be {kind.__name__}")
    return value


def _hex(obj: dict, key: str, where: str, length: int | None = None) -> str:
    value = _field(obj, key, str, where)
    if not _HEX.match(value) or (length is not None and len(value) != length):
        size = f"{length} " if length else ""
        raise _fail(where, f"field {key!r} must be {size}hexadecimal digits")
    return value


def _date(obj: dict, key: str, where: str) -> datetime:
    value = _field(obj, key, str, where)
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise _fail(where, f"field {key!r} is not an ISO-8601 date") from None
    if moment.tzinfo is None:
        raise _fail(where, f"field {key!r} needs a time zone (use Z)")
    return moment


def _url(entry: object, where: str) -> AnchorUrl:
    if not isinstance(entry, dict):
        raise _fail(where, "each url must be an object")
    url = _field(entry, "url", str, where)
    parts = urlsplit(url)
    # Only http(s): the fetcher must never be pointed at file:// or other schemes by a manifest.
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _fail(where, f"url {_short(url)} is not an http(s) address")
    return AnchorUrl(url=url, verified=_field(entry, "verified", bool, where),  # type: ignore[arg-type]
                     source=_field(entry, "source", str, where))  # type: ignore[arg-type]


def _anchor(entry: object, index: int) -> Anchor:
    where = f"anchors[{index}]"
    if not isinstance(entry, dict):
        raise _fail(where, "must be an object")
    anchor_id = _field(entry, "id", str, where)
    if not _ID.match(anchor_id):  # type: ignore[arg-type]
        raise _fail(where, f"id {_short(anchor_id)} must be lower-case letters, digits, '.', '_' or '-'")
    where = f"anchor {anchor_id}"
    subject = _field(entry, "subject", dict, where)
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in subject.items()):  # type: ignore[union-attr]
        raise _fail(where, "subject must map attribute names to strings")
    if not subject.get("CN"):  # type: ignore[union-attr]
        raise _fail(where, "subject needs a CN")
    not_before, not_after = _date(entry, "not_before", where), _date(entry, "not_after", where)
    if not_after <= not_before:
        raise _fail(where, "not_after must be later than not_before")
    urls = _field(entry, "urls", list, where)
    if not urls:
        raise _fail(where, "needs at least one download url")
    return Anchor(
        id=anchor_id,  # type: ignore[arg-type]
        subject=dict(subject),  # type: ignore[arg-type]
        serial=_hex(entry, "serial", where).upper(),
        not_before=not_before,
        not_after=not_after,
        signature_algorithm=_field(entry, "signature_algorithm", str, where),  # type: ignore[arg-type]
        subject_key_identifier=_hex(entry, "subject_key_identifier", where).lower(),
        sha256=_hex(entry, "sha256", where, 64).lower(),
        sha1=_hex(entry, "sha1", where, 40).upper(),
        urls=tuple(_url(u, where) for u in urls),  # type: ignore[union-attr]
        legacy=_field(entry, "legacy", bool, where) if "legacy" in entry else False,  # type: ignore[arg-type]
    )


def parse_manifest(data: bytes | str | dict) -> Manifest:
    """Validate a manifest given as JSON text/bytes or an already decoded object.

    Raises :class:`ManifestFormatError` (a :class:`~signagent.errors.TrustStoreError`) naming the first problem.
    """
    if isinstance(data, bytes | str):
        try:
            data = json.loads(data)
        except RecursionError:  # the json module nests by recursion: [[[[...]]]] 100,000 deep
            raise _fail("document", "nested too deeply to be a manifest") from None
        except (ValueError, UnicodeDecodeError) as exc:
            raise _fail("document", f"not JSON ({' '.join(str(exc).split())[:200]})") from None
    if not isinstance(data, dict):
        raise _fail("document", "must be a JSON object")
    schema = data.get("schema")
    if schema != SCHEMA_VERSION:
        raise _fail("document", f"unsupported schema {_short(schema)} (expected {SCHEMA_VERSION})")
    entries = data.get("anchors")
    if not isinstance(entries, list) or not entries:
        raise _fail("document", "'anchors' must be a non-empty list")
    anchors = tuple(_anchor(entry, i) for i, entry in enumerate(entries))
    for key in ("id", "sha256", "sha1"):
        seen: set[str] = set()
        for anchor in anchors:
            value = getattr(anchor, key)
            if value in seen:
                raise _fail(f"anchor {anchor.id}", f"duplicate {key} {value}")
            seen.add(value)
    description = data.get("description", "")
    return Manifest(anchors=anchors, description=description if isinstance(description, str) else "")


def load_manifest(path: str | Path | None = None) -> Manifest:
    """Read and validate the manifest at ``path`` (default: the project's ``certs/manifest.json``)."""
    path = Path(path) if path is not None else DEFAULT_MANIFEST_PATH
    data = read_capped(path, MAX_MANIFEST_BYTES, "trust-anchor manifest", ManifestFormatError)
    return parse_manifest(data)

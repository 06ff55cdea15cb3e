"""The user's trust store: trusted roots, known intermediate CAs and CRLs in a directory, with a JSON index.

Layout of the store directory (default: platformdirs' user data dir for "signagent" + ``/trust``; overridden by
``$SIGNAGENT_TRUST_DIR``, overridden in turn by the constructor's argument)::

    roots/<SHA-1>.der  intermediates/<SHA-1>.der  crls/<SHA-1>.crl  index.json  .lock

* Every file is written atomically (temporary file in the same directory, fsync, ``os.replace``, fsync of the
  directory), so a crash leaves either the old or the new version, never half a file.
* Writers take an exclusive ``flock`` on ``.lock`` for the whole read-modify-write of the index, readers a shared
  one, so concurrent ``signagent`` processes never lose each other's changes.
* Certificate files are written before the index and removed after it: the index never names a missing file;
  an interrupted write leaves at most an unreferenced file.
* The store reads and deletes only the files it names itself: an index entry must name exactly
  ``<subdir>/<its SHA-1><suffix>``, and that path must resolve inside the store directory (no absolute path,
  ``..`` or symlink leading out), be a regular file and fit the size cap of its kind. A tampered ``index.json``
  naming ``/dev/zero`` or ``/etc/passwd`` is reported as damage; it can make the store neither read nor delete
  anything else. The index itself is size-capped and checked field by field (types included).
* Input is checked completely before anything is written: a non-CA certificate is refused as root or
  intermediate (RFC 5280 section 4.2.1.9: cA must be TRUE for a certificate that signs certificates), a root must
  be self-signed (:attr:`signagent.x509.Certificate.is_self_signed`: self-issued, and its signature verifies
  under its own key). Importing the same certificate twice changes nothing.
* Certificates are :class:`signagent.x509.Certificate` objects throughout (read with :mod:`signagent.x509`, its
  thumbprints are the store's); CRLs are the asn1crypto ``CertificateList`` of :func:`signagent.x509.load_crl`.

Exports: TrustStore, StoreEntry, ImportOutcome, NotCaCertificateError, NotSelfSignedError,
TrustEntryNotFoundError, certificate_facts, default_store_path.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import platformdirs
from asn1crypto import crl as asn1_crl
from asn1crypto import x509

import signagent.asn1  # noqa: F401  (registers the GOST algorithms and Russian attributes with asn1crypto)
from signagent.asn1 import oids
from signagent.asn1.integers import int_text
from signagent.errors import (
    CertificateFormatError,
    CrlFormatError,
    InvalidInputError,
    SignAgentError,
    TrustStoreError,
    too_large_error,
)
from signagent.fileio import fsync_dir, read_capped, write_atomic
from signagent.x509 import Certificate, load_certificates, load_crl

from .store_index import KINDS, SUBDIRS, ImportOutcome, StoreEntry, entry_file

ENV_TRUST_DIR = "SIGNAGENT_TRUST_DIR"
INDEX_NAME = "index.json"
LOCK_NAME = ".lock"
INDEX_VERSION = 1


# A CA certificate is 1-3 kB; real CRLs of big CAs reach tens of MB. Bounds keep a wrong file from exhausting memory.
MAX_CERTIFICATE_BYTES = 1 << 20
MAX_CRL_BYTES = 64 << 20
# An index entry is under 1 kB; 64 MiB is room for tens of thousands of entries, and keeps a wrong or tampered
# index.json from being read without bound.
MAX_INDEX_BYTES = 64 << 20
_MAX_BYTES = {"root": MAX_CERTIFICATE_BYTES, "intermediate": MAX_CERTIFICATE_BYTES, "crl": MAX_CRL_BYTES}

# Short names for the subject attributes people expect to see (RFC 4514 section 3 plus the Russian ones).
_SHORT_NAMES = {
    "common_name": "CN", "surname": "SN", "given_name": "G", "title": "T", "organization_name": "O",
    "organizational_unit_name": "OU", "country_name": "C", "state_or_province_name": "ST",
    "locality_name": "L", "street_address": "STREET", "email_address": "E", "ogrn": "OGRN", "ogrnip": "OGRNIP",
    "snils": "SNILS", "inn": "INN", "innle": "INNLE",
}

class NotCaCertificateError(TrustStoreError, InvalidInputError):
    """A certificate offered as a root or an intermediate is not a CA certificate."""

    code = "trust_not_ca"


class NotSelfSignedError(TrustStoreError, InvalidInputError):
    """A certificate offered as a root is not self-signed (or its self-signature does not verify)."""

    code = "trust_root_not_self_signed"


class TrustEntryNotFoundError(TrustStoreError):
    """No certificate or CRL in the store has the given thumbprint."""

    code = "trust_entry_not_found"


# --- certificate helpers ------------------------------------------------------------------------------------------

def _as_certificate(cert: object) -> Certificate:
    """A :class:`~signagent.x509.Certificate` as given, or read from DER/PEM/base64 bytes (exactly one certificate)
    or from an asn1crypto certificate's encoding; CertificateFormatError otherwise."""
    if isinstance(cert, Certificate):
        return cert
    if isinstance(cert, x509.Certificate):
        cert = cert.dump()
    if isinstance(cert, bytes | bytearray | memoryview):
        if len(cert) > MAX_CERTIFICATE_BYTES:
            raise too_large_error(CertificateFormatError)(what="certificate", what_ru="сертификат",
                                                          limit=MAX_CERTIFICATE_BYTES)
        certs = load_certificates(bytes(cert))
        if len(certs) != 1:
            raise CertificateFormatError(situation="not_one", count=len(certs))
        return certs[0]
    raise CertificateFormatError(situation="wrong_type", type=type(cert).__name__)


def _name_text(name: x509.Name) -> tuple[str, dict[str, str]]:
    """('CN=..., O=..., OGRN=...', {short name: value}) in the encoded order; unreadable values shown as '?'."""
    parts: list[str] = []
    fields: dict[str, str] = {}
    for rdn in name.chosen:
        for attr in rdn:
            try:
                kind = attr["type"].native
                value = attr["value"].native
            except Exception:
                kind, value = attr["type"].dotted, "?"
            label = _SHORT_NAMES.get(kind, kind)
            text = _value_text(attr, value)
            parts.append(f"{label}={text}")
            fields.setdefault(label, text)
    return ", ".join(parts), fields


def _value_text(attr: object, value: object) -> str:
    """A name attribute's value as text: strings as they are, integers through int_text (str() raises beyond
    4,300 digits), anything else as ``#`` + the hex of its DER (RFC 4514 section 2.4)."""
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return int_text(value)
    try:
        return "#" + attr["value"].dump().hex()  # type: ignore[index]
    except Exception:  # a value asn1crypto cannot even re-encode
        return "?"


def _serial_hex(cert: Certificate) -> str:
    number = cert.serial_number
    if number < 0:  # RFC 5280 forbids it, but some CAs did it: show the encoded bytes
        return cert.asn1["tbs_certificate"]["serial_number"].contents.hex().upper()
    text = f"{number:X}"
    return text if len(text) % 2 == 0 else "0" + text


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def certificate_facts(cert: Certificate) -> dict[str, object]:
    """What the store records about a certificate: thumbprints, names, validity, CA flags, CRL addresses."""
    subject, subject_fields = _name_text(cert.asn1.subject)
    issuer, _ = _name_text(cert.asn1.issuer)
    usage = cert.extension(oids.EXT_KEY_USAGE)
    cert_sign: bool | None = None  # None: no keyUsage extension (RFC 5280 4.2.1.3: then any use is allowed)
    if usage is not None:
        cert_sign = usage.error is None and "key_cert_sign" in (cert.key_usage or ())  # unreadable: not allowed
    ski = cert.subject_key_identifier
    return {
        "sha1": cert.sha1_thumbprint,
        "sha256": cert.sha256_fingerprint,
        "streebog256": cert.streebog_thumbprint,
        "subject": subject,
        "subject_cn": subject_fields.get("CN", ""),
        "issuer": issuer,
        "serial": _serial_hex(cert),
        "not_before": cert.not_before,
        "not_after": cert.not_after,
        "is_ca": cert.is_ca,
        "key_cert_sign": cert_sign,
        "key_identifier": ski.hex() if ski is not None else None,
        "cdp_urls": list(cert.crl_distribution_urls),
    }


def _self_signature_problem(cert: Certificate) -> str | None:
    """None when the certificate is self-signed (:attr:`~signagent.x509.Certificate.is_self_signed`), else why
    not."""
    if cert.is_self_signed:
        return None
    if not cert.is_self_issued:
        return "its issuer and subject differ"
    return "its signature does not verify under its own public key (or its algorithm or key cannot be used)"


@dataclass(frozen=True)
class _Pending:
    entry: StoreEntry
    data: bytes


def default_store_path() -> Path:
    """``$SIGNAGENT_TRUST_DIR`` if set, else platformdirs' user data directory for signagent + ``/trust``."""
    env = os.environ.get(ENV_TRUST_DIR)
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_data_dir("signagent")) / "trust"


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def normalise_thumbprint(thumbprint: str) -> tuple[str, str]:
    """('sha1', upper hex) or ('sha256', lower hex) from a thumbprint typed with any case, spaces or colons."""
    cleaned = re.sub(r"[\s:]", "", thumbprint or "")
    if re.fullmatch(r"[0-9a-fA-F]{40}", cleaned):
        return "sha1", cleaned.upper()
    if re.fullmatch(r"[0-9a-fA-F]{64}", cleaned):
        return "sha256", cleaned.lower()
    shown = repr(thumbprint) if len(str(thumbprint)) <= 80 else repr(str(thumbprint)[:80]) + "..."
    raise InvalidInputError(situation="thumbprint", shown=shown)


def _resolved(path: Path) -> Path:
    """``path`` with every symlink followed; TrustStoreError for a symlink loop."""
    try:
        return path.resolve()
    except (OSError, RuntimeError) as exc:
        raise TrustStoreError(situation="unresolvable", path=str(path), error=exc) from None


def _one_line(exc: BaseException) -> str:
    """An exception's message on one line (asn1crypto appends "while parsing ..." lines), at most 300 characters."""
    return " ".join(str(exc).split())[:300] or type(exc).__name__


def _store_error(action: str, exc: OSError, path: Path) -> TrustStoreError:
    return TrustStoreError(situation="cannot_change", action=action, path=str(path), error=exc.strerror or exc)


# --- the store ---------------------------------------------------------------------------------------------------

class TrustStore:
    """Roots, intermediates and CRLs in a directory; every change atomic and serialised between processes."""

    def __init__(self, path: str | Path | None = None) -> None:
        self._path = Path(path).expanduser() if path is not None else default_store_path()
        self._cache: dict[str, tuple[tuple[int, int, int], list]] = {}

    @property
    def path(self) -> Path:
        """The store directory (it may not exist yet: it is created by the first change)."""
        return self._path

    # -- locking and the index --

    @contextlib.contextmanager
    def _locked(self, exclusive: bool) -> Iterator[bool]:
        """Hold the store lock; yields False (without locking) when a reader finds no store at all."""
        if not exclusive and not self._path.is_dir():
            yield False
            return
        try:
            if exclusive:
                self._path.mkdir(parents=True, exist_ok=True, mode=0o700)
                for sub in SUBDIRS.values():
                    (self._path / sub).mkdir(exist_ok=True, mode=0o700)
            fd = os.open(self._path / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise _store_error("open", exc, self._path) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
            yield True
        finally:
            os.close(fd)  # closing releases the flock

    def _read_index(self) -> list[StoreEntry]:
        path = self._path / INDEX_NAME
        if not os.path.lexists(path):
            return []
        if _resolved(path).parent != self._path.resolve():  # a symlink out of the store: read nothing outside it
            raise TrustStoreError(situation="index_outside", path=str(path))
        raw = self._read_file(path, MAX_INDEX_BYTES, "trust store index")
        try:
            doc = json.loads(raw)
            # JSON escapes may spell lone surrogates ("\ud800"): read fine, they could never be written back
            # (RFC 8259 section 8.2: such strings are not Unicode), so the index is damaged.
            json.dumps(doc, ensure_ascii=False).encode("utf-8")
            if not isinstance(doc, dict):
                raise TypeError(f"the document is {type(doc).__name__}, not an object")
            if doc.get("version") != INDEX_VERSION:
                raise TypeError(f"unknown index version {str(doc.get('version'))[:20]!r}")
            items = doc.get("entries")
            if not isinstance(items, list):
                raise TypeError("'entries' is not a list")
            return [StoreEntry.from_dict(item) for item in items]
        except RecursionError:  # json nests by recursion: [[[[...]]]] 100,000 deep
            problem = "nested too deeply"
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            problem = _one_line(exc)
        raise TrustStoreError(situation="index_damaged", path=str(path), problem=problem)

    def _read_file(self, path: Path, limit: int, what: str) -> bytes:
        """The bytes of a regular file of the store, at most ``limit`` of them; TrustStoreError naming it otherwise."""
        try:
            return read_capped(path, limit, what, TrustStoreError)
        except TrustStoreError:
            raise
        except SignAgentError as exc:  # missing, unreadable, a FIFO or a device: the store is damaged
            raise TrustStoreError(situation="damaged", path=str(path), error=exc.message,
                                  error_ru=exc.message_ru) from None

    def _entry_path(self, entry: StoreEntry) -> Path:
        """The file of ``entry``, checked to lie inside the store's own sub-directory for its kind.

        from_dict already refuses any name but the canonical one; resolving catches a sub-directory (or the file)
        replaced by a symlink leading out of the store.
        """
        path = self._path / entry.file
        folder = _resolved(self._path / SUBDIRS[entry.kind])
        resolved = _resolved(path)
        store = self._path.resolve()
        if resolved.parent != folder or folder.parent != store:
            raise TrustStoreError(situation="file_outside", path=str(path), target=resolved)
        return path

    def _write_index(self, entries: list[StoreEntry]) -> None:
        order = {kind: i for i, kind in enumerate(KINDS)}
        entries = sorted(entries, key=lambda e: (order[e.kind], e.subject, e.sha1))
        doc = {"version": INDEX_VERSION, "entries": [e.to_dict() for e in entries]}
        data = json.dumps(doc, ensure_ascii=False, indent=1).encode("utf-8") + b"\n"
        write_atomic(self._path / INDEX_NAME, data)

    def _commit(self, entries: list[StoreEntry], new_files: list[_Pending],
                dead_files: Iterable[StoreEntry]) -> None:
        """Write new files, then the index, then delete dropped files; undo the new files if the index fails."""
        written: list[Path] = []
        targets = [self._entry_path(pending.entry) for pending in new_files]  # never write outside the store
        doomed = [self._entry_path(entry) for entry in dead_files]
        try:
            for pending, target in zip(new_files, targets, strict=True):
                if not target.exists():
                    write_atomic(target, pending.data, sync_dir=False)
                    written.append(target)
            for folder in {path.parent for path in written}:
                fsync_dir(folder)  # the new files are durable before the index names them
            self._write_index(entries)
        except OSError as exc:
            for path in written:
                with contextlib.suppress(OSError):
                    path.unlink()
            raise _store_error("write", exc, self._path) from None
        for path in doomed:
            with contextlib.suppress(OSError):
                path.unlink()  # a symlink is removed itself, never what it points to
        self._cache.clear()

    # -- checks that run before any change --

    def _prepare_certificate(self, cert: object, kind: str, source: str,
                             crl_urls: Iterable[str] = ()) -> _Pending:
        if kind not in ("root", "intermediate"):
            raise InvalidInputError(situation="unknown_kind", kind=repr(kind), known="root or intermediate")
        parsed = _as_certificate(cert)
        facts = certificate_facts(parsed)
        who = f"{facts['subject_cn'] or facts['subject']} ({facts['sha1']})"
        if not facts["is_ca"]:
            raise NotCaCertificateError(situation="not_ca", certificate=who, kind=kind, sha1=facts["sha1"])
        if facts["key_cert_sign"] is False:
            raise NotCaCertificateError(situation="no_key_cert_sign", certificate=who, sha1=facts["sha1"])
        if kind == "root":
            problem = _self_signature_problem(parsed)
            if problem is not None:
                raise NotSelfSignedError(certificate=who, problem=problem, sha1=facts["sha1"])
        entry = StoreEntry(
            kind=kind, sha1=facts["sha1"], sha256=facts["sha256"], streebog256=facts["streebog256"],
            subject=facts["subject"], subject_cn=facts["subject_cn"], issuer=facts["issuer"],
            serial=facts["serial"], not_before=_iso(facts["not_before"]), not_after=_iso(facts["not_after"]),
            key_identifier=facts["key_identifier"], cdp_urls=tuple(facts["cdp_urls"]),
            crl_urls=tuple(dict.fromkeys(crl_urls)) if kind == "intermediate" else (),
            file=entry_file(kind, facts["sha1"]), source=source, added_at=_now(),
        )
        return _Pending(entry=entry, data=parsed.der)

    # -- changes --

    def add_certificates(self, items: Iterable[tuple], source: str = "manual",
                         on_conflict: str = "error") -> list[ImportOutcome]:
        """Add several certificates in one transaction.

        ``items`` are ``(certificate, kind)`` or ``(certificate, kind, crl_urls)`` with kind "root" or
        "intermediate"; ``crl_urls`` are where an intermediate publishes its CRLs. Every item is checked first: one
        bad item raises and nothing is written. A certificate already stored under the other kind raises
        :class:`~signagent.errors.TrustStoreError`, or is reported as ``conflict`` when ``on_conflict="skip"``.
        """
        prepared = [self._prepare_certificate(item[0], item[1], source, item[2] if len(item) > 2 else ())
                    for item in items]
        with self._locked(exclusive=True):
            entries = self._read_index()
            by_sha1 = {e.sha1: i for i, e in enumerate(entries)}
            outcomes: list[ImportOutcome] = []
            new_files: list[_Pending] = []
            for pending in prepared:
                new = pending.entry
                index = by_sha1.get(new.sha1)
                if index is None:
                    by_sha1[new.sha1] = len(entries)
                    entries.append(new)
                    new_files.append(pending)
                    outcomes.append(ImportOutcome("added", new))
                    continue
                old = entries[index]
                if old.kind != new.kind:
                    if on_conflict == "skip":
                        outcomes.append(ImportOutcome("conflict", old))
                        continue
                    raise TrustStoreError(situation="already_stored", certificate=old.subject_cn or old.subject,
                                          sha1=old.sha1, kind=old.kind, new_kind=new.kind)
                merged = tuple(dict.fromkeys((*old.crl_urls, *new.crl_urls)))
                if merged != old.crl_urls:
                    entries[index] = replace(old, crl_urls=merged)
                    outcomes.append(ImportOutcome("updated", entries[index]))
                else:
                    outcomes.append(ImportOutcome("present", old))
            if new_files or any(o.status == "updated" for o in outcomes):
                self._commit(entries, new_files, ())
        return outcomes

    def add_root(self, cert: object, source: str = "manual") -> ImportOutcome:
        """Trust a self-signed CA certificate as a root (DER/PEM bytes or a certificate object)."""
        return self.add_certificates([(cert, "root")], source=source)[0]

    def add_intermediate(self, cert: object, source: str = "manual",
                         crl_urls: Iterable[str] = ()) -> ImportOutcome:
        """Remember a CA certificate as an intermediate (it grants no trust by itself: chains still end at a root)."""
        return self.add_certificates([(cert, "intermediate", tuple(crl_urls))], source=source)[0]

    def add_crl(self, data: bytes | object, source: str = "manual") -> ImportOutcome:
        """Store a CRL (DER or PEM). A newer CRL of the same issuer and scope replaces the older one."""
        crl, der = _parse_crl(data)
        tbs = crl["tbs_cert_list"]
        issuer, issuer_fields = _name_text(tbs["issuer"])
        exts = {}
        with contextlib.suppress(Exception):
            exts = {e["extn_id"].dotted: e["extn_value"].contents for e in tbs["crl_extensions"]}
        # One CRL per scope: the issuer, its issuingDistributionPoint (partitioned CRLs) and delta-ness (RFC 5280
        # 5.2.4-5.2.5) -- a newer full CRL must not evict a partition or a delta.
        scope = hashlib.sha256(tbs["issuer"].dump() + exts.get(oids.EXT_ISSUING_DISTRIBUTION_POINT, b"")
                               + (b"delta" if oids.EXT_DELTA_CRL_INDICATOR in exts else b"")).hexdigest()
        this_update = tbs["this_update"].native
        next_update = tbs["next_update"].native if tbs["next_update"].native is not None else None
        sha1 = hashlib.sha1(der).hexdigest().upper()  # noqa: S324
        entry = StoreEntry(
            kind="crl", sha1=sha1, sha256=hashlib.sha256(der).hexdigest(), subject=issuer,
            subject_cn=issuer_fields.get("CN", ""), issuer=issuer, file=entry_file("crl", sha1), source=source,
            added_at=_now(), this_update=_iso(this_update), next_update=_iso(next_update), scope=scope,
        )
        with self._locked(exclusive=True):
            entries = self._read_index()
            same = [e for e in entries if e.kind == "crl" and e.scope == scope]
            for old in same:
                if old.sha1 == sha1:
                    return ImportOutcome("present", old)
                if (old.this_update or "") >= (entry.this_update or ""):
                    return ImportOutcome("older", old)
            keep = [e for e in entries if not (e.kind == "crl" and e.scope == scope)]
            self._commit([*keep, entry], [_Pending(entry, der)], same)
        return ImportOutcome("updated" if same else "added", entry, replaced=tuple(e.sha1 for e in same))

    def remove(self, thumbprint: str) -> StoreEntry:
        """Remove the certificate or CRL with this SHA-1 or SHA-256 thumbprint; returns what was removed."""
        algorithm, value = normalise_thumbprint(thumbprint)
        with self._locked(exclusive=True):
            entries = self._read_index()
            match = [e for e in entries if getattr(e, algorithm) == value]
            if not match:
                raise TrustEntryNotFoundError(thumbprint=value, store=self._path)
            self._commit([e for e in entries if e not in match], [], match)
        return match[0]

    # -- reading --

    def list(self) -> list[StoreEntry]:
        """Every entry: roots, then intermediates, then CRLs."""
        with self._locked(exclusive=False):
            return self._read_index()

    def find(self, thumbprint: str) -> StoreEntry | None:
        """The entry with this SHA-1 or SHA-256 thumbprint, or None."""
        algorithm, value = normalise_thumbprint(thumbprint)
        for entry in self.list():
            if getattr(entry, algorithm) == value:
                return entry
        return None

    def _load(self, kind: str) -> list:
        index_path = self._path / INDEX_NAME
        with self._locked(exclusive=False) as present:
            if not present:
                return []
            try:
                st = index_path.stat()
            except FileNotFoundError:
                return []
            stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
            cached = self._cache.get(kind)
            if cached is not None and cached[0] == stamp:
                return list(cached[1])
            out = []
            for entry in self._read_index():
                if entry.kind != kind:
                    continue
                path = self._entry_path(entry)
                der = self._read_file(path, _MAX_BYTES[kind], "trust store")
                if hashlib.sha1(der).hexdigest().upper() != entry.sha1:  # noqa: S324
                    raise TrustStoreError(situation="thumbprint_mismatch", path=str(path), sha1=entry.sha1)
                # Checked completely when imported and unchanged since (same SHA-1): a lazy load is enough for a CRL;
                # a certificate becomes the project's Certificate (parsed once per DER, then remembered).
                out.append(asn1_crl.CertificateList.load(der) if kind == "crl" else self._certificate(path, der))
            self._cache[kind] = (stamp, out)
            return list(out)

    @staticmethod
    def _certificate(path: Path, der: bytes) -> Certificate:
        try:
            return Certificate.from_der_cached(der)
        except CertificateFormatError as exc:  # a file written by an older, laxer version: damage, told in one line
            raise TrustStoreError(situation="unreadable_certificate", path=str(path), error=exc.message) from None

    def roots(self) -> list[Certificate]:
        """The trusted root certificates (ready for :func:`signagent.trust.validation.validate`)."""
        return self._load("root")

    def intermediates(self) -> list[Certificate]:
        """The known intermediate CA certificates."""
        return self._load("intermediate")

    def crls(self) -> list[asn1_crl.CertificateList]:
        """The stored CRLs."""
        return self._load("crl")


def _parse_crl(data: object) -> tuple[asn1_crl.CertificateList, bytes]:
    """(CRL, its DER) from DER/PEM/base64 bytes or an asn1crypto CRL; CrlFormatError otherwise."""
    if isinstance(data, asn1_crl.CertificateList):
        data = data.dump()
    if not isinstance(data, bytes | bytearray | memoryview):
        raise CrlFormatError(situation="wrong_type", type=type(data).__name__)
    if len(data) > MAX_CRL_BYTES:
        raise too_large_error(CrlFormatError)(what="CRL", what_ru="список отзыва", limit=MAX_CRL_BYTES)
    crl = load_crl(bytes(data))
    try:
        tbs = crl["tbs_cert_list"]
        tbs["issuer"].chosen  # noqa: B018
        tbs["this_update"].native  # noqa: B018
        tbs["next_update"].native  # noqa: B018
        crl["signature"].native  # noqa: B018
    except (ValueError, TypeError, KeyError, OverflowError) as exc:
        raise CrlFormatError(detail=_one_line(exc)) from None
    return crl, crl.dump()

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
  be self-signed with a signature that verifies under its own key. Importing the same certificate twice changes
  nothing.

Exports: TrustStore, StoreEntry, ImportOutcome, NotCaCertificateError, NotSelfSignedError,
TrustEntryNotFoundError, load_certificates_from_bytes, certificate_facts, is_self_signed, default_store_path.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import platformdirs
from asn1crypto import core, x509
from asn1crypto import crl as asn1_crl

import signagent.asn1  # noqa: F401  (registers the GOST algorithms and Russian attributes with asn1crypto)
from signagent import gost
from signagent.asn1.integers import int_text
from signagent.errors import (
    CertificateFormatError,
    CrlFormatError,
    InvalidInputError,
    SignAgentError,
    TrustStoreError,
)
from signagent.fileio import fsync_dir, read_capped, write_atomic
from signagent.x509.certificate import Certificate
from signagent.x509.loading import load_certificates, load_crl

ENV_TRUST_DIR = "SIGNAGENT_TRUST_DIR"
INDEX_NAME = "index.json"
LOCK_NAME = ".lock"
INDEX_VERSION = 1

KINDS = ("root", "intermediate", "crl")
_SUBDIRS = {"root": "roots", "intermediate": "intermediates", "crl": "crls"}
_SUFFIX = {"root": ".der", "intermediate": ".der", "crl": ".crl"}

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

# Signature (and, in CMS-style encodings, key) algorithm OID -> digest constructor (RFC 9215 section 3; RFC 4491).
_DIGESTS = {
    "1.2.643.7.1.1.3.2": gost.streebog256,
    "1.2.643.7.1.1.3.3": gost.streebog512,
    "1.2.643.2.2.3": gost.gost341194,
    "1.2.643.7.1.1.1.1": gost.streebog256,
    "1.2.643.7.1.1.1.2": gost.streebog512,
    "1.2.643.2.2.19": gost.gost341194,
}

_EXT_BASIC_CONSTRAINTS = "2.5.29.19"
_EXT_KEY_USAGE = "2.5.29.15"
_EXT_CRL_DISTRIBUTION_POINTS = "2.5.29.31"
_EXT_SUBJECT_KEY_IDENTIFIER = "2.5.29.14"
_EXT_ISSUING_DISTRIBUTION_POINT = "2.5.29.28"
_EXT_DELTA_CRL_INDICATOR = "2.5.29.27"


class NotCaCertificateError(TrustStoreError, InvalidInputError):
    """A certificate offered as a root or an intermediate is not a CA certificate."""

    code = "trust_not_ca"
    default_message = "not a CA certificate: it cannot be a root or an intermediate"
    default_message_ru = "сертификат не является сертификатом УЦ и не может быть корневым или промежуточным"


class NotSelfSignedError(TrustStoreError, InvalidInputError):
    """A certificate offered as a root is not self-signed (or its self-signature does not verify)."""

    code = "trust_root_not_self_signed"
    default_message = "a root certificate must be self-signed"
    default_message_ru = "корневой сертификат должен быть самоподписанным"


class TrustEntryNotFoundError(TrustStoreError):
    """No certificate or CRL in the store has the given thumbprint."""

    code = "trust_entry_not_found"
    default_message = "no such certificate in the trust store"
    default_message_ru = "в хранилище нет такого сертификата"


# --- certificate helpers ------------------------------------------------------------------------------------------

def _parse_der_certificate(der: bytes) -> x509.Certificate:
    if len(der) > MAX_CERTIFICATE_BYTES:
        raise CertificateFormatError(f"certificate larger than {MAX_CERTIFICATE_BYTES} bytes",
                                     message_ru="слишком большой сертификат")
    # The shared model checks the whole structure, so later field access cannot meet a malformed value.
    return Certificate.from_der(der).asn1


def load_certificates_from_bytes(data: bytes) -> list[x509.Certificate]:
    """Every certificate in ``data`` (DER, PEM with one or more blocks, bare base64, PKCS#7 ``.p7b``).

    Raises :class:`~signagent.errors.CertificateFormatError` when nothing readable is found.
    """
    return [cert.asn1 for cert in load_certificates(bytes(data))]


def _as_certificate(cert: object) -> x509.Certificate:
    """Accept DER/PEM bytes, an asn1crypto certificate or any object with a ``.der`` attribute."""
    if isinstance(cert, Certificate):
        return cert.asn1
    if isinstance(cert, x509.Certificate):
        return _parse_der_certificate(cert.dump())
    der = getattr(cert, "der", None)
    if isinstance(der, bytes):
        return _parse_der_certificate(der)
    if isinstance(cert, bytes | bytearray | memoryview):
        certs = load_certificates_from_bytes(bytes(cert))
        if len(certs) != 1:
            raise CertificateFormatError(f"expected one certificate, found {len(certs)}",
                                         message_ru=f"ожидался один сертификат, найдено {len(certs)}")
        return certs[0]
    raise CertificateFormatError(f"not a certificate: {type(cert).__name__}",
                                 message_ru="ожидался сертификат")


def _extension_list(tbs: object) -> list:
    """The extensions of a TBSCertificate ([] for a v1 certificate without any)."""
    exts = tbs["extensions"]  # type: ignore[index]
    return [] if isinstance(exts, core.Void) else list(exts)


def _extensions(tbs: object) -> dict[str, tuple[bool, object]]:
    """Extensions by dotted OID -> (critical, parsed value or None when the content is unreadable)."""
    out: dict[str, tuple[bool, object]] = {}
    for ext in _extension_list(tbs):
        oid = ext["extn_id"].dotted
        try:
            value = ext["extn_value"].parsed
        except Exception:  # a broken non-critical extension must not sink the certificate
            value = None
        out[oid] = (bool(ext["critical"].native), value)
    return out


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


def _serial_hex(tbs: object) -> str:
    number = tbs["serial_number"].native  # type: ignore[index]
    if number < 0:  # RFC 5280 forbids it, but some CAs did it: show the encoded bytes
        return tbs["serial_number"].contents.hex().upper()  # type: ignore[index]
    text = f"{number:X}"
    return text if len(text) % 2 == 0 else "0" + text


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _urls_of_cdp(value: object) -> list[str]:
    urls: list[str] = []
    if value is None:
        return urls
    with contextlib.suppress(Exception):
        for point in value:  # type: ignore[attr-defined]
            name = point["distribution_point"]
            if name.name != "full_name":
                continue
            for general in name.chosen:
                if general.name == "uniform_resource_identifier":
                    urls.append(general.native)
    return urls


def certificate_facts(cert: x509.Certificate) -> dict[str, object]:
    """What the store records about a certificate: thumbprints, names, validity, CA flags, CRL addresses."""
    der = cert.dump()
    tbs = cert["tbs_certificate"]
    subject, subject_fields = _name_text(tbs["subject"])
    issuer, _ = _name_text(tbs["issuer"])
    exts = _extensions(tbs)
    basic = exts.get(_EXT_BASIC_CONSTRAINTS, (False, None))[1]
    is_ca = False
    with contextlib.suppress(Exception):
        is_ca = basic is not None and bool(basic["ca"].native)  # type: ignore[index]
    key_usage = exts.get(_EXT_KEY_USAGE)
    cert_sign: bool | None = None  # None: no keyUsage extension (RFC 5280 4.2.1.3: then any use is allowed)
    if key_usage is not None:
        cert_sign = False
        with contextlib.suppress(Exception):
            cert_sign = "key_cert_sign" in key_usage[1].native  # type: ignore[union-attr]
    ski = exts.get(_EXT_SUBJECT_KEY_IDENTIFIER, (False, None))[1]
    return {
        "sha1": hashlib.sha1(der).hexdigest().upper(),  # noqa: S324  (the thumbprint CryptoPro shows, not security)
        "sha256": hashlib.sha256(der).hexdigest(),
        "streebog256": gost.streebog256(der).hexdigest(),
        "subject": subject,
        "subject_cn": subject_fields.get("CN", ""),
        "issuer": issuer,
        "serial": _serial_hex(tbs),
        "not_before": tbs["validity"]["not_before"].native,
        "not_after": tbs["validity"]["not_after"].native,
        "is_ca": is_ca,
        "key_cert_sign": cert_sign,
        "key_identifier": ski.native.hex() if ski is not None else None,  # type: ignore[attr-defined]
        "cdp_urls": _urls_of_cdp(exts.get(_EXT_CRL_DISTRIBUTION_POINTS, (False, None))[1]),
    }


def _self_signature_problem(cert: x509.Certificate) -> str | None:
    """None when the certificate is self-issued and its signature verifies under its own key, else the reason."""
    tbs = cert["tbs_certificate"]
    try:
        if tbs["issuer"] != tbs["subject"]:
            return "its issuer and subject differ"
    except Exception:
        return "its names cannot be compared"
    algorithm = cert["signature_algorithm"]["algorithm"].dotted
    digest = _DIGESTS.get(algorithm)
    if digest is None:
        return f"its signature algorithm {algorithm} is not a GOST algorithm signagent verifies"
    spki = tbs["subject_public_key_info"]
    try:
        # RFC 9215 section 3 / RFC 4491 2.3.2: the BIT STRING holds an OCTET STRING of X || Y little-endian.
        paramset = spki["algorithm"]["parameters"]["public_key_param_set"].dotted
        key = gost.PublicKey.from_bytes(gost.curve(paramset), spki["public_key"].parsed.native)
        ok = key.verify_digest(digest(tbs.dump()).digest(), cert["signature_value"].native)
    except (SignAgentError, ValueError, TypeError, KeyError) as exc:
        return f"its public key or signature cannot be used ({_one_line(exc)})"
    return None if ok else "its signature does not verify under its own public key"


def is_self_signed(cert: x509.Certificate) -> bool:
    """True when issuer equals subject and the GOST signature verifies under the certificate's own key."""
    return _self_signature_problem(cert) is None


# --- index entries -----------------------------------------------------------------------------------------------

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
        if entry.file != _file_name(entry.kind, entry.sha1):
            # The only file an entry may name is the one the store gives it: never a path of the index's choosing.
            raise TypeError(f"entry {entry.sha1} names the file {entry.file[:200]!r}, expected "
                            f"{_file_name(entry.kind, entry.sha1)!r}")
        return entry


_OPTIONAL_FIELDS = frozenset({"not_before", "not_after", "key_identifier", "this_update", "next_update", "scope"})


def _file_name(kind: str, sha1: str) -> str:
    """The path, relative to the store, of the file of the ``kind`` entry with this SHA-1 (the only one it has)."""
    return f"{_SUBDIRS[kind]}/{sha1}{_SUFFIX[kind]}"


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
    raise InvalidInputError(f"{shown} is not a SHA-1 (40 hex digits) or SHA-256 (64 hex digits) thumbprint",
                            message_ru=f"{shown} не является отпечатком SHA-1 или SHA-256")


def _resolved(path: Path) -> Path:
    """``path`` with every symlink followed; TrustStoreError for a symlink loop."""
    try:
        return path.resolve()
    except (OSError, RuntimeError) as exc:
        raise TrustStoreError(f"the trust store path {path} cannot be resolved ({exc})",
                              message_ru=f"путь хранилища {path} недоступен", path=str(path)) from None


def _one_line(exc: BaseException) -> str:
    """An exception's message on one line (asn1crypto appends "while parsing ..." lines), at most 300 characters."""
    return " ".join(str(exc).split())[:300] or type(exc).__name__


def _store_error(action: str, exc: OSError, path: Path) -> TrustStoreError:
    return TrustStoreError(f"cannot {action} the trust store at {path}: {exc.strerror or exc}",
                           message_ru=f"не удаётся изменить хранилище доверенных сертификатов {path}",
                           path=str(path))


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
                for sub in _SUBDIRS.values():
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
            raise TrustStoreError(f"the trust store index {path} leads outside the store: the store is damaged",
                                  message_ru=f"индекс хранилища {path} указывает за пределы хранилища",
                                  path=str(path))
        raw = self._read_file(path, MAX_INDEX_BYTES, "trust store index")
        try:
            doc = json.loads(raw)
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
        raise TrustStoreError(f"the trust store index {path} is damaged ({problem}); remove it and import again",
                              message_ru=f"индекс хранилища доверенных сертификатов {path} повреждён",
                              path=str(path))

    def _read_file(self, path: Path, limit: int, what: str) -> bytes:
        """The bytes of a regular file of the store, at most ``limit`` of them; TrustStoreError naming it otherwise."""
        def too_large(message: str, message_ru: str) -> TrustStoreError:
            return TrustStoreError(message, message_ru=message_ru, path=str(path))
        try:
            return read_capped(path, limit, what, too_large)
        except TrustStoreError:
            raise
        except SignAgentError as exc:  # missing, unreadable, a FIFO or a device: the store is damaged
            raise TrustStoreError(f"the trust store is damaged: {exc.message}",
                                  message_ru=f"хранилище доверенных сертификатов повреждено: {exc.message_ru}",
                                  path=str(path)) from None

    def _entry_path(self, entry: StoreEntry) -> Path:
        """The file of ``entry``, checked to lie inside the store's own sub-directory for its kind.

        from_dict already refuses any name but the canonical one; resolving catches a sub-directory (or the file)
        replaced by a symlink leading out of the store.
        """
        path = self._path / entry.file
        folder = _resolved(self._path / _SUBDIRS[entry.kind])
        resolved = _resolved(path)
        store = self._path.resolve()
        if resolved.parent != folder or folder.parent != store:
            raise TrustStoreError(f"the trust store file {path} leads outside the store (to {resolved}): "
                                  "the store is damaged",
                                  message_ru=f"файл хранилища {path} указывает за пределы хранилища",
                                  path=str(path))
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
            raise InvalidInputError(f"unknown certificate kind {kind!r}", message_ru=f"неизвестный вид {kind!r}")
        parsed = _as_certificate(cert)
        facts = certificate_facts(parsed)
        who = f"{facts['subject_cn'] or facts['subject']} ({facts['sha1']})"
        if not facts["is_ca"]:
            raise NotCaCertificateError(
                f"{who} is not a CA certificate (basicConstraints cA is not TRUE): refused as {kind}",
                message_ru=f"{who} не является сертификатом УЦ (basicConstraints cA не TRUE)",
                sha1=facts["sha1"])
        if facts["key_cert_sign"] is False:
            raise NotCaCertificateError(
                f"{who} has keyUsage without keyCertSign: it may not sign certificates",
                message_ru=f"{who}: в keyUsage нет keyCertSign, сертификат не может подписывать сертификаты",
                sha1=facts["sha1"])
        if kind == "root":
            problem = _self_signature_problem(parsed)
            if problem is not None:
                raise NotSelfSignedError(f"{who} cannot be a root: {problem}",
                                         message_ru=f"{who} не может быть корневым: он не самоподписанный "
                                                    f"или его подпись неверна",
                                         sha1=facts["sha1"])
        entry = StoreEntry(
            kind=kind, sha1=facts["sha1"], sha256=facts["sha256"], streebog256=facts["streebog256"],
            subject=facts["subject"], subject_cn=facts["subject_cn"], issuer=facts["issuer"],
            serial=facts["serial"], not_before=_iso(facts["not_before"]), not_after=_iso(facts["not_after"]),
            key_identifier=facts["key_identifier"], cdp_urls=tuple(facts["cdp_urls"]),
            crl_urls=tuple(dict.fromkeys(crl_urls)) if kind == "intermediate" else (),
            file=_file_name(kind, facts["sha1"]), source=source, added_at=_now(),
        )
        return _Pending(entry=entry, data=parsed.dump())

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
                    raise TrustStoreError(
                        f"{old.subject_cn or old.subject} ({old.sha1}) is already in the store as {old.kind}; "
                        f"remove it first to store it as {new.kind}",
                        message_ru=f"{old.subject_cn or old.subject} ({old.sha1}) уже есть в хранилище",
                        sha1=old.sha1)
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
        scope = hashlib.sha256(tbs["issuer"].dump() + exts.get(_EXT_ISSUING_DISTRIBUTION_POINT, b"")
                               + (b"delta" if _EXT_DELTA_CRL_INDICATOR in exts else b"")).hexdigest()
        this_update = tbs["this_update"].native
        next_update = tbs["next_update"].native if tbs["next_update"].native is not None else None
        sha1 = hashlib.sha1(der).hexdigest().upper()  # noqa: S324
        entry = StoreEntry(
            kind="crl", sha1=sha1, sha256=hashlib.sha256(der).hexdigest(), subject=issuer,
            subject_cn=issuer_fields.get("CN", ""), issuer=issuer, file=_file_name("crl", sha1), source=source,
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
                raise TrustEntryNotFoundError(f"no certificate or CRL with thumbprint {value} in {self._path}",
                                              message_ru=f"в хранилище нет сертификата с отпечатком {value}",
                                              thumbprint=value)
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
                    raise TrustStoreError(f"{path} does not match its thumbprint {entry.sha1}: the store is damaged",
                                          message_ru=f"файл {path} не совпадает с отпечатком: хранилище повреждено",
                                          path=str(path))
                # Checked completely when imported and unchanged since (same SHA-1): a lazy load is enough.
                out.append(asn1_crl.CertificateList.load(der) if kind == "crl" else x509.Certificate.load(der))
            self._cache[kind] = (stamp, out)
            return list(out)

    def roots(self) -> list[x509.Certificate]:
        """The trusted root certificates (asn1crypto objects, ready for the validator)."""
        return self._load("root")

    def intermediates(self) -> list[x509.Certificate]:
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
        raise CrlFormatError(f"not a CRL: {type(data).__name__}", message_ru="ожидался список отзыва")
    if len(data) > MAX_CRL_BYTES:
        raise CrlFormatError(f"CRL larger than {MAX_CRL_BYTES} bytes", message_ru="слишком большой список отзыва")
    crl = load_crl(bytes(data))
    try:
        tbs = crl["tbs_cert_list"]
        tbs["issuer"].chosen  # noqa: B018
        tbs["this_update"].native  # noqa: B018
        tbs["next_update"].native  # noqa: B018
        crl["signature"].native  # noqa: B018
    except (ValueError, TypeError, KeyError, OverflowError) as exc:
        raise CrlFormatError(f"not a readable CRL: {_one_line(exc)}",
                             message_ru="не удаётся прочитать список отзыва") from None
    return crl, crl.dump()

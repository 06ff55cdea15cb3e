"""Use case ``signagent cert validate``: files in, a validation report and an exit code out.

:func:`validate_certificate_file` reads the certificate to validate and the ``--trust`` / ``--intermediate`` /
``--crl`` paths (each a file -- PEM, DER, bare base64, PKCS#7 bundle -- or a directory of such files), then runs
:func:`signagent.trust.validation.validate`. :func:`exit_code` (the one mapping, :func:`signagent.outcome.exit_code`,
shared with ``signagent verify``) maps the verdict to the exit status of DESIGN.md section 3: 0 valid, 1 invalid,
2 indeterminate.

:func:`validate_certificates` is the same check on certificates already loaded (the localhost API reads them from
a request's bytes, :mod:`signagent.service.validation_bytes`), and :func:`anchors_and_material` the one rule for
the anchors of a check (the caller's roots, else the user's trust store), shared with ``signagent verify``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from asn1crypto import crl

from signagent.errors import CertificateFormatError, CrlFormatError, FileAccessError, UsageError
from signagent.fileio import read_capped
from signagent.outcome import exit_code
from signagent.trust.report import ValidationReport
from signagent.x509 import Certificate
from signagent.x509.loading import load_certificates_path, load_crls

from . import policy, reports
from .config import Config

__all__ = ["anchors_and_material", "certificate_report", "exit_code", "load_certificate_paths", "load_crl_paths",
           "parse_time", "validate_certificate_file", "validate_certificates"]

PathLike = str | os.PathLike[str]
_FIRST_YEAR, _LAST_YEAR = 1950, 9998
_MAX_CRL_FILE = 256 << 20  # the biggest real CRLs (ФНС) are tens of megabytes


def load_certificate_paths(paths: Iterable[PathLike]) -> list[Certificate]:
    """The certificates of every file or directory in ``paths`` (--trust, --intermediate, --chain...), in order."""
    found: list[Certificate] = []
    for path in paths:
        found.extend(load_certificates_path(path))
    return found


def _read(path: Path) -> bytes:
    return read_capped(path, _MAX_CRL_FILE, "CRL", CrlFormatError)


def load_crl_paths(paths: Iterable[PathLike]) -> list[crl.CertificateList]:
    """CRLs from files (each must hold CRLs) and directories (files that are not CRLs are skipped)."""
    found: list[crl.CertificateList] = []
    for path in map(Path, paths):
        if path.is_dir():
            for entry in sorted(path.iterdir()):
                if entry.name.startswith(".") or not entry.is_file():
                    continue
                try:
                    found.extend(load_crls(_read(entry)))
                except CrlFormatError:
                    continue
        else:
            try:
                found.extend(load_crls(_read(path)))
            except CrlFormatError as exc:
                raise CrlFormatError(f"{path}: {exc.message}", message_ru=f"{path}: {exc.message_ru}") from None
    return found


def parse_time(text: str) -> datetime:
    """An ISO-8601 time for ``--at`` (a date alone means its midnight; no zone means UTC), in UTC.

    Years 1950..9998 only: X.509 times start in 1950 (RFC 5280 section 4.1.2.5.1: UTCTime years 50-99 are
    19xx), and the checks compare the time with validity bounds plus tolerances, which must not step outside
    Python's datetime range (``--at 9999-12-31T23:59:59`` used to end in an OverflowError). UsageError otherwise.
    """
    try:
        when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        when = when.astimezone(UTC)
    except (ValueError, OverflowError):
        raise UsageError(situation="bad_time", parameter="at", value=repr(text)) from None
    if not _FIRST_YEAR <= when.year <= _LAST_YEAR:
        raise UsageError(situation="year_out_of_range", parameter="at", first=_FIRST_YEAR, last=_LAST_YEAR,
                         year=when.year)
    return when


def validate_certificate_file(path: PathLike, *, trust_paths: Iterable[PathLike] = (),
                              intermediate_paths: Iterable[PathLike] = (), crl_paths: Iterable[PathLike] = (),
                              trust_roots: Iterable[object] = (), intermediates: Iterable[object] = (),
                              crls: Iterable[object] = (), at: datetime | str | None = None,
                              offline: bool = False, revocation: Literal["soft", "hard", "off"] | None = None,
                              cache_dir: PathLike | None = None, config: Config | None = None) -> ValidationReport:
    """Validate the certificate in ``path`` (the first one when the file holds several: the others become
    intermediates). ``trust_paths`` and/or ``trust_roots`` (certificates the caller already has) give the anchors;
    without either, a ``config`` gives the user's trust store (:func:`signagent.service.policy.store_material`).
    ``at`` is a datetime or an ISO-8601 string. ``revocation`` (None: the configuration's, else soft),
    ``offline`` and ``cache_dir`` default to the configuration's when there is one.

    Raises FileAccessError / CertificateFormatError / CrlFormatError for unreadable input, UsageError when no
    trust anchor is given. ``intermediates`` and ``crls`` add objects the caller already holds (the trust
    store's).
    """
    return _validate(path, trust_paths=trust_paths, intermediate_paths=intermediate_paths, crl_paths=crl_paths,
                     trust_roots=trust_roots, intermediates=intermediates, crls=crls, at=at, offline=offline,
                     revocation=revocation, cache_dir=cache_dir, config=config)[0]


def certificate_report(path: PathLike, *, config: Config, **options: Any) -> tuple[ValidationReport, dict[str, Any]]:
    """:func:`validate_certificate_file` (same keywords) for display: the report and its JSON-ready document, in
    which each certificate of the chain and each reason about one carries its owner's short name
    (``owner_name``: ФИО or CN, :func:`signagent.service.reports.owner_name`)."""
    report, known = _validate(path, config=config, **options)
    return report, reports.validation_document(report, known)


def _validate(path: PathLike, *, trust_paths: Iterable[PathLike] = (), intermediate_paths: Iterable[PathLike] = (),
              crl_paths: Iterable[PathLike] = (), trust_roots: Iterable[object] = (),
              intermediates: Iterable[object] = (), crls: Iterable[object] = (), at: datetime | str | None = None,
              offline: bool = False, revocation: Literal["soft", "hard", "off"] | None = None,
              cache_dir: PathLike | None = None, config: Config | None = None,
              ) -> tuple[ValidationReport, list[object]]:
    """The report, and every certificate given (the owner names of the report's document come from them)."""
    if Path(path).is_dir():
        raise FileAccessError(situation="directory_not_certificate", path=path)
    certificates = load_certificates_path(path)
    return validate_certificates(
        certificates, trust_roots=[*load_certificate_paths(trust_paths), *trust_roots],
        intermediates=[*load_certificate_paths(intermediate_paths), *intermediates],
        crls=[*load_crl_paths(crl_paths), *crls], at=at, offline=offline, revocation=revocation,
        cache_dir=cache_dir, config=config)


def anchors_and_material(config: Config | None, trust_roots: Iterable[object], intermediates: Iterable[object],
                         crls: Iterable[object], *, use_trust_store: bool = True,
                         ) -> tuple[list[object], list[object], list[object]]:
    """(roots, intermediates, CRLs) of one check: the caller's; without roots of its own, the user's trust store's
    too (DESIGN.md section 3: no --trust means the store), unless ``use_trust_store`` is false or there is no
    ``config``. UsageError ``no_trust_anchor`` (needs ``trust``) when no root is left.

    The one rule of ``cert validate`` and ``verify``, for files (the command line) and bytes (the localhost API).
    """
    roots = list(trust_roots)
    store: dict[str, list[Any]] = {}
    if use_trust_store and config is not None and not roots:
        store = policy.store_material(config)
    roots += store.get("trust_roots", [])
    if not roots:
        raise UsageError(situation="no_trust_anchor", needs="trust")
    return roots, [*intermediates, *store.get("intermediates", [])], [*crls, *store.get("crls", [])]


def validate_certificates(certificates: Sequence[object], *, trust_roots: Iterable[object] = (),
                          intermediates: Iterable[object] = (), crls: Iterable[object] = (),
                          at: datetime | str | None = None, offline: bool = False,
                          revocation: Literal["soft", "hard", "off"] | None = None,
                          cache_dir: PathLike | None = None, config: Config | None = None,
                          use_trust_store: bool = True) -> tuple[ValidationReport, list[object]]:
    """Validate the first of ``certificates`` (the others are intermediates: a bundle's chain), already loaded;
    the report and every certificate given (for the owner names of
    :func:`signagent.service.reports.validation_document`). Anchors, store and settings as
    :func:`validate_certificate_file`; ``use_trust_store`` False never consults the store."""
    # pyhanko (path validation) is loaded by the first check, not with this module: `signagent serve` and the
    # commands that never validate do not pay for it
    from signagent.trust.validation import validate

    if not certificates:
        raise CertificateFormatError(situation="not_one", count=0)
    target, *bundled = certificates
    roots, more, all_crls = anchors_and_material(config, trust_roots, intermediates, crls,
                                                 use_trust_store=use_trust_store)
    all_intermediates = [*bundled, *more]
    when = parse_time(at) if isinstance(at, str) else at
    report = validate(target, trust_roots=roots, intermediates=all_intermediates, crls=all_crls, at=when,
                      **policy.check_settings(config, revocation=revocation, offline=offline, cache_dir=cache_dir))
    return report, [target, *roots, *all_intermediates]

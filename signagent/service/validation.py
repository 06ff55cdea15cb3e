"""Use case ``signagent cert validate``: files in, a validation report and an exit code out.

:func:`validate_certificate_file` reads the certificate to validate and the ``--trust`` / ``--intermediate`` /
``--crl`` paths (each a file -- PEM, DER, bare base64, PKCS#7 bundle -- or a directory of such files), then runs
:func:`signagent.trust.validation.validate`. :func:`exit_code` maps the verdict to the exit status of DESIGN.md
section 3: 0 valid, 1 invalid, 2 indeterminate.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from asn1crypto import crl

from signagent.errors import CrlFormatError, FileAccessError, UsageError
from signagent.fileio import read_capped
from signagent.trust.report import ValidationReport
from signagent.trust.validation import validate
from signagent.x509 import Certificate
from signagent.x509.loading import load_certificates_path, load_crls

__all__ = ["exit_code", "load_certificate_paths", "load_crl_paths", "parse_time", "validate_certificate_file"]

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
    return read_capped(path, _MAX_CRL_FILE, "CRL", lambda message, message_ru: CrlFormatError(message,
                                                                                            message_ru=message_ru))


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
        raise UsageError(f"--at: not an ISO-8601 time: {text!r}",
                         message_ru=f"--at: время не в формате ISO-8601: {text!r}") from None
    if not _FIRST_YEAR <= when.year <= _LAST_YEAR:
        raise UsageError(f"--at: the year must be between {_FIRST_YEAR} and {_LAST_YEAR}, not {when.year}",
                         message_ru=f"--at: год должен быть от {_FIRST_YEAR} до {_LAST_YEAR}, а не {when.year}")
    return when


def validate_certificate_file(path: PathLike, *, trust_paths: Iterable[PathLike] = (),
                              intermediate_paths: Iterable[PathLike] = (), crl_paths: Iterable[PathLike] = (),
                              trust_roots: Iterable[object] = (), intermediates: Iterable[object] = (),
                              crls: Iterable[object] = (), at: datetime | str | None = None,
                              offline: bool = False, revocation: Literal["soft", "hard", "off"] = "soft",
                              cache_dir: PathLike | None = None) -> ValidationReport:
    """Validate the certificate in ``path`` (the first one when the file holds several: the others become
    intermediates). ``trust_paths`` and/or ``trust_roots`` (certificates the caller already has, e.g. the user's
    trust store) give the anchors; ``at`` is a datetime or an ISO-8601 string.

    Raises FileAccessError / CertificateFormatError / CrlFormatError for unreadable input, UsageError when no
    trust anchor is given. ``intermediates`` and ``crls`` add objects the caller already holds (the trust
    store's).
    """
    if Path(path).is_dir():
        raise FileAccessError(f"{path}: is a directory; give the certificate file",
                              message_ru=f"{path}: это каталог; укажите файл сертификата")
    certificates = load_certificates_path(path)
    target, *bundled = certificates
    roots = load_certificate_paths(trust_paths) + list(trust_roots)
    if not roots:
        raise UsageError("no trust anchor: give --trust or import roots into the trust store",
                         message_ru="нет доверенных корневых сертификатов: укажите --trust или импортируйте их")
    all_intermediates = bundled + load_certificate_paths(intermediate_paths) + list(intermediates)
    all_crls = load_crl_paths(crl_paths) + list(crls)
    when = parse_time(at) if isinstance(at, str) else at
    return validate(target, trust_roots=roots, intermediates=all_intermediates, crls=all_crls, at=when,
                    offline=offline,
                    revocation=revocation, cache_dir=None if cache_dir is None else str(cache_dir))


def exit_code(report: ValidationReport) -> int:
    """0 valid, 1 invalid, 2 indeterminate (DESIGN.md section 3)."""
    return {"valid": 0, "invalid": 1, "indeterminate": 2}[report.status]

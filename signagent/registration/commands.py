"""The use case behind ``signagent registration verify``: files in, a :class:`~.report.RegistrationReport` out.

It reads the signed request (a regular file or ``-`` for standard input, at most
:data:`~.verifier.MAX_SIGNED_REQUEST` bytes), the ЕГРЮЛ / ЕГРИП extracts (:class:`~.egr.ExtractRegistry`), the
trust anchors, intermediates and CRLs (files or directories, as ``signagent verify`` reads them; without anchors,
the user's trust store), and runs :func:`~.verifier.verify_registration` with revocation ``hard``. The nonce the
caller names is taken as issued by the portal for ``origin`` (a :class:`~.nonces.MemoryNonceStore` holding it):
the command checks one request the way the portal would, without the portal's database.

Exports: verify_registration_files, PortalOrganisations.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from datetime import datetime

from signagent.errors import UsageError
from signagent.fileio import read_capped, read_stream_capped
from signagent.service import policy
from signagent.service.config import Config
from signagent.service.validation import anchors_and_material, load_certificate_paths, load_crl_paths, parse_time

from .egr import ExtractRegistry
from .nonces import MemoryNonceStore
from .report import RegistrationReport
from .verifier import MAX_SIGNED_REQUEST, verify_registration

__all__ = ["PortalOrganisations", "verify_registration_files"]

PathLike = str | os.PathLike[str]


class PortalOrganisations:
    """An :class:`~.verifier.OrganisationDirectory` of organisations named by ОГРН (ОГРНИП) or ИНН: an
    organisation exists when every number the request gives is one of them."""

    def __init__(self, numbers: Iterable[str]) -> None:
        self.numbers = frozenset(n.strip() for n in numbers if n.strip())

    def exists(self, *, ogrn: str | None = None, inn: str | None = None) -> bool:
        """See :class:`~.verifier.OrganisationDirectory`."""
        given = [n for n in (ogrn, inn) if n]
        return bool(given) and all(n in self.numbers for n in given)


def _read_signed(path: PathLike) -> bytes:
    if os.fspath(path) == "-":
        return read_stream_capped(sys.stdin.buffer, MAX_SIGNED_REQUEST, "signed request")
    return read_capped(path, MAX_SIGNED_REQUEST, "signed request")


def verify_registration_files(signed_path: PathLike, *, origin: str, nonce: str,
                              egrul_paths: Iterable[PathLike] = (), egrip_paths: Iterable[PathLike] = (),
                              trust_paths: Iterable[PathLike] = (), intermediate_paths: Iterable[PathLike] = (),
                              crl_paths: Iterable[PathLike] = (), organisations: Iterable[str] = (),
                              at: datetime | str | None = None, offline: bool = False,
                              config: Config | None = None) -> RegistrationReport:
    """Verify the signed registration request in ``signed_path`` for the portal at ``origin`` that issued
    ``nonce``. ``organisations``: ОГРН / ИНН of the organisations registered in the portal (employee requests).

    Raises UsageError without any extract (``needs`` egrul) or trust anchor, InvalidInputError for a nonce that
    is not 64 hex digits, OriginInvalidError for a malformed origin, and the readers' errors for unreadable or
    malformed files (exit status 2 in the command line); the verdict itself is the report.
    """
    extracts = [*egrul_paths, *egrip_paths]
    if not extracts:
        raise UsageError("give at least one ЕГРЮЛ or ЕГРИП extract",
                         message_ru="укажите хотя бы одну выписку из ЕГРЮЛ или ЕГРИП", needs="egrul|egrip")
    store = MemoryNonceStore()
    store.add(nonce, origin)
    registry = ExtractRegistry.from_files(extracts)
    roots, more, crls = anchors_and_material(config, load_certificate_paths(trust_paths),
                                             load_certificate_paths(intermediate_paths), load_crl_paths(crl_paths))
    checks = policy.check_settings(config, revocation="hard", offline=offline)
    when = parse_time(at) if isinstance(at, str) else at
    data = _read_signed(signed_path)
    return verify_registration(data, origin=origin, nonce_store=store, registry=registry, trust_roots=roots,
                               intermediates=more, crls=crls, at=when, offline=checks["offline"],
                               revocation="hard", fetcher=checks["fetcher"], cache_dir=checks["cache_dir"],
                               organisations=PortalOrganisations(organisations))

"""Use cases ``signagent sign`` and ``signagent verify``: files in, a CAdES-BES signature or a report out.

* :func:`load_signer` -- a :class:`~signagent.cms.signer.SoftwareSigner` from a certificate file (PEM, DER,
  base64, bundle: the first certificate signs, the others are its chain) and a PKCS#8 key file (password for an
  encrypted one);
* :func:`sign_file` (software key) / :func:`write_signature` (any signer) -- streams the file through
  :func:`signagent.cms.signing.sign` into the output, written atomically: a temporary file beside the target,
  fsync, rename; on any error the temporary file is removed and the target is left as it was (never a partial
  signature);
* :func:`verify_signature_file` -- reads the signature (DER, PEM or base64), the content for a detached one
  (streamed), extra certificates, trust anchors, intermediates and CRLs (files or directories), and runs
  :func:`signagent.cms.verification.verify` with :func:`signagent.trust.validation.validate` as the chain check;
* :func:`exit_code` -- 0 valid, 1 invalid, 2 indeterminate (DESIGN.md section 3).

Exports: load_signer, read_password_file, sign_file, write_signature, verify_signature_file, exit_code.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import BinaryIO, Literal

from signagent.cms.armor import PemWriter
from signagent.cms.errors import CmsFormatError
from signagent.cms.keyfile import load_private_key
from signagent.cms.parsing import MAX_CMS_SIZE
from signagent.cms.report import CmsVerificationReport
from signagent.cms.signer import Signer, SoftwareSigner
from signagent.cms.signing import sign
from signagent.cms.verification import verify
from signagent.errors import FileAccessError, SignAgentError, UsageError
from signagent.fileio import fsync_dir, read_capped
from signagent.trust.validation import validate
from signagent.x509 import Certificate, load_certificates_path

from .validation import load_certificate_paths, load_crl_paths, parse_time

__all__ = ["exit_code", "load_signer", "read_password_file", "sign_file", "verify_signature_file", "write_signature"]

PathLike = str | os.PathLike[str]
_MAX_PASSWORD_FILE = 4096


def read_password_file(path: PathLike) -> str:
    """The password (or PIN) in a file: its first line without the line end."""
    data = read_capped(path, _MAX_PASSWORD_FILE, "password")
    text = data.decode("utf-8", errors="strict") if data else ""
    return text.splitlines()[0] if text else ""


def load_signer(certificate_path: PathLike, key_path: PathLike,
                password: str | bytes | None = None) -> tuple[SoftwareSigner, list[Certificate]]:
    """The signer of ``key_path`` for the first certificate of ``certificate_path``, and the file's other
    certificates (the chain to include). CmsSigningError when the key is not the certificate's."""
    certificates = load_certificates_path(certificate_path)
    if Path(certificate_path).is_dir():
        raise FileAccessError(f"{certificate_path}: is a directory; give the certificate file",
                              message_ru=f"{certificate_path}: это каталог; укажите файл сертификата")
    signer_cert, *chain = certificates
    key = load_private_key(key_path, password)
    return SoftwareSigner(signer_cert, key), chain


@contextlib.contextmanager
def _atomic_output(path: PathLike):  # type: ignore[no-untyped-def]
    """A binary stream that becomes ``path`` only when the block ends without an error."""
    target = Path(path)
    if target.is_dir():
        raise FileAccessError(f"{target}: is a directory", message_ru=f"{target}: это каталог")
    directory = target.parent if str(target.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise FileAccessError(f"{target}: cannot write: {exc.strerror or exc}",
                              message_ru=f"{target}: невозможно записать файл") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; a signature is not secret
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):
        fsync_dir(directory)


def sign_file(path: PathLike, *, certificate_path: PathLike, key_path: PathLike, output_path: PathLike,
              key_password: str | bytes | None = None, detached: bool = False, pem: bool = False,
              signing_time: datetime | None = None) -> None:
    """Sign the file ``path`` with a software key (PKCS#8 ``key_path``, the first certificate of
    ``certificate_path``; further certificates there are included as the chain) -- see :func:`write_signature`.

    Raises FileAccessError, CertificateFormatError, key file errors, CmsSigningError. (Signing on a token:
    :func:`signagent.service.token_access.sign_file_with_token`.)
    """
    signer, chain = load_signer(certificate_path, key_path, key_password)
    write_signature(path, signer, output_path=output_path, chain=chain, detached=detached, pem=pem,
                    signing_time=signing_time)


def write_signature(path: PathLike, signer: Signer, *, output_path: PathLike, chain: Iterable[Certificate] = (),
                    detached: bool = False, pem: bool = False, signing_time: datetime | None = None) -> None:
    """Sign the file ``path`` by ``signer`` (CAdES-BES, streamed) into ``output_path`` (DER, or PEM with ``pem``).

    The output appears atomically when the signature is complete; on any error (unreadable input, a token pulled
    out, a wrong PIN) the target is left as it was and no temporary file remains.
    """
    name = os.fspath(path)
    try:
        source = open(name, "rb", buffering=0)  # closed by the with-block below, after the output is complete
    except IsADirectoryError:
        raise FileAccessError(f"{name}: is a directory", message_ru=f"{name}: это каталог") from None
    except FileNotFoundError:
        raise FileAccessError(f"{name}: no such file", message_ru=f"{name}: файл не найден") from None
    except OSError as exc:
        raise FileAccessError(f"{name}: {exc.strerror or exc}", message_ru=f"{name}: ошибка чтения") from None
    with source, _atomic_output(output_path) as out:
        sink: BinaryIO | PemWriter = PemWriter(out) if pem else out
        try:
            sign(source, signer, detached=detached, certificates=list(chain), signing_time=signing_time,
                 out=sink)  # type: ignore[arg-type]
        except OSError as exc:
            raise FileAccessError(f"{name}: {exc.strerror or exc}", message_ru=f"{name}: ошибка ввода-вывода") from None
        if isinstance(sink, PemWriter):
            sink.close()


def _too_large(message: str, message_ru: str) -> SignAgentError:
    return CmsFormatError(message, message_ru=message_ru)


def verify_signature_file(signature_path: PathLike, *, content_path: PathLike | None = None,
                          certificate_paths: Iterable[PathLike] = (), trust_paths: Iterable[PathLike] = (),
                          intermediate_paths: Iterable[PathLike] = (), crl_paths: Iterable[PathLike] = (),
                          trust_roots: Iterable[object] = (), intermediates: Iterable[object] = (),
                          crls: Iterable[object] = (), at: datetime | str | None = None, offline: bool = False,
                          revocation: Literal["soft", "hard", "off"] = "soft",
                          cache_dir: PathLike | None = None) -> CmsVerificationReport:
    """Verify the CMS signature in ``signature_path`` (of ``content_path`` when detached).

    ``at``: None (now), a datetime, an ISO-8601 string, or ``"signing-time"`` (the signer's claimed time).
    ``trust_paths``/``trust_roots`` give the anchors (UsageError when there are none); ``intermediates``,
    ``crls``: objects the caller holds already (the trust store's). Raises CmsFormatError for a malformed
    signature, CmsContentMissingError for a detached one without content, FileAccessError and the loaders'
    format errors for unreadable files.
    """
    data = read_capped(signature_path, MAX_CMS_SIZE, "signature", _too_large)
    extra = load_certificate_paths(certificate_paths)
    roots = load_certificate_paths(trust_paths) + list(trust_roots)
    if not roots:
        raise UsageError("no trust anchor: give --trust or import roots into the trust store",
                         message_ru="нет доверенных корневых сертификатов: укажите --trust или импортируйте их")
    more = load_certificate_paths(intermediate_paths) + list(intermediates)
    all_crls = load_crl_paths(crl_paths) + list(crls)
    when: datetime | Literal["signing-time"] | None
    if isinstance(at, str):
        when = "signing-time" if at.strip() == "signing-time" else parse_time(at)
    else:
        when = at

    def validate_chain(cert: Certificate, others: Sequence[Certificate], moment: datetime | None):  # type: ignore[no-untyped-def]
        return validate(cert, trust_roots=roots, intermediates=[*others, *more], crls=all_crls, at=moment,
                        offline=offline, revocation=revocation,
                        cache_dir=None if cache_dir is None else str(cache_dir))

    return verify(data, content=content_path, extra_certificates=extra, validate_chain=validate_chain, at=when)


def exit_code(report: CmsVerificationReport) -> int:
    """0 valid, 1 invalid, 2 indeterminate (DESIGN.md section 3)."""
    return {"valid": 0, "invalid": 1, "indeterminate": 2}[report.status]

"""Use cases ``signagent sign`` and ``signagent verify``: files in, a CAdES-BES signature or a report out.

* :func:`load_signer` -- a :class:`~signagent.cms.signer.SoftwareSigner` from a certificate file (PEM, DER,
  base64, bundle: the first certificate signs, the others are its chain) and a PKCS#8 key file (password for an
  encrypted one);
* :func:`sign_file` (software key) / :func:`write_signature` (any signer) -- streams the file through
  :func:`signagent.cms.signing.sign` into the output, written by :func:`signagent.fileio.open_output`:
  atomically (temporary file beside the target, fsync, rename; on any error, Ctrl-C or SIGTERM the temporary
  file is removed and the target is left as it was, never a partial signature), never over a device or FIFO,
  ``-`` for standard output. The content is a regular file or ``-`` (standard input);
* :func:`verify_signature_file` -- reads the signature (DER, PEM or base64), the content for a detached one
  (streamed), extra certificates, trust anchors, intermediates and CRLs (files or directories), and runs
  :func:`signagent.cms.verification.verify` with :func:`signagent.trust.validation.validate` as the chain check;
  :func:`verify_signature_data` is the same on bytes and objects already read (the localhost API's entry,
  through :mod:`signagent.service.validation_bytes`);
* :func:`exit_code` -- 0 valid, 1 invalid, 2 indeterminate (DESIGN.md section 3; the one mapping,
  :func:`signagent.outcome.exit_code`, shared with ``signagent cert validate``).

Exports: load_signer, read_password_file, sign_file, write_signature, verify_signature_file,
verify_signature_data, exit_code.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Literal

from signagent.cms.armor import PemWriter
from signagent.cms.signer import Signer, SoftwareSigner
from signagent.cms.signing import sign, sign_digest
from signagent.errors import FileAccessError, UsageError
from signagent.fileio import open_input, open_output, read_capped, read_secret, read_stream_capped
from signagent.outcome import exit_code
from signagent.pkcs8.keyfile import load_private_key
from signagent.x509 import Certificate, load_certificates_path

from . import prehash

if TYPE_CHECKING:  # verification's modules are imported by verify_signature_file: `signagent sign` needs none
    from signagent.cms.report import CmsVerificationReport

    from .config import Config

__all__ = ["exit_code", "load_signer", "read_password_file", "sign_file", "verify_signature_data",
           "verify_signature_file", "write_signature"]

PathLike = str | os.PathLike[str]


def read_password_file(path: PathLike) -> str:
    """The password (or PIN) in a file: its first line without the line end (:func:`signagent.fileio.read_secret`,
    the one reader every command uses)."""
    return read_secret(path, "password")


def load_signer(certificate_path: PathLike, key_path: PathLike,
                password: str | bytes | None = None) -> tuple[SoftwareSigner, list[Certificate]]:
    """The signer of ``key_path`` for the first certificate of ``certificate_path``, and the file's other
    certificates (the chain to include). CmsSigningError when the key is not the certificate's."""
    certificates = load_certificates_path(certificate_path)
    if Path(certificate_path).is_dir():
        raise FileAccessError(situation="directory_not_certificate", path=certificate_path)
    signer_cert, *chain = certificates
    key = load_private_key(key_path, password)
    return SoftwareSigner(signer_cert, key), chain


def sign_file(path: PathLike, *, certificate_path: PathLike, key_path: PathLike, output_path: PathLike,
              key_password: str | bytes | None = None, detached: bool = False, pem: bool = False,
              signing_time: datetime | None = None, origin: str | None = None) -> None:
    """Sign the file ``path`` with a software key (PKCS#8 ``key_path``, the first certificate of
    ``certificate_path``; further certificates there are included as the chain) -- see :func:`write_signature`.

    Raises FileAccessError, CertificateFormatError, key file errors, CmsSigningError. (Signing on a token:
    :func:`signagent.service.token_access.sign_file_with_token`.)
    """
    signer, chain = load_signer(certificate_path, key_path, key_password)
    write_signature(path, signer, output_path=output_path, chain=chain, detached=detached, pem=pem,
                    signing_time=signing_time, origin=origin)


def write_signature(path: PathLike, signer: Signer, *, output_path: PathLike, chain: Iterable[Certificate] = (),
                    detached: bool = False, pem: bool = False, signing_time: datetime | None = None,
                    origin: str | None = None) -> None:
    """Sign the file ``path`` by ``signer`` (CAdES-BES, streamed) into ``output_path`` (DER, or PEM with ``pem``).
    ``origin``: a web origin to state in signagent's origin attribute (normalized here; see docs/API.md).

    The output appears atomically when the signature is complete; on any error (unreadable input, a token pulled
    out, a wrong PIN) the target is left as it was and no temporary file remains.
    """
    name = os.fspath(path)
    if origin is not None:
        from .origins import normalize_origin

        origin = normalize_origin(origin)
    with _open_content(name) as source, open_output(output_path) as out:
        sink: BinaryIO | PemWriter = PemWriter(out) if pem else out
        # The command line may have hashed the file while it started (service.prehash): then only the signature
        # is made here, from that digest, without reading the content again.
        ready = prehash.take(name, signer.certificate.public_key().curve.size) if detached else None
        try:
            if ready is not None:
                sink.write(sign_digest(ready, signer, certificates=list(chain), signing_time=signing_time,
                                       origin=origin))
            else:
                sign(source, signer, detached=detached, certificates=list(chain), signing_time=signing_time,
                     out=sink, origin=origin)  # type: ignore[arg-type]
        except OSError as exc:
            raise FileAccessError(situation="io_error", path=name, error=exc.strerror or exc) from None
        if isinstance(sink, PemWriter):
            sink.close()


@contextlib.contextmanager
def _open_content(name: str) -> Iterator[BinaryIO]:
    """The content to sign: a regular file (streamed; its size is known in advance), or standard input for
    ``-`` (cms.signing spools it to a temporary file, up to its documented cap)."""
    if name == "-":
        yield sys.stdin.buffer
        return
    with open_input(name) as source:
        yield source


def verify_signature_file(signature_path: PathLike, *, content_path: PathLike | None = None,
                          certificate_paths: Iterable[PathLike] = (), trust_paths: Iterable[PathLike] = (),
                          intermediate_paths: Iterable[PathLike] = (), crl_paths: Iterable[PathLike] = (),
                          trust_roots: Iterable[object] = (), intermediates: Iterable[object] = (),
                          crls: Iterable[object] = (), at: datetime | str | None = None, offline: bool = False,
                          revocation: Literal["soft", "hard", "off"] | None = None,
                          cache_dir: PathLike | None = None, config: Config | None = None) -> CmsVerificationReport:
    """Verify the CMS signature in ``signature_path`` (of ``content_path`` when detached).

    ``at``: None (now), a datetime, an ISO-8601 string, or ``"signing-time"`` (the signer's claimed time).
    ``trust_paths``/``trust_roots`` give the anchors (UsageError when there are none); without either, a
    ``config`` gives the user's trust store. ``intermediates``, ``crls``: objects the caller holds already.
    ``revocation`` (None: the configuration's, else soft), ``offline`` and ``cache_dir`` default to the
    configuration's when there is one. Raises CmsFormatError for a malformed
    signature, CmsContentMissingError for a detached one without content, FileAccessError and the loaders'
    format errors for unreadable files.
    """
    # The CMS reader's limit is imported here and not with the module: `signagent sign` never needs it.
    from signagent.cms.parsing import MAX_CMS_SIZE

    from .validation import load_certificate_paths, load_crl_paths

    if content_path is not None and os.fspath(content_path) == "-" and os.fspath(signature_path) == "-":
        raise UsageError(situation="stdin_twice")
    if os.fspath(signature_path) == "-":
        data = read_stream_capped(sys.stdin.buffer, MAX_CMS_SIZE, "signature")
    else:
        data = read_capped(signature_path, MAX_CMS_SIZE, "signature")
    extra = load_certificate_paths(certificate_paths)
    roots = [*load_certificate_paths(trust_paths), *trust_roots]
    more = [*load_certificate_paths(intermediate_paths), *intermediates]
    all_crls = [*load_crl_paths(crl_paths), *crls]
    content: PathLike | BinaryIO | None = content_path
    if content_path is not None and os.fspath(content_path) == "-":
        content = sys.stdin.buffer  # streamed through the hash, never held
    return verify_signature_data(data, content=content, extra_certificates=extra, trust_roots=roots,
                                 intermediates=more, crls=all_crls, at=at, offline=offline, revocation=revocation,
                                 cache_dir=cache_dir, config=config)


def verify_signature_data(data: bytes, *, content: PathLike | BinaryIO | bytes | None = None,
                          extra_certificates: Iterable[Certificate] = (), trust_roots: Iterable[object] = (),
                          intermediates: Iterable[object] = (), crls: Iterable[object] = (),
                          at: datetime | str | None = None, offline: bool = False,
                          revocation: Literal["soft", "hard", "off"] | None = None,
                          cache_dir: PathLike | None = None, config: Config | None = None,
                          use_trust_store: bool = True, check_chain: bool = True) -> CmsVerificationReport:
    """:func:`verify_signature_file` on what is already read: the signature's bytes (DER, PEM or base64), the
    content of a detached one (bytes, a binary stream or a path), loaded certificates, roots, intermediates and
    CRLs. ``use_trust_store`` False never consults the user's trust store (the roots must then be given).
    ``check_chain`` False checks the signatures alone: no trust anchor is needed, and each signer whose signature
    holds is ``indeterminate`` with ``chain_not_checked``."""
    # The chain check's layer (trust store, path validation, pyhanko, asyncio) is imported here and not with the
    # module: it is most of the start-up of `signagent sign`, which never uses it.
    from signagent.cms.verification import verify
    from signagent.trust.validation import validate

    from . import policy
    from .validation import anchors_and_material, parse_time

    if not check_chain:
        return verify(data, content=content, extra_certificates=list(extra_certificates), validate_chain=None)
    roots, more, all_crls = anchors_and_material(config, trust_roots, intermediates, crls,
                                                 use_trust_store=use_trust_store)
    settings = policy.check_settings(config, revocation=revocation, offline=offline, cache_dir=cache_dir)
    when: datetime | Literal["signing-time"] | None
    if isinstance(at, str):
        when = "signing-time" if at.strip() == "signing-time" else parse_time(at)
    else:
        when = at

    def validate_chain(cert: Certificate, others: Sequence[Certificate], moment: datetime | None):  # type: ignore[no-untyped-def]
        return validate(cert, trust_roots=roots, intermediates=[*others, *more], crls=all_crls, at=moment,
                        **settings)

    return verify(data, content=content, extra_certificates=list(extra_certificates),
                  validate_chain=validate_chain, at=when)

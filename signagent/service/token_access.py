"""Use cases on one token chosen by the user: find it, pick a certificate on it, sign with it, manage its objects.

* :func:`open_token` -- the token (PKCS#11 token, PC/SC card or the software key directory) whose label or serial
  is given, found among this machine's sources (:func:`signagent.service.sources.default_sources`); the loaded
  PKCS#11 modules are closed when the ``with`` block ends. ``token_not_found`` names the tokens that are there.
* :func:`find_certificate` -- a certificate on the token by reference: the Streebog-256 id the inventory shows
  (whole, or a unique prefix of at least 8 hex digits), the SHA-1 thumbprint CryptoPro and Windows show (spaces and
  colons allowed), or a certificate file.
* :func:`sign_file_with_token` -- ``signagent sign --token``: CAdES-BES through
  :class:`signagent.tokens.signer.TokenSigner` over the entry found (it carries the key, so the token is listed
  once), written atomically like a software signature.
* :func:`generate_key`, :func:`make_request`, :func:`import_certificate`, :func:`delete_objects` --
  ``signagent token keygen|csr|import|delete``; these need a PKCS#11 token (cards read over PC/SC and the key
  directory cannot create or destroy objects: ``usage_error`` says so).

A PIN is asked through the caller's :class:`~signagent.tokens.protocol.PinProvider` only by the operation that needs
it, and the token is logged out after it (DESIGN.md section 5).

Exports: open_token, find_certificate, sign_file_with_token, generate_key, make_request, import_certificate,
delete_objects, require_pkcs11, GeneratedTokenKey, MIN_PREFIX.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from asn1crypto import x509 as asn1_x509

from signagent.errors import FileAccessError, InvalidInputError, SignAgentError, UsageError
from signagent.gost import PublicKey
from signagent.tokens.errors import KeyNotFoundError, TokenNotFoundError
from signagent.tokens.pkcs11 import Pkcs11Token
from signagent.tokens.protocol import PinProvider, Token, TokenCertificate
from signagent.tokens.signer import TokenSigner
from signagent.x509 import Certificate, load_certificates_path

from . import keys as key_cases
from .signatures import write_signature
from .sources import default_sources
from .validation import load_certificate_paths

__all__ = [
    "MIN_PREFIX",
    "GeneratedTokenKey",
    "delete_objects",
    "find_certificate",
    "generate_key",
    "import_certificate",
    "make_request",
    "open_token",
    "require_pkcs11",
    "sign_file_with_token",
]

PathLike = str | os.PathLike[str]

#: The shortest id prefix accepted (the inventory's text view shows 16 hex digits).
MIN_PREFIX = 8
_HEX_SEPARATORS = re.compile(r"[\s:]")
_HEX = re.compile(r"[0-9a-f]+")


def _names(tokens: Sequence[Token]) -> str:
    return ", ".join(f"«{t.label}» ({t.serial})" for t in tokens) or "none"


@contextlib.contextmanager
def open_token(name: str, *, extra_modules: Iterable[str] = (), keys_dir: str | None = None) -> Iterator[Token]:
    """The token labelled ``name`` (or with serial ``name``) among this machine's sources, for one ``with`` block.

    Raises TokenNotFoundError (listing the tokens found, and why other sources could not be read) and UsageError
    when several tokens carry the label (the serial then tells them apart).
    """
    if not isinstance(name, str) or not name.strip():
        raise UsageError(situation="token_unnamed", needs="token")
    sources, modules, errors = default_sources(extra_modules, keys_dir=keys_dir)
    try:
        wanted = name.strip()  # PKCS#11 pads labels with blanks; the backends strip them, so the user's may go too
        by_label = [t for t in sources if t.label == wanted]
        by_serial = [t for t in sources if t.serial and t.serial.lower() == wanted.lower()]
        found = by_label or by_serial
        if len(found) > 1:
            raise UsageError(situation="label_ambiguous", label=name, tokens=_names(found))
        if not found:
            unread = "; ".join(f"{e.code}: {e.message}" for e in errors)
            unread_ru = "; ".join(f"{e.code}: {e.message_ru}" for e in errors)
            raise TokenNotFoundError(
                f"no token {name!r}; present: {_names(sources)}" + (f"; not read: {unread}" if unread else ""),
                message_ru=f"токен «{name}» не найден; подключены: {_names(sources)}"
                           + (f"; не прочитаны: {unread_ru}" if unread_ru else ""),
                label=name)
        yield found[0]
    finally:
        for module in modules:
            module.close()


def _normalised_ref(ref: str) -> str:
    return _HEX_SEPARATORS.sub("", ref).lower()


def find_certificate(token: Token, ref: str | Certificate) -> TokenCertificate:
    """The certificate on ``token`` that ``ref`` names (see the module docstring for the forms of ``ref``).

    KeyNotFoundError when the token has no such certificate; UsageError for a malformed or ambiguous reference.
    """
    entries = token.certificates()
    if isinstance(ref, Certificate):
        wanted = ref.streebog_thumbprint
        match = [e for e in entries if e.cert_id == wanted]
        shown = ref.sha1_thumbprint
    else:
        if not isinstance(ref, str) or not ref.strip():
            raise UsageError(situation="cert_unnamed", needs="cert")
        if os.path.isfile(ref):
            loaded = load_certificates_path(ref)
            return find_certificate(token, loaded[0])
        text = _normalised_ref(ref)
        if not _HEX.fullmatch(text) or len(text) < MIN_PREFIX:
            raise UsageError(situation="cert_ref_invalid", parameter="cert", ref=ref, min_digits=MIN_PREFIX)
        match = [e for e in entries if e.cert_id.startswith(text)]
        if len(text) == 40:  # the SHA-1 thumbprint CryptoPro shows
            match += [e for e in entries if e.certificate.sha1_thumbprint.lower() == text and e not in match]
        shown = ref
    if len(match) > 1 and len({e.cert_id for e in match}) > 1:
        raise UsageError(situation="cert_ref_ambiguous", parameter="cert", ref=shown, count=len(match),
                         token=token.label)
    if not match:
        raise KeyNotFoundError(situation="no_certificate", ref=shown, label=token.label, serial=token.serial)
    return match[0]


def sign_file_with_token(path: PathLike, *, token: str, certificate: str | Certificate, pin_provider: PinProvider,
                         output_path: PathLike, chain_paths: Iterable[PathLike] = (), detached: bool = False,
                         pem: bool = False, signing_time: datetime | None = None,
                         extra_modules: Iterable[str] = (), keys_dir: str | None = None,
                         origin: str | None = None) -> TokenCertificate:
    """Sign the file ``path`` with the key of ``certificate`` on ``token`` into ``output_path`` (CAdES-BES, streamed,
    written atomically; nothing is written when the token, the PIN or the key fails).

    ``chain_paths``: certificate files whose certificates are included after the signer's. Returns the entry used.
    KeyNotFoundError when the certificate has no private key on the token.
    """
    chain = load_certificate_paths(chain_paths)
    with open_token(token, extra_modules=extra_modules, keys_dir=keys_dir) as found:
        entry = find_certificate(found, certificate)
        if not entry.has_private_key:
            raise KeyNotFoundError(situation="no_key", cert_id=entry.cert_id[:16], label=found.label,
                                   serial=found.serial)
        signer = TokenSigner(found, entry, pin_provider)  # carries the key: signing lists nothing again
        write_signature(path, signer, output_path=output_path, detached=detached, pem=pem, chain=chain,
                        signing_time=signing_time, origin=origin)
    return entry


def require_pkcs11(token: Token, what: str, what_ru: str) -> Pkcs11Token:
    """``token`` as a PKCS#11 token; UsageError naming the action when it is a card or the key directory."""
    if not isinstance(token, Pkcs11Token):
        raise UsageError(situation="not_pkcs11", label=token.label, action=what, action_ru=what_ru)
    return token


@dataclass(frozen=True)
class GeneratedTokenKey:
    """A key pair made on a token: its CKA_ID and public key, and the token it is on."""

    key_id: bytes
    public_key: PublicKey
    token_label: str
    token_serial: str

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready description (the public key as X || Y little-endian hex, the form of the SPKI)."""
        return {"key_id": self.key_id.hex(), "curve": self.public_key.curve.name,
                "public_key": self.public_key.to_bytes().hex(), "token": {"label": self.token_label,
                                                                           "serial": self.token_serial}}


def generate_key(token: str, curve_name: str, pin_provider: PinProvider, *, key_label: str = "",
                 key_id: bytes | None = None, extra_modules: Iterable[str] = ()) -> GeneratedTokenKey:
    """Generate a GOST R 34.10-2012 key pair on the PKCS#11 token ``token`` (the private key never leaves it)."""
    with open_token(token, extra_modules=extra_modules) as found:
        p11 = require_pkcs11(found, "generate keys", "создание ключей")
        kid, key = p11.generate_key_pair(curve_name, pin_provider, key_id=key_id, label=key_label)
        return GeneratedTokenKey(kid, key, p11.label, p11.serial)


def make_request(token: str, subject: Sequence[tuple[str, str]], extensions: Iterable[asn1_x509.Extension],
                 pin_provider: PinProvider, *, key_id: bytes | None = None, new_key_curve: str | None = None,
                 key_label: str = "", out: PathLike | None = None, der: bool = False,
                 extra_modules: Iterable[str] = ()) -> tuple[bytes, GeneratedTokenKey]:
    """A PKCS#10 request signed by a key pair on the PKCS#11 token ``token``: the pair ``key_id``, or a new pair on
    ``new_key_curve`` made first (exactly one of the two). The subject is checked before any key is generated, so
    a bad subject leaves the token unchanged. Returns the request (PEM or DER) and the key it is for.
    """
    if (key_id is None) == (new_key_curve is None):
        raise UsageError(situation="one_key", needs="key_id|new_key")
    request_subject = list(subject)
    if not request_subject:
        raise InvalidInputError(situation="no_subject")
    with open_token(token, extra_modules=extra_modules) as found:
        p11 = require_pkcs11(found, "make a request", "создание запроса")
        if new_key_curve is not None:
            key_id, _ = p11.generate_key_pair(new_key_curve, pin_provider, label=key_label)
        assert key_id is not None
        signer = p11.key_signer(key_id, pin_provider)
        try:
            data = key_cases.make_request(signer, request_subject, extensions, out=out, der=der)
        except SignAgentError:
            if new_key_curve is not None:  # a key pair nobody can get a certificate for: do not leave it behind
                with contextlib.suppress(SignAgentError):
                    p11.delete_objects(key_id, pin_provider, certificates=False)
            raise
        return data, GeneratedTokenKey(key_id, signer.public_key(), p11.label, p11.serial)


def import_certificate(token: str, certificate_path: PathLike, pin_provider: PinProvider, *, label: str = "",
                       extra_modules: Iterable[str] = ()) -> tuple[Certificate, bytes]:
    """Put the (first) certificate of ``certificate_path`` on the PKCS#11 token next to its key pair (same
    CKA_ID). Returns the certificate and the CKA_ID. KeyNotFoundError when no key pair on the token is its key;
    a certificate already on the token is not written twice (UsageError)."""
    certificate = load_certificates_path(certificate_path)[0]
    if Path(certificate_path).is_dir():
        raise FileAccessError(situation="directory_not_certificate", path=certificate_path)
    with open_token(token, extra_modules=extra_modules) as found:
        p11 = require_pkcs11(found, "store certificates", "запись сертификатов")
        if any(e.cert_id == certificate.streebog_thumbprint for e in p11.certificates()):
            raise UsageError(situation="certificate_present", cert_id=certificate.streebog_thumbprint[:16],
                             label=p11.label)
        kid = p11.import_certificate(certificate, pin_provider, label=label)
    return certificate, kid


def delete_objects(token: str, pin_provider: PinProvider, *, certificate: str | None = None,
                   key_id: bytes | None = None, with_key: bool = False,
                   extra_modules: Iterable[str] = ()) -> int:
    """Destroy objects on the PKCS#11 token: the certificate ``certificate`` (and its key pair with ``with_key``), or
    every object with CKA_ID ``key_id`` (exactly one of the two). Returns the number of objects destroyed."""
    if (certificate is None) == (key_id is None):
        raise UsageError(situation="cert_or_key_id", needs="cert|key_id")
    with open_token(token, extra_modules=extra_modules) as found:
        p11 = require_pkcs11(found, "delete objects", "удаление объектов")
        if certificate is not None:
            entry = find_certificate(p11, certificate)
            return p11.delete_certificate(entry.cert_id, pin_provider, with_keys=with_key)
        assert key_id is not None
        count = p11.delete_objects(key_id, pin_provider)
        if count == 0:
            raise KeyNotFoundError(situation="no_object", key_id=key_id.hex(), label=p11.label)
        return count

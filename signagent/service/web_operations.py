"""What a web page may ask the agent to do with a token, held in a consent request until the user approves in the
agent's page, then run with the PIN typed there (DESIGN.md section 5; docs/API.md).

* :class:`Document`, :class:`SignJob` -- CAdES-BES signatures, one or a batch (one confirmation and one PIN entry
  for all): content given whole (attached or detached) or only its Streebog digest (detached only);
* :class:`CosignJob` -- a parallel CAdES-BES signer added to an existing SignedData (the cadesplugin layer's
  ``CoSignCades``): a :class:`SignJob` whose one document is the signed content (shown in the confirmation page like
  any document), plus the signature to add to;
* :class:`AuthJob` -- the origin-bound proof of possession of :mod:`.authentication`;
* :class:`KeygenJob`, :class:`ImportJob`, :class:`DeleteJob` -- a key pair and its PKCS#10 request, a certificate
  put next to its key, a certificate (and its key) removed: changes to a PKCS#11 token.

Each job names its token by the serial and label it had when the request was made (:class:`CertificateRef`); the
token is opened again at approval, and a token that is gone by then fails the request with ``token_removed``.
:func:`run` performs a job with the PIN (held in a ``bytearray`` that is wiped after the job, batch included; never
logged) and returns the JSON result the site polls for.

Exports: Document, CertificateRef, SignJob, CosignJob, AuthJob, KeygenJob, ImportJob, DeleteJob, certificate_ref,
keygen_job, cosign_job, import_job, owner_of, run, fail_removed, MAX_DOCUMENT, MAX_BATCH.
"""

from __future__ import annotations

import base64
import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

from signagent.errors import SignAgentError
from signagent.gost import streebog256
from signagent.tokens.errors import KeyNotFoundError, TokenNotFoundError, TokenRemovedError
from signagent.tokens.protocol import PinProvider, Token, TokenInfo
from signagent.tokens.signer import TokenSigner
from signagent.x509 import Certificate

from . import authentication
from .config import Config
from .consent import ConsentRequests
from .inventory import InventoryEntry
from .policy import pkcs11_modules
from .reports import owner_name
from .token_access import make_request, open_token, require_pkcs11

__all__ = [
    "MAX_BATCH",
    "MAX_DOCUMENT",
    "AuthJob",
    "CertificateRef",
    "CosignJob",
    "DeleteJob",
    "Document",
    "ImportJob",
    "KeygenJob",
    "SignJob",
    "certificate_ref",
    "cosign_job",
    "fail_removed",
    "import_job",
    "keygen_job",
    "owner_of",
    "run",
]

#: Largest document a page may hand the agent whole (larger ones: sign the digest).
MAX_DOCUMENT = 64 << 20
#: Most documents in one batch.
MAX_BATCH = 50


@dataclass(frozen=True)
class Document:
    """One document to sign: its bytes (``content``) or only its Streebog digest (``digest``, detached only)."""

    content: bytes | None
    digest: bytes | None
    detached: bool
    content_type: str = "application/octet-stream"
    filename: str = ""
    description: str = ""

    @property
    def size(self) -> int:
        """Bytes held in memory for it."""
        return len(self.content) if self.content is not None else 0

    @cached_property
    def digest_hex(self) -> str:
        """Hex Streebog-256 of the content (what the audit log records and the confirmation page shows), or the
        digest given; computed once."""
        if self.content is not None:
            return streebog256(self.content).hexdigest()
        assert self.digest is not None
        return self.digest.hex()


@dataclass(frozen=True)
class CertificateRef:
    """A certificate with a private key as the inventory saw it: what the confirmation page shows, and where the
    key is (token kind, serial and label)."""

    cert_id: str
    certificate: Certificate
    owner: str
    organisation: str
    issuer: str
    not_before: datetime
    not_after: datetime
    chain_status: str
    token_kind: str
    token_label: str
    token_serial: str

    def to_dict(self) -> dict[str, object]:
        """JSON-ready summary (the certificate itself as base64 DER)."""
        return {"id": self.cert_id, "owner": self.owner, "organisation": self.organisation, "issuer": self.issuer,
                "not_before": self.not_before.isoformat(), "not_after": self.not_after.isoformat(),
                "chain_status": self.chain_status,
                "token": {"kind": self.token_kind, "label": self.token_label, "serial": self.token_serial}}


def owner_of(entry: InventoryEntry) -> str:
    """The owner's short name of an inventory entry (ФИО, else CN)."""
    return owner_name(entry.certificate)


def certificate_ref(entry: InventoryEntry) -> CertificateRef:
    """The reference of an inventory entry."""
    cert = entry.certificate
    issuer = cert.issuer
    return CertificateRef(entry.id, cert, owner_name(cert), str(entry.identity.get("organization") or ""),
                          issuer.get("common_name") or issuer.display(), entry.not_before, entry.not_after,
                          entry.chain_status, entry.kind, entry.token_label, entry.token_serial)


@dataclass(frozen=True)
class SignJob:
    """Sign ``documents`` with the key of ``certificate``; ``batch`` tells the answer's shape."""

    certificate: CertificateRef
    documents: tuple[Document, ...]
    batch: bool = False
    origin: str | None = None  # the requesting site's origin, signed as signagent's origin attribute


@dataclass(frozen=True)
class CosignJob(SignJob):
    """Add a signer with the key of ``certificate`` to the SignedData ``cms`` (DER). ``documents`` holds the one
    signed content: the embedded one, or for a detached signature the content the page gave (``detached``). A
    SignJob, so the confirmation page and the audit log show and record it as any signature."""

    cms: bytes = b""


@dataclass(frozen=True)
class AuthJob:
    """Prove possession of a key for ``origin`` over ``challenge``; ``certificate`` None lets the user choose among
    ``choices`` in the agent's page."""

    origin: str
    challenge: bytes
    certificate: CertificateRef | None
    choices: tuple[CertificateRef, ...] = ()


@dataclass(frozen=True)
class KeygenJob:
    """A new key pair on the token and its PKCS#10 request for ``subject`` with ``profile``'s extensions."""

    token_label: str
    token_serial: str
    curve: str
    subject: tuple[tuple[str, str], ...]
    profile: str = "person"
    key_label: str = ""


@dataclass(frozen=True)
class ImportJob:
    """Put ``certificate`` on the token beside its key pair."""

    token_label: str
    token_serial: str
    certificate: Certificate
    label: str = ""


@dataclass(frozen=True)
class DeleteJob:
    """Remove ``certificate`` from its token (and its key pair with ``with_key``)."""

    certificate: CertificateRef
    with_key: bool = False


class _PagePin:
    """The PIN typed in the agent's page, for one job: answered to every login of the job, wiped after it."""

    __slots__ = ("_pin",)

    def __init__(self, pin: bytearray) -> None:
        self._pin = pin

    def get_pin(self, token_info: TokenInfo, tries_left: int | None) -> bytes | None:
        return bytes(self._pin) if self._pin else None

    def wipe(self) -> None:
        for i in range(len(self._pin)):
            self._pin[i] = 0
        del self._pin[:]

    def __repr__(self) -> str:  # never show the PIN
        return "_PagePin(<hidden>)"


@contextlib.contextmanager
def _token(config: Config, serial: str, label: str) -> Iterator[Token]:
    """The token that held the request's key, opened again; ``token_removed`` when it is not there any more."""
    try:
        with open_token(serial or label, extra_modules=pkcs11_modules(config),
                        keys_dir=str(config.keys_dir)) as token:
            yield token
    except TokenNotFoundError:
        raise TokenRemovedError(situation="gone", label=label, serial=serial) from None


def _entry_on(token: Token, ref: CertificateRef) -> Any:
    for entry in token.certificates():
        if entry.cert_id == ref.cert_id and entry.has_private_key:
            return entry
    raise KeyNotFoundError(situation="no_key", cert_id=ref.cert_id[:16], label=token.label, serial=token.serial)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _sign(config: Config, job: SignJob, pin: PinProvider) -> dict[str, Any]:
    from signagent.cms.signing import sign, sign_digest

    ref = job.certificate
    when = datetime.now(UTC).replace(microsecond=0)
    signatures = []
    with _token(config, ref.token_serial, ref.token_label) as token:
        signer = TokenSigner(token, _entry_on(token, ref), pin)
        for doc in job.documents:
            if doc.content is None:
                assert doc.digest is not None
                cms = sign_digest(doc.digest, signer, signing_time=when, origin=job.origin)
            else:
                cms = sign(doc.content, signer, detached=doc.detached, signing_time=when, origin=job.origin)
            assert isinstance(cms, bytes)
            signatures.append({"cms": _b64(cms), "filename": doc.filename})
    common = {"certificate": _b64(ref.certificate.der), "certificate_id": ref.cert_id,
              "signing_time": when.isoformat()}
    if job.batch:
        return {"signatures": signatures, **common}
    return {"cms": signatures[0]["cms"], **common}


def _cosign(config: Config, job: CosignJob, pin: PinProvider) -> dict[str, Any]:
    from signagent.cms.content import ContentDigest
    from signagent.cms.cosign import cosign
    from signagent.cms.digests import digest_for_key_size

    ref = job.certificate
    (doc,) = job.documents
    content: bytes | ContentDigest | None = doc.content if doc.detached else None
    if doc.content is None:
        assert doc.digest is not None
        content = ContentDigest(digest_for_key_size(ref.certificate.public_key().curve.size).oid, doc.digest)
    when = datetime.now(UTC).replace(microsecond=0)
    with _token(config, ref.token_serial, ref.token_label) as token:
        signer = TokenSigner(token, _entry_on(token, ref), pin)
        cms = cosign(job.cms, signer, content=content, signing_time=when, origin=job.origin)
    return {"cms": _b64(cms), "certificate": _b64(ref.certificate.der), "certificate_id": ref.cert_id,
            "signing_time": when.isoformat()}


def _authenticate(config: Config, job: AuthJob, ref: CertificateRef, pin: PinProvider) -> dict[str, Any]:
    message = authentication.proof_message(job.origin, job.challenge)
    with _token(config, ref.token_serial, ref.token_label) as token:
        signature = TokenSigner(token, _entry_on(token, ref), pin).sign_message(message)
    return authentication.proof_document(origin=job.origin, challenge=job.challenge, certificate=ref.certificate,
                                         signature=signature)


def _keygen(config: Config, job: KeygenJob, pin: PinProvider) -> dict[str, Any]:
    from . import keys as key_cases

    extensions = key_cases.request_extensions(profile=job.profile)
    data, key = make_request(job.token_serial or job.token_label, list(job.subject), extensions, pin,
                             new_key_curve=job.curve, key_label=job.key_label,
                             extra_modules=pkcs11_modules(config))
    return {"request": data.decode("ascii"), "key": key.to_dict()}


def _import(config: Config, job: ImportJob, pin: PinProvider) -> dict[str, Any]:
    with _token(config, job.token_serial, job.token_label) as token:
        p11 = require_pkcs11(token, "store certificates", "запись сертификатов")
        key_id = p11.import_certificate(job.certificate, pin, label=job.label)
    return {"certificate_id": job.certificate.streebog_thumbprint, "key_id": key_id.hex()}


def _delete(config: Config, job: DeleteJob, pin: PinProvider) -> dict[str, Any]:
    ref = job.certificate
    with _token(config, ref.token_serial, ref.token_label) as token:
        p11 = require_pkcs11(token, "delete objects", "удаление объектов")
        count = p11.delete_certificate(ref.cert_id, pin, with_keys=job.with_key)
    return {"certificate_id": ref.cert_id, "deleted_objects": count}


def keygen_job(token: str, curve_name: str, subject: dict[str, str], profile: str = "person",
               key_label: str = "") -> KeygenJob:
    """A :class:`KeygenJob`, its curve and subject checked now (before the user is asked), not after approval."""
    from signagent.gost import curve

    from .keys import request_subject

    curve(curve_name)  # UnknownCurveError for a name no parameter set has
    return KeygenJob(token, "", curve_name, tuple(request_subject(subject)), profile, key_label)


def _utf8_text(content: bytes) -> bool:
    try:
        return b"\x00" not in content and bool(content.decode("utf-8"))
    except UnicodeDecodeError:
        return False


def cosign_job(ref: CertificateRef, cms: bytes, content: bytes | None, *, digest: bytes | None = None,
               content_type: str = "application/octet-stream", filename: str = "", description: str = "",
               origin: str | None = None) -> CosignJob:
    """A :class:`CosignJob` adding ``ref``'s signer to the SignedData ``cms``, checked now (before the user is asked):
    a CMS SignedData; for a detached one ``content`` given (the new messageDigest is computed over it) or only its
    ``digest`` (Streebog of the key's size, checked by the caller; CryptoPro's CoSignHash: the user is shown the
    digest), for an attached one ``content`` absent or equal to the embedded content, which is what the user is
    shown."""
    from signagent.cms.parsing import load_signed_data

    from .access import ContentTooLargeError, RequestInvalidError

    try:
        parsed = load_signed_data(cms)
    except SignAgentError as exc:
        raise RequestInvalidError(detail=f"cms is not a CMS SignedData: {exc}") from None
    if digest is not None:
        if parsed.content is not None or content is not None:
            raise RequestInvalidError(detail="a digest co-signs a detached signature, without content")
        return CosignJob(ref, (Document(None, digest, True, content_type, filename, description),), origin=origin,
                         cms=parsed.raw)
    if parsed.content is not None:
        if content is not None and content != parsed.content:
            raise RequestInvalidError(detail="content differs from the content inside the signature")
        content, detached = parsed.content, False
    elif content is None:
        raise RequestInvalidError(detail="a detached signature needs its content to be co-signed")
    else:
        detached = True
    if len(content) > MAX_DOCUMENT:
        raise ContentTooLargeError(situation="body", limit_mib=MAX_DOCUMENT >> 20)
    if content_type == "application/octet-stream" and _utf8_text(content):
        content_type = "text/plain; charset=utf-8"  # the page rarely knows what an earlier signer signed: show text
    document = Document(content, None, detached, content_type, filename, description)
    return CosignJob(ref, (document,), origin=origin, cms=parsed.raw)


def import_job(token: str, certificate: bytes, label: str = "") -> ImportJob:
    """An :class:`ImportJob` for the one certificate in ``certificate`` (DER, PEM or base64 text)."""
    from signagent.x509 import load_certificates

    from .access import RequestInvalidError

    certificates = load_certificates(certificate)
    if len(certificates) != 1:
        raise RequestInvalidError(detail="give exactly one certificate")
    return ImportJob(token, "", certificates[0], label)


def fail_removed(requests: ConsentRequests, cert_ids: set[str]) -> int:
    """Fail with ``token_removed`` the pending requests (not yet approved) whose certificate's token went away
    (``cert_ids``: the certificates it held); the number failed. The site learns it at once, not when the user
    approves into nothing."""
    failed = 0
    for request in requests.open_requests():
        ref = getattr(request.payload, "certificate", None)
        if isinstance(ref, CertificateRef) and ref.cert_id in cert_ids and not request.running:
            requests.fail(request, TokenRemovedError(situation="gone", label=ref.token_label,
                                                     serial=ref.token_serial))
            failed += 1
    return failed


def run(config: Config, job: object, pin: str | bytes | None, *, chosen: CertificateRef | None = None
        ) -> dict[str, Any]:
    """Perform ``job`` with ``pin`` (None: the token asks for none, or fails with ``pin_required``); the JSON
    result. Errors of the tree propagate (``pin_incorrect``, ``pin_locked``, ``token_removed``...)."""
    secret = bytearray(pin.encode("utf-8") if isinstance(pin, str) else (pin or b""))
    provider = _PagePin(secret)
    try:
        if isinstance(job, CosignJob):  # before SignJob: a CosignJob is one
            return _cosign(config, job, provider)
        if isinstance(job, SignJob):
            return _sign(config, job, provider)
        if isinstance(job, AuthJob):
            ref = job.certificate or chosen
            if ref is None:
                raise KeyNotFoundError(situation="no_pair_for_certificate")
            return _authenticate(config, job, ref, provider)
        if isinstance(job, KeygenJob):
            return _keygen(config, job, provider)
        if isinstance(job, ImportJob):
            return _import(config, job, provider)
        if isinstance(job, DeleteJob):
            return _delete(config, job, provider)
        raise SignAgentError(f"unknown job {type(job).__name__}")
    finally:
        provider.wipe()

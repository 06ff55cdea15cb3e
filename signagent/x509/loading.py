"""Reading certificates and CRLs in every encoding users meet.

Accepted for certificates:

* DER -- one certificate, or several concatenated;
* PEM (RFC 7468) -- one or many blocks labelled ``CERTIFICATE``, ``X509 CERTIFICATE`` or ``TRUSTED CERTIFICATE``
  (OpenSSL's form: the certificate followed by its trust settings, which are ignored), and ``PKCS7`` / ``CMS``
  bundles; text around the blocks is ignored; any other label is an error naming the label;
* base64 without armour (CryptoPro ``.cer`` exports), with any whitespace or CRLF line breaks;
* PKCS#7 / CMS SignedData (``.p7b``, RFC 5652 section 5), DER or PEM: its certificates.

CRLs (RFC 5280 section 5): DER, PEM ``X509 CRL`` (or ``CRL``), base64 without armour.

Malformed input fails fast with a specific :class:`~signagent.errors.CertificateFormatError` /
:class:`~signagent.errors.CrlFormatError`: the size is capped (:data:`MAX_CERTIFICATE_FILE`,
:data:`MAX_CRL_FILE`) and checked from the file's metadata before anything is read, and the outer DER length is
checked against the bytes present before asn1crypto sees them. Missing or unreadable files raise
:class:`~signagent.errors.FileAccessError`.

Certificates and CRLs must be strict DER (RFC 5280 sections 4.1 and 5.1; :mod:`signagent.asn1.strict_der`):
anything else raises :class:`~signagent.x509.certificate.CertificateNotDerError` / :class:`CrlNotDerError`
(code ``not_der``, still a CertificateFormatError / CrlFormatError), too deep a nesting
:class:`~signagent.x509.certificate.CertificateNestingError` / :class:`CrlNestingError` (``nesting_too_deep``).
A PKCS#7 bundle may be BER; the certificates in it are checked from the bytes as read.

Directories (:func:`load_certificates_path`): every regular file directly in the directory, in name order;
hidden files (a leading dot) are ignored; a file that is not a certificate (a README, a key, a CRL) is skipped and
listed in ``.skipped`` of the result with the reason, because trust directories in the wild hold such files.
A directory without a single certificate is an error. The same certificate in several files is kept once.

Exports: load_certificates, load_certificate, load_certificates_file, load_certificates_path, load_crl, load_crls,
load_crl_file, LoadedCertificates, SkippedFile, MAX_CERTIFICATE_FILE, MAX_CRL_FILE.
"""

from __future__ import annotations

import binascii
import os
import re
from dataclasses import dataclass
from pathlib import Path

from asn1crypto import crl

import signagent.asn1  # noqa: F401  -- registers GOST algorithms and Russian attributes with asn1crypto
from signagent.asn1.failures import PARSE_ERRORS
from signagent.asn1.opaque_specs import OpaqueCertificateList
from signagent.asn1.strict_der import check_canonical, check_der, received_encoding, sequence_elements
from signagent.errors import (
    CertificateFormatError,
    CrlFormatError,
    FileAccessError,
    InvalidTypeError,
    NestingTooDeepError,
    NotDerError,
    SignAgentError,
)
from signagent.fileio import read_capped

from .certificate import Certificate, CertificateNotDerError

__all__ = [
    "MAX_CERTIFICATE_FILE",
    "MAX_CRL_FILE",
    "CrlNestingError",
    "CrlNotDerError",
    "LoadedCertificates",
    "SkippedFile",
    "load_certificate",
    "load_certificates",
    "load_certificates_file",
    "load_certificates_path",
    "load_crl",
    "load_crl_file",
    "load_crls",
]

#: Largest certificate file read (a bundle of a few hundred certificates is well below it).
MAX_CERTIFICATE_FILE = 16 << 20
#: Largest CRL file read (the big state-PKI CRLs are tens of MB).
MAX_CRL_FILE = 256 << 20

_CERT_LABELS = frozenset({"CERTIFICATE", "X509 CERTIFICATE", "TRUSTED CERTIFICATE"})
_BUNDLE_LABELS = frozenset({"PKCS7", "CMS", "PKCS #7 SIGNED DATA"})
_CRL_LABELS = frozenset({"X509 CRL", "CRL"})

_PEM_BLOCK = re.compile(rb"-----BEGIN ([^\r\n-]*)-----(.*?)-----END ([^\r\n-]*)-----", re.DOTALL)
_BASE64_TEXT = re.compile(rb"[A-Za-z0-9+/\s]*={0,2}\s*")
_WHITESPACE = re.compile(rb"\s+")

_SEQUENCE = 0x30
_OID = 0x06


class _Kind:
    """What is being loaded: the error class and the words for messages."""

    def __init__(self, error: type[SignAgentError], what: str, what_ru: str, limit: int) -> None:
        self.error, self.what, self.what_ru, self.limit = error, what, what_ru, limit

    def fail(self, message: str, message_ru: str) -> SignAgentError:
        return self.error(message, message_ru=message_ru)


class CrlNotDerError(NotDerError, CrlFormatError):
    """A CRL that is not in DER (RFC 5280 section 5.1): code ``not_der``, and a CrlFormatError for the callers."""


class CrlNestingError(NestingTooDeepError, CrlFormatError):
    """A CRL nested deeper than any genuine one: code ``nesting_too_deep``, and a CrlFormatError."""


_CERT = _Kind(CertificateFormatError, "certificate", "сертификат", MAX_CERTIFICATE_FILE)
_CRL = _Kind(CrlFormatError, "CRL", "список отзыва", MAX_CRL_FILE)


@dataclass(frozen=True)
class SkippedFile:
    """A file of a directory that held no certificate, and why."""

    path: Path
    reason: str
    reason_ru: str


class LoadedCertificates(list):  # type: ignore[type-arg]
    """The certificates found under a path (a list), plus ``skipped``: the files that were not certificates."""

    def __init__(self, certificates: list[Certificate], skipped: list[SkippedFile] | None = None) -> None:
        super().__init__(certificates)
        self.skipped: list[SkippedFile] = list(skipped or [])


# -- DER framing ----------------------------------------------------------------------------------------------------


def _der_header(data: bytes, offset: int, kind: _Kind) -> tuple[int, int | None]:
    """(header length, content length or None for BER indefinite length) of the element at ``offset``."""
    available = len(data) - offset
    if available < 2:
        raise kind.fail(f"truncated {kind.what}: {available} byte(s) where a DER element was expected",
                        f"{kind.what_ru} обрезан: всего {available} байт")
    first = data[offset + 1]
    if first < 0x80:
        return 2, first
    if first == 0x80:
        return 2, None
    n = first & 0x7F
    if n > 4 or available < 2 + n:
        # More than 4 length octets would announce a 4 GiB element: no certificate or CRL is that large.
        raise kind.fail(f"absurd DER length field ({n} length octets) at offset {offset}",
                        f"недопустимое поле длины DER ({n} октетов) по смещению {offset}")
    return 2 + n, int.from_bytes(data[offset + 2 : offset + 2 + n], "big")


def _split_der(data: bytes, kind: _Kind, *, allow_trailing: bool = False) -> list[bytes]:
    """Cut ``data`` into top-level DER SEQUENCEs after checking each announced length against the bytes present."""
    elements = []
    offset = 0
    while offset < len(data):
        if data[offset] != _SEQUENCE:
            raise kind.fail(
                f"not a DER {kind.what}: expected a SEQUENCE (0x30) at offset {offset}, found 0x{data[offset]:02x}",
                f"это не {kind.what_ru} в DER: по смещению {offset} ожидалась SEQUENCE (0x30)",
            )
        header, length = _der_header(data, offset, kind)
        if length is None:
            # BER indefinite length: legal in a PKCS#7 bundle (asn1crypto reads it as BER), never in a certificate
            # or CRL, which must be DER (RFC 5280 section 4.1).
            if offset != 0 or kind is not _CERT or len(data) <= header or data[header] != _OID:
                not_der = CertificateNotDerError if kind is _CERT else CrlNotDerError
                raise not_der(situation="indefinite_length", offset=offset, what=kind.what)
            return [data]
        end = offset + header + length
        if end > len(data):
            raise kind.fail(
                f"truncated {kind.what}: the DER header announces {header + length} bytes, "
                f"only {len(data) - offset} are present",
                f"{kind.what_ru} обрезан: заголовок DER объявляет {header + length} байт, "
                f"а есть только {len(data) - offset}",
            )
        elements.append(data[offset:end])
        offset = end
        if allow_trailing:
            break
    return elements


def _is_content_info(der: bytes, kind: _Kind) -> bool:
    header, _ = _der_header(der, 0, kind)
    return len(der) > header and der[header] == _OID


# -- text forms -----------------------------------------------------------------------------------------------------


def _b64decode(text: bytes, kind: _Kind, where: str) -> bytes:
    compact = _WHITESPACE.sub(b"", text)
    try:
        return binascii.a2b_base64(compact, strict_mode=True)
    except binascii.Error as exc:
        raise kind.fail(f"{where} is not valid base64 ({exc})", f"{where}: неверная кодировка base64") from None


def _pem_blocks(data: bytes, kind: _Kind) -> list[tuple[str, bytes]]:
    blocks = []
    for match in _PEM_BLOCK.finditer(data):
        label = match.group(1).decode("ascii", "replace").strip()
        end_label = match.group(3).decode("ascii", "replace").strip()
        if label != end_label:
            raise kind.fail(f"PEM block BEGIN {label!r} ends with END {end_label!r}",
                            f"блок PEM BEGIN {label!r} закрыт END {end_label!r}")
        body = match.group(2)
        # RFC 1421 style headers ("Proc-Type: ...") precede a blank line; drop header lines.
        lines = [line for line in body.splitlines() if b":" not in line]
        blocks.append((label, _b64decode(b"".join(lines), kind, f"PEM block {label!r}")))
    if not blocks:
        raise kind.fail("PEM text without a complete BEGIN/END block (truncated?)",
                        "текст PEM без полного блока BEGIN/END (обрезан?)")
    begins = data.count(b"-----BEGIN ")
    if begins != len(blocks):
        raise kind.fail(f"PEM block {len(blocks) + 1} has no END line (truncated?)",
                        f"у блока PEM {len(blocks) + 1} нет строки END (обрезан?)")
    return blocks


def _binary_forms(data: bytes, kind: _Kind, labels: frozenset[str], bundle_labels: frozenset[str]) -> list[bytes]:
    """The DER blobs inside ``data`` (DER, PEM or bare base64); the caller tells certificates from bundles."""
    if not data:
        raise kind.fail(f"empty input: no {kind.what}", f"пустые данные: нет объекта «{kind.what_ru}»")
    if len(data) > kind.limit:
        raise kind.fail(f"input of {len(data)} bytes exceeds the {kind.limit}-byte limit for a {kind.what}",
                        f"размер {len(data)} байт превышает предел {kind.limit} байт")
    if data[0] == _SEQUENCE:
        return [data]
    text = data[3:] if data.startswith(b"\xef\xbb\xbf") else data  # a UTF-8 byte-order mark from Windows editors
    if b"-----BEGIN" in text:
        out = []
        for label, der in _pem_blocks(text, kind):
            if label not in labels and label not in bundle_labels:
                accepted = ", ".join(sorted(labels | bundle_labels))
                raise kind.fail(f"PEM block labelled {label!r} is not a {kind.what} (expected {accepted})",
                                f"блок PEM с меткой {label!r} не является объектом «{kind.what_ru}»")
            out.append(der if label != "TRUSTED CERTIFICATE" else _split_der(der, kind, allow_trailing=True)[0])
        return out
    if _BASE64_TEXT.fullmatch(text):
        der = _b64decode(text, kind, "the base64 text")
        if not der or der[0] != _SEQUENCE:
            raise kind.fail(f"the base64 text does not decode to a DER {kind.what}",
                            f"текст base64 не содержит {kind.what_ru} в DER")
        return [der]
    raise kind.fail(f"not a {kind.what}: neither DER, nor PEM, nor base64",
                    f"это не {kind.what_ru}: ни DER, ни PEM, ни base64")


def _as_bytes(data: object, kind: _Kind) -> bytes:
    if isinstance(data, bytes | bytearray | memoryview):
        return bytes(data)
    raise InvalidTypeError(situation="not_bytes", what=kind.what, type=type(data).__name__)


# -- certificates ---------------------------------------------------------------------------------------------------


def _bundle_certificates(der: bytes) -> list[Certificate]:
    from asn1crypto import cms  # only for PKCS#7 bundles: a plain certificate file never needs it

    try:
        info = cms.ContentInfo.load(der, strict=True)
        content_type = info["content_type"].native
        if content_type != "signed_data":
            raise _CERT.fail(f"a PKCS#7/CMS {content_type} structure, not SignedData with certificates",
                             f"структура PKCS#7/CMS {content_type}, а не SignedData с сертификатами")
        choices = list(info["content"]["certificates"] or [])
    except SignAgentError:
        raise
    except PARSE_ERRORS as exc:
        reason = " ".join(str(exc).split("\n")[0].split()) or type(exc).__name__
        raise _CERT.fail(f"malformed PKCS#7/CMS bundle: {reason}",
                         f"повреждённый контейнер PKCS#7/CMS: {reason}") from None
    certificates = []
    for choice in choices:
        if choice.name == "certificate":  # attribute certificates and the like are not X.509 certificates
            # the bytes as read: a bundle may be BER, a certificate in it must still be DER (RFC 5280 4.1)
            certificates.append(Certificate.from_der(received_encoding(choice.chosen)))
    if not certificates:
        raise _CERT.fail("the PKCS#7/CMS bundle holds no certificates", "контейнер PKCS#7/CMS не содержит сертификатов")
    return certificates


def load_certificates(data: bytes) -> list[Certificate]:
    """Every certificate in ``data``: DER (one or concatenated), PEM (one or many blocks), bare base64, PKCS#7.

    Raises CertificateFormatError with a specific message for anything else (and for an empty result).
    """
    data = _as_bytes(data, _CERT)
    out: list[Certificate] = []
    for blob in _binary_forms(data, _CERT, _CERT_LABELS, _BUNDLE_LABELS):
        for der in _split_der(blob, _CERT):
            if _is_content_info(der, _CERT):
                out.extend(_bundle_certificates(der))
            else:
                out.append(Certificate.from_der(der))
    return out


def load_certificate(data: bytes) -> Certificate:
    """Exactly one certificate from ``data`` (any encoding :func:`load_certificates` reads)."""
    found = load_certificates(data)
    if len(found) != 1:
        raise _CERT.fail(f"expected one certificate, found {len(found)}",
                         f"ожидался один сертификат, найдено {len(found)}")
    return found[0]


def _read_capped(path: str | os.PathLike[str], kind: _Kind) -> bytes:
    return read_capped(path, kind.limit, kind.what, kind.error)


def _with_path(exc: SignAgentError, path: str | os.PathLike[str]) -> SignAgentError:
    renamed = type(exc)(f"{path}: {exc.message}", message_ru=f"{path}: {exc.message_ru}", path=path)
    return renamed


def load_certificates_file(path: str | os.PathLike[str]) -> list[Certificate]:
    """Every certificate in one file (any encoding :func:`load_certificates` reads); errors name the file."""
    data = _read_capped(path, _CERT)
    try:
        return load_certificates(data)
    except CertificateFormatError as exc:
        raise _with_path(exc, path) from None


def load_certificates_path(path: str | os.PathLike[str]) -> LoadedCertificates:
    """Certificates from a file, or from every regular file directly inside a directory.

    For a directory, files that hold no certificate are skipped and listed in ``result.skipped``; a directory
    without any certificate raises CertificateFormatError. Duplicates are kept once. FileAccessError when the
    path does not exist.
    """
    p = Path(path)
    if not p.is_dir():
        return LoadedCertificates(load_certificates_file(p))
    try:
        entries = sorted(p.iterdir())
    except OSError as exc:
        raise FileAccessError(situation="directory_unreadable", path=p, error=exc.strerror or exc) from None
    found: list[Certificate] = []
    seen: set[bytes] = set()
    skipped: list[SkippedFile] = []
    for entry in entries:
        if entry.name.startswith(".") or not entry.is_file():
            continue
        try:
            certificates = load_certificates_file(entry)
        except (CertificateFormatError, FileAccessError) as exc:
            skipped.append(SkippedFile(entry, exc.message, exc.message_ru))
            continue
        for cert in certificates:
            if cert.der not in seen:
                seen.add(cert.der)
                found.append(cert)
    if not found:
        detail = "; ".join(s.reason for s in skipped[:5]) or "the directory is empty"
        raise CertificateFormatError(situation="empty_directory", path=p, detail=detail)
    return LoadedCertificates(found, skipped)


# -- CRLs -----------------------------------------------------------------------------------------------------------


def _check_crl_der(der: bytes) -> None:
    """Strict DER of a CRL (RFC 5280 section 5.1), before asn1crypto reads it.

    The TLV walk covers every octet; the re-encoding comparison (:func:`check_canonical`) is made on the CRL with
    its revokedCertificates cut out, because asn1crypto takes about 150 us per entry and state-PKI CRLs hold
    10^5 entries. The entries are flat (serial, date, extensions: no EXPLICIT wrapper for asn1crypto to drop), and
    the signature is verified over the TBS as received, so every entry octet is covered by it anyway.
    """
    check_der(der, what="the CRL", error=CrlNotDerError, too_deep=CrlNestingError)
    parts = sequence_elements(der, what="the CRL", error=CrlNotDerError)
    if len(parts) > 3:  # fewer is simply malformed, and the parser says which field is missing
        raise CrlNotDerError(situation="outer_sequence", what="CRL", what_ru="список отзыва", count=len(parts),
                             section="5.1")
    if len(parts) < 3 or parts[0][:1] != b"\x30":
        return  # not a CRL at all: the parser says what is wrong
    tbs = sequence_elements(parts[0], what="the CRL", error=CrlNotDerError)
    # tbsCertList: version?, signature, issuer, thisUpdate, nextUpdate?, revokedCertificates?, [0] crlExtensions?
    # revokedCertificates is the SEQUENCE that follows the times (UTCTime 0x17 / GeneralizedTime 0x18).
    kept: list[bytes] = []
    after_time = cut = False
    for part in tbs:
        if after_time and not cut and part[:1] == b"\x30":
            cut = True  # only the one revokedCertificates: anything more is left for the comparison to refuse
            continue
        after_time = after_time or part[:1] in (b"\x17", b"\x18")
        kept.append(part)
    body = b"".join(kept)
    # both cuts are lengths re-encoded here (DER definite form, X.690 10.1); the rest is the bytes as received
    short_tbs = b"\x30" + _length_octets(len(body)) + body
    rest = short_tbs + parts[1] + parts[2]
    check_canonical(OpaqueCertificateList, b"\x30" + _length_octets(len(rest)) + rest, what="the CRL",
                    error=CrlNotDerError)


def _length_octets(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def _crl_from_der(der: bytes) -> crl.CertificateList:
    try:
        _check_crl_der(der)
    except CrlFormatError:
        if _looks_like_certificate(der):
            raise _CRL.fail("this is a certificate, not a certificate revocation list",
                            "это сертификат, а не список отзыва сертификатов") from None
        raise
    try:
        parsed = crl.CertificateList.load(der, strict=True)
        tbs = parsed["tbs_cert_list"]
        _ = tbs["version"].native, tbs["signature"]["algorithm"].dotted, tbs["issuer"].chosen
        _ = tbs["this_update"].native, tbs["next_update"].native
        _ = len(tbs["revoked_certificates"])  # frames every entry (entries themselves are decoded on use)
        for ext in tbs["crl_extensions"]:
            _ = ext["extn_id"].dotted, ext["critical"].native
        _ = parsed["signature_algorithm"]["algorithm"].dotted, parsed["signature"].native
        return parsed
    except PARSE_ERRORS as exc:
        if _looks_like_certificate(der):
            raise _CRL.fail("this is a certificate, not a certificate revocation list",
                            "это сертификат, а не список отзыва сертификатов") from None
        reason = " ".join(str(exc).split("\n")[0].split()) or type(exc).__name__
        raise _CRL.fail(f"malformed CRL: {reason}", f"повреждённый список отзыва: {reason}") from None


def _looks_like_certificate(der: bytes) -> bool:
    try:
        Certificate.from_der(der)
        return True
    except CertificateFormatError:
        return False


def load_crls(data: bytes) -> list[crl.CertificateList]:
    """Every CRL in ``data`` (DER, PEM ``X509 CRL`` blocks, bare base64) as asn1crypto CertificateLists."""
    data = _as_bytes(data, _CRL)
    out = []
    for blob in _binary_forms(data, _CRL, _CRL_LABELS, frozenset()):
        out.extend(_crl_from_der(der) for der in _split_der(blob, _CRL))
    return out


def load_crl(data: bytes) -> crl.CertificateList:
    """Exactly one CRL from ``data``; CrlFormatError otherwise."""
    found = load_crls(data)
    if len(found) != 1:
        raise _CRL.fail(f"expected one CRL, found {len(found)}", f"ожидался один список отзыва, найдено {len(found)}")
    return found[0]


def load_crl_file(path: str | os.PathLike[str]) -> crl.CertificateList:
    """Exactly one CRL from a file (size-capped at :data:`MAX_CRL_FILE`); errors name the file."""
    data = _read_capped(path, _CRL)
    try:
        return load_crl(data)
    except CrlFormatError as exc:
        raise _with_path(exc, path) from None

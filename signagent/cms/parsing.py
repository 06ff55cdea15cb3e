"""Reading a CMS SignedData from DER, BER, PEM or bare base64, all structure checked up front.

:func:`load_signed_data` decodes the armour, parses the ContentInfo with asn1crypto and walks every field a
verifier will use, so that malformed or truncated input fails here with a :class:`CmsFormatError` (code
``cms_malformed``) and never later with a traceback. Certificates inside that cannot be read are skipped (a
broken extra certificate must not hide a good signer); their count is kept.

The whole signature is held in memory: attached signatures are limited to :data:`MAX_CMS_SIZE`. Detached
signatures are small whatever the size of the content they sign.

Exports: ParsedSignedData, load_signed_data, decode_armor, MAX_CMS_SIZE.
"""

from __future__ import annotations

import base64
import binascii
import functools
import re
from dataclasses import dataclass, field

from asn1crypto import cms, core, x509

import signagent.asn1  # noqa: F401  -- registers the GOST algorithms with asn1crypto
from signagent.asn1 import cades
from signagent.asn1.failures import PARSE_ERRORS
from signagent.asn1.strict_der import received_encoding
from signagent.errors import SignAgentError, too_large_error
from signagent.x509 import Certificate

from .errors import CmsFormatError
from .received import ReceivedSigner, read_signed_data

__all__ = ["MAX_CMS_SIZE", "ParsedSignedData", "decode_armor", "load_signed_data"]

#: Largest signature read into memory (an attached signature carries its content).
MAX_CMS_SIZE = 1 << 30

_PEM = re.compile(rb"-----BEGIN ([A-Z0-9 #]+)-----(.*?)-----END \1-----", re.S)

cades.register()


def _fail(message: str, message_ru: str) -> CmsFormatError:
    # one line: asn1crypto appends a "while parsing ..." line per enclosing type
    return CmsFormatError(detail=" ".join(message.split("\n")[0].split()), detail_ru=message_ru)


def decode_armor(data: bytes) -> bytes:
    """DER/BER bytes of a signature given as DER/BER, PEM (any label: CMS, PKCS7...) or bare base64."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise _fail("expected bytes", "ожидались байты")
    data = bytes(data)
    if data[:1] == b"\x30":
        return data
    stripped = data.strip()
    match = _PEM.search(stripped)
    if match is not None:
        body = b"".join(line for line in match.group(2).split() if b":" not in line)  # skip RFC 1421 headers
    else:
        body = b"".join(stripped.split())
    try:
        decoded = base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        raise _fail("neither DER, PEM nor base64", "ни DER, ни PEM, ни base64") from None
    if decoded[:1] != b"\x30":
        raise _fail("the decoded bytes are not an ASN.1 SEQUENCE", "декодированные данные не являются SEQUENCE")
    return decoded


@dataclass
class ParsedSignedData:
    """A parsed SignedData: the embedded content (None if detached), certificates and signers as verification
    reads them; the asn1crypto objects (``content_info``, ``signed_data``, ``signer_infos``) on demand."""

    raw: bytes
    content_type: str
    content: bytes | None
    certificates: list[Certificate]
    unreadable_certificates: int
    signers: list[ReceivedSigner]
    #: certificates of the set that are not strict DER, as asn1crypto read them, and why (they never verify
    #: anything; they only let the report say why a signer they would name is not usable)
    rejected_certificates: list[tuple[x509.Certificate, SignAgentError]] = field(default_factory=list)
    parsed_info: cms.ContentInfo | None = field(default=None, repr=False)

    @property
    def detached(self) -> bool:
        """True when the content is not inside the signature."""
        return self.content is None

    @functools.cached_property
    def content_info(self) -> cms.ContentInfo:
        """The ContentInfo as asn1crypto reads it (parsed now when the fast reading was enough so far)."""
        if self.parsed_info is not None:
            return self.parsed_info
        return cms.ContentInfo.load(self.raw, strict=True)

    @property
    def signed_data(self) -> cms.SignedData:
        """The SignedData (asn1crypto)."""
        return self.content_info["content"]

    @property
    def signer_infos(self) -> list[cms.SignerInfo]:
        """The SignerInfos (asn1crypto), in order."""
        return list(self.signed_data["signer_infos"])


def _fields_of(si: cms.SignerInfo) -> ReceivedSigner:
    """What verification reads of a SignerInfo parsed by asn1crypto (already walked by _touch_signer_info)."""
    sid = si["sid"]
    attrs = si["signed_attrs"]
    return ReceivedSigner(
        digest_oid=si["digest_algorithm"]["algorithm"].dotted,
        signature_oid=si["signature_algorithm"]["algorithm"].dotted,
        signature=si["signature"].native,
        signed_attrs=None if isinstance(attrs, core.Void) else attrs.contents,
        sid_encoding=b"", asn1=si,
        issuer=sid.chosen["issuer"].dump() if sid.name == "issuer_and_serial_number" else None,
        serial=sid.chosen["serial_number"].native if sid.name == "issuer_and_serial_number" else None,
        key_identifier=None if sid.name == "issuer_and_serial_number" else sid.chosen.native)


def _touch_signer_info(si: cms.SignerInfo) -> None:
    """Parse every field of a SignerInfo that verification reads (raises the asn1crypto parse errors)."""
    si["version"].native  # noqa: B018
    sid = si["sid"]
    if sid.name == "issuer_and_serial_number":
        sid.chosen["issuer"].dump()
        sid.chosen["serial_number"].native  # noqa: B018
    else:
        sid.chosen.native  # noqa: B018
    si["digest_algorithm"]["algorithm"].dotted  # noqa: B018
    si["signature_algorithm"]["algorithm"].dotted  # noqa: B018
    si["signature"].native  # noqa: B018
    attrs = si["signed_attrs"]
    if not isinstance(attrs, core.Void):  # parsing attribute types only; values are read one by one later
        for attribute in attrs:
            attribute["type"].dotted  # noqa: B018


def load_signed_data(data: bytes) -> ParsedSignedData:
    """Parse a CMS ContentInfo holding SignedData (RFC 5652 section 5); CmsFormatError for anything else."""
    if isinstance(data, bytes | bytearray | memoryview) and len(data) > MAX_CMS_SIZE:
        raise too_large_error(CmsFormatError)(what="signature", what_ru="подпись", limit=MAX_CMS_SIZE)
    raw = decode_armor(data)
    fast = read_signed_data(raw)
    if fast is not None:
        return ParsedSignedData(raw, fast.content_type, fast.content, fast.certificates, 0, fast.signers)
    try:
        info = cms.ContentInfo.load(raw, strict=True)
        content_type = info["content_type"].dotted
    except PARSE_ERRORS as exc:
        raise _fail(str(exc), "повреждённая или усечённая структура") from None
    if content_type != "1.2.840.113549.1.7.2":
        raise _fail(f"the content type is {content_type}, not signedData",
                    f"тип содержимого {content_type}, а не signedData")
    try:
        sd = info["content"]
        sd["version"].native  # noqa: B018
        for alg in sd["digest_algorithms"]:
            alg["algorithm"].dotted  # noqa: B018
        encap = sd["encap_content_info"]
        econtent_type = encap["content_type"].dotted
        econtent = encap["content"]
        content = None if isinstance(econtent, core.Void) else econtent.native
        signer_infos = list(sd["signer_infos"])
        for si in signer_infos:
            _touch_signer_info(si)
        signers = [_fields_of(si) for si in signer_infos]
        # never .native on certificates: real ones carry extensions that break asn1crypto's own specs
        cert_choices = [] if isinstance(sd["certificates"], core.Void) else list(sd["certificates"])
    except PARSE_ERRORS as exc:
        raise _fail(str(exc), "повреждённая или усечённая структура") from None
    certificates: list[Certificate] = []
    rejected: list[tuple[x509.Certificate, SignAgentError]] = []
    unreadable = 0
    for choice in cert_choices:
        try:
            if choice.name != "certificate":
                continue
            # The CMS may be BER; a certificate in it must be DER all the same (RFC 5280 4.1), so it is checked
            # from the bytes as read (dump() would re-encode a BER one into DER). The same signer's certificate,
            # met again, is not parsed again.
            certificates.append(Certificate.from_der_cached(received_encoding(choice.chosen)))
        except SignAgentError as exc:
            unreadable += 1
            if exc.code in ("not_der", "nesting_too_deep"):
                rejected.append((choice.chosen, exc))
        except PARSE_ERRORS:
            unreadable += 1
    return ParsedSignedData(raw, econtent_type, content, certificates, unreadable, signers, rejected, info)

"""The ISO/IEC 7816-15 (PKCS#15 v1.1) file system of the virtual card, built from the token's objects.

Layout (file identifiers are the conventional ones of PKCS#15 v1.1 section 5.4 where it names any)::

    3F00 MF
      2F00 EF.DIR          one application template for the PKCS#15 application
      5015 DF.PKCS15       DF name A0 00 00 00 63 50 4B 43 53 2D 31 35 ("PKCS-15" under RID A000000063)
        5031 EF.ODF        one entry: certificates [4] -> path of EF.CDF
        5032 EF.TokenInfo  version, serial number, manufacturer, label, flags
        4404 EF.CDF        one CertificateObject per certificate on the token
        4701.. EF.CERT     each certificate's DER, in the order of the CDF

The ASN.1 below is the subset of the PKCS#15 v1.1 module (section 6, "DEFINITIONS IMPLICIT TAGS") this card
needs. Two tagging rules decide the bytes: a tag on a CHOICE is explicit (X.680 section 31.2.7), so the ODF's
``[4] PathOrObjects`` and X509CertificateAttributes' ``issuer [0] Name`` are explicit; and ``[0]`` / ``[1]`` of
the parameterised ``PKCS15Object`` stand for dummy references, which X.683 section 8.3 also tags explicitly.
"""

from __future__ import annotations

from dataclasses import dataclass

from asn1crypto import core, x509

from signagent.asn1.pkcs15 import (
    PKCS15_AID,
    CertificateObject,
    CommonCertificateAttributes,
    CommonObjectAttributes,
    Path,
    PathOrObjects,
    PKCS15Objects,
    X509CertificateAttributes,
)

from .. import constants as C
from ..attributes import as_bool, as_int
from ..store import TokenStore
from .filesystem import DF, EF

__all__ = [
    "CDF_FID",
    "DIR_FID",
    "ODF_FID",
    "PKCS15_AID",
    "PKCS15_FID",
    "TOKENINFO_FID",
    "ApplicationTemplate",
    "CertificateObject",
    "Fingerprint",
    "PKCS15Objects",
    "TokenInfo",
    "build_filesystem",
    "fingerprint",
]

DIR_FID = 0x2F00
PKCS15_FID = 0x5015
ODF_FID = 0x5031
TOKENINFO_FID = 0x5032
CDF_FID = 0x4404
FIRST_CERT_FID = 0x4701
APP_LABEL = "pkcs11-sim PKCS#15"


# --- ASN.1 only the card needs (the shared schema is signagent.asn1.pkcs15) ----------------------------------


class TokenFlags(core.BitString):
    """TokenFlags ::= BIT STRING { readonly(0), loginRequired(1), prnGeneration(2), eidCompliant(3) }"""

    _map = {0: "readonly", 1: "login_required", 2: "prn_generation", 3: "eid_compliant"}


class TokenInfo(core.Sequence):
    """EF.TokenInfo (PKCS#15 v1.1 section 6.9), the fields this card fills."""

    _fields = [
        ("version", core.Integer),
        ("serial_number", core.OctetString),
        ("manufacturer_id", core.UTF8String, {"optional": True}),
        ("label", core.UTF8String, {"implicit": 0, "optional": True}),
        ("token_flags", TokenFlags),
    ]


class ApplicationTemplate(core.Sequence):
    """An EF.DIR record (ISO/IEC 7816-4:2013 section 8.2.1.3): '61' { '4F' AID, '50' label, '51' path }."""

    class_ = 1  # [APPLICATION 1], implicit
    tag = 1
    _fields = [
        ("aid", core.OctetString, {"implicit": ("application", 15)}),
        ("label", core.UTF8String, {"implicit": ("application", 16), "optional": True}),
        ("path", core.OctetString, {"implicit": ("application", 17), "optional": True}),
    ]


# --- building the file tree -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Cert:
    uid: int
    label: str
    key_id: bytes
    der: bytes
    authority: bool
    subject: bytes
    issuer: bytes
    serial: bytes


Fingerprint = tuple[object, ...]


def _certificates(store: TokenStore) -> list[_Cert]:
    """The token's public X.509 certificate objects in uid order (private objects stay off the card)."""
    out = []
    for uid, obj in sorted(store.objects().items()):
        attrs = obj.attrs
        if as_int(attrs[C.CKA_CLASS]) != C.CKO_CERTIFICATE or as_bool(attrs.get(C.CKA_PRIVATE)):
            continue
        if C.CKA_VALUE not in attrs:
            continue
        category = as_int(attrs[C.CKA_CERTIFICATE_CATEGORY]) if C.CKA_CERTIFICATE_CATEGORY in attrs else 0
        out.append(_Cert(
            uid=uid,
            label=attrs.get(C.CKA_LABEL, b"").decode("utf-8", "replace"),
            key_id=attrs.get(C.CKA_ID, b""),
            der=attrs[C.CKA_VALUE],
            authority=category == 2,  # CK_CERTIFICATE_CATEGORY_AUTHORITY
            subject=attrs.get(C.CKA_SUBJECT, b""),
            issuer=attrs.get(C.CKA_ISSUER, b""),
            serial=attrs.get(C.CKA_SERIAL_NUMBER, b""),
        ))
    return out


def fingerprint(store: TokenStore) -> Fingerprint:
    """What the file system depends on: changes only when the label or the certificate objects change (a PIN
    try rewrites the state too, and must not rebuild the tree under a reader)."""
    state = store.load()
    return (state["label"], state["serial"], tuple((c.uid, c.key_id, c.label) for c in _certificates(store)))


def _path(*fids: int) -> bytes:
    return b"".join(f.to_bytes(2, "big") for f in fids)


def _type_attributes(cert: _Cert, path: bytes) -> X509CertificateAttributes:
    """value (the path), plus subject, issuer and serial as hints for middleware when the stored values parse."""
    try:
        fields: dict[str, object] = {"value": {"path": Path({"efid_or_path": path})}}
        if cert.subject:
            fields["subject"] = x509.Name.load(cert.subject)
        if cert.issuer:
            fields["issuer"] = x509.Name.load(cert.issuer)
        if cert.serial:
            fields["serial_number"] = core.Integer.load(cert.serial)
        attrs = X509CertificateAttributes(fields)
        attrs.dump()
        return attrs
    except (ValueError, TypeError):
        return X509CertificateAttributes({"value": {"path": Path({"efid_or_path": path})}})


def _certificate_object(cert: _Cert, path: bytes) -> bytes:
    obj = CertificateObject({
        "common_object_attributes": CommonObjectAttributes({"label": cert.label}),
        "class_attributes": CommonCertificateAttributes({"id": cert.key_id, "authority": cert.authority}),
        "type_attributes": _type_attributes(cert, path),
    })
    return obj.dump()


def build_filesystem(store: TokenStore) -> DF:
    """The MF of the card for the token's current objects (see the module docstring for the layout)."""
    state = store.load()
    mf = DF(0x3F00)
    app_path = _path(0x3F00, PKCS15_FID)
    template = ApplicationTemplate({"aid": PKCS15_AID, "label": APP_LABEL, "path": app_path})
    mf.add(EF(DIR_FID, template.dump(), sfi=0x1E))  # ISO/IEC 7816-4: EF.DIR has SFI 30
    app = mf.add(DF(PKCS15_FID, name=PKCS15_AID))
    assert isinstance(app, DF)

    certs = _certificates(store)
    cdf = b""
    for i, cert in enumerate(certs):
        fid = FIRST_CERT_FID + i
        app.add(EF(fid, bytes(cert.der)))
        cdf += _certificate_object(cert, _path(0x3F00, PKCS15_FID, fid))
    app.add(EF(CDF_FID, cdf))

    odf = PKCS15Objects(name="certificates",
                        value=PathOrObjects(name="path", value=Path({"efid_or_path": _path(0x3F00, PKCS15_FID,
                                                                                           CDF_FID)})))
    app.add(EF(ODF_FID, odf.dump()))
    try:
        serial = bytes.fromhex(str(state["serial"]))
    except ValueError:
        serial = str(state["serial"]).encode()
    info = TokenInfo({
        "version": 0,
        "serial_number": serial,
        "manufacturer_id": str(state.get("manufacturer", "signagent")),
        "label": str(state["label"]),
        # Read-only through this face (no UPDATE BINARY); PSO needs the user PIN, so login is required.
        "token_flags": {"readonly", "login_required"},
    })
    app.add(EF(TOKENINFO_FID, info.dump()))
    return mf

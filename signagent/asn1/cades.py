"""CAdES signed attributes with asn1crypto: the ESS signing-certificate structures and their OIDs.

ESS (RFC 2634 section 5.4, RFC 5035 section 3) defines, as signed attributes of a CMS SignerInfo::

    SigningCertificateV2 ::= SEQUENCE {
        certs    SEQUENCE OF ESSCertIDv2,
        policies SEQUENCE OF PolicyInformation OPTIONAL }
    ESSCertIDv2 ::= SEQUENCE {
        hashAlgorithm AlgorithmIdentifier DEFAULT {algorithm id-sha256},
        certHash      OCTET STRING,            -- hash of the whole certificate DER
        issuerSerial  IssuerSerial OPTIONAL }
    IssuerSerial ::= SEQUENCE { issuer GeneralNames, serialNumber CertificateSerialNumber }

asn1crypto declares these structures in its ``tsp`` module, which registers the attribute types
``signing_certificate`` (1.2.840.113549.1.9.16.2.12) and ``signing_certificate_v2`` (…2.47) with
``cms.CMSAttribute`` when imported. :func:`register` makes sure that has happened (idempotent); the structures
are re-exported here under the names of the standard so that callers need not know where asn1crypto keeps them.
ETSI EN 319 122-1 section 5.2.2 makes signing-certificate-v2 one of the mandatory attributes of CAdES-BES.

Exports: ESSCertIDv2, IssuerSerial, SigningCertificateV2, SigningCertificate, SIGNING_CERTIFICATE_V2,
SIGNING_CERTIFICATE, register.
"""

from __future__ import annotations

from asn1crypto import cms, tsp

from . import oids

__all__ = [
    "SIGNING_CERTIFICATE",
    "SIGNING_CERTIFICATE_V2",
    "ESSCertIDv2",
    "IssuerSerial",
    "SigningCertificate",
    "SigningCertificateV2",
    "register",
]

SIGNING_CERTIFICATE = oids.SIGNING_CERTIFICATE  # id-aa-signingCertificate, RFC 2634 section 5.4
SIGNING_CERTIFICATE_V2 = oids.SIGNING_CERTIFICATE_V2  # id-aa-signingCertificateV2, RFC 5035 section 3

ESSCertIDv2 = tsp.ESSCertIDv2
IssuerSerial = tsp.IssuerSerial
SigningCertificateV2 = tsp.SigningCertificateV2
SigningCertificate = tsp.SigningCertificate


def register() -> None:
    """Make sure asn1crypto parses the two signing-certificate attributes (idempotent)."""
    names = {SIGNING_CERTIFICATE: "signing_certificate", SIGNING_CERTIFICATE_V2: "signing_certificate_v2"}
    specs = {"signing_certificate": tsp.SetOfSigningCertificates,
             "signing_certificate_v2": tsp.SetOfSigningCertificatesV2}
    changed = False
    for oid, name in names.items():
        if cms.CMSAttributeType._map.get(oid) != name:
            cms.CMSAttributeType._map[oid] = name
            changed = True
        cms.CMSAttribute._oid_specs.setdefault(name, specs[name])
    if changed:
        cms.CMSAttributeType._reverse_map = None


register()

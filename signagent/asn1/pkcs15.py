"""ASN.1 of ISO/IEC 7816-15 (PKCS#15 v1.1) that both faces of a PKCS#15 card need: the agent's reader
(:mod:`signagent.tokens.pkcs15`) and the simulator's card (``pkcs11_sim.pcsc.pkcs15``).

The subset of the PKCS#15 v1.1 module (section 6, "DEFINITIONS IMPLICIT TAGS") for certificate directories.
Two tagging rules decide the bytes: a tag on a CHOICE is explicit (X.680 section 31.2.7), so the ODF's
``[4] PathOrObjects`` and X509CertificateAttributes' ``issuer [0] Name`` are explicit; and the ``[0]`` / ``[1]`` of
the parameterised ``PKCS15Object`` stand for open types, which X.683 section 8.3 also tags explicitly.

Exports: PKCS15_AID, Path, PathOrObjects, PKCS15Objects, CommonObjectFlags, CommonObjectAttributes,
CommonCertificateAttributes, ObjectValue, X509CertificateAttributes, CertificateObject.
"""

from __future__ import annotations

from asn1crypto import core, x509

#: DF name of the PKCS#15 application: RID A0 00 00 00 63 + "PKCS-15" (PKCS#15 v1.1 section 5.4.1).
PKCS15_AID = bytes.fromhex("A000000063504B43532D3135")


class Path(core.Sequence):
    """Path ::= SEQUENCE { efidOrPath OCTET STRING, index INTEGER OPTIONAL, length [0] INTEGER OPTIONAL }"""

    _fields = [
        ("efid_or_path", core.OctetString),
        ("index", core.Integer, {"optional": True}),
        ("length", core.Integer, {"implicit": 0, "optional": True}),
    ]


class PathOrObjects(core.Choice):
    """PathOrObjects ::= CHOICE { path Path, objects [0] SEQUENCE OF ..., ... }"""

    _alternatives = [
        ("path", Path),
        ("objects", core.Any, {"implicit": 0}),
    ]


class PKCS15Objects(core.Choice):
    """One EF.ODF entry: which kind of directory file, and where it is."""

    _alternatives = [
        ("private_keys", PathOrObjects, {"explicit": 0}),
        ("public_keys", PathOrObjects, {"explicit": 1}),
        ("trusted_public_keys", PathOrObjects, {"explicit": 2}),
        ("secret_keys", PathOrObjects, {"explicit": 3}),
        ("certificates", PathOrObjects, {"explicit": 4}),
        ("trusted_certificates", PathOrObjects, {"explicit": 5}),
        ("useful_certificates", PathOrObjects, {"explicit": 6}),
        ("data_objects", PathOrObjects, {"explicit": 7}),
        ("auth_objects", PathOrObjects, {"explicit": 8}),
    ]


class CommonObjectFlags(core.BitString):
    """CommonObjectFlags ::= BIT STRING { private(0), modifiable(1) }"""

    _map = {0: "private", 1: "modifiable"}


class CommonObjectAttributes(core.Sequence):
    """label, flags and authId of every PKCS#15 object (the rest of the optional tail is not modelled)."""

    _fields = [
        ("label", core.UTF8String, {"optional": True}),
        ("flags", CommonObjectFlags, {"optional": True}),
        ("auth_id", core.OctetString, {"optional": True}),
    ]


class CommonCertificateAttributes(core.Sequence):
    """CommonCertificateAttributes ::= SEQUENCE { iD Identifier, authority BOOLEAN DEFAULT FALSE, ... }

    The iD ties a certificate to its private key."""

    _fields = [
        ("id", core.OctetString),
        ("authority", core.Boolean, {"default": False}),
    ]


class ObjectValue(core.Choice):
    """ObjectValue ::= CHOICE { indirect ReferencedValue (path or url), direct [0] the value itself }."""

    _alternatives = [
        ("path", Path),
        ("url", core.PrintableString),
        ("direct", core.Any, {"explicit": 0}),
    ]


class X509CertificateAttributes(core.Sequence):
    """value, then the optional hints subject, issuer [0] (explicit: Name is a CHOICE) and serialNumber."""

    _fields = [
        ("value", ObjectValue),
        ("subject", x509.Name, {"optional": True}),
        ("issuer", x509.Name, {"explicit": 0, "optional": True}),
        ("serial_number", core.Integer, {"optional": True}),
    ]


class CertificateObject(core.Sequence):
    """CertificateType x509Certificate: PKCS15Object {CommonCertificateAttributes, NULL, X509CertAttributes}."""

    _fields = [
        ("common_object_attributes", CommonObjectAttributes),
        ("class_attributes", CommonCertificateAttributes),
        # SubClassAttributes of a certificate object is NULL (PKCS#15 v1.1 section 6.5).
        ("sub_class_attributes", core.Null, {"explicit": 0, "optional": True}),
        ("type_attributes", X509CertificateAttributes, {"explicit": 1}),
    ]

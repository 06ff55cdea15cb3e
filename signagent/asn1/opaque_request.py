"""The outline of a PKCS#10 certification request as an asn1crypto spec, with every OID-dependent value undecoded.

It serves :func:`signagent.asn1.strict_der.require_der` as :mod:`signagent.asn1.opaque_specs` does for
certificates and CRLs: asn1crypto's DER re-encoding of a request parsed with this spec equals the input exactly
when the request is DER (X.690 clause 11: no junk after a value inside a tagged wrapper, no element a SEQUENCE
does not define, SET OF in order), while attribute values, name values and algorithm parameters stay raw bytes
(the TLV walk still checks their encoding; their meaning is judged where they are used).

Fields follow RFC 2986 section 4.

Exports: OpaqueCertificationRequest.
"""

from __future__ import annotations

from typing import ClassVar

from asn1crypto import core

__all__ = ["OpaqueCertificationRequest"]


class _Algorithm(core.Sequence):
    """AlgorithmIdentifier (RFC 5280 4.1.1.2) with the parameters undecoded."""

    _fields: ClassVar[list[tuple]] = [("algorithm", core.ObjectIdentifier),
                                      ("parameters", core.Any, {"optional": True})]


class _TypeAndValue(core.Sequence):
    _fields: ClassVar[list[tuple]] = [("type", core.ObjectIdentifier), ("value", core.Any)]


class _Rdn(core.SetOf):
    _child_spec = _TypeAndValue


class _RdnSequence(core.SequenceOf):
    _child_spec = _Rdn


class _PublicKeyInfo(core.Sequence):
    _fields: ClassVar[list[tuple]] = [("algorithm", _Algorithm), ("public_key", core.BitString)]


class _AttributeValues(core.SetOf):
    _child_spec = core.Any


class _Attribute(core.Sequence):
    """Attribute ::= SEQUENCE { type OBJECT IDENTIFIER, values SET OF ANY } (RFC 2986 section 4.1)."""

    _fields: ClassVar[list[tuple]] = [("type", core.ObjectIdentifier), ("values", _AttributeValues)]


class _Attributes(core.SetOf):
    _child_spec = _Attribute


class _RequestInfo(core.Sequence):
    """CertificationRequestInfo: version, subject, subjectPKInfo, attributes [0] IMPLICIT."""

    _fields: ClassVar[list[tuple]] = [
        ("version", core.Integer),
        ("subject", _RdnSequence),
        ("subject_pk_info", _PublicKeyInfo),
        ("attributes", _Attributes, {"implicit": 0}),
    ]


class OpaqueCertificationRequest(core.Sequence):
    """CertificationRequest ::= SEQUENCE { certificationRequestInfo, signatureAlgorithm, signature BIT STRING }."""

    _fields: ClassVar[list[tuple]] = [
        ("certification_request_info", _RequestInfo),
        ("signature_algorithm", _Algorithm),
        ("signature", core.BitString),
    ]

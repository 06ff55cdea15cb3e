"""The outline of a certificate and of a CRL as asn1crypto specs, with every OID-dependent value left undecoded.

They serve :func:`signagent.asn1.strict_der.check_canonical`: asn1crypto's DER re-encoding of a value parsed with
these specs equals the input exactly when the structure is DER (X.690 clause 11: no junk after a value inside an
EXPLICIT wrapper, no element a SEQUENCE does not define, no DEFAULT value encoded, SET OF in order). asn1crypto's
own specs would decode extension values, attribute values and algorithm parameters by their OIDs on
re-encoding, and real state-PKI certificates carry values that do not match those specs (the Microsoft template
name extension): such a value is the extension parser's business, not a DER violation. The undecoded values
(``core.Any``, plain OCTET STRINGs) are still covered by the TLV walk and by the signature over the bytes received.

Fields follow RFC 5280 sections 4.1 (certificate) and 5.1 (CRL), RFC 2986 section 4 (certification request).

Exports: OpaqueCertificate, OpaqueCertificateList, OpaqueCertificationRequest.
"""

from __future__ import annotations

from asn1crypto import core, x509

from .strict_der import received_encoding

__all__ = ["OpaqueCertificate", "OpaqueCertificateList", "OpaqueCertificationRequest"]


class _KeepsAnyAsRead(core.Sequence):
    """A SEQUENCE whose ``core.Any`` fields re-encode as their own bytes.

    asn1crypto re-encodes an Any through the universal type of its tag, and a primitive's forced re-encoding goes
    through its Python value: a string the codec cannot round-trip (a TeletexString, invalid UTF-8 in a hostile
    name) would be called "not DER" when it is a malformed *value* -- the name parser's business. The TLV walk
    has already checked these bytes' lengths and nesting. Every other field is re-encoded as usual, and
    elements the SEQUENCE does not define are dropped, so they still show as a difference.
    """

    def _set_contents(self, force: bool = False) -> None:
        if self.children is None:
            self._parse_children()
        parts = []
        for index, field in enumerate(self._fields):
            child = self._lazy_child(index)
            if isinstance(child, core.Void):
                continue
            parts.append(received_encoding(child) if field[1] is core.Any else child.dump(force=force))
        self._contents = b"".join(parts)
        self._header = None
        self._trailer = b""


class _Algorithm(_KeepsAnyAsRead):
    """AlgorithmIdentifier (RFC 5280 4.1.1.2) with the parameters undecoded."""

    _fields = [("algorithm", core.ObjectIdentifier), ("parameters", core.Any, {"optional": True})]


class _AttributeTypeAndValue(_KeepsAnyAsRead):
    _fields = [("type", core.ObjectIdentifier), ("value", core.Any)]


class _RelativeDistinguishedName(core.SetOf):
    _child_spec = _AttributeTypeAndValue


class _RdnSequence(core.SequenceOf):
    _child_spec = _RelativeDistinguishedName


class _Name(core.Choice):
    _alternatives = [("rdn_sequence", _RdnSequence)]


class _Validity(core.Sequence):
    _fields = [("not_before", x509.Time), ("not_after", x509.Time)]


class _PublicKeyInfo(core.Sequence):
    _fields = [("algorithm", _Algorithm), ("public_key", core.BitString)]


class _Extension(core.Sequence):
    """Extension (RFC 5280 4.1.2.9): critical DEFAULT FALSE, so an encoded FALSE is not DER (X.690 11.5)."""

    _fields = [("extn_id", core.ObjectIdentifier), ("critical", core.Boolean, {"default": False}),
               ("extn_value", core.OctetString)]


class _Extensions(core.SequenceOf):
    _child_spec = _Extension


class _TbsCertificate(core.Sequence):
    _fields = [
        ("version", x509.Version, {"explicit": 0, "default": "v1"}),
        ("serial_number", core.Integer),
        ("signature", _Algorithm),
        ("issuer", _Name),
        ("validity", _Validity),
        ("subject", _Name),
        ("subject_public_key_info", _PublicKeyInfo),
        ("issuer_unique_id", core.BitString, {"implicit": 1, "optional": True}),
        ("subject_unique_id", core.BitString, {"implicit": 2, "optional": True}),
        ("extensions", _Extensions, {"explicit": 3, "optional": True}),
    ]


class OpaqueCertificate(core.Sequence):
    """Certificate (RFC 5280 4.1) with OID-dependent values undecoded."""

    _fields = [("tbs_certificate", _TbsCertificate), ("signature_algorithm", _Algorithm),
               ("signature_value", core.BitString)]


class _RevokedCertificate(core.Sequence):
    _fields = [("user_certificate", core.Integer), ("revocation_date", x509.Time),
               ("crl_entry_extensions", _Extensions, {"optional": True})]


class _RevokedCertificates(core.SequenceOf):
    _child_spec = _RevokedCertificate


class _TbsCertList(core.Sequence):
    _fields = [
        ("version", core.Integer, {"optional": True}),
        ("signature", _Algorithm),
        ("issuer", _Name),
        ("this_update", x509.Time),
        ("next_update", x509.Time, {"optional": True}),
        ("revoked_certificates", _RevokedCertificates, {"optional": True}),
        ("crl_extensions", _Extensions, {"explicit": 0, "optional": True}),
    ]


class OpaqueCertificateList(core.Sequence):
    """CertificateList (RFC 5280 5.1) with OID-dependent values undecoded."""

    _fields = [("tbs_cert_list", _TbsCertList), ("signature_algorithm", _Algorithm), ("signature", core.BitString)]


class _AnyValues(core.SetOf):
    """SET OF AttributeValue, each kept as read; the SET OF order is still required (X.690 11.6)."""

    _child_spec = core.Any

    def _set_contents(self, force: bool = False) -> None:
        if self.children is None:
            self._parse_children()
        self._contents = b"".join(sorted(received_encoding(child) for child in self))
        self._header = None
        self._trailer = b""


class _RequestAttribute(core.Sequence):
    _fields = [("type", core.ObjectIdentifier), ("values", _AnyValues)]


class _RequestAttributes(core.SetOf):
    _child_spec = _RequestAttribute


class _CertificationRequestInfo(core.Sequence):
    _fields = [("version", core.Integer), ("subject", _Name), ("subject_pk_info", _PublicKeyInfo),
               ("attributes", _RequestAttributes, {"implicit": 0, "optional": True})]


class OpaqueCertificationRequest(core.Sequence):
    """CertificationRequest (RFC 2986 section 4) with attribute values undecoded."""

    _fields = [("certification_request_info", _CertificationRequestInfo), ("signature_algorithm", _Algorithm),
               ("signature", core.BitString)]

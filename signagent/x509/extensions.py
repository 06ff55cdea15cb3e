"""Certificate extensions parsed one by one, so that one broken extension never hides the others.

Real state-PKI certificates carry extensions whose contents violate the spec asn1crypto applies (the Microsoft
certificate-template extension 1.3.6.1.4.1.311.20.2 holds a UTF8String where a BMPString is specified), so a
certificate is never decoded as a whole here: each extension is parsed on its own and a failure is recorded as an
error string beside it. RFC 5280 section 4.2: a critical extension that is not recognised *or cannot be
processed* makes the certificate unacceptable, so a broken critical extension counts as unknown.

Exports: ExtensionInfo, parse_extensions, check_extension_framing, to_jsonable, PROCESSED_EXTENSIONS.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import ClassVar

from asn1crypto import core, x509

import signagent.asn1  # noqa: F401  -- registers the Russian extensions with asn1crypto
from signagent.asn1 import oids
from signagent.asn1.integers import jsonable_int
from signagent.asn1.nesting import MAX_VALUE_DEPTH, nesting_depth

__all__ = ["PROCESSED_EXTENSIONS", "ExtensionInfo", "check_extension_framing", "parse_extensions", "to_jsonable"]

#: Extensions whose meaning this project knows: RFC 5280 section 4.2 extensions that path validation
#: (pyhanko-certvalidator and our checks) processes or that only carry information, and the Russian ones.
PROCESSED_EXTENSIONS = frozenset({
    oids.EXT_SUBJECT_KEY_IDENTIFIER,  # subjectKeyIdentifier
    oids.EXT_KEY_USAGE,  # keyUsage
    oids.EXT_PRIVATE_KEY_USAGE_PERIOD,  # privateKeyUsagePeriod (qualified-profile.md 2.2: honoured when present)
    oids.EXT_SUBJECT_ALT_NAME,  # subjectAltName
    oids.EXT_ISSUER_ALT_NAME,  # issuerAltName
    oids.EXT_BASIC_CONSTRAINTS,  # basicConstraints
    oids.EXT_NAME_CONSTRAINTS,  # nameConstraints
    oids.EXT_CRL_DISTRIBUTION_POINTS,  # cRLDistributionPoints
    oids.EXT_CERTIFICATE_POLICIES,  # certificatePolicies
    oids.EXT_POLICY_MAPPINGS,  # policyMappings
    oids.EXT_AUTHORITY_KEY_IDENTIFIER,  # authorityKeyIdentifier
    oids.EXT_POLICY_CONSTRAINTS,  # policyConstraints
    oids.EXT_EXTENDED_KEY_USAGE,  # extKeyUsage
    oids.EXT_FRESHEST_CRL,  # freshestCRL
    oids.EXT_INHIBIT_ANY_POLICY,  # inhibitAnyPolicy
    oids.EXT_AUTHORITY_INFO_ACCESS,  # authorityInfoAccess
    oids.EXT_SUBJECT_INFO_ACCESS,  # subjectInfoAccess
    oids.EXT_OCSP_NO_CHECK,  # id-pkix-ocsp-nocheck (RFC 6960 section 4.2.2.2.1)
    oids.SUBJECT_SIGN_TOOL,
    oids.ISSUER_SIGN_TOOL,
    oids.IDENTIFICATION_KIND,
})


@dataclass(frozen=True)
class ExtensionInfo:
    """One extension: OID, name, criticality, a JSON-ready value (or None) and the parse error (or None).

    ``parsed`` is the asn1crypto value when the extension matched its spec (None otherwise). When the spec did not
    fit, ``value`` may still hold a generic decoding of the contents, for display.
    """

    oid: str
    name: str
    critical: bool
    value: object
    error: str | None
    known: bool
    parsed: object = field(default=None, repr=False, compare=False)


def to_jsonable(value: object) -> object:
    """asn1crypto ``.native`` output made JSON-ready: bytes as hex, datetimes ISO-8601, sets sorted, integers too
    large for ``str()``/``json.dumps`` (a hostile pathLenConstraint of 20,000 digits) as abbreviated hex text."""
    if isinstance(value, bytes | bytearray):
        return bytes(value).hex()
    if isinstance(value, _dt.datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, set | frozenset):
        return sorted((to_jsonable(v) for v in value), key=repr)
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if isinstance(value, int) and not isinstance(value, bool):
        return jsonable_int(value)
    if value is None or isinstance(value, str | float | bool):
        return value
    return str(value)


# What asn1crypto raises on hostile values: its parse errors, and AttributeError for types it reads but cannot
# turn into Python values (an ObjectDescriptor, tag 7, has no .native).
_DECODE_ERRORS = (ValueError, TypeError, KeyError, OverflowError, AttributeError, IndexError)


def _generic_value(contents: bytes) -> object:
    try:
        return to_jsonable(core.load(contents).native)
    except _DECODE_ERRORS:
        return contents.hex()


class _RawExtension(core.Sequence):
    """Extension (RFC 5280 section 4.1) with extnValue left as plain bytes.

    asn1crypto's own Extension decodes extnValue with the OID's spec as soon as the field is touched, so a
    broken value would make the whole extension unreadable; this twin keeps the value raw.
    """

    _fields: ClassVar[list[tuple]] = [
        ("extn_id", core.ObjectIdentifier),
        ("critical", core.Boolean, {"default": False}),
        ("extn_value", core.OctetString),
    ]


def _frame(extension: x509.Extension) -> _RawExtension:
    raw = _RawExtension.load(extension.dump(), strict=True)
    _ = raw["extn_id"].dotted, raw["critical"].native, raw["extn_value"].native
    return raw


def check_extension_framing(extensions: Iterable[x509.Extension] | None) -> None:
    """Raise ValueError if an extension is not an (OID, BOOLEAN, OCTET STRING) SEQUENCE; values are not decoded."""
    for ext in extensions or ():
        _frame(ext)


def _one(extension: x509.Extension) -> ExtensionInfo:
    raw = _frame(extension)
    oid = raw["extn_id"].dotted
    name = x509.ExtensionId._map.get(oid, oid)
    critical = bool(raw["critical"].native)
    known = oid in PROCESSED_EXTENSIONS
    contents = raw["extn_value"].native or b""
    if nesting_depth(contents, MAX_VALUE_DEPTH) > MAX_VALUE_DEPTH:
        # asn1crypto decodes recursively (RecursionError, and memory on the way): too deep a value is recorded as
        # unprocessable without decoding it -- for a critical extension that makes the certificate unacceptable.
        return ExtensionInfo(oid, name, critical, contents[:64].hex(),
                             f"nested deeper than {MAX_VALUE_DEPTH} levels", known)
    spec = x509.Extension._oid_specs.get(name)
    if spec is None:
        # No spec for this OID: show a generic decoding; nothing to be wrong against.
        return ExtensionInfo(oid, name, critical, _generic_value(contents), None, known)
    try:
        parsed = spec.load(contents, strict=True)
        value = to_jsonable(parsed.native)
    except _DECODE_ERRORS as exc:
        reason = " ".join(str(exc).split())[:300] or type(exc).__name__
        return ExtensionInfo(oid, name, critical, _generic_value(contents), f"does not match its ASN.1 spec: {reason}",
                             known)
    return ExtensionInfo(oid, name, critical, value, None, known, parsed)


def parse_extensions(extensions: Iterable[x509.Extension] | None) -> tuple[ExtensionInfo, ...]:
    """Parse every extension on its own (a broken one is recorded, never raised)."""
    if extensions is None:
        return ()
    return tuple(_one(ext) for ext in extensions)

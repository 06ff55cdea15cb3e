"""Distinguished names (RFC 5280 section 4.1.2.4) as people and programs read them: attributes by OID.

Russian certificates put their attributes in no fixed order (``reference/qualified-profile.md`` 2.1), so every
lookup here goes by attribute type, never by position. Attribute values that do not match the type asn1crypto
expects (or attributes of an unknown type) are decoded generically; a value that cannot be decoded at all is
shown as ``#`` + the hex of its DER, as RFC 4514 section 2.4 does.

Names are compared as RFC 5280 section 7.1 says: attribute by attribute, string values after the RFC 4518
preparation (case-folding, space handling). A value that cannot be prepared (a UTF8String with invalid bytes, an
odd-length BMPString, a private-use or unassigned character, a type where a string is expected) is compared as
its DER bytes, the binary comparison section 7.1 allows for other values, so that a hostile name is never equal
to a different one and comparing it never raises.

Exports: NameAttribute, DistinguishedName.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from asn1crypto import core, x509

import signagent.asn1  # noqa: F401  -- registers the Russian attributes with asn1crypto
from signagent.asn1 import oids

__all__ = ["DistinguishedName", "NameAttribute"]

# Attribute types asn1crypto does not name; kept local rather than patched into asn1crypto's tables.
_EXTRA_NAMES = {
    oids.ATTR_UNSTRUCTURED_NAME: "unstructured_name",  # PKCS #9; Минцифры certificates name the information system here
}

# Short labels for the one-line form: RFC 4514 section 3 keywords, and the forms CryptoPro shows for the rest.
_LABELS = {
    "common_name": "CN",
    "surname": "SN",
    "given_name": "G",
    "title": "T",
    "organization_name": "O",
    "organizational_unit_name": "OU",
    "country_name": "C",
    "state_or_province_name": "S",
    "locality_name": "L",
    "street_address": "STREET",
    "email_address": "E",
    "serial_number": "SERIALNUMBER",
    "pseudonym": "PSEUDONYM",
    "unstructured_name": "UN",
    "domain_component": "DC",
    "user_id": "UID",
    "ogrn": "ОГРН",
    "ogrnip": "ОГРНИП",
    "snils": "СНИЛС",
    "inn": "ИНН",
    "innle": "ИНН ЮЛ",
}

_STRING_TYPES = (core.AbstractString,)

# Everything asn1crypto may raise while decoding or preparing a value it got from the wire.
# AttributeError: asn1crypto reads some types it cannot turn into Python values (an ObjectDescriptor has no .native).
_VALUE_ERRORS = (ValueError, TypeError, KeyError, OverflowError, IndexError, AttributeError)


class _RawTypeAndValue(core.Sequence):
    """AttributeTypeAndValue with the value left undecoded (asn1crypto decodes it by type when touched)."""

    _fields: ClassVar[list[tuple]] = [("type", core.ObjectIdentifier), ("value", core.Any)]


@dataclass(frozen=True)
class NameAttribute:
    """One attribute of a name: its OID, asn1crypto-style name (or the OID), short label and text value."""

    oid: str
    name: str
    label: str
    value: str


def _decode_value(type_and_value: x509.NameTypeAndValue) -> str:
    try:
        native = type_and_value["value"].native
        if isinstance(native, str):
            return native
    except _VALUE_ERRORS:
        pass
    # The declared type did not fit (or is unknown): decode whatever string type is there.
    der = _RawTypeAndValue.load(type_and_value.dump())["value"].dump()
    try:
        generic = core.load(der)
        if isinstance(generic, _STRING_TYPES):
            return generic.native
    except _VALUE_ERRORS:
        pass
    return "#" + der.hex()


def _comparison_key(type_and_value: x509.NameTypeAndValue) -> tuple[str, tuple[str, object]]:
    """(OID, prepared value) for RFC 5280 section 7.1 comparison; the value's DER when it cannot be prepared."""
    oid = type_and_value["type"].dotted
    try:
        prepped = type_and_value.prepped_value  # RFC 4518 string preparation, as asn1crypto's own comparison does
        if isinstance(prepped, str):
            return oid, ("text", prepped)
    except _VALUE_ERRORS:
        pass
    return oid, ("der", _RawTypeAndValue.load(type_and_value.dump())["value"].dump())


def _escape(value: str) -> str:
    # RFC 4514 section 2.4: escape the characters that would break the one-line form.
    out = value.replace("\\", "\\\\")
    for ch in ',+"<>;':
        out = out.replace(ch, "\\" + ch)
    if out.startswith((" ", "#")):
        out = "\\" + out
    if out.endswith(" "):
        out = out[:-1] + "\\ "
    return out


class DistinguishedName:
    """An X.509 Name: attributes in encoded order, lookups by OID or name, and a one-line form.

    Equality follows RFC 5280 section 7.1 name comparison (asn1crypto's normalised comparison).
    """

    __slots__ = ("_asn1", "_attributes", "_key", "_rdns")

    def __init__(self, name: x509.Name) -> None:
        self._asn1 = name
        rdns: list[tuple[NameAttribute, ...]] = []
        for rdn in name.chosen:
            attrs = []
            for tv in rdn:
                oid = tv["type"].dotted
                known = x509.NameType._map.get(oid) or _EXTRA_NAMES.get(oid)
                attr_name = known or oid
                attrs.append(NameAttribute(oid, attr_name, _LABELS.get(attr_name, oid), _decode_value(tv)))
            rdns.append(tuple(attrs))
        self._rdns = tuple(rdns)
        self._key: tuple[tuple[tuple[str, tuple[str, object]], ...], ...] | None = None  # made on first comparison
        self._attributes = tuple(a for rdn in rdns for a in rdn)

    @property
    def asn1(self) -> x509.Name:
        """The asn1crypto Name (for comparisons and re-encoding)."""
        return self._asn1

    @property
    def der(self) -> bytes:
        """The DER encoding of the name, as found in the certificate."""
        return self._asn1.dump()

    @property
    def attributes(self) -> tuple[NameAttribute, ...]:
        """Every attribute, in encoded order."""
        return self._attributes

    def _matches(self, attr: NameAttribute, key: str) -> bool:
        return key in (attr.oid, attr.name, attr.label)

    def get_all(self, key: str) -> tuple[str, ...]:
        """Values of every attribute whose OID, name or label is ``key`` (for example ``"2.5.4.3"``,
        ``"common_name"`` or ``"CN"``), in encoded order."""
        return tuple(a.value for a in self._attributes if self._matches(a, key))

    def get(self, key: str) -> str | None:
        """The first value of attribute ``key`` (OID, name or label), or None."""
        values = self.get_all(key)
        return values[0] if values else None

    def to_dict(self) -> dict[str, str | list[str]]:
        """Attribute name -> value (a list when the attribute repeats), in encoded order."""
        out: dict[str, str | list[str]] = {}
        for attr in self._attributes:
            if attr.name not in out:
                out[attr.name] = attr.value
            else:
                previous = out[attr.name]
                out[attr.name] = [*previous, attr.value] if isinstance(previous, list) else [previous, attr.value]
        return out

    @property
    def display(self) -> str:
        """One line, most specific attribute first (RFC 4514 order): ``CN=..., O=..., C=RU``."""
        parts = []
        for rdn in reversed(self._rdns):
            parts.append("+".join(f"{a.label}={_escape(a.value)}" for a in rdn))
        return ", ".join(parts)

    def __str__(self) -> str:
        return self.display

    def __repr__(self) -> str:
        return f"DistinguishedName({self.display!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DistinguishedName):
            return NotImplemented
        return self._comparison_form() == other._comparison_form()

    def __hash__(self) -> int:
        return hash(self._comparison_form())

    def _comparison_form(self) -> tuple[tuple[tuple[str, tuple[str, object]], ...], ...]:
        """The RFC 5280 section 7.1 form of the name (RFC 4518 string preparation is slow: signing a file never
        compares names, so it is made on the first comparison or hash)."""
        if self._key is None:
            # An RDN is a SET: its attributes compare in any order (RFC 5280 section 7.1).
            self._key = tuple(tuple(sorted((_comparison_key(tv) for tv in rdn), key=repr))
                              for rdn in self._asn1.chosen)
        return self._key

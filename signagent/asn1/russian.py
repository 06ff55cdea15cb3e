"""Teaches asn1crypto the Russian qualified-certificate profile: name attributes and extensions.

Name attributes (Приказ ФСБ № 795; RFC 9215 section 5.1; types as real certificates carry them, see
``reference/qualified-profile.md`` 2.1): ОГРН, ОГРНИП, СНИЛС, ИНН, ИНН ЮЛ -- all NumericString.

Extensions (RFC 9215 section 5.2)::

    SubjectSignTool ::= UTF8String (SIZE (1..200))
    IssuerSignTool ::= SEQUENCE {
        signTool     UTF8String (SIZE(1..200)),
        cATool       UTF8String (SIZE(1..200)),
        signToolCert UTF8String (SIZE(1..100)),
        cAToolCert   UTF8String (SIZE(1..100)) }
    IdentificationKind ::= INTEGER  -- 0 personal presence, 1 remote with a qualified certificate,
                                    -- 2 remote with a biometric passport, 3 remote via ЕСИА + ЕБС

:func:`register` is idempotent and runs when :mod:`signagent.asn1` is imported.

Exports: IssuerSignTool, register, ATTRIBUTE_LABELS.
"""

from __future__ import annotations

from asn1crypto import core, x509

from . import oids


class IssuerSignTool(core.Sequence):
    """The CA's signature tool, CA tool and the numbers of their FSB conformity certificates."""

    _fields = [
        ("sign_tool", core.UTF8String),
        ("ca_tool", core.UTF8String),
        ("sign_tool_cert", core.UTF8String),
        ("ca_tool_cert", core.UTF8String),
    ]


class CertificateTemplateName(core.Choice):
    """Microsoft's certificate template name (1.3.6.1.4.1.311.20.2), as the state PKI's CAs really encode it.

    asn1crypto specifies a BMPString; the ГУЦ, ФНС, НУЦ and Ростелеком CA certificates carry a UTF8String
    (qualified-profile.md 2.2, observed), so both are accepted.
    """

    _alternatives = [
        ("bmp_string", core.BMPString),
        ("utf8_string", core.UTF8String),
        ("printable_string", core.PrintableString),
    ]


#: Labels for people, as the attributes are called on Russian certificates and in CryptoPro's dialogs.
ATTRIBUTE_LABELS = {
    "ogrn": "ОГРН",
    "ogrnip": "ОГРНИП",
    "snils": "СНИЛС",
    "inn": "ИНН",
    "innle": "ИНН ЮЛ",
}

_registered = False


def register() -> None:
    """Add the Russian attributes and extensions to asn1crypto's tables (idempotent)."""
    global _registered
    if _registered:
        return
    x509.NameType._map.update(oids.RUSSIAN_NAME_ATTRIBUTES)
    x509.NameType._reverse_map = None
    for name in oids.RUSSIAN_NAME_ATTRIBUTES.values():
        x509.NameTypeAndValue._oid_specs[name] = core.NumericString
        if name not in x509.NameType.preferred_order:
            x509.NameType.preferred_order.append(name)

    original = x509.NameType.human_friendly

    def human_friendly(self: x509.NameType) -> str:
        label = ATTRIBUTE_LABELS.get(self.native)
        return label if label is not None else original.fget(self)

    x509.NameType.human_friendly = property(human_friendly, doc=original.__doc__)

    x509.ExtensionId._map.update(oids.RUSSIAN_EXTENSIONS)
    x509.ExtensionId._reverse_map = None
    x509.Extension._oid_specs.update({
        "subject_sign_tool": core.UTF8String,
        "issuer_sign_tool": IssuerSignTool,
        "identification_kind": core.Integer,
        "microsoft_enroll_certtype": CertificateTemplateName,
    })
    _registered = True

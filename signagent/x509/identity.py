"""The qualified-certificate identity of a certificate's subject (63-ФЗ art. 17; Приказ ФСБ № 795; RFC 9215 5).

Every attribute is found by its OID, never by position (``reference/qualified-profile.md`` 2.1: the RDN order
differs between CAs). Registration numbers are checked (:mod:`signagent.x509.checksums`); a bad one is
*flagged* in :attr:`QualifiedIdentity.problems` and still reported as found, never hidden and never fatal.

Owner kind (``reference/qualified-profile.md`` section 3), decided in this order:

1. ``individual_entrepreneur`` -- the subject has an ОГРНИП;
2. ``legal_entity`` -- it has an ОГРН, an ИНН ЮЛ, or the legacy 12-digit ИНН that is a 10-digit organisation
   ИНН padded with "00". ``names_person`` tells whether a natural person is named as well (СНИЛС or surname):
   that person is the head *or* an employee -- the certificate alone cannot say which; only ЕГРЮЛ can. Without a
   person it is an organisation's own (information-system) certificate (63-ФЗ art. 14 p. 3);
3. ``natural_person`` -- no organisation numbers, but a СНИЛС, or a surname / given names with a personal ИНН;
4. ``unknown`` -- none of these (e.g. a foreign or test certificate).

Given names: the givenName attribute holds имя and отчество in one value ("Андрей Андреевич"); with exactly two
words it is split into ``given_name`` and ``patronymic``; one word is the given name alone; with three or more
words (two-word given names, "… оглы" patronymics) the split is ambiguous and both stay None.

Exports: QualifiedIdentity, IssuerSignTool, extract_identity, IDENTIFICATION_KINDS, OWNER_KINDS.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from signagent.asn1 import oids
from signagent.asn1.integers import int_text
from signagent.outcome import Reason

from .checksums import check_inn10, check_inn12, check_ogrn, check_ogrnip, check_snils

if TYPE_CHECKING:
    from .certificate import Certificate

__all__ = ["IDENTIFICATION_KINDS", "OWNER_KINDS", "IssuerSignTool", "QualifiedIdentity", "extract_identity"]

#: identificationKind values (1.2.643.100.114; Приказ ФСБ № 795 as amended by № 31): (English, Russian).
IDENTIFICATION_KINDS = {
    0: ("in person", "при личном присутствии"),
    1: ("remotely, with a valid qualified certificate", "с использованием действующего квалифицированного сертификата"),
    2: ("remotely, with a biometric passport", "с использованием паспорта с электронным носителем (биометрического)"),
    3: ("remotely, through ЕСИА and the unified biometric system (ЕБС)", "с использованием ЕСИА и ЕБС"),
}

#: Owner kinds: (English, Russian) descriptions.
OWNER_KINDS = {
    "legal_entity": ("legal entity", "юридическое лицо"),
    "individual_entrepreneur": ("individual entrepreneur", "индивидуальный предприниматель"),
    "natural_person": ("natural person", "физическое лицо"),
    "unknown": ("unknown", "не определён"),
}

_FIELD_LABELS = {  # field -> (English, Russian) for problem messages
    "inn": ("INN", "ИНН"),
    "innle": ("INN of the legal entity", "ИНН ЮЛ"),
    "ogrn": ("OGRN", "ОГРН"),
    "ogrnip": ("OGRNIP", "ОГРНИП"),
    "snils": ("SNILS", "СНИЛС"),
}

_LENGTHS = {"inn": "12", "innle": "10", "ogrn": "13", "ogrnip": "15", "snils": "11"}


@dataclass(frozen=True)
class IssuerSignTool:
    """issuerSignTool (RFC 9215 section 5.2): the CA's signature tool and CA tool, and their conformity documents."""

    sign_tool: str
    ca_tool: str
    sign_tool_cert: str
    ca_tool_cert: str


@dataclass(frozen=True)
class QualifiedIdentity:
    """Who a qualified certificate names, attribute by attribute (None where absent)."""

    common_name: str | None
    surname: str | None
    given_names: str | None  # имя + отчество as the certificate holds them
    given_name: str | None
    patronymic: str | None
    full_name: str | None  # ФИО
    title: str | None
    organization: str | None
    unit: str | None
    country: str | None
    region: str | None
    locality: str | None
    street: str | None
    email: str | None
    ogrn: str | None
    ogrnip: str | None
    inn: str | None  # the INN attribute as found (12 digits; legacy organisation certificates: "00" + 10 digits)
    inn_kind: str | None  # "personal", "legal_entity_legacy" (00-padded), "legal_entity" (bare 10 digits) or None
    personal_inn: str | None  # the natural person's 12-digit INN, when the INN attribute is one
    innle: str | None  # the ИНН ЮЛ attribute as found
    organization_inn: str | None  # the organisation's 10-digit INN: ИНН ЮЛ, else the legacy padded INN
    snils: str | None
    subject_sign_tool: str | None
    issuer_sign_tool: IssuerSignTool | None
    identification_kind: int | None
    policy_classes: tuple[str, ...]  # "КС1"..."КА1"
    private_key_not_before: _dt.datetime | None
    private_key_not_after: _dt.datetime | None
    owner_kind: str  # a key of OWNER_KINDS
    names_person: bool  # a natural person is named (СНИЛС or surname present)
    problems: tuple[Reason, ...]

    @property
    def identification_kind_meaning(self) -> tuple[str, str] | None:
        """(English, Russian) meaning of identificationKind, None if absent or unknown."""
        return IDENTIFICATION_KINDS.get(self.identification_kind) if self.identification_kind is not None else None

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form (dates ISO-8601, problems as dicts)."""
        out: dict[str, object] = {}
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            if isinstance(value, _dt.datetime):
                value = value.isoformat()
            elif isinstance(value, IssuerSignTool):
                value = {"sign_tool": value.sign_tool, "ca_tool": value.ca_tool,
                         "sign_tool_cert": value.sign_tool_cert, "ca_tool_cert": value.ca_tool_cert}
            elif name == "problems":
                value = [p.to_dict() for p in value]
            elif isinstance(value, tuple):
                value = list(value)
            out[name] = value
        meaning = self.identification_kind_meaning
        out["identification_kind_meaning"] = {"en": meaning[0], "ru": meaning[1]} if meaning else None
        en, ru = OWNER_KINDS[self.owner_kind]
        out["owner_kind_text"] = {"en": en, "ru": ru}
        return out


def _shown(value: str) -> str:
    """repr of an attribute value for a message, cut to 40 characters (a message stays one short line)."""
    return repr(value) if len(value) <= 40 else repr(value[:40]) + "..."


def _problem(field: str, kind: str, value: str, expected_length: str | None = None) -> Reason:
    en, ru = _FIELD_LABELS[field]
    length = expected_length or _LENGTHS[field]
    if kind == "not_digits":
        shown = _shown(value)
        message = f"{en} {shown} contains characters other than digits"
        message_ru = f"{ru} {shown} содержит не только цифры"
    elif kind == "length":
        shown = _shown(value)
        message = f"{en} {shown} has {len(value)} digits, expected {length}"
        message_ru = f"{ru} {shown} содержит {len(value)} цифр, ожидалось {length}"
    else:
        message = f"{en} {value} has a wrong check digit"
        message_ru = f"{ru} {value}: неверное контрольное число"
    return Reason(f"{field}_{kind}", message, message_ru, field=field)


def _split_given_names(given_names: str | None) -> tuple[str | None, str | None]:
    if not given_names:
        return None, None
    words = given_names.split()
    if len(words) == 1:
        return words[0], None
    if len(words) == 2:
        return words[0], words[1]
    return None, None


def _classify_inn(inn: str | None, problems: list[Reason]) -> tuple[str | None, str | None, str | None]:
    """(inn_kind, personal INN, organisation INN) of the INN attribute, flagging what is wrong with it."""
    if inn is None:
        return None, None, None
    if len(inn) == 12 and inn.startswith("00"):
        # Legacy legal-entity certificates: the 10-digit organisation INN padded with "00" (no region code is 00,
        # so no personal INN starts that way).
        kind = check_inn10(inn[2:])
        if kind is not None:
            problems.append(_problem("inn", kind, inn))
        return "legal_entity_legacy", None, inn[2:]
    if len(inn) == 10:
        kind = check_inn10(inn)
        if kind is not None:
            problems.append(_problem("inn", kind, inn, "10"))
        return "legal_entity", None, inn
    kind = check_inn12(inn)
    if kind is not None:
        problems.append(_problem("inn", kind, inn))
        if kind != "checksum":
            return None, None, None
    return "personal", inn, None


def _check(field: str, value: str | None, checker: Callable[[str], str | None], problems: list[Reason]) -> None:
    if value is None:
        return
    kind = checker(value)
    if kind is not None:
        problems.append(_problem(field, kind, value))


def extract_identity(cert: Certificate) -> QualifiedIdentity:
    """The qualified identity of ``cert``'s subject, with every problem found flagged (never raised)."""
    name = cert.subject
    problems: list[Reason] = []

    ogrn = name.get(oids.OGRN)
    ogrnip = name.get(oids.OGRNIP)
    snils = name.get(oids.SNILS)
    innle = name.get(oids.INNLE)
    inn = name.get(oids.INN)
    _check("ogrn", ogrn, check_ogrn, problems)
    _check("ogrnip", ogrnip, check_ogrnip, problems)
    _check("snils", snils, check_snils, problems)
    _check("innle", innle, check_inn10, problems)
    inn_kind, personal_inn, legacy_org_inn = _classify_inn(inn, problems)
    organization_inn = innle or legacy_org_inn

    surname = name.get(oids.ATTR_SURNAME)
    given_names = name.get(oids.ATTR_GIVEN_NAME)
    given_name, patronymic = _split_given_names(given_names)
    names_person = snils is not None or surname is not None

    if ogrnip is not None:
        owner_kind = "individual_entrepreneur"
    elif ogrn is not None or innle is not None or inn_kind in ("legal_entity_legacy", "legal_entity"):
        owner_kind = "legal_entity"
    elif snils is not None or ((surname or given_names) and inn_kind == "personal"):
        owner_kind = "natural_person"
    else:
        owner_kind = "unknown"

    common_name = name.get(oids.ATTR_COMMON_NAME)
    if surname and given_names:
        full_name: str | None = f"{surname} {given_names}"
    elif surname:
        full_name = surname
    elif owner_kind in ("natural_person", "individual_entrepreneur"):
        full_name = common_name  # CN holds the ФИО for natural persons and entrepreneurs
    else:
        full_name = None

    kind_value = cert.identification_kind
    if kind_value is not None and kind_value not in IDENTIFICATION_KINDS:
        # The INTEGER is unbounded on the wire: shown through int_text (str() fails beyond 4,300 digits), and kept
        # only when it is an ordinary number, so that to_dict() stays JSON-ready.
        shown = int_text(kind_value)
        problems.append(Reason("identification_kind_unknown", f"identificationKind {shown} is not one of 0-3",
                               f"identificationKind {shown} не входит в допустимые значения 0-3",
                               field="identification_kind"))
        if kind_value.bit_length() > 63:
            kind_value = None

    period = cert.private_key_usage_period
    policies = set(cert.policy_oids)
    return QualifiedIdentity(
        common_name=common_name,
        surname=surname,
        given_names=given_names,
        given_name=given_name,
        patronymic=patronymic,
        full_name=full_name,
        title=name.get(oids.ATTR_TITLE),
        organization=name.get(oids.ATTR_ORGANIZATION),
        unit=name.get(oids.ATTR_ORGANIZATIONAL_UNIT),
        country=name.get(oids.ATTR_COUNTRY),
        region=name.get(oids.ATTR_STATE_OR_PROVINCE),
        locality=name.get(oids.ATTR_LOCALITY),
        street=name.get(oids.ATTR_STREET_ADDRESS),
        email=name.get(oids.ATTR_EMAIL_ADDRESS),
        ogrn=ogrn,
        ogrnip=ogrnip,
        inn=inn,
        inn_kind=inn_kind,
        personal_inn=personal_inn,
        innle=innle,
        organization_inn=organization_inn,
        snils=snils,
        subject_sign_tool=cert.subject_sign_tool,
        issuer_sign_tool=cert.issuer_sign_tool,
        identification_kind=kind_value,
        policy_classes=tuple(label for oid, label in oids.POLICY_CLASSES.items() if oid in policies),
        private_key_not_before=period.not_before if period else None,
        private_key_not_after=period.not_after if period else None,
        owner_kind=owner_kind,
        names_person=names_person,
        problems=tuple(problems),
    )

"""Subject names, validity windows and extensions of the test PKI's certificates, per profile and variant.

The content follows what real qualified certificates carry (``reference/qualified-profile.md`` sections 2-3):

* head / employee of a legal entity: E, ИНН (personal), СНИЛС, ОГРН, ИНН ЮЛ, C, S, L, STREET, O, T, CN = the
  organisation's name, SN, G;
* individual entrepreneur: E, ОГРНИП, ИНН, СНИЛС, C, S, L, SN, G, CN = ФИО;
* natural person: E, ИНН, СНИЛС, SN, G, CN = ФИО (no C: the Сертум-Про 2025 natural-person certificate has none);
* keyUsage digitalSignature + nonRepudiation (critical), EKU clientAuth + emailProtection, policies КС1 + КС2,
  subjectSignTool, issuerSignTool, identificationKind, privateKeyUsagePeriod equal to the validity.

Exports: Window, ca_subject, end_entity_subject, end_entity_window, end_entity_key_usage, ca_extensions,
end_entity_extensions, responder_extensions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from asn1crypto import x509

from ..x509 import builder as b
from .spec import CaSpec, EndEntitySpec, Organisation, SignTools

__all__ = [
    "Window",
    "ca_extensions",
    "ca_subject",
    "end_entity_extensions",
    "end_entity_key_usage",
    "end_entity_subject",
    "end_entity_window",
    "responder_extensions",
]

Name = list[tuple[str, str]]

_DAY = timedelta(days=1)


@dataclass(frozen=True)
class Window:
    """Certificate validity and privateKeyUsagePeriod."""

    not_before: datetime
    not_after: datetime
    key_not_before: datetime
    key_not_after: datetime


def _address(org: Organisation) -> Name:
    return [("C", "RU"), ("S", org.region), ("L", org.city), ("STREET", org.street)]


def ca_subject(ca: CaSpec) -> Name:
    """A CA's subject in the order the state-PKI CAs use: E, ОГРН, ИНН ЮЛ, address, O, CN."""
    org = ca.organisation
    name: Name = [("E", org.email)] if org.email else []
    name += [("OGRN", org.ogrn), ("INNLE", org.inn_le), *_address(org), ("O", org.name), ("CN", ca.common_name)]
    return name


def end_entity_subject(ee: EndEntitySpec) -> Name:
    """The owner's subject for the four profiles (qualified-profile.md section 3)."""
    p = ee.person
    name: Name = [("E", p.email)] if p.email else []
    if ee.profile in ("head", "employee"):
        org = ee.organisation
        assert org is not None  # EndEntitySpec checks it
        name += [("INN", p.inn), ("SNILS", p.snils), ("OGRN", org.ogrn), ("INNLE", org.inn_le), *_address(org),
                 ("O", org.name)]
        if p.title:
            name.append(("T", p.title))
        name += [("CN", org.name), ("SN", p.surname), ("G", p.given_names)]
    elif ee.profile == "ip":
        assert ee.ogrnip is not None
        name += [("OGRNIP", ee.ogrnip), ("INN", p.inn), ("SNILS", p.snils), ("C", "RU"), ("S", "77 г. Москва"),
                 ("L", "г. Москва"), ("SN", p.surname), ("G", p.given_names), ("CN", p.full_name)]
    else:
        name += [("INN", p.inn), ("SNILS", p.snils), ("SN", p.surname), ("G", p.given_names), ("CN", p.full_name)]
    return name


def end_entity_window(variant: str, now: datetime) -> Window:
    """Validity and key usage period for a variant; a valid certificate lives 15 months like FNS certificates."""
    if variant == "expired":
        start, end = now - 500 * _DAY, now - 35 * _DAY
    elif variant == "not_yet_valid":
        start, end = now + 10 * _DAY, now + 475 * _DAY
    elif variant == "pkup_over":
        # The certificate still verifies signatures, but its key may no longer make them (RFC 3280 4.2.1.4).
        start, end = now - 400 * _DAY, now + 65 * _DAY
        return Window(start, end, start, now - 35 * _DAY)
    else:
        start, end = now - 30 * _DAY, now + 425 * _DAY
    return Window(start, end, start, end)


def end_entity_key_usage(variant: str) -> x509.Extension:
    """digitalSignature + nonRepudiation, critical; the wrong_key_usage variant has keyCertSign only."""
    if variant == "wrong_key_usage":
        return b.key_usage("key_cert_sign")
    return b.key_usage("digital_signature", "non_repudiation")


def _tools(tools: SignTools) -> list[x509.Extension]:
    return [
        b.subject_sign_tool(tools.subject),
        b.issuer_sign_tool(tools.issuer_sign_tool, tools.issuer_ca_tool, tools.issuer_sign_tool_cert,
                           tools.issuer_ca_tool_cert),
    ]


def ca_extensions(ca: CaSpec, tools: SignTools, *, crl_url: str | None, ca_issuers_url: str | None
                  ) -> list[x509.Extension]:
    """basicConstraints (critical, cA, pathLen), keyUsage for a CA, policies, tools, CDP/AIA when issued by a CA."""
    ext = [
        b.basic_constraints(True, ca.path_len),
        b.key_usage("digital_signature", "key_cert_sign", "crl_sign"),
        b.certificate_policies(*ca.policies),
        *_tools(tools),
        b.identification_kind(0),
    ]
    if crl_url:
        ext.append(b.crl_distribution_points(crl_url))
    if ca_issuers_url:
        ext.append(b.authority_info_access(ca_issuers=[ca_issuers_url]))
    return ext


def end_entity_extensions(ee: EndEntitySpec, tools: SignTools, window: Window, *, crl_url: str, ocsp_url: str,
                          ca_issuers_url: str) -> list[x509.Extension]:
    """Every extension of a qualified owner certificate (qualified-profile.md section 2.2)."""
    return [
        end_entity_key_usage(ee.variant),
        b.extended_key_usage("client_auth", "email_protection"),
        b.private_key_usage_period(window.key_not_before, window.key_not_after),
        b.certificate_policies(*ee.policies),
        *_tools(tools),
        b.identification_kind(ee.identification_kind),
        b.crl_distribution_points(crl_url),
        b.authority_info_access(ocsp=[ocsp_url], ca_issuers=[ca_issuers_url]),
    ]


def responder_extensions() -> list[x509.Extension]:
    """A delegated OCSP responder (RFC 6960 section 4.2.2.2): EKU id-kp-OCSPSigning and id-pkix-ocsp-nocheck."""
    return [
        b.basic_constraints(False, critical=False),
        b.key_usage("digital_signature"),
        b.extended_key_usage("ocsp_signing"),
        b.ocsp_no_check(),
    ]

"""What the test PKI contains, declared as data: the two CAs, the end-entity certificates and their variants.

The identities are made up (every number has correct check digits, see :mod:`.identifiers`) and every name says
"тестовый", so no test certificate can be taken for a real one. :func:`default_spec` is the PKI that
``python -m signagent.testpki`` writes; tests may build their own :class:`PkiSpec`.

Exports: PROFILES, VARIANTS, Organisation, Person, SignTools, CaSpec, EndEntitySpec, PkiSpec, default_spec.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from ..asn1 import oids
from ..errors import InvalidInputError
from . import identifiers as ids

__all__ = [
    "PROFILES",
    "VARIANTS",
    "CaSpec",
    "EndEntitySpec",
    "Organisation",
    "Person",
    "PkiSpec",
    "SignTools",
    "default_spec",
]

Profile = Literal["head", "employee", "ip", "person"]
Variant = Literal["valid", "expired", "not_yet_valid", "revoked", "wrong_key_usage", "pkup_over"]

#: Owner kinds of qualified-profile.md section 3.
PROFILES: tuple[str, ...] = ("head", "employee", "ip", "person")
#: Ways an end-entity certificate can be made faulty (``valid``: not at all).
VARIANTS: tuple[str, ...] = ("valid", "expired", "not_yet_valid", "revoked", "wrong_key_usage", "pkup_over")

# Policy classes of the owner's signature tool (Приказ ФСБ № 796; oids.POLICY_CLASSES).
KS1, KS2, KS3, KV1, KV2 = oids.POLICY_KS1, oids.POLICY_KS2, oids.POLICY_KS3, oids.POLICY_KV1, oids.POLICY_KV2
ANY_POLICY = oids.ANY_POLICY


@dataclass(frozen=True)
class Organisation:
    """A legal entity (or a CA's own organisation details): name, ОГРН, ИНН ЮЛ and address."""

    name: str
    ogrn: str
    inn_le: str
    region: str = "77 г. Москва"
    city: str = "г. Москва"
    street: str = "ул. Тестовая, д. 1"
    email: str | None = None


@dataclass(frozen=True)
class Person:
    """A natural person: surname, given names (имя + отчество in one value, as G carries them), ИНН, СНИЛС."""

    surname: str
    given_names: str
    inn: str
    snils: str
    email: str | None = None
    title: str | None = None

    @property
    def full_name(self) -> str:
        """ФИО as CN carries it for a natural person."""
        return f"{self.surname} {self.given_names}"


@dataclass(frozen=True)
class SignTools:
    """subjectSignTool of the owners and the four issuerSignTool strings of the CA (Приказ ФСБ № 795)."""

    subject: str = 'СКЗИ "КриптоПро CSP" (версия 5.0) — тестовый'
    issuer_sign_tool: str = 'СКЗИ "КриптоПро CSP" (версия 5.0) — тестовый'
    issuer_ca_tool: str = 'ПАК "Тестовый УЦ signagent" версии 1.0'
    issuer_sign_tool_cert: str = "Сертификат соответствия № СФ/124-0000 от 01.01.2026 (тестовый)"
    issuer_ca_tool_cert: str = "Сертификат соответствия № СФ/128-0000 от 01.01.2026 (тестовый)"


@dataclass(frozen=True)
class CaSpec:
    """A CA certificate: its name in the PKI, subject, curve, validity window around ``now`` and policies."""

    name: str
    common_name: str
    organisation: Organisation
    curve: str
    days_before: int  # not_before = now - days_before
    days_after: int  # not_after = now + days_after
    path_len: int | None = None
    policies: tuple[str, ...] = (KS1, KS2, ANY_POLICY)
    serial_length: int = 16


@dataclass(frozen=True)
class EndEntitySpec:
    """An end-entity (owner) certificate: profile (head/employee/ip/person) and variant (valid/expired/...)."""

    name: str
    profile: Profile
    person: Person
    organisation: Organisation | None = None  # head and employee
    ogrnip: str | None = None  # ip
    variant: Variant = "valid"
    curve: str = oids.CRYPTOPRO_PARAMSET_XCHA  # CryptoPro-XchA, what 7 of 8 real end-entity keys use
    identification_kind: int = 0
    policies: tuple[str, ...] = (KS1, KS2)

    def __post_init__(self) -> None:
        if self.profile not in PROFILES:
            raise InvalidInputError(f"unknown profile {self.profile!r}; expected one of {PROFILES}")
        if self.variant not in VARIANTS:
            raise InvalidInputError(f"unknown variant {self.variant!r}; expected one of {VARIANTS}")
        if self.profile in ("head", "employee") and self.organisation is None:
            raise InvalidInputError(f"a {self.profile} certificate needs an organisation")
        if self.profile == "ip" and not self.ogrnip:
            raise InvalidInputError("an individual entrepreneur certificate needs an ОГРНИП")


@dataclass(frozen=True)
class PkiSpec:
    """The whole test PKI: root CA, intermediate CA, end entities, the delegated OCSP responder, CRL policy."""

    root: CaSpec
    intermediate: CaSpec
    end_entities: tuple[EndEntitySpec, ...]
    sign_tools: SignTools = field(default_factory=SignTools)
    ocsp_responder: bool = True
    revocation_reason: str = "key_compromise"
    revoked_days_ago: int = 2

    def __post_init__(self) -> None:
        names = [self.root.name, self.intermediate.name, *(e.name for e in self.end_entities)]
        if self.ocsp_responder:
            names.append("ocsp_responder")
        if len(set(names)) != len(names):
            raise InvalidInputError(f"certificate names in a PKI spec must be unique: {names}")
        for name in names:
            if not name.replace("_", "").replace("-", "").isalnum() or not name.isascii():
                raise InvalidInputError(f"a certificate name is used as a file name: ASCII letters, digits, _ and -, "
                                        f"not {name!r}")


# ----------------------------------------------------------------------------------------------------------------
# The default test PKI
# ----------------------------------------------------------------------------------------------------------------

ROOT_ORG = Organisation(
    name="Тестовое Минцифры России",
    ogrn=ids.ogrn("104770000001"),
    inn_le=ids.inn_legal_entity("771000001"),
    street="Пресненская набережная, д. 10, стр. 2 (тест)",
    email="root@testpki.invalid",
)
CA_ORG = Organisation(
    name="ООО «Тестовый удостоверяющий центр»",
    ogrn=ids.ogrn("102770000002"),
    inn_le=ids.inn_legal_entity("770000002"),
    street="ул. Тестовая, д. 2",
    email="ca@testpki.invalid",
)
COMPANY = Organisation(
    name="ООО «Ромашка-Тест»",
    ogrn=ids.ogrn("112770000003"),
    inn_le=ids.inn_legal_entity("770100003"),
    region="77 г. Москва",
    city="г. Москва",
    street="ул. Цветочная, д. 3, офис 4",
    email="info@romashka.invalid",
)

HEAD = Person("Иванов", "Иван Иванович", ids.inn_person("7701000001"), ids.snils("112233401"),
              "ivanov@romashka.invalid", "Генеральный директор")
EMPLOYEE = Person("Петрова", "Мария Сергеевна", ids.inn_person("7701000002"), ids.snils("112233402"),
                  "petrova@romashka.invalid", "Главный бухгалтер")
ENTREPRENEUR = Person("Сидоров", "Пётр Алексеевич", ids.inn_person("5001000003"), ids.snils("112233403"),
                      "sidorov@ip.invalid")
NATURAL = Person("Кузнецова", "Анна", ids.inn_person("7702000004"), ids.snils("112233404"),
                 "kuznetsova@mail.invalid")


def default_spec() -> PkiSpec:
    """Root (512-bit) -> intermediate (256-bit, pathLen 0) -> head, employee, ip, person and the faulty variants.

    End-entity names: ``head``, ``employee``, ``ip``, ``person``, ``expired``, ``not_yet_valid``, ``revoked``,
    ``wrong_key_usage``, ``pkup_over`` (each variant is a head certificate of the same person and company).
    """
    root = CaSpec("root", "Тестовый головной удостоверяющий центр Минцифры России", ROOT_ORG,
                  curve=oids.TC26_512_PARAMSET_A, days_before=1200, days_after=15 * 365,
                  policies=(KS1, KS2, KS3, KV1, KV2, ANY_POLICY), serial_length=16)
    inter = CaSpec("inter", "Тестовый УЦ signagent", CA_ORG,
                   curve=oids.CRYPTOPRO_PARAMSET_A, days_before=1000, days_after=5 * 365, path_len=0,
                   policies=(KS1, KS2, ANY_POLICY), serial_length=10)
    entities = [
        EndEntitySpec("head", "head", HEAD, COMPANY),
        EndEntitySpec("employee", "employee", EMPLOYEE, COMPANY, curve=oids.TC26_256_PARAMSET_A),
        EndEntitySpec("ip", "ip", ENTREPRENEUR, ogrnip=ids.ogrnip("31777000000005"), identification_kind=1),
        EndEntitySpec("person", "person", NATURAL, curve=oids.TC26_256_PARAMSET_A),
    ]
    entities += [EndEntitySpec(v, "head", HEAD, COMPANY, variant=v)  # type: ignore[arg-type]
                 for v in VARIANTS if v != "valid"]
    return PkiSpec(root, inter, tuple(entities))


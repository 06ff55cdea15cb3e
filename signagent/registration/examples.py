"""Example registration requests that agree with the test PKI (:mod:`signagent.testpki.spec`).

The head request is that of ООО «Ромашка-Тест» (the test PKI's company: its ОГРН and ИНН ЮЛ) signed by its head
Иванов Иван Иванович; the entrepreneur request is Сидоров Пётр Алексеевич's (the ``ip`` certificate: ОГРНИП and
ИНН); the employee request is Петрова Мария Сергеевна joining the company. Every optional field of the head and
entrepreneur requests is filled (a rendering test can check that nothing is hidden). The portal's and the
verifier's tests build their requests here, with their own nonce, origin and time.

Exports: example_head_request, example_entrepreneur_request, example_employee_request.
"""

from __future__ import annotations

from signagent.testpki import spec

from .schema import (
    Beneficiary,
    EmployeeOrganisation,
    EmployeeRegistration,
    Entrepreneur,
    EntrepreneurRegistration,
    HeadPerson,
    HeadRegistration,
    IdentityDocument,
    Okved,
    OkvedEntry,
    Organisation,
    Profile,
    RealEstate,
    Subdivision,
)

__all__ = ["example_employee_request", "example_entrepreneur_request", "example_head_request"]

_PASSPORT = "Паспорт гражданина Российской Федерации"


def _names(person: spec.Person) -> tuple[str, str | None]:
    given, _, patronymic = person.given_names.partition(" ")
    return given, patronymic or None


def _okved() -> Okved:
    return Okved(
        main=OkvedEntry(code="46.48.2", comment="Торговля оптовая ювелирными изделиями"),
        auxiliary=[OkvedEntry(code="32.12", comment="Производство ювелирных изделий и аналогичных изделий"),
                   OkvedEntry(code="47.77.2")],
        other=[OkvedEntry(code="95.25", comment="Ремонт часов и ювелирных изделий"), OkvedEntry(code="69.20")],
    )


def _company_address() -> str:
    company = spec.COMPANY
    return f"123001, {company.city}, {company.street}"


def example_head_request(nonce: str, origin: str, requested_at: str) -> HeadRegistration:
    """ООО «Ромашка-Тест» registered by its head Иванов Иван Иванович (every optional field filled)."""
    company, head = spec.COMPANY, spec.HEAD
    head_name, head_patronymic = _names(head)
    return HeadRegistration(
        type="head-registration",
        version=1,
        nonce=nonce,
        origin=origin,
        requested_at=requested_at,
        organisation=Organisation(
            full_name="Общество с ограниченной ответственностью «Ромашка-Тест»",
            short_name=company.name,
            ogrn=company.ogrn,
            inn=company.inn_le,
            kpp="770101001",
            category="Организация, осуществляющая операции с драгоценными металлами и драгоценными камнями",
            email=company.email or "info@romashka.invalid",
            phone="+7 (495) 000-00-03",
            fax="+7 (495) 000-00-04",
            website="https://romashka.invalid",
            legal_address=_company_address(),
            postal_same_as_legal=False,
            postal_address="123002, г. Москва, а/я 15",
            okved=_okved(),
        ),
        head=HeadPerson(
            kind="person",
            surname=head.surname,
            name=head_name,
            patronymic=head_patronymic,
            position=head.title,
            inn=head.inn,
            birth_date="1975-04-12",
            identity_document=IdentityDocument(kind=_PASSPORT, series="45 10", number="123456",
                                               issued_by="Отделом УФМС России по г. Москве (тест)",
                                               issued_on="2010-05-20"),
            registration_address="125009, г. Москва, ул. Тверская, д. 7, кв. 12",
            actual_address="119019, г. Москва, ул. Арбат, д. 10, кв. 3",
        ),
        real_estate=[RealEstate(address=_company_address(), purpose="Офис"),
                     RealEstate(address="141070, Московская обл., г. Королёв, ул. Заводская, д. 5")],
        subdivisions=[Subdivision(kind="branch", name="Филиал ООО «Ромашка-Тест» в г. Санкт-Петербурге",
                                  kpp="780143001", address="190000, г. Санкт-Петербург, Невский пр., д. 1",
                                  okved=["47.77.2", "95.25"])],
        beneficiaries=[
            Beneficiary(surname=head.surname, name=head_name, patronymic=head_patronymic, birth_date="1975-04-12",
                        identity_document=IdentityDocument(kind=_PASSPORT, series="45 10", number="123456"),
                        registration_address="125009, г. Москва, ул. Тверская, д. 7, кв. 12",
                        actual_address="119019, г. Москва, ул. Арбат, д. 10, кв. 3", active=True),
            Beneficiary(surname="Смирнова", name="Ольга", patronymic="Петровна", birth_date="1968-11-30",
                        identity_document=IdentityDocument(kind=_PASSPORT, series="40 05", number="654321",
                                                           issued_by="ТП № 1 УФМС (тест)", issued_on="2013-01-15"),
                        registration_address="197101, г. Санкт-Петербург, ул. Мира, д. 2, кв. 8",
                        active=False, ceased_on="2024-03-01"),
        ],
        profile=Profile(email=head.email, phone="+7 (495) 000-00-05", position=head.title,
                        department="Дирекция"),
    )


def example_entrepreneur_request(nonce: str, origin: str, requested_at: str) -> EntrepreneurRegistration:
    """Индивидуальный предприниматель Сидоров Пётр Алексеевич (the test PKI's ``ip`` certificate)."""
    person = spec.ENTREPRENEUR
    ogrnip = next(e.ogrnip for e in spec.default_spec().end_entities if e.profile == "ip" and e.ogrnip)
    name, patronymic = _names(person)
    return EntrepreneurRegistration(
        type="entrepreneur-registration",
        version=1,
        nonce=nonce,
        origin=origin,
        requested_at=requested_at,
        entrepreneur=Entrepreneur(
            surname=person.surname,
            name=name,
            patronymic=patronymic,
            ogrnip=ogrnip,
            inn=person.inn,
            email=person.email or "sidorov@ip.invalid",
            phone="+7 916 000-00-06",
            postal_address="141400, Московская обл., г. Химки, ул. Ленина, д. 4, кв. 1",
            okved=Okved(main=OkvedEntry(code="47.77.2", comment="Торговля розничная ювелирными изделиями"),
                        auxiliary=[OkvedEntry(code="95.25")], other=[]),
        ),
        real_estate=[RealEstate(address="141400, Московская обл., г. Химки, ул. Ленина, д. 6", purpose="Магазин")],
        profile=Profile(email=person.email, phone="+7 916 000-00-06"),
    )


def example_employee_request(nonce: str, origin: str, requested_at: str) -> EmployeeRegistration:
    """Петрова Мария Сергеевна (the test PKI's ``employee``) asks to join ООО «Ромашка-Тест»'s accounts."""
    company, employee = spec.COMPANY, spec.EMPLOYEE
    return EmployeeRegistration(
        type="employee-registration",
        version=1,
        nonce=nonce,
        origin=origin,
        requested_at=requested_at,
        organisation=EmployeeOrganisation(ogrn=company.ogrn, inn=company.inn_le),
        subdivision="Бухгалтерия",
        profile=Profile(email=employee.email, phone="+7 (495) 000-00-07", position=employee.title,
                        department="Бухгалтерия"),
    )

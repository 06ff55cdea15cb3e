"""The registration request a person signs for a portal (DESIGN.md section 9; the format: docs/REGISTRATION.md).

Three request types, told apart by ``type``: ``head-registration`` (the head of an organisation registers it),
``entrepreneur-registration`` (an individual entrepreneur registers) and ``employee-registration`` (an employee
asks to join a registered organisation or one of its subdivisions). Every request carries the portal's
``nonce``, the ``origin`` of the page that built it and the time ``requested_at``.

The models are strict and closed: no field the format does not name (a signed request must carry nothing
unvalidated), no type coercion (``"true"`` is not a boolean, ``1.0`` is not the version), optional fields absent
rather than null (the canonical form omits them), lists always present (possibly empty). Every field declares its
name for people in English (``title``) and Russian (``title_ru``), which the rendering and the field problems use.

Exports: REQUEST_CONTENT_TYPE, REQUEST_TYPES, MAX_LIST_ITEMS, the models (OkvedEntry, Okved, IdentityDocument,
Organisation, HeadPerson, HeadLegal, HeadForeign, Head, RealEstate, Subdivision, Beneficiary, Profile, Entrepreneur,
EmployeeOrganisation, HeadRegistration, EntrepreneurRegistration, EmployeeRegistration), RegistrationRequest,
REQUEST_MODELS, validate_request, field_label, field_titles, models_in.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Sequence
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, StrictBool, TypeAdapter, ValidationError, model_validator
from pydantic.fields import FieldInfo

from .fields import (
    Email,
    InnAny,
    InnLegal,
    InnPerson,
    IsoDate,
    Kpp,
    LongText,
    Nonce,
    Ogrn,
    Ogrnip,
    OgrnOrOgrnip,
    OkvedCode,
    Origin,
    Phone,
    ShortText,
    Timestamp,
    Version,
    Website,
    field_error,
)
from .problems import FieldProblem, RegistrationRequestError, problems_from_validation

__all__ = [
    "MAX_LIST_ITEMS",
    "REQUEST_CONTENT_TYPE",
    "REQUEST_MODELS",
    "REQUEST_TYPES",
    "Beneficiary",
    "EmployeeOrganisation",
    "EmployeeRegistration",
    "Entrepreneur",
    "EntrepreneurRegistration",
    "Head",
    "HeadForeign",
    "HeadLegal",
    "HeadPerson",
    "HeadRegistration",
    "IdentityDocument",
    "Okved",
    "OkvedEntry",
    "Organisation",
    "Profile",
    "RealEstate",
    "RegistrationRequest",
    "Subdivision",
    "field_label",
    "field_titles",
    "models_in",
    "validate_request",
]

#: The content type a portal passes to the agent's sign call for a registration request.
REQUEST_CONTENT_TYPE = "application/vnd.signagent.registration+json"
#: The request types, in the order the documentation lists them.
REQUEST_TYPES: tuple[str, ...] = ("head-registration", "entrepreneur-registration", "employee-registration")
#: The most items any list of a request may hold (ОКВЭД codes, real estate, subdivisions, beneficiaries).
MAX_LIST_ITEMS = 1000


def _f(ru: str, en: str, *, item: tuple[str, str] | None = None, **kwargs: Any) -> Any:
    """A field with its names for people; ``item`` = (Russian, English) name of one item of a list."""
    extra: dict[str, str] = {"title_ru": ru}
    if item is not None:
        extra["item_ru"], extra["item_en"] = item
    return Field(title=en, json_schema_extra=extra, **kwargs)  # type: ignore[arg-type]


class _Model(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class OkvedEntry(_Model):
    """One ОКВЭД 2 code and an optional comment."""

    code: OkvedCode = _f("Код ОКВЭД", "OKVED code")
    comment: LongText | None = _f("Комментарий", "Comment", default=None)


class Okved(_Model):
    """Kinds of activity: exactly one main, at most two auxiliary, any number of others; every code once."""

    main: OkvedEntry = _f("Основной вид деятельности", "Main activity")
    auxiliary: list[OkvedEntry] = _f("Дополнительные виды деятельности", "Auxiliary activities",
                                     item=("Дополнительный вид деятельности", "Auxiliary activity"), max_length=2)
    other: list[OkvedEntry] = _f("Прочие виды деятельности", "Other activities",
                                 item=("Прочий вид деятельности", "Other activity"), max_length=MAX_LIST_ITEMS)

    @model_validator(mode="after")
    def _codes_distinct(self) -> Okved:
        seen = {self.main.code}
        for name in ("auxiliary", "other"):
            for i, entry in enumerate(getattr(self, name)):
                if entry.code in seen:
                    raise field_error("duplicate_code", "this ОКВЭД code is already given",
                                      "этот код ОКВЭД уже указан", at=f"{name}[{i}].code")
                seen.add(entry.code)
        return self


class IdentityDocument(_Model):
    """A document proving a natural person's identity."""

    kind: ShortText = _f("Вид документа", "Document kind")
    series: ShortText | None = _f("Серия", "Series", default=None)
    number: ShortText = _f("Номер", "Number")
    issued_by: LongText | None = _f("Кем выдан", "Issued by", default=None)
    issued_on: IsoDate | None = _f("Дата выдачи", "Issued on", default=None)


class Organisation(_Model):
    """The organisation being registered: requisites, contacts, addresses, ОКВЭД."""

    full_name: LongText = _f("Полное наименование", "Full name")
    short_name: LongText = _f("Сокращённое наименование", "Short name")
    ogrn: Ogrn = _f("ОГРН", "OGRN")
    inn: InnLegal = _f("ИНН", "INN")
    kpp: Kpp = _f("КПП", "KPP")
    category: LongText = _f("Категория заявителя", "Applicant category")
    email: Email = _f("Электронная почта", "Email")
    phone: Phone = _f("Телефон", "Phone")
    fax: Phone | None = _f("Факс", "Fax", default=None)
    website: Website | None = _f("Сайт", "Website", default=None)
    legal_address: LongText = _f("Юридический адрес", "Legal address")
    postal_same_as_legal: StrictBool = _f("Почтовый адрес совпадает с юридическим",
                                          "Postal address same as legal address")
    postal_address: LongText | None = _f("Почтовый адрес", "Postal address", default=None)
    okved: Okved = _f("Виды деятельности (ОКВЭД)", "Activities (OKVED)")

    @model_validator(mode="after")
    def _postal_address(self) -> Organisation:
        if not self.postal_same_as_legal and self.postal_address is None:
            raise field_error("required", "required when the postal address is not the legal address",
                              "обязателен, если почтовый адрес не совпадает с юридическим", at="postal_address")
        if self.postal_same_as_legal and self.postal_address is not None:
            raise field_error("not_allowed", "must be absent when the postal address is the legal address",
                              "не указывается, если почтовый адрес совпадает с юридическим", at="postal_address")
        return self


class HeadPerson(_Model):
    """The head is a natural person (генеральный директор, президент...)."""

    kind: Literal["person"] = _f("Вид руководителя", "Kind of head")
    surname: ShortText = _f("Фамилия", "Surname")
    name: ShortText = _f("Имя", "Given name")
    patronymic: ShortText | None = _f("Отчество", "Patronymic", default=None)
    position: ShortText | None = _f("Должность", "Position", default=None)
    inn: InnPerson | None = _f("ИНН", "INN", default=None)
    birth_date: IsoDate = _f("Дата рождения", "Date of birth")
    identity_document: IdentityDocument = _f("Документ, удостоверяющий личность", "Identity document")
    registration_address: LongText = _f("Адрес регистрации", "Registration address")
    actual_address: LongText = _f("Фактический адрес", "Actual address")


class HeadLegal(_Model):
    """The head is a Russian legal entity (управляющая организация)."""

    kind: Literal["legal"] = _f("Вид руководителя", "Kind of head")
    full_name: LongText = _f("Полное наименование", "Full name")
    short_name: LongText = _f("Сокращённое наименование", "Short name")
    ogrn: Ogrn = _f("ОГРН", "OGRN")
    inn: InnLegal = _f("ИНН", "INN")
    kpp: Kpp = _f("КПП", "KPP")
    address: LongText = _f("Адрес", "Address")


class HeadForeign(_Model):
    """The head is a foreign organisation."""

    kind: Literal["foreign"] = _f("Вид руководителя", "Kind of head")
    name: LongText = _f("Наименование", "Name")
    short_name: LongText = _f("Сокращённое наименование", "Short name")
    identification_number: ShortText = _f("Идентификационный номер", "Identification number")
    country: ShortText = _f("Страна", "Country")


#: The head of an organisation: one of the three kinds, told apart by ``kind``.
Head = Annotated[Union[HeadPerson, HeadLegal, HeadForeign], Field(discriminator="kind")]  # noqa: UP007


class RealEstate(_Model):
    """A non-residential real estate object the organisation uses."""

    address: LongText = _f("Адрес", "Address")
    purpose: LongText | None = _f("Назначение", "Purpose", default=None)


class Subdivision(_Model):
    """A separate subdivision: branch (филиал), representative office (представительство) or another one."""

    kind: Literal["branch", "representative_office", "other"] = _f("Вид подразделения", "Kind of subdivision")
    name: LongText = _f("Наименование", "Name")
    kpp: Kpp | None = _f("КПП", "KPP", default=None)
    address: LongText = _f("Адрес", "Address")
    okved: list[OkvedCode] = _f("Коды ОКВЭД", "OKVED codes", max_length=MAX_LIST_ITEMS)

    @model_validator(mode="after")
    def _codes_distinct(self) -> Subdivision:
        seen: set[str] = set()
        for i, code in enumerate(self.okved):
            if code in seen:
                raise field_error("duplicate_code", "this ОКВЭД code is already given", "этот код ОКВЭД уже указан",
                                  at=f"okved[{i}]")
            seen.add(code)
        return self


class Beneficiary(_Model):
    """A beneficial owner: who they are, and whether they are current (else the date they stopped being)."""

    surname: ShortText = _f("Фамилия", "Surname")
    name: ShortText = _f("Имя", "Given name")
    patronymic: ShortText | None = _f("Отчество", "Patronymic", default=None)
    birth_date: IsoDate = _f("Дата рождения", "Date of birth")
    identity_document: IdentityDocument = _f("Документ, удостоверяющий личность", "Identity document")
    registration_address: LongText = _f("Адрес регистрации", "Registration address")
    actual_address: LongText | None = _f("Фактический адрес", "Actual address", default=None)
    active: StrictBool = _f("Действующий бенефициар", "Current beneficiary")
    ceased_on: IsoDate | None = _f("Дата прекращения статуса бенефициара",
                                    "Ceased to be a beneficial owner on", default=None)

    @model_validator(mode="after")
    def _ceased_on(self) -> Beneficiary:
        if not self.active and self.ceased_on is None:
            raise field_error("required", "required for a beneficiary who is no longer current",
                              "обязательна для бенефициара, который больше не является действующим", at="ceased_on")
        if self.active and self.ceased_on is not None:
            raise field_error("not_allowed", "must be absent for a current beneficiary",
                              "не указывается для действующего бенефициара", at="ceased_on")
        return self


class Profile(_Model):
    """The signer's own profile in the portal ("Мой профиль"): every field optional."""

    email: Email | None = _f("Электронная почта", "Email", default=None)
    phone: Phone | None = _f("Телефон", "Phone", default=None)
    position: ShortText | None = _f("Должность", "Position", default=None)
    department: ShortText | None = _f("Подразделение", "Department", default=None)


class Entrepreneur(_Model):
    """The individual entrepreneur being registered."""

    surname: ShortText = _f("Фамилия", "Surname")
    name: ShortText = _f("Имя", "Given name")
    patronymic: ShortText | None = _f("Отчество", "Patronymic", default=None)
    ogrnip: Ogrnip = _f("ОГРНИП", "OGRNIP")
    inn: InnPerson = _f("ИНН", "INN")
    email: Email = _f("Электронная почта", "Email")
    phone: Phone = _f("Телефон", "Phone")
    postal_address: LongText | None = _f("Почтовый адрес", "Postal address", default=None)
    okved: Okved = _f("Виды деятельности (ОКВЭД)", "Activities (OKVED)")


class EmployeeOrganisation(_Model):
    """The registered organisation an employee joins: its ОГРН (or ОГРНИП), its ИНН, or both."""

    ogrn: OgrnOrOgrnip | None = _f("ОГРН (ОГРНИП)", "OGRN (OGRNIP)", default=None)
    inn: InnAny | None = _f("ИНН", "INN", default=None)

    @model_validator(mode="after")
    def _identified(self) -> EmployeeOrganisation:
        if self.ogrn is None and self.inn is None:
            raise field_error("required", "give the organisation's ОГРН, its ИНН or both",
                              "укажите ОГРН организации, её ИНН или оба номера")
        return self


class _Request(_Model):
    version: Version = _f("Версия формата", "Format version")
    nonce: Nonce = _f("Одноразовый код портала", "Portal's nonce")
    origin: Origin = _f("Сайт (origin)", "Site (origin)")
    requested_at: Timestamp = _f("Время запроса (UTC)", "Requested at (UTC)")


_REAL_ESTATE = _f("Нежилые объекты недвижимости", "Non-residential real estate",
                  item=("Объект недвижимости", "Real estate object"), max_length=MAX_LIST_ITEMS)
_PROFILE = _f("Мой профиль", "My profile")


class HeadRegistration(_Request):
    """The head of an organisation registers it (the signer must be the head in ЕГРЮЛ)."""

    type: Literal["head-registration"] = _f("Вид запроса", "Request type")
    organisation: Organisation = _f("Организация", "Organisation")
    head: Head = _f("Руководитель", "Head")
    real_estate: list[RealEstate] = _REAL_ESTATE
    subdivisions: list[Subdivision] = _f("Обособленные подразделения", "Separate subdivisions",
                                         item=("Обособленное подразделение", "Separate subdivision"),
                                         max_length=MAX_LIST_ITEMS)
    beneficiaries: list[Beneficiary] = _f("Бенефициары", "Beneficial owners",
                                          item=("Бенефициар", "Beneficial owner"), max_length=MAX_LIST_ITEMS)
    profile: Profile = _PROFILE


class EntrepreneurRegistration(_Request):
    """An individual entrepreneur registers (the signer must be the entrepreneur in ЕГРИП)."""

    type: Literal["entrepreneur-registration"] = _f("Вид запроса", "Request type")
    entrepreneur: Entrepreneur = _f("Индивидуальный предприниматель", "Individual entrepreneur")
    real_estate: list[RealEstate] = _REAL_ESTATE
    profile: Profile = _PROFILE


class EmployeeRegistration(_Request):
    """An employee asks to join a registered organisation, or one of its subdivisions."""

    type: Literal["employee-registration"] = _f("Вид запроса", "Request type")
    organisation: EmployeeOrganisation = _f("Организация", "Organisation")
    subdivision: LongText | None = _f("Подразделение", "Subdivision", default=None)
    profile: Profile = _PROFILE


#: A registration request of any type: the discriminated union on ``type``.
RegistrationRequest = Annotated[
    Union[HeadRegistration, EntrepreneurRegistration, EmployeeRegistration],  # noqa: UP007
    Field(discriminator="type"),
]
#: The request models, in the order of :data:`REQUEST_TYPES`.
REQUEST_MODELS: tuple[type[BaseModel], ...] = (HeadRegistration, EntrepreneurRegistration, EmployeeRegistration)

_UNIONS = ((), ("head",))  # where the models are discriminated unions (the request's type, the head's kind)
_ADAPTER: TypeAdapter[HeadRegistration | EntrepreneurRegistration | EmployeeRegistration] = TypeAdapter(
    RegistrationRequest)


def models_in(annotation: Any) -> list[type[BaseModel]]:
    """The model classes an annotation can hold (``list[X]``, ``X | None``, the union of :data:`Head`...)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found: list[type[BaseModel]] = []
    if typing.get_origin(annotation) in (Union, types.UnionType, list, Annotated) or typing.get_args(annotation):
        for arg in typing.get_args(annotation):
            found += [m for m in models_in(arg) if m not in found]
    return found


def field_titles(info: FieldInfo) -> tuple[str, str]:
    """(English, Russian) name of a model field."""
    extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
    return str(info.title), str(extra.get("title_ru", info.title))


def field_label(parts: Sequence[str | int]) -> tuple[str, str] | None:
    """(English, Russian) name of the field at a path (``("organisation", "okved", "auxiliary")`` ->
    "Organisation → Activities (OKVED) → Auxiliary activities"), or None when the path names no field."""
    classes: list[type[BaseModel]] = list(REQUEST_MODELS)
    en: list[str] = []
    ru: list[str] = []
    for part in parts:
        if isinstance(part, int):
            en[-1:] = [f"{en[-1]} [{part + 1}]"] if en else []
            ru[-1:] = [f"{ru[-1]} [{part + 1}]"] if ru else []
            continue
        info = next((c.model_fields[part] for c in classes if part in c.model_fields), None)
        if info is None:
            return None
        title_en, title_ru = field_titles(info)
        en.append(title_en)
        ru.append(title_ru)
        classes = models_in(info.annotation)
    if not en:
        return None
    return " → ".join(en), " → ".join(ru)


def validate_request(data: Any) -> HeadRegistration | EntrepreneurRegistration | EmployeeRegistration:
    """The request model of parsed JSON ``data``, or :class:`RegistrationRequestError` with every problem."""
    if not isinstance(data, dict):
        raise RegistrationRequestError([FieldProblem("", "not_object", "the request must be a JSON object",
                                                     "запрос должен быть объектом JSON")])
    try:
        return _ADAPTER.validate_python(data)
    except ValidationError as exc:
        raise RegistrationRequestError(problems_from_validation(exc, data, field_label, _UNIONS)) from None

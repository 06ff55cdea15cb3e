"""A registration request shown to the person who signs it (the agent's confirmation page, DESIGN.md section 9).

:func:`render_request` gives a title ("Регистрация организации ООО «Ромашка», ОГРН …, руководитель Иванов И. И.")
and sections of labelled rows. Nothing signed may be hidden from the person, so the rows are made by walking the
request model field by field (a field added to the schema appears here without a change): every field present in
the request is a row or a section, with the names the schema declares; absent optional fields are not shown
(they are not in the signed bytes); an empty list is shown as "нет" / "none". Values are shown as given (the page
escapes HTML); only booleans ("да" / "yes") and the fixed choices (``kind``, ``type``) are translated, so a
row may carry an English value beside the Russian one (:attr:`Row.value_en`).

Exports: Row, Section, Rendering, render_request, render_text, request_type_title, initials.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel

from signagent.errors import InvalidInputError

from .schema import (
    EmployeeRegistration,
    EntrepreneurRegistration,
    HeadForeign,
    HeadLegal,
    HeadRegistration,
    OkvedEntry,
    field_titles,
    models_in,
)

__all__ = ["Rendering", "Row", "Section", "initials", "render_request", "render_text", "request_type_title"]

# type -> (Russian, English)
_TYPE_TITLES = {
    "head-registration": ("Регистрация организации", "Registration of an organisation"),
    "entrepreneur-registration": ("Регистрация индивидуального предпринимателя",
                                  "Registration of an individual entrepreneur"),
    "employee-registration": ("Регистрация сотрудника организации", "Registration of an employee"),
}

# values of the fixed-choice fields named ``kind`` -> (Russian, English)
_KINDS = {
    "person": ("физическое лицо", "natural person"),
    "legal": ("российское юридическое лицо (управляющая организация)", "Russian legal entity (managing organisation)"),
    "foreign": ("иностранная организация", "foreign organisation"),
    "branch": ("филиал", "branch"),
    "representative_office": ("представительство", "representative office"),
    "other": ("иное обособленное подразделение", "other separate subdivision"),
}

_NONE = ("нет", "none")
_YES_NO = {True: ("да", "yes"), False: ("нет", "no")}
_REQUEST_FIELDS = ("type", "origin", "requested_at", "nonce", "version")  # the first section, in this order

_Request = HeadRegistration | EntrepreneurRegistration | EmployeeRegistration


@dataclass(frozen=True)
class Row:
    """One labelled value; ``value_en`` is set when the value itself is translated (booleans, fixed choices)."""

    label_ru: str
    label_en: str
    value: str
    value_en: str | None = None

    def shown(self, lang: str) -> tuple[str, str]:
        """(label, value) in ``lang`` ("ru" or "en")."""
        if lang == "en":
            return self.label_en, self.value_en if self.value_en is not None else self.value
        return self.label_ru, self.value


@dataclass(frozen=True)
class Section:
    """A titled group of rows."""

    title_ru: str
    title_en: str
    rows: tuple[Row, ...]


@dataclass(frozen=True)
class Rendering:
    """A request for a person: the title (one line) and every field in sections."""

    title_ru: str
    title_en: str
    sections: tuple[Section, ...]


def request_type_title(type: str, lang: str = "ru") -> str:
    """The name of a request type for people: ``"head-registration"`` -> "Регистрация организации"."""
    if type not in _TYPE_TITLES or lang not in ("ru", "en"):
        raise InvalidInputError(situation="unknown_kind", kind=f"{type!r} / {lang!r}",
                                known=f"types {', '.join(_TYPE_TITLES)}; languages ru, en")
    ru, en = _TYPE_TITLES[type]
    return ru if lang == "ru" else en


def _initial(word: str) -> str:
    return "-".join(part[0] + "." for part in word.split("-") if part)


def initials(surname: str, name: str, patronymic: str | None = None) -> str:
    """"Иванов", "Иван", "Иванович" -> "Иванов И. И." (hyphenated and multi-word names: one initial a part)."""
    given = [_initial(word) for part in (name, patronymic) if part for word in part.split()]
    return " ".join([surname, *given])


def _okved_text(entry: OkvedEntry) -> str:
    return f"{entry.code} — {entry.comment}" if entry.comment is not None else entry.code


def _scalar_row(name: str, ru: str, en: str, value: object) -> Row:
    if isinstance(value, bool):
        return Row(ru, en, *_YES_NO[value])
    if name == "kind" and isinstance(value, str) and value in _KINDS:
        return Row(ru, en, *_KINDS[value])
    if name == "type" and isinstance(value, str) and value in _TYPE_TITLES:
        return Row(ru, en, *_TYPE_TITLES[value])
    if isinstance(value, OkvedEntry):
        return Row(ru, en, _okved_text(value))
    return Row(ru, en, str(value))


def _sections(model: BaseModel, title: tuple[str, str], skip: tuple[str, ...] = ()) -> list[Section]:
    """The section of ``model``'s own values, then a section for each model inside it, in field order."""
    rows: list[Row] = []
    inner: list[Section] = []
    prefix_ru, prefix_en = (f"{title[0]} — ", f"{title[1]} — ") if title[0] else ("", "")
    for name, info in type(model).model_fields.items():
        value = getattr(model, name)
        if name in skip or value is None:
            continue
        en, ru = field_titles(info)
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        item_ru, item_en = str(extra.get("item_ru", ru)), str(extra.get("item_en", en))
        if isinstance(value, BaseModel) and not isinstance(value, OkvedEntry):
            inner += _sections(value, (prefix_ru + ru, prefix_en + en))
        elif isinstance(value, list) and not value:
            if [m for m in models_in(info.annotation) if m is not OkvedEntry]:  # a list shown as sections
                inner.append(Section(prefix_ru + ru, prefix_en + en, (Row(ru, en, *_NONE),)))
            else:
                rows.append(Row(ru, en, *_NONE))
        elif isinstance(value, list) and all(isinstance(item, str) for item in value):
            rows.append(Row(ru, en, ", ".join(value)))
        elif isinstance(value, list):
            for i, item in enumerate(value, 1):
                if isinstance(item, OkvedEntry):
                    rows.append(Row(f"{item_ru} {i}", f"{item_en} {i}", _okved_text(item)))
                else:
                    inner += _sections(item, (f"{prefix_ru}{item_ru} {i}", f"{prefix_en}{item_en} {i}"))
        else:
            rows.append(_scalar_row(name, ru, en, value))
    own = [Section(title[0], title[1], tuple(rows))] if rows else []
    return own + inner


def _title(req: _Request) -> tuple[str, str]:
    if isinstance(req, HeadRegistration):
        org = req.organisation
        head = req.head
        if isinstance(head, HeadLegal):
            who_ru, who_en = f"управляющая организация {head.short_name}", f"managing organisation {head.short_name}"
        elif isinstance(head, HeadForeign):
            who_ru = f"руководитель — иностранная организация {head.short_name}"
            who_en = f"head: foreign organisation {head.short_name}"
        else:
            person = initials(head.surname, head.name, head.patronymic)
            who_ru, who_en = f"руководитель {person}", f"head {person}"
        return (f"Регистрация организации {org.short_name}, ОГРН {org.ogrn}, {who_ru}",
                f"Registration of the organisation {org.short_name}, OGRN {org.ogrn}, {who_en}")
    if isinstance(req, EntrepreneurRegistration):
        ip = req.entrepreneur
        person = initials(ip.surname, ip.name, ip.patronymic)
        return (f"Регистрация индивидуального предпринимателя {person}, ОГРНИП {ip.ogrnip}",
                f"Registration of the individual entrepreneur {person}, OGRNIP {ip.ogrnip}")
    numbers_ru: list[str] = []
    numbers_en: list[str] = []
    if req.organisation.ogrn is not None:
        ogrnip = len(req.organisation.ogrn) == 15
        numbers_ru.append(f"{'ОГРНИП' if ogrnip else 'ОГРН'} {req.organisation.ogrn}")
        numbers_en.append(f"{'OGRNIP' if ogrnip else 'OGRN'} {req.organisation.ogrn}")
    if req.organisation.inn is not None:
        numbers_ru.append(f"ИНН {req.organisation.inn}")
        numbers_en.append(f"INN {req.organisation.inn}")
    ru = f"Регистрация сотрудника организации с {', '.join(numbers_ru)}"
    en = f"Registration of an employee of the organisation with {', '.join(numbers_en)}"
    if req.subdivision is not None:
        ru += f", подразделение «{req.subdivision}»"
        en += f", subdivision «{req.subdivision}»"
    return ru, en


def render_request(req: _Request) -> Rendering:
    """The title and every field of a (validated) registration request, in sections."""
    if not isinstance(req, HeadRegistration | EntrepreneurRegistration | EmployeeRegistration):
        raise InvalidInputError(situation="unknown_kind", kind=type(req).__name__, known="a registration request")
    fields = type(req).model_fields
    request_rows: list[Row] = []
    for name in _REQUEST_FIELDS:
        en, ru = field_titles(fields[name])
        request_rows.append(_scalar_row(name, ru, en, getattr(req, name)))
    rest = _sections(req, ("", ""), skip=_REQUEST_FIELDS)
    if rest and not rest[0].title_ru:  # the request's own values beside the sections (an employee's subdivision)
        request_rows += rest.pop(0).rows
    sections = [Section("Запрос", "Request", tuple(request_rows)), *rest]
    title_ru, title_en = _title(req)
    return Rendering(title_ru, title_en, tuple(sections))


def render_text(req: _Request, lang: str = "ru") -> str:
    """The rendering as plain text in ``lang`` ("ru" or "en"): the title, then each section with its rows."""
    if lang not in ("ru", "en"):
        raise InvalidInputError(situation="unknown_kind", kind=repr(lang), known="ru, en")
    rendering = render_request(req)
    lines = [rendering.title_ru if lang == "ru" else rendering.title_en]
    for section in rendering.sections:
        lines += ["", section.title_ru if lang == "ru" else section.title_en]
        for row in section.rows:
            label, value = row.shown(lang)
            lines.append(f"  {label}: {value}")
    return "\n".join(lines) + "\n"

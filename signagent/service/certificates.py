"""Use case ``cert show``: describe one certificate for programs (JSON-ready dict) and for people (aligned text).

:func:`describe_certificate` gathers everything the certificate model knows (names, serial, validity, thumbprints,
algorithms, key usage, the qualified identity, extensions and flagged problems) into plain JSON types;
:func:`render_certificate` turns that dict into the text ``signagent cert show`` prints, with English or Russian
labels. Dates are ISO-8601 in UTC throughout.

Exports: describe_certificate, describe_certificate_file, render_certificate.
"""

from __future__ import annotations

from typing import Any

from signagent.asn1 import oids
from signagent.asn1.integers import MAX_EXACT_BITS, jsonable_int
from signagent.x509 import Certificate, DistinguishedName, load_certificates_file

from .reports import owner_name

__all__ = ["describe_certificate", "describe_certificate_file", "render_certificate"]


def _name(name: DistinguishedName) -> dict[str, object]:
    return {
        "display": name.display,
        "attributes": [{"oid": a.oid, "name": a.name, "label": a.label, "value": a.value} for a in name.attributes],
    }


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def describe_certificate(cert: Certificate) -> dict[str, object]:
    """Everything about ``cert`` as JSON-ready data (the ``--json`` output of ``signagent cert show``)."""
    curve = cert.public_key_curve
    bc = cert.basic_constraints
    period = cert.private_key_usage_period
    ski = cert.subject_key_identifier
    aki = cert.authority_key_identifier
    key_usage = cert.key_usage
    eku = cert.extended_key_usage
    serial = cert.serial_number
    return {
        "subject": _name(cert.subject),
        "owner_name": owner_name(cert),
        "issuer": _name(cert.issuer),
        "version": cert.version,
        # RFC 5280 4.1.2.2: serials are at most 20 octets, but users must handle longer ones gracefully: an
        # oversized serial is shown in hex only (str() of an int over 4,300 digits raises).
        "serial": {"hex": cert.serial_hex,
                   "decimal": str(serial) if serial.bit_length() <= MAX_EXACT_BITS else None},
        "validity": {"not_before": _iso(cert.not_before), "not_after": _iso(cert.not_after)},
        "thumbprints": {
            "sha1": cert.sha1_thumbprint,
            "sha256": cert.sha256_fingerprint,
            "streebog256": cert.streebog_thumbprint,
        },
        "signature_algorithm": cert.signature_algorithm._asdict(),
        "public_key": {
            "algorithm": cert.public_key_algorithm._asdict(),
            "param_set": cert.public_key_param_set,
            "curve": curve.name if curve is not None else None,
            "bits": curve.bits if curve is not None else None,
        },
        # asn1crypto names the nine bits of RFC 5280 4.2.1.3 and gives a bit beyond them as its number
        "key_usage": (sorted(u if isinstance(u, str) else f"bit {u}" for u in key_usage)
                      if key_usage is not None else None),
        "extended_key_usage": list(eku) if eku is not None else None,
        "basic_constraints": ({"ca": bc.is_ca,
                                "path_len": jsonable_int(bc.path_len) if bc.path_len is not None else None}
                               if bc is not None else None),
        "subject_key_identifier": ski.hex() if ski is not None else None,
        "authority_key_identifier": aki.hex() if aki is not None else None,
        "crl_distribution_points": list(cert.crl_distribution_urls),
        "ocsp_urls": list(cert.ocsp_urls),
        "ca_issuers_urls": list(cert.ca_issuers_urls),
        "policies": list(cert.policy_oids),
        "private_key_usage_period": (
            {"not_before": _iso(period.not_before), "not_after": _iso(period.not_after)} if period else None
        ),
        "self_issued": cert.is_self_issued,
        "self_signed": cert.is_self_signed,
        "identity": cert.identity.to_dict(),
        "extensions": [
            {"oid": e.oid, "name": e.name, "critical": e.critical, "value": e.value, "error": e.error}
            for e in cert.extensions
        ],
        "unknown_critical_extensions": list(cert.unknown_critical_extensions),
        "problems": [p.to_dict() for p in cert.problems],
    }


# -- rendering ------------------------------------------------------------------------------------------------------

_LABELS: dict[str, tuple[str, str]] = {
    "subject": ("Subject", "Кому выдан"),
    "issuer": ("Issuer", "Кем выдан"),
    "serial": ("Serial number", "Серийный номер"),
    "not_before": ("Valid from", "Действителен с"),
    "not_after": ("Valid to", "Действителен по"),
    "sha1": ("SHA-1 thumbprint", "Отпечаток SHA-1"),
    "streebog": ("Streebog thumbprint", "Отпечаток Стрибог"),
    "signature_algorithm": ("Signature algorithm", "Алгоритм подписи"),
    "public_key": ("Public key", "Открытый ключ"),
    "key_usage": ("Key usage", "Использование ключа"),
    "eku": ("Extended key usage", "Улучшенный ключ"),
    "basic_constraints": ("Basic constraints", "Основные ограничения"),
    "owner_kind": ("Owner", "Владелец"),
    "full_name": ("Full name", "ФИО"),
    "title": ("Title", "Должность"),
    "organization": ("Organisation", "Организация"),
    "unit": ("Unit", "Подразделение"),
    "address": ("Address", "Адрес"),
    "email": ("E-mail", "Эл. почта"),
    "ogrn": ("OGRN", "ОГРН"),
    "ogrnip": ("OGRNIP", "ОГРНИП"),
    "inn": ("INN", "ИНН"),
    "innle": ("INN of the legal entity", "ИНН ЮЛ"),
    "snils": ("SNILS", "СНИЛС"),
    "policy_classes": ("Signature tool class", "Класс средства ЭП"),
    "subject_sign_tool": ("Owner's signature tool", "Средство ЭП владельца"),
    "issuer_sign_tool": ("CA's tools", "Средства УЦ"),
    "identification_kind": ("Identification", "Способ идентификации"),
    "private_key_period": ("Private key usage", "Срок действия ключа"),
    "crl": ("CRL distribution", "Точки распространения CRL"),
    "ocsp": ("OCSP", "OCSP"),
    "ca_issuers": ("CA certificate at", "Сертификат УЦ"),
    "extensions": ("Extensions", "Расширения"),
    "problems": ("Problems", "Замечания"),
}

_WORDS = {
    "yes": ("yes", "да"),
    "no": ("no", "нет"),
    "ca": ("CA", "УЦ"),
    "end_entity": ("end entity", "конечный субъект"),
    "path_len": ("path length", "длина пути"),
    "critical": ("critical", "критическое"),
    "self_signed": ("self-signed", "самоподписанный"),
    "to": ("to", "по"),
    "head_or_employee": ("head or employee; only ЕГРЮЛ tells which",
                         "руководитель или сотрудник; различить можно только по ЕГРЮЛ"),
    "no_person": ("no natural person named", "физическое лицо не указано"),
    "legacy_inn": ("organisation INN, legacy 00-padded form", "ИНН организации в устаревшей форме с 00"),
    "none": ("none", "нет"),
}

_KEY_USAGE_RU = {
    "digital_signature": "цифровая подпись",
    "non_repudiation": "неотрекаемость",
    "key_encipherment": "шифрование ключей",
    "data_encipherment": "шифрование данных",
    "key_agreement": "согласование ключей",
    "key_cert_sign": "подпись сертификатов",
    "crl_sign": "подпись списка отзыва",
    "encipher_only": "только шифрование",
    "decipher_only": "только расшифрование",
}

_EKU_NAMES = {
    oids.KP_SERVER_AUTH: "serverAuth",
    oids.KP_CLIENT_AUTH: "clientAuth",
    oids.KP_CODE_SIGNING: "codeSigning",
    oids.KP_EMAIL_PROTECTION: "emailProtection",
    oids.KP_TIME_STAMPING: "timeStamping",
    oids.KP_OCSP_SIGNING: "OCSPSigning",
}


def describe_certificate_file(path: str) -> list[dict[str, object]]:
    """:func:`describe_certificate` of every certificate in a file (DER, PEM, base64 or a PKCS#7 bundle)."""
    return [describe_certificate(c) for c in load_certificates_file(path)]


def _word(key: str, ru: bool) -> str:
    return _WORDS[key][1 if ru else 0]


def _identity_lines(ident: dict[str, Any], ru: bool) -> list[tuple[str, str]]:
    lines: list[tuple[str, str]] = []
    kind_text = ident["owner_kind_text"]["ru" if ru else "en"]
    if ident["owner_kind"] == "legal_entity":
        kind_text += f" ({_word('head_or_employee' if ident['names_person'] else 'no_person', ru)})"
    lines.append(("owner_kind", kind_text))
    for key in ("full_name", "title", "organization", "unit"):
        if ident.get(key):
            lines.append((key, ident[key]))
    address = ", ".join(v for v in (ident.get("country"), ident.get("region"), ident.get("locality"),
                                    ident.get("street")) if v)
    if address:
        lines.append(("address", address))
    if ident.get("email"):
        lines.append(("email", ident["email"]))
    for key in ("ogrn", "ogrnip"):
        if ident.get(key):
            lines.append((key, ident[key]))
    if ident.get("inn"):
        inn = ident["inn"]
        if ident.get("inn_kind") == "legal_entity_legacy":
            inn += f" ({_word('legacy_inn', ru)})"
        lines.append(("inn", inn))
    for key in ("innle", "snils"):
        if ident.get(key):
            lines.append((key, ident[key]))
    if ident.get("policy_classes"):
        lines.append(("policy_classes", ", ".join(ident["policy_classes"])))
    if ident.get("subject_sign_tool"):
        lines.append(("subject_sign_tool", ident["subject_sign_tool"]))
    tool = ident.get("issuer_sign_tool")
    if tool:
        lines.append(("issuer_sign_tool", "\n".join(
            v for v in (tool["sign_tool"], tool["ca_tool"], tool["sign_tool_cert"], tool["ca_tool_cert"]) if v)))
    if ident.get("identification_kind") is not None:
        meaning = ident.get("identification_kind_meaning")
        text = str(ident["identification_kind"])
        if meaning:
            text += f" ({meaning['ru' if ru else 'en']})"
        lines.append(("identification_kind", text))
    if ident.get("private_key_not_before") or ident.get("private_key_not_after"):
        lines.append(("private_key_period", f"{ident.get('private_key_not_before') or '-'} {_word('to', ru)} "
                                            f"{ident.get('private_key_not_after') or '-'}"))
    return lines


def render_certificate(desc: dict[str, Any], lang: str = "en") -> str:
    """The text ``signagent cert show`` prints for a :func:`describe_certificate` dict: one aligned
    ``label: value`` line per item (continuation lines indented), English or Russian (``lang="ru"``) labels."""
    ru = lang == "ru"
    rows: list[tuple[str, str]] = [
        ("subject", desc["subject"]["display"]),
        ("issuer", desc["issuer"]["display"]
         + (f" ({_word('self_signed', ru)})" if desc.get("self_signed") else "")),
        ("serial", desc["serial"]["hex"]),
        ("not_before", desc["validity"]["not_before"]),
        ("not_after", desc["validity"]["not_after"]),
        ("sha1", desc["thumbprints"]["sha1"]),
        ("streebog", desc["thumbprints"]["streebog256"]),
        ("signature_algorithm", f"{desc['signature_algorithm']['name']} ({desc['signature_algorithm']['oid']})"),
    ]
    key = desc["public_key"]
    key_text = f"{key['algorithm']['name']} ({key['algorithm']['oid']})"
    if key.get("curve"):
        key_text += f", {key['curve']} ({key['param_set']})"
    elif key.get("param_set"):
        key_text += f", {key['param_set']}"
    rows.append(("public_key", key_text))
    if desc.get("key_usage") is not None:
        usages = [(_KEY_USAGE_RU.get(u, u) if ru else u) for u in desc["key_usage"]]
        rows.append(("key_usage", ", ".join(usages) or _word("none", ru)))
    if desc.get("extended_key_usage"):
        rows.append(("eku", "\n".join(
            f"{_EKU_NAMES[o]} ({o})" if o in _EKU_NAMES else o for o in desc["extended_key_usage"])))
    bc = desc.get("basic_constraints")
    if bc is not None:
        text = _word("ca" if bc["ca"] else "end_entity", ru)
        if bc.get("path_len") is not None:
            text += f", {_word('path_len', ru)} {bc['path_len']}"
        rows.append(("basic_constraints", text))
    rows.extend(_identity_lines(desc["identity"], ru))
    urls = (("crl", "crl_distribution_points"), ("ocsp", "ocsp_urls"), ("ca_issuers", "ca_issuers_urls"))
    for key_name, field in urls:
        if desc.get(field):
            rows.append((key_name, "\n".join(desc[field])))
    ext_lines = []
    for ext in desc.get("extensions", []):
        line = ext["name"] if ext["name"] == ext["oid"] else f"{ext['name']} ({ext['oid']})"
        if ext["critical"]:
            line += f", {_word('critical', ru)}"
        if ext.get("error"):
            line += f" -- {ext['error']}"
        ext_lines.append(line)
    if ext_lines:
        rows.append(("extensions", "\n".join(ext_lines)))
    problems = desc.get("problems") or []
    rows.append(("problems", "\n".join(
        f"[{p['code']}] {p['message_ru' if ru else 'message']}" for p in problems) or _word("none", ru)))

    labels = [(_LABELS[k][1 if ru else 0], v) for k, v in rows]
    width = max(len(label) for label, _ in labels) + 1
    out = []
    for label, value in labels:
        first, *rest = str(value).split("\n")
        out.append(f"{label + ':':<{width}} {first}")
        out.extend(f"{'':<{width}} {line}" for line in rest)
    return "\n".join(out) + "\n"

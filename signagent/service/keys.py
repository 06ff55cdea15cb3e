"""Use cases for software keys: generate a key file, make a PKCS#10 request for it, check a request.

* :func:`generate_key` -- a new GOST R 34.10-2012 key written as PKCS#8 PEM that OpenSSL's GOST engine reads:
  encrypted (PBES2 / PBKDF2-HMAC-Streebog-512 / GOST 28147-89) unless the caller explicitly allows plain text;
  never over an existing file unless asked.
* :func:`make_request` -- a request with the subject in the qualified-certificate form (attribute types of
  ``reference/qualified-profile.md`` 2.1, check digits of ОГРН/ИНН/СНИЛС/ОГРНИП verified before signing) and the
  extensions of a profile (head, employee, ip, person) or chosen one by one; :func:`write_request` writes it
  (never over an existing file without ``overwrite``, never over a device; ``-`` is standard output).
* :func:`check_request` -- parse a request and verify its self-signature.

Exports: DEFAULT_CURVE, PROFILES, SUBJECT_FIELDS, GeneratedKey, RequestProfile, read_password_file, generate_key,
load_key, request_subject, request_extensions, make_request, check_new_output, write_request, check_request.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from asn1crypto import x509

from signagent import __version__
from signagent.asn1 import oids
from signagent.cms import pkcs10
from signagent.errors import FileAccessError, InvalidInputError, UsageError
from signagent.fileio import check_output, open_output, read_capped, read_secret
from signagent.gost import PrivateKey, curve
from signagent.pkcs8 import keyfile
from signagent.x509 import builder, checksums

__all__ = [
    "DEFAULT_CURVE",
    "PROFILES",
    "SUBJECT_FIELDS",
    "GeneratedKey",
    "RequestProfile",
    "check_new_output",
    "check_request",
    "generate_key",
    "load_key",
    "make_request",
    "read_password_file",
    "request_extensions",
    "request_subject",
    "write_request",
]

#: The curve of ``signagent key generate`` without --curve: TC 26 256-bit paramSetA (RFC 9215 / R 1323565.1.024).
DEFAULT_CURVE = "id-tc26-gost-3410-2012-256-paramSetA"
_MAX_REQUEST_FILE = 1 << 20  # a request is a few KB; pkcs10 refuses more too

#: Subject fields in the order requests list them (the order CryptoPro's CA uses for owners, profile.md 2.1):
#: field key -> builder label. The keys are what callers (and the CLI options) name them.
SUBJECT_FIELDS: dict[str, str] = {
    "email": "E",
    "inn": "INN",
    "snils": "SNILS",
    "ogrn": "OGRN",
    "innle": "INNLE",
    "ogrnip": "OGRNIP",
    "country": "C",
    "region": "S",
    "locality": "L",
    "street": "STREET",
    "organization": "O",
    "unit": "OU",
    "title": "T",
    "common_name": "CN",
    "surname": "SN",
    "given_name": "G",
}

# Check digits (x509.checksums) of the Russian numbers, by field.
_CHECKS = {
    "inn": (checksums.check_inn12, "ИНН (12 digits, a person's)"),
    "innle": (checksums.check_inn10, "ИНН ЮЛ (10 digits)"),
    "ogrn": (checksums.check_ogrn, "ОГРН (13 digits)"),
    "ogrnip": (checksums.check_ogrnip, "ОГРНИП (15 digits)"),
    "snils": (checksums.check_snils, "СНИЛС (11 digits)"),
}

_POLICY_BY_NAME = {name: oid for oid, name in oids.POLICY_CLASSES.items()}
# Latin look-alikes people type for КС1... (K, C, B, A are the same glyphs).
_LATIN_TO_CYRILLIC = str.maketrans({"K": "К", "C": "С", "B": "В", "A": "А"})


@dataclass(frozen=True)
class RequestProfile:
    """Defaults of a request profile: required subject fields and the extensions to request."""

    name: str
    description: str
    required: tuple[str, ...]
    key_usage: tuple[str, ...]
    extended_key_usage: tuple[str, ...]
    policies: tuple[str, ...]


# Key usage and EKU as real qualified certificates carry them (qualified-profile.md 2.2): digitalSignature,
# nonRepudiation, keyEncipherment, dataEncipherment; clientAuth + emailProtection; the КС1 policy class (the
# class the CA finally writes depends on the owner's certified tool; the request only asks).
_KU = ("digital_signature", "non_repudiation", "key_encipherment", "data_encipherment")
_EKU = ("client_auth", "email_protection")
_KS1 = (oids.POLICY_KS1,)

PROFILES: dict[str, RequestProfile] = {
    "head": RequestProfile("head", "head of a legal entity (acts without a power of attorney)",
                           ("common_name", "surname", "given_name", "organization", "ogrn", "innle", "inn"),
                           _KU, _EKU, _KS1),
    "employee": RequestProfile("employee", "employee of a legal entity",
                               ("common_name", "surname", "given_name", "organization", "ogrn", "innle", "inn"),
                               _KU, _EKU, _KS1),
    "ip": RequestProfile("ip", "individual entrepreneur",
                         ("common_name", "surname", "given_name", "ogrnip", "inn"), _KU, _EKU, _KS1),
    "person": RequestProfile("person", "natural person",
                             ("common_name", "surname", "given_name", "snils"), _KU, _EKU, _KS1),
}


# --------------------------------------------------------------------------------------------------------------
# Keys
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GeneratedKey:
    """Where a new key went and what it is."""

    path: Path
    curve: str
    curve_oid: str
    encrypted: bool
    public_key: bytes  # X || Y little-endian

    def to_dict(self) -> dict[str, object]:
        """JSON-ready view."""
        return {"path": str(self.path), "curve": self.curve, "curve_oid": self.curve_oid,
                "encrypted": self.encrypted, "public_key": self.public_key.hex()}


def read_password_file(path: str | os.PathLike[str]) -> bytes:
    """The password in a file: its first line without the line end (OpenSSL's ``-pass file:`` rule), UTF-8.

    Read by :func:`signagent.fileio.read_secret`, the reader ``sign --pin-file`` uses too, so a key made with
    any password accepted here opens there; an empty first line is refused (a key is never "encrypted" with "").
    """
    name = os.fspath(path)
    password = read_secret(name, "password")
    if not password:
        raise InvalidInputError(situation="empty_password_file", path=name)
    return password.encode("utf-8")


def generate_key(path: str | os.PathLike[str], curve_name: str = DEFAULT_CURVE, *, password: bytes | None = None,
                 allow_unencrypted: bool = False, overwrite: bool = False,
                 iterations: int | None = None) -> GeneratedKey:
    """Generate a key on ``curve_name`` (any name, alias or OID of :func:`signagent.gost.curve`) and save it.

    A password encrypts it; without one ``allow_unencrypted`` must be True (UsageError otherwise). An existing
    file is kept unless ``overwrite`` (FileAccessError otherwise). The file is mode 0600.
    """
    if password is None and not allow_unencrypted:
        raise UsageError(situation="password_needed")
    check_output(path)  # never rename a key over a device or FIFO (``-o /dev/null --force`` as root)
    c = curve(curve_name)
    key = PrivateKey.generate(c)
    written = keyfile.save_private_key(key, path, password, allow_unencrypted=allow_unencrypted,
                                       overwrite=overwrite, iterations=iterations)
    return GeneratedKey(written, c.name, c.oid, password is not None, key.public_key().to_bytes())


def load_key(path: str | os.PathLike[str], password: bytes | None = None) -> PrivateKey:
    """The private key in a PKCS#8 file (errors of :func:`signagent.pkcs8.keyfile.load_private_key`)."""
    return keyfile.load_private_key(path, password)


# --------------------------------------------------------------------------------------------------------------
# Requests
# --------------------------------------------------------------------------------------------------------------


def request_subject(fields: Mapping[str, str | None], extra: Sequence[tuple[str, str]] = (),
                    *, profile: str | None = None) -> list[tuple[str, str]]:
    """The subject as ``(label, value)`` pairs in the canonical order, checked.

    ``fields`` uses the keys of :data:`SUBJECT_FIELDS` (empty values are skipped); ``extra`` adds attributes by
    label or dotted OID at the end. ИНН, ИНН ЮЛ, ОГРН, ОГРНИП and СНИЛС must have valid check digits; a profile's
    required fields must be present. Raises InvalidInputError naming the first problem.
    """
    unknown = set(fields) - set(SUBJECT_FIELDS)
    if unknown:
        raise InvalidInputError(f"unknown subject fields: {', '.join(sorted(unknown))}")
    values = {k: v.strip() for k, v in fields.items() if v is not None and v.strip()}
    for key, (check, what) in _CHECKS.items():
        if key in values:
            problem = check(values[key])
            if problem is not None:
                raise InvalidInputError(situation="subject_field", what=what, what_ru=what.split(" ")[0],
                                        value=repr(values[key]), field=key, problem=problem)
    if profile is not None:
        missing = [k for k in _profile(profile).required if k not in values]
        if missing:
            raise InvalidInputError(situation="profile_fields", profile=profile, missing=", ".join(missing))
    subject = [(SUBJECT_FIELDS[k], values[k]) for k in SUBJECT_FIELDS if k in values]
    subject += [(label, value) for label, value in extra]
    if not subject:
        raise InvalidInputError(situation="no_subject")
    return subject


def _profile(name: str) -> RequestProfile:
    try:
        return PROFILES[name]
    except KeyError:
        raise InvalidInputError(f"unknown profile {name!r} (known: {', '.join(PROFILES)})") from None


def _snake(name: str) -> str:
    """digitalSignature -> digital_signature (RFC 5280 names to asn1crypto's)."""
    return "".join("_" + ch.lower() if ch.isupper() else ch for ch in name).lstrip("_")


def _policy_oid(value: str) -> str:
    text = value.strip()
    if text in _POLICY_BY_NAME:
        return _POLICY_BY_NAME[text]
    cyrillic = text.upper().translate(_LATIN_TO_CYRILLIC)
    if cyrillic in _POLICY_BY_NAME:
        return _POLICY_BY_NAME[cyrillic]
    if all(part.isdigit() for part in text.split(".")) and text.count(".") >= 1:
        return text
    raise InvalidInputError(f"unknown certificate policy {value!r} (КС1..КА1 or a dotted OID)")


def request_extensions(*, profile: str | None = None, key_usage: Iterable[str] | None = None,
                       extended_key_usage: Iterable[str] | None = None, policies: Iterable[str] | None = None,
                       sign_tool: str | None = None) -> list[x509.Extension]:
    """Extensions to request: the profile's defaults, each replaced by an explicit value when one is given.

    ``key_usage`` takes RFC 5280 or asn1crypto names (digitalSignature / digital_signature); ``extended_key_usage``
    asn1crypto names or dotted OIDs; ``policies`` КС1..КА1 or dotted OIDs; ``sign_tool`` the subjectSignTool text
    (default with a profile: "signagent <version>").
    """
    base = _profile(profile) if profile is not None else None
    ku = list(key_usage) if key_usage is not None else list(base.key_usage if base else ())
    eku = list(extended_key_usage) if extended_key_usage is not None else list(base.extended_key_usage if base else ())
    pol = list(policies) if policies is not None else list(base.policies if base else ())
    tool = sign_tool if sign_tool is not None else (f"signagent {__version__}" if base else None)
    out: list[x509.Extension] = []
    if ku:
        out.append(builder.key_usage(*(_snake(u.strip()) for u in ku)))
    if eku:
        out.append(builder.extended_key_usage(*(e.strip() for e in eku)))
    if tool:
        out.append(builder.subject_sign_tool(tool))
    if pol:
        out.append(builder.certificate_policies(*(_policy_oid(p) for p in pol)))
    return out


def check_new_output(out: str | os.PathLike[str], *, overwrite: bool = False) -> None:
    """Refuse to write a new request (or other new file) to ``out`` when it exists and ``overwrite`` is False
    (FileAccessError, as for key files), or when it is a device, FIFO or socket (NotRegularFileError); ``-``
    (standard output) is always fine."""
    name = os.fspath(out)
    if name == "-":
        return
    check_output(name)
    if not overwrite and os.path.lexists(name):
        raise FileAccessError(situation="exists", needs="force", path=name)


def write_request(data: bytes, out: str | os.PathLike[str], *, overwrite: bool = False) -> None:
    """Write a request's bytes to ``out`` (atomically; ``-`` is standard output), see :func:`check_new_output`."""
    name = os.fspath(out)
    check_new_output(name, overwrite=overwrite)
    try:
        with open_output(name) as stream:
            stream.write(data)
    except OSError as exc:
        raise FileAccessError(situation="cannot_write", path=name, error=exc.strerror or exc) from None


def make_request(signer: pkcs10.RequestSigner, subject: Sequence[tuple[str, str]],
                 extensions: Iterable[x509.Extension] = (), *, out: str | os.PathLike[str] | None = None,
                 der: bool = False, overwrite: bool = False) -> bytes:
    """Build and sign a request; returns its PEM (or DER) and writes it to ``out`` when given
    (:func:`write_request`: an existing file is kept unless ``overwrite``)."""
    request = pkcs10.build_request(list(subject), signer, extensions=extensions)
    data = request.dump() if der else pkcs10.request_pem(request)
    if out is not None:
        write_request(data, out, overwrite=overwrite)
    return data


def check_request(path: str | os.PathLike[str]) -> pkcs10.RequestInfo:
    """Read a request file (PEM, DER or base64) and verify its self-signature (see :func:`pkcs10.parse_request`).

    A regular file of at most 1 MiB (a request is a few KB); FileAccessError, NotRegularFileError or
    InputTooLargeError otherwise.
    """
    return pkcs10.parse_request(read_capped(path, _MAX_REQUEST_FILE, "certificate request"))

"""A tiny DER certificate builder for tests: exact control over name attribute types and extensions.

Certificates are GOST R 34.10-2012 (256-bit, tc26 paramSetA by default) signed with our own signing core; the
encodings follow RFC 5280 section 4.1 and RFC 9215 section 3. Not project code: the test PKI generator lives in
``signagent.testpki``; this only makes the odd shapes the x509 tests need (bad check digits, broken extensions).
"""

from __future__ import annotations

import datetime as dt

from asn1crypto import core

from signagent.gost import PrivateKey, curve, streebog256, streebog512
from tests.der import seq, tlv

UTC = dt.UTC
NOT_BEFORE = dt.datetime(2024, 1, 1, tzinfo=UTC)
NOT_AFTER = dt.datetime(2026, 1, 1, tzinfo=UTC)


def oid(dotted: str) -> bytes:
    return core.ObjectIdentifier(dotted).dump()


def utf8(text: str) -> bytes:
    return core.UTF8String(text).dump()


def numeric(text: str) -> bytes:
    return core.NumericString(text).dump()


def printable(text: str) -> bytes:
    return core.PrintableString(text).dump()


def ia5(text: str) -> bytes:
    return core.IA5String(text).dump()


def integer(n: int) -> bytes:
    return core.Integer(n).dump()


def name(*attrs: tuple[str, bytes]) -> bytes:
    """A Name from (OID, encoded value) pairs, one attribute per RDN, in the given order."""
    return seq(*(tlv(0x31, seq(oid(o), value)) for o, value in attrs))


def extension(ext_oid: str, value_der: bytes, critical: bool = False) -> bytes:
    parts = [oid(ext_oid)]
    if critical:
        parts.append(b"\x01\x01\xff")
    parts.append(tlv(0x04, value_der))
    return seq(*parts)


_SIZES = {32: ("1.2.643.7.1.1.1.1", "1.2.643.7.1.1.3.2", streebog256), 64: ("1.2.643.7.1.1.1.2", "1.2.643.7.1.1.3.3",
                                                                            streebog512)}


def spki(key: PrivateKey) -> bytes:
    c = key.public_key().curve
    key_oid, _, _ = _SIZES[c.size]
    params = seq(oid(c.oid), oid("1.2.643.7.1.1.2.2")) if c.size == 32 else seq(oid(c.oid))
    return seq(seq(oid(key_oid), params), tlv(0x03, b"\x00" + core.OctetString(key.public_key().to_bytes()).dump()))


def build(subject: bytes, *, extensions: list[bytes] | None = None, key: PrivateKey | None = None,
          issuer: bytes | None = None, issuer_key: PrivateKey | None = None, serial: int = 0x01F8FD72008FB0EAB1,
          not_before: dt.datetime = NOT_BEFORE, not_after: dt.datetime = NOT_AFTER) -> tuple[bytes, PrivateKey]:
    """(DER, subject key): a v3 certificate signed by ``issuer_key`` (self-signed by default)."""
    key = key or PrivateKey.generate(curve("tc26-256-A"))
    signer = issuer_key or key
    _, sig_oid, hash_fn = _SIZES[signer.public_key().curve.size]
    alg = seq(oid(sig_oid))
    tbs_parts = [
        tlv(0xA0, integer(2)),
        integer(serial),
        alg,
        issuer if issuer is not None else subject,
        seq(core.UTCTime(not_before).dump(), core.UTCTime(not_after).dump()),
        subject,
        spki(key),
    ]
    if extensions:
        tbs_parts.append(tlv(0xA3, seq(*extensions)))
    tbs = seq(*tbs_parts)
    signature = signer.sign_digest(hash_fn(tbs).digest())
    return seq(tbs, alg, tlv(0x03, b"\x00" + signature)), key


# -- qualified-certificate content ----------------------------------------------------------------------------------

CN, SN, G, T, ORG, OU = "2.5.4.3", "2.5.4.4", "2.5.4.42", "2.5.4.12", "2.5.4.10", "2.5.4.11"
C, S, L, STREET, E = "2.5.4.6", "2.5.4.8", "2.5.4.7", "2.5.4.9", "1.2.840.113549.1.9.1"
OGRN, OGRNIP, SNILS = "1.2.643.100.1", "1.2.643.100.5", "1.2.643.100.3"
INN, INNLE = "1.2.643.3.131.1.1", "1.2.643.100.4"


def key_usage_ext(bits: str = "11110") -> bytes:
    """keyUsage from a bit string, digitalSignature first ("11110": DS, NR, KE, DE)."""
    value = int(bits.ljust(8, "0"), 2)
    unused = 8 - len(bits.rstrip("0")) if bits.rstrip("0") else 0
    return extension("2.5.29.15", tlv(0x03, bytes([unused, value])), critical=True)


def policies_ext(*policy_oids: str) -> bytes:
    return extension("2.5.29.32", seq(*(seq(oid(p)) for p in policy_oids)))


def sign_tools_exts(identification_kind: int | None = 0) -> list[bytes]:
    exts = [
        extension("1.2.643.100.111", utf8('"КриптоПро CSP" (версия 5.0)')),
        extension("1.2.643.100.112", seq(utf8('ПАКМ "КриптоПро HSM" версии 2.0'), utf8('ПАК "КриптоПро УЦ" версии 2.0'),
                                         utf8("Сертификат соответствия № СФ/124-3966 от 15.01.2021"),
                                         utf8("Сертификат соответствия № СФ/128-4272 от 13.07.2022"))),
    ]
    if identification_kind is not None:
        exts.append(extension("1.2.643.100.114", integer(identification_kind)))
    return exts


def pkup_ext(not_before: dt.datetime, not_after: dt.datetime) -> bytes:
    gen = core.GeneralizedTime
    return extension("2.5.29.16", seq(tlv(0x80, gen(not_before).contents), tlv(0x81, gen(not_after).contents)))


def head_subject(*, ogrn: str = "1027700132195", innle: str = "7707083893", inn: str = "500100732259",
                 snils: str = "11223344595", given: str = "Иван Петрович") -> bytes:
    """A head-of-organisation subject (FNS shape, attributes in a CA-specific order)."""
    return name(
        (SNILS, numeric(snils)), (INN, numeric(inn)), (OGRN, numeric(ogrn)), (INNLE, numeric(innle)),
        (E, ia5("ivanov@example.ru")), (C, printable("RU")), (S, utf8("77 г. Москва")), (L, utf8("г. Москва")),
        (STREET, utf8("ул. Вавилова, д. 19")), (ORG, utf8('ПАО "Ромашка"')), (T, utf8("Генеральный директор")),
        (CN, utf8('ПАО "Ромашка"')), (SN, utf8("Иванов")), (G, utf8(given)),
    )

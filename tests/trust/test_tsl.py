"""The accredited-CA list parser, on a realistic list built at run time from the real CA certificates."""

from __future__ import annotations

import base64
import hashlib
import io
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from asn1crypto import pem

from signagent.errors import FileAccessError, TslFormatError
from signagent.trust.tsl import MAX_DEPTH, parse_tsl


def _der(folder: Path, stem: str) -> bytes:
    return pem.unarmor((folder / f"{stem}.pem").read_bytes())[2]


def _sha1(der: bytes) -> str:
    return hashlib.sha1(der).hexdigest().upper()  # noqa: S324


def build_tsl(real_dir: Path, *, wrong_thumbprint: bool = False, broken_data: bool = False) -> bytes:
    """An accredited-CA list in the e-trust.gosuslugi.ru structure (qualified-profile.md section 4).

    CAs: Минцифры (the roots and the cross-certificate), ФНС (three keys), Казначейство, and an ex-CA whose
    accreditation ended (Ростелеком 2019 key). Options damage one certificate entry of ФНС.
    """
    root = ET.Element("АккредитованныеУдостоверяющиеЦентры")
    ET.SubElement(root, "Версия").text = "16314"
    ET.SubElement(root, "Дата").text = "2026-07-23T10:00:00.000+03:00"

    def ca(name, short, ogrn, inn, status, paks):
        node = ET.SubElement(root, "УдостоверяющийЦентр")
        for tag, text in (("Название", name), ("ЭлектроннаяПочта", "ca@example.ru"), ("КраткоеНазвание", short),
                          ("АдресСИнформациейПоУЦ", "https://example.ru")):
            ET.SubElement(node, tag).text = text
        address = ET.SubElement(node, "Адрес")
        ET.SubElement(address, "Страна").text = "RU"
        ET.SubElement(address, "Город").text = "Москва"
        ET.SubElement(node, "ИНН").text = inn
        ET.SubElement(node, "ОГРН").text = ogrn
        ET.SubElement(node, "РеестровыйНомер").text = "1"
        state = ET.SubElement(node, "СтатусАккредитации")
        ET.SubElement(state, "Статус").text = status
        ET.SubElement(state, "ДействуетС").text = "2021-07-01T00:00:00+03:00"
        history = ET.SubElement(node, "ИсторияСтатусовАккредитации")
        ET.SubElement(ET.SubElement(history, "СтатусАккредитации"), "Статус").text = "Действует"
        pak_list = ET.SubElement(node, "ПрограммноАппаратныеКомплексы")
        for alias, keys in paks:
            pak = ET.SubElement(pak_list, "ПрограммноАппаратныйКомплекс")
            ET.SubElement(pak, "Псевдоним").text = alias
            ET.SubElement(pak, "КлассСредствЭП").text = "КС2"
            ET.SubElement(pak, "СредстваУЦ").text = "КриптоПро УЦ 2.0"
            key_list = ET.SubElement(pak, "КлючиУполномоченныхЛиц")
            for key_id, crl_urls, stems in keys:
                key = ET.SubElement(key_list, "Ключ")
                ET.SubElement(key, "ИдентификаторКлюча").text = key_id
                urls = ET.SubElement(key, "АдресаСписковОтзыва")
                for url in crl_urls:
                    ET.SubElement(urls, "Адрес").text = url
                certs = ET.SubElement(key, "Сертификаты")
                for stem in stems:
                    der = _der(real_dir, stem)
                    data = ET.SubElement(certs, "ДанныеСертификата")
                    thumbprint = _sha1(der)
                    if wrong_thumbprint and stem.startswith("ca_fns_2022-11"):
                        thumbprint = "00" * 20
                    ET.SubElement(data, "Отпечаток").text = thumbprint
                    ET.SubElement(data, "КемВыдан").text = "CN=issuer"
                    ET.SubElement(data, "КомуВыдан").text = f"CN={name}"
                    ET.SubElement(data, "СерийныйНомер").text = "01"
                    ET.SubElement(data, "ПериодДействияС").text = "2022-01-01T00:00:00Z"
                    ET.SubElement(data, "ПериодДействияДо").text = "2037-01-01T00:00:00Z"
                    text = base64.b64encode(der).decode()
                    if broken_data and stem.startswith("ca_fns_2022-11"):
                        text = "!!! not base64 !!!"
                    ET.SubElement(data, "Данные").text = "\n".join(text[i:i + 76] for i in range(0, len(text), 76))

    ca("Министерство цифрового развития, связи и массовых коммуникаций Российской Федерации", "Минцифры России",
       "1047702026701", "7710474375", "Действует", [
           ("Минцифры России", [("c91358b14ca7623a7ed23f3ca6e7147c9d70a386", ["http://reestr-pki.ru/cdp/guc2022.crl"],
                                 ["root_mincifry2022_guc2022_2F0CB09B",
                                  "cross_mincifry2022_by_minkomsvyaz2021_1D131217"])]),
           ("Минкомсвязь России", [("19778fbb82e66fc85f93f0151d9322a1d6ad0c26", [],
                                    ["root_minkomsvyaz2021_guc2021_AFF05C9E"])]),
       ])
    ca("Федеральная налоговая служба", "ФНС России", "1047707030513", "7707329152", "Действует", [
        ("УЦ ФНС России", [
            ("c1836f3194b61e57ba10a847870a51e399cb07d0", ["http://pki.tax.gov.ru/cdp/c1836f31.crl",
                                                          "http://uc.nalog.ru/cdp/c1836f31.crl"],
             ["ca_fns_2022-04_by_mincifry2022_E5AA1938"]),
            ("e91f07442c45b2cf599ee949e5d83e8382b94a50", ["http://pki.tax.gov.ru/cdp/e91f0744.crl"],
             ["ca_fns_2022-11_by_mincifry2022_08A4C134"]),
            ("da02413b5df67e675f8817ecd8555ddca27ee352", ["http://pki.tax.gov.ru/cdp/da02413b.crl"],
             ["ca_fns_2025-12_by_mincifry2022_0F85468E"]),
        ]),
    ])
    ca("Федеральное казначейство", "Казначейство России", "1047797019830", "7710568760", "Действует", [
        ("УЦ ФК", [("066413a7cee083e2a67d9f89a7d65619984cd9a7", ["http://crl.roskazna.ru/crl/ucfk_2024.crl"],
                    ["ca_kazna_2024_by_mincifry2022_12BC4208"])]),
    ])
    ca("ПАО \"Ростелеком\"", "Ростелеком", "1027700198767", "7707049388", "Прекращена", [
        ("УЦ Ростелеком", [("fe9fb428a3df7eea3872fbe09866beab411ee4ac", ["http://rt.ru/cdp/rt2019.crl"],
                            ["ca_rostelecom_2019_by_minkomsvyaz2018_90BFFA78"])]),
    ])
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


@pytest.fixture(scope="module")
def real_dir(real_pki_dir: Path) -> Path:
    return real_pki_dir


@pytest.fixture(scope="module")
def tsl_bytes(real_dir: Path) -> bytes:
    return build_tsl(real_dir)


def test_parses_the_list(tsl_bytes, real_dir):
    document = parse_tsl(tsl_bytes)
    assert document.version == 16314 and document.date.startswith("2026-07-23")
    assert [ca.short_name for ca in document.cas] == ["Минцифры России", "ФНС России", "Казначейство России",
                                                      "Ростелеком"]
    assert [ca.is_active for ca in document.cas] == [True, True, True, False]
    assert document.problems == ()
    fns = document.cas[1]
    assert (fns.name, fns.ogrn, fns.inn, fns.status, fns.registry_number) == (
        "Федеральная налоговая служба", "1047707030513", "7707329152", "Действует", "1")
    assert fns.status_since.startswith("2021-07-01")
    assert [c.sha1 for c in fns.certificates] == [
        "E5AA1938ED28E003B7FEFEF4EAAE4CE7A979A479", "08A4C134FFE120D8572DF0CB8465E6C3A77E7727",
        "0F85468E5C7D5AF8B0B0CF8C07A644C4A32DBAE3"]
    first = fns.certificates[0]
    assert first.der == _der(real_dir, "ca_fns_2022-04_by_mincifry2022_E5AA1938") and first.thumbprint_matches
    assert first.crl_urls == ("http://pki.tax.gov.ru/cdp/c1836f31.crl", "http://uc.nalog.ru/cdp/c1836f31.crl")
    assert first.key_id == "c1836f3194b61e57ba10a847870a51e399cb07d0" and first.pak_alias == "УЦ ФНС России"
    mincifry = document.cas[0]
    assert [c.pak_alias for c in mincifry.certificates] == ["Минцифры России"] * 2 + ["Минкомсвязь России"]
    assert fns.to_dict()["certificates"][0]["sha1"] == first.sha1


def test_path_stream_and_bytes_give_the_same_result(tsl_bytes, tmp_path):
    path = tmp_path / "tsl.xml"
    path.write_bytes(tsl_bytes)
    assert parse_tsl(path) == parse_tsl(str(path)) == parse_tsl(io.BytesIO(tsl_bytes)) == parse_tsl(tsl_bytes)


def test_wrong_thumbprint_is_flagged(real_dir):
    document = parse_tsl(build_tsl(real_dir, wrong_thumbprint=True))
    flagged = [c for ca in document.cas for c in ca.certificates if not c.thumbprint_matches]
    assert [c.sha1 for c in flagged] == ["08A4C134FFE120D8572DF0CB8465E6C3A77E7727"]
    assert flagged[0].declared_sha1 == "00" * 20


def test_unreadable_certificate_data_is_skipped_and_reported(real_dir):
    document = parse_tsl(build_tsl(real_dir, broken_data=True))
    assert len(document.cas[1].certificates) == 2
    assert document.problems == ("Федеральная налоговая служба: certificate 08A4C134FFE120D8572DF0CB8465E6C3A77E7727 "
                                 "has no readable Данные",)


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
<!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
<!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
<!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
<!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
<!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">]>
<АккредитованныеУдостоверяющиеЦентры><Версия>&lol9;</Версия></АккредитованныеУдостоверяющиеЦентры>
""".encode()

EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE a [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<АккредитованныеУдостоверяющиеЦентры><Версия>&xxe;</Версия></АккредитованныеУдостоверяющиеЦентры>
""".encode()

EXTERNAL_DTD = """<?xml version="1.0"?>
<!DOCTYPE АккредитованныеУдостоверяющиеЦентры SYSTEM "http://127.0.0.1:9/evil.dtd">
<АккредитованныеУдостоверяющиеЦентры/>
""".encode()


@pytest.mark.parametrize(("data", "needle"), [
    (b"", "not well-formed"),
    (b"this is not XML", "not well-formed"),
    (b"\x00\x01\x02garbage", "not well-formed"),
    ("<АккредитованныеУдостоверяющиеЦентры><Версия>1".encode(), "not well-formed"),
    (b"<?xml version='1.0'?><html><body/></html>", "root element is <html>"),
    (BILLION_LAUGHS, "DOCTYPE"),
    (EXTERNAL_ENTITY, "DOCTYPE"),
    (EXTERNAL_DTD, "DOCTYPE"),
    ("<АккредитованныеУдостоверяющиеЦентры><Версия>abc</Версия></АккредитованныеУдостоверяющиеЦентры>".encode(),
     "not an integer"),
    (("<АккредитованныеУдостоверяющиеЦентры>" + "<a>" * (MAX_DEPTH + 1)).encode(), "nested deeper"),
])
def test_malformed_lists_are_refused(data, needle):
    with pytest.raises(TslFormatError) as info:
        parse_tsl(data)
    assert needle in info.value.message
    # Depth has its own code (issue 10); the error is a TslFormatError all the same.
    assert info.value.code == ("nesting_too_deep" if needle == "nested deeper" else "tsl_malformed")


def test_size_limits(tsl_bytes):
    with pytest.raises(TslFormatError, match="larger than 1000 bytes"):
        parse_tsl(tsl_bytes, max_bytes=1000)
    # A single text node of more than 1 MiB (a list of 2 MB with one giant "certificate").
    huge = ("<АккредитованныеУдостоверяющиеЦентры><УдостоверяющийЦентр><Название>".encode()
            + b"A" * (2 << 20) + "</Название></УдостоверяющийЦентр></АккредитованныеУдостоверяющиеЦентры>".encode())
    with pytest.raises(TslFormatError, match="text node is longer"):
        parse_tsl(huge)


def test_huge_stream_is_refused_without_reading_it_all():
    class Endless(io.RawIOBase):
        """An endless list of well-formed CA elements: only the size limit can stop it."""

        def __init__(self):
            self.sent = 0
            self.head = "<АккредитованныеУдостоверяющиеЦентры>".encode()
            self.unit = "<УдостоверяющийЦентр><Название>x</Название></УдостоверяющийЦентр>".encode()

        def readable(self):
            return True

        def readinto(self, buffer):
            if self.sent == 0:
                data = self.head
            else:
                offset = (self.sent - len(self.head)) % len(self.unit)
                data = (self.unit * (len(buffer) // len(self.unit) + 2))[offset:offset + len(buffer)]
            size = min(len(buffer), len(data))
            buffer[:size] = data[:size]
            self.sent += size
            return size

    stream = Endless()
    with pytest.raises(TslFormatError, match="larger than"):
        parse_tsl(io.BufferedReader(stream), max_bytes=8 << 20)
    assert stream.sent <= (8 << 20) + (2 << 20)


def test_missing_file(tmp_path):
    with pytest.raises(FileAccessError):
        parse_tsl(tmp_path / "absent.xml")

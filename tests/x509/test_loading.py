"""Loading certificates and CRLs in every encoding, and failing fast and clearly on anything else."""

from __future__ import annotations

import base64
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from signagent.errors import CertificateFormatError, CrlFormatError, FileAccessError, InvalidTypeError
from signagent.x509 import (
    MAX_CERTIFICATE_FILE,
    Certificate,
    load_certificate,
    load_certificates,
    load_certificates_file,
    load_certificates_path,
    load_crl,
    load_crl_file,
    load_crls,
)
from tests.conftest import require
from tests.oracles.openssl_gost import openssl_binary, run_cli
from tests.x509.der_builder import integer, oid, seq, tlv

FNS = "ca_fns_2022-11_by_mincifry2022_08A4C134.pem"
ROOT_2022 = "root_mincifry2022_guc2022_2F0CB09B.pem"
CRL_2001 = "crl_guc2012_gost2001_2018-05-24.pem"


@pytest.fixture(scope="module")
def real(real_pki_dir: Path) -> Path:
    path = real_pki_dir
    require(path.is_dir(), f"real state-PKI certificates {path}")
    return path


@pytest.fixture(scope="module")
def fns(real: Path) -> Certificate:
    return load_certificate((real / FNS).read_bytes())


def _pem(der: bytes, label: str = "CERTIFICATE", newline: bytes = b"\n") -> bytes:
    body = base64.encodebytes(der).replace(b"\n", newline)
    armour = label.encode()
    return b"-----BEGIN " + armour + b"-----" + newline + body + b"-----END " + armour + b"-----" + newline


# -- accepted encodings -----------------------------------------------------------------------------------------------


def test_every_real_pem_loads_and_matches_its_file_name(real: Path):
    files = sorted(p for p in real.glob("*.pem") if not p.name.startswith("crl_"))
    assert len(files) == 21
    for path in files:
        cert = load_certificates_file(path)[0]
        assert cert.sha1_thumbprint.startswith(path.stem.rsplit("_", 1)[1])


def test_der_pem_and_bare_base64_give_the_same_certificate(fns: Certificate):
    der = fns.der
    forms = [
        der,
        _pem(der),
        _pem(der, newline=b"\r\n"),
        _pem(der, "X509 CERTIFICATE"),
        b"\xef\xbb\xbf" + _pem(der),  # UTF-8 byte-order mark of Windows editors
        b"subject=CN = something\nissuer=...\n" + _pem(der) + b"trailing text\n",
        base64.b64encode(der),  # CryptoPro "Base-64" export without armour, one line
        base64.encodebytes(der).replace(b"\n", b"\r\n"),  # ... and with CRLF every 76 characters
        b"  \r\n" + base64.b64encode(der) + b"\r\n\r\n",
    ]
    for data in forms:
        assert load_certificate(data) == fns


def test_trusted_certificate_label_ignores_the_trust_settings(fns: Certificate):
    aux = bytes.fromhex("3010300a06082b06010505070302a0020500")  # any trailing X509_CERT_AUX-shaped SEQUENCE
    assert load_certificate(_pem(fns.der + aux, "TRUSTED CERTIFICATE")) == fns


def test_several_pem_blocks_and_concatenated_der(real: Path):
    files = sorted(p for p in real.glob("*.pem") if not p.name.startswith("crl_"))
    bundle = b"".join(p.read_bytes() for p in files)
    certs = load_certificates(bundle)
    assert len(certs) == 21
    assert load_certificates(b"".join(c.der for c in certs[:3])) == certs[:3]


def test_pkcs7_bundles_made_by_openssl(real: Path, tmp_path: Path):
    require(openssl_binary(), "openssl command")
    a, b = real / FNS, real / ROOT_2022
    expected = [load_certificates_file(a)[0], load_certificates_file(b)[0]]
    for form in ("DER", "PEM"):
        out = tmp_path / f"bundle.{form}"
        run_cli(["crl2pkcs7", "-nocrl", "-certfile", str(a), "-certfile", str(b), "-outform", form, "-out", str(out)],
                check=True)
        data = out.read_bytes()
        assert sorted(c.der for c in load_certificates(data)) == sorted(c.der for c in expected)
        if form == "PEM":
            assert b"-----BEGIN PKCS7-----" in data
            relabelled = data.replace(b"PKCS7-----", b"CMS-----")
            assert len(load_certificates(relabelled)) == 2
            assert len(load_certificates(base64.b64encode(load_certificates_bundle_der(data)))) == 2


def load_certificates_bundle_der(pem_data: bytes) -> bytes:
    body = pem_data.split(b"-----")[2]
    return base64.b64decode(b"".join(body.split()))


# -- rejected input ---------------------------------------------------------------------------------------------------


def _fails(data: bytes, *words: str, error: type[Exception] = CertificateFormatError) -> str:
    with pytest.raises(error) as info:
        load_certificates(data)
    message = str(info.value)
    for word in words:
        assert word in message, message
    return message


def test_empty_garbage_and_text_are_rejected_clearly():
    _fails(b"", "empty")
    _fails(b"\x00\x01\x02garbage", "neither DER, nor PEM, nor base64")
    _fails("Привет, это не сертификат".encode(), "neither DER, nor PEM, nor base64")
    _fails(b"QUJD", "does not decode to a DER")  # base64 of "ABC"
    _fails(b"MIIBx", "not valid base64")  # 5 characters: incomplete quantum


def test_truncated_der_is_rejected_at_every_length(fns: Certificate):
    der = fns.der
    for cut in (1, 2, 3, 4, 10, 100, len(der) // 2, len(der) - 1):
        _fails(der[:cut])
    assert "announces" in _fails(der[:-1])


def test_trailing_garbage_and_absurd_lengths():
    _fails(bytes.fromhex("3084ffffffff") + b"\x00" * 10, "truncated", "announces")
    _fails(bytes.fromhex("3089ff") + b"\x00" * 20, "absurd DER length")
    _fails(bytes.fromhex("3080") + b"\x30\x00" * 4, "indefinite length")


def test_wrong_pem_labels_are_named(fns: Certificate):
    assert "'PRIVATE KEY'" in _fails(_pem(b"\x30\x03\x02\x01\x00", "PRIVATE KEY"), "is not a certificate")
    _fails(_pem(fns.der) + _pem(b"\x30\x00", "X509 CRL"), "'X509 CRL'")
    _fails(_pem(fns.der)[:-30], "without a complete BEGIN/END")  # END line cut off
    _fails(_pem(fns.der) + _pem(fns.der)[:-30], "block 2 has no END line")  # a truncated second block
    _fails(_pem(fns.der).replace(b"END CERTIFICATE", b"END X509 CRL"), "ends with END")
    _fails(b"-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n", "not valid base64")


def test_a_crl_is_not_a_certificate_and_vice_versa(real: Path, fns: Certificate):
    _fails((real / CRL_2001).read_bytes(), "'X509 CRL'")
    crl_der = load_crl_file(real / CRL_2001).dump()
    _fails(crl_der, "revocation list")
    with pytest.raises(CrlFormatError, match="this is a certificate"):
        load_crl(fns.der)
    with pytest.raises(CrlFormatError, match="'CERTIFICATE'"):
        load_crl(_pem(fns.der))


def test_pkcs7_without_certificates_is_rejected():
    # ContentInfo { signedData, SignedData { v1, {}, { data }, no certificates, {} } }
    signed_data = seq(integer(1), tlv(0x31, b""), seq(oid("1.2.840.113549.1.7.1")), tlv(0x31, b""))
    _fails(seq(oid("1.2.840.113549.1.7.2"), tlv(0xA0, signed_data)), "holds no certificates")


def test_a_50_megabyte_input_fails_fast(tmp_path: Path):
    big = tmp_path / "big.cer"
    with big.open("wb") as f:
        f.truncate(50 << 20)  # sparse: costs nothing to write
    too_big = b"0" * (MAX_CERTIFICATE_FILE + 1)
    tracemalloc.start()
    try:
        with pytest.raises(CertificateFormatError, match="limit"):
            load_certificates_file(big)
        with pytest.raises(CertificateFormatError, match="limit"):
            load_certificates(too_big)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 << 20, peak  # refused from its size: the 50 MB file is never read, the bytes never copied


def test_missing_file_and_directory_give_file_access_errors(tmp_path: Path):
    with pytest.raises(FileAccessError, match="no such file"):
        load_certificates_file(tmp_path / "absent.cer")
    with pytest.raises(FileAccessError, match="is a directory"):
        load_certificates_file(tmp_path)
    with pytest.raises(FileAccessError):
        load_certificates_path(tmp_path / "absent")
    with pytest.raises(FileAccessError):
        load_crl_file(tmp_path / "absent.crl")


def test_text_instead_of_bytes_is_a_type_error(fns: Certificate):
    with pytest.raises(InvalidTypeError):
        load_certificates(_pem(fns.der).decode())
    with pytest.raises(InvalidTypeError):
        load_crls("-----BEGIN X509 CRL-----")


def test_file_errors_name_the_file(tmp_path: Path):
    bad = tmp_path / "bad.cer"
    bad.write_bytes(b"\x30\x82\x01\x00")
    with pytest.raises(CertificateFormatError, match=r"bad\.cer: truncated"):
        load_certificates_file(bad)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_mutated_certificates_load_or_fail_with_a_typed_error(fns: Certificate, data):
    der = bytearray(fns.der)
    for _ in range(data.draw(st.integers(1, 4))):
        position = data.draw(st.integers(0, len(der) - 1))
        der[position] = data.draw(st.integers(0, 255))
    try:
        load_certificates(bytes(der))
    except CertificateFormatError:
        pass


# -- directories ------------------------------------------------------------------------------------------------------


def test_directory_loads_certificates_and_lists_skipped_files(real: Path, tmp_path: Path):
    (tmp_path / "a.pem").write_bytes((real / FNS).read_bytes())
    (tmp_path / "b.cer").write_bytes(load_certificates_file(real / ROOT_2022)[0].der)
    (tmp_path / "b-copy.crt").write_bytes((real / ROOT_2022).read_bytes())  # same certificate again
    (tmp_path / "README.txt").write_text("trust anchors for tests\n")
    (tmp_path / "guc.crl").write_bytes((real / CRL_2001).read_bytes())
    (tmp_path / ".hidden").write_bytes(b"junk")
    (tmp_path / "sub").mkdir()
    loaded = load_certificates_path(tmp_path)
    assert len(loaded) == 2
    assert sorted(s.path.name for s in loaded.skipped) == ["README.txt", "guc.crl"]
    assert all(s.reason and s.reason_ru for s in loaded.skipped)
    assert load_certificates_path(tmp_path / "a.pem") == [load_certificates_file(real / FNS)[0]]


def test_directory_without_certificates_is_an_error(tmp_path: Path):
    with pytest.raises(CertificateFormatError, match="no certificates"):
        load_certificates_path(tmp_path)
    (tmp_path / "notes.txt").write_text("nothing here")
    with pytest.raises(CertificateFormatError, match="no certificates"):
        load_certificates_path(tmp_path)


def test_load_certificate_wants_exactly_one(real: Path):
    with pytest.raises(CertificateFormatError, match="expected one certificate, found 2"):
        load_certificate((real / FNS).read_bytes() + (real / ROOT_2022).read_bytes())


# -- CRLs -------------------------------------------------------------------------------------------------------------


def test_real_crl_in_pem_der_and_base64(real: Path):
    crl = load_crl_file(real / CRL_2001)
    assert len(crl["tbs_cert_list"]["revoked_certificates"]) == 29
    der = crl.dump()
    for data in (der, _pem(der, "X509 CRL"), _pem(der, "CRL"), base64.encodebytes(der)):
        assert load_crl(data).dump() == der
    assert len(load_crls(_pem(der, "X509 CRL") * 2)) == 2
    with pytest.raises(CrlFormatError, match="expected one CRL"):
        load_crl(_pem(der, "X509 CRL") * 2)


def test_bad_crls_are_rejected(real: Path, tmp_path: Path):
    der = load_crl_file(real / CRL_2001).dump()
    for data, word in ((b"", "empty"), (der[:-5], "truncated"), (b"\x30\x03\x02\x01\x00", "malformed CRL")):
        with pytest.raises(CrlFormatError, match=word):
            load_crl(data)
    missing = tmp_path / "x.crl"
    with pytest.raises(FileAccessError):
        load_crl_file(missing)

"""PKCS#10 requests with GOST keys: known answer (RFC 9215), string types, extensions, OpenSSL both ways, errors."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from asn1crypto import algos, core, csr, keys, x509

from signagent.cms import pkcs10
from signagent.cms.pkcs10 import RequestFormatError
from signagent.cms.signer import HostHashing
from signagent.errors import InvalidSignatureFormatError, InvalidTypeError, UnknownAlgorithmError
from signagent.gost import PrivateKey
from signagent.pkcs8 import keyfile
from signagent.x509 import builder as b
from tests.conftest import require
from tests.oracles import openssl_gost as ossl

SUBJECT = [
    ("E", "head@romashka.ru"), ("INN", "500100732259"), ("SNILS", "11223344595"), ("OGRN", "1027700132195"),
    ("INNLE", "7707083893"), ("C", "RU"), ("S", "77 г. Москва"), ("L", "г. Москва"), ("STREET", "ул. Тверская, д. 1"),
    ("O", "ООО «Ромашка»"), ("T", "Генеральный директор"), ("CN", "ООО «Ромашка»"), ("SN", "Иванов"),
    ("G", "Иван Иванович"),
]
EXTENSIONS = [
    b.key_usage("digital_signature", "non_repudiation"),
    b.extended_key_usage("client_auth", "email_protection"),
    b.subject_sign_tool("signagent 0.1.0"),
    b.certificate_policies("1.2.643.100.113.1", "1.2.643.100.113.2"),
]


def _oracle() -> None:
    require(ossl.available() and ossl.openssl_binary(), f"OpenSSL with the GOST engine: {ossl.reason()}")


class FixedK(HostHashing):
    """A signer with the nonce k of the standard's example (known-answer tests only)."""

    def __init__(self, key: PrivateKey, k: int) -> None:
        self._key, self._k = key, k

    def public_key(self):
        return self._key.public_key()

    def sign_digest(self, digest: bytes) -> bytes:
        return self._key._sign_digest_with_k(digest, self._k)


@pytest.fixture(scope="module", params=["tc26-256-A", "tc26-512-B"])
def key(request: pytest.FixtureRequest) -> PrivateKey:
    return PrivateKey.generate(request.param)


@pytest.fixture(scope="module")
def request_der(key: PrivateKey) -> bytes:
    return pkcs10.build_request(SUBJECT, key, extensions=EXTENSIONS).dump()


# ----------------------------------------------------------------------------------------------------------------
# Known answers
# ----------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("example", ["ex256_TestParamSet", "ex256_paramSetA", "ex512_TestParamSet"])
def test_rfc9215_requests_verify(vectors_dir: Path, example: str) -> None:
    info = pkcs10.parse_request((vectors_dir / "rfc9215" / example / "csr.pem").read_bytes())
    assert info.signature_valid
    assert info.subject.get("CN") == "Example"
    assert info.extensions == ()
    assert pkcs10.verify_request((vectors_dir / "rfc9215" / example / "csr.pem").read_bytes())


def test_rfc9215_request_rebuilt_byte_for_byte(vectors_dir: Path) -> None:
    # RFC 9215 appendix A signs its 256-bit TestParamSet request with d and k of GOST R 34.10-2012 example A.1.
    k = int(json.loads((vectors_dir / "gost3410_2012" / "gost3410_2012_examples.json").read_text())
            ["vectors"][0]["k"], 16)
    key = keyfile.load_private_key(vectors_dir / "rfc9215" / "ex256_TestParamSet" / "private_key.pem")
    name = x509.Name(name="", value=x509.RDNSequence([x509.RelativeDistinguishedName([x509.NameTypeAndValue({
        "type": "common_name", "value": x509.DirectoryString(name="printable_string", value="Example")})])]))
    built = pkcs10.build_request(name, FixedK(key, k))
    expected = pkcs10.load_request((vectors_dir / "rfc9215" / "ex256_TestParamSet" / "csr.pem").read_bytes())
    assert built.dump() == expected.dump()


# ----------------------------------------------------------------------------------------------------------------
# Structure
# ----------------------------------------------------------------------------------------------------------------


def test_string_types_and_algorithms(key: PrivateKey, request_der: bytes) -> None:
    req = csr.CertificationRequest.load(request_der)
    info = req["certification_request_info"]
    types = {}
    for rdn in info["subject"].chosen:
        assert len(rdn) == 1  # one attribute per RDN
        tv = rdn[0]
        types[tv["type"].native] = tv["value"].chosen.__class__ if isinstance(tv["value"], core.Choice) \
            else tv["value"].__class__
    for numeric in ("ogrn", "inn", "innle", "snils"):
        assert issubclass(types[numeric], core.NumericString), numeric
    assert issubclass(types["country_name"], core.PrintableString)
    assert issubclass(types["email_address"], core.IA5String)
    for utf8 in ("common_name", "surname", "given_name", "title", "organization_name", "street_address"):
        assert issubclass(types[utf8], core.UTF8String), utf8
    expected_sig = "1.2.643.7.1.1.3.2" if key.curve.size == 32 else "1.2.643.7.1.1.3.3"
    assert req["signature_algorithm"]["algorithm"].dotted == expected_sig
    assert req["signature_algorithm"].contents == algos.SignedDigestAlgorithm(
        {"algorithm": expected_sig}).contents  # no parameters
    assert len(req["signature"].native) == 2 * key.curve.size


def test_parsed_view(key: PrivateKey, request_der: bytes) -> None:
    info = pkcs10.parse_request(request_der)
    assert info.signature_valid
    assert info.public_key == key.public_key()
    assert info.subject.get("ОГРН") == "1027700132195"
    assert info.subject.get("ИНН ЮЛ") == "7707083893"
    by_oid = {e.oid: e for e in info.extensions}
    assert by_oid["2.5.29.15"].critical and set(by_oid["2.5.29.15"].value) == {"digital_signature", "non_repudiation"}
    assert by_oid["2.5.29.37"].value == ["client_auth", "email_protection"]
    assert by_oid["1.2.643.100.111"].value == "signagent 0.1.0"
    assert [p["policy_identifier"] for p in by_oid["2.5.29.32"].value] == ["1.2.643.100.113.1", "1.2.643.100.113.2"]
    as_dict = info.to_dict()
    assert as_dict["signature_valid"] is True and as_dict["public_key"]["curve"] == key.curve.name
    json.dumps(as_dict)


def test_no_extensions_means_empty_attributes() -> None:
    der = pkcs10.build_request([("CN", "x")], PrivateKey.generate("tc26-256-A")).dump()
    info = csr.CertificationRequest.load(der)["certification_request_info"]
    assert info["attributes"].dump() == b"\xa0\x00"  # present (RFC 2986) and empty


def test_tampering_is_detected(request_der: bytes) -> None:
    marker = "директор".encode()
    assert request_der.count(marker) == 1
    changed = request_der.replace(marker, "дирексор".encode())
    assert pkcs10.parse_request(changed).signature_valid is False
    sig_flipped = request_der[:-1] + bytes([request_der[-1] ^ 1])
    assert pkcs10.verify_request(sig_flipped) is False


def test_pem_der_and_bare_base64_inputs(request_der: bytes) -> None:
    pem = pkcs10.request_pem(request_der)
    assert pem.startswith(b"-----BEGIN CERTIFICATE REQUEST-----\n")
    bare = base64.b64encode(request_der)
    for form in (pem, request_der, bare, pem.replace(b"CERTIFICATE REQUEST", b"NEW CERTIFICATE REQUEST")):
        assert pkcs10.verify_request(form)


def test_signer_protocol_and_faulty_signer() -> None:
    key = PrivateKey.generate("tc26-512-A")

    class TokenLike(HostHashing):
        def public_key(self):
            return key.public_key()

        def sign_digest(self, digest: bytes) -> bytes:
            return key.sign_digest(digest)

    assert pkcs10.verify_request(pkcs10.build_request([("CN", "t")], TokenLike()).dump())

    class Broken(TokenLike):
        def sign_digest(self, digest: bytes) -> bytes:
            return bytes(128)

    with pytest.raises(InvalidSignatureFormatError):
        pkcs10.build_request([("CN", "t")], Broken())
    with pytest.raises(InvalidTypeError):
        pkcs10.build_request([("CN", "t")], object())  # type: ignore[arg-type]
    with pytest.raises(InvalidTypeError):
        pkcs10.build_request([("CN", "t")], key, extensions=["keyUsage"])  # type: ignore[list-item]


def test_bad_subject_values_refused() -> None:
    key = PrivateKey.generate("tc26-256-A")
    for subject in ([("OGRN", "12-34")], [("C", "RUS")], [("E", "почта@пример.рф")]):
        with pytest.raises(ValueError):
            pkcs10.build_request(subject, key)


# ----------------------------------------------------------------------------------------------------------------
# OpenSSL both ways
# ----------------------------------------------------------------------------------------------------------------


@pytest.mark.oracle
def test_openssl_accepts_ours(tmp_path: Path, key: PrivateKey, request_der: bytes) -> None:
    _oracle()
    path = tmp_path / "ours.csr"
    path.write_bytes(pkcs10.request_pem(request_der))
    out = ossl.run_cli(["req", "-verify", "-in", str(path), "-noout", "-text"])
    assert out.returncode == 0, out.stderr
    assert b"self-signature verify OK" in out.stderr
    text = out.stdout.decode()
    assert "Digital Signature, Non Repudiation" in text and "KC1" in text.replace("КС1", "KC1")
    # and a changed request is refused by OpenSSL too
    # (OpenSSL 3.0's `req -verify` exits 0 either way: the verdict is the message.)
    path.write_bytes(request_der.replace("директор".encode(), "дирексор".encode()))
    bad = ossl.run_cli(["req", "-verify", "-in", str(path), "-inform", "DER", "-noout"])
    assert b"verify failure" in bad.stderr and b"verify OK" not in bad.stderr


@pytest.mark.oracle
@pytest.mark.parametrize(("algorithm", "paramset"), [("gost2012_256", "A"), ("gost2012_512", "C")])
def test_we_verify_openssl_requests(tmp_path: Path, algorithm: str, paramset: str) -> None:
    _oracle()
    k, r = tmp_path / "k.pem", tmp_path / "r.csr"
    ossl.run_cli(["genpkey", "-algorithm", algorithm, "-pkeyopt", f"paramset:{paramset}", "-out", str(k)],
                 check=True)
    out = ossl.run_cli(["req", "-new", "-key", str(k), "-subj", "/CN=Иванов/O=Ромашка/C=RU", "-utf8",
                        "-addext", "keyUsage=critical,digitalSignature,nonRepudiation",
                        "-addext", "extendedKeyUsage=clientAuth", "-out", str(r)])
    assert out.returncode == 0, out.stderr
    info = pkcs10.parse_request(r.read_bytes())
    assert info.signature_valid
    assert info.public_key == keyfile.load_private_key(k).public_key()
    assert info.subject.get("CN") == "Иванов"
    assert {e.oid for e in info.extensions} == {"2.5.29.15", "2.5.29.37"}


# ----------------------------------------------------------------------------------------------------------------
# Malformed and foreign input
# ----------------------------------------------------------------------------------------------------------------


def test_malformed_requests(request_der: bytes) -> None:
    pem = pkcs10.request_pem(request_der)
    for bad in (request_der[:-10], request_der[:20], pem[:-40], b"", b"\x00\x01 garbage",
                pem.replace(b"CERTIFICATE REQUEST", b"CERTIFICATE"), pem.replace(b"MII", b"M!I", 1),
                request_der + b"\x00"):
        with pytest.raises(RequestFormatError) as err:
            pkcs10.parse_request(bad)
        # Truncated or trailing bytes fail the strict-DER check (issue 10) before anything else.
        assert err.value.code in ("csr_malformed", "not_der")
    with pytest.raises(InvalidTypeError):
        pkcs10.parse_request("text")  # type: ignore[arg-type]


def test_rsa_request_is_an_algorithm_error() -> None:
    spki = keys.PublicKeyInfo({"algorithm": {"algorithm": "rsa"},
                               "public_key": keys.RSAPublicKey({"modulus": 3233, "public_exponent": 17})})
    info = csr.CertificationRequestInfo({"version": "v1", "subject": x509.Name.build({"common_name": "rsa"}),
                                         "subject_pk_info": spki, "attributes": []})
    req = csr.CertificationRequest({"certification_request_info": info,
                                    "signature_algorithm": {"algorithm": "sha256_rsa"}, "signature": b"\x01" * 8})
    with pytest.raises(UnknownAlgorithmError):
        pkcs10.verify_request(req.dump())

"""Known answers of GOST R 34.10-2012: the standard's examples and the RFC 9215 / TC 26 example PKI objects.

* Appendix A examples A.1 (256-bit test curve) and A.2 (512-bit test curve), from
  ``vectors/gost3410_2012/gost3410_2012_examples.json`` (same values in RFC 7091 section 7; example A.1 is also
  the GOST R 34.10-2001 example of RFC 5832 section 7, so it covers the 2001 algorithm too), through the public
  API and directly against every curve engine module (the pure-Python reference, and the C core once it exists).
* The example certificates, requests and CRLs of RFC 9215 Appendix A and of the TC 26 recommendations: the
  public key in each SubjectPublicKeyInfo equals the one derived from the published private key, each signature
  verifies, and the RFC 9215 signatures -- made with the nonce k of examples A.1/A.2 -- are reproduced exactly.

The small DER reader below is shared with the other GOST tests (they import it from here).
"""

from __future__ import annotations

import base64
import importlib
import json
from pathlib import Path

import pytest

from signagent.errors import InvalidKeyError
from signagent.gost import _ec_ref, curves
from signagent.gost.keys import PrivateKey, PublicKey
from tests.conftest import require
from tests.der import children as der_children
from tests.der import read as der_read

# --- a minimal DER reader (definite lengths only, which is all DER has) ------------------------------------------


def der_raw_children(content: bytes) -> list[bytes]:
    """The complete TLV encodings of a constructed value's items (what a signature covers)."""
    items = []
    pos = 0
    while pos < len(content):
        start = pos
        pos = der_read(content, pos)[2]
        items.append(content[start:pos])
    return items


def der_oid(content: bytes) -> str:
    """Dotted form of an OBJECT IDENTIFIER's content (X.690 8.19)."""
    arcs: list[int] = []
    value = 0
    for byte in content:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            arcs.append(value)
            value = 0
    first = min(arcs[0] // 40, 2)
    return ".".join(str(a) for a in [first, arcs[0] - 40 * first, *arcs[1:]])


def pem_to_der(path: Path) -> bytes:
    """The DER inside a single-object PEM file."""
    lines = path.read_text().strip().splitlines()
    return base64.b64decode("".join(line for line in lines if not line.startswith("-----")))


def pkcs8_curve_and_d(der: bytes) -> tuple[str, bytes]:
    """(parameter set OID, d little-endian) of a GOST PKCS#8 PrivateKeyInfo.

    The privateKey OCTET STRING holds d little-endian (OpenSSL GOST engine), or an inner OCTET STRING of the same,
    or an INTEGER (big-endian) -- vectors/README.md says a reader should accept all three.
    """
    version, algorithm, private = der_children(der_read(der)[1])[:3]
    assert version == (0x02, b"\x00") and private[0] == 0x04
    params = der_children(der_children(algorithm[1])[1][1])
    paramset = der_oid(params[0][1])
    value = private[1]
    # 32 or 64 bytes is the raw layout (what OpenSSL writes), even when they happen to parse as a TLV: a random d
    # starting 04 1E or 02 1E would otherwise be misread as a nested 30-byte value (seen once in CI).
    if len(value) not in (32, 64) and value[:1] in (b"\x04", b"\x02") and der_read(value)[2] == len(value):
        tag, inner, _ = der_read(value)
        value = inner if tag == 0x04 else int.from_bytes(inner, "big").to_bytes(len(inner), "little").rstrip(b"\0")
    return paramset, value


def spki_curve_and_point(spki: bytes) -> tuple[str, bytes]:
    """(parameter set OID, X||Y little-endian) of a GOST SubjectPublicKeyInfo (TLV encoding)."""
    algorithm, bitstring = der_children(der_read(spki)[1])
    params = der_children(der_children(algorithm[1])[1][1])
    assert bitstring[0] == 0x03 and bitstring[1][0] == 0  # no unused bits
    tag, point, _ = der_read(bitstring[1], 1)  # RFC 9215 section 4.3: the BIT STRING holds an OCTET STRING
    assert tag == 0x04
    return der_oid(params[0][1]), point


# --- engine modules ------------------------------------------------------------------------------------------------


def _engine_modules() -> list[object]:
    """The pure-Python reference always; the C core when it provides CurveEngine (until then: skipped)."""
    params: list[object] = [pytest.param(_ec_ref, id="ref")]
    try:
        native = importlib.import_module("signagent.gost._ec_c")
    except ImportError:
        native = None
    if native is not None and hasattr(native, "CurveEngine"):
        params.append(pytest.param(native, id="native"))
    else:
        params.append(pytest.param(None, id="native", marks=pytest.mark.skip(reason="_ec_c has no CurveEngine yet")))
    return params


ENGINE_MODULES = _engine_modules()


# --- the examples of GOST R 34.10-2012 Appendix A -----------------------------------------------------------------


class Example:
    """One Appendix A example, with the curve looked up by the example's OID and every value as bytes."""

    def __init__(self, vector: dict, vectors_dir: Path) -> None:
        self.id = vector["id"]
        self.curve = curves.curve(vector["curve"]["oid"])
        n = self.curve.size
        self.size = n

        def be(name: str) -> bytes:
            return bytes.fromhex(vector[name]).rjust(n, b"\0")

        self.d_be, self.qx_be, self.qy_be = be("d"), be("Qx"), be("Qy")
        self.k = int(vector["k"], 16)
        self.k_be, self.r_be, self.s_be = be("k"), be("r"), be("s")
        self.alpha = int(vector["e_alpha"], 16)
        derived = vector["derived_encodings"]
        self.digest = bytes.fromhex(derived["digest_bytes_as_output_by_streebog (alpha little-endian)"])
        self.signature = bytes.fromhex(derived["signature_s_concat_r_be_hex (X.509/CMS/pygost/OpenSSL layout)"])
        self.public_raw = bytes.fromhex(derived["public_key_octets_x_le_y_le (content of SPKI inner OCTET STRING)"])
        self.curve_json = vector["curve"]
        stem = "A1_256" if n == 32 else "A2_512"
        self.files = {kind: vectors_dir / "gost3410_2012" / f"{stem}_{kind}" for kind in
                      ("private_key.pem", "public_key.pem", "digest.bin", "signature_s_r.bin")}  # fmt: skip

    @property
    def e_be(self) -> bytes:
        e = self.alpha % self.curve.q
        return (e or 1).to_bytes(self.size, "big")


@pytest.fixture(scope="module", params=[0, 1], ids=["A.1-256", "A.2-512"])
def example(request: pytest.FixtureRequest, vectors_dir: Path) -> Example:
    data = json.loads((vectors_dir / "gost3410_2012" / "gost3410_2012_examples.json").read_text())
    return Example(data["vectors"][request.param], vectors_dir)


def test_example_curve_matches_our_table(example: Example) -> None:
    cj = example.curve_json
    c = example.curve
    assert (c.p, c.a, c.b, c.q, c.x, c.y) == tuple(int(cj[k], 16) for k in ("p", "a", "b", "q", "Px", "Py"))
    assert c.m == int(cj["m"], 16)


def test_example_internal_consistency(example: Example) -> None:
    """The derived encodings in the JSON are the byte-order transforms of the standard's numbers."""
    assert int.from_bytes(example.digest, "little") == example.alpha
    assert example.signature == example.s_be + example.r_be
    assert example.public_raw == example.qx_be[::-1] + example.qy_be[::-1]


@pytest.mark.parametrize("module", ENGINE_MODULES)
def test_engine_public_key(module: object, example: Example) -> None:
    engine = example.curve.make_engine(module)
    assert engine.size == example.size
    assert engine.public_key(example.d_be) == example.qx_be + example.qy_be
    assert engine.check_point(example.qx_be, example.qy_be)


@pytest.mark.parametrize("module", ENGINE_MODULES)
def test_engine_sign_with_the_examples_k(module: object, example: Example) -> None:
    engine = example.curve.make_engine(module)
    assert engine.sign(example.d_be, example.e_be, example.k_be) == example.s_be + example.r_be


@pytest.mark.parametrize("module", ENGINE_MODULES)
def test_engine_verify(module: object, example: Example) -> None:
    engine = example.curve.make_engine(module)
    qx, qy, e, sig = example.qx_be, example.qy_be, example.e_be, example.signature
    assert engine.verify(qx, qy, e, sig) is True
    # One changed bit anywhere (s, r, e) must fail; so must the swapped halves (the r||s layout of gostcrypto).
    n = example.size
    for i in (0, n - 1, n, 2 * n - 1):
        bad = bytearray(sig)
        bad[i] ^= 0x01
        assert engine.verify(qx, qy, e, bytes(bad)) is False
    assert engine.verify(qx, qy, e, sig[n:] + sig[:n]) is False
    other_e = (int.from_bytes(e, "big") ^ 1 or 2).to_bytes(n, "big")
    assert engine.verify(qx, qy, other_e, sig) is False


@pytest.mark.parametrize("module", ENGINE_MODULES)
def test_engine_random_nonce_signatures_verify(module: object, example: Example) -> None:
    engine = example.curve.make_engine(module)
    sigs = {engine.sign(example.d_be, example.e_be) for _ in range(3)}
    assert len(sigs) == 3  # a fresh nonce each time
    assert all(engine.verify(example.qx_be, example.qy_be, example.e_be, sig) for sig in sigs)


def test_public_api_known_answers(example: Example) -> None:
    key = PrivateKey.from_bytes(example.curve, example.d_be[::-1])
    public = key.public_key()
    assert public.to_bytes() == example.public_raw
    assert (public.x, public.y) == (int.from_bytes(example.qx_be, "big"), int.from_bytes(example.qy_be, "big"))
    assert key._sign_digest_with_k(example.digest, example.k) == example.signature
    imported = PublicKey.from_bytes(example.curve.oid, example.public_raw)
    assert imported == public
    assert imported.verify_digest(example.digest, example.signature) is True
    assert imported.verify_digest(example.digest, key.sign_digest(example.digest)) is True


def test_example_files(example: Example) -> None:
    """The PEM/raw files of the examples carry the same values in the byte orders of vectors/README.md."""
    paramset, d_le = pkcs8_curve_and_d(pem_to_der(example.files["private_key.pem"]))
    assert paramset == example.curve.oid and d_le == example.d_be[::-1]
    paramset, point = spki_curve_and_point(pem_to_der(example.files["public_key.pem"]))
    assert paramset == example.curve.oid and point == example.public_raw
    digest = example.files["digest.bin"].read_bytes()
    signature = example.files["signature_s_r.bin"].read_bytes()
    assert (digest, signature) == (example.digest, example.signature)
    key = PrivateKey.from_bytes(paramset, d_le)
    assert key.public_key() == PublicKey.from_bytes(paramset, point)
    assert key.public_key().verify_digest(digest, signature)


# --- RFC 9215 and TC 26 example certificates, requests and CRLs --------------------------------------------------


def _streebog(size: int, data: bytes) -> bytes:
    """Streebog from the project's own backend (another module; skip if it is not there yet)."""
    try:
        from signagent.gost._backend import streebog_impl
    except ImportError:  # pragma: no cover - only while the Streebog modules are being written
        streebog_impl = None
    require(streebog_impl is not None and hasattr(streebog_impl, "Streebog"), "signagent Streebog backend")
    return streebog_impl.Streebog(size, data).digest()


def _signed_object(der: bytes) -> tuple[bytes, bytes, bytes]:
    """(to-be-signed TLV, its content, signature s||r) of a Certificate, CertificationRequest or CertificateList."""
    outer = der_read(der)[1]
    tbs_tlv, _alg, sig_tlv = der_raw_children(outer)
    tag, bits, _ = der_read(sig_tlv)
    assert tag == 0x03 and bits[0] == 0
    return tbs_tlv, der_read(tbs_tlv)[1], bits[1:]


def _certificate_spki(tbs_content: bytes) -> bytes:
    items = der_raw_children(tbs_content)
    if items[0][0] == 0xA0:  # [0] version present
        items = items[1:]
    return items[5]  # serialNumber, signature, issuer, validity, subject, subjectPublicKeyInfo


RFC9215_CASES = ["ex256_TestParamSet", "ex256_paramSetA", "ex512_TestParamSet"]


@pytest.mark.parametrize("case", RFC9215_CASES)
def test_rfc9215_examples(case: str, vectors_dir: Path) -> None:
    folder = vectors_dir / "rfc9215" / case
    meta = {v["id"]: v for v in json.loads((vectors_dir / "rfc9215" / "rfc9215_examples.json").read_text())["vectors"]}
    vector = meta[case]
    c = curves.curve(vector["curve_oid"])
    assert c is curves.curve(vector["curve"])
    paramset, d_le = pkcs8_curve_and_d(pem_to_der(folder / "private_key.pem"))
    assert paramset == c.oid and d_le[::-1].hex().upper() == vector["private_key_d_be"]
    if int.from_bytes(d_le, "little") >= c.q:
        # The paramSetA example reuses the test curve's d, which exceeds this curve's q (about 2^254): strict
        # import refuses it, the explicit opt-in reduces it like OpenSSL's GOST engine does.
        with pytest.raises(InvalidKeyError):
            PrivateKey.from_bytes(c, d_le)
        key = PrivateKey.from_bytes(c, d_le, reduce_mod_q=True)
        assert int.from_bytes(key.to_bytes(), "little") == int.from_bytes(d_le, "little") % c.q
    else:
        key = PrivateKey.from_bytes(c, d_le)
    public = key.public_key()
    assert (public.x, public.y) == (int(vector["Qx"], 16), int(vector["Qy"], 16))

    examples = json.loads((vectors_dir / "gost3410_2012" / "gost3410_2012_examples.json").read_text())["vectors"]
    # On the test curves RFC 9215 reused the nonce k of examples A.1 / A.2 (the r halves equal the examples' r), so
    # those signatures are reproduced exactly; the paramSetA example used another nonce and is only verified.
    example = examples[0 if c.size == 32 else 1]
    reuses_k = c.oid == example["curve"]["oid"]
    k = int(example["k"], 16)
    for kind in ("certificate", "csr", "crl"):
        tbs_tlv, tbs, signature = _signed_object(pem_to_der(folder / f"{kind}.pem"))
        assert signature.hex().upper() == vector[f"{kind}_signature_s_r"]
        if kind != "crl":
            spki = _certificate_spki(tbs) if kind == "certificate" else der_raw_children(tbs)[2]
            paramset, point = spki_curve_and_point(spki)
            assert paramset == c.oid
            assert PublicKey.from_bytes(c, point) == public
        digest = _streebog(c.size, tbs_tlv)
        assert public.verify_digest(digest, signature), kind
        if reuses_k:
            assert signature[c.size :].hex().upper() == example["r"]
            assert key._sign_digest_with_k(digest, k) == signature, kind
        assert not public.verify_digest(_streebog(c.size, tbs_tlv + b"\0"), signature)


@pytest.mark.parametrize("bits", ["256", "512"])
def test_tc26_example_certificates(bits: str, vectors_dir: Path) -> None:
    folder = vectors_dir / "tc26" / bits
    meta = json.loads((vectors_dir / "tc26" / "tc26_examples.json").read_text())["vectors"][0 if bits == "256" else 1]
    paramset, d_le = pkcs8_curve_and_d(pem_to_der(folder / "private_key.pem"))
    c = curves.curve(paramset)
    assert c.oid == meta["spki_paramset"].split()[0]
    assert d_le[::-1].hex().upper() == meta["private_key_d_be"]
    public = PrivateKey.from_bytes(c, d_le).public_key()
    assert (public.x, public.y) == (int(meta["Qx"], 16), int(meta["Qy"], 16))

    tbs_tlv, tbs, signature = _signed_object(pem_to_der(folder / "certificate.pem"))
    spki_paramset, point = spki_curve_and_point(_certificate_spki(tbs))
    assert curves.curve(spki_paramset) is c
    assert PublicKey.from_bytes(c, point) == public
    assert public.verify_digest(_streebog(c.size, tbs_tlv), signature)

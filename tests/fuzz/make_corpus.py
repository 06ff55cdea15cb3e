"""Make the fuzz seed corpus in tests/fuzz/corpus/ (run once; the output is committed, see corpus/README.md).

    .venv/bin/python -m tests.fuzz.make_corpus [OUT_DIR]

Everything the fuzz targets start from, made by the project itself and by OpenSSL's GOST engine, with a fixed
seed for the test PKI's keys and serials. The validation time the targets use (``meta.json`` "at") is one day after
the PKI's "now": inside every certificate's validity and before the intermediate CRL's nextUpdate, so the seeds
validate as VALID at that fixed time forever (the suite never reads the clock).
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import sys
import tempfile
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from pathlib import Path

from asn1crypto import pem

from signagent.cms.pkcs10 import build_request
from signagent.cms.signer import SoftwareSigner
from signagent.cms.signing import sign
from signagent.pkcs8.keyfile import encode_private_key, encrypt_private_key
from signagent.testpki import generate
from signagent.trust.store import TrustStore
from signagent.x509 import load_certificate
from tests.oracles import openssl_gost

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
SEED = "signagent-fuzz-corpus-1"
PASSWORD = "fuzz-пароль-1"  # noqa: S105  (the test key file's password, in meta.json too)
CONTENT = "Заявление на регистрацию организации ООО «Ромашка»\n".encode()


def _openssl(args: list[str], cwd: Path) -> None:
    done = openssl_gost.run_cli(args, cwd=cwd)
    if done.returncode != 0:
        raise SystemExit(f"openssl {' '.join(args)} failed: {done.stderr.decode(errors='replace')}")


def _der_of_pem(path: Path) -> bytes:
    return pem.unarmor(path.read_bytes())[2]


def _tsl(root_der: bytes, inter_der: bytes, crl_url: str) -> bytes:
    """A small accredited-CA list in the e-trust.gosuslugi.ru layout naming the test PKI's root and intermediate."""
    top = ET.Element("АккредитованныеУдостоверяющиеЦентры")
    ET.SubElement(top, "Версия").text = "101"
    ET.SubElement(top, "Дата").text = "2026-11-01T10:00:00.000+03:00"
    ca = ET.SubElement(top, "УдостоверяющийЦентр")
    for tag, text in (("Название", "Тестовый УЦ"), ("ЭлектроннаяПочта", "ca@example.ru"), ("КраткоеНазвание", "ТУЦ"),
                      ("ИНН", "7700000000"), ("ОГРН", "1027700000000"), ("РеестровыйНомер", "1")):
        ET.SubElement(ca, tag).text = text
    status = ET.SubElement(ca, "СтатусАккредитации")
    ET.SubElement(status, "Статус").text = "Действует"
    ET.SubElement(status, "ДействуетС").text = "2021-07-01T00:00:00+03:00"
    paks = ET.SubElement(ca, "ПрограммноАппаратныеКомплексы")
    pak = ET.SubElement(paks, "ПрограммноАппаратныйКомплекс")
    ET.SubElement(pak, "Псевдоним").text = "test"
    keys = ET.SubElement(pak, "КлючиУполномоченныхЛиц")
    for der in (root_der, inter_der):
        key = ET.SubElement(keys, "Ключ")
        ET.SubElement(key, "ИдентификаторКлюча").text = hashlib.sha1(der).hexdigest()  # noqa: S324
        ET.SubElement(ET.SubElement(key, "АдресаСписковОтзыва"), "Адрес").text = crl_url
        data = ET.SubElement(ET.SubElement(key, "Сертификаты"), "ДанныеСертификата")
        ET.SubElement(data, "Отпечаток").text = hashlib.sha1(der).hexdigest().upper()  # noqa: S324
        ET.SubElement(data, "КомуВыдан").text = "CN=test"
        ET.SubElement(data, "СерийныйНомер").text = "01"
        ET.SubElement(data, "Данные").text = base64.b64encode(der).decode()
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(top, encoding="utf-8", xml_declaration=False)


def _manifest(root_der: bytes, root_cert) -> bytes:  # type: ignore[no-untyped-def]
    """The project's manifest (first two official anchors) plus an anchor pinning the test PKI's root."""
    doc = json.loads((ROOT / "certs" / "manifest.json").read_text(encoding="utf-8"))
    doc["anchors"] = doc["anchors"][:2]
    not_before, not_after = root_cert.not_before, root_cert.not_after
    doc["anchors"].append({
        "id": "fuzz-test-root",
        "subject": {"CN": "test root"},
        "serial": "01",
        "not_before": not_before.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "not_after": not_after.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "signature_algorithm": "gost3410-2012-512/streebog512",
        "subject_key_identifier": "00",
        "sha256": hashlib.sha256(root_der).hexdigest(),
        "sha1": hashlib.sha1(root_der).hexdigest().upper(),  # noqa: S324
        "urls": [{"url": "http://127.0.0.1:1/root.cer", "verified": False, "source": "fuzz corpus"}],
    })
    return json.dumps(doc, ensure_ascii=False, indent=1).encode() + b"\n"


def make(out: Path) -> None:
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    at = now + timedelta(days=1)
    work = Path(tempfile.mkdtemp(prefix="fuzz-corpus-"))
    try:
        pki = generate(work / "pki", now=now, seed=SEED, base_url="http://127.0.0.1:1/fuzz/")
        out.mkdir(parents=True, exist_ok=True)
        files: dict[str, bytes] = {}
        files["root.der"] = pki.root.der
        files["inter.der"] = pki.intermediate.der
        for name in ("head", "employee", "revoked"):
            files[f"{name}.der"] = pki[name].der
        files["crl_inter.der"] = pki.crls[pki.intermediate.name].der
        files["crl_root.der"] = pki.crls[pki.root.name].der

        # OpenSSL: an end-entity certificate issued with the intermediate's key, a CMS, a key, a request
        d = work / "ossl"
        d.mkdir()
        (d / "inter.pem").write_bytes(pki.intermediate.pem)
        shutil.copy(pki.intermediate.paths["key"], d / "inter.key")
        shutil.copy(pki["head"].paths["key"], d / "head.key")
        (d / "head.pem").write_bytes(pki["head"].pem)
        (d / "content.bin").write_bytes(CONTENT)
        (d / "ext.cnf").write_text("keyUsage=critical,digitalSignature,nonRepudiation\nbasicConstraints=CA:FALSE\n"
                                   "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n")
        _openssl(["genpkey", "-algorithm", "gost2012_256", "-pkeyopt", "paramset:A", "-out", "ee.key"], d)
        _openssl(["req", "-new", "-key", "ee.key", "-subj", "/CN=OpenSSL fuzz seed/O=Fuzz/C=RU", "-out",
                  "ee.csr", "-outform", "DER"], d)
        _openssl(["x509", "-req", "-inform", "DER", "-in", "ee.csr", "-CA", "inter.pem", "-CAkey", "inter.key",
                  "-set_serial", "0x7E57", "-days", "300", "-extfile", "ext.cnf", "-outform", "DER",
                  "-out", "ee.der"], d)
        files["ossl_ee.der"] = (d / "ee.der").read_bytes()
        files["csr_openssl.der"] = (d / "ee.csr").read_bytes()
        _openssl(["pkey", "-in", "ee.key", "-outform", "DER", "-out", "ee_key.der"], d)
        files["key_openssl.der"] = (d / "ee_key.der").read_bytes()
        _openssl(["cms", "-sign", "-binary", "-nodetach", "-cades", "-in", "content.bin", "-signer", "head.pem",
                  "-inkey", "head.key", "-outform", "DER", "-out", "ossl.p7s"], d)
        files["cms_openssl.der"] = (d / "ossl.p7s").read_bytes()
        _openssl(["cms", "-sign", "-binary", "-nodetach", "-stream", "-in", "content.bin", "-signer", "head.pem",
                  "-inkey", "head.key", "-outform", "DER", "-out", "ossl_ber.p7s"], d)
        files["cms_openssl_ber.der"] = (d / "ossl_ber.p7s").read_bytes()

        # the project's own
        head = load_certificate(pki["head"].der)
        signer = SoftwareSigner(head, pki["head"].key)
        when = now + timedelta(hours=2)
        files["cms_attached.der"] = sign(CONTENT, signer, signing_time=when)
        files["cms_detached.der"] = sign(CONTENT, signer, detached=True, signing_time=when)
        files["content.bin"] = CONTENT
        files["key_plain.der"] = encode_private_key(pki["head"].key)
        files["key_encrypted.der"] = encrypt_private_key(pki["head"].key, PASSWORD, iterations=2000)
        files["csr.der"] = build_request([("CN", "Фаззинг Тест"), ("O", "ООО «Ромашка»"), ("C", "RU")],
                                         pki["employee"].key).dump()
        files["tsl.xml"] = _tsl(pki.root.der, pki.intermediate.der, pki.urls[f"crl_{pki.intermediate.name}"])
        files["manifest.json"] = _manifest(pki.root.der, load_certificate(pki.root.der))

        store = TrustStore(work / "store")
        store.add_root(pki.root.der)
        store.add_intermediate(pki.intermediate.der)
        store.add_crl(files["crl_inter.der"])
        store_out = out / "store"
        if store_out.exists():
            shutil.rmtree(store_out)
        shutil.copytree(work / "store", store_out, ignore=shutil.ignore_patterns("*.lock", ".lock*"))

        for name, data in files.items():
            (out / name).write_bytes(data)
        meta = {"at": at.strftime("%Y-%m-%dT%H:%M:%SZ"), "pki_now": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "seed": SEED, "password": PASSWORD, "signing_time": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "revoked_serial": pki["revoked"].serial_hex if hasattr(pki["revoked"], "serial_hex") else None}
        (out / "meta.json").write_text(json.dumps(meta, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def add_ocsp(out: Path) -> None:
    """Add OCSP responses (signed by the intermediate itself, no nonce, valid for ten years from the PKI's "now")
    for the head's and the revoked certificate to an existing corpus: the intermediate's key is re-derived from the
    corpus seed (the test PKI's keys depend on the seed alone), so the other files stay as they are."""
    from asn1crypto import x509 as asn1_x509

    from signagent.testpki import OcspIssuer, OcspResponder, Revocation
    from signagent.trust.revocation import ocsp_request

    meta = json.loads((out / "meta.json").read_text(encoding="utf-8"))
    now = datetime.fromisoformat(meta["pki_now"].replace("Z", "+00:00"))
    work = Path(tempfile.mkdtemp(prefix="fuzz-ocsp-"))
    try:
        pki = generate(work / "pki", now=now, seed=meta["seed"], base_url="http://127.0.0.1:1/fuzz/")
        inter = asn1_x509.Certificate.load((out / "inter.der").read_bytes())
        if pki.intermediate.key.public_key().to_bytes() != inter["tbs_certificate"]["subject_public_key_info"][
                "public_key"].parsed.native:
            raise SystemExit("the corpus seed no longer gives the corpus intermediate's key")
        head = asn1_x509.Certificate.load((out / "head.der").read_bytes())
        revoked = asn1_x509.Certificate.load((out / "revoked.der").read_bytes())
        revocation = Revocation(revoked.serial_number, now - timedelta(days=2), "key_compromise", "revoked")
        responder = OcspResponder([OcspIssuer(inter, pki.intermediate.key, {revoked.serial_number: revocation})],
                                  clock=lambda: now, validity=timedelta(days=3650))
        for name, cert in (("ocsp_good.der", head), ("ocsp_revoked.der", revoked)):
            (out / name).write_bytes(responder.respond(ocsp_request(cert, inter).dump()))
    finally:
        shutil.rmtree(work, ignore_errors=True)


def add_cms_chain(out: Path) -> None:
    """Add cms_chain.der: the head's CAdES-BES signature carrying the intermediate and the root too (mutations of
    the root copy and the intermediate inside the CMS then reach the chain builder's pool)."""
    from signagent.pkcs8.keyfile import load_private_key

    meta = json.loads((out / "meta.json").read_text(encoding="utf-8"))
    when = datetime.fromisoformat(meta["signing_time"].replace("Z", "+00:00"))
    head = load_certificate((out / "head.der").read_bytes())
    signer = SoftwareSigner(head, load_private_key((out / "key_plain.der").read_bytes()))
    chain = [load_certificate((out / name).read_bytes()) for name in ("inter.der", "root.der")]
    (out / "cms_chain.der").write_bytes(sign(CONTENT, signer, certificates=chain, signing_time=when))


if __name__ == "__main__":
    target = Path(sys.argv[-1]) if len(sys.argv) > 1 and not sys.argv[-1].startswith("--") else HERE / "corpus"
    if "--add-ocsp" in sys.argv:
        add_ocsp(target)
    elif "--add-cms-chain" in sys.argv:
        add_cms_chain(target)
    else:
        make(target)
        add_ocsp(target)
        add_cms_chain(target)

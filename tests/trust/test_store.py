"""The trust store: round trips on the real state-PKI certificates, refusals, atomic writes, inter-process locking."""

from __future__ import annotations

import fcntl
import hashlib
import json
import multiprocessing
import os
import time
from datetime import UTC, datetime
from pathlib import Path

import platformdirs
import pytest
from asn1crypto import core, keys, pem, x509
from asn1crypto import crl as asn1_crl

import signagent.asn1  # noqa: F401
from signagent import gost
from signagent.errors import CertificateFormatError, CrlFormatError, InvalidInputError, TrustStoreError
from signagent.trust import store as store_module
from signagent.trust.store import (
    NotCaCertificateError,
    NotSelfSignedError,
    TrustEntryNotFoundError,
    TrustStore,
)
from signagent.x509 import Certificate
from tests.conftest import require
from tests.oracles import openssl_gost

CURVE = "1.2.643.2.2.35.1"  # CryptoPro-A, as in the real roots


def make_certificate(*, ca: bool | None, self_signed: bool = True, key_usage: set[str] | None = None,
                     common_name: str = "Тестовый УЦ") -> bytes:
    """A GOST 2012-256 certificate made here with signagent.gost (no oracle needed), DER."""
    key = gost.PrivateKey.generate(gost.curve(CURVE))
    spki = keys.PublicKeyInfo({
        "algorithm": {"algorithm": "1.2.643.7.1.1.1.1",
                      "parameters": {"public_key_param_set": CURVE, "digest_param_set": "1.2.643.7.1.1.2.2"}},
        "public_key": core.ParsableOctetBitString(core.OctetString(key.public_key().to_bytes()).dump()),
    })
    subject = x509.Name.build({"common_name": common_name, "organization_name": "Тест"})
    issuer = subject if self_signed else x509.Name.build({"common_name": "Другой УЦ"})
    extensions = []
    if ca is not None:
        extensions.append({"extn_id": "basic_constraints", "critical": True, "extn_value": {"ca": ca}})
    if key_usage is not None:
        extensions.append({"extn_id": "key_usage", "critical": True, "extn_value": key_usage})
    tbs = x509.TbsCertificate({
        "version": "v3", "serial_number": int.from_bytes(os.urandom(8), "big"),
        "signature": {"algorithm": "1.2.643.7.1.1.3.2"}, "issuer": issuer,
        "validity": {"not_before": x509.Time({"utc_time": datetime(2024, 1, 1, tzinfo=UTC)}),
                     "not_after": x509.Time({"utc_time": datetime(2034, 1, 1, tzinfo=UTC)})},
        "subject": subject, "subject_public_key_info": spki, "extensions": extensions or None,
    })
    signature = key.sign_digest(gost.streebog256(tbs.dump()).digest())
    return x509.Certificate({"tbs_certificate": tbs, "signature_algorithm": {"algorithm": "1.2.643.7.1.1.3.2"},
                             "signature_value": signature}).dump()


def make_crl(issuer_der: bytes, this_update: datetime) -> bytes:
    """A CRL naming ``issuer_der``'s subject (the store does not check CRL signatures: any bytes will do)."""
    issuer = x509.Certificate.load(issuer_der).subject
    tbs = asn1_crl.TbsCertList({
        "version": "v2", "signature": {"algorithm": "1.2.643.7.1.1.3.2"}, "issuer": issuer,
        "this_update": x509.Time({"utc_time": this_update}),
        "next_update": x509.Time({"utc_time": this_update.replace(year=this_update.year + 1)}),
    })
    return asn1_crl.CertificateList({"tbs_cert_list": tbs, "signature_algorithm": {"algorithm": "1.2.643.7.1.1.3.2"},
                                     "signature": b"\x01" * 64}).dump()


@pytest.fixture(scope="module")
def real(real_pki_dir: Path) -> dict[str, bytes]:
    """Real PEM files by name (without the .pem suffix)."""
    folder = real_pki_dir
    return {p.stem: p.read_bytes() for p in sorted(folder.glob("*.pem"))}


def der_of(pem_bytes: bytes) -> bytes:
    return pem.unarmor(pem_bytes)[2]


def sha1(der: bytes) -> str:
    return hashlib.sha1(der).hexdigest().upper()  # noqa: S324


def roots_of(real: dict[str, bytes]) -> dict[str, bytes]:
    return {k: v for k, v in real.items() if k.startswith("root_")}


def intermediates_of(real: dict[str, bytes]) -> dict[str, bytes]:
    return {k: v for k, v in real.items() if k.startswith(("ca_", "cross_"))}


# --- round trips on real data ------------------------------------------------------------------------------------

def test_real_roots_intermediates_and_crl_round_trip(tmp_path, real):
    store = TrustStore(tmp_path / "store")
    for name, data in roots_of(real).items():
        assert store.add_root(data, source="test").status == "added", name
    outcomes = store.add_certificates([(data, "intermediate") for data in intermediates_of(real).values()])
    assert [o.status for o in outcomes] == ["added"] * 15
    assert store.add_crl(real["crl_guc2012_gost2001_2018-05-24"]).status == "added"

    # A fresh object on the same directory sees everything (the index is the truth, not the object).
    again = TrustStore(tmp_path / "store")
    entries = again.list()
    assert [e.kind for e in entries] == ["root"] * 6 + ["intermediate"] * 15 + ["crl"]
    assert {e.sha1 for e in entries if e.kind == "root"} == {sha1(der_of(v)) for v in roots_of(real).values()}
    assert {c.der for c in again.roots()} == {der_of(v) for v in roots_of(real).values()}
    assert {c.der for c in again.intermediates()} == {der_of(v) for v in intermediates_of(real).values()}
    assert again.crls()[0].dump() == der_of(real["crl_guc2012_gost2001_2018-05-24"])

    fns = again.find("e5:aa:19:38:ed:28:e0:03:b7:fe:fe:f4:ea:ae:4c:e7:a9:79:a4:79")
    assert fns is not None and fns.kind == "intermediate"
    assert fns.subject_cn == "Федеральная налоговая служба" and "OGRN=1047707030513" in fns.subject
    assert fns.serial == "ABBB15E6000000000648"
    assert fns.not_before == "2022-04-19T08:55:47Z" and fns.not_after == "2037-04-19T08:55:47Z"
    assert fns.cdp_urls[0] == "http://reestr-pki.ru/cdp/guc2022.crl"
    assert fns.streebog256 == gost.streebog256(der_of(real["ca_fns_2022-04_by_mincifry2022_E5AA1938"])).hexdigest()
    crl = next(e for e in entries if e.kind == "crl")
    assert crl.subject_cn == "Головной удостоверяющий центр" and crl.this_update.startswith("2018-05-2")
    # The whole listing is JSON-ready.
    json.dumps([e.to_dict() for e in entries], ensure_ascii=False)


def test_importing_twice_changes_nothing(tmp_path, real):
    store = TrustStore(tmp_path)
    root = real["root_mincifry2022_guc2022_2F0CB09B"]
    store.add_root(root)
    index = (tmp_path / "index.json").read_bytes()
    stamp = (tmp_path / "index.json").stat().st_mtime_ns
    time.sleep(0.01)
    assert store.add_root(root).status == "present"
    assert store.add_root(der_of(root)).status == "present"  # DER or PEM: the same certificate
    assert (tmp_path / "index.json").read_bytes() == index
    assert (tmp_path / "index.json").stat().st_mtime_ns == stamp
    assert len(store.list()) == 1


def test_new_crl_addresses_are_merged_into_an_existing_intermediate(tmp_path, real):
    store = TrustStore(tmp_path)
    ca = real["ca_fns_2025-12_by_mincifry2022_0F85468E"]
    assert store.add_intermediate(ca, crl_urls=["http://a/1.crl"]).status == "added"
    assert store.add_intermediate(ca, crl_urls=["http://a/1.crl"]).status == "present"
    outcome = store.add_intermediate(ca, crl_urls=["http://b/2.crl"])
    assert outcome.status == "updated"
    assert store.list()[0].crl_urls == ("http://a/1.crl", "http://b/2.crl")


def test_remove_by_sha1_or_sha256(tmp_path, real):
    store = TrustStore(tmp_path)
    root = der_of(real["root_minkomsvyaz2018_guc_gost12_4BC6DC14"])
    ca = der_of(real["ca_nuc_2019_by_minkomsvyaz2018_8B450F7C"])
    store.add_root(root)
    store.add_intermediate(ca)
    removed = store.remove(sha1(root).lower())
    assert removed.kind == "root" and not (tmp_path / removed.file).exists()
    assert store.remove(hashlib.sha256(ca).hexdigest()).kind == "intermediate"
    assert store.list() == [] and store.roots() == [] and store.intermediates() == []
    with pytest.raises(TrustEntryNotFoundError):
        store.remove(sha1(root))
    with pytest.raises(InvalidInputError):
        store.remove("not-a-thumbprint")


def test_newer_crl_replaces_older_of_the_same_issuer(tmp_path, real):
    store = TrustStore(tmp_path)
    issuer = der_of(real["root_mincifry2022_guc2022_2F0CB09B"])
    old = make_crl(issuer, datetime(2025, 1, 1, tzinfo=UTC))
    new = make_crl(issuer, datetime(2025, 6, 1, tzinfo=UTC))
    assert store.add_crl(old).status == "added"
    outcome = store.add_crl(new)
    assert outcome.status == "updated" and outcome.replaced == (sha1(old),)
    assert store.add_crl(old).status == "older"
    assert [c.dump() for c in store.crls()] == [new]
    assert sorted(p.name for p in (tmp_path / "crls").iterdir()) == [f"{sha1(new)}.crl"]
    # Another issuer's CRL is kept beside it.
    other = make_crl(der_of(real["root_minkomsvyaz2021_guc2021_AFF05C9E"]), datetime(2024, 1, 1, tzinfo=UTC))
    assert store.add_crl(other).status == "added" and len(store.crls()) == 2


# --- refusals: nothing changes on bad input ----------------------------------------------------------------------

def test_non_ca_certificates_are_refused(tmp_path):
    store = TrustStore(tmp_path / "store")
    for der in (make_certificate(ca=False), make_certificate(ca=None)):
        for kind in ("root", "intermediate"):
            with pytest.raises(NotCaCertificateError) as info:
                store.add_certificates([(der, kind)])
            assert info.value.code == "trust_not_ca" and "not a CA certificate" in info.value.message
    with pytest.raises(NotCaCertificateError, match="keyCertSign"):
        store.add_root(make_certificate(ca=True, key_usage={"digital_signature"}))
    assert not (tmp_path / "store").exists()


def test_made_ca_certificate_is_accepted_as_root(tmp_path):
    der = make_certificate(ca=True, key_usage={"key_cert_sign", "crl_sign"})
    assert TrustStore(tmp_path).add_root(der).status == "added"


def test_a_root_must_be_self_signed_with_a_good_signature(tmp_path, real):
    store = TrustStore(tmp_path / "store")
    with pytest.raises(NotSelfSignedError, match="issuer and subject differ"):
        store.add_root(real["ca_fns_2022-11_by_mincifry2022_08A4C134"])
    with pytest.raises(NotSelfSignedError, match="issuer and subject differ"):
        store.add_root(make_certificate(ca=True, self_signed=False))
    tampered = bytearray(der_of(real["root_mincifry2022_guc2022_2F0CB09B"]))
    tampered[-1] ^= 1  # the last byte belongs to the signature value
    with pytest.raises(NotSelfSignedError, match="does not verify"):
        store.add_root(bytes(tampered))
    assert not (tmp_path / "store").exists()


@pytest.mark.oracle
def test_self_signature_verdict_matches_openssl(tmp_path, real):
    require(openssl_gost.available() and openssl_gost.openssl_binary(), "OpenSSL with the GOST engine")
    tampered = bytearray(der_of(real["root_minkomsvyaz2021_guc2021_AFF05C9E"]))
    tampered[-1] ^= 1
    samples = {"legacy": der_of(real["root_guc2012_gost2001_8CAE88BB"]),
               "2022": der_of(real["root_mincifry2022_guc2022_2F0CB09B"]), "tampered": bytes(tampered)}
    for name, der in samples.items():
        path = tmp_path / f"{name}.pem"
        path.write_bytes(pem.armor("CERTIFICATE", der))
        # -check_ss_sig makes OpenSSL verify the self-signature of the trust anchor too.
        result = openssl_gost.run_cli(["verify", "-check_ss_sig", "-attime", "1700000000", "-CAfile", str(path),
                                       str(path)])
        assert (result.returncode == 0) == Certificate.from_der(der).is_self_signed, (name, result.stderr)
    assert not Certificate.from_der(bytes(tampered)).is_self_signed


@pytest.mark.parametrize("data", [b"", b"garbage", b"\x30\x03\x02\x01", b"-----BEGIN CERTIFICATE-----\nAAAA\n",
                                  b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", b"\x30" * 9])
def test_malformed_input_is_refused_without_touching_the_store(tmp_path, data):
    store = TrustStore(tmp_path / "store")
    with pytest.raises(CertificateFormatError):
        store.add_root(data)
    with pytest.raises(CrlFormatError):
        store.add_crl(data)
    assert store.list() == []


def test_one_bad_item_in_a_batch_writes_nothing(tmp_path, real):
    store = TrustStore(tmp_path)
    store.add_root(real["root_mincifry2022_guc2022_2F0CB09B"])
    before = (tmp_path / "index.json").read_bytes()
    with pytest.raises(NotCaCertificateError):
        store.add_certificates([(real["ca_fns_2022-04_by_mincifry2022_E5AA1938"], "intermediate"),
                                (make_certificate(ca=False), "intermediate")])
    assert (tmp_path / "index.json").read_bytes() == before
    assert list((tmp_path / "intermediates").iterdir()) == []


def test_same_certificate_under_another_kind_is_a_conflict(tmp_path, real):
    store = TrustStore(tmp_path)
    root = real["root_mincifry2025_9EC1A7DD"]
    store.add_intermediate(root)
    with pytest.raises(TrustStoreError, match="already in the store as intermediate"):
        store.add_root(root)
    assert store.add_certificates([(root, "root")], on_conflict="skip")[0].status == "conflict"


# --- atomicity ---------------------------------------------------------------------------------------------------

def test_failure_while_replacing_the_index_keeps_the_old_index(tmp_path, real, monkeypatch):
    store = TrustStore(tmp_path)
    store.add_root(real["root_mincifry2022_guc2022_2F0CB09B"])
    before = (tmp_path / "index.json").read_bytes()
    real_replace = os.replace

    def failing_replace(src, dst):
        if str(dst).endswith("index.json"):
            raise OSError(28, "No space left on device")
        return real_replace(src, dst)

    monkeypatch.setattr(store_module.os, "replace", failing_replace)
    with pytest.raises(TrustStoreError, match="No space left"):
        store.add_intermediate(real["ca_sertum_pro_2024_by_mincifry2022_6F955FA6"])
    monkeypatch.undo()
    assert (tmp_path / "index.json").read_bytes() == before
    # No temporary file and no unreferenced certificate file is left behind.
    leftovers = [p.name for p in tmp_path.rglob("*") if p.is_file() and p.name not in ("index.json", ".lock")]
    assert leftovers == [f"{sha1(der_of(real['root_mincifry2022_guc2022_2F0CB09B']))}.der"]
    assert [e.kind for e in TrustStore(tmp_path).list()] == ["root"]


def test_failure_while_writing_a_certificate_file_changes_nothing(tmp_path, real, monkeypatch):
    store = TrustStore(tmp_path)
    store.add_root(real["root_mincifry2022_guc2022_2F0CB09B"])
    before = (tmp_path / "index.json").read_bytes()

    def failing_fsync(fd):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(store_module.os, "fsync", failing_fsync)
    with pytest.raises(TrustStoreError, match="Input/output error"):
        store.add_intermediate(real["ca_kazna_2024_by_mincifry2022_12BC4208"])
    monkeypatch.undo()
    assert (tmp_path / "index.json").read_bytes() == before
    assert list((tmp_path / "intermediates").iterdir()) == []


def test_damaged_index_or_file_is_reported(tmp_path, real):
    store = TrustStore(tmp_path)
    outcome = store.add_root(real["root_mincifry2026_2FDEDE3B"])
    (tmp_path / outcome.entry.file).write_bytes(der_of(real["root_mincifry2025_9EC1A7DD"]))
    with pytest.raises(TrustStoreError, match="does not match its thumbprint"):
        store.roots()
    (tmp_path / "index.json").write_text("{not json")
    with pytest.raises(TrustStoreError, match="damaged"):
        store.list()


# --- locking between processes -----------------------------------------------------------------------------------

def _add_each(path: str, items: list[bytes], start: float) -> None:
    while time.time() < start:  # start both writers at the same moment
        time.sleep(0.001)
    store = TrustStore(path)
    for der in items:
        store.add_intermediate(der)


def test_two_processes_importing_at_once_lose_nothing(tmp_path, real):
    items = [der_of(v) for v in intermediates_of(real).values()]
    context = multiprocessing.get_context("fork")
    start = time.time() + 0.3
    workers = [context.Process(target=_add_each, args=(str(tmp_path), items[i::2], start)) for i in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(30)
        assert worker.exitcode == 0
    assert {e.sha1 for e in TrustStore(tmp_path).list()} == {sha1(d) for d in items}


def test_a_writer_waits_for_the_lock(tmp_path, real):
    store = TrustStore(tmp_path)
    store.add_root(real["root_mincifry2022_guc2022_2F0CB09B"])
    ca = der_of(real["ca_fns_2022-11_by_mincifry2022_08A4C134"])
    context = multiprocessing.get_context("fork")
    with open(tmp_path / ".lock", "rb+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        worker = context.Process(target=_add_each, args=(str(tmp_path), [ca], 0.0))
        worker.start()
        time.sleep(0.5)
        assert worker.is_alive()  # blocked on the lock
        assert len(store._read_index()) == 1  # read without the lock, which this test holds
        fcntl.flock(lock, fcntl.LOCK_UN)
    worker.join(30)
    assert worker.exitcode == 0
    assert {e.kind for e in store.list()} == {"root", "intermediate"}


# --- location ----------------------------------------------------------------------------------------------------

def test_store_location(tmp_path, monkeypatch):
    monkeypatch.delenv(store_module.ENV_TRUST_DIR, raising=False)
    assert TrustStore().path == Path(platformdirs.user_data_dir("signagent")) / "trust"
    monkeypatch.setenv(store_module.ENV_TRUST_DIR, str(tmp_path / "env"))
    assert TrustStore().path == tmp_path / "env"
    assert TrustStore(tmp_path / "arg").path == tmp_path / "arg"
    # Reading a store that does not exist yet gives nothing and creates nothing.
    assert TrustStore().list() == [] and TrustStore().roots() == []
    assert not (tmp_path / "env").exists()

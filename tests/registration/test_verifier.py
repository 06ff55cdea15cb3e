"""The portal-side verifier: one test per reason code, each from a purpose-built certificate of the test PKI, a
purpose-built request, or a purpose-built ЕГРЮЛ/ЕГРИП extract (a modified copy of the demo one); then logins.

Every signed request here is made as the agent makes it: CAdES-BES, attached, canonical JSON, signagent's origin
attribute (``signagent.cms.signing.sign(..., origin=...)``). The chain is checked against the test PKI's root,
revocation hard; with the PKI's CRLs offline, or online from the PKI's own HTTP server (OCSP).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import Any

import pytest
from asn1crypto import cms

from signagent.cms.cosign import cosign
from signagent.cms.signer import SoftwareSigner
from signagent.cms.signing import sign
from signagent.gost import streebog256
from signagent.registration import egr
from signagent.registration.canonical import canonical_json
from signagent.registration.examples import (
    example_employee_request,
    example_entrepreneur_request,
    example_head_request,
)
from signagent.registration.nonces import MemoryNonceStore
from signagent.registration.report import INDETERMINATE_CODES, REASONS
from signagent.registration.verifier import verify_login, verify_registration
from signagent.service.authentication import proof_document, proof_message
from signagent.testpki import PkiServer, TestPKI, generate
from signagent.testpki import identifiers as ids
from signagent.testpki.spec import ANY_POLICY, COMPANY, HEAD, EndEntitySpec, default_spec
from signagent.x509 import Certificate, load_certificate

ORIGIN = "https://portal.test"
EVIL = "https://evil.test"


# ---------------------------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestPKI, PkiServer]]:
    """The default test PKI plus ``unqualified`` (the head's certificate with anyPolicy only: no КС class),
    served by its own HTTP server (OCSP, CRLs, CA certificates)."""
    spec = default_spec()
    spec = replace(spec, end_entities=(*spec.end_entities, EndEntitySpec("unqualified", "head", HEAD, COMPANY,
                                                                         policies=(ANY_POLICY,))))
    with PkiServer() as server:
        pki = generate(tmp_path_factory.mktemp("registration-pki"), base_url=server.base_url, spec=spec)
        server.serve_pki(pki)
        yield pki, server


@pytest.fixture(scope="module")
def pki(served: tuple[TestPKI, PkiServer]) -> TestPKI:
    return served[0]


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


class Portal:
    """A portal at ORIGIN: its nonce store, register and organisations, and the test PKI as trust."""

    def __init__(self, pki: TestPKI, registry: Any = None, organisations: Any = None) -> None:
        self.pki = pki
        self.clock = Clock()
        self.store = MemoryNonceStore(clock=self.clock)
        self.registry = egr.demo_registry() if registry is None else registry
        self.organisations = organisations

    def nonce(self) -> str:
        return self.store.issue(ORIGIN)

    def verify(self, signed: bytes, **options: Any) -> Any:
        pki = self.pki
        settings: dict[str, Any] = {"crls": [pki.crls["inter"].der, pki.crls["root"].der], "offline": True}
        settings.update(options)
        return verify_registration(signed, origin=ORIGIN, nonce_store=self.store, registry=self.registry,
                                   trust_roots=[pki.root.der], intermediates=[pki.intermediate.der],
                                   organisations=self.organisations, **settings)


class Directory:
    """The portal's registered organisations."""

    def __init__(self, *organisations: tuple[str, str]) -> None:
        self.known = set(organisations)

    def exists(self, *, ogrn: str | None = None, inn: str | None = None) -> bool:
        return any((ogrn is None or ogrn == o) and (inn is None or inn == i) for o, i in self.known)


def _now_text() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _signer(pki: TestPKI, name: str) -> SoftwareSigner:
    return SoftwareSigner(load_certificate(pki[name].der), pki[name].key)


def signed(pki: TestPKI, name: str, content: Any, *, origin: str | None = ORIGIN, detached: bool = False) -> bytes:
    """``content`` (a request model, a dict, or bytes) signed by the named certificate as the agent signs."""
    data = content if isinstance(content, bytes) else canonical_json(content)
    out = sign(data, _signer(pki, name), certificates=[load_certificate(pki.intermediate.der)], origin=origin,
               detached=detached)
    assert out is not None
    return out


def head_request(portal: Portal, **changes: Any) -> Any:
    request = example_head_request(portal.nonce(), ORIGIN, _now_text())
    if changes:
        request = request.model_copy(update={"organisation": request.organisation.model_copy(update=changes)})
    return request


def _extract(name: str) -> str:
    demo = resources.files("signagent.registration").joinpath("demo")
    return demo.joinpath(name).read_bytes().decode("cp1251")


def registry_with(egrul: str | None = None, egrip: str | None = None) -> egr.ExtractRegistry:
    """A register of the demo extracts, either replaced by a modified copy."""
    documents = [egrul if egrul is not None else _extract("egrul-romashka-test.xml"),
                 egrip if egrip is not None else _extract("egrip-sidorov.xml")]
    return egr.ExtractRegistry.from_bytes(d.encode("cp1251") for d in documents)


def egrul(*replacements: tuple[str, str]) -> str:
    text = _extract("egrul-romashka-test.xml")
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new)
    return text


def _head_block(text: str) -> tuple[int, int]:
    start = text.index("<СведДолжнФЛ>")
    return start, text.index("</СведДолжнФЛ>", start) + len("</СведДолжнФЛ>")


def assert_only(report: Any, code: str) -> None:
    assert report.codes == (code,), [r.to_dict() for r in report.reasons]
    expected = "indeterminate" if code in INDETERMINATE_CODES else "invalid"
    assert report.status == expected
    reason = report.reasons[0]
    assert "?" not in reason.message + reason.message_ru, reason
    assert any("\u0400" <= ch <= "\u04ff" for ch in reason.message_ru)
    json.dumps(report.to_dict(), ensure_ascii=False)


# ------------------------------------------------------------------------------------------------ valid ones


def test_the_head_registers_the_organisation(pki: TestPKI) -> None:
    portal = Portal(pki)
    report = portal.verify(signed(pki, "head", head_request(portal)))
    assert report.status == "valid" and report.codes == () and report.nonce == "ok"
    assert report.request.type == "head-registration" and report.request.organisation.ogrn == COMPANY.ogrn
    assert report.signer["identity"]["ogrn"] == COMPANY.ogrn and report.signed_origin == ORIGIN
    assert report.register.ogrn == COMPANY.ogrn and report.register.heads[0].surname == "ИВАНОВ"
    doc = json.loads(json.dumps(report.to_dict(), ensure_ascii=False))
    assert doc["status"] == "valid" and doc["type"] == "head-registration" and doc["chain"]["status"] == "valid"
    assert doc["request"]["organisation"]["inn"] == COMPANY.inn_le
    assert doc["register"]["ogrn"] == COMPANY.ogrn and doc["register"]["heads"][0]["surname"] == "ИВАНОВ"


def test_every_reason_code_is_bilingual_and_whole() -> None:
    for code, (en, ru) in REASONS.items():
        assert code.isidentifier() and code == code.lower() and en and ru
        assert any("\u0400" <= ch <= "\u04ff" for ch in ru), code


# ----------------------------------------------------------------------------------------------- the signature


def test_signature_malformed(pki: TestPKI) -> None:
    portal = Portal(pki)
    assert_only(portal.verify(b"not a signature"), "signature_malformed")
    assert_only(portal.verify(b"\x00" * (2 << 20)), "signature_malformed")


def test_signature_detached(pki: TestPKI) -> None:
    portal = Portal(pki)
    assert_only(portal.verify(signed(pki, "head", head_request(portal), detached=True)), "signature_detached")


def test_signer_count(pki: TestPKI) -> None:
    portal = Portal(pki)
    once = signed(pki, "head", head_request(portal))
    twice = cosign(once, _signer(pki, "employee"))
    report = portal.verify(twice)
    assert_only(report, "signer_count")
    assert report.reasons[0].details["count"] == "2"


def test_content_changed(pki: TestPKI) -> None:
    portal = Portal(pki)
    request = head_request(portal)
    data = signed(pki, "head", request)
    assert COMPANY.ogrn.encode() in data  # attached: the request is inside; change one digit of it
    tampered = data.replace(COMPANY.ogrn.encode(), COMPANY.ogrn[:-1].encode() + b"0", 1)
    assert tampered != data
    report = portal.verify(tampered)
    assert_only(report, "signature_invalid")
    assert "message_digest_mismatch" in report.reasons[0].details["codes"]
    assert report.nonce is None and portal.store.consume(request.nonce, ORIGIN) == "ok"  # garbage burns no nonce


def test_signature_indeterminate_without_the_signer_certificate(pki: TestPKI) -> None:
    portal = Portal(pki)
    info = cms.ContentInfo.load(signed(pki, "head", head_request(portal)))
    info["content"]["certificates"] = cms.CertificateSet([cms.CertificateChoices(
        name="certificate", value=load_certificate(pki.intermediate.der).asn1)])
    report = portal.verify(info.dump(force=True))
    assert_only(report, "signature_indeterminate")
    assert "signer_certificate_not_found" in report.reasons[0].details["codes"]


def test_origin_missing(pki: TestPKI) -> None:
    portal = Portal(pki)
    request = head_request(portal)
    assert_only(portal.verify(signed(pki, "head", request, origin=None)), "origin_missing")
    assert portal.store.consume(request.nonce, ORIGIN) == "ok"  # not burned


def test_origin_mismatch_a_request_signed_for_another_site(pki: TestPKI) -> None:
    portal = Portal(pki)
    request = head_request(portal)
    report = portal.verify(signed(pki, "head", request, origin=EVIL))
    assert_only(report, "origin_mismatch")
    assert report.reasons[0].details == {"got": EVIL, "expected": ORIGIN}
    assert portal.store.consume(request.nonce, ORIGIN) == "ok"


# ---------------------------------------------------------------------------------------------- the certificate


def test_chain_invalid_expired(pki: TestPKI) -> None:
    portal = Portal(pki)
    report = portal.verify(signed(pki, "expired", head_request(portal)))
    assert_only(report, "chain_invalid")
    assert "expired" in report.reasons[0].details["codes"].split(", ")
    assert report.chain.status == "invalid"


def test_chain_invalid_revoked_by_crl(pki: TestPKI) -> None:
    portal = Portal(pki)
    report = portal.verify(signed(pki, "revoked", head_request(portal)))
    assert_only(report, "chain_invalid")
    assert report.reasons[0].details["codes"] == "revoked"
    assert "отозван" in report.reasons[0].message_ru


def test_chain_invalid_revoked_by_ocsp(served: tuple[TestPKI, PkiServer], tmp_path: Any) -> None:
    pki, server = served
    portal = Portal(pki)
    server.requests.clear()
    server.set_failure("http500", "/crl/inter")  # the end entity's CRL is unreachable: only OCSP can tell
    try:
        report = portal.verify(signed(pki, "revoked", head_request(portal)), offline=False,
                               crls=[pki.crls["root"].der], cache_dir=str(tmp_path / "cache"))
    finally:
        server.set_failure(None)
    assert_only(report, "chain_invalid")
    assert report.reasons[0].details["codes"] == "revoked"
    assert any("ocsp" in path for _, path in server.requests), server.requests


def test_chain_indeterminate_when_revocation_cannot_be_known(pki: TestPKI) -> None:
    portal = Portal(pki)
    request = head_request(portal)
    report = portal.verify(signed(pki, "head", request), crls=[])  # offline, no CRL, revocation hard
    assert_only(report, "chain_indeterminate")
    assert "revocation_unknown" in report.reasons[0].details["codes"]
    assert report.nonce is None and portal.store.consume(request.nonce, ORIGIN) == "ok"  # may be sent again


def test_not_qualified(pki: TestPKI) -> None:
    portal = Portal(pki)
    report = portal.verify(signed(pki, "unqualified", head_request(portal)))
    assert_only(report, "not_qualified")
    assert "КС1" in report.reasons[0].message_ru


# --------------------------------------------------------------------------------------------------- the request


def test_not_canonical(pki: TestPKI) -> None:
    portal = Portal(pki)
    pretty = json.dumps(head_request(portal).model_dump(exclude_none=True), ensure_ascii=False, indent=2)
    report = portal.verify(signed(pki, "head", pretty.encode()))
    assert_only(report, "not_canonical")
    assert report.problems[0]["code"] == "not_canonical" and report.request is None


def test_request_invalid_okved_rules_broken(pki: TestPKI) -> None:
    portal = Portal(pki)
    doc = json.loads(canonical_json(head_request(portal)))
    okved = doc["organisation"]["okved"]
    okved["auxiliary"] = [*okved["auxiliary"], {"code": "47.78"}]  # at most two auxiliary activities
    del okved["main"]  # exactly one main activity
    report = portal.verify(signed(pki, "head", canonical_json(doc)))
    assert_only(report, "request_invalid")
    paths = {p["path"] for p in report.problems}
    assert any("okved" in p and "auxiliary" in p for p in paths) and any("main" in p for p in paths), paths


def test_request_origin_mismatch(pki: TestPKI) -> None:
    portal = Portal(pki)
    nonce = portal.nonce()
    request = example_head_request(nonce, "https://other.test", _now_text())
    report = portal.verify(signed(pki, "head", request))
    assert_only(report, "request_origin_mismatch")
    assert portal.store.consume(nonce, ORIGIN) == "ok"


def test_nonce_unknown(pki: TestPKI) -> None:
    portal = Portal(pki)
    request = example_head_request("ab" * 32, ORIGIN, _now_text())
    assert_only(portal.verify(signed(pki, "head", request)), "nonce_unknown")


def test_nonce_used_a_replayed_request(pki: TestPKI) -> None:
    portal = Portal(pki)
    data = signed(pki, "head", head_request(portal))
    assert portal.verify(data).status == "valid"
    report = portal.verify(data)
    assert_only(report, "nonce_used")
    assert report.nonce == "used"


def test_nonce_expired(pki: TestPKI) -> None:
    portal = Portal(pki)
    data = signed(pki, "head", head_request(portal))
    portal.clock.now += timedelta(hours=1)
    assert_only(portal.verify(data), "nonce_expired")


def test_a_refused_authentic_request_still_uses_its_nonce(pki: TestPKI) -> None:
    portal = Portal(pki)
    data = signed(pki, "employee", head_request(portal))
    assert portal.verify(data).codes == ("not_authorized_head",)
    assert portal.verify(data).codes == ("not_authorized_head", "nonce_used")


# ------------------------------------------------------------------------------------------- head and ЕГРЮЛ


def test_ogrn_mismatch(pki: TestPKI) -> None:
    portal = Portal(pki)
    other = ids.ogrn("112770000099")
    report = portal.verify(signed(pki, "head", head_request(portal, ogrn=other)))
    assert report.codes[0] == "ogrn_mismatch" and report.status == "invalid"
    assert report.reasons[0].details == {"certificate_value": COMPANY.ogrn, "request_value": other}


def test_inn_le_mismatch(pki: TestPKI) -> None:
    portal = Portal(pki)
    other = ids.inn_legal_entity("770100099")
    report = portal.verify(signed(pki, "head", head_request(portal, inn=other)))
    assert report.codes[0] == "inn_le_mismatch" and report.status == "invalid"


def test_organisation_not_in_register(pki: TestPKI) -> None:
    portal = Portal(pki, registry=egr.ExtractRegistry())
    assert_only(portal.verify(signed(pki, "head", head_request(portal))), "organisation_not_in_register")


def test_register_ogrn_mismatch(pki: TestPKI) -> None:
    portal = Portal(pki, registry=registry_with(egrul(('ОГРН="1127700000031"', f'ОГРН="{ids.ogrn("112770000099")}"'))))
    assert_only(portal.verify(signed(pki, "head", head_request(portal))), "register_ogrn_mismatch")


def test_register_inn_mismatch_egrul_differs_in_inn(pki: TestPKI) -> None:
    other = ids.inn_legal_entity("770100099")
    portal = Portal(pki, registry=registry_with(egrul(('ИНН="7701000033"', f'ИНН="{other}"'))))
    report = portal.verify(signed(pki, "head", head_request(portal)))
    assert_only(report, "register_inn_mismatch")
    assert report.reasons[0].details == {"register_value": other, "request_value": COMPANY.inn_le}


def test_not_authorized_head_employee_certificate_presented_as_head(pki: TestPKI) -> None:
    portal = Portal(pki)  # the demo ЕГРЮЛ lists Петрова only as a participant (СвУчредит), never as a head
    report = portal.verify(signed(pki, "employee", head_request(portal)))
    assert_only(report, "not_authorized_head")
    assert "Петрова" in report.reasons[0].message_ru


def test_not_authorized_head_egrul_differs_in_the_heads_name(pki: TestPKI) -> None:
    portal = Portal(pki, registry=registry_with(egrul(('Фамилия="ИВАНОВ"', 'Фамилия="ИВАНЕНКО"'))))
    assert_only(portal.verify(signed(pki, "head", head_request(portal))), "not_authorized_head")


def test_head_names_compare_case_insensitively_and_yo_as_ye(pki: TestPKI) -> None:
    portal = Portal(pki, registry=registry_with(egrul(('Имя="ИВАН" Отчество="ИВАНОВИЧ"',
                                                       'Имя="иван" Отчество="ивановИч"'))))
    assert portal.verify(signed(pki, "head", head_request(portal))).status == "valid"


def test_head_inn_missing(pki: TestPKI) -> None:
    text = egrul()
    start, end = _head_block(text)
    block = text[start:end].replace(' ИННФЛ="770100000142"', "")
    portal = Portal(pki, registry=registry_with(text[:start] + block + text[end:]))
    assert_only(portal.verify(signed(pki, "head", head_request(portal))), "head_inn_missing")


def _with_in_head_block(extra: str) -> str:
    text = egrul()
    end = _head_block(text)[1]
    close = end - len("</СведДолжнФЛ>")
    return text[:close] + extra + text[close:]


def test_head_disputed(pki: TestPKI) -> None:
    extract = _with_in_head_block('<СвНедДанДолжнФЛ ПризнНедДанДолжнФЛ="1" ТекстНедДанДолжнФЛ="сведения '
                                  'недостоверны (результаты проверки)"/>')
    portal = Portal(pki, registry=registry_with(extract))
    assert_only(portal.verify(signed(pki, "head", head_request(portal))), "head_disputed")


def test_head_disqualified(pki: TestPKI) -> None:
    extract = _with_in_head_block('<СвДискв ДатаНачДискв="2025-06-01" ДатаОкончДискв="2028-06-01" '
                                  'ДатаРеш="2025-05-20"/>')
    portal = Portal(pki, registry=registry_with(extract))
    assert_only(portal.verify(signed(pki, "head", head_request(portal))), "head_disqualified")


def test_managed_by_organisation(pki: TestPKI) -> None:
    text = egrul()
    start, end = _head_block(text)
    manager = (f'<СвУпрОрг><НаимИННЮЛ ОГРН="{ids.ogrn("102770000077")}" '
               f'ИНН="{ids.inn_legal_entity("770000077")}" '
               'НаимЮЛПолн="ОБЩЕСТВО С ОГРАНИЧЕННОЙ ОТВЕТСТВЕННОСТЬЮ &quot;УПРАВЛЯЮЩАЯ КОМПАНИЯ-ТЕСТ&quot;"/>'
               '</СвУпрОрг>')
    portal = Portal(pki, registry=registry_with(text[:start] + manager + text[end:]))
    request = head_request(portal)
    report = portal.verify(signed(pki, "head", request))
    assert_only(report, "managed_by_organisation")
    assert "УПРАВЛЯЮЩАЯ" in report.reasons[0].message
    assert report.nonce is None  # indeterminate: decided by a person, the nonce is left


# ----------------------------------------------------------------------------------------- the entrepreneur


def entrepreneur_request(portal: Portal, **changes: Any) -> Any:
    request = example_entrepreneur_request(portal.nonce(), ORIGIN, _now_text())
    if changes:
        request = request.model_copy(update={"entrepreneur": request.entrepreneur.model_copy(update=changes)})
    return request


def test_the_entrepreneur_registers(pki: TestPKI) -> None:
    portal = Portal(pki)
    report = portal.verify(signed(pki, "ip", entrepreneur_request(portal)))
    assert report.status == "valid" and report.codes == () and report.register.surname == "СИДОРОВ"


def test_ogrnip_mismatch(pki: TestPKI) -> None:
    portal = Portal(pki)
    report = portal.verify(signed(pki, "ip", entrepreneur_request(portal, ogrnip=ids.ogrnip("31777000000099"))))
    assert report.codes[0] == "ogrnip_mismatch" and report.status == "invalid"


def test_inn_mismatch(pki: TestPKI) -> None:
    portal = Portal(pki)
    report = portal.verify(signed(pki, "ip", entrepreneur_request(portal, inn=ids.inn_person("5001000099"))))
    assert report.codes[0] == "inn_mismatch" and "register_inn_mismatch" in report.codes


def test_entrepreneur_not_in_register(pki: TestPKI) -> None:
    portal = Portal(pki, registry=egr.ExtractRegistry())
    assert_only(portal.verify(signed(pki, "ip", entrepreneur_request(portal))), "entrepreneur_not_in_register")


def test_entrepreneur_name_mismatch(pki: TestPKI) -> None:
    egrip = _extract("egrip-sidorov.xml").replace('Фамилия="СИДОРОВ"', 'Фамилия="СИДОРЕНКО"')
    portal = Portal(pki, registry=registry_with(egrip=egrip))
    assert_only(portal.verify(signed(pki, "ip", entrepreneur_request(portal))), "entrepreneur_name_mismatch")


def test_head_certificate_presented_as_entrepreneur(pki: TestPKI) -> None:
    portal = Portal(pki)
    report = portal.verify(signed(pki, "head", entrepreneur_request(portal)))
    assert {"ogrnip_mismatch", "inn_mismatch", "entrepreneur_name_mismatch"} <= set(report.codes)


# ---------------------------------------------------------------------------------------------- the employee


def test_the_employee_joins_a_registered_organisation(pki: TestPKI) -> None:
    portal = Portal(pki, organisations=Directory((COMPANY.ogrn, COMPANY.inn_le)))
    request = example_employee_request(portal.nonce(), ORIGIN, _now_text())
    report = portal.verify(signed(pki, "employee", request))
    assert report.status == "valid" and report.codes == () and report.request.subdivision == "Бухгалтерия"


def test_organisation_unknown(pki: TestPKI) -> None:
    portal = Portal(pki, organisations=Directory())
    request = example_employee_request(portal.nonce(), ORIGIN, _now_text())
    assert_only(portal.verify(signed(pki, "employee", request)), "organisation_unknown")


def test_employee_of_another_organisation(pki: TestPKI) -> None:
    portal = Portal(pki, organisations=Directory((COMPANY.ogrn, COMPANY.inn_le)))
    request = example_employee_request(portal.nonce(), ORIGIN, _now_text())
    report = portal.verify(signed(pki, "person", request))  # a natural person's certificate: no organisation
    assert report.codes == ("ogrn_mismatch", "inn_le_mismatch")


# ---------------------------------------------------------------------------------------------------- logins


def proof(pki: TestPKI, name: str, challenge: bytes, origin: str = ORIGIN) -> dict[str, Any]:
    cert: Certificate = load_certificate(pki[name].der)
    key = pki[name].key
    assert key.public_key().curve.size == 32
    signature = key.sign_digest(streebog256(proof_message(origin, challenge)).digest())
    return proof_document(origin=origin, challenge=challenge, certificate=cert, signature=signature)


def login(portal: Portal, doc: dict[str, Any], nonce: str, **options: Any) -> Any:
    pki = portal.pki
    settings: dict[str, Any] = {"crls": [pki.crls["inter"].der, pki.crls["root"].der], "offline": True}
    settings.update(options)
    return verify_login(doc, origin=ORIGIN, challenge_nonce=nonce, nonce_store=portal.store,
                        trust_roots=[pki.root.der], intermediates=[pki.intermediate.der], **settings)


def test_login_valid(pki: TestPKI) -> None:
    portal = Portal(pki)
    nonce = portal.store.issue(ORIGIN, purpose="login")
    report = login(portal, proof(pki, "employee", bytes.fromhex(nonce)), nonce)
    assert report.status == "valid" and report.codes == () and report.nonce == "ok"
    assert report.signer["identity"]["surname"] == "Петрова"
    json.dumps(report.to_dict(), ensure_ascii=False)


def test_login_proof_made_for_another_origin(pki: TestPKI) -> None:
    portal = Portal(pki)
    nonce = portal.store.issue(ORIGIN, purpose="login")
    report = login(portal, proof(pki, "head", bytes.fromhex(nonce), origin=EVIL), nonce)
    assert_only(report, "origin_mismatch")
    assert portal.store.consume(nonce, ORIGIN, purpose="login") == "ok"  # not burned by a foreign proof


def test_login_replayed_challenge(pki: TestPKI) -> None:
    portal = Portal(pki)
    nonce = portal.store.issue(ORIGIN, purpose="login")
    doc = proof(pki, "head", bytes.fromhex(nonce))
    assert login(portal, doc, nonce).status == "valid"
    assert_only(login(portal, doc, nonce), "nonce_used")


def test_login_challenge_of_another_purpose_or_not_issued(pki: TestPKI) -> None:
    portal = Portal(pki)
    registration_nonce = portal.nonce()  # purpose registration: not a login challenge
    assert_only(login(portal, proof(pki, "head", bytes.fromhex(registration_nonce)), registration_nonce),
                "nonce_unknown")
    assert_only(login(portal, proof(pki, "head", b"\x01" * 32), "01" * 32), "nonce_unknown")


def test_login_proof_for_another_challenge_or_forged(pki: TestPKI) -> None:
    portal = Portal(pki)
    nonce = portal.store.issue(ORIGIN, purpose="login")
    assert_only(login(portal, proof(pki, "head", b"\x02" * 32), nonce), "challenge_mismatch")
    forged = proof(pki, "head", bytes.fromhex(nonce))
    forged["certificate"] = proof(pki, "employee", bytes.fromhex(nonce))["certificate"]
    report = login(portal, forged, nonce)
    assert_only(report, "proof_invalid")
    assert_only(login(portal, {"format": "something else"}, nonce), "proof_invalid")
    assert portal.store.consume(nonce, ORIGIN, purpose="login") == "ok"


def test_login_with_a_revoked_certificate(pki: TestPKI) -> None:
    portal = Portal(pki)
    nonce = portal.store.issue(ORIGIN, purpose="login")
    report = login(portal, proof(pki, "revoked", bytes.fromhex(nonce)), nonce)
    assert report.codes[0] == "chain_invalid" and report.reasons[0].details["codes"] == "revoked"


# --------------------------------------------------------------------------------------- the HTTP entry point


def test_http_service_issues_nonces_and_verifies(pki: TestPKI) -> None:
    import base64

    from fastapi.testclient import TestClient

    from signagent.registration.http import create_verifier_app

    store = MemoryNonceStore()
    app = create_verifier_app(origin=ORIGIN, nonce_store=store, registry=egr.demo_registry(),
                              trust_roots=[pki.root.der], intermediates=[pki.intermediate.der],
                              crls=[pki.crls["inter"].der, pki.crls["root"].der], offline=True)
    with TestClient(app) as client:
        issued = client.post("/nonces").json()
        assert issued["origin"] == ORIGIN and issued["purpose"] == "registration" and len(issued["nonce"]) == 64
        request = example_head_request(issued["nonce"], ORIGIN, _now_text())
        body = {"cms": base64.b64encode(signed(pki, "head", request)).decode()}
        answer = client.post("/verify", json=body)
        assert answer.status_code == 200 and answer.json()["status"] == "valid", answer.text
        again = client.post("/verify", json=body).json()
        assert again["status"] == "invalid" and [r["code"] for r in again["reasons"]] == ["nonce_used"]
        assert client.post("/verify", json={"cms": "%%%"}).status_code == 422
        assert client.post("/verify", json={"cms": "AAAA", "extra": 1}).status_code == 422

        challenge = client.post("/nonces", json={"purpose": "login", "ttl": 60}).json()["nonce"]
        doc = proof(pki, "employee", bytes.fromhex(challenge))
        answer = client.post("/login", json={"proof": doc, "nonce": challenge}).json()
        assert answer["status"] == "valid" and answer["signer"]["identity"]["surname"] == "Петрова"
        replay = client.post("/login", json={"proof": doc, "nonce": challenge}).json()
        assert [r["code"] for r in replay["reasons"]] == ["nonce_used"]
        assert client.post("/nonces", json={"purpose": "other"}).status_code == 422


def test_http_service_says_503_when_the_nonce_store_fails(pki: TestPKI, tmp_path: Any) -> None:
    from fastapi.testclient import TestClient

    from signagent.registration.http import create_verifier_app
    from signagent.registration.nonces import SqlNonceStore

    store = SqlNonceStore(f"sqlite:///{tmp_path / 'no-table.db'}")  # create_schema() never called
    app = create_verifier_app(origin=ORIGIN, nonce_store=store, registry=egr.demo_registry(),
                              trust_roots=[pki.root.der], offline=True)
    with TestClient(app) as client:
        answer = client.post("/nonces")
    store.engine.dispose()
    assert answer.status_code == 503
    error = answer.json()["error"]
    assert error["code"] == "nonce_store_failed" and error["retriable"] is True

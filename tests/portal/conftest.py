"""Fixtures of the reference portal's tests: the test PKI the portal trusts, the portal app on a fresh database,
and people who act in it -- each a certificate of the test PKI with its software key, who logs in with a proof made
exactly as the agent makes it and signs requests exactly as the agent signs them (CAdES-BES with the origin
attribute), without a browser.

* ``pki``: the default test PKI (head and employee of ООО «Ромашка-Тест», the entrepreneur Сидоров, the faulty
  variants), once per session; the portal trusts its root, with its CRLs, offline, revocation hard.
* ``make_portal(database_url=None)``: a :class:`Portal` (app + test client on ``ORIGIN``) on SQLite in the test's
  directory, or on the database URL given (PostgreSQL in the storage tests).
* :class:`Person`: ``login()``, ``prepare(type, request)``, ``sign(canonical)``, ``register(...)``, ``join(...)``.

The client is Starlette's TestClient (httpx underneath), every request with the portal's own ``Origin``.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from portal.app import create_app
from portal.settings import PortalSettings
from portal.verification import Trust
from signagent.cms.signer import SoftwareSigner
from signagent.cms.signing import sign
from signagent.gost import streebog256, streebog512
from signagent.registration.egr import demo_registry
from signagent.service.authentication import proof_document, proof_message
from signagent.testpki import generate
from signagent.testpki.generator import TestPKI
from signagent.x509 import load_certificate

ORIGIN = "http://portal.test:8080"
OTHER_ORIGIN = "http://evil.test:8080"


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> TestPKI:
    return generate(tmp_path_factory.mktemp("portal-pki"))


def trust_of(pki: TestPKI) -> Trust:
    return Trust(roots=[pki.root.der], intermediates=[pki.intermediate.der],
                 crls=[pki.crls["inter"].der, pki.crls["root"].der], offline=True, revocation="hard")


def head_draft(pki: TestPKI | None = None, **organisation: Any) -> dict[str, Any]:
    """The wizard's draft of ООО «Ромашка-Тест» as the demo ЕГРЮЛ extract gives it, plus what a head types."""
    record = demo_registry().legal_entity(ogrn="1127700000031")
    assert record is not None
    return {
        "organisation": {
            "full_name": record.full_name, "short_name": record.short_name or record.full_name,
            "ogrn": record.ogrn, "inn": record.inn, "kpp": record.kpp, "category": "Юридическое лицо",
            "email": "info@romashka.test", "phone": "+7 495 000-00-00", "legal_address": record.address,
            "postal_same_as_legal": True,
            "okved": {"main": {"code": "32.12", "comment": "ювелирные изделия"},
                      "auxiliary": [{"code": "46.48"}], "other": [{"code": "47.77"}]},
            **organisation,
        },
        "head": {"kind": "person", "surname": "Иванов", "name": "Иван", "patronymic": "Иванович",
                 "position": "Генеральный директор", "birth_date": "1980-05-15",
                 "identity_document": {"kind": "Паспорт гражданина РФ", "series": "4500", "number": "123456"},
                 "registration_address": "г. Москва, ул. Цветочная, д. 1", "actual_address": "г. Москва"},
        "real_estate": [{"address": "г. Москва, ул. Цветочная, д. 3, склад"}],
        "subdivisions": [{"kind": "branch", "name": "Филиал «Север»", "kpp": "770102001",
                          "address": "г. Москва, ул. Северная, д. 1", "okved": ["32.12"]}],
        "beneficiaries": [{"surname": "Иванов", "name": "Иван", "birth_date": "1980-05-15",
                           "identity_document": {"kind": "Паспорт гражданина РФ", "number": "123456"},
                           "registration_address": "г. Москва", "active": True}],
    }


def entrepreneur_draft() -> dict[str, Any]:
    """The wizard's draft of the entrepreneur Сидоров (the demo ЕГРИП extract)."""
    record = demo_registry().entrepreneur(ogrnip="317770000000050")
    assert record is not None
    return {"entrepreneur": {"surname": "Сидоров", "name": "Пётр", "patronymic": "Алексеевич",
                             "ogrnip": record.ogrnip, "inn": record.inn, "email": "sidorov@ip.test",
                             "phone": "+7 900 000-00-00", "okved": {"main": {"code": "47.77"}, "auxiliary": [],
                                                                    "other": []}},
            "real_estate": []}


@dataclass
class Person:
    """Someone with a certificate of the test PKI and its key, using the portal through their own client."""

    portal: Portal
    name: str  # the end entity's name in the test PKI
    client: TestClient
    pki: TestPKI

    @property
    def certificate(self) -> Any:
        return load_certificate(self.pki[self.name].der)

    def proof(self, challenge: bytes, origin: str = ORIGIN) -> dict[str, Any]:
        """The authentication proof, made exactly as the agent's ``/v1/authenticate`` makes it."""
        cert = self.certificate
        key = self.pki[self.name].key
        message = proof_message(origin, challenge)
        digest = (streebog512 if cert.public_key().curve.size == 64 else streebog256)(message).digest()
        return proof_document(origin=origin, challenge=challenge, certificate=cert,
                              signature=key.sign_digest(digest))

    def login(self, *, expect: int = 200) -> Any:
        answer = self.client.post("/api/login/challenge")
        assert answer.status_code == 200, answer.text
        challenge = base64.b64decode(answer.json()["challenge"])
        done = self.client.post("/api/login", json={"proof": self.proof(challenge)})
        assert done.status_code == expect, done.text
        return done

    def prepare(self, kind: str, request: dict[str, Any], *, expect: int = 200) -> Any:
        answer = self.client.post("/api/registration/prepare", json={"type": kind, "request": request})
        assert answer.status_code == expect, answer.text
        return answer.json()

    def sign(self, canonical: str | bytes, origin: str | None = ORIGIN) -> str:
        """Base64 of the CAdES-BES of ``canonical``, with the origin attribute, as the agent's ``/v1/sign``."""
        data = canonical.encode("utf-8") if isinstance(canonical, str) else canonical
        cms = sign(data, SoftwareSigner(self.certificate, self.pki[self.name].key), origin=origin)
        assert cms is not None
        return base64.b64encode(cms).decode("ascii")

    def submit(self, cms_b64: str) -> Any:
        return self.client.post("/api/registration/submit", json={"cms": cms_b64})

    def register(self, kind: str, request: dict[str, Any]) -> Any:
        prepared = self.prepare(kind, request)
        return self.submit(self.sign(prepared["canonical"]))

    def join(self, organisation: dict[str, str], subdivision: str | None = None) -> Any:
        draft: dict[str, Any] = {"organisation": organisation}
        if subdivision:
            draft["subdivision"] = subdivision
        return self.register("employee-registration", draft)


@dataclass
class Portal:
    app: Any
    pki: TestPKI
    clients: list[TestClient] = field(default_factory=list)

    def client(self, origin: str = ORIGIN) -> TestClient:
        c = TestClient(self.app, base_url=ORIGIN, headers={"origin": origin})
        c.__enter__()
        self.clients.append(c)
        return c

    def person(self, name: str) -> Person:
        return Person(self, name, self.client(), self.pki)

    def close(self) -> None:
        for c in self.clients:
            c.__exit__(None, None, None)
        self.app.state.engine.dispose()


@pytest.fixture
def make_portal(tmp_path: Path, pki: TestPKI) -> Iterator[Callable[..., Portal]]:
    made: list[Portal] = []

    def make(database_url: str | None = None) -> Portal:
        settings = PortalSettings(data_dir=tmp_path / f"portal{len(made)}", origin=ORIGIN, agent_port=36985,
                                  database_url=database_url, trust=trust_of(pki), registry=demo_registry(),
                                  secret=b"test-secret")
        portal = Portal(create_app(settings), pki)
        made.append(portal)
        return portal

    yield make
    for portal in made:
        portal.close()


@pytest.fixture
def portal(make_portal: Callable[..., Portal]) -> Portal:
    return make_portal()


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)[:3000]

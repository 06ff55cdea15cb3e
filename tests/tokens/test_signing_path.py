"""The straight signing path: what a signature by token costs, counted in PKCS#11 calls on the simulator's module.

A signer carries the key its token's listing found (:class:`signagent.tokens.protocol.TokenKey`), so a signature
is one session round (one presence check), one login and logout (the PIN serves one operation, DESIGN.md section
5), one object search for the private key by CKA_ID and C_Sign -- no second listing of the certificates. Before
this path was straightened, a CMS signature by an already listed certificate cost 4 searches, 2 presence checks and
3 session-info reads; ``signagent sign --token`` cost 7 searches (2 listings).

The calls are counted on PyKCS11's SWIG class (every C_* function the backend reaches goes through it), so what is
counted is what the module receives. Counts are behaviour, not timings.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

import pkcs11_sim
from pkcs11_sim.provision import provision
from pkcs11_sim.store import SimRoot
from signagent.cms.pkcs10 import RequestSigner, build_request, verify_request
from signagent.cms.signer import Signer
from signagent.cms.signing import sign
from signagent.cms.verification import verify
from signagent.testpki import generate
from signagent.tokens import pkcs11 as p11
from signagent.tokens.pkcs11 import discovery as module_paths
from signagent.tokens.protocol import StaticPinProvider
from tests.conftest import require, simulator_env

try:
    import PyKCS11
    import PyKCS11.LowLevel
except ImportError:  # the "test" extra brings it
    PyKCS11 = None

PIN, SO_PIN = b"1234", b"87654321"
COUNTED = ("C_FindObjectsInit", "C_OpenSession", "C_Login", "C_Logout", "C_GetTokenInfo", "C_GetSessionInfo",
           "C_SignInit")
#: One signature by a listed certificate: one presence check (C_GetTokenInfo) and one session-info read of the
#: reused session, one login and logout, one search for the private key, one C_SignInit; no new session.
ONE_SIGNATURE = {"C_FindObjectsInit": 1, "C_OpenSession": 0, "C_Login": 1, "C_Logout": 1, "C_GetTokenInfo": 1,
                 "C_GetSessionInfo": 1, "C_SignInit": 1}


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SimRoot, object]]:
    """The simulator as the agent's configured module, with one provisioned token "Head"."""
    require(PyKCS11 is not None, "PyKCS11")
    with simulator_env(tmp_path_factory) as sim_dir:
        pki = generate(tmp_path_factory.mktemp("pki"))
        root = SimRoot(sim_dir)
        provision(root, label="Head", pin=PIN, so_pin=SO_PIN, profile="head", pki_dir=pki.out_dir)
        yield root, pki


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """How often each function of :data:`COUNTED` is called from now on (through PyKCS11's low-level class)."""
    counts: Counter[str] = Counter()
    for name in COUNTED:
        original = getattr(PyKCS11.LowLevel.CPKCS11Lib, name)

        def counted(self, *args, _original=original, _name=name):  # type: ignore[no-untyped-def]
            counts[_name] += 1
            return _original(self, *args)

        monkeypatch.setattr(PyKCS11.LowLevel.CPKCS11Lib, name, counted)
    return counts


def _seen(counts: Counter[str]) -> dict[str, int]:
    return {name: counts[name] for name in COUNTED}


def test_a_cms_signature_is_one_find_one_session_one_login(sim, calls: Counter[str]) -> None:
    with p11.Pkcs11Module(pkcs11_sim.module_path()) as module:
        token = module.token(label="Head")
        (entry,) = token.certificates()
        pins = StaticPinProvider(PIN)
        signer = token.signer(entry, pins)
        assert isinstance(signer, Signer) and isinstance(signer, RequestSigner)  # the declared protocol, both ways
        token.mechanisms()  # read once per token object (C_GetMechanismList), not per signature
        signatures = []
        for message in (b"first" * 200, b"second" * 200):
            calls.clear()
            signatures.append(sign(message, signer))
            assert _seen(calls) == ONE_SIGNATURE
        assert pins.calls == 2  # one PIN per signature
    for cms in signatures:
        assert verify(cms).signers[0].certificate == entry.certificate


def test_hashing_on_the_token_costs_the_same(sim, calls: Counter[str]) -> None:
    """A module with only CKM_GOSTR3410_WITH_GOSTR3411_12_*: the signer hands the message over, nothing more."""
    with p11.Pkcs11Module(pkcs11_sim.module_path()) as module:
        token = module.token(label="Head")
        (entry,) = token.certificates()
        token._mechanisms = token.mechanisms() - {p11.CKM_GOSTR3410, p11.CKM_GOSTR3410_512}
        calls.clear()
        cms = sign(b"hashed on the token", token.signer(entry, StaticPinProvider(PIN)))
        assert _seen(calls) == ONE_SIGNATURE
        calls.clear()
        request = build_request([("common_name", "request")], token.key_signer(entry.key_id, StaticPinProvider(PIN)))
        assert calls["C_FindObjectsInit"] == 2  # the public key found once for the request, the private key once
        assert calls["C_Login"] == 1
    assert verify(cms).signers[0].certificate == entry.certificate
    assert verify_request(request)


def test_signing_a_file_by_token_lists_it_once(sim, calls: Counter[str], tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """``signagent sign --token``: load the module, list the token once to find the certificate, sign."""
    from signagent.service.token_access import sign_file_with_token

    monkeypatch.setattr(module_paths, "default_module_paths", lambda platform=None: [])  # only the simulator
    with p11.Pkcs11Module(pkcs11_sim.module_path()) as module:
        cert_id = module.token(label="Head").certificates()[0].cert_id
    doc = tmp_path / "doc.txt"
    doc.write_bytes(b"x" * 1024)
    calls.clear()
    entry = sign_file_with_token(doc, token="Head", certificate=cert_id[:16],  # noqa: S106 (a label, not a secret)
                                 pin_provider=StaticPinProvider(PIN), output_path=tmp_path / "doc.sig")
    # the listing: certificates, public keys, private keys (3 searches); the signature: 1 search, 1 login
    assert (calls["C_FindObjectsInit"], calls["C_OpenSession"], calls["C_Login"]) == (4, 1, 1)
    assert verify((tmp_path / "doc.sig").read_bytes()).signers[0].certificate == entry.certificate

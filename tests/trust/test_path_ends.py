"""How a certification path ends (trust/path_building.py): the one self-signature notion of signagent.x509.

A path ends at ``untrusted_root`` on a self-signed certificate that is not an anchor (self-issued and its own key
verifies it, RFC 5280 3.2/6.1/6.2), or -- with no other issuer known -- on a self-issued certificate whose key
identifiers do not say another key signed it; a self-issued certificate signed by another key (a key rollover)
whose issuer is unknown ends at ``issuer_not_found``.
"""

from __future__ import annotations

from datetime import UTC, datetime

from signagent.gost import PrivateKey, curve
from signagent.trust.path_building import CertificatePool, build_paths
from signagent.x509 import Certificate
from signagent.x509 import builder as b

START, END = datetime(2024, 1, 1, tzinfo=UTC), datetime(2034, 1, 1, tzinfo=UTC)
NAME = [("CN", "УЦ с новым ключом")]


def _key() -> PrivateKey:
    return PrivateKey.generate(curve("tc26-256-A"))


def _certificate(key: PrivateKey, signer: PrivateKey, *, signer_id: bytes | None = None) -> Certificate:
    extensions = [b.basic_constraints(True)]
    if signer_id is not None:
        extensions.append(b.authority_key_identifier(signer_id))
    return Certificate.from_der(b.build_certificate(
        subject=NAME, issuer=NAME, public_key=key.public_key(), signing_key=signer, not_before=START,
        not_after=END, extensions=extensions).dump())


def _ends(cert: Certificate) -> list[str]:
    return [p.end for p in build_paths(cert, CertificatePool([], []))]


def test_a_self_signed_certificate_that_is_no_anchor_is_an_untrusted_root() -> None:
    key = _key()
    root = _certificate(key, key)
    assert root.is_self_issued and root.is_self_signed
    assert _ends(root) == ["untrusted_root"]


def test_a_key_rollover_certificate_without_its_issuer_is_an_issuer_not_found() -> None:
    old, new = _key(), _key()
    rollover = _certificate(new, old, signer_id=b.key_identifier(old.public_key()))
    assert rollover.is_self_issued and not rollover.is_self_signed
    assert _ends(rollover) == ["issuer_not_found"]


def test_a_self_issued_certificate_whose_signature_fails_is_still_a_root_when_nothing_else_issued_it() -> None:
    key, other = _key(), _key()
    forged = _certificate(key, other)  # no AKI: nothing says another key signed it
    assert forged.is_self_issued and not forged.is_self_signed
    assert _ends(forged) == ["untrusted_root"]

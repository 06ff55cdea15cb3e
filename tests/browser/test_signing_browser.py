"""Signing and authentication from a portal page, in a real Chromium, against docs/API.md: the user confirms in the
agent's window with the simulated token's PIN; the results are checked by signagent's own verifier and by an
independent one (OpenSSL with the GOST engine), the authentication proof by GOST R 34.10-2012 with the
certificate's key over the origin-bound hash.

Every test here needs the agent's operations (``needs_lead``): POST /v1/sign, /v1/authenticate, GET
/v1/certificates and the confirmation page (``data-testid`` ``pin``, ``approve``, ``deny``).
"""

from __future__ import annotations

import base64
import ctypes
import io
import os
from pathlib import Path
from typing import Any

import pytest

from signagent.cli import main as signagent_main
from tests.conftest import require
from tests.oracles import openssl_gost

from .conftest import GUARD_MS, Token, decide_in_agent_window, dump, open_portal, pair_through_popup, result

pytestmark = pytest.mark.needs_lead("POST /v1/sign, /v1/authenticate, GET /v1/certificates, the confirmation page")

TEXT = "Заявление о регистрации юридического лица\nООО «Ромашка», ИНН 7707083893\n"
PDF_SIZE = 5 << 20  # 5 MiB


def _ready_page(context: Any, portal: Any, token: Token, **params: object) -> Any:
    """A portal page, paired with the agent, its certificate field filled with the token's certificate."""
    page = open_portal(context, portal, token.agent.port, text=TEXT, cert=token.certificate_id, **params)
    paired = pair_through_popup(context, page)
    assert paired["ok"], dump(paired)
    return page


def _verify_with_signagent(token: Token, signature: Path, content: Path | None = None) -> None:
    args = ["verify", str(signature), "--trust", str(token.root), "--intermediate", str(token.intermediate),
            "--offline", "--revocation", "off"]
    if content is not None:
        args += ["--content", str(content)]
    assert signagent_main(args) == 0


def _verify_with_openssl(token: Token, signature: Path, out: Path, content: Path | None = None) -> bytes:
    """``openssl cms -verify`` (GOST engine) of the DER signature; the content it recovered."""
    require(openssl_gost.openssl_binary() is not None and openssl_gost.available(),
            f"openssl with the GOST engine ({openssl_gost.reason()})")
    args = ["cms", "-verify", "-binary", "-inform", "DER", "-in", str(signature),
            "-CAfile", str(token.chain_file(out.parent)), "-out", str(out)]
    if content is not None:
        args += ["-content", str(content)]
    done = openssl_gost.run_cli(args)
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    return out.read_bytes()


def _pdf(size: int) -> bytes:
    """A valid one-page PDF of at least ``size`` bytes: an image of random (incompressible) pixels."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_raw

    width = 1024
    height = size // (width * 3) + 1
    pixels = (ctypes.c_ubyte * (width * height * 3)).from_buffer_copy(os.urandom(width * height * 3))
    pdf = pdfium.PdfDocument.new()
    page = pdf.new_page(595, 842)
    image = pdfium.PdfImage.new(pdf)
    image.set_bitmap(pdfium.PdfBitmap.new_native(width, height, pdfium_raw.FPDFBitmap_BGR, buffer=pixels,
                                                 stride=width * 3))
    image.set_matrix(pdfium.PdfMatrix().scale(500, 700).translate(40, 70))
    page.insert_obj(image)
    page.gen_content()
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def test_certificates_list_the_tokens_certificate(context, signing_agent, portal) -> None:
    page = _ready_page(context, portal, signing_agent)
    page.get_by_test_id("certificates").click()
    listed = result(page, "certificates")
    assert listed["ok"], dump(listed)
    (entry,) = [c for c in listed["value"] if c["id"] == signing_agent.certificate_id]
    assert entry["has_private_key"] is True
    assert base64.b64decode(entry["certificate"], validate=True) == signing_agent.certificate.read_bytes()  # DER


def test_sign_text_verifies(context, signing_agent, portal, tmp_path: Path) -> None:
    page = _ready_page(context, portal, signing_agent)
    window = decide_in_agent_window(context, lambda: page.get_by_test_id("sign-text").click(), pin=signing_agent.pin)
    signed = result(page, "sign-text")
    assert signed["ok"], dump(signed)
    assert window.is_closed() or window.url.startswith(signing_agent.agent.url)
    value = signed["value"]
    assert value["certificateId"] == signing_agent.certificate_id and value["requestId"]
    assert base64.b64decode(value["certificate"]) == signing_agent.certificate.read_bytes()
    signature = tmp_path / "text.sig"
    signature.write_bytes(base64.b64decode(value["cms"], validate=True))

    _verify_with_signagent(signing_agent, signature)
    assert _verify_with_openssl(signing_agent, signature, tmp_path / "recovered.txt") == TEXT.encode()


@pytest.mark.slow
def test_sign_5mib_pdf_detached(context, signing_agent, portal, tmp_path: Path) -> None:
    document = _pdf(PDF_SIZE)
    assert len(document) >= PDF_SIZE and document.startswith(b"%PDF-")
    portal.document = document
    page = _ready_page(context, portal, signing_agent, pdf=1)
    assert result(page, "pdf")["value"] == len(document)
    decide_in_agent_window(context, lambda: page.get_by_test_id("sign-pdf").click(), pin=signing_agent.pin)
    signed = result(page, "sign-pdf")
    assert signed["ok"], dump(signed)
    signature, content = tmp_path / "document.pdf.sig", tmp_path / "document.pdf"
    signature.write_bytes(base64.b64decode(signed["value"]["cms"], validate=True))
    content.write_bytes(document)
    assert len(signature.read_bytes()) < 64 * 1024  # detached: the 5 MiB are not in the signature

    _verify_with_signagent(signing_agent, signature, content)
    _verify_with_openssl(signing_agent, signature, tmp_path / "recovered.pdf", content)
    content.write_bytes(document[:-1] + bytes([document[-1] ^ 1]))  # one bit changed: no longer verifies
    assert signagent_main(["verify", str(signature), "--content", str(content), "--trust", str(signing_agent.root),
                           "--intermediate", str(signing_agent.intermediate), "--offline", "--revocation", "off"]) != 0


def test_authenticate_proof_verifies(context, signing_agent, portal) -> None:
    from signagent.gost import streebog256, streebog512
    from signagent.x509 import Certificate

    challenge = os.urandom(32)
    page = _ready_page(context, portal, signing_agent)
    page.get_by_test_id("challenge").fill(base64.b64encode(challenge).decode())
    decide_in_agent_window(context, lambda: page.get_by_test_id("authenticate").click(), pin=signing_agent.pin)
    proof = result(page, "authenticate")
    assert proof["ok"], dump(proof)
    value = proof["value"]
    assert value["format"] == "signagent-auth" and value["version"] == 1
    assert value["origin"] == portal.origin and value["certificateId"] == signing_agent.certificate_id
    assert base64.b64decode(value["challenge"]) == challenge

    der = base64.b64decode(value["certificate"], validate=True)
    assert der == signing_agent.certificate.read_bytes()
    certificate = Certificate.from_der(der)
    key = certificate.public_key()
    signature = base64.b64decode(value["signature"], validate=True)
    assert len(signature) == 2 * key.curve.size

    def bound(origin: str) -> bytes:  # docs/API.md "Authentication proof"
        data = streebog256(origin.encode()).digest() + streebog256(challenge).digest()
        return (streebog256 if key.curve.size == 32 else streebog512)(data).digest()

    assert key.verify_digest(bound(portal.origin), signature)
    assert not key.verify_digest(bound("https://evil.test"), signature)  # bound to the origin: useless elsewhere


def test_user_denies_signing(context, signing_agent, portal) -> None:
    page = _ready_page(context, portal, signing_agent)
    decide_in_agent_window(context, lambda: page.get_by_test_id("sign-text").click(), approve=False)
    denied = result(page, "sign-text")
    assert not denied["ok"] and denied["name"] == "UserCancelled" and denied["code"] == "user_cancelled", \
        dump(denied)


def test_blocked_popup_signs_through_the_link(context, signing_agent, portal, tmp_path: Path) -> None:
    _ready_page(context, portal, signing_agent)  # paired through the popup; then a page where popups are blocked
    page = open_portal(context, portal, signing_agent.agent.port, text=TEXT, cert=signing_agent.certificate_id,
                       nopopup=1)
    page.get_by_test_id("sign-text").click()
    link = page.locator("a[data-signagent=confirm-link]")
    link.wait_for(state="visible", timeout=GUARD_MS)
    assert link.get_attribute("href").startswith(f"{signing_agent.agent.url}/confirm/")
    decide_in_agent_window(context, link.click, pin=signing_agent.pin)
    signed = result(page, "sign-text")
    assert signed["ok"], dump(signed)
    signature = tmp_path / "text.sig"
    signature.write_bytes(base64.b64decode(signed["value"]["cms"]))
    _verify_with_signagent(signing_agent, signature)


def test_events_report_the_pages_own_requests(context, signing_agent, portal) -> None:
    page = _ready_page(context, portal, signing_agent)
    page.get_by_test_id("events").click()
    assert result(page, "events")["ok"]
    page.wait_for_function("() => window.agent._events && window.agent._events.readyState === 1", timeout=GUARD_MS)
    decide_in_agent_window(context, lambda: page.get_by_test_id("sign-text").click(), pin=signing_agent.pin)
    signed = result(page, "sign-text")
    assert signed["ok"], dump(signed)
    request_id = signed["value"]["requestId"]
    page.wait_for_function("id => window.events.some(e => e.request_id === id && e.status === 'approved')",
                           arg=request_id, timeout=GUARD_MS)
    seen = page.evaluate("() => window.events")
    assert all(e["origin"] == portal.origin for e in seen), seen

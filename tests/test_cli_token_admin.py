"""`signagent sign --token` and `signagent token keygen|csr|import|delete`, in-process, against the simulator's
PKCS#11 module loaded through PyKCS11 (found via $SIGNAGENT_PKCS11_MODULES, as a configured vendor module is).

The full life of a token key: request made on a blank token -> issued by the test PKI's intermediate CA ->
imported -> listed by `signagent certs` -> signs (our verifier and `openssl cms -verify` accept) -> deleted.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pkcs11_sim.provision import provision
from pkcs11_sim.store import SimRoot
from signagent.cli import main
from signagent.cms.pkcs10 import load_request
from signagent.testpki import generate
from signagent.x509 import Certificate
from signagent.x509 import builder as b
from signagent.x509.signature import public_key_from_info
from tests.cms.conftest import openssl_ready
from tests.conftest import require, simulator_env
from tests.oracles import openssl_gost

PIN, SO_PIN = b"1234", b"87654321"
HEAD = ["--profile", "head", "--cn", "ООО «Ромашка»", "--surname", "Иванов", "--given-name", "Иван Иванович",
        "--org", "ООО «Ромашка»", "--ogrn", "1027700132195", "--innle", "7707083893", "--inn", "500100732259",
        "--country", "RU"]


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory):
    """Tokens "Head" (provisioned: head certificate + key) and "Blank" (PIN set, no objects); PIN files."""
    with simulator_env(tmp_path_factory) as sim_dir:
        pki = generate(tmp_path_factory.mktemp("pki"))
        root = SimRoot(sim_dir)
        provision(root, label="Head", pin=PIN, so_pin=SO_PIN, profile="head", pki_dir=pki.out_dir)
        root.create("Blank", SO_PIN, PIN)
        files = tmp_path_factory.mktemp("pins")
        (files / "pin").write_bytes(PIN + b"\n")
        (files / "wrong").write_bytes(b"0000\n")
        yield {"pki": pki, "root": root, "pin": str(files / "pin"), "wrong": str(files / "wrong")}


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    rc = main(list(args))
    out, err = capsys.readouterr()
    return rc, out, err


def verify_ok(capsys: pytest.CaptureFixture[str], env: dict, sig: Path, content: Path | None = None) -> dict:
    trust = ["--trust", str(env["pki"].root.paths["pem"]), "--intermediate", str(env["pki"].intermediate.paths["pem"])]
    extra = ["--content", str(content)] if content else []
    rc, out, err = run(capsys, "verify", str(sig), *extra, *trust, "--offline", "--revocation", "off", "--json")
    assert rc == 0, (out, err)
    return json.loads(out)


def openssl_accepts(env: dict, sig: Path, content: Path | None = None) -> None:
    require(openssl_ready(), f"openssl with the GOST engine ({openssl_gost.reason()})")
    args = ["cms", "-verify", "-binary", "-inform", "DER", "-in", str(sig), "-CAfile",
            str(env["pki"].out_dir / "chain.pem"), "-out", "/dev/null"]
    if content is not None:
        args += ["-content", str(content)]
    done = openssl_gost.run_cli(args)
    assert done.returncode == 0, done.stderr.decode(errors="replace")


def head_id(env: dict) -> str:
    return env["pki"]["head"].streebog256


def test_sign_with_the_token_by_id_prefix_sha1_or_file(env, capsys, tmp_path: Path) -> None:
    doc = tmp_path / "doc.txt"
    doc.write_bytes("Заявление о регистрации организации\n".encode())
    head = env["pki"]["head"]
    sha1_spaced = " ".join(head.sha1[i:i + 2] for i in range(0, 40, 2))
    for n, ref in enumerate((head_id(env)[:16], sha1_spaced, str(head.paths["pem"]))):
        sig = tmp_path / f"doc{n}.sig"
        rc, _, err = run(capsys, "sign", str(doc), "--token", "Head", "--cert", ref, "--pin-file", env["pin"],
                           "--chain", str(env["pki"].intermediate.paths["pem"]), "-o", str(sig))
        assert rc == 0, err
        report = verify_ok(capsys, env, sig)
        assert report["status"] == "valid" and report["signers"][0]["signer"]["sha1"] == head.sha1
        openssl_accepts(env, sig)
    detached = tmp_path / "doc.p7s"
    assert run(capsys, "sign", str(doc), "--token", "Head", "--cert", head_id(env), "--pin-file", env["pin"],
               "--detached", "-o", str(detached))[0] == 0
    assert verify_ok(capsys, env, detached, doc)["detached"] is True
    openssl_accepts(env, detached, doc)


def test_token_by_serial_and_pem_output(env, capsys, tmp_path: Path) -> None:
    serial = next(t for t in env["root"].tokens() if t.label == "Head").serial
    doc = tmp_path / "a.bin"
    doc.write_bytes(b"x" * 1024)
    sig = tmp_path / "a.pem"
    rc, _, err = run(capsys, "sign", str(doc), "--token", f" {serial} ", "--cert", head_id(env)[:8], "--pin-file",
                     env["pin"], "--pem", "-o", str(sig))
    assert rc == 0, err
    assert sig.read_bytes().startswith(b"-----BEGIN CMS-----")


def _fails(capsys, *args: str) -> str:
    rc, out, err = run(capsys, *args)
    assert rc == 2, (out, err)
    assert err.count("\n") == 1 and err.startswith("signagent: "), err  # one line, no traceback
    return err


def test_sign_errors_are_one_line_and_leave_no_output(env, capsys, tmp_path: Path) -> None:
    doc = tmp_path / "doc.txt"
    doc.write_bytes(b"data")
    sig = tmp_path / "doc.sig"
    base = ["sign", str(doc), "-o", str(sig)]
    # wrong PIN: the counter is reported, nothing is written
    err = _fails(capsys, *base, "--token", "Head", "--cert", head_id(env)[:16], "--pin-file", env["wrong"])
    assert "incorrect PIN" in err
    # no terminal and no --pin-file: says how to give the PIN
    err = _fails(capsys, *base, "--token", "Head", "--cert", head_id(env)[:16])
    assert "--pin-file" in err
    err = _fails(capsys, *base, "--token", "Nope", "--cert", head_id(env)[:16], "--pin-file", env["pin"])
    assert "no token 'Nope'" in err and "«Head»" in err and "«Blank»" in err
    err = _fails(capsys, *base, "--token", "Head", "--cert", "00" * 8, "--pin-file", env["pin"])
    assert "no certificate" in err
    err = _fails(capsys, *base, "--token", "Head", "--cert", "xyz", "--pin-file", env["pin"])
    assert "hex digits" in err
    rc, _, err = run(capsys, *base, "--token", "Head", "--key", "k.pem", "--cert", "abc")  # click's usage block
    assert rc == 2 and "exactly one of --key and --token" in err
    assert not sig.exists() and [p.name for p in tmp_path.iterdir()] == ["doc.txt"]
    # the right PIN afterwards resets the counter and signs
    assert run(capsys, *base, "--token", "Head", "--cert", head_id(env)[:16], "--pin-file", env["pin"])[0] == 0


def test_removed_token_is_a_clear_error_and_works_again(env, capsys, tmp_path: Path) -> None:
    store = next(t for t in env["root"].tokens() if t.label == "Head")
    doc = tmp_path / "doc.txt"
    doc.write_bytes(b"data")
    args = ["sign", str(doc), "--token", "Head", "--cert", head_id(env)[:16], "--pin-file", env["pin"],
            "-o", str(tmp_path / "s")]
    store.set_present(False)
    try:
        err = _fails(capsys, *args)
        assert "no token 'Head'" in err
    finally:
        store.set_present(True)
    assert run(capsys, *args)[0] == 0


def _issue(env: dict, request_pem: bytes, out: Path) -> Certificate:
    """The test PKI's intermediate CA issues a certificate for the request (subject and key taken as they are)."""
    info = load_request(request_pem)["certification_request_info"]
    now = datetime.now(UTC)
    inter = env["pki"].intermediate
    asn1 = b.build_certificate(subject=info["subject"], public_key=public_key_from_info(info["subject_pk_info"]),
                               signing_key=inter.key, issuer=inter.certificate, not_before=now - timedelta(minutes=5),
                               not_after=now + timedelta(days=365),
                               extensions=[b.key_usage("digital_signature", "non_repudiation")])
    out.write_bytes(asn1.dump())
    return Certificate.from_der(asn1.dump())


def test_keygen_csr_import_sign_delete_round_trip(env, capsys, tmp_path: Path) -> None:
    pin = ["--token", "Blank", "--pin-file", env["pin"]]
    # a request for a key made on the token in the same step
    req = tmp_path / "req.csr"
    rc, _, err = run(capsys, "token", "csr", "--new-key", "--curve", "tc26-512-A", *HEAD, *pin, "-o", str(req))
    assert rc == 0, err
    assert "request for key pair" in err
    rc, out, _ = run(capsys, "csr", "verify", str(req), "--json")
    assert rc == 0 and json.loads(out)["public_key"]["curve"].endswith("512-paramSetA")
    cert_file = tmp_path / "issued.cer"
    cert = _issue(env, req.read_bytes(), cert_file)
    # before the import the inventory does not know it; after, with its key
    assert run(capsys, "token", "import", str(cert_file), *pin)[0] == 0
    rc, out, _ = run(capsys, "certs", "--json", "--no-trust-store", "--trust", str(env["pki"].root.paths["pem"]),
                     "--trust", str(env["pki"].intermediate.paths["pem"]))
    entry = next(c for c in json.loads(out)["certificates"] if c["id"] == cert.streebog_thumbprint)
    assert entry["source"]["label"] == "Blank" and entry["has_private_key"] and entry["chain"]["status"] == "valid"
    # importing it twice is refused
    assert "already on" in _fails(capsys, "token", "import", str(cert_file), *pin)
    # it signs, and both verifiers accept
    doc = tmp_path / "doc.txt"
    doc.write_bytes("Регистрация профиля организации".encode())
    sig = tmp_path / "doc.sig"
    assert run(capsys, "sign", str(doc), "--cert", cert.streebog_thumbprint[:12], *pin, "-o", str(sig))[0] == 0
    assert verify_ok(capsys, env, sig)["signers"][0]["signer"]["sha1"] == cert.sha1_thumbprint
    openssl_accepts(env, sig)
    # deletion needs confirmation without a terminal
    assert "--yes" in _fails(capsys, "token", "delete", "--cert", cert.streebog_thumbprint[:12], *pin)
    rc, out, _ = run(capsys, "token", "delete", "--cert", cert.streebog_thumbprint[:12], "--with-key", "--yes", *pin)
    assert rc == 0 and "3 object(s) deleted" in out
    rc, out, _ = run(capsys, "certs", "--json", "--no-trust-store")
    assert all(c["id"] != cert.streebog_thumbprint for c in json.loads(out)["certificates"])


def test_keygen_then_request_for_that_key(env, capsys, tmp_path: Path) -> None:
    pin = ["--token", "Blank", "--pin-file", env["pin"]]
    rc, out, err = run(capsys, "token", "keygen", "--label", "second", "--json", *pin)
    assert rc == 0, err
    made = json.loads(out)
    assert made["token"]["label"] == "Blank" and made["curve"].endswith("256-paramSetA") and len(made["key_id"]) == 40
    rc, out, _ = run(capsys, "token", "csr", "--key-id", made["key_id"], "--cn", "Проверка", *pin)
    assert rc == 0 and out.startswith("-----BEGIN CERTIFICATE REQUEST-----")
    request = load_request(out.encode())
    assert request["certification_request_info"]["subject_pk_info"]["public_key"].native is not None
    req = tmp_path / "r.csr"
    req.write_text(out)
    rc, checked, _ = run(capsys, "csr", "verify", str(req), "--json")
    assert rc == 0 and json.loads(checked)["public_key"]["value"] == made["public_key"]
    # the pair is deleted by its id
    rc, out, _ = run(capsys, "token", "delete", "--key-id", made["key_id"], "--yes", *pin)
    assert rc == 0 and "2 object(s) deleted" in out
    assert "no object" in _fails(capsys, "token", "delete", "--key-id", made["key_id"], "--yes", *pin)


def test_token_command_errors(env, capsys, tmp_path: Path) -> None:
    pin = ["--pin-file", env["pin"]]
    assert "exactly one of --key-id and --new-key" in _fails(capsys, "token", "csr", "--token", "Blank", "--cn", "x",
                                                             *pin)
    assert "--key-id wants hex" in _fails(capsys, "token", "csr", "--token", "Blank", "--key-id", "zz", "--cn", "x",
                                          *pin)
    # a bad subject is refused before any key is generated
    blank = next(t for t in env["root"].tokens() if t.label == "Blank")
    before = len(blank.load()["objects"])
    assert "checksum" in _fails(capsys, "token", "csr", "--token", "Blank", "--new-key", "--cn", "x", "--inn",
                                "500100732258", *pin)
    assert len(blank.load()["objects"]) == before
    # a certificate whose key is not on the token
    other = env["pki"]["employee"].paths["pem"]
    assert "no key pair" in _fails(capsys, "token", "import", str(other), "--token", "Blank", *pin)
    # the software key directory is not a PKCS#11 token
    assert "not a PKCS#11 token" in _fails(capsys, "token", "keygen", "--token", "software keys", *pin)
    assert "incorrect PIN" in _fails(capsys, "token", "keygen", "--token", "Blank", "--pin-file", env["wrong"])


def test_token_pulled_out_while_the_pin_is_asked_leaves_no_signature(env, tmp_path: Path) -> None:
    """The token goes away between choosing the certificate and C_Sign (while the user types the PIN)."""
    from signagent.service.token_access import sign_file_with_token
    from signagent.tokens.errors import TokenRemovedError

    store = next(t for t in env["root"].tokens() if t.label == "Head")

    class PullOut:
        def get_pin(self, token_info: object, tries_left: int | None) -> bytes:
            store.set_present(False)
            return PIN

    doc = tmp_path / "doc.txt"
    doc.write_bytes(b"data")
    out = tmp_path / "doc.sig"
    try:
        with pytest.raises(TokenRemovedError) as caught:
            sign_file_with_token(doc, token="Head", certificate=head_id(env), pin_provider=PullOut(),  # noqa: S106
                                 output_path=out)
        assert caught.value.retriable
    finally:
        store.set_present(True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["doc.txt"]  # no signature, no temporary file


def test_pin_is_asked_on_the_terminal_without_echo(env, tmp_path: Path) -> None:
    """`signagent sign --token` with no --pin-file on a real pseudo-terminal: the prompt names the token, the
    typed PIN is not echoed, and the signature is made."""
    import os
    import sys

    from tests.terminal import converse

    doc = tmp_path / "doc.txt"
    doc.write_bytes(b"typed PIN")
    sig = tmp_path / "doc.sig"
    argv = [sys.executable, "-m", "signagent", "sign", str(doc), "--token", "Head", "--cert", head_id(env)[:16],
            "-o", str(sig)]
    code, text, unused = converse(argv, dict(os.environ), [PIN], guard=60)
    assert unused == 0, text
    assert code == 0, text
    prompt, _, after = text.rpartition(":")
    assert "«Head»" in prompt and PIN.decode() not in after  # the typed PIN was not echoed
    assert sig.stat().st_size > 0


def test_the_key_directory_signs_like_a_token(env, capsys, tmp_path: Path) -> None:
    import os

    employee = env["pki"]["employee"]
    keys_dir = Path(os.environ["SIGNAGENT_KEYS_DIR"])
    (keys_dir / "employee.key").write_bytes(employee.key_pem)
    (keys_dir / "employee.crt").write_bytes(employee.pem)
    doc = tmp_path / "doc.txt"
    doc.write_bytes(b"from the key directory")
    sig = tmp_path / "doc.sig"
    # an unencrypted key file needs no PIN, so no terminal or --pin-file is asked for
    rc, _, err = run(capsys, "sign", str(doc), "--token", "software keys", "--cert", employee.streebog256[:16],
                     "-o", str(sig))
    assert rc == 0, err
    assert verify_ok(capsys, env, sig)["signers"][0]["signer"]["sha1"] == employee.sha1
    assert "not a PKCS#11 token" in _fails(capsys, "token", "import", str(employee.paths["pem"]), "--token",
                                           "software keys")

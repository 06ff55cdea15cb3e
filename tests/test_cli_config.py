"""The configuration on the command line (`signagent config show`, the file reaching the commands), errors as JSON
with --json, the owner's short name in reports, and the exit status of `signagent tokens` when nothing works."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from signagent.cli import main
from signagent.testpki import generate
from signagent.testpki.generator import TestPKI


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> TestPKI:
    return generate(tmp_path_factory.mktemp("config-pki"))


@pytest.fixture
def config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Write the configuration file the commands read ($SIGNAGENT_CONFIG) and clear the variables it competes with."""
    for name in ("SIGNAGENT_TRUST_DIR", "SIGNAGENT_REVOCATION", "SIGNAGENT_OFFLINE", "SIGNAGENT_API_PORT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "C.UTF-8")
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LC_MESSAGES", raising=False)

    def write(text: str) -> Path:
        path = tmp_path / "config.toml"
        path.write_text(text, encoding="utf-8")
        monkeypatch.setenv("SIGNAGENT_CONFIG", str(path))
        return path

    return write


def test_config_show(config_file, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    path = config_file('revocation = "hard"\napi_port = 40000\n')
    monkeypatch.setenv("SIGNAGENT_API_PORT", "41000")
    assert main(["config", "show", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["file"] == str(path)
    rows = doc["settings"]
    assert rows["revocation"] == {"value": "hard", "source": "file", "env": "SIGNAGENT_REVOCATION"}
    assert rows["api_port"]["value"] == 41000 and rows["api_port"]["source"] == "env"
    assert rows["api_host"] == {"value": "127.0.0.1", "source": "default", "env": "SIGNAGENT_API_HOST"}
    assert main(["config", "show"]) == 0
    text = capsys.readouterr().out
    assert str(path) in text and "[file]" in text and "[env: SIGNAGENT_API_PORT]" in text


def test_bad_configuration_is_one_line_and_json(config_file, capsys: pytest.CaptureFixture[str], pki) -> None:
    path = config_file("revocation = 3\n")
    args = ["cert", "validate", str(pki["head"].paths["pem"]), "--trust", str(pki.root.paths["pem"])]
    assert main(args) == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.strip().splitlines()) == 1
    assert str(path) in err and "revocation" in err
    assert main([*args, "--json"]) == 2
    out, err = capsys.readouterr()
    error = json.loads(out)["error"]
    assert error["code"] == "config_invalid" and str(path) in error["message"] and error["retriable"] is False
    assert len(err.strip().splitlines()) == 1


def test_the_file_sets_the_trust_store_and_the_revocation_mode(config_file, tmp_path: Path, pki,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    store = tmp_path / "store"
    config_file(f'trust_dir = "{store}"\nrevocation = "off"\noffline = true\n')
    assert main(["trust", "import", str(pki.root.paths["pem"])]) == 0
    assert (store).is_dir()
    capsys.readouterr()
    person = str(pki["person"].paths["pem"])
    inter = ["--intermediate", str(pki.intermediate.paths["pem"])]
    assert main(["cert", "validate", person, *inter, "--json"]) == 0  # no --trust: the configured store
    doc = json.loads(capsys.readouterr().out)
    assert doc["status"] == "valid" and doc["revocation_mode"] == "off"
    owner = doc["chain"][0]["owner_name"]
    assert owner and "Common Name" not in owner and ";" not in owner
    assert main(["cert", "validate", person, *inter]) == 0
    text = capsys.readouterr().out
    assert owner in text and "Common Name" not in text
    assert main(["cert", "validate", person, *inter, "--revocation", "hard", "--json"]) != 0  # the option wins
    assert json.loads(capsys.readouterr().out)["revocation_mode"] == "hard"


def test_verify_json_errors_and_owner_name(pki, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    content = tmp_path / "doc.txt"
    content.write_text("x")
    sig = tmp_path / "doc.sig"
    head = pki["head"].paths
    assert main(["sign", str(content), "--cert", str(head["pem"]), "--key", str(head["key"]), "--detached",
                 "-o", str(sig)]) == 0
    trust = ["--trust", str(pki.root.paths["pem"]), "--intermediate", str(pki.intermediate.paths["pem"]),
             "--offline", "--revocation", "off"]
    capsys.readouterr()
    # a detached signature without --content: the reason was on stderr only, stdout was empty
    assert main(["verify", str(sig), *trust, "--json"]) == 2
    out, err = capsys.readouterr()
    error = json.loads(out)["error"]
    assert set(error) >= {"code", "message", "message_ru", "retriable"} and error["code"]
    assert "--content" in error["message"] and len(err.strip().splitlines()) == 1
    assert main(["verify", str(sig), "--content", str(content), *trust, "--json"]) == 0
    signer = json.loads(capsys.readouterr().out)["signers"][0]["signer"]
    assert signer["owner_name"] == signer["identity"]["full_name"]
    assert main(["verify", str(sig), "--content", str(content), *trust]) == 0
    assert signer["owner_name"] in capsys.readouterr().out


def test_usage_errors_after_parsing_are_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # --json first or last: it is processed before the other options, so both orders give JSON
    for args in (["key", "generate", "--json", "--revocation-typo"],
                 ["cert", "validate", "x.pem", "--revocation", "sometimes", "--json"],
                 ["key", "generate", "-o", str(tmp_path / "k.pem"), "--no-encrypt", "--password-file", "p",
                  "--json"]):
        assert main(args) == 2
        out, err = capsys.readouterr()
        assert json.loads(out)["error"]["code"] == "usage_error", args
        assert len(err.strip().splitlines()) == 1
    assert main(["cert", "validate", "x.pem", "--revocation", "sometimes"]) == 2
    assert capsys.readouterr().out == ""  # without --json: nothing on stdout


def test_hash_json_keeps_its_list(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["hash", "--json", str(tmp_path / "missing")]) == 2
    doc = json.loads(capsys.readouterr().out)
    assert isinstance(doc, list) and doc[0]["error"]["code"]


def _view(modules: list[dict], errors: list[dict], pcsc: bool) -> dict:
    return {"modules": modules, "readers": [], "errors": errors,
            "pcsc": {"available": pcsc, "error": None if pcsc else {
                "code": "pcsc_unavailable", "message": "no PC/SC", "message_ru": "нет PC/SC", "retriable": True}}}


_LOAD_ERROR = {"code": "module_load_failed", "message": "/x.so: cannot load", "message_ru": "/x.so: не загружен",
               "retriable": False}


@pytest.mark.parametrize(("view", "rc"), [
    (_view([], [_LOAD_ERROR, _LOAD_ERROR], pcsc=False), 2),  # every source failed
    (_view([{"path": "/ok.so", "description": "ok", "tokens": []}], [_LOAD_ERROR], pcsc=False), 0),
    (_view([], [_LOAD_ERROR], pcsc=True), 0),  # PC/SC works
    (_view([], [], pcsc=False), 0),  # nothing configured, nothing failed
])
def test_tokens_exit_status(view: dict, rc: int, monkeypatch: pytest.MonkeyPatch,
                            capsys: pytest.CaptureFixture[str]) -> None:
    from signagent.service import sources

    monkeypatch.setattr(sources, "list_tokens", lambda modules=(): view)
    assert main(["tokens"]) == rc
    out, err = capsys.readouterr()
    if rc:
        assert err.count("\n") == 1 and "no token source could be used: /x.so: cannot load (and 1 more)" in err
        assert "/x.so: cannot load" in out  # the listing still shows every failure
    else:
        assert err == ""
    assert main(["tokens", "--json"]) == rc
    doc = json.loads(capsys.readouterr().out)
    assert ("error" in doc) == bool(rc)
    if rc:
        assert doc["error"]["code"] == "module_load_failed" and doc["errors"] == view["errors"]

"""The configuration object: file, then environment, then options; clear errors; the lower layers' defaults kept;
the policy defaults the use cases take from it; the owner's short name in report documents."""

from __future__ import annotations

from pathlib import Path

import pytest

from signagent.errors import UsageError
from signagent.service import choices, hashing, keys, policy, reports
from signagent.service.config import SETTINGS, Config, ConfigError, default_config_path, load_config
from signagent.x509 import Certificate


def _file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_are_the_lower_layers_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from signagent.tokens.softkeys import default_keys_dir
    from signagent.trust.fetching import default_cache_dir
    from signagent.trust.store import default_store_path

    for setting in SETTINGS:
        monkeypatch.delenv(setting.env, raising=False)
    config = load_config(environ={}, path=_file(tmp_path, ""))
    assert config.trust_dir == default_store_path()
    assert config.keys_dir == default_keys_dir()
    assert config.cache_dir == default_cache_dir()
    assert config.pkcs11_modules == () and config.revocation == "soft" and config.offline is False
    assert (config.api_host, config.api_port) == ("127.0.0.1", 36985)
    assert config.revocation_timeout == 5.0 and config.download_timeout == 15.0
    assert set(config.sources.values()) == set() and config.file == tmp_path / "config.toml"


def test_file_then_environment_then_options(tmp_path: Path) -> None:
    path = _file(tmp_path, """
trust_dir = "/srv/trust"
pkcs11_modules = ["/opt/a.so", "/opt/b.so"]
revocation = "hard"
offline = true
api_port = 40000
revocation_timeout = 2
""")
    env = {"SIGNAGENT_TRUST_DIR": "/env/trust", "SIGNAGENT_API_PORT": "41000", "SIGNAGENT_KEYS_DIR": ""}
    config = load_config({"revocation": "off", "offline": None}, environ=env, path=path)
    assert config.trust_dir == Path("/env/trust") and config.sources["trust_dir"] == "env"
    assert config.pkcs11_modules == ("/opt/a.so", "/opt/b.so") and config.sources["pkcs11_modules"] == "file"
    assert config.revocation == "off" and config.sources["revocation"] == "option"
    assert config.offline is True and config.sources["offline"] == "file"  # None: the option was not given
    assert config.api_port == 41000 and config.revocation_timeout == 2.0
    assert "keys_dir" not in config.sources  # an empty variable is unset
    doc = config.to_dict()
    assert doc["file"] == str(path)
    assert doc["settings"]["trust_dir"] == {"value": "/env/trust", "source": "env", "env": "SIGNAGENT_TRUST_DIR"}
    assert doc["settings"]["pkcs11_modules"]["value"] == ["/opt/a.so", "/opt/b.so"]


def test_modules_from_the_environment_are_path_separated(tmp_path: Path) -> None:
    import os

    env = {"SIGNAGENT_PKCS11_MODULES": os.pathsep.join(["/a.so", "", "/b.so"])}
    assert load_config(environ=env, path=_file(tmp_path, "")).pkcs11_modules == ("/a.so", "/b.so")


@pytest.mark.parametrize(("text", "words"), [
    ('trust_directory = "/x"\n', ["unknown key 'trust_directory'", "trust_dir"]),
    ('pure_backend = true\n', ["unknown key 'pure_backend'"]),  # read at import time: environment only
    ("offline = 1\n", ["offline: expected true or false"]),
    ('revocation = "sometimes"\n', ["revocation: expected one of soft, hard, off"]),
    ('api_port = 70000\n', ["api_port: expected a port number from 1 to 65535"]),
    ('api_port = "80"\n', ["api_port: expected a port number"]),
    ('pkcs11_modules = "/a.so"\n', ["pkcs11_modules: expected a list of paths"]),
    ("revocation_timeout = -1\n", ["revocation_timeout: expected a number of seconds"]),
    ("[api]\nport = 1\n", ["unknown key 'api'"]),
    ("trust_dir = \n", ["not valid TOML"]),
])
def test_file_errors_name_the_file_and_the_key(tmp_path: Path, text: str, words: list[str]) -> None:
    path = _file(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(environ={}, path=path)
    err = caught.value
    assert err.code == "config_invalid" and isinstance(err, UsageError)
    assert str(path) in err.message and str(path) in err.message_ru
    assert all(w in err.message for w in words), err.message
    assert "\n" not in err.message


def test_environment_errors_name_the_variable(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="SIGNAGENT_API_PORT: expected a port number"):
        load_config(environ={"SIGNAGENT_API_PORT": "http"}, path=_file(tmp_path, ""))
    with pytest.raises(ConfigError, match="SIGNAGENT_OFFLINE"):
        load_config(environ={"SIGNAGENT_OFFLINE": "maybe"}, path=_file(tmp_path, ""))
    assert load_config(environ={"SIGNAGENT_OFFLINE": "yes"}, path=_file(tmp_path, "")).offline is True


def test_pure_backend_is_reported_as_gost_reads_it(tmp_path: Path) -> None:
    path = _file(tmp_path, "")
    assert load_config(environ={"SIGNAGENT_PURE": "2"}, path=path).pure_backend is True
    assert load_config(environ={"SIGNAGENT_PURE": "0"}, path=path).pure_backend is False


def test_which_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    named = _file(tmp_path, 'revocation = "hard"\n')
    assert load_config(environ={"SIGNAGENT_CONFIG": str(named)}).revocation == "hard"
    with pytest.raises(ConfigError, match="no such file"):  # a file named on purpose must exist
        load_config(environ={"SIGNAGENT_CONFIG": str(tmp_path / "missing.toml")})
    with pytest.raises(ConfigError, match="is a directory"):
        load_config(environ={"SIGNAGENT_CONFIG": str(tmp_path)})
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    assert default_config_path().name == "config.toml" and default_config_path().parent.name == "signagent"
    config = load_config(environ={})  # the default file may be absent
    assert config.file is None and config.revocation == "soft"


def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    import os

    fifo = tmp_path / "config.fifo"
    os.mkfifo(fifo)
    with pytest.raises(ConfigError, match="not a regular file"):
        load_config(environ={}, path=fifo)


def test_choices_agree_with_the_services() -> None:
    assert choices.HASH_ALGORITHMS == tuple(sorted(hashing.ALGORITHMS))
    assert choices.KEY_PROFILES == tuple(sorted(keys.PROFILES))
    assert choices.DEFAULT_CURVE == keys.DEFAULT_CURVE


def _config(tmp_path: Path, **env: str) -> Config:
    return load_config(environ=env, path=_file(tmp_path, ""))


def test_check_settings(tmp_path: Path) -> None:
    assert policy.check_settings(None) == {"revocation": "soft", "offline": False, "cache_dir": None,
                                           "fetcher": None}
    config = _config(tmp_path, SIGNAGENT_REVOCATION="hard", SIGNAGENT_CACHE_DIR=str(tmp_path / "cache"),
                     SIGNAGENT_REVOCATION_TIMEOUT="3")
    chosen = policy.check_settings(config)
    assert chosen["revocation"] == "hard" and chosen["offline"] is False
    assert chosen["cache_dir"] == str(tmp_path / "cache") and chosen["fetcher"].timeout == 3.0
    assert policy.check_settings(config)["fetcher"] is chosen["fetcher"]  # one per timeout: caches keep working
    own = policy.check_settings(config, revocation="off", offline=True)
    assert own["revocation"] == "off" and own["offline"] is True and own["fetcher"] is None
    offline = _config(tmp_path, SIGNAGENT_OFFLINE="1")
    assert policy.check_settings(offline)["fetcher"] is None


def test_modules_and_store_come_from_the_configuration(tmp_path: Path) -> None:
    import os

    config = _config(tmp_path, SIGNAGENT_PKCS11_MODULES=os.pathsep.join(["/a.so", "/b.so"]),
                     SIGNAGENT_TRUST_DIR=str(tmp_path / "store"))
    assert policy.pkcs11_modules(config, ("/c.so",)) == ("/a.so", "/b.so", "/c.so")
    assert policy.trust_store(config).path == tmp_path / "store"
    assert policy.store_material(config) == {"trust_roots": [], "intermediates": [], "crls": []}


def test_owner_name_in_report_documents(tmp_path: Path) -> None:
    from signagent.service import validation
    from signagent.testpki import generate

    pki = generate(tmp_path / "pki")
    report, doc = validation.certificate_report(
        pki["person"].paths["pem"], config=_config(tmp_path), trust_paths=[pki.root.paths["pem"]],
        intermediate_paths=[pki.intermediate.paths["pem"]], offline=True, revocation="off")
    assert report.status == "valid"
    names = [c["owner_name"] for c in doc["chain"]]
    person = reports.owner_name(Certificate.from_der(pki["person"].der))
    assert names[0] == person and "," not in person and ";" not in person
    assert all(n and "Common Name" not in n for n in names)

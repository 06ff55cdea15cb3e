"""The browser extension's build (``signagent extension build``, :mod:`signagent.service.extension`, issue 13):
manifests for Chromium and Firefox, the page script identical to the one the agent serves, a deterministic zip,
atomic replacement of a previous build and refusal of anything else in the way. Loading it into a real browser is
``tests/browser/test_cadesplugin_extension.py``."""

from __future__ import annotations

import json
import os
import re
import zipfile
from pathlib import Path

import httpx
import pytest

import signagent
from signagent.cli import main
from signagent.errors import FileAccessError, UsageError
from signagent.service import extension as ext
from signagent.service.extension import BROWSERS, build_extension, manifest_version
from tests.api.conftest import AgentRunner
from tests.conftest import ROOT

SERVED_SCRIPT = ROOT / "signagent" / "api" / "static" / "cadesplugin_api.js"


def _manifest(build: ext.ExtensionBuild) -> dict:
    return json.loads((build.directory / "manifest.json").read_text(encoding="utf-8"))


def _tree(directory: Path) -> dict[str, bytes]:
    return {p.relative_to(directory).as_posix(): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


def _leftovers(out: Path) -> list[str]:
    """Temporary directories or files of a build left beside its output."""
    return sorted(p.name for p in out.iterdir() if p.name.startswith("."))


# --- manifests -----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("browser", BROWSERS)
def test_manifest_runs_the_script_in_the_page_world_before_the_page(tmp_path: Path, browser: str) -> None:
    build = build_extension(tmp_path, browser=browser, port=40123)  # type: ignore[arg-type]
    manifest = _manifest(build)
    assert manifest["manifest_version"] == 3
    assert manifest["version"] == manifest_version(signagent.__version__) == build.version
    relay, script = manifest["content_scripts"]
    assert script["js"] == ["signagent-settings.js", "cadesplugin_api.js"]  # settings first: the script reads them
    assert script["world"] == "MAIN" and script["run_at"] == "document_start" and script["all_frames"] is True
    assert script["matches"] == ["http://*/*", "https://*/*"]
    # the relay: in the extension's own (isolated) world of the same frames, as early
    assert relay["js"] == ["relay.js"] and "world" not in relay
    assert relay["run_at"] == "document_start" and relay["all_frames"] is True and relay["matches"] == script["matches"]
    # the agent's own pages (its confirmation window) are left alone
    for entry in (relay, script):
        assert entry["exclude_globs"] == ["http://127.0.0.1:40123/*", "http://localhost:40123/*"]
    # the background part: Chromium's service worker reads the settings itself, Firefox's page lists them first
    background = {"chromium": {"service_worker": "background.js"},
                  "firefox": {"scripts": ["signagent-settings.js", "background.js"]}}[browser]
    assert manifest["background"] == background
    # minimal: storage alone (the extension's key for the agent; no install warning), nothing else asked or exposed
    assert manifest["permissions"] == ["storage"]
    for key in ("host_permissions", "optional_permissions", "optional_host_permissions",
                "web_accessible_resources", "externally_connectable", "content_security_policy", "update_url"):
        assert key not in manifest, key
    # every file named exists; nothing fetched from elsewhere
    named = [*relay["js"], *script["js"], *background.get("scripts", []), background.get("service_worker"),
             *manifest["icons"].values()]
    for name in filter(None, named):
        assert (build.directory / name).is_file(), name
    assert sorted(manifest["icons"]) == ["128", "16", "32", "48"]
    for size, name in manifest["icons"].items():  # PNGs of the size they claim
        data = (build.directory / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and int.from_bytes(data[16:20], "big") == int(size)
    assert not re.search(r"https?://(?!127\.0\.0\.1|localhost|\*)", json.dumps(manifest)), manifest
    settings = (build.directory / "signagent-settings.js").read_text()
    assert "self.signagent_cadesplugin_options = {port: 40123, relay: true};" in settings


def test_browser_specific_keys(tmp_path: Path) -> None:
    chromium = _manifest(build_extension(tmp_path, browser="chromium"))
    firefox = _manifest(build_extension(tmp_path, browser="firefox"))
    assert int(chromium["minimum_chrome_version"]) >= 111  # "world": "MAIN" in a manifest needs Chrome 111
    assert "browser_specific_settings" not in chromium
    gecko = firefox["browser_specific_settings"]["gecko"]
    assert gecko["strict_min_version"] == "128.0"  # Firefox runs MAIN-world content scripts from 128
    assert re.fullmatch(r"[a-z0-9._-]+@[a-z0-9._-]+", gecko["id"])
    assert gecko["data_collection_permissions"] == {"required": ["none"]}  # what addons.mozilla.org asks for
    assert "version_name" not in firefox and "minimum_chrome_version" not in firefox
    assert chromium["content_scripts"] == firefox["content_scripts"]
    for manifest in (chromium, firefox):
        for script in manifest["content_scripts"]:
            assert script["exclude_globs"][0] == "http://127.0.0.1:36985/*"  # the default port


@pytest.mark.parametrize("browser", BROWSERS)
def test_name_and_description_in_english_and_russian(tmp_path: Path, browser: str) -> None:
    build = build_extension(tmp_path, browser=browser)  # type: ignore[arg-type]
    manifest = _manifest(build)
    default = manifest["default_locale"]
    locales = {p.name: json.loads((p / "messages.json").read_text(encoding="utf-8"))
               for p in (build.directory / "_locales").iterdir()}
    assert set(locales) == {"en", "ru"} and default in locales
    for key, limit in (("name", 75), ("description", 132)):  # Chromium's limits
        placeholder = re.fullmatch(r"__MSG_(\w+)__", manifest[key])
        assert placeholder, manifest[key]
        for language, messages in locales.items():
            text = messages[placeholder.group(1)]["message"]
            assert 0 < len(text) <= limit, (language, key, text)
            assert bool(re.search("[а-яА-Я]", text)) == (language == "ru"), (language, text)
    assert 0 < len(manifest["short_name"]) <= 12  # what Chromium shows under the icon


def test_manifest_version_of_python_versions() -> None:
    assert manifest_version("0.1.0") == "0.1.0"
    assert manifest_version("1.2.3.4") == "1.2.3.4"
    assert manifest_version("0.2.0rc1") == "0.2.0"
    assert manifest_version("1.0.dev3") == "1.0"
    assert manifest_version("01.002") == "1.2"  # browsers refuse leading zeros
    with pytest.raises(UsageError):
        manifest_version("dev")
    with pytest.raises(UsageError):
        manifest_version("70000.1")


def test_version_name_when_the_release_part_differs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ext, "__version__", "0.3.0rc2")
    monkeypatch.setattr(ext, "manifest_version", lambda version="0.3.0rc2": "0.3.0")
    chromium = _manifest(build_extension(tmp_path, browser="chromium"))
    firefox = _manifest(build_extension(tmp_path, browser="firefox"))
    assert chromium["version"] == "0.3.0" and chromium["version_name"] == "0.3.0rc2"
    assert firefox["version"] == "0.3.0" and "version_name" not in firefox


def test_the_package_version_is_the_projects() -> None:
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["version"] == signagent.__version__


# --- the script: one source ----------------------------------------------------------------------------------------

def test_the_script_is_the_one_the_agent_serves(tmp_path: Path) -> None:
    builds = [build_extension(tmp_path / "out", browser=b) for b in BROWSERS]
    (tmp_path / "agent").mkdir()
    runner = AgentRunner(tmp_path / "agent")
    try:
        agent = runner.start()
        served = httpx.get(f"{agent.url}/cadesplugin_api.js", headers={"Origin": "https://portal.example"},
                           timeout=30).content
    finally:
        runner.stop_all()
    assert served == SERVED_SCRIPT.read_bytes()
    for build in builds:
        assert (build.directory / "cadesplugin_api.js").read_bytes() == served
        with zipfile.ZipFile(build.zip_path) as archive:
            assert archive.read("cadesplugin_api.js") == served


def test_no_second_copy_of_the_script_in_the_repository() -> None:
    marker = b"SignAgent's `window.cadesplugin`"
    assert marker in SERVED_SCRIPT.read_bytes()
    copies = [p for p in (ROOT / "signagent").rglob("*.js") if p != SERVED_SCRIPT and marker in p.read_bytes()]
    assert copies == []
    scripts = {p.name for p in (ROOT / "signagent" / "extension").rglob("*.js")}
    assert scripts == {"relay.js", "background.js"}  # the extension's own parts, not the object model


# --- the zip -------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("browser", BROWSERS)
def test_zip_is_deterministic_and_holds_the_directory(tmp_path: Path, browser: str,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    first = build_extension(tmp_path / "a", browser=browser)  # type: ignore[arg-type]
    import time

    later = time.time() + 86400 * 400
    monkeypatch.setattr(time, "time", lambda: later)  # a build a year later: not a byte differs
    second = build_extension(tmp_path / "b", browser=browser)  # type: ignore[arg-type]
    again = build_extension(tmp_path / "a", browser=browser)  # type: ignore[arg-type]  (replacing the first)
    assert first.zip_path.name == f"signagent-cadesplugin-{browser}-{first.version}.zip"
    assert first.zip_path.read_bytes() == second.zip_path.read_bytes() == again.zip_path.read_bytes()
    with zipfile.ZipFile(first.zip_path) as archive:
        infos = archive.infolist()
        names = [i.filename for i in infos]
        assert names == sorted(names) and "manifest.json" in names  # at the root, as both stores want
        assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
        assert {i.external_attr >> 16 for i in infos} == {0o100644}
        assert archive.testzip() is None
        assert {n: archive.read(n) for n in names} == _tree(first.directory)
    assert _tree(first.directory) == _tree(second.directory)


# --- atomic replacement, refusals ----------------------------------------------------------------------------------

def test_rebuild_replaces_a_previous_build_whole(tmp_path: Path) -> None:
    first = build_extension(tmp_path, browser="chromium", port=40001)
    (first.directory / "_locales" / "ru" / "messages.json").unlink()  # a damaged previous build
    second = build_extension(tmp_path, browser="chromium", port=40002)
    assert second.directory == first.directory
    assert "{port: 40002, relay: true}" in (second.directory / "signagent-settings.js").read_text()
    assert (second.directory / "_locales" / "ru" / "messages.json").is_file()
    assert _leftovers(tmp_path) == []
    empty = tmp_path / "empty"
    (empty / "firefox").mkdir(parents=True)  # an empty directory is not in anyone's way
    assert (build_extension(empty, browser="firefox").directory / "manifest.json").is_file()


def test_refuses_a_foreign_directory(tmp_path: Path) -> None:
    foreign = tmp_path / "chromium"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    with pytest.raises(FileAccessError) as refused:
        build_extension(tmp_path, browser="chromium")
    assert "not a signagent extension build" in refused.value.message and "не заменён" in refused.value.message_ru
    assert _tree(foreign) == {"notes.txt": b"mine"}
    assert not any(tmp_path.glob("*.zip")) and _leftovers(tmp_path) == []

    # a build's files plus one of the user's: still not ours to replace
    build = build_extension(tmp_path / "x", browser="chromium")
    (build.directory / "keep.me").write_text("mine")
    with pytest.raises(FileAccessError):
        build_extension(tmp_path / "x", browser="chromium")
    assert (build.directory / "keep.me").read_text() == "mine"

    # another extension's directory (same file names, other scripts)
    other = tmp_path / "y" / "firefox"
    other.mkdir(parents=True)
    (other / "manifest.json").write_text(json.dumps({"manifest_version": 3, "content_scripts": [{"js": ["a.js"]}]}))
    with pytest.raises(FileAccessError):
        build_extension(tmp_path / "y", browser="firefox")

    # a file, or a symlink, where the directory goes
    (tmp_path / "z").mkdir()
    (tmp_path / "z" / "firefox").write_text("a file")
    with pytest.raises(FileAccessError):
        build_extension(tmp_path / "z", browser="firefox")
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "firefox").symlink_to(build.directory)
    with pytest.raises(FileAccessError):
        build_extension(tmp_path / "s", browser="firefox")


def test_refuses_a_foreign_zip(tmp_path: Path) -> None:
    name = f"signagent-cadesplugin-chromium-{manifest_version()}.zip"
    (tmp_path / name).write_bytes(b"not a zip")
    with pytest.raises(FileAccessError):
        build_extension(tmp_path, browser="chromium")
    assert (tmp_path / name).read_bytes() == b"not a zip" and not (tmp_path / "chromium").exists()
    (tmp_path / name).unlink()
    with zipfile.ZipFile(tmp_path / name, "w") as archive:
        archive.writestr("photo.jpg", b"...")
    with pytest.raises(FileAccessError):
        build_extension(tmp_path, browser="chromium")
    (tmp_path / name).unlink()
    (tmp_path / name).mkdir()
    with pytest.raises(FileAccessError):
        build_extension(tmp_path, browser="chromium")


def test_a_failed_build_leaves_the_previous_one_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = build_extension(tmp_path, browser="firefox", port=40001)
    tree, zipped = _tree(before.directory), before.zip_path.read_bytes()
    real_rename = os.rename

    def failing_rename(src: object, dst: object) -> None:
        if Path(str(dst)) == before.directory and str(src).endswith(".tmp"):  # the new build going into place
            raise OSError(28, "No space left on device")
        real_rename(src, dst)

    monkeypatch.setattr(ext.os, "rename", failing_rename)
    with pytest.raises(FileAccessError) as failed:
        build_extension(tmp_path, browser="firefox", port=40002)
    assert "No space left on device" in failed.value.message
    assert _tree(before.directory) == tree and before.zip_path.read_bytes() == zipped  # the old one, put back
    assert _leftovers(tmp_path) == []

    # a failure while writing the files: nothing of the new build anywhere
    monkeypatch.setattr(ext.os, "rename", real_rename)

    def failing_fsync(fd: int) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(ext.os, "fsync", failing_fsync)
    with pytest.raises(FileAccessError):
        build_extension(tmp_path, browser="firefox", port=40003)
    assert _tree(before.directory) == tree and _leftovers(tmp_path) == []


def test_refuses_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(UsageError):
        build_extension(tmp_path, browser="safari")  # type: ignore[arg-type]
    for port in (0, 65536, True, "36985"):
        with pytest.raises(UsageError):
            build_extension(tmp_path, browser="chromium", port=port)  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []


def test_default_directory_is_the_user_data_directory(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert ext.default_extension_dir() == tmp_path / "signagent" / "extension"


# --- the command line ----------------------------------------------------------------------------------------------

def test_cli_builds_both_and_says_how_to_install(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANG", "C")
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LC_MESSAGES", raising=False)
    monkeypatch.setenv("SIGNAGENT_API_PORT", "40404")
    assert main(["extension", "build", "-o", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "chrome://extensions" in out and "Load unpacked" in out and str(tmp_path / "chromium") in out
    assert "about:debugging" in out and "Load Temporary Add-on" in out and "addons.mozilla.org" in out
    assert "port 40404" in out
    for browser in BROWSERS:
        assert "{port: 40404, relay: true}" in (tmp_path / browser / "signagent-settings.js").read_text()

    monkeypatch.setenv("LANG", "ru_RU.UTF-8")
    assert main(["extension", "build", "--browser", "firefox", "-o", str(tmp_path), "--port", "40405"]) == 0
    out = capsys.readouterr().out
    assert "Загрузить временное дополнение" in out and "порту 40405" in out


def test_cli_json_and_default_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.delenv("SIGNAGENT_API_PORT", raising=False)
    assert main(["extension", "build", "--browser", "chromium", "--json"]) == 0
    (entry,) = json.loads(capsys.readouterr().out)
    where = tmp_path / "data" / "signagent" / "extension"
    assert entry == {"browser": "chromium", "directory": str(where / "chromium"),
                     "zip": str(where / f"signagent-cadesplugin-chromium-{manifest_version()}.zip"),
                     "version": manifest_version(), "port": 36985}


def test_cli_refusal_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANG", "C")
    (tmp_path / "firefox").mkdir()
    (tmp_path / "firefox" / "mine.txt").write_text("x")
    assert main(["extension", "build", "--browser", "firefox", "-o", str(tmp_path)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.strip().splitlines()) == 1 and "not a signagent extension build" in err
    assert main(["extension", "build", "--browser", "firefox", "-o", str(tmp_path), "--json"]) == 2
    assert json.loads(capsys.readouterr().out)["error"]["code"] == "file_access"

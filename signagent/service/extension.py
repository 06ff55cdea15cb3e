"""``signagent extension build``: the browser extension that puts CryptoPro's ``window.cadesplugin`` into web pages
(issue 13, delivery way (a)), for Chromium-based browsers and for Firefox.

What a build holds (one directory per browser, and the same files in a zip):

* ``manifest.json`` -- Manifest V3, from ``signagent/extension/manifest.<browser>.json`` with signagent's version.
  Two content scripts at ``document_start`` in every frame of every http(s) page: ``relay.js`` in the extension's
  isolated world, and the page script in the page's own world (``"world": "MAIN"``), so that
  ``window.cadesplugin`` exists before any script of the page runs and CryptoPro's loader
  (``if (window.cadesplugin) return;``) and the wrappers built on it find ours and stand down. A background part
  (``background.js``: a service worker in Chromium, a background script in Firefox). One permission,
  ``storage`` (where the extension keeps the key the agent knows it by; browsers show no warning for it); no host
  permissions, no remote code.
* ``cadesplugin_api.js`` -- the agent's own ``signagent/api/static/cadesplugin_api.js``, copied byte for byte at
  build time: the extension and ``GET /cadesplugin_api.js`` run the same object model (one source, never a
  second copy in the repository).
* ``signagent-settings.js`` -- written by the build, run just before the page script and in the background part:
  the agent's port and ``relay: true`` (``self.signagent_cadesplugin_options``). The agent's own pages (its
  confirmation window) are excluded from the content scripts.
* ``relay.js``, ``background.js`` -- how the page script reaches the agent: not by its own ``fetch`` (the
  page's CSP ``connect-src`` and the browser's Local Network Access rules would apply to it, and a popup blocker
  to its windows) but through the extension, whose background part calls the agent naming the page's origin as
  the browser reports it (``X-SignAgent-Page-Origin``) and opens the agent's windows. The agent believes that
  origin only from an extension the user has allowed in the agent's window (signagent.api.security, rule 3a);
  pairing, confirmation and the CMS's origin attribute stay per page origin.
* ``icons/icon-<n>.png`` (drawn by ``scripts/extension_icons.py``) and ``_locales/{en,ru}/messages.json`` -- the
  icon, name and description.

:func:`build_extension` writes atomically: the directory is made beside its final place and renamed into it (the
previous build, if any, is renamed away first and removed after), the zip through
:func:`signagent.fileio.atomic_output`. It replaces only a previous build (or an empty directory), never a
foreign directory. The zip is deterministic: entries sorted, fixed timestamps and permissions, so two builds of
the same version give the same bytes.

Exports: BROWSERS, ExtensionBuild, build_extension, default_extension_dir, manifest_version.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Literal

from signagent import __version__
from signagent.errors import FileAccessError, UsageError
from signagent.fileio import atomic_output, fsync_dir

__all__ = ["BROWSERS", "ExtensionBuild", "build_extension", "default_extension_dir", "manifest_version"]

Browser = Literal["chromium", "firefox"]
#: The browsers a build is made for (``signagent extension build --browser``).
BROWSERS: tuple[Browser, ...] = ("chromium", "firefox")

DEFAULT_PORT = 36985
#: The object model, as the agent serves it (``GET /cadesplugin_api.js``): the one source of the extension's script.
SCRIPT = "cadesplugin_api.js"
SETTINGS = "signagent-settings.js"
#: The extension's own files (package data in ``signagent/extension``), copied as they are.
_OWN = ("relay.js", "background.js", "_locales/en/messages.json", "_locales/ru/messages.json",
        *(f"icons/icon-{n}.png" for n in (16, 32, 48, 128)))
#: Every file a build writes (relative paths): what a directory may hold to be replaced by a new build.
FILES = ("manifest.json", SCRIPT, SETTINGS, *_OWN)
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can carry: no trace of when it was built


@dataclass(frozen=True)
class ExtensionBuild:
    """One build: the unpacked extension (``Load unpacked`` / ``Load Temporary Add-on``) and its zip."""

    directory: Path
    zip_path: Path
    browser: Browser
    version: str
    port: int

    def to_dict(self) -> dict[str, object]:
        return {"browser": self.browser, "directory": str(self.directory), "zip": str(self.zip_path),
                "version": self.version, "port": self.port}


def default_extension_dir() -> Path:
    """The user data directory of signagent + ``extension`` (``~/.local/share/signagent/extension`` on Linux)."""
    import platformdirs

    return Path(platformdirs.user_data_dir("signagent"), "extension")


def manifest_version(version: str = __version__) -> str:
    """``version`` as browsers accept it in a manifest: one to four dot-separated integers (0..65535, no leading
    zeros), from the release part of a Python version (``0.2.0rc1`` -> ``0.2.0``)."""
    found = re.match(r"\d+(?:\.\d+){0,3}", version)
    if found is None:
        raise UsageError(f"signagent's version {version!r} has no numeric release part for a browser manifest",
                         message_ru=f"в версии signagent {version!r} нет числовой части для манифеста расширения")
    parts = [int(p) for p in found.group(0).split(".")]
    if any(p > 65535 for p in parts):
        raise UsageError(f"signagent's version {version!r}: a manifest's numbers are at most 65535",
                         message_ru=f"версия signagent {version!r}: числа версии расширения не больше 65535")
    return ".".join(str(p) for p in parts)


def _package_file(*parts: str) -> bytes:
    return resources.files("signagent").joinpath(*parts).read_bytes()


def _manifest(browser: Browser, port: int) -> dict[str, object]:
    template: dict[str, object] = json.loads(_package_file("extension", f"manifest.{browser}.json"))
    manifest: dict[str, object] = {}
    for key, value in template.items():  # the version right after the name, where a reader looks for it
        manifest[key] = value
        if key == "short_name":
            manifest["version"] = manifest_version()
            if browser == "chromium" and manifest["version"] != __version__:
                manifest["version_name"] = __version__  # shown by Chromium; Firefox has no such key
    assert "version" in manifest
    for script in manifest["content_scripts"]:  # type: ignore[attr-defined]
        # The agent's own pages (its confirmation window) need no cadesplugin.
        script["exclude_globs"] = [f"http://127.0.0.1:{port}/*", f"http://localhost:{port}/*"]
    return manifest


def _settings_script(port: int) -> bytes:
    return (
        "// Written by `signagent extension build`: where the agent listens (its api_port when this extension was\n"
        "// built), and that the page script goes through the extension (relay.js, background.js). Runs in the\n"
        "// page's world just before cadesplugin_api.js, and first in the background part.\n"
        f"self.signagent_cadesplugin_options = {{port: {port}, relay: true}};\n"
    ).encode()


def _contents(browser: Browser, port: int) -> dict[str, bytes]:
    """Relative path -> bytes of every file of a build."""
    files = {
        "manifest.json": (json.dumps(_manifest(browser, port), ensure_ascii=False, indent=2) + "\n").encode(),
        SCRIPT: _package_file("api", "static", SCRIPT),
        SETTINGS: _settings_script(port),
    }
    for name in _OWN:
        files[name] = _package_file("extension", *name.split("/"))
    assert set(files) == set(FILES)
    return files


def _zip_bytes(files: dict[str, bytes]) -> bytes:
    """The files as a deterministic zip: sorted entries, fixed time, permissions and host system."""
    import io

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, whatever system builds it
            info.external_attr = 0o100644 << 16  # a regular file, rw-r--r--
            archive.writestr(info, files[name], compresslevel=9)
    return buffer.getvalue()


def _foreign(path: Path, en: str, ru: str) -> FileAccessError:
    return FileAccessError(f"{path}: {en}; not replaced (remove it or choose another output directory)",
                           message_ru=f"{path}: {ru}; не заменён (удалите его или укажите другой каталог)",
                           situation="exists", path=path)


def _check_replaceable_dir(path: Path) -> None:
    """Refuse ``path`` unless it is missing, an empty directory or a previous build of this extension."""
    if not os.path.lexists(path):
        return
    if path.is_symlink() or not path.is_dir():
        raise _foreign(path, "exists and is not a directory", "существует и не является каталогом")
    found = False
    for entry in path.rglob("*"):  # stops at the first file a build does not write
        if entry.is_dir() and not entry.is_symlink():
            continue
        if entry.relative_to(path).as_posix() not in FILES:
            raise _foreign(path, "is not a signagent extension build", "это не каталог расширения signagent")
        found = True
    if not found:
        return
    try:
        manifest = json.loads((path / "manifest.json").read_bytes())
        scripts = [s.get("js") for s in manifest.get("content_scripts", [])]
    except (OSError, ValueError, AttributeError):
        scripts = []
    if not any(isinstance(js, list) and SCRIPT in js for js in scripts):  # this build's, or an earlier one's
        raise _foreign(path, "is not a signagent extension build", "это не каталог расширения signagent")


def _check_replaceable_zip(path: Path) -> None:
    if not os.path.lexists(path):
        return
    if path.is_symlink() or not path.is_file() or not zipfile.is_zipfile(path):
        raise _foreign(path, "exists and is not a zip of this extension", "существует и не является архивом расширения")
    with zipfile.ZipFile(path) as archive:
        if not set(archive.namelist()) <= set(FILES) or "manifest.json" not in archive.namelist():
            raise _foreign(path, "is not a zip of this extension", "это не архив расширения signagent")


def _write_dir(target: Path, files: dict[str, bytes]) -> None:
    """``files`` as the directory ``target``: written in a temporary directory beside it, then renamed into place."""
    parent = target.parent
    try:
        temporary = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=parent))
    except OSError as exc:
        raise FileAccessError(situation="cannot_write", path=parent, error=exc.strerror or exc) from None
    old: Path | None = None
    try:
        for name, data in files.items():
            path = temporary.joinpath(*name.split("/"))
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(path, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
        _check_replaceable_dir(target)  # still true now that it is about to go
        if os.path.lexists(target):
            old = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".old", dir=parent))
            os.rename(target, old / "build")  # inside a fresh directory: a rename that cannot hit anything
        try:
            os.rename(temporary, target)
        except BaseException:
            if old is not None:  # put the previous build back
                os.rename(old / "build", target)
            raise
    except OSError as exc:
        raise FileAccessError(situation="cannot_write", path=target, error=exc.strerror or exc) from None
    finally:
        shutil.rmtree(temporary, ignore_errors=True)  # gone already when renamed
        if old is not None and os.path.lexists(target):  # else the previous build stays there, not lost
            shutil.rmtree(old, ignore_errors=True)
    with contextlib.suppress(OSError):
        fsync_dir(parent)


def build_extension(out_dir: str | os.PathLike[str], *, browser: Browser, port: int = DEFAULT_PORT) -> ExtensionBuild:
    """Write the extension for ``browser`` into ``out_dir``: the directory ``<out_dir>/<browser>`` and the zip
    ``<out_dir>/signagent-cadesplugin-<browser>-<version>.zip`` (``out_dir`` is made when missing). ``port``: the
    agent's port (its api_port setting). Replaces a previous build; FileAccessError for anything else in the way."""
    if browser not in BROWSERS:
        raise UsageError(f"unknown browser {browser!r} (known: {', '.join(BROWSERS)})",
                         message_ru=f"неизвестный браузер {browser!r} (известны: {', '.join(BROWSERS)})")
    if not isinstance(port, int) or isinstance(port, bool) or not 1 <= port <= 65535:
        raise UsageError(f"not a TCP port: {port!r}", message_ru=f"это не номер порта TCP: {port!r}")
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FileAccessError(situation="cannot_write", path=out, error=exc.strerror or exc) from None
    directory = out / browser
    zip_path = out / f"signagent-cadesplugin-{browser}-{manifest_version()}.zip"
    _check_replaceable_dir(directory)
    _check_replaceable_zip(zip_path)
    files = _contents(browser, port)
    _write_dir(directory, files)
    with atomic_output(zip_path, mode=0o644) as handle:
        handle.write(_zip_bytes(files))
    return ExtensionBuild(directory, zip_path, browser, manifest_version(), port)

"""``signagent serve --install-autostart`` / ``--uninstall-autostart``: start the agent when the user logs in.

On Linux two files are written, both for the user, never for the system (the agent runs without root):

* a systemd user unit, ``$XDG_CONFIG_HOME/systemd/user/signagent.service`` (``ExecStart=<this signagent> serve``,
  ``Restart=on-failure``), enabled by the user with ``systemctl --user daemon-reload && systemctl --user enable
  --now signagent`` (printed, never run here);
* an XDG autostart entry, ``$XDG_CONFIG_HOME/autostart/signagent.desktop``, for desktops whose session manager
  starts such entries itself. It carries ``X-systemd-skip=true``: a systemd-managed desktop (which turns autostart
  entries into units) leaves it to the unit above. Should both start anyway, the second finds the port taken and
  exits 2, which the unit does not restart on (``RestartPreventExitStatus=2``).

Each file starts with :data:`MARKER`: a file at one of these paths without it was not written by signagent and is
never replaced or removed unless the caller forces it. Writes are atomic and idempotent (the same content is not
rewritten). Installing as root is refused (:class:`AutostartAsRootError`): a root agent would serve every user's
browser with root's tokens and files. On macOS and Windows nothing is written: :attr:`AutostartResult.instructions`
says what to do (a LaunchAgent, a shortcut in the Startup folder).

Exports: MARKER, AutostartFile, AutostartResult, AutostartExistsError, AutostartAsRootError, agent_command,
autostart_paths, install_autostart, uninstall_autostart.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from signagent.errors import FileAccessError, SignAgentError
from signagent.fileio import write_atomic

__all__ = [
    "MARKER",
    "AutostartAsRootError",
    "AutostartExistsError",
    "AutostartFile",
    "AutostartResult",
    "agent_command",
    "autostart_paths",
    "install_autostart",
    "uninstall_autostart",
]

#: The first line of every file written here: how a later call recognises its own files.
MARKER = "# Written by signagent (signagent serve --install-autostart); --uninstall-autostart removes it."
UNIT_NAME = "signagent.service"
DESKTOP_NAME = "signagent.desktop"
LAUNCH_AGENT = "ru.signagent.agent"  # the label of the macOS LaunchAgent the instructions propose


#: What the user runs after the files are written / removed (systemd's own commands, not ours).
_ENABLE = "systemctl --user daemon-reload && systemctl --user enable --now signagent"
_DISABLE = "systemctl --user stop signagent; systemctl --user daemon-reload"

class AutostartExistsError(SignAgentError):
    """A file is where the autostart entry goes, and signagent did not write it: it is left alone."""

    code = "autostart_exists"


class AutostartAsRootError(SignAgentError):
    """Autostart was asked for as root: the agent must run as the user whose browser and tokens it serves."""

    code = "autostart_as_root"


@dataclass(frozen=True)
class AutostartFile:
    """One file and what was done to it: ``written``, ``updated``, ``unchanged``, ``removed``, ``absent``."""

    path: Path
    action: str


@dataclass(frozen=True)
class AutostartResult:
    """What was done (``files``), the commands the user runs next (``follow_up``), and, where nothing is written
    (macOS, Windows), the steps to follow (``instructions``: (English, Russian))."""

    platform: str
    files: tuple[AutostartFile, ...] = ()
    follow_up: tuple[str, ...] = ()
    instructions: tuple[str, str] | None = None

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form."""
        return {"platform": self.platform, "files": [{"path": str(f.path), "action": f.action} for f in self.files],
                "follow_up": list(self.follow_up),
                "instructions": None if self.instructions is None else {"en": self.instructions[0],
                                                                        "ru": self.instructions[1]}}


def _is_root() -> bool:
    geteuid = getattr(os, "geteuid", None)  # absent on Windows, where there is no root to refuse
    return geteuid is not None and geteuid() == 0


def _config_home(environ: Mapping[str, str]) -> Path:
    """``$XDG_CONFIG_HOME`` when set to an absolute path (the XDG Base Directory specification ignores a relative
    one), else ``~/.config``."""
    value = environ.get("XDG_CONFIG_HOME", "")
    if value and os.path.isabs(value):
        return Path(value)
    home = environ.get("HOME") or str(Path.home())
    return Path(home) / ".config"


def autostart_paths(environ: Mapping[str, str] | None = None) -> tuple[Path, Path]:
    """(systemd user unit, XDG autostart entry) for the user of ``environ`` (default: this process's)."""
    base = _config_home(os.environ if environ is None else environ)
    return base / "systemd" / "user" / UNIT_NAME, base / "autostart" / DESKTOP_NAME


def agent_command(argv0: str | None = None, executable: str | None = None) -> list[str]:
    """The absolute command that starts this agent: the running ``signagent`` console script when there is one
    (``argv0``, default ``sys.argv[0]``), else the one beside the interpreter, else ``python -m signagent``."""
    argv0 = sys.argv[0] if argv0 is None else argv0
    python = sys.executable if executable is None else executable
    if argv0 and Path(argv0).name.startswith("signagent") and Path(argv0).suffix in ("", ".exe"):
        found = Path(os.path.abspath(argv0))
        if found.is_file():
            return [str(found)]
    for name in ("signagent", "signagent.exe"):
        beside = Path(os.path.abspath(python)).parent / name  # not resolved: a venv's python is a symlink
        if beside.is_file():
            return [str(beside)]
    return [os.path.abspath(python), "-m", "signagent"]


def _systemd_quote(arg: str) -> str:
    """One word of ``ExecStart=`` (systemd.service "Command lines"): quoted when it holds a blank or a quote;
    ``%`` doubled (specifiers), ``$`` doubled (variable expansion)."""
    arg = arg.replace("%", "%%").replace("$", "$$")
    if arg and not any(c.isspace() or c in "\"'\\;" for c in arg):
        return arg
    return '"' + arg.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _desktop_quote(arg: str) -> str:
    """One argument of a desktop entry's ``Exec`` (Desktop Entry Specification, "The Exec key"): reserved
    characters inside double quotes with ``"`, $, \\`` escaped; ``%`` doubled (field codes). The value itself is
    a string value, whose backslashes are escaped once more."""
    arg = arg.replace("%", "%%")
    if arg and not any(c.isspace() or c in "\"'\\><~|&;$*?#()`" for c in arg):
        quoted = arg
    else:
        quoted = '"' + "".join("\\" + c if c in '"`$\\' else c for c in arg) + '"'
    return quoted.replace("\\", "\\\\")


def _unit(command: Sequence[str]) -> str:
    exec_start = " ".join(_systemd_quote(a) for a in [*command, "serve"])
    return "\n".join([
        MARKER,
        "[Unit]",
        "Description=signagent: local agent for qualified electronic signatures (GOST)",
        "Description=signagent: агент квалифицированной электронной подписи (ГОСТ)",
        "",
        "[Service]",
        "Type=simple",
        f"ExecStart={exec_start}",
        "Restart=on-failure",
        "RestartSec=5",
        "# exit status 2: a usage error or the port is taken (another agent runs): restarting would not help",
        "RestartPreventExitStatus=2",
        "NoNewPrivileges=yes",
        "",
        "[Install]",
        "WantedBy=default.target",
        "",
    ])


def _desktop(command: Sequence[str]) -> str:
    exec_line = " ".join(_desktop_quote(a) for a in [*command, "serve"])
    return "\n".join([
        MARKER,
        "[Desktop Entry]",
        "Type=Application",
        "Name=signagent",
        "Name[ru]=signagent",
        "Comment=Local agent for qualified electronic signatures (GOST) for web portals",
        "Comment[ru]=Агент квалифицированной электронной подписи (ГОСТ) для веб-порталов",
        f"Exec={exec_line}",
        "Terminal=false",
        "NoDisplay=true",
        "X-GNOME-Autostart-enabled=true",
        "# a systemd-managed session runs the user unit signagent.service instead",
        "X-systemd-skip=true",
        "",
    ])


def _ours(path: Path) -> bool:
    """Whether the file at ``path`` was written by this module (its first line is :data:`MARKER`)."""
    try:
        with open(path, "rb") as handle:
            first = handle.readline(len(MARKER.encode()) + 2)
    except OSError:
        return False
    return first.rstrip(b"\r\n") == MARKER.encode()


def _check_replaceable(path: Path, force: bool) -> None:
    if path.is_symlink() or path.exists():
        if path.is_dir() and not path.is_symlink():
            raise FileAccessError(situation="directory", path=path)
        if not force and not _ours(path):
            raise AutostartExistsError(path=path, needs="force")


def _write(path: Path, text: str) -> AutostartFile:
    data = text.encode("utf-8")
    existed = path.exists() and not path.is_symlink()
    try:
        if existed and path.read_bytes() == data:
            return AutostartFile(path, "unchanged")
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.is_symlink():  # replaced by a file of our own (forced), never written through
            path.unlink()
        write_atomic(path, data, mode=0o644)
    except OSError as exc:
        raise FileAccessError(situation="cannot_write", path=path, error=exc.strerror or exc) from None
    return AutostartFile(path, "updated" if existed else "written")


def _other_platform(platform: str, command: Sequence[str]) -> AutostartResult:
    shown = " ".join(f'"{a}"' if " " in a else a for a in [*command, "serve"])
    if platform == "darwin":
        plist = f"~/Library/LaunchAgents/{LAUNCH_AGENT}.plist"
        en = (f"macOS: nothing was written. Create {plist} with Label {LAUNCH_AGENT}, ProgramArguments "
              f"[{', '.join([*command, 'serve'])}], RunAtLoad true and KeepAlive {{SuccessfulExit: false}}, then "
              f"run: launchctl load -w {plist}")
        ru = (f"macOS: ничего не записано. Создайте {plist} с Label {LAUNCH_AGENT}, ProgramArguments "
              f"[{', '.join([*command, 'serve'])}], RunAtLoad true и KeepAlive {{SuccessfulExit: false}}, затем "
              f"выполните: launchctl load -w {plist}")
    else:
        en = ("Windows: nothing was written. Press Win+R, open shell:startup and create there a shortcut to: "
              f"{shown} (as your user, not as administrator)")
        ru = ("Windows: ничего не записано. Нажмите Win+R, откройте shell:startup и создайте там ярлык для: "
              f"{shown} (от своего имени, не от имени администратора)")
    return AutostartResult(platform=platform, instructions=(en, ru))


def install_autostart(*, force: bool = False, command: Sequence[str] | None = None,
                      environ: Mapping[str, str] | None = None, platform: str | None = None,
                      is_root: Callable[[], bool] | None = None) -> AutostartResult:
    """Write (or keep, when already there) the systemd user unit and the XDG autostart entry.

    ``command``: what starts the agent (default :func:`agent_command`); ``environ`` gives ``XDG_CONFIG_HOME`` and
    ``HOME``; ``platform`` is ``sys.platform`` by default (macOS and Windows get instructions only); ``is_root``
    says whether the caller is root (default: the effective user id is 0; tests inject it).

    Raises :class:`AutostartAsRootError` for root, :class:`AutostartExistsError` when a file signagent did not
    write is in the way (unless ``force``) -- then nothing is written -- and FileAccessError when a file cannot
    be written.
    """
    platform = sys.platform if platform is None else platform
    command = list(agent_command() if command is None else command)
    if (_is_root if is_root is None else is_root)():
        raise AutostartAsRootError()
    if platform in ("darwin", "win32", "cygwin"):
        return _other_platform("win32" if platform == "cygwin" else platform, command)
    unit, desktop = autostart_paths(environ)
    for path in (unit, desktop):  # both checked before either is written: never half an installation
        _check_replaceable(path, force)
    files = (_write(unit, _unit(command)), _write(desktop, _desktop(command)))
    return AutostartResult(platform=platform, files=files,
                           follow_up=(_ENABLE,))


def uninstall_autostart(*, force: bool = False, environ: Mapping[str, str] | None = None,
                        platform: str | None = None) -> AutostartResult:
    """Remove the unit and the autostart entry written by :func:`install_autostart` (and the unit's enablement
    link). A file signagent did not write is left alone (:class:`AutostartExistsError`) unless ``force``."""
    platform = sys.platform if platform is None else platform
    if platform in ("darwin", "win32", "cygwin"):
        return _other_platform("win32" if platform == "cygwin" else platform, agent_command())
    unit, desktop = autostart_paths(environ)
    for path in (unit, desktop):
        if path.exists() and not force and not _ours(path):
            raise AutostartExistsError(path=path, needs="force")
    files: list[AutostartFile] = []
    wants = unit.parent / "default.target.wants" / UNIT_NAME
    targets = [unit, desktop]
    if wants.is_symlink() and os.path.abspath(os.path.join(wants.parent, os.readlink(wants))) == str(unit):
        targets.insert(0, wants)  # `systemctl --user enable` made it; a dangling link would be left otherwise
    for path in targets:
        if not (path.exists() or path.is_symlink()):
            files.append(AutostartFile(path, "absent"))
            continue
        try:
            path.unlink()
        except OSError as exc:
            raise FileAccessError(situation="cannot_write", path=path, error=exc.strerror or exc) from None
        files.append(AutostartFile(path, "removed"))
    return AutostartResult(platform=platform, files=tuple(files),
                           follow_up=(_DISABLE,))

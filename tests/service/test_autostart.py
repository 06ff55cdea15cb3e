"""``signagent serve --install-autostart``: a systemd user unit and an XDG autostart entry under the user's
XDG_CONFIG_HOME, written atomically and once, never over a file signagent did not write, never as root; on macOS
and Windows instructions instead. systemctl is never run here."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from signagent.cli import main
from signagent.service import autostart
from signagent.service.autostart import (
    MARKER,
    AutostartAsRootError,
    AutostartExistsError,
    agent_command,
    autostart_paths,
    install_autostart,
    uninstall_autostart,
)

COMMAND = ["/opt/signagent/bin/signagent"]


def _user() -> bool:
    return False


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"XDG_CONFIG_HOME": str(tmp_path / "config"), "HOME": str(tmp_path / "home")}


def _install(env: dict[str, str], **kwargs: object) -> autostart.AutostartResult:
    options: dict[str, object] = {"command": COMMAND, "environ": env, "platform": "linux", "is_root": _user}
    options.update(kwargs)
    return install_autostart(**options)  # type: ignore[arg-type]


def test_install_writes_the_unit_and_the_desktop_entry(env: dict[str, str], tmp_path: Path) -> None:
    result = _install(env)
    unit, desktop = autostart_paths(env)
    assert unit == tmp_path / "config" / "systemd" / "user" / "signagent.service"
    assert desktop == tmp_path / "config" / "autostart" / "signagent.desktop"
    assert [(f.path, f.action) for f in result.files] == [(unit, "written"), (desktop, "written")]
    assert result.follow_up == ("systemctl --user daemon-reload && systemctl --user enable --now signagent",)
    unit_lines = unit.read_text(encoding="utf-8").splitlines()
    assert unit_lines[0] == MARKER
    assert "ExecStart=/opt/signagent/bin/signagent serve" in unit_lines
    assert "Restart=on-failure" in unit_lines and "WantedBy=default.target" in unit_lines
    assert "RestartPreventExitStatus=2" in unit_lines  # a taken port (another agent) is not restarted forever
    assert not any(line.startswith(("User=", "Group=")) for line in unit_lines)  # the user's own service
    desktop_lines = desktop.read_text(encoding="utf-8").splitlines()
    assert desktop_lines[0] == MARKER and desktop_lines[1] == "[Desktop Entry]"
    for line in ("Type=Application", "Name=signagent", "Exec=/opt/signagent/bin/signagent serve",
                 "X-GNOME-Autostart-enabled=true"):
        assert line in desktop_lines
    assert any(line.startswith("Comment=") for line in desktop_lines)
    assert any(line.startswith("Comment[ru]=") and "подписи" in line for line in desktop_lines)
    for path in (unit, desktop):
        assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert not list(unit.parent.glob(".*")) and not list(desktop.parent.glob(".*"))  # no temporary file left


def test_install_is_idempotent_and_updates_its_own_files(env: dict[str, str]) -> None:
    _install(env)
    unit, desktop = autostart_paths(env)
    before = unit.stat().st_mtime_ns, desktop.stat().st_mtime_ns
    again = _install(env)
    assert [f.action for f in again.files] == ["unchanged", "unchanged"]
    assert (unit.stat().st_mtime_ns, desktop.stat().st_mtime_ns) == before
    moved = _install(env, command=["/usr/local/bin/signagent"])  # the agent was reinstalled elsewhere
    assert [f.action for f in moved.files] == ["updated", "updated"]
    assert "ExecStart=/usr/local/bin/signagent serve" in unit.read_text(encoding="utf-8")


def test_a_foreign_file_is_never_replaced_without_force(env: dict[str, str]) -> None:
    unit, desktop = autostart_paths(env)
    desktop.parent.mkdir(parents=True)
    desktop.write_text("[Desktop Entry]\nExec=something-else\n")
    with pytest.raises(AutostartExistsError) as caught:
        _install(env)
    assert caught.value.code == "autostart_exists" and str(desktop) in caught.value.message
    assert caught.value.details["needs"] == "force"
    assert desktop.read_text() == "[Desktop Entry]\nExec=something-else\n"
    assert not unit.exists()  # checked before anything is written: no half installation
    with pytest.raises(AutostartExistsError):
        uninstall_autostart(environ=env, platform="linux")
    assert desktop.exists()
    forced = _install(env, force=True)
    assert [f.action for f in forced.files] == ["written", "updated"]
    assert desktop.read_text(encoding="utf-8").startswith(MARKER)


def test_root_is_refused(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(AutostartAsRootError) as caught:
        _install(env, is_root=lambda: True)
    assert caught.value.code == "autostart_as_root" and "root" in caught.value.message
    assert not any(p.exists() for p in autostart_paths(env))
    # The default check is the effective user id, whoever runs the tests.
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    with pytest.raises(AutostartAsRootError):
        install_autostart(command=COMMAND, environ=env, platform="linux")
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    assert install_autostart(command=COMMAND, environ=env, platform="linux").files


def test_uninstall_removes_its_files_and_the_enablement_link(env: dict[str, str]) -> None:
    _install(env)
    unit, desktop = autostart_paths(env)
    wants = unit.parent / "default.target.wants" / "signagent.service"
    wants.parent.mkdir()
    wants.symlink_to(unit)  # what `systemctl --user enable` makes
    result = uninstall_autostart(environ=env, platform="linux")
    assert [(f.path, f.action) for f in result.files] == [(wants, "removed"), (unit, "removed"),
                                                          (desktop, "removed")]
    assert not wants.is_symlink() and not unit.exists() and not desktop.exists()
    assert "daemon-reload" in result.follow_up[0]
    again = uninstall_autostart(environ=env, platform="linux")
    assert [f.action for f in again.files] == ["absent", "absent"]


def test_paths_follow_xdg_config_home(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert autostart_paths({"HOME": str(home)})[0] == home / ".config" / "systemd" / "user" / "signagent.service"
    # A relative XDG_CONFIG_HOME is invalid (XDG Base Directory specification): ignored.
    assert autostart_paths({"HOME": str(home), "XDG_CONFIG_HOME": "rel"})[1] == \
        home / ".config" / "autostart" / "signagent.desktop"


def test_commands_with_blanks_and_percent_are_quoted(env: dict[str, str]) -> None:
    _install(env, command=["/home/a b/venv/bin/python", "-m", "signagent", "100%"])
    unit, desktop = autostart_paths(env)
    assert 'ExecStart="/home/a b/venv/bin/python" -m signagent 100%% serve' in unit.read_text(encoding="utf-8")
    assert 'Exec="/home/a b/venv/bin/python" -m signagent 100%% serve' in desktop.read_text(encoding="utf-8")


@pytest.mark.parametrize("platform, words", [("darwin", "LaunchAgents"), ("win32", "shell:startup")])
def test_macos_and_windows_get_instructions_only(env: dict[str, str], platform: str, words: str) -> None:
    result = _install(env, platform=platform)
    assert result.files == () and result.instructions is not None
    assert words in result.instructions[0] and words in result.instructions[1]
    assert "/opt/signagent/bin/signagent" in result.instructions[0]
    assert not (Path(env["XDG_CONFIG_HOME"])).exists()


def test_agent_command_is_absolute(tmp_path: Path) -> None:
    script = tmp_path / "bin" / "signagent"
    script.parent.mkdir()
    script.write_text("#!/bin/sh\n")
    assert agent_command(argv0=str(script), executable="/nowhere/python") == [str(script)]
    beside = agent_command(argv0="/x/pytest", executable=str(tmp_path / "bin" / "python"))
    assert beside == [str(script)]
    assert agent_command(argv0="-c", executable="/nowhere/python") == ["/nowhere/python", "-m", "signagent"]


def test_cli_installs_and_uninstalls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("LANG", "C.UTF-8")
    monkeypatch.setattr(autostart.sys, "platform", "linux")
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    assert main(["serve", "--install-autostart"]) == 2
    err = capsys.readouterr().err
    assert err.strip().splitlines() == [f"signagent: {AutostartAsRootError().message}"]
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    assert main(["serve", "--install-autostart"]) == 0
    out = capsys.readouterr().out
    unit, desktop = autostart_paths({"XDG_CONFIG_HOME": str(tmp_path / "config")})
    assert f"{unit}: written" in out and f"{desktop}: written" in out
    assert "next, run: systemctl --user daemon-reload && systemctl --user enable --now signagent" in out
    exec_start = next(line for line in unit.read_text().splitlines() if line.startswith("ExecStart="))
    assert os.path.isabs(exec_start.split("=", 1)[1].split(" ")[0].strip('"')) and exec_start.endswith(" serve")
    desktop.write_text("not ours\n")
    assert main(["serve", "--uninstall-autostart"]) == 2
    assert "--force" in capsys.readouterr().err
    assert main(["serve", "--uninstall-autostart", "--force"]) == 0
    assert f"{desktop}: removed" in capsys.readouterr().out and not unit.exists()
    assert main(["serve", "--install-autostart", "--demo"]) == 2

"""``signagent audit show | verify``: the audit log as a table or JSON, and its verification's exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from signagent.cli import main
from signagent.service.audit import AUDIT_FILE, AuditLog

CERT = "0123456789abcdef" + "f" * 48
T0 = 1_800_000_000.0  # 2027-01-15T08:00:00.000Z


@pytest.fixture(autouse=True)
def _english(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANG", "C.UTF-8")
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LC_MESSAGES", raising=False)


def _fill(state: Path) -> None:
    clock = iter(T0 + i for i in range(100))
    log = AuditLog(state, clock=lambda: next(clock))
    log.append(operation="pair", result="approved", origin="https://portal.test")
    log.append(operation="sign", result="signed", origin="https://portal.test", certificate_id=CERT,
               digest="ab" * 32, request_id="r1")
    log.append(operation="refused", result="refused", origin="https://evil.test", code="origin_not_paired")


def _cut_middle(state: Path) -> None:
    path = state / AUDIT_FILE
    lines = path.read_bytes().split(b"\n")
    del lines[1]
    path.write_bytes(b"\n".join(lines))


def test_show_prints_a_table(tmp_path: Path, capsys) -> None:
    _fill(tmp_path)
    assert main(["audit", "show", "--state-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["TIME", "SITE", "OPERATION", "RESULT", "CERTIFICATE", "CODE"]
    assert out[1].split() == ["2027-01-15T08:00:00.000Z", "https://portal.test", "pair", "approved", "-", "-"]
    assert out[2].split() == ["2027-01-15T08:00:01.000Z", "https://portal.test", "sign", "signed",
                              "0123456789abcdef", "-"]
    assert out[3].split()[1:] == ["https://evil.test", "refused", "refused", "-", "origin_not_paired"]
    assert len(out) == 4


def test_show_in_russian(tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    _fill(tmp_path)
    monkeypatch.setenv("LANG", "ru_RU.UTF-8")
    assert main(["audit", "show", "--state-dir", str(tmp_path)]) == 0
    assert capsys.readouterr().out.split()[:3] == ["ВРЕМЯ", "САЙТ", "ОПЕРАЦИЯ"]


def test_show_json_last_and_origin(tmp_path: Path, capsys) -> None:
    _fill(tmp_path)
    assert main(["audit", "show", "--state-dir", str(tmp_path), "--json"]) == 0
    entries = json.loads(capsys.readouterr().out)
    assert [e["seq"] for e in entries] == [1, 2, 3]
    assert entries[1]["digest"] == "ab" * 32 and entries[1]["request_id"] == "r1"
    assert main(["audit", "show", "--state-dir", str(tmp_path), "--json", "--last", "2"]) == 0
    assert [e["seq"] for e in json.loads(capsys.readouterr().out)] == [2, 3]
    # the filter matches the normalized origin the log keeps
    assert main(["audit", "show", "--state-dir", str(tmp_path), "--json", "--origin", "HTTPS://Portal.test:443"]) == 0
    assert [e["seq"] for e in json.loads(capsys.readouterr().out)] == [1, 2]
    assert main(["audit", "show", "--state-dir", str(tmp_path), "--json", "--origin", "https://evil.test",
                 "--last", "5"]) == 0
    assert [e["seq"] for e in json.loads(capsys.readouterr().out)] == [3]


def test_show_without_a_log(tmp_path: Path, capsys) -> None:
    assert main(["audit", "show", "--state-dir", str(tmp_path / "none")]) == 0
    assert "no audit log yet" in capsys.readouterr().out
    assert main(["audit", "show", "--state-dir", str(tmp_path / "none"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []
    assert not (tmp_path / "none").exists()  # showing creates nothing


def test_show_escapes_control_characters_of_an_edited_log(tmp_path: Path, capsys) -> None:
    _fill(tmp_path)
    path = tmp_path / AUDIT_FILE
    path.write_bytes(path.read_bytes().replace(b"https://evil.test", b"https://evil\\u001b[2J.test"))
    assert main(["audit", "show", "--state-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\\x1b[2J" in out


def test_show_skips_damaged_lines_and_says_so(tmp_path: Path, capsys) -> None:
    _fill(tmp_path)
    with (tmp_path / AUDIT_FILE).open("ab") as f:
        f.write(b'{"seq":4,"ti')
    assert main(["audit", "show", "--state-dir", str(tmp_path), "--json"]) == 0
    captured = capsys.readouterr()
    assert len(json.loads(captured.out)) == 3
    assert "1 damaged line(s) skipped (first: line 4)" in captured.err


def test_verify_intact(tmp_path: Path, capsys) -> None:
    _fill(tmp_path)
    assert main(["audit", "verify", "--state-dir", str(tmp_path)]) == 0
    assert "the audit log is intact: 3 entries" in capsys.readouterr().out
    assert main(["audit", "verify", "--state-dir", str(tmp_path), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc == {"path": str(tmp_path / AUDIT_FILE), "ok": True, "exists": True, "entries": 3, "lines": 3,
                   "problems": []}


def test_verify_without_a_log(tmp_path: Path, capsys) -> None:
    assert main(["audit", "verify", "--state-dir", str(tmp_path)]) == 0
    assert "no audit log yet" in capsys.readouterr().out
    assert main(["audit", "verify", "--state-dir", str(tmp_path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["exists"] is False


def test_verify_damaged_prints_each_problem_and_exits_1(tmp_path: Path, capsys) -> None:
    _fill(tmp_path)
    _cut_middle(tmp_path)
    assert main(["audit", "verify", "--state-dir", str(tmp_path)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("prev_mismatch: line 2 does not follow line 1")
    assert out[1].startswith("seq_gap: line 2 is entry 3, entry 2 was expected")
    assert out[2].startswith("the audit log is DAMAGED: 2 problem(s)")
    assert main(["audit", "verify", "--state-dir", str(tmp_path), "--json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["ok"] is False and [(p["line"], p["problem"]) for p in doc["problems"]] == [
        (2, "prev_mismatch"), (2, "seq_gap")]


def test_verify_damaged_in_russian(tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    _fill(tmp_path)
    _cut_middle(tmp_path)
    monkeypatch.setenv("LANG", "ru_RU.UTF-8")
    assert main(["audit", "verify", "--state-dir", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "строка 2 не продолжает строку 1" in out and "журнал аудита ПОВРЕЖДЁН" in out


def test_verify_a_cut_end_exits_1(tmp_path: Path, capsys) -> None:
    _fill(tmp_path)
    path = tmp_path / AUDIT_FILE
    path.write_bytes(b"".join(line + b"\n" for line in path.read_bytes().split(b"\n")[:2]))
    assert main(["audit", "verify", "--state-dir", str(tmp_path)]) == 1
    assert "head_mismatch" in capsys.readouterr().out


def test_an_unreadable_log_exits_2(tmp_path: Path, capsys) -> None:
    (tmp_path / AUDIT_FILE).mkdir()
    assert main(["audit", "verify", "--state-dir", str(tmp_path)]) == 2
    assert "is a directory" in capsys.readouterr().err
    assert main(["audit", "verify", "--state-dir", str(tmp_path), "--json"]) == 2
    assert json.loads(capsys.readouterr().out)["error"]["code"] == "file_access"
    assert main(["audit", "show", "--state-dir", str(tmp_path)]) == 2


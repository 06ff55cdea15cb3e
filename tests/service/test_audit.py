"""The audit log (issue 12 item 7): append-only JSON lines chained by Streebog hashes, a head file for the end,
verification that finds an edited, removed, reordered or cut line where it is, and no secrets in it."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest

from signagent.errors import FileAccessError, NotRegularFileError
from signagent.gost.streebog import streebog256
from signagent.service.audit import (
    AUDIT_FILE,
    HEAD_FILE,
    MAX_LINE,
    AuditLog,
    AuditLogError,
    digest_of,
    iter_entries,
    verify_log,
)
from tests.conftest import file_mode

DIGEST = "ab" * 32
CERT = "cd" * 32
T0 = 1_800_000_000.25  # 2027-01-15T08:00:00.250Z


def _log(state: Path, n: int = 5) -> AuditLog:
    clock = iter(T0 + i for i in range(10_000))
    log = AuditLog(state, clock=lambda: next(clock))
    for i in range(n):
        log.append(operation="sign", result="signed", origin="https://portal.test", certificate_id=CERT,
                   digest=DIGEST, request_id=f"req-{i}", detail={"index": i})
    return log


def _lines(state: Path) -> list[bytes]:
    return (state / AUDIT_FILE).read_bytes().split(b"\n")[:-1]


def _write_lines(state: Path, lines: list[bytes]) -> None:
    (state / AUDIT_FILE).write_bytes(b"".join(line + b"\n" for line in lines))


def _problems(state: Path) -> list[tuple[int, str]]:
    return [(p["line"], p["problem"]) for p in verify_log(state / AUDIT_FILE).problems]


def test_append_returns_the_entry_and_reads_back(tmp_path: Path) -> None:
    log = AuditLog(tmp_path, clock=lambda: T0)
    entry = log.append(operation="sign", result="signed", origin="https://portal.test", certificate_id=CERT,
                       digest=DIGEST.upper(), request_id="r1", detail={"documents": 2, "format": "cades-bes"})
    assert entry == {"seq": 1, "time": "2027-01-15T08:00:00.250Z", "operation": "sign", "result": "signed",
                     "origin": "https://portal.test", "certificate_id": CERT, "digest": DIGEST, "code": None,
                     "request_id": "r1", "detail": {"documents": 2, "format": "cades-bes"}, "prev": "0" * 64}
    refused = log.append(operation="refused", result="refused", origin="https://evil.test", code="origin_not_paired")
    # every key is present, null when it does not apply
    assert refused["certificate_id"] is None and refused["digest"] is None and refused["detail"] is None
    assert list(log.entries()) == [entry, refused]
    raw = _lines(tmp_path)
    assert json.loads(raw[0]) == entry
    assert refused["prev"] == streebog256(raw[0]).hexdigest()
    assert b" " not in raw[1]  # compact JSON, one line each


def test_chain_verifies_and_head_records_the_last_entry(tmp_path: Path) -> None:
    _log(tmp_path, 6)
    report = verify_log(tmp_path / AUDIT_FILE)
    assert (report.ok, report.entries, report.lines, report.problems, report.exists) == (True, 6, 6, [], True)
    head = json.loads((tmp_path / HEAD_FILE).read_bytes())
    assert head == {"seq": 6, "hash": streebog256(_lines(tmp_path)[-1]).hexdigest()}
    assert report.to_dict()["ok"] is True


def test_no_log_yet_is_intact(tmp_path: Path) -> None:
    report = verify_log(tmp_path / AUDIT_FILE)
    assert (report.ok, report.exists, report.entries) == (True, False, 0)


def test_files_are_private_whatever_the_umask(tmp_path: Path, loose_umask: None) -> None:
    state = tmp_path / "new" / "agent"
    _log(state, 1)
    assert file_mode(state / AUDIT_FILE) == 0o600
    assert file_mode(state / HEAD_FILE) == 0o600
    assert file_mode(state) == 0o700


def test_an_existing_log_with_loose_permissions_is_tightened(tmp_path: Path) -> None:
    _log(tmp_path, 1)
    os.chmod(tmp_path / AUDIT_FILE, 0o644)
    _log(tmp_path, 1)
    assert file_mode(tmp_path / AUDIT_FILE) == 0o600


def test_an_edited_line_is_found_at_its_line(tmp_path: Path) -> None:
    _log(tmp_path, 5)
    lines = _lines(tmp_path)
    lines[2] = lines[2].replace(b'"signed"', b'"denied"')
    _write_lines(tmp_path, lines)
    report = verify_log(tmp_path / AUDIT_FILE)
    assert not report.ok
    assert _problems(tmp_path) == [(3, "edited")]
    assert "line 3" in report.problems[0]["message"] and "строка 3" in report.problems[0]["message_ru"]


def test_an_edited_last_line_is_found_through_the_head(tmp_path: Path) -> None:
    _log(tmp_path, 3)
    lines = _lines(tmp_path)
    lines[2] = lines[2].replace(b'"signed"', b'"denied"')
    _write_lines(tmp_path, lines)
    assert _problems(tmp_path) == [(3, "head_mismatch")]


def test_a_removed_middle_line_is_found(tmp_path: Path) -> None:
    _log(tmp_path, 5)
    lines = _lines(tmp_path)
    del lines[2]
    _write_lines(tmp_path, lines)
    assert _problems(tmp_path) == [(3, "prev_mismatch"), (3, "seq_gap")]


def test_a_removed_first_line_is_found(tmp_path: Path) -> None:
    _log(tmp_path, 3)
    _write_lines(tmp_path, _lines(tmp_path)[1:])
    assert _problems(tmp_path) == [(1, "prev_mismatch"), (1, "seq_gap")]


def test_swapped_lines_are_found(tmp_path: Path) -> None:
    _log(tmp_path, 5)
    lines = _lines(tmp_path)
    lines[1], lines[2] = lines[2], lines[1]
    _write_lines(tmp_path, lines)
    found = _problems(tmp_path)
    assert (2, "seq_gap") in found and (3, "seq_out_of_order") in found
    assert {line for line, problem in found if problem == "prev_mismatch"} == {2, 3, 4}
    assert all(line in (2, 3, 4) for line, _ in found)


def test_a_cut_last_line_is_found_through_the_head(tmp_path: Path) -> None:
    _log(tmp_path, 4)
    _write_lines(tmp_path, _lines(tmp_path)[:-1])
    report = verify_log(tmp_path / AUDIT_FILE)
    assert _problems(tmp_path) == [(3, "head_mismatch")]
    assert "cut from the end" in report.problems[0]["message"]


def test_a_removed_log_is_found_through_the_head(tmp_path: Path) -> None:
    _log(tmp_path, 2)
    (tmp_path / AUDIT_FILE).unlink()
    report = verify_log(tmp_path / AUDIT_FILE)
    assert (report.ok, report.exists) == (False, False)
    assert _problems(tmp_path) == [(0, "head_mismatch")]


def test_a_missing_or_damaged_head_is_reported(tmp_path: Path) -> None:
    _log(tmp_path, 3)
    (tmp_path / HEAD_FILE).write_text("{not json")
    assert _problems(tmp_path) == [(3, "head_damaged")]
    (tmp_path / HEAD_FILE).unlink()
    assert _problems(tmp_path) == [(3, "head_missing")]


def test_a_head_one_entry_behind_is_a_crash_not_damage(tmp_path: Path) -> None:
    _log(tmp_path, 3)
    lines = _lines(tmp_path)
    (tmp_path / HEAD_FILE).write_text(json.dumps({"seq": 2, "hash": streebog256(lines[1]).hexdigest()}))
    assert verify_log(tmp_path / AUDIT_FILE).ok
    (tmp_path / HEAD_FILE).write_text(json.dumps({"seq": 1, "hash": streebog256(lines[0]).hexdigest()}))
    assert _problems(tmp_path) == [(3, "head_mismatch")]


def test_a_truncated_tail_is_reported_and_appending_goes_on_after_it(tmp_path: Path) -> None:
    _log(tmp_path, 3)
    path = tmp_path / AUDIT_FILE
    whole = path.read_bytes()
    fourth = _log(tmp_path / "other", 4)  # a well-formed 4th entry to cut in half, as a crash would
    partial = _lines(tmp_path / "other")[3][:50]
    del fourth
    path.write_bytes(whole + partial)
    assert _problems(tmp_path) == [(4, "truncated")]

    log = AuditLog(tmp_path, clock=lambda: T0)  # starts despite the damage
    entry = log.append(operation="pair", result="approved", origin="https://portal.test")
    assert entry["seq"] == 4
    assert entry["prev"] == streebog256(partial).hexdigest()  # the chain runs over the damaged bytes
    raw = path.read_bytes()
    assert raw.startswith(whole + partial + b"\n")  # the new entry starts on a fresh line
    report = verify_log(path)
    assert [(p["line"], p["problem"]) for p in report.problems] == [(4, "truncated")]
    assert report.entries == 4 and report.lines == 5
    assert [e["seq"] for e in log.entries()] == [1, 2, 3, 4]


def test_garbage_lines_are_reported_where_they_are(tmp_path: Path) -> None:
    _log(tmp_path, 3)
    lines = _lines(tmp_path)
    _write_lines(tmp_path, [lines[0], b"hello", b"[1, 2]", *lines[1:]])
    found = _problems(tmp_path)
    assert (2, "not_json") in found and (3, "bad_entry") in found and (4, "prev_mismatch") in found


def test_an_overlong_line_is_reported_and_the_next_one_still_checked(tmp_path: Path) -> None:
    _log(tmp_path, 2)
    path = tmp_path / AUDIT_FILE
    with path.open("ab") as f:
        f.write(b"x" * (MAX_LINE * 3) + b"\n")
    log = AuditLog(tmp_path, clock=lambda: T0)
    entry = log.append(operation="sign", result="failed", code="pin_incorrect")
    assert entry["seq"] == 3
    # the appended entry chains onto the long line: only the long line itself is reported
    assert _problems(tmp_path) == [(3, "too_long")]


def test_restart_continues_the_chain(tmp_path: Path) -> None:
    _log(tmp_path, 3)
    again = _log(tmp_path, 2)
    assert [e["seq"] for e in again.entries()] == [1, 2, 3, 4, 5]
    assert verify_log(tmp_path / AUDIT_FILE).ok


def test_restart_after_a_cut_keeps_the_gap_visible(tmp_path: Path) -> None:
    _log(tmp_path, 4)
    _write_lines(tmp_path, _lines(tmp_path)[:-1])
    log = AuditLog(tmp_path)
    assert log.append(operation="sign", result="signed")["seq"] == 5
    assert _problems(tmp_path) == [(4, "seq_gap")]


def test_start_up_reads_only_the_end_of_a_long_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / AUDIT_FILE).write_bytes(b"{}\n" * 400_000)  # 1.2 MB of (damaged) lines the chain runs over
    _log(tmp_path, 3)
    size = (tmp_path / AUDIT_FILE).stat().st_size
    read = []
    real = os.pread

    def counting(fd: int, n: int, offset: int) -> bytes:
        data = real(fd, n, offset)
        read.append(len(data))
        return data

    monkeypatch.setattr(os, "pread", counting)
    log = AuditLog(tmp_path)
    assert 0 < sum(read) <= 8192 and size > 1_000_000
    assert log.append(operation="sign", result="signed")["seq"] == 4


def test_another_writer_is_noticed_before_appending(tmp_path: Path) -> None:
    first, second = AuditLog(tmp_path), AuditLog(tmp_path)
    first.append(operation="pair", result="approved")
    assert second.append(operation="pair", result="denied")["seq"] == 2
    assert first.append(operation="sign", result="signed")["seq"] == 3
    assert verify_log(tmp_path / AUDIT_FILE).ok


def test_concurrent_appends_keep_the_chain(tmp_path: Path) -> None:
    log = AuditLog(tmp_path)
    errors: list[BaseException] = []

    def work(worker: int) -> None:
        try:
            for i in range(50):
                log.append(operation="sign", result="signed", request_id=f"{worker}-{i}")
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    report = verify_log(tmp_path / AUDIT_FILE)
    assert (report.ok, report.entries) == (True, 400)
    assert [e["seq"] for e in log.entries()] == list(range(1, 401))
    assert len({e["request_id"] for e in log.entries()}) == 400


@pytest.mark.parametrize("key", ["pin", "user_pin", "so_pin", "password", "new_password", "passphrase", "secret",
                                 "client_secret", "token", "consent_token"])
def test_a_detail_naming_a_secret_is_refused(tmp_path: Path, key: str) -> None:
    log = AuditLog(tmp_path)
    with pytest.raises(ValueError, match="secret"):
        log.append(operation="sign", result="failed", detail={key: "1234"})
    assert list(log.entries()) == []


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"detail": {"document": "x" * 300}}, "longer than"),
    ({"detail": {"flag": True}}, "str or an int"),
    ({"detail": {"data": b"\x00"}}, "str or an int"),
    ({"detail": {"Bad Key": 1}}, "snake_case"),
    ({"detail": {f"k{i}": i for i in range(17)}}, "at most"),
    ({"digest": "not hex"}, "hex Streebog"),
    ({"digest": "ab" * 31}, "hex Streebog"),
    ({"operation": "Sign Now"}, "operation"),
    ({"result": ""}, "result"),
    ({"code": "bad code!"}, "code"),
])
def test_malformed_arguments_are_programming_errors(tmp_path: Path, kwargs: dict, match: str) -> None:
    args = {"operation": "sign", "result": "signed", **kwargs}
    with pytest.raises(ValueError, match=match):
        AuditLog(tmp_path).append(**args)
    assert not (tmp_path / AUDIT_FILE).read_bytes()


def test_request_supplied_fields_are_bounded_and_printable(tmp_path: Path) -> None:
    entry = AuditLog(tmp_path).append(operation="refused", result="refused", code="origin_invalid",
                                      origin="https://x.test\x1b[31m" + "a" * 5000, request_id="\u0434" * 500)
    assert "\x1b" not in entry["origin"] and len(entry["origin"]) <= 512 and entry["origin"].endswith("...")
    assert set(entry["request_id"]) <= {"?", "."} and len(entry["request_id"]) <= 128
    assert verify_log(tmp_path / AUDIT_FILE).ok


def test_a_log_that_is_not_a_regular_file_is_refused(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / AUDIT_FILE)
    with pytest.raises(NotRegularFileError):
        AuditLog(tmp_path)
    with pytest.raises(NotRegularFileError):
        verify_log(tmp_path / AUDIT_FILE)


def test_a_symlinked_log_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    target.write_bytes(b"")
    state = tmp_path / "state"
    state.mkdir()
    (state / AUDIT_FILE).symlink_to(target)
    with pytest.raises(AuditLogError) as info:
        AuditLog(state)
    assert info.value.code == "audit_log_failed" and str(state / AUDIT_FILE) in info.value.message


def test_an_unreadable_log_cannot_be_verified(tmp_path: Path) -> None:
    (tmp_path / AUDIT_FILE).mkdir()
    with pytest.raises(FileAccessError):
        verify_log(tmp_path / AUDIT_FILE)
    with pytest.raises(FileAccessError):
        list(iter_entries(tmp_path / AUDIT_FILE))


def test_iter_entries_skips_and_reports_damaged_lines(tmp_path: Path) -> None:
    _log(tmp_path, 3)
    lines = _lines(tmp_path)
    _write_lines(tmp_path, [lines[0], b"{broken", *lines[1:]])
    damaged: list[int] = []
    assert [e["seq"] for e in iter_entries(tmp_path / AUDIT_FILE, on_damage=damaged.append)] == [1, 2, 3]
    assert damaged == [2]


def test_digest_of_is_the_streebog_256_an_entry_accepts(tmp_path: Path) -> None:
    challenge = b"challenge \x00\xff"
    assert digest_of(challenge) == streebog256(challenge).hexdigest() != streebog256(b"").hexdigest()
    entry = AuditLog(tmp_path).append(operation="authenticate", result="approved", digest=digest_of(challenge))
    assert entry["digest"] == digest_of(challenge)


def test_each_append_is_fsynced_before_it_returns(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = AuditLog(tmp_path)
    log_inode = (tmp_path / AUDIT_FILE).stat().st_ino
    synced: list[int] = []
    real = os.fsync

    def recording(fd: int) -> None:
        synced.append(os.fstat(fd).st_ino)
        real(fd)

    monkeypatch.setattr(os, "fsync", recording)
    log.append(operation="sign", result="signed")
    log.append(operation="sign", result="signed")
    assert synced.count(log_inode) == 2

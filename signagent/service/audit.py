"""The agent's audit log: every operation of the localhost API, one JSON line each, chained by Streebog hashes.

DESIGN.md section 5 asks for every operation to be appended to an audit log: who asked (the origin), which
certificate, what digest, what came of it. The log answers "what did the agent sign, for whom, when" after the
fact, so it must also show when it was changed after the fact:

* **Append-only JSON lines** (``audit.jsonl`` in the agent's state directory, beside ``pairings.json``; the file
  0600, a directory the agent creates 0700). Each line is one entry, written with one ``write`` and fsynced
  before :meth:`AuditLog.append` returns: ``{"seq", "time", "operation", "result", "origin", "certificate_id",
  "digest", "code", "request_id", "detail", "prev"}``. Every key is always present, ``null`` when it does not
  apply (so a reader never has to guess whether a field was omitted or lost). ``seq`` counts entries from 1;
  ``time`` is ISO-8601 UTC with milliseconds (``2026-12-03T18:56:27.123Z``).
* **Hash chain**: ``prev`` is the hex Streebog-256 (:func:`signagent.gost.streebog.streebog256`, ``hexdigest``)
  of the previous line's exact bytes without its line end; the first entry's ``prev`` is 64 zeros.
  :func:`verify_log` reads the file once, line by line, in constant memory, and reports an edited line (its
  successor's ``prev`` no longer matches), a removed line (``prev`` mismatch and a gap in ``seq``), reordered or
  duplicated lines, damaged lines and a cut-off last line, each at its line number.
* **The end of the log**: a pure chain cannot tell that its last line was removed (what remains is a valid
  chain). The mitigation is a small side file, ``audit.head`` (0600, replaced atomically after every append),
  holding ``{"seq", "hash"}`` of the last entry; :func:`verify_log` compares it with the log's end and reports
  ``head_mismatch`` when lines were cut from the end or the last line was changed. A crash between the append
  and the head's update leaves the head one entry behind, which verification accepts. The limitation that
  remains: whoever can write the state directory can rewrite the log *and* its head consistently (the chain
  has no secret key); the log detects accidents and careless edits, not a determined owner of the account.
  When the agent starts on a log whose end disagrees with the head, it continues numbering after the head
  (leaving a visible ``seq`` gap) rather than overwrite the evidence.
* **Crash safety**: a crash in the middle of a write leaves a partial last line. The agent does not refuse to
  start: the next entry begins on a fresh line and its ``prev`` is the hash of the damaged bytes, so the chain
  goes on and verification reports the damage at exactly that line (``truncated``). On start-up only the end of
  the file is read (backwards from its end), whatever the log's size.
* **No secrets, no documents**: an entry holds a digest of what was signed, never the content, and never a PIN.
  ``detail`` takes a few short strings or integers under snake_case keys; a key that names a PIN, password,
  passphrase, secret or token is refused (``ValueError``: a programming error), as are long values. Fields that
  may come from a request (origin, request id, certificate id) are cut to a bounded length and stripped of
  non-printable characters instead, so that hostile input can neither fail the logging of a refusal nor put
  terminal escapes into ``signagent audit show``.

One process owns the log, but appends also take an advisory ``flock`` on the file and notice a log that changed
under them (another process, a cut), re-reading its end before they write; a lock guards the server's threads.

Exports: AUDIT_FILE, HEAD_FILE, MAX_LINE, AuditLog, AuditLogError, AuditVerification, digest_of, iter_entries,
verify_log.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import io
import json
import os
import re
import stat
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from signagent.errors import FileAccessError, NotRegularFileError, SignAgentError
from signagent.fileio import open_input, read_capped, write_atomic
from signagent.gost.streebog import streebog256

__all__ = ["AUDIT_FILE", "HEAD_FILE", "MAX_LINE", "AuditLog", "AuditLogError", "AuditVerification", "digest_of",
           "iter_entries", "verify_log"]

AUDIT_FILE = "audit.jsonl"
#: The side file beside the log that records its last entry (the log's name with the suffix ``.head``).
HEAD_FILE = "audit.head"
#: The longest line a reader accepts (an entry of this module is well below 4 KiB).
MAX_LINE = 64 * 1024

ZERO_HASH = "0" * 64
_FIELDS = ("seq", "time", "operation", "result", "origin", "certificate_id", "digest", "code", "request_id",
           "detail", "prev")
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")  # operation, result, error code, detail key
_HEX = re.compile(r"^[0-9a-f]+$")
_SECRET_PARTS = ("pin", "passw", "passphrase", "pwd", "puk", "secret", "token")
_MAX_DETAIL_ITEMS = 16
_MAX_DETAIL_TEXT = 256
_MAX_ORIGIN = 512
_MAX_ID = 128
_BLOCK = 64 * 1024
_BACK_BYTES = 1 << 20  # how far back the start-up looks for the last intact entry behind a damaged end
_MAX_HEAD = 4096


class AuditLogError(SignAgentError):
    """The audit log cannot be written (disk full, permissions, a symlink or special file in its place)."""

    code = "audit_log_failed"


def _head_path(log: Path) -> Path:
    return log.with_suffix(".head")


def _hash(data: bytes) -> str:
    return streebog256(data).hexdigest()


def digest_of(data: bytes) -> str:
    """The ``digest`` an entry keeps of ``data`` (a challenge, a document): its hex Streebog-256, as
    :meth:`AuditLog.append` expects it (for callers above the service layer, which do not import signagent.gost)."""
    return _hash(data)


def _iso(seconds: float) -> str:
    return dt.datetime.fromtimestamp(seconds, dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _clean(value: str | None, limit: int) -> str | None:
    """Request-supplied text made safe to keep and to print: printable ASCII only, at most ``limit`` characters."""
    if value is None:
        return None
    text = "".join(ch if " " <= ch <= "~" else "?" for ch in str(value))
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _name(what: str, value: str | None, *, optional: bool) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str) or not _NAME.match(value):
        raise ValueError(f"audit {what} must be a short snake_case name, not {value!r:.60}")
    return value


def _check_detail(detail: dict[str, str | int] | None) -> dict[str, str | int] | None:
    if detail is None:
        return None
    if not isinstance(detail, dict) or len(detail) > _MAX_DETAIL_ITEMS:
        raise ValueError(f"audit detail must be a dict of at most {_MAX_DETAIL_ITEMS} items")
    out: dict[str, str | int] = {}
    for key, value in detail.items():
        if not isinstance(key, str) or not _NAME.match(key):
            raise ValueError(f"audit detail key {key!r:.60} is not a short snake_case name")
        if any(part.startswith(_SECRET_PARTS) for part in key.split("_")):
            raise ValueError(f"audit detail key {key!r} names a secret: the audit log never holds one")
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise ValueError(f"audit detail {key!r} must be a str or an int")
        if isinstance(value, int) and not -(1 << 63) <= value < (1 << 63):
            raise ValueError(f"audit detail {key!r} is out of range")
        if isinstance(value, str) and len(value) > _MAX_DETAIL_TEXT:
            raise ValueError(f"audit detail {key!r} is longer than {_MAX_DETAIL_TEXT} characters "
                             "(a digest, not content, belongs in the audit log)")
        out[key] = _clean(value, _MAX_DETAIL_TEXT) if isinstance(value, str) else value
    return out


def _check_digest(digest: str | None) -> str | None:
    if digest is None:
        return None
    text = digest.lower() if isinstance(digest, str) else ""
    if len(text) not in (64, 128) or not _HEX.match(text):
        raise ValueError("audit digest must be a hex Streebog-256 (64 digits) or Streebog-512 (128 digits)")
    return text


def _parse(content: bytes) -> tuple[dict[str, object] | None, str]:
    """The entry a line holds, or None and why not (``truncated``, ``not_json``, ``bad_entry``)."""
    try:
        doc = json.loads(content)
    except ValueError:  # JSONDecodeError, or bytes that are not UTF-8
        partial = content.startswith(b'{"seq":') or b'{"seq":'.startswith(content)
        return None, ("truncated" if partial and not content.rstrip().endswith(b"}") else "not_json")
    if not isinstance(doc, dict):
        return None, "bad_entry"
    seq, prev = doc.get("seq"), doc.get("prev")
    if (not isinstance(seq, int) or isinstance(seq, bool) or seq < 1
            or not isinstance(prev, str) or len(prev) != 64 or not _HEX.match(prev)
            or not all(isinstance(doc.get(k), str) for k in ("time", "operation", "result"))):
        return None, "bad_entry"
    return doc, ""


# -- reading lines in constant memory ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Line:
    number: int
    content: bytes | None  # None: longer than MAX_LINE (not kept)
    digest: str  # hex Streebog-256 of the line without its line end ("" when not asked for)
    complete: bool  # ended with a line feed


def _lines(stream: BinaryIO, *, hashing: bool) -> Iterator[_Line]:
    reader = io.BufferedReader(stream, buffer_size=_BLOCK)  # type: ignore[arg-type]
    number = 0
    while chunk := reader.readline(MAX_LINE + 1):
        number += 1
        complete = chunk.endswith(b"\n")
        if complete or len(chunk) <= MAX_LINE:
            content = chunk[:-1] if complete else chunk
            yield _Line(number, content, _hash(content) if hashing else "", complete)
            continue
        # A line longer than the cap: hashed piece by piece (the chain still needs its hash), never kept whole.
        hasher = streebog256(chunk) if hashing else None
        while more := reader.readline(_BLOCK):
            complete = more.endswith(b"\n")
            if hasher is not None:
                hasher.update(more[:-1] if complete else more)
            if complete:
                break
        yield _Line(number, None, hasher.hexdigest() if hasher is not None else "", complete)


def iter_entries(path: Path, *, on_damage: Callable[[int], None] | None = None) -> Iterator[dict[str, object]]:
    """The intact entries of the log at ``path``, oldest first, read in constant memory.

    Damaged lines (not JSON, cut short, too long) are skipped; ``on_damage`` is called with each one's line
    number. Whether the chain holds is :func:`verify_log`'s question, not this one's. A missing or unreadable file
    raises :class:`~signagent.errors.FileAccessError` (NotRegularFileError for a FIFO or device).
    """
    with open_input(path) as stream:
        for line in _lines(stream, hashing=False):
            entry = _parse(line.content)[0] if line.content is not None else None
            if entry is None:
                if on_damage is not None:
                    on_damage(line.number)
                continue
            yield entry


# -- verification ----------------------------------------------------------------------------------------------

_PROBLEMS: dict[str, tuple[str, str]] = {
    "not_json": ("line {line} is not a JSON entry (changed or damaged)",
                 "строка {line} -- не запись JSON (изменена или повреждена)"),
    "bad_entry": ("line {line} is JSON but not an audit entry (a field is missing or of the wrong type)",
                  "строка {line} -- JSON, но не запись журнала (поле отсутствует или неверного типа)"),
    "truncated": ("line {line} is cut short (a crash while it was written, or the file was cut)",
                  "строка {line} обрывается (сбой во время записи или файл обрезан)"),
    "too_long": ("line {line} is longer than {limit} bytes: not an entry of this log",
                 "строка {line} длиннее {limit} байт: это не запись журнала"),
    "edited": ("line {line} was changed after it was written (line {next} recorded another hash for it)",
               "строка {line} изменена после записи (строка {next} хранит другой её хеш)"),
    "prev_mismatch": ("line {line} does not follow line {before} (its prev is not that line's hash): lines were "
                      "removed, inserted or moved here, or one of the two was changed",
                      "строка {line} не продолжает строку {before} (prev не совпадает с её хешем): строки "
                      "удалены, вставлены или переставлены, либо одна из двух изменена"),
    "prev_not_start": ("line 1 does not start the chain (its prev is not zeros): the beginning of the log was removed",
                       "строка 1 не начинает цепочку (prev не нулевой): начало журнала удалено"),
    "seq_gap": ("line {line} is entry {seq}, entry {expected} was expected: {missing} entr(ies) missing before it",
                "строка {line} -- запись {seq}, ожидалась {expected}: перед ней не хватает записей ({missing})"),
    "seq_out_of_order": ("line {line} is entry {seq}, after entry {high} already: lines reordered or duplicated",
                         "строка {line} -- запись {seq}, хотя запись {high} уже была: строки переставлены или "
                         "повторены"),
    "head_mismatch": ("{head_file} records entry {head_seq} but the log ends with entry {last_seq}: {why}",
                      "{head_file} указывает на запись {head_seq}, а журнал кончается записью {last_seq}: {why_ru}"),
    "head_missing": ("{head_file} is missing: whether lines were cut from the end cannot be checked",
                     "{head_file} отсутствует: нельзя проверить, не обрезан ли конец журнала"),
    "head_damaged": ("{head_file} is damaged: whether lines were cut from the end cannot be checked",
                     "{head_file} повреждён: нельзя проверить, не обрезан ли конец журнала"),
}


def _problem(line: int, code: str, **values: object) -> dict[str, object]:
    en, ru = _PROBLEMS[code]
    return {"line": line, "problem": "prev_mismatch" if code == "prev_not_start" else code,
            "message": en.format(line=line, **values), "message_ru": ru.format(line=line, **values)}


@dataclass(frozen=True)
class AuditVerification:
    """What :func:`verify_log` found.

    ``ok``: the log is intact (or absent, with no head saying it existed); ``entries``: the intact entries read;
    ``problems``: ``[{"line", "problem", "message", "message_ru"}]`` in file order (``line`` 0: the file as a
    whole); ``lines``: the lines read; ``exists``: whether the log file exists.
    """

    ok: bool
    entries: int
    problems: list[dict[str, object]] = field(default_factory=list)
    lines: int = 0
    exists: bool = True

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready copy."""
        return {"ok": self.ok, "exists": self.exists, "entries": self.entries, "lines": self.lines,
                "problems": [dict(p) for p in self.problems]}


def _read_head(path: Path) -> tuple[int, str] | None:
    """``(seq, hash)`` of the head file; None when it does not exist; ValueError when it is damaged."""
    try:
        os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise FileAccessError(situation="os_error", path=str(path), error=exc.strerror or exc) from None
    doc = json.loads(read_capped(path, _MAX_HEAD, "audit log head"))
    seq, digest = doc["seq"], doc["hash"]
    if (not isinstance(seq, int) or isinstance(seq, bool) or seq < 0 or not isinstance(digest, str)
            or len(digest) != 64 or not _HEX.match(digest)):
        raise ValueError("not a head record")
    return seq, digest


def _check_head(path: Path, last: dict[str, object] | None, last_hash: str, last_line: int
                ) -> dict[str, object] | None:
    name = _head_path(path).name
    try:
        head = _read_head(_head_path(path))
    except (ValueError, KeyError, TypeError):
        return _problem(last_line, "head_damaged", head_file=name)
    last_seq = int(last["seq"]) if last is not None else 0  # type: ignore[call-overload]
    if head is None:
        if last is None or (last_seq == 1 and last["prev"] == ZERO_HASH):  # crash before the first head
            return None
        return _problem(last_line, "head_missing", head_file=name)
    head_seq, head_hash = head
    if (head_seq, head_hash) == (last_seq, last_hash if last is not None else ZERO_HASH):
        return None
    if last is not None and head_seq == last_seq - 1 and head_hash == last["prev"]:
        return None  # a crash between the append and the head's update: the head is one entry behind
    if head_seq > last_seq:
        why, why_ru = "lines were cut from the end of the log", "конец журнала обрезан"
    elif head_seq == last_seq:
        why, why_ru = "the last entry was changed", "последняя запись изменена"
    else:
        why, why_ru = "the head was not updated by this log's writer", "файл конца не обновлялся при записи журнала"
    return _problem(last_line, "head_mismatch", head_file=name, head_seq=head_seq, last_seq=last_seq, why=why,
                    why_ru=why_ru)


def verify_log(path: Path) -> AuditVerification:
    """Check the audit log at ``path`` (and its head file beside it) line by line, in constant memory.

    Reports, each at its line: a line that is not an entry (``not_json``, ``bad_entry``, ``too_long``), a line
    cut short (``truncated``), a line changed after it was written (``edited``: its successor recorded another
    hash), a break of the chain (``prev_mismatch``: removed, inserted or moved lines), missing entries
    (``seq_gap``), reordered or repeated ones (``seq_out_of_order``), and an end that disagrees with the head file
    (``head_mismatch``, ``head_missing``, ``head_damaged``). A log that does not exist is intact (nothing was
    logged yet) unless its head says entries were written. An unreadable log raises
    :class:`~signagent.errors.FileAccessError` (NotRegularFileError for a FIFO or device).
    """
    path = Path(path)
    try:
        os.lstat(path)
    except FileNotFoundError:
        problem = _check_head(path, None, ZERO_HASH, 0)
        return AuditVerification(ok=problem is None, entries=0, problems=[problem] if problem else [], exists=False)
    except OSError as exc:
        raise FileAccessError(situation="os_error", path=str(path), error=exc.strerror or exc) from None

    problems: list[dict[str, object]] = []
    expected_prev = ZERO_HASH
    before: dict[str, object] | None = None  # the entry on the previous line (None: no line, or a damaged one)
    last: dict[str, object] | None = None
    last_hash, last_line, high, entries, lines = ZERO_HASH, 0, 0, 0, 0
    with open_input(path) as stream:
        for line in _lines(stream, hashing=True):
            lines = line.number
            entry: dict[str, object] | None = None
            if line.content is None:
                problems.append(_problem(line.number, "too_long", limit=MAX_LINE))
            else:
                entry, why = _parse(line.content)
                if entry is None:
                    problems.append(_problem(line.number, "truncated" if not line.complete else why))
            if entry is not None:
                entries += 1
                seq = int(entry["seq"])  # type: ignore[call-overload]
                if entry["prev"] != expected_prev:
                    if line.number == 1:
                        problems.append(_problem(1, "prev_not_start"))
                    elif before is not None and seq == int(before["seq"]) + 1:  # type: ignore[call-overload]
                        problems.append(_problem(line.number - 1, "edited", next=line.number))
                    else:
                        problems.append(_problem(line.number, "prev_mismatch", before=line.number - 1))
                if seq > high + 1:
                    problems.append(_problem(line.number, "seq_gap", seq=seq, expected=high + 1,
                                             missing=seq - high - 1))
                elif seq <= high:
                    problems.append(_problem(line.number, "seq_out_of_order", seq=seq, high=high))
                high = max(high, seq)
                last, last_hash, last_line = entry, line.digest, line.number
            expected_prev, before = line.digest, entry
    head_problem = _check_head(path, last, last_hash, last_line or lines)
    if head_problem is not None:
        problems.append(head_problem)
    return AuditVerification(ok=not problems, entries=entries, problems=problems, lines=lines)


# -- appending -------------------------------------------------------------------------------------------------


def _pread(fd: int, size: int, offset: int) -> bytes:
    parts = []
    while size > 0:
        data = os.pread(fd, size, offset)
        if not data:
            break
        parts.append(data)
        size -= len(data)
        offset += len(data)
    return b"".join(parts)


def _line_start(fd: int, end: int) -> int:
    """The offset where the line ending at ``end`` begins: just after the previous line feed, or 0."""
    pos, block = end, 4096  # an entry is well under 4 KiB: one small read finds it; longer lines, larger reads
    while pos > 0:
        size = min(block, pos)
        pos -= size
        found = _pread(fd, size, pos).rfind(b"\n")
        if found >= 0:
            return pos + found + 1
        block = min(block * 2, _BLOCK)
    return 0


def _line_at(fd: int, start: int, end: int) -> tuple[str, dict[str, object] | None]:
    """The hash of the bytes ``[start, end)`` and the entry they hold (None: not an intact entry)."""
    if end - start <= MAX_LINE:
        content = _pread(fd, end - start, start)
        return _hash(content), _parse(content)[0]
    hasher = streebog256()
    for offset in range(start, end, _BLOCK):
        hasher.update(_pread(fd, min(_BLOCK, end - offset), offset))
    return hasher.hexdigest(), None


@dataclass
class _Tail:
    seq: int  # the seq of the last intact entry (0: none)
    prev: str  # the hash the next entry's prev must be: of the last line, intact or not
    needs_newline: bool  # the file ends inside a line (a crash mid-write)
    size: int  # the file's size when read


def _read_tail(fd: int, head: tuple[int, str] | None) -> _Tail:
    """Where the chain goes on: from the last line of the file, read backwards from its end."""
    size = os.fstat(fd).st_size
    seq, last_hash = 0, ""
    prev, needs_newline = ZERO_HASH, False
    if size:
        needs_newline = _pread(fd, 1, size - 1) != b"\n"
        end = size if needs_newline else size - 1
        start = _line_start(fd, end)
        prev, entry = _line_at(fd, start, end)
        if entry is not None:
            seq, last_hash = int(entry["seq"]), prev  # type: ignore[call-overload]
        else:  # a damaged end: number on from the last intact entry behind it, looking back a bounded distance
            while start > 0 and size - start < _BACK_BYTES:
                end = start - 1
                start = _line_start(fd, end)
                found = _line_at(fd, start, end)[1]
                if found is not None:
                    seq = int(found["seq"])  # type: ignore[call-overload]
                    break
    following = seq + 1
    if head is not None:
        head_seq, head_hash = head
        if head_seq > seq:  # lines were cut from the end (or the damage hid them): keep the gap visible
            following = head_seq + 1
        elif head_seq == seq and last_hash and head_hash != last_hash:  # the last entry was changed
            following = seq + 2
    return _Tail(following - 1, prev, needs_newline, size)


class AuditLog:
    """The audit log of one state directory: :meth:`append` entries, read them back with :meth:`entries`.

    The directory is created 0700 and the log 0600 at construction, and the log's end is read then (a log that
    cannot be opened raises :class:`AuditLogError` at once, not at the first operation).
    """

    def __init__(self, state_dir: Path, *, clock: Callable[[], float] = time.time) -> None:
        self.path = Path(state_dir) / AUDIT_FILE
        self.head_path = _head_path(self.path)
        self._clock = clock
        self._lock = threading.Lock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as exc:
            raise AuditLogError(situation="write", path=str(self.path), error=exc.strerror or exc) from None
        with self._open() as fd:
            self._tail = _read_tail(fd, self._head())

    @contextlib.contextmanager
    def _open(self) -> Iterator[int]:
        """The log open for reading and appending, locked against other processes, closed on leaving."""
        name = str(self.path)
        flags = os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC
        try:
            fd = os.open(name, flags, 0o600)
        except OSError as exc:
            raise AuditLogError(situation="write", path=name, error=exc.strerror or exc) from None
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise NotRegularFileError(path=name)
            os.set_blocking(fd, True)
            if stat.S_IMODE(info.st_mode) != 0o600:
                os.fchmod(fd, 0o600)
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield fd
        finally:
            os.close(fd)  # also releases the lock

    def _head(self) -> tuple[int, str] | None:
        try:
            return _read_head(self.head_path)
        except (ValueError, KeyError, TypeError, SignAgentError):
            return None  # a damaged head: verify_log reports it; the log itself is what counts here

    def append(self, *, operation: str, result: str, origin: str | None = None, certificate_id: str | None = None,
               digest: str | None = None, code: str | None = None, request_id: str | None = None,
               detail: dict[str, str | int] | None = None) -> dict[str, object]:
        """Append one entry, fsync it, update the head file; returns the entry as written.

        ``operation`` and ``result`` (and ``code``, an error code) are snake_case names; ``digest`` is the hex
        Streebog digest of what was signed (computed by the caller; never the content); ``detail`` a few short
        values (see the module docstring). A malformed argument or a detail key naming a secret raises
        ValueError; a log that cannot be written, :class:`AuditLogError`. Safe to call from several threads.
        """
        entry: dict[str, object] = {
            "seq": 0,
            "time": "",
            "operation": _name("operation", operation, optional=False),
            "result": _name("result", result, optional=False),
            "origin": _clean(origin, _MAX_ORIGIN),
            "certificate_id": _clean(certificate_id, _MAX_ID),
            "digest": _check_digest(digest),
            "code": _name("code", code, optional=True),
            "request_id": _clean(request_id, _MAX_ID),
            "detail": _check_detail(detail),
            "prev": "",
        }
        with self._lock, self._open() as fd:
            if os.fstat(fd).st_size != self._tail.size:  # written or cut by someone else since: read its end again
                self._tail = _read_tail(fd, self._head())
            tail = self._tail
            entry["seq"], entry["time"], entry["prev"] = tail.seq + 1, _iso(self._clock()), tail.prev
            line = json.dumps(entry, ensure_ascii=True, separators=(",", ":")).encode("ascii")
            data = (b"\n" if tail.needs_newline else b"") + line + b"\n"
            try:
                written = 0
                while written < len(data):
                    written += os.write(fd, data[written:])
                os.fsync(fd)
            except OSError as exc:
                self._tail = _Tail(tail.seq, tail.prev, tail.needs_newline, -1)  # unknown end: re-read next time
                raise AuditLogError(situation="write", path=str(self.path), error=exc.strerror or exc) from None
            digest_hex = _hash(line)
            self._tail = _Tail(tail.seq + 1, digest_hex, False, os.fstat(fd).st_size)
            head = json.dumps({"seq": tail.seq + 1, "hash": digest_hex}).encode("ascii") + b"\n"
            try:
                write_atomic(self.head_path, head, mode=0o600)
            except (OSError, SignAgentError) as exc:
                raise AuditLogError(situation="head", path=str(self.head_path),
                                    error=getattr(exc, "strerror", None) or exc) from None
        return dict(entry)

    def entries(self) -> Iterator[dict[str, object]]:
        """The log's intact entries, oldest first (damaged lines skipped: :func:`verify_log` reports them)."""
        return iter_entries(self.path)

    def verify(self) -> AuditVerification:
        """:func:`verify_log` of this log."""
        return verify_log(self.path)

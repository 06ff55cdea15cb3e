"""Lower layers name no command-line flag; the command line adds its own for the inputs an error names."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import signagent
from signagent.cli._hints import hint
from signagent.cms.errors import CmsContentMissingError
from signagent.errors import FileAccessError, UsageError

_LOWER = ("x509", "trust", "cms", "tokens", "service", "pkcs8", "asn1", "gost", "errors", "fileio.py")
_FLAG = re.compile(r"(^|[\s(])--[a-z]")


def test_no_raise_in_a_lower_layer_names_a_flag() -> None:
    root = Path(signagent.__file__).parent
    files = [p for name in _LOWER for p in ([root / name] if name.endswith(".py") else (root / name).rglob("*.py"))]
    found = []
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            value = node.exc if isinstance(node, ast.Raise) else node.value if isinstance(node, ast.Return) else None
            if value is not None:
                for part in ast.walk(value):
                    if isinstance(part, ast.Constant) and isinstance(part.value, str) and _FLAG.search(part.value):
                        found.append(f"{path.relative_to(root)}:{part.lineno}: {part.value[:60]}")
    assert not found


def test_needs_and_parameter_become_flags_in_both_languages() -> None:
    missing = CmsContentMissingError(needs="content")
    assert "--" not in missing.message
    assert hint(missing, missing.message, russian=False).endswith("(--content FILE)")
    assert hint(missing, missing.message_ru, russian=True).endswith("(--content ФАЙЛ)")
    bad = UsageError(situation="bad_time", parameter="at", value="'soon'")
    assert hint(bad, bad.message, russian=False) == "--at: not an ISO-8601 time: 'soon'"
    one_of = UsageError(situation="one_key", needs="key_id|new_key")
    assert hint(one_of, one_of.message, russian=False).endswith("(--key-id | --new-key)")
    exists = FileAccessError(situation="exists", needs="force", path="out.pem")
    assert hint(exists, exists.message, russian=False) == "out.pem already exists (--force replaces it)"
    plain = FileAccessError(situation="directory", path="d")
    assert hint(plain, plain.message, russian=False) == plain.message == "d: is a directory"

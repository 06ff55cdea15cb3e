"""``python -m signagent.testpki OUT`` writes its private keys 0600 in a 0700 directory, whatever the umask
(issue 10, defect 8: they used to be 0644 in 0755 directories)."""

from __future__ import annotations

from pathlib import Path

from signagent.testpki.__main__ import main
from tests.conftest import file_mode

_mode = file_mode


def test_keys_are_private_whatever_the_umask(tmp_path: Path, loose_umask: None, capsys) -> None:
    out = tmp_path / "pki"
    assert main([str(out), "--seed", "modes"]) == 0
    keys = sorted((out / "keys").iterdir())
    assert {p.name for p in keys} >= {"root.key.pem", "inter.key.pem", "head.key.pem"}
    assert _mode(out / "keys") == 0o700
    assert all(_mode(p) == 0o600 for p in keys)
    # nothing outside keys/ holds a private key
    assert not [p for p in out.rglob("*") if p.is_file() and p.parent != out / "keys"
                and b"PRIVATE KEY" in p.read_bytes()]


def test_an_old_loose_key_directory_is_narrowed(tmp_path: Path, loose_umask: None, capsys) -> None:
    out = tmp_path / "pki"
    (out / "keys").mkdir(parents=True, mode=0o755)
    old = out / "keys" / "root.key.pem"
    old.write_bytes(b"old")
    old.chmod(0o644)
    assert main([str(out)]) == 0
    assert _mode(out / "keys") == 0o700 and _mode(old) == 0o600
    assert old.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")

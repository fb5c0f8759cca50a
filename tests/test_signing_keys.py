"""Signing key files: created private (0600), never overwritten, never printed; a key others
may read, or a file that is not a key, is refused in one line naming the file."""

from __future__ import annotations

import os
import stat

from click.testing import CliRunner

from agridrone.cli import main
from firmware_bridge.signing import KEY_BYTES, read_key


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def test_keygen_writes_a_private_key_and_never_prints_it(tmp_path):
    path = tmp_path / "vehicle.key"
    result = run("signing", "keygen", "--key", str(path))
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    key = read_key(path)
    assert len(key) == KEY_BYTES and key != bytes(KEY_BYTES)
    assert key.hex() not in result.output
    other = tmp_path / "second.key"
    assert run("signing", "keygen", "--key", str(other)).exit_code == 0
    assert read_key(other) != key


def test_keygen_never_overwrites(tmp_path):
    path = tmp_path / "vehicle.key"
    assert run("signing", "keygen", "--key", str(path)).exit_code == 0
    before = path.read_bytes()
    result = run("signing", "keygen", "--key", str(path))
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: key file {path} exists: not overwritten")
    assert path.read_bytes() == before


def test_a_key_others_may_read_is_refused(tmp_path):
    path = tmp_path / "vehicle.key"
    assert run("signing", "keygen", "--key", str(path)).exit_code == 0
    os.chmod(path, 0o644)
    result = run("download", "-o", str(tmp_path / "x.waypoints"), "--connect",
                 "tcp:127.0.0.1:9", "--key", str(path))
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        f"error: key file {path} has mode 0644: others may read it; make it private with "
        f"chmod 600 {path}"]


def test_a_file_that_is_not_a_key_is_refused_without_showing_it(tmp_path):
    path = tmp_path / "notes.key"
    path.write_text("my secret passphrase\n")
    os.chmod(path, 0o600)
    result = run("clear", "--connect", "tcp:127.0.0.1:9", "--key", str(path))
    assert result.exit_code == 2
    assert "not a signing key (64 hex digits)" in result.stderr
    assert "passphrase" not in result.stderr

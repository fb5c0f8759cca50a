"""MAVLink 2 message signing: the key file, signing our messages, telling why none got through.

A key is 32 random bytes kept as 64 hex digits in a file only its owner may read (0600).
ArduPilot stores the key sent in SETUP_SIGNING and from then on signs every message it sends
and drops unsigned or wrongly signed ones on every link except its first (USB on a flight
controller, TCP 5760 on SITL), which it trusts (GCS_Signing.cpp ``accept_unsigned_callback``).
SETUP_SIGNING has no answer; :func:`install_key` is confirmed by a signed HEARTBEAT.
"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

from agridrone.errors import AgridroneError

KEY_BYTES = 32
KEY_FILE_MODE = 0o600
EPOCH_2015_S = 1420070400  # signing timestamps count 10 µs units from 2015-01-01
BAD_SIGNATURES_TO_GIVE_UP = 3  # this many rejected messages and no good one: say why now


def generate_key(path: Path) -> None:
    """Write a new random key to ``path``, created with mode 0600. Refuses to overwrite an
    existing file (the vehicle may hold its key). The key is never printed."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, KEY_FILE_MODE)
    except FileExistsError:
        raise AgridroneError(f"key file {path} exists: not overwritten (the vehicle may hold "
                             "that key); choose another path") from None
    except OSError as exc:
        raise AgridroneError(f"cannot create key file {path}: {exc.strerror}") from None
    with os.fdopen(fd, "w") as fh:
        fh.write(secrets.token_bytes(KEY_BYTES).hex() + "\n")


def read_key(path: Path) -> bytes:
    """The 32-byte key in ``path``. Raises AgridroneError when the file is missing, readable
    or writable by group or others (like ssh, a shared key is refused), or not 64 hex digits;
    the message never shows the key."""
    try:
        mode = os.stat(path).st_mode
        text = Path(path).read_text(encoding="ascii", errors="replace").strip()
    except FileNotFoundError:
        raise AgridroneError(f"key file {path} not found (create one with agridrone signing "
                             "keygen --key FILE)") from None
    except OSError as exc:
        raise AgridroneError(f"cannot read key file {path}: {exc.strerror}") from None
    if stat.S_IMODE(mode) & 0o077:
        raise AgridroneError(f"key file {path} has mode {stat.S_IMODE(mode):04o}: others may "
                             f"read it; make it private with chmod 600 {path}")
    try:
        key = bytes.fromhex(text)
    except ValueError:
        key = b""
    if len(key) != KEY_BYTES:
        raise AgridroneError(f"key file {path}: not a signing key ({2 * KEY_BYTES} hex digits)")
    return key


class SigningState:
    """Signing on one pymavlink connection (None key: unsigned): counts what arrived so that a
    link on which nothing is accepted can say why. ``check()`` raises as soon as the cause is
    clear."""

    def __init__(self, conn, key: bytes | None) -> None:
        self.conn = conn
        self.key = key
        self.rejected = 0
        if key is not None:
            conn.setup_signing(key, sign_outgoing=True,
                               allow_unsigned_callback=self._reject_unsigned)

    def _reject_unsigned(self, _mav, _msg_id: int) -> bool:
        self.rejected += 1
        return False

    def problem(self) -> str | None:
        """Why the vehicle's messages are not accepted, or None when nothing points to signing."""
        signing = self.conn.mav.signing
        if self.key is None:
            if signing.sig_count:
                return ("the vehicle signs its MAVLink messages (signing is set up on it) and "
                        "ignores unsigned commands: give its key with --key FILE")
            return None
        if signing.goodsig_count:
            return None
        if signing.badsig_count:
            return ("the vehicle's messages fail the signature check: --key is not the key "
                    "installed on the vehicle")
        if self.rejected:
            return ("the vehicle does not sign its messages: signing is not set up on it "
                    "(agridrone signing setup --connect ADDR --key FILE)")
        return None

    def check(self) -> None:
        """Raise AgridroneError once the vehicle has been heard and its messages are refused
        for a signing reason (an unsigned link to a signing vehicle: at the first message)."""
        signing = self.conn.mav.signing
        heard = signing.sig_count if self.key is None else signing.badsig_count + self.rejected
        if self.key is None and heard or heard >= BAD_SIGNATURES_TO_GIVE_UP:
            problem = self.problem()
            if problem is not None:
                raise AgridroneError(problem)


def signing_timestamp(now_s: float) -> int:
    """MAVLink signing timestamp (10 µs units since 2015-01-01) of Unix time ``now_s``."""
    return int(max(now_s - EPOCH_2015_S, 0) * 100_000)


def install_key(link, key: bytes, now_s: float) -> None:
    """Send SETUP_SIGNING with ``key`` and the timestamp of ``now_s`` (Unix seconds) to the
    vehicle of ``link`` (twice: it has no answer), then sign our own messages with it."""
    timestamp = signing_timestamp(now_s)
    for _ in range(2):
        link.mav.setup_signing_send(link.target_system, link.target_component, key, timestamp)
    link.conn.setup_signing(key, sign_outgoing=True, initial_timestamp=timestamp)

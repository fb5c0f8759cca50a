"""Which way a mission, fence or rally list travels to and from the vehicle: MAVLink FTP of
ArduPilot's ``@MISSION`` files (:mod:`firmware_bridge.ftp`) or the item-by-item mission
protocol (:mod:`firmware_bridge.mission_protocol`), and a report saying which one and why.

``transfer="auto"`` on ArduPilot tries FTP first: a short probe (ResetSessions, at most
``PROBE_TRIES`` x 0.5 s) finds a vehicle without FTP in about 2 s. After an FTP upload the
mission protocol confirms that the vehicle holds the new list (its count and a pipelined
read-back compared item by item). When FTP is missing, refused or fails, the list goes item
by item; the item upload replaces whatever a failed FTP upload left and clears the list when
it fails itself, so the vehicle never keeps a half-written mission. ``transfer="ftp"`` fails
instead of falling back (and clears the list when the vehicle may have taken part of the
file); ``"items"`` and every PX4 vehicle use the mission protocol only.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from agridrone.errors import AgridroneError
from firmware_bridge import mission_protocol
from firmware_bridge.ftp import FtpClient, FtpError, ardupilot_crc32, close_quietly
from firmware_bridge.item_check import check_items
from firmware_bridge.link import Link, LinkLost
from firmware_bridge.mission_file import ITEM_SIZE, decode, encode, file_path
from firmware_bridge.pipelined_download import pipelined_download
from firmware_bridge.readback import compare_items
from missions.mission import MISSION_TYPE_MISSION, MissionItem

TRANSFERS = ("auto", "ftp", "items")
PROBE_TIMEOUT_S = 0.5
PROBE_TRIES = 4
KIND_NAMES = {0: "mission", 1: "fence", 2: "rally"}

Progress = Callable[[str, int, int], None]
"""progress(phase, done, total): phase "ftp upload", "ftp verify", "ftp download",
"items upload", "items verify" or "items download"; counts are items."""


@dataclass(frozen=True)
class TransferReport:
    """How one list travelled: ``path`` "ftp" or "items", ``items`` in the list, ``bytes`` of
    mission data carried (FTP: the file; items: 38 bytes per MISSION_ITEM_INT), ``retries``
    (requests sent again after a timeout, read-back included), ``seconds`` from start to
    verified end (a failed FTP attempt included), ``fell_back_reason`` why FTP was not used
    (None when it was, or was not tried), ``ftp_answered`` whether the vehicle answered FTP."""

    path: str
    mission_type: int
    items: int
    bytes: int
    retries: int
    seconds: float
    fell_back_reason: str | None = None
    ftp_answered: bool = False

    @property
    def items_per_s(self) -> float:
        """Items per second over the whole transfer, verification included."""
        return self.items / self.seconds if self.seconds > 0 else float("inf")


class _FtpUnavailable(Exception):
    """FTP could not start: nothing on the vehicle changed."""

    def __init__(self, message: str, answered: bool) -> None:
        super().__init__(message)
        self.answered = answered


class _FtpFailed(Exception):
    """FTP failed once the vehicle had a file open for writing: its list is in doubt."""


def _kind(mission_type: int) -> str:
    return KIND_NAMES.get(mission_type, f"mission_type {mission_type}")


def _check_transfer(link: Link, transfer: str) -> bool:
    """Whether to try FTP; refuses an unknown choice and FTP on a non-ArduPilot vehicle."""
    if transfer not in TRANSFERS:
        raise AgridroneError(f"transfer {transfer!r}: use auto, ftp or items")
    if transfer == "ftp" and link.autopilot != "ardupilot":
        raise AgridroneError(f"--transfer ftp needs ArduPilot's @MISSION files but the vehicle "
                             f"runs {link.autopilot}: use --transfer items or auto")
    return transfer == "ftp" or (transfer == "auto" and link.autopilot == "ardupilot")


def _phased(progress: Progress | None, phase: str) -> Callable[[str, int, int], None] | None:
    """A progress callback that reports every phase as ``phase``."""
    if progress is None:
        return None
    return lambda _phase, done, total: progress(phase, done, total)


def _probe(link: Link, timeout_s: float) -> FtpClient:
    """An FTP client whose ResetSessions the vehicle answered; raises _FtpUnavailable."""
    wait_s = min(timeout_s, PROBE_TIMEOUT_S)
    client = FtpClient(link, timeout_s=wait_s, retries=PROBE_TRIES - 1)
    client.endpoint.drain()
    try:
        client.reset_sessions()
    except FtpError as exc:
        if exc.code is None:
            raise _FtpUnavailable(f"the vehicle did not answer MAVLink FTP ({PROBE_TRIES} tries "
                                  f"of {wait_s:g} s)", answered=False) from None
        raise _FtpUnavailable(str(exc), answered=True) from None
    return client


def _ftp_load(link: Link, items: list[MissionItem], mission_type: int,
              progress: Progress | None, timeout_s: float, retries: int,
              tally: list[int]) -> int:
    """Write the list's file, then confirm it through the mission protocol; returns the file
    size in bytes. ``tally[0]`` collects retries. Raises _FtpUnavailable or _FtpFailed."""
    kind = _kind(mission_type)
    path = file_path(mission_type)
    try:
        data = encode(items, mission_type)
    except AgridroneError as exc:
        raise _FtpUnavailable(f"the {kind} cannot be written as a mission file ({exc})",
                              answered=False) from None
    client = _probe(link, timeout_s)
    client.timeout_s, client.retries = timeout_s, retries
    total = len(items)
    try:
        client.write(path, data, progress and (
            lambda nbytes: progress("ftp upload", min(total, nbytes // ITEM_SIZE), total)))
    except FtpError as exc:
        tally[0] += client.resent
        close_quietly(client)
        if not client.file_created:
            raise _FtpUnavailable(str(exc), answered=True) from None
        raise _FtpFailed(f"MAVLink FTP upload of the {kind} failed: {exc}") from None
    tally[0] += client.resent
    try:
        readback = pipelined_download(link, mission_type, timeout_s=timeout_s, retries=retries,
                                      window=mission_protocol.ARDUPILOT_DOWNLOAD_WINDOW,
                                      progress=_phased(progress, "ftp verify"))
    except LinkLost:
        raise
    except AgridroneError as exc:
        raise _FtpFailed(f"read-back after the MAVLink FTP upload failed ({exc})") from None
    tally[0] += readback.resent
    problems = compare_items(items, readback.items, link.autopilot, mission_type)
    if problems:
        raise _FtpFailed(f"the {kind} read back after the MAVLink FTP upload differs in "
                         f"{len(problems)} item(s), first {problems[0]}")
    return len(data)


def load(link: Link, items: Sequence[MissionItem], mission_type: int = MISSION_TYPE_MISSION,
         *, transfer: str = "auto", progress: Progress | None = None,
         timeout_s: float = mission_protocol.DEFAULT_TIMEOUT_S,
         retries: int = mission_protocol.DEFAULT_RETRIES,
         max_items: int | None = None) -> TransferReport:
    """Make ``items`` the vehicle's mission, fence or rally list, verified by read-back.

    ``transfer`` is "auto" (ArduPilot: FTP, falling back to the item protocol; PX4: items),
    "ftp" (fail rather than fall back) or "items". ``timeout_s`` (s) is the wait for an
    answer before sending again and ``retries`` the resends in a row before giving up (the
    FTP probe waits at most 0.5 s per try). ``max_items`` is the vehicle's limit; it and every
    item (:func:`firmware_bridge.item_check.check_items`) are checked before anything is
    sent. The upload is all or nothing: raises AgridroneError naming the problem, and after a
    failure or Ctrl-C (KeyboardInterrupt) that may have changed the vehicle's list, the list
    is cleared, read back as empty, and the message says so; when the link itself is lost the
    message says the list may be half-written.
    """
    items = list(items)
    check_items(items, link.autopilot, mission_type)
    kind = _kind(mission_type)
    try:
        return _load(link, items, mission_type, transfer, progress, timeout_s, retries,
                     max_items)
    except LinkLost as exc:
        raise AgridroneError(f"{exc} during the {kind} upload: the vehicle may hold a "
                             f"half-written {kind} - reconnect and upload or clear it before "
                             "flight") from None
    except KeyboardInterrupt:
        cleared = mission_protocol.clear_after_failure(link, mission_type, timeout_s, retries)
        raise AgridroneError(f"{kind} upload interrupted (Ctrl-C); {cleared}") from None


def _load(link: Link, items: list[MissionItem], mission_type: int, transfer: str,
          progress: Progress | None, timeout_s: float, retries: int,
          max_items: int | None) -> TransferReport:
    """:func:`load` after the checks; raises AgridroneError, LinkLost or KeyboardInterrupt."""
    started = time.monotonic()
    tally = [0]
    reason = None
    answered = False
    if _check_transfer(link, transfer):
        limit = (max_items if max_items is not None
                 else mission_protocol.default_max_items(link.autopilot, mission_type))
        if limit is not None and len(items) > limit:
            raise AgridroneError(f"{_kind(mission_type)} has {len(items)} items but the vehicle "
                                 f"holds at most {limit} (--max-items); nothing was sent")
        try:
            size = _ftp_load(link, items, mission_type, progress, timeout_s, retries, tally)
            return TransferReport("ftp", mission_type, len(items), size, tally[0],
                                  time.monotonic() - started, None, True)
        except _FtpUnavailable as exc:
            if transfer == "ftp":
                raise AgridroneError(f"{exc}; the vehicle's {_kind(mission_type)} was not "
                                     "changed (use --transfer items or auto)") from None
            reason, answered = str(exc), exc.answered
        except _FtpFailed as exc:
            if transfer == "ftp":
                cleared = mission_protocol.clear_after_failure(link, mission_type, timeout_s,
                                                               retries)
                raise AgridroneError(f"{exc}; {cleared}") from None
            reason, answered = str(exc), True
    try:
        result = mission_protocol.upload(
            link, items, mission_type=mission_type, timeout_s=timeout_s, retries=retries,
            max_items=max_items, progress=progress and (
                lambda phase, done, total: progress(f"items {phase}", done, total)))
    except LinkLost:
        raise
    except AgridroneError as exc:
        after = f" (after falling back from MAVLink FTP: {reason})" if reason else ""
        raise AgridroneError(f"{exc}{after}") from None
    return TransferReport("items", mission_type, len(items), len(items) * ITEM_SIZE,
                          tally[0] + result.resent + result.verify_resent,
                          time.monotonic() - started, reason, answered)


def _ftp_fetch(link: Link, mission_type: int, progress: Progress | None, timeout_s: float,
               retries: int, tally: list[int]) -> tuple[list[MissionItem], int]:
    """The list read from its file, checked against the vehicle's CRC32; and its bytes."""
    path = file_path(mission_type)
    client = _probe(link, timeout_s)
    client.timeout_s, client.retries = timeout_s, retries
    try:
        data = client.read(path)
        remote = client.crc32(path)
    except FtpError as exc:
        tally[0] += client.resent
        close_quietly(client)
        raise _FtpUnavailable(str(exc), answered=True) from None
    tally[0] += client.resent
    if remote != ardupilot_crc32(data):
        raise _FtpUnavailable(f"{path} read over MAVLink FTP does not match the vehicle's CRC32",
                              answered=True)
    try:
        items = decode(data, mission_type).items
    except AgridroneError as exc:
        raise _FtpUnavailable(f"{path}: {exc}", answered=True) from None
    if progress:
        progress("ftp download", len(items), len(items))
    return items, len(data)


def fetch(link: Link, mission_type: int = MISSION_TYPE_MISSION, *, transfer: str = "auto",
          progress: Progress | None = None,
          timeout_s: float = mission_protocol.DEFAULT_TIMEOUT_S,
          retries: int = mission_protocol.DEFAULT_RETRIES
          ) -> tuple[list[MissionItem], TransferReport]:
    """The vehicle's mission, fence or rally list (ArduPilot: item 0 is home) and how it came.

    ``transfer`` as for :func:`load`: "auto" reads ``@MISSION/*.dat`` over FTP on ArduPilot
    and falls back to the pipelined item download; ``timeout_s`` (s) and ``retries`` as there.
    """
    started = time.monotonic()
    tally = [0]
    reason = None
    answered = False
    if _check_transfer(link, transfer):
        try:
            items, size = _ftp_fetch(link, mission_type, progress, timeout_s, retries, tally)
            return items, TransferReport("ftp", mission_type, len(items), size, tally[0],
                                         time.monotonic() - started, None, True)
        except _FtpUnavailable as exc:
            if transfer == "ftp":
                raise AgridroneError(f"{exc} (use --transfer items or auto)") from None
            reason, answered = str(exc), exc.answered
    result = pipelined_download(link, mission_type, timeout_s=timeout_s, retries=retries,
                                window=mission_protocol.download_window(link.autopilot),
                                progress=_phased(progress, "items download"))
    return result.items, TransferReport(
        "items", mission_type, len(result.items), len(result.items) * ITEM_SIZE,
        tally[0] + result.resent, time.monotonic() - started, reason, answered)

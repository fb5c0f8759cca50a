"""The MAVLink mission protocol for missions, fences and rally points: upload, download,
clear and set-current, with bounded timeouts and retries.

Upload: MISSION_COUNT -> the vehicle asks for each item (MISSION_REQUEST or MISSION_REQUEST_INT)
-> MISSION_ITEM_INT -> MISSION_ACK, then the list is read back and compared item by item.
Duplicate and repeated requests are answered; MISSION_ACK INVALID_SEQUENCE does not end a
transfer (ArduPilot keeps going). ArduPilot writes items over its stored mission as they arrive,
so after any failure past MISSION_COUNT the vehicle's list is cleared and the error says so.
Downloads and read-backs keep several MISSION_REQUEST_INT in flight on ArduPilot
(:mod:`firmware_bridge.pipelined_download`); PX4 answers requests strictly in order, so one.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from agridrone.errors import AgridroneError
from firmware_bridge.ack_errors import (
    MAV_MISSION_ACCEPTED,
    MAV_MISSION_DENIED,
    MAV_MISSION_ERROR,
    MAV_MISSION_INVALID_SEQUENCE,
    explain,
    result_name,
)
from firmware_bridge.item_check import check_items
from firmware_bridge.link import Link, LinkLost
from firmware_bridge.pipelined_download import pipelined_download
from firmware_bridge.readback import compare_items
from missions.mission import MISSION_TYPE_MISSION, MissionItem

KIND_NAMES = {0: "mission", 1: "fence", 2: "rally"}
ARDUPILOT_DEFAULT_MAX_ITEMS = 650
MAV_CMD_DO_SET_MISSION_CURRENT = 224
MAV_RESULT_ACCEPTED = 0
MAV_RESULT_UNSUPPORTED = 3
DEFAULT_TIMEOUT_S = 1.0
DEFAULT_RETRIES = 5
STALL_LIMIT_S = 10.0  # an upload that stops advancing this long while the vehicle talks fails
ARDUPILOT_DOWNLOAD_WINDOW = 8  # MISSION_REQUEST_INT kept in flight on ArduPilot

Progress = Callable[[str, int, int], None]
"""progress(phase, done, total): phase is "upload", "verify" or "download"; counts are items."""


@dataclass(frozen=True)
class UploadResult:
    """A verified upload: ``count`` items of ``mission_type`` stored in the vehicle.

    ``transfer_s`` is the time from MISSION_COUNT to the ACK and ``verify_s`` the read-back
    time, both in seconds; ``resent`` counts items and requests sent again after a timeout
    during the transfer, ``verify_resent`` the read-back requests sent again.
    """

    mission_type: int
    count: int
    autopilot: str
    transfer_s: float
    verify_s: float
    resent: int
    verify_resent: int = 0

    @property
    def items_per_s(self) -> float:
        """Items per second during the transfer (read-back excluded)."""
        return self.count / self.transfer_s if self.transfer_s > 0 else float("inf")


class _TransferFailed(Exception):
    """A failure after MISSION_COUNT: the vehicle's list must be cleared."""


def default_max_items(autopilot: str, mission_type: int) -> int | None:
    """Item limit checked before an upload: 650 for ArduPilot missions, else left to the vehicle."""
    if autopilot == "ardupilot" and mission_type == MISSION_TYPE_MISSION:
        return ARDUPILOT_DEFAULT_MAX_ITEMS
    return None


def download_window(autopilot: str) -> int:
    """MISSION_REQUEST_INT a download keeps in flight: 8 on ArduPilot, 1 elsewhere (PX4)."""
    return ARDUPILOT_DOWNLOAD_WINDOW if autopilot == "ardupilot" else 1


def _kind(mission_type: int) -> str:
    return KIND_NAMES.get(mission_type, f"mission_type {mission_type}")


def _send_item(link: Link, item: MissionItem, seq: int, mission_type: int) -> None:
    link.mav.mission_item_int_send(
        link.target_system, link.target_component, seq, item.frame, item.command, 0,
        item.autocontinue, item.param1, item.param2, item.param3, item.param4,
        item.x, item.y, item.z, mission_type)


def _ack_failure(code: int, kind: str, items: list[MissionItem], last_sent: int,
                 stored: int) -> str:
    n = len(items)
    if last_sent < 0:
        where = f"answered MISSION_COUNT {n}"
    else:
        item = items[last_sent]
        where = (f"rejected {kind} item {last_sent} of {n} (command {item.command}, "
                 f"frame {item.frame})")
    return (f"vehicle {where} with MISSION_ACK {result_name(code)}: {explain(code)}; "
            f"{stored} of {n} items had been confirmed stored")


def _transfer(link: Link, items: list[MissionItem], mission_type: int, progress: Progress | None,
              timeout_s: float, retries: int) -> tuple[int, str | None]:
    """Run one upload until the vehicle's ACK.

    Returns how many items or requests were sent again, and None when the vehicle
    acknowledged the upload, or the reason for doubt when the last item was sent but no
    ACCEPTED came back (a lost ACK, or an ERROR answering a repeated last item): the
    read-back then decides. Raises _TransferFailed for any other failure.
    """
    n = len(items)
    kind = _kind(mission_type)
    link.mav.mission_count_send(link.target_system, link.target_component, n, mission_type)
    highest_requested = -1  # the vehicle holds items below this seq once it asks for it
    wanted = -1  # the seq the vehicle asked for last
    last_sent = -1
    highest_sent = -1
    all_sent = n == 0  # the last item went out at least once
    resent = 0
    silent_tries = 0
    stall_limit_s = max(STALL_LIMIT_S, (retries + 1) * timeout_s)
    stall_deadline = time.monotonic() + stall_limit_s
    while True:
        msg = link.recv(["MISSION_REQUEST", "MISSION_REQUEST_INT", "MISSION_ACK"], timeout_s)
        stored = max(highest_requested, 0)
        if msg is None:
            silent_tries += 1
            if silent_tries > retries:
                if all_sent:
                    return resent, f"no MISSION_ACK for the {kind} after its last item"
                raise _TransferFailed(
                    f"vehicle went silent during the {kind} upload: {stored} of {n} items "
                    f"confirmed stored, no answer to {retries} retries ({timeout_s:g} s each)")
            resent += 1
            if wanted < 0:
                link.mav.mission_count_send(link.target_system, link.target_component, n,
                                            mission_type)
                continue
            # The vehicle wants an item between the one it asked for last and the one after
            # the highest sent. ArduPilot answers an unexpected seq with INVALID_SEQUENCE and
            # carries on, so sending that whole run recovers a lost item or request at once
            # instead of waiting for its 1 s re-request. PX4 aborts on out-of-sequence items
            # (a repeat of the previous one excepted): only the asked-for item there.
            last = min(highest_sent + 1, n - 1) if link.autopilot == "ardupilot" else wanted
            for seq in range(wanted, max(last, wanted) + 1):
                _send_item(link, items[seq], seq, mission_type)
            highest_sent = max(highest_sent, last)
            all_sent = all_sent or highest_sent == n - 1
            continue
        if getattr(msg, "mission_type", 0) != mission_type:
            continue
        silent_tries = 0
        if time.monotonic() > stall_deadline:
            raise _TransferFailed(
                f"vehicle stopped taking {kind} items: {stored} of {n} confirmed stored, no progress "
                f"for {stall_limit_s:g} s")
        if msg.get_type() == "MISSION_ACK":
            if msg.type == MAV_MISSION_INVALID_SEQUENCE:
                continue
            if msg.type == MAV_MISSION_ACCEPTED:
                if all_sent:
                    if progress:
                        progress("upload", n, n)
                    return resent, None
                continue  # a stale ACK from an earlier exchange
            failure = _ack_failure(msg.type, kind, items, last_sent, stored)
            if all_sent:
                return resent, failure
            raise _TransferFailed(failure)
        seq = msg.seq
        if not 0 <= seq < n:
            continue
        _send_item(link, items[seq], seq, mission_type)
        last_sent = seq
        highest_sent = max(highest_sent, seq)
        all_sent = all_sent or seq == n - 1
        if seq > wanted:
            stall_deadline = time.monotonic() + stall_limit_s
        wanted = seq
        if seq > highest_requested:
            highest_requested = seq
            if progress:
                progress("upload", seq, n)


def clear_after_failure(link: Link, mission_type: int, timeout_s: float, retries: int) -> str:
    """Clear the list after a failed upload, with twice the retry budget (a vehicle back from a
    radio dropout must not keep a half-new mission); say how that went."""
    try:
        clear(link, mission_type=mission_type, timeout_s=timeout_s, retries=2 * retries + 1)
    except LinkLost:
        raise
    except AgridroneError as exc:
        return (f"clearing the vehicle's {_kind(mission_type)} FAILED ({exc}): it may hold a mix "
                "of old and new items - clear it before flight")
    return f"the vehicle's {_kind(mission_type)} was cleared (count 0 read back)"


def upload(link: Link, items: list[MissionItem], *, mission_type: int = MISSION_TYPE_MISSION,
           progress: Progress | None = None, timeout_s: float = DEFAULT_TIMEOUT_S,
           retries: int = DEFAULT_RETRIES, max_items: int | None = None) -> UploadResult:
    """Upload ``items`` as the vehicle's mission, fence or rally list and verify it by read-back.

    ``timeout_s`` (seconds) is how long to wait for the vehicle before sending again;
    ``retries`` how many such resends in a row end the upload. ``max_items`` is the vehicle's
    limit (default 650 for ArduPilot missions), checked with every item (item_check) before
    anything is sent. Raises AgridroneError naming the problem and how far the upload got; after any failure once
    MISSION_COUNT was sent, the vehicle's list is cleared and the message says so.
    """
    n = len(items)
    kind = _kind(mission_type)
    check_items(items, link.autopilot, mission_type, allow_empty=True)
    limit = max_items if max_items is not None else default_max_items(link.autopilot, mission_type)
    if limit is not None and n > limit:
        raise AgridroneError(
            f"{kind} has {n} items but the vehicle holds at most {limit} (--max-items); "
            "nothing was sent")
    link.drain()
    start = time.monotonic()
    try:
        resent, doubt = _transfer(link, items, mission_type, progress, timeout_s, retries)
    except _TransferFailed as exc:
        raise AgridroneError(f"{exc}; {clear_after_failure(link, mission_type, timeout_s, retries)}"
                             ) from None
    transfer_s = time.monotonic() - start
    verify_resent = 0
    try:
        readback = pipelined_download(
            link, mission_type, window=download_window(link.autopilot), timeout_s=timeout_s,
            retries=retries, progress=progress and (lambda _phase, done, total: progress(
                "verify", done, total)))
        verify_resent = readback.resent
        problems = compare_items(items, readback.items, link.autopilot, mission_type)
        failure = (f"read-back differs from the upload in {len(problems)} item(s), first "
                   f"{problems[0]}") if problems else None
    except LinkLost:
        raise
    except AgridroneError as exc:
        failure = f"read-back failed ({exc})"
    if failure:
        cleared = clear_after_failure(link, mission_type, timeout_s, retries)
        said = f"{doubt}, and the" if doubt else f"{kind} uploaded but the"
        raise AgridroneError(f"{said} {failure}; {cleared}")
    return UploadResult(mission_type=mission_type, count=n, autopilot=link.autopilot,
                        transfer_s=transfer_s, verify_s=time.monotonic() - start - transfer_s,
                        resent=resent, verify_resent=verify_resent)


def _read_count(link: Link, mission_type: int, timeout_s: float, retries: int) -> int:
    last_ack = None
    for _ in range(retries + 1):
        link.mav.mission_request_list_send(link.target_system, link.target_component,
                                           mission_type)
        deadline = time.monotonic() + timeout_s
        while (remaining := deadline - time.monotonic()) > 0:
            msg = link.recv(["MISSION_COUNT", "MISSION_ACK"], remaining)
            if msg is None or getattr(msg, "mission_type", 0) != mission_type:
                continue
            if msg.get_type() == "MISSION_COUNT":
                return msg.count
            if msg.type != MAV_MISSION_ACCEPTED:
                last_ack = msg.type
    refused = f" (last answer MISSION_ACK {result_name(last_ack)})" if last_ack is not None else ""
    raise AgridroneError(
        f"vehicle did not send its {_kind(mission_type)} count after {retries + 1} requests{refused}")


def download(link: Link, *, mission_type: int = MISSION_TYPE_MISSION,
             progress: Progress | None = None, timeout_s: float = DEFAULT_TIMEOUT_S,
             retries: int = DEFAULT_RETRIES, phase: str = "download",
             window: int | None = None) -> list[MissionItem]:
    """The vehicle's mission, fence or rally list as it stores it (ArduPilot: item 0 is home).

    ``window`` MISSION_REQUEST_INT are kept in flight (default :func:`download_window`; 1 is
    one request at a time); each is repeated after ``timeout_s`` seconds, up to ``retries``
    times. ``progress`` is called with ``phase``.
    """
    result = pipelined_download(
        link, mission_type, window=window or download_window(link.autopilot),
        timeout_s=timeout_s, retries=retries,
        progress=progress and (lambda _phase, done, total: progress(phase, done, total)))
    return result.items


def _request_clear(link: Link, mission_type: int, timeout_s: float, retries: int) -> None:
    """Empty the list: MISSION_CLEAR_ALL, or MISSION_COUNT 0 while the vehicle is still in an
    aborted upload (ArduPilot answers CLEAR_ALL with ERROR until its upload times out)."""
    last_ack = None
    for attempt in range(retries + 1):
        if last_ack in (MAV_MISSION_ERROR, MAV_MISSION_DENIED) and attempt % 2:
            link.mav.mission_count_send(link.target_system, link.target_component, 0,
                                        mission_type)
        else:
            link.mav.mission_clear_all_send(link.target_system, link.target_component,
                                            mission_type)
        deadline = time.monotonic() + timeout_s
        while (remaining := deadline - time.monotonic()) > 0:
            msg = link.recv(["MISSION_ACK"], remaining)
            if msg is None or getattr(msg, "mission_type", 0) != mission_type:
                continue
            if msg.type == MAV_MISSION_ACCEPTED:
                return
            if msg.type != MAV_MISSION_INVALID_SEQUENCE:
                last_ack = msg.type
                break
    answer = f"last answer MISSION_ACK {result_name(last_ack)}" if last_ack is not None else "no answer"
    raise AgridroneError(f"vehicle did not clear its {_kind(mission_type)} ({answer})")


def clear(link: Link, *, mission_type: int = MISSION_TYPE_MISSION,
          timeout_s: float = DEFAULT_TIMEOUT_S, retries: int = DEFAULT_RETRIES) -> None:
    """Delete the vehicle's mission, fence or rally list and check that it now reports count 0.

    Waits ``timeout_s`` seconds per attempt, ``retries`` more attempts. Raises AgridroneError.
    """
    link.drain()
    _request_clear(link, mission_type, timeout_s, retries)
    count = _read_count(link, mission_type, timeout_s, retries)
    # end the count-only download: PX4 refuses the next upload until this ACK (or its timeout)
    link.mav.mission_ack_send(link.target_system, link.target_component, MAV_MISSION_ACCEPTED,
                              mission_type)
    if count != 0:
        raise AgridroneError(f"vehicle acknowledged the clear but still reports {count} "
                             f"{_kind(mission_type)} items")


def set_current(link: Link, seq: int, *, timeout_s: float = DEFAULT_TIMEOUT_S,
                retries: int = 3) -> None:
    """Make mission item ``seq`` the next one the vehicle flies (resume after a breakpoint).

    Uses MAV_CMD_DO_SET_MISSION_CURRENT; falls back to MISSION_SET_CURRENT when the vehicle
    does not support the command. ArduPilot never makes item 0 (home) current: asking for 0
    selects 1. Raises AgridroneError when the vehicle refuses (e.g. seq beyond the mission).
    """
    for _ in range(retries + 1):
        link.mav.command_long_send(link.target_system, link.target_component,
                                   MAV_CMD_DO_SET_MISSION_CURRENT, 0, seq, 0, 0, 0, 0, 0, 0)
        msg = link.recv(["COMMAND_ACK"], timeout_s)
        while msg is not None and msg.command != MAV_CMD_DO_SET_MISSION_CURRENT:
            msg = link.recv(["COMMAND_ACK"], timeout_s)
        if msg is None:
            continue
        if msg.result == MAV_RESULT_ACCEPTED:
            return
        if msg.result != MAV_RESULT_UNSUPPORTED:
            raise AgridroneError(f"vehicle refused to make mission item {seq} current "
                                 f"(COMMAND_ACK result {msg.result}; is {seq} beyond the mission?)")
        break
    wanted = {seq, 1} if seq == 0 and link.autopilot == "ardupilot" else {seq}
    for _ in range(retries + 1):
        link.mav.mission_set_current_send(link.target_system, link.target_component, seq)
        deadline = time.monotonic() + timeout_s
        while (remaining := deadline - time.monotonic()) > 0:
            msg = link.recv(["MISSION_CURRENT"], remaining)
            if msg is not None and msg.seq in wanted:
                return
    raise AgridroneError(f"vehicle did not make mission item {seq} current "
                         f"(no confirmation after {retries + 1} tries)")


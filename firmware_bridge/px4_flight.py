"""Fly one sortie on a PX4 vehicle through firmware_bridge and record what it reports.

The PX4 counterpart of :func:`firmware_bridge.flight.fly_sortie`: load the mission (upload and
read-back verify), make its item 0 current (see :func:`first_item_current`), AUTO/MISSION by
DO_SET_MODE (base 1, main 4, sub 4), arm (retried while pre-arm checks fail; arming in
AUTO/MISSION starts the mission, so no MISSION_START), check that PX4 runs item 0, and only
if it does not, start again with MISSION_START (counted in ``SortieLog.start_retries``);
then watch HEARTBEAT, MISSION_CURRENT, GLOBAL_POSITION_INT,
SERVO_OUTPUT_RAW (the pump output, Actuator Set 1) and BATTERY_STATUS until PX4 has landed and
disarmed. PX4 ends a mission whose last item is NAV_RETURN_TO_LAUNCH by switching to its RTL
mode: the mission completed when its last item became current (MISSION_CURRENT, in whatever
mode it arrives); leaving MISSION before that is an interruption (a failsafe, the operator). Times in the log are the vehicle's seconds since boot.
"""

from __future__ import annotations

import time

from agridrone.errors import AgridroneError
from firmware_bridge.flight import (
    MAV_CMD_COMPONENT_ARM_DISARM,
    MAV_CMD_DO_SET_MODE,
    MAV_CMD_MISSION_START,
    MAV_MODE_FLAG_SAFETY_ARMED,
    MAV_RESULT_ACCEPTED,
    MISSION_STATE_COMPLETE,
    PumpChannel,
    SortieLog,
    command,
    recording,
    status_text,
    telemetry,
)
from firmware_bridge.link import Link
from firmware_bridge.mission_protocol import set_current, upload
from firmware_bridge.px4_modes import (
    AUTO_MISSION,
    MAV_CMD_SET_MESSAGE_INTERVAL,
    TELEMETRY_IDS,
    set_mode_params,
)
from missions.mission import CMD_DO_SET_ACTUATOR, MissionItem

START_ATTEMPTS = 5
ARM_RETRY_S = 0.5
START_WAIT_S = 15.0  # wall s for PX4 to show the new mission loaded / its first item running
MISSION_STATE_ACTIVE = 3  # MISSION_CURRENT.mission_state: the mission is being flown


def request_telemetry(link: Link, rate_hz: float) -> None:
    """Ask PX4 for position, servo outputs, mission progress and battery at ``rate_hz`` (per
    vehicle second) with SET_MESSAGE_INTERVAL; the ACKs are not waited for (re-asked when
    the stream falls silent)."""
    interval_us = 1e6 / rate_hz
    for msg_id in TELEMETRY_IDS:
        link.mav.command_long_send(link.target_system, link.target_component,
                                   MAV_CMD_SET_MESSAGE_INTERVAL, 0, msg_id, interval_us,
                                   0, 0, 0, 0, 0)


def set_mode(link: Link, mode: int) -> None:
    """Switch PX4 to ``mode`` (a custom_mode, e.g. AUTO_MISSION); AgridroneError when refused."""
    result = command(link, MAV_CMD_DO_SET_MODE, set_mode_params(mode))
    if result != MAV_RESULT_ACCEPTED:
        raise AgridroneError(f"PX4 refused flight mode {mode:#x} (result {result})")


def arm(link: Link, wait_s: float) -> None:
    """Arm, retrying for up to ``wait_s`` wall seconds while pre-arm checks fail; the error
    names PX4's last STATUSTEXT."""
    deadline = time.monotonic() + wait_s
    reason = "no reason given"
    while True:
        link.drain()
        if command(link, MAV_CMD_COMPONENT_ARM_DISARM, (1,)) == MAV_RESULT_ACCEPTED:
            return
        text = link.recv(["STATUSTEXT"], ARM_RETRY_S)
        if text is not None:
            reason = status_text(text)
        if time.monotonic() > deadline:
            raise AgridroneError(f"PX4 refused to arm for {wait_s:g} s ({reason})")


def pump_off(link: Link) -> None:
    """Send DO_SET_ACTUATOR with the pump (and Actuator Set 2-4) at -1, index 0, three
    times (PX4 does not acknowledge it; its outputs show it). The ground station's guard for
    when PX4 leaves its mission: PX4 keeps an Actuator Set output at its last value in HOLD,
    RTL and LAND, so a pump the mission switched on runs on through a failsafe return unless
    something switches it off."""
    for _ in range(3):
        link.mav.command_long_send(link.target_system, link.target_component,
                                   CMD_DO_SET_ACTUATOR, 0, *(-1.0,) * 4, 0.0, 0.0, 0.0)


def first_item_current(link: Link, count: int, wait_s: float = START_WAIT_S) -> bool:
    """Wait until MISSION_CURRENT shows the ``count``-item mission just uploaded with item 0
    current, making it current (DO_SET_MISSION_CURRENT 0) when PX4 names another; True when
    that was needed. Raises AgridroneError after ``wait_s`` wall seconds.

    PX4 (v1.16 SITL; mavlink_mission.cpp, navigator mission_base.cpp) keeps the previous
    mission's current item, clamped to the new count, unless an uploaded item is flagged
    current, and ignores an upload identical to the stored mission. After a sortie that
    completed, that is the last item (NAV_RETURN_TO_LAUNCH): arming in AUTO/MISSION then
    started with RTL ("Executing Mission", "Returning to launch" from 1-2 m); after one
    interrupted at item 7, the next mission started at item 7, skipping its first items."""
    deadline = time.monotonic() + wait_s
    reset = False
    while (remaining := deadline - time.monotonic()) > 0:
        msg = link.recv(["MISSION_CURRENT"], min(remaining, 1.0))
        if msg is None or msg.total != count:
            continue  # not yet the new mission (or no report this second)
        if msg.seq == 0:
            return reset
        set_current(link, 0)
        reset = True
    raise AgridroneError(f"PX4 did not report the new {count}-item mission with item 0 "
                         f"current within {wait_s:g} s")


def running_item(link: Link, wait_s: float = START_WAIT_S) -> int | None:
    """The item of the first MISSION_CURRENT in state ACTIVE after a HEARTBEAT shows PX4
    armed in AUTO/MISSION, or None when PX4 shows itself armed in another mode (RTL, LAND)
    or nothing of the kind comes within ``wait_s`` wall seconds."""
    deadline = time.monotonic() + wait_s
    flying = False
    while (remaining := deadline - time.monotonic()) > 0:
        msg = link.recv(["HEARTBEAT", "MISSION_CURRENT"], remaining)
        if msg is None:
            return None
        if msg.get_type() == "HEARTBEAT":
            armed = bool(msg.base_mode & MAV_MODE_FLAG_SAFETY_ARMED)
            if armed and msg.custom_mode != AUTO_MISSION:
                return None
            flying = armed
        elif flying and getattr(msg, "mission_state", MISSION_STATE_ACTIVE) == MISSION_STATE_ACTIVE:
            return int(msg.seq)
    return None


def start_mission(link: Link, log: SortieLog, count: int, arm_wait_s: float) -> None:
    """Start the uploaded ``count``-item mission from item 0 and confirm PX4 flies it; the
    fallback (MISSION_START 0, also in the air) is counted in ``log.start_retries`` and
    named in ``log.texts``. Raises AgridroneError when PX4 refuses a step or does not fly
    the mission after START_ATTEMPTS tries."""
    if first_item_current(link, count):
        log.texts.append("agridrone: made item 0 current (PX4 kept the previous mission's)")
    set_mode(link, AUTO_MISSION)
    arm(link, arm_wait_s)
    item = running_item(link)
    if item == 0:
        return
    for _ in range(START_ATTEMPTS - 1):
        log.start_retries += 1
        why = "left AUTO/MISSION" if item is None else f"began at item {item}"
        log.texts.append(f"agridrone: start retried (PX4 {why}, not at item 0)")
        set_mode(link, AUTO_MISSION)
        arm(link, arm_wait_s)
        result = command(link, MAV_CMD_MISSION_START, (0, 0))
        if result != MAV_RESULT_ACCEPTED:
            raise AgridroneError(f"PX4 refused MISSION_START (result {result}): "
                                 "see its STATUSTEXT/events for the mission check")
        item = running_item(link)
        if item is not None and item < count - 1:
            return
    raise AgridroneError(f"sortie {log.sortie}: PX4 did not start its mission armed "
                         f"in AUTO/MISSION after {START_ATTEMPTS} tries")


def fly_sortie_px4(link: Link, sortie: int, parts: list[list[MissionItem]], *, rate_hz: float,
                   timeout_s: float, pump: PumpChannel, arm_wait_s: float = 30.0,
                   upload_timeout_s: float = 0.3, upload_retries: int = 20) -> SortieLog:
    """Fly sortie number ``sortie`` (``parts``: complete missions, each from take-off to
    landing) on PX4; stop after a part that did not complete. ``timeout_s``: wall seconds a
    part may take from its start to disarm. Raises AgridroneError when PX4 refuses a step
    or does not land in time."""
    log = SortieLog(sortie)
    for log.part, items in enumerate(parts, start=1):
        upload(link, items, timeout_s=upload_timeout_s, retries=upload_retries)
        request_telemetry(link, rate_hz)
        log.begin_part()
        with recording(link, log, pump):
            start_mission(link, log, len(items), arm_wait_s)
        _watch(link, log, len(items), rate_hz, timeout_s, pump)
        if not log.completed:
            break
    return log


def _watch(link: Link, log: SortieLog, count: int, rate_hz: float, timeout_s: float,
           pump: PumpChannel) -> None:
    """Record telemetry from the mission's start until PX4 is disarmed again; ``count`` items."""
    armed_seen, mode, finished = False, AUTO_MISSION, False
    left: tuple[int, tuple[float, float] | None] | None = None  # (item, lat/lon) on leaving
    for msg in telemetry(link, log, pump, timeout_s=timeout_s, who="PX4", silence_s=None,
                         request=lambda: request_telemetry(link, rate_hz)):
        kind = msg.get_type()
        if kind == "MISSION_CURRENT":
            # the last item current (RTL/LAND) in any mode: PX4 may announce its RTL mode
            # before the MISSION_CURRENT of the RTL item; "complete" only in MISSION (an
            # emergency LAND after a failsafe reports mission_state COMPLETE at item 39 of 75)
            finished = finished or msg.seq >= count - 1 or (
                mode == AUTO_MISSION and getattr(msg, "mission_state", 0) == MISSION_STATE_COMPLETE)
            if mode == AUTO_MISSION and left is None:
                log.current = max(log.current, int(msg.seq))
        elif kind == "HEARTBEAT":
            armed = bool(msg.base_mode & MAV_MODE_FLAG_SAFETY_ARMED)
            if msg.custom_mode != mode:
                mode = int(msg.custom_mode)
                log.modes.append((log.vehicle_time_s, mode))
                if mode != AUTO_MISSION and left is None:
                    left = (log.last_reached, log.positions[-1][1:3] if log.positions else None)
                    pump_off(link)
            armed_seen = armed_seen or armed
            if armed_seen and not armed:
                break
    log.completed = finished or left is None
    if not log.completed:
        log.interrupted_at_item, log.interrupted_at = left

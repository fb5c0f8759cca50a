"""Fly one sortie's mission through firmware_bridge and record what the vehicle reports.

The ground-station side of a sortie, as an operator's GCS does it against ArduPilot: load the
mission (upload and read-back verify), GUIDED, arm (retried while pre-arm checks still fail),
MISSION_START (AUTO), then watch HEARTBEAT, MISSION_CURRENT / MISSION_ITEM_REACHED,
GLOBAL_POSITION_INT, SERVO_OUTPUT_RAW (the pump channel) and BATTERY_STATUS until the vehicle
has landed and disarmed. Commands are re-sent until acknowledged, so a lossy link only slows
the run down. Times in the log are the vehicle's (seconds since its boot); wall-clock
timeouts are seconds.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from agridrone.errors import AgridroneError
from firmware_bridge.link import Link
from firmware_bridge.mission_protocol import upload
from missions.mission import MissionItem

GUIDED, AUTO, RTL, LAND = 4, 3, 6, 9
MAV_CMD_DO_SET_MODE = 176
MAV_CMD_MISSION_START = 300
MAV_CMD_COMPONENT_ARM_DISARM = 400
MAV_MODE_FLAG_CUSTOM_MODE_ENABLED = 1
MAV_MODE_FLAG_SAFETY_ARMED = 128
MAV_RESULT_ACCEPTED = 0
MAV_DATA_STREAM_ALL = 0
MISSION_STATE_COMPLETE = 5
START_ATTEMPTS = 5
COMMAND_TIMEOUT_S = 0.5  # wall seconds to wait for a COMMAND_ACK before sending again
STREAM_SILENCE_S = 1.0  # no position for this long (wall): ask for the streams again
STREAM_START_S = 0.3  # wall seconds to wait for a position after asking for the streams
STREAM_START_TRIES = 20
SILENCE_LIMIT_S = 20.0  # no message at all for this long (wall): the vehicle is gone
WATCHED = ["HEARTBEAT", "GLOBAL_POSITION_INT", "SERVO_OUTPUT_RAW", "MISSION_CURRENT",
           "MISSION_ITEM_REACHED", "BATTERY_STATUS", "STATUSTEXT"]
RECORDED = frozenset({"GLOBAL_POSITION_INT", "SERVO_OUTPUT_RAW", "BATTERY_STATUS",
                      "MISSION_ITEM_REACHED"})


@dataclass(frozen=True)
class PumpChannel:
    """The SERVOn output driving the pump and its PWM range (µs): output 0..1 is
    (pwm - min_pwm) / (max_pwm - min_pwm)."""

    servo: int = 9
    min_pwm: int = 1100
    max_pwm: int = 1900

    def fraction(self, msg) -> float:
        """Pump output 0..1 in a SERVO_OUTPUT_RAW message (0 when the channel is off or unset)."""
        pwm = getattr(msg, f"servo{self.servo}_raw", 0)
        if pwm <= self.min_pwm:
            return 0.0
        return min((pwm - self.min_pwm) / (self.max_pwm - self.min_pwm), 1.0)


@dataclass
class SortieLog:
    """What the vehicle reported during one sortie.

    positions: (t s, lat deg, lon deg, height above home m); pump: (t s, output 0..1);
    battery: (t s, volts, amps, consumed mAh, remaining %); reached: MISSION_ITEM_REACHED
    seqs in order (of ``part``, the last part flown); current: highest MISSION_CURRENT seq seen in AUTO;
    modes: (t s, custom mode) at each change; texts: STATUSTEXTs.
    start_retries: how many times the mission had to be started again because the first
    start did not fly its first item (PX4: the start fell into RTL or began mid-mission).
    interrupted_at_item: the last reached item when the vehicle left AUTO before the
    mission completed (None when it completed); interrupted_at: (lat, lon) degrees there.
    """

    sortie: int
    part: int = 1
    positions: list[tuple[float, float, float, float]] = field(default_factory=list)
    pump: list[tuple[float, float]] = field(default_factory=list)
    battery: list[tuple[float, float, float, float, int]] = field(default_factory=list)
    reached: list[int] = field(default_factory=list)
    current: int = 0
    modes: list[tuple[float, int]] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    completed: bool = False
    interrupted_at_item: int | None = None
    interrupted_at: tuple[float, float] | None = None
    start_retries: int = 0

    def begin_part(self) -> None:
        """Forget the previous part's progress (reached items, current item, completion)."""
        self.reached, self.current, self.completed = [], 0, False

    def record(self, msg, pump: PumpChannel) -> bool:
        """Add a telemetry message (GLOBAL_POSITION_INT, SERVO_OUTPUT_RAW of ``pump``,
        BATTERY_STATUS stamped with the last position's vehicle time, MISSION_ITEM_REACHED) to
        the log; False for any other message."""
        kind = msg.get_type()
        if kind == "GLOBAL_POSITION_INT":
            self.positions.append((msg.time_boot_ms / 1000.0, msg.lat / 1e7, msg.lon / 1e7,
                                   msg.relative_alt / 1000.0))
        elif kind == "SERVO_OUTPUT_RAW":
            self.pump.append((msg.time_usec / 1e6, pump.fraction(msg)))
        elif kind == "BATTERY_STATUS":
            if not self.positions:  # no vehicle time to stamp it with yet
                return True
            self.battery.append((self.vehicle_time_s, msg.voltages[0] / 1000.0,
                                 max(msg.current_battery, 0) / 100.0,
                                 float(msg.current_consumed), int(msg.battery_remaining)))
        elif kind == "MISSION_ITEM_REACHED":
            if msg.seq not in self.reached:
                self.reached.append(int(msg.seq))
        else:
            return False
        return True

    @property
    def vehicle_time_s(self) -> float:
        """The vehicle's clock (s since boot) at the last position report, 0 before one."""
        return self.positions[-1][0] if self.positions else 0.0

    @property
    def last_reached(self) -> int:
        """The highest mission item done: the highest MISSION_ITEM_REACHED, or the item
        before the highest MISSION_CURRENT seen in AUTO (either message may be lost)."""
        return max(max(self.reached, default=0), self.current - 1, 0)

    @property
    def failsafe(self) -> bool:
        """True when the vehicle announced a battery failsafe."""
        return any("Failsafe" in text or "failsafe" in text for text in self.texts)

    def energy_wh(self, resistance_ohm: float = 0.0) -> float:
        """Energy drawn from the pack (Wh), integrated over the battery reports, each held
        until the next: (loaded voltage + current × ``resistance_ohm``, the pack's internal
        resistance) × current, i.e. open-circuit voltage × current as agridrone.energy counts
        it, losses in the pack included (0 ohm: the energy delivered to the drone)."""
        total = 0.0
        for (t0, v0, a0, _, _), (t1, _, _, _, _) in zip(self.battery, self.battery[1:],
                                                         strict=False):
            total += (v0 + a0 * resistance_ohm) * a0 * max(t1 - t0, 0.0)
        return total / 3600.0

    def pump_off_delay_s(self) -> float | None:
        """Vehicle seconds from the first change out of AUTO to the first pump report at 0
        after it (0 when the pump was already off); None when the vehicle never left AUTO
        or no pump report followed."""
        left = next((t for t, mode in self.modes if mode != AUTO), None)
        if left is None:
            return None
        before = [out for t, out in self.pump if t <= left]
        if not before or before[-1] == 0.0:
            return 0.0
        return next((t - left for t, out in self.pump if t > left and out == 0.0), None)

    def remaining_pct(self) -> int | None:
        """The battery's last reported remaining capacity (%), None before any report."""
        return self.battery[-1][4] if self.battery else None

    def consumed_mah(self) -> float:
        """Charge drawn during the sortie (mAh) by the vehicle's coulomb counter."""
        if not self.battery:
            return 0.0
        return self.battery[-1][3] - self.battery[0][3]


def command(link: Link, cmd: int, params: tuple[float, ...], *, tries: int = 20,
            timeout_s: float = COMMAND_TIMEOUT_S) -> int:
    """Send COMMAND_LONG ``cmd`` with up to 7 ``params`` until its COMMAND_ACK arrives; return
    the MAV_RESULT. Raises AgridroneError when no ACK comes after ``tries`` sends."""
    p = (tuple(params) + (0.0,) * 7)[:7]
    for _ in range(tries):
        link.mav.command_long_send(link.target_system, link.target_component, cmd, 0, *p)
        deadline = time.monotonic() + timeout_s
        while (remaining := deadline - time.monotonic()) > 0:
            msg = link.recv(["COMMAND_ACK"], remaining)
            if msg is not None and msg.command == cmd:
                return int(msg.result)
    raise AgridroneError(f"vehicle did not acknowledge command {cmd} after {tries} tries")


def request_streams(link: Link, rate_hz: int) -> None:
    """Ask for every telemetry stream at ``rate_hz`` (per vehicle second)."""
    link.mav.request_data_stream_send(link.target_system, link.target_component,
                                      MAV_DATA_STREAM_ALL, rate_hz, 1)


def start_streams(link: Link, rate_hz: int, *, wait_s: float = STREAM_START_S,
                  tries: int = STREAM_START_TRIES) -> None:
    """Ask for every telemetry stream at ``rate_hz`` (per vehicle second) until a
    GLOBAL_POSITION_INT shows the streams flowing, re-asking every ``wait_s`` wall seconds.
    REQUEST_DATA_STREAM has no ACK: on a vehicle whose rates start at 0 (ArduPilot SITL, a
    fresh boot) a lost request left nothing but HEARTBEAT until the watch asked again
    STREAM_SILENCE_S later, and the take-off, transit and start of the first pass went
    unlogged (at 30x, 15 % loss: 2-4 L of sortie 1's 30 L missing in 5 of 24 runs).
    Raises AgridroneError when no position comes after ``tries`` requests."""
    for _ in range(tries):
        request_streams(link, rate_hz)
        if link.recv(["GLOBAL_POSITION_INT"], wait_s) is not None:
            return
    raise AgridroneError(f"vehicle sent no position after {tries} stream requests")


def set_mode(link: Link, mode: int) -> None:
    """Switch to ArduCopter custom ``mode``; AgridroneError when refused."""
    result = command(link, MAV_CMD_DO_SET_MODE, (MAV_MODE_FLAG_CUSTOM_MODE_ENABLED, mode))
    if result != MAV_RESULT_ACCEPTED:
        raise AgridroneError(f"vehicle refused flight mode {mode} (result {result})")


def arm(link: Link, wait_s: float) -> None:
    """Arm, retrying for up to ``wait_s`` wall seconds while pre-arm checks fail; the
    AgridroneError names the vehicle's last PreArm/Arm reason."""
    deadline = time.monotonic() + wait_s
    reason = "no reason given"
    while True:
        link.drain()
        if command(link, MAV_CMD_COMPONENT_ARM_DISARM, (1,)) == MAV_RESULT_ACCEPTED:
            return
        text = link.recv(["STATUSTEXT"], 0.2)
        if text is not None:
            reason = status_text(text)
        if time.monotonic() > deadline:
            raise AgridroneError(f"vehicle refused to arm for {wait_s:g} s ({reason})")


def fly_sortie(link: Link, sortie: int, parts: list[list[MissionItem]], *, rate_hz: int,
               timeout_s: float, pump: PumpChannel, arm_wait_s: float = 30.0,
               upload_timeout_s: float = 0.3, upload_retries: int = 20) -> SortieLog:
    """Fly sortie number ``sortie`` whose mission is ``parts`` (one list per part, each a
    complete mission from takeoff to landing); stop after a part that did not complete.

    rate_hz: telemetry rate asked for (per vehicle second); timeout_s: wall seconds one part
    may take from MISSION_START to disarm. Raises AgridroneError when the vehicle refuses a
    step or does not land within the timeout.
    """
    log = SortieLog(sortie)
    for log.part, items in enumerate(parts, start=1):
        upload(link, items, timeout_s=upload_timeout_s, retries=upload_retries)
        start_streams(link, rate_hz)
        log.begin_part()
        for attempt in range(START_ATTEMPTS):
            set_mode(link, GUIDED)
            arm(link, arm_wait_s)
            with recording(link, log, pump):
                result = command(link, MAV_CMD_MISSION_START, (0, 0))
                if result != MAV_RESULT_ACCEPTED:
                    raise AgridroneError(f"vehicle refused MISSION_START (result {result})")
                flying = _flying_auto(link)
            if flying:
                break
            if attempt == START_ATTEMPTS - 1:
                raise AgridroneError(f"sortie {sortie}: the vehicle did not start its mission "
                                     f"armed in AUTO after {START_ATTEMPTS} tries")
        _watch(link, log, rate_hz, timeout_s, pump)
        if not log.completed:
            break
    return log


@contextmanager
def recording(link: Link, log: SortieLog, pump: PumpChannel) -> Iterator[None]:
    """While it lasts, ``log`` also records the positions, pump outputs, battery reports and
    reached items that other waits read past (a command's ACK, the HEARTBEAT that shows the
    mission running; texts are left out: PX4's pre-arm chatter is no flight event): after a lost
    MISSION_START ACK, or on a ground station that falls behind its vehicle, those waits
    last while the vehicle takes off and sprays, and without this the sortie's log would
    begin partway along its first pass."""
    def hook(_conn, msg) -> None:
        if msg.get_type() in RECORDED and msg.get_srcSystem() == link.target_system:
            log.record(msg, pump)

    hooks = link.conn.message_hooks
    hooks.append(hook)
    try:
        yield
    finally:
        hooks.remove(hook)


def status_text(msg) -> str:
    """The text of a STATUSTEXT message, without its padding."""
    return msg.text.rstrip("\x00") if isinstance(msg.text, str) else str(msg.text)


def _flying_auto(link: Link, wait_s: float = 2.0, silence_s: float = SILENCE_LIMIT_S) -> bool:
    """True once a HEARTBEAT shows the vehicle armed in AUTO; False when one shows it
    disarmed (it disarmed itself on the ground before the mission started: DISARM_DELAY
    passes quickly on a sped-up vehicle while a lost ACK is re-sent), or when the heartbeats
    of ``wait_s`` wall seconds show it armed in another mode. Only a heartbeat decides: with
    none (lost ones, a stalled link) it waits up to ``silence_s`` wall seconds, because the
    retry that False brings switches the vehicle to GUIDED and arms it, which would stop a
    mission already flying mid-air; AgridroneError after ``silence_s`` without one."""
    start = time.monotonic()
    heard = False
    while (remaining := start + (wait_s if heard else silence_s) - time.monotonic()) > 0:
        msg = link.recv(["HEARTBEAT"], remaining)
        if msg is None:
            continue
        heard = True
        armed = bool(msg.base_mode & MAV_MODE_FLAG_SAFETY_ARMED)
        if armed and msg.custom_mode == AUTO:
            return True
        if not armed:
            return False
    if not heard:
        raise AgridroneError(f"vehicle sent no HEARTBEAT for {silence_s:g} s after MISSION_START")
    return False


def telemetry(link: Link, log: SortieLog, pump: PumpChannel, *, timeout_s: float,
              request: Callable[[], None], who: str = "the vehicle",
              silence_s: float | None = SILENCE_LIMIT_S) -> Iterator[Any]:
    """The messages of a sortie in flight that ``log`` does not record itself (it records
    positions, pump outputs, battery) and that are not STATUSTEXT (kept in ``log.texts``),
    until the caller stops. ``request()`` asks for the streams again whenever no position
    came for STREAM_SILENCE_S s. Raises AgridroneError after ``timeout_s`` s, or after
    ``silence_s`` s without any message (None: no such limit); ``who`` names the vehicle."""
    deadline = time.monotonic() + timeout_s
    last_position_wall = last_heard = time.monotonic()
    while True:
        now = time.monotonic()
        if now > deadline:
            raise AgridroneError(f"sortie {log.sortie}: {who} did not land within "
                                 f"{timeout_s:.0f} s (last reached item {log.last_reached})")
        if silence_s is not None and now - last_heard > silence_s:
            raise AgridroneError(f"sortie {log.sortie}: {who} sent nothing for "
                                 f"{silence_s:g} s (last reached item {log.last_reached})")
        if now - last_position_wall > STREAM_SILENCE_S:
            request()
            last_position_wall = now
        msg = link.recv(WATCHED, 0.2)
        if msg is None:
            continue
        last_heard = now
        if log.record(msg, pump):
            if msg.get_type() == "GLOBAL_POSITION_INT":
                last_position_wall = now
        elif msg.get_type() == "STATUSTEXT":
            log.texts.append(status_text(msg))
        else:
            yield msg


def _watch(link: Link, log: SortieLog, rate_hz: int, timeout_s: float,
           pump: PumpChannel) -> None:
    """Record telemetry from MISSION_START until the vehicle is disarmed again."""
    armed_seen, mode = False, AUTO
    for msg in telemetry(link, log, pump, timeout_s=timeout_s,
                         request=lambda: request_streams(link, rate_hz)):
        kind = msg.get_type()
        if kind == "MISSION_CURRENT":
            if msg.seq > 0 and mode == AUTO and log.interrupted_at_item is None:
                log.current = max(log.current, int(msg.seq))
        elif kind == "HEARTBEAT":
            armed = bool(msg.base_mode & MAV_MODE_FLAG_SAFETY_ARMED)
            if msg.custom_mode != mode:
                mode = int(msg.custom_mode)
                log.modes.append((log.vehicle_time_s, mode))
                if mode != AUTO and not log.completed and log.interrupted_at_item is None:
                    log.interrupted_at_item = log.last_reached
                    if log.positions:
                        log.interrupted_at = log.positions[-1][1:3]
            armed_seen = armed_seen or armed
            if armed_seen and not armed:
                break
    log.completed = log.interrupted_at_item is None


def read_progress(address: str, *, wait_s: float = 5.0, heartbeat_timeout_s: float = 10.0,
                  key: bytes | None = None) -> int:
    """The last mission item the vehicle at ``address`` reached: the item before its current
    one (MISSION_CURRENT), which a vehicle keeps after a failsafe RTL and landing; ``key``
    signs the link (MAVLink 2 signing). Raises
    AgridroneError when the vehicle reports no MISSION_CURRENT within ``wait_s`` seconds or
    its mission has completed (nothing to resume)."""
    from firmware_bridge.link import connect

    link = connect(address, heartbeat_timeout_s=heartbeat_timeout_s, key=key)
    try:
        deadline = time.monotonic() + wait_s
        request_streams(link, 2)
        while (remaining := deadline - time.monotonic()) > 0:
            msg = link.recv(["MISSION_CURRENT"], min(remaining, 0.5))
            if msg is None:
                request_streams(link, 2)
                continue
            if msg.mission_state == MISSION_STATE_COMPLETE:
                raise AgridroneError(f"the mission on {address} completed: nothing to resume")
            return max(int(msg.seq) - 1, 0)
        raise AgridroneError(f"vehicle on {address} sent no MISSION_CURRENT within {wait_s:g} s")
    finally:
        link.close()

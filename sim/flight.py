"""Flight of the simulated copter: point-mass kinematics, flight modes and the AUTO mission.

Positions are metres north/east/up of home, velocities m/s. The horizontal position controller
flies straight at a target with WPNAV_SPEED (or the mission's DO_CHANGE_SPEED), accelerates and
brakes at WPNAV_ACCEL and stops at every waypoint, except that it flies on at speed through a
waypoint whose next leg goes straight on at the same height (as ArduCopter's S-curves do: a
pass between its lead-in and lead-out); a waypoint is reached within WPNAV_RADIUS.
Height is closed by ArduPilot's sqrt_controller (PSC_POSZ_P 1/s, WPNAV_ACCEL_Z); climb and
descent are limited to WPNAV_SPEED_UP / WPNAV_SPEED_DN (LAND_SPEED below 10 m when landing).
Modes behave as ArduCopter's STABILIZE (0), ALT_HOLD (2), AUTO (3), GUIDED (4), LOITER (5), RTL
(6), LAND (9), POSHOLD (16), BRAKE (17); AUTO runs NAV_TAKEOFF, NAV_WAYPOINT, NAV_LAND,
NAV_RETURN_TO_LAUNCH, DO_CHANGE_SPEED and DO_SPRAYER with ArduPilot's STATUSTEXTs and
MISSION_ITEM_REACHED pattern (transcript 14). The battery failsafe (BATT_LOW_* / BATT_CRT_*)
switches to RTL or LAND as BATT_FS_*_ACT says and leaves the sprayer running (transcript 16).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from agridrone.drone import DEFAULT_DRONE, DroneProfile, load_drone
from missions.mission import MissionItem
from sim.battery import SimBattery
from sim.params import ParamStore
from sim.sprayer import Sprayer

STABILIZE, ALT_HOLD, AUTO, GUIDED, LOITER, RTL, LAND, POSHOLD, BRAKE = 0, 2, 3, 4, 5, 6, 9, 16, 17
KNOWN_MODES = frozenset({STABILIZE, ALT_HOLD, AUTO, GUIDED, LOITER, RTL, LAND, POSHOLD, BRAKE})
POSITION_MODES = frozenset({AUTO, GUIDED, LOITER, RTL, LAND, POSHOLD, BRAKE})
ARMABLE_MODES = frozenset({STABILIZE, ALT_HOLD, GUIDED, LOITER, POSHOLD})
ON_GROUND, IN_AIR, TAKEOFF, LANDING = 1, 2, 3, 4

CMD_WAYPOINT, CMD_RTL, CMD_LAND, CMD_TAKEOFF = 16, 20, 21, 22
CMD_CHANGE_SPEED, CMD_SPRAYER = 178, 216
NAV_COMMANDS = frozenset({CMD_WAYPOINT, CMD_RTL, CMD_LAND, CMD_TAKEOFF})
COMMAND_NAMES = {CMD_WAYPOINT: "WP", CMD_RTL: "RTL", CMD_LAND: "Land", CMD_TAKEOFF: "Takeoff",
                 CMD_CHANGE_SPEED: "ChangeSpeed", CMD_SPRAYER: "Sprayer"}

STRAIGHT_ON_COS = 0.999  # a next leg within 2.6° of this one goes straight on
TRACK_LOOKAHEAD_M = 5.0  # the position controller aims this far ahead on the leg's line
SPOOL_UP_S = 3.0  # motors spool up before a take-off leaves the ground
LAND_DETECT_S = 1.5  # on the ground this long before the land detector reports landed
DISARM_AFTER_LAND_S = 0.5
LAND_ALT_LOW_M = 10.0
ALT_TOLERANCE_M = 0.3
POS_Z_P = 1.0  # ArduPilot's PSC_POSZ_P (1/s): altitude error to climb rate near the target
M_PER_E7_DEG = 0.011131884502145034  # ArduPilot's LOCATION_SCALING_FACTOR


@dataclass
class Body:
    """The point mass: position (m north/east/up of home), velocity (m/s), yaw (rad)."""

    north: float = 0.0
    east: float = 0.0
    up: float = 0.0
    vn: float = 0.0
    ve: float = 0.0
    vu: float = 0.0
    yaw: float = 0.0


def _limit(vector: tuple[float, float], length: float) -> tuple[float, float]:
    norm = math.hypot(*vector)
    if norm <= length or norm == 0.0:
        return vector
    return vector[0] * length / norm, vector[1] * length / norm


def sqrt_controller(error: float, p: float, accel: float, dt: float) -> float:
    """The rate (m/s) that closes ``error`` (m) as ArduPilot's ``sqrt_controller`` does: the
    braking curve ``sqrt(2 accel |error|)`` far out, ``p × error`` within ``accel / p²`` of
    the target (p in 1/s, accel in m/s²), and never more than closes the error in one step
    of ``dt`` s. The plain braking curve has no such linear part: its gain is unbounded at
    the target, so the vehicle chattered ±accel every step about its height, a current
    swinging ±10 % each 20 ms step that 5 Hz battery reports sampled in one phase only."""
    linear_m = accel / (p * p)
    if abs(error) > linear_m:
        rate = math.copysign(math.sqrt(2.0 * accel * (abs(error) - linear_m / 2.0)), error)
    else:
        rate = p * error
    return min(max(rate, -abs(error) / dt), abs(error) / dt)


class FlightController:
    """Modes, mission execution, kinematics, sprayer and battery of one simulated copter."""

    def __init__(self, params: ParamStore, home: tuple[float, float, float],
                 statustext: Callable[[int, str], None], mission: Callable[[], list[MissionItem]],
                 item_reached: Callable[[int], None], wind: tuple[float, float] = (0.0, 0.0),
                 drone: DroneProfile | None = None, liquid_l: float | None = None) -> None:
        self._params = params
        self.home = home
        self._text = statustext
        self._mission = mission
        self._item_reached = item_reached
        speed, from_deg = wind
        self.wind_ne = (-speed * math.cos(math.radians(from_deg)),
                        -speed * math.sin(math.radians(from_deg)))
        self.drone = drone or load_drone(DEFAULT_DRONE)
        self.liquid_l = self.drone.tank_l if liquid_l is None else liquid_l
        self._home_e7 = (round(home[0] * 1e7), round(home[1] * 1e7))
        self.sprayer = Sprayer(params)
        self.reset()

    # ----------------------------------------------------------------- state
    def reset(self) -> None:
        """Power-on state: disarmed on the ground at home in STABILIZE, mission not started."""
        self.body = Body()
        self.mode = STABILIZE
        self.armed = False
        self.failsafe = False
        self._failsafe_cause = ""
        self.landed_state = ON_GROUND
        self.sprayer.reset()
        self.battery = SimBattery(self.drone, self.liquid_l, self.home[2])
        self._params.set("BATT_CAPACITY", round(self.battery.capacity_ah * 1000.0))
        self._phase = "idle"
        self._goal: tuple[float, float, float] | None = None
        self._origin: tuple[float, ...] = (0.0, 0.0)
        self._through = False  # the goal is flown through at speed (the next leg goes straight on)
        self._speed: float | None = None
        self._phase_start_s = 0.0
        self._ground_since_s: float | None = 0.0
        self._armed_at_s = 0.0
        self._now_s = 0.0
        self._current = 0
        self._running = False
        self._complete = False
        self._pending_reached: int | None = None
        self._low_since_s: float | None = None
        self._crit_since_s: float | None = None
        self._low_fired = False
        self._crit_fired = False
        self._arrived_s: float | None = None
        self._accel = (0.0, 0.0)

    @property
    def airborne(self) -> bool:
        """True from lift-off until the land detector reports landed."""
        return self.landed_state != ON_GROUND

    def failsafe_reasons(self) -> tuple[str, ...]:
        """Arming refusals due to a battery failsafe (empty when none is active)."""
        if not self.failsafe:
            return ()
        return (f"Battery 1 {self._failsafe_cause} failsafe", "Battery failsafe")

    def position_controlled(self) -> bool:
        """True when the horizontal position controller runs (HEARTBEAT GUIDED_ENABLED bit)."""
        return self.mode in POSITION_MODES

    def mode_armable(self) -> bool:
        """True when the current mode allows arming."""
        return self.mode in ARMABLE_MODES

    def lat_lon_e7(self) -> tuple[int, int]:
        """Current latitude and longitude in degrees × 1e7."""
        lat = self._home_e7[0] + self.body.north / M_PER_E7_DEG
        scale = math.cos(math.radians(self.home[0]))
        return int(round(lat)), int(round(self._home_e7[1] + self.body.east / (M_PER_E7_DEG * scale)))

    def local_of(self, item: MissionItem) -> tuple[float, float, float]:
        """North, east (m from home) and height above home (m) of a mission item's position."""
        if item.x == 0 and item.y == 0:
            north, east = self.body.north, self.body.east
        else:
            north = (item.x - self._home_e7[0]) * M_PER_E7_DEG
            east = (item.y - self._home_e7[1]) * M_PER_E7_DEG * math.cos(math.radians(self.home[0]))
        up = item.z - self.home[2] if item.frame in (0, 5) else item.z
        return north, east, up

    def ground_speed(self) -> float:
        """Horizontal speed over ground (m/s)."""
        return math.hypot(self.body.vn, self.body.ve)

    def course(self) -> float:
        """Course over ground (rad, 0 = north)."""
        return math.atan2(self.body.ve, self.body.vn) % (2 * math.pi)

    def motor_pwm(self) -> int:
        """Motor output (µs) as SERVO_OUTPUT_RAW channels 1-4 show it."""
        if not self.armed:
            return 1000
        return 1000 + 10 * self.throttle_pct()

    def throttle_pct(self) -> int:
        """Throttle (%) as VFR_HUD reports it: spin-arm on the ground, hover thrust in the air."""
        if not self.armed:
            return 0
        if not self.airborne:
            return int(self._params.value("MOT_SPIN_ARM") * 100)
        hover = self._params.value("MOT_THST_HOVER") * 100
        return int(min(max(hover * (1.0 + 0.1 * self.body.vu), 0), 100))

    def sprayer_outputs(self) -> dict[int, int]:
        """Pump and spinner PWM (µs) per servo channel."""
        return self.sprayer.outputs()

    def mission_status(self) -> tuple[int, int, int, int]:
        """MISSION_CURRENT fields: seq, total, mission_state, mission_mode."""
        items = self._mission()
        total = max(len(items) - 1, 0)
        mode = 1 if self.mode == AUTO else 0
        if len(items) <= 1:
            return 0, total, 1, mode
        if self._complete:
            return 0, total, 5, mode
        if self._running and self.mode == AUTO:
            return self._current, total, 3, mode
        return self._current, total, 4 if self._running else 2, mode

    # -------------------------------------------------------------- commands
    def mission_changed(self) -> None:
        """The stored mission was replaced: start over from its beginning next time."""
        if not (self._running and self.mode == AUTO):
            self._current, self._running, self._complete = 0, False, False

    def set_mode(self, mode: int) -> bool:
        """Switch flight mode; False when the mode is unknown or cannot start now."""
        if mode not in KNOWN_MODES:
            return False
        if mode == AUTO and len(self._mission()) <= 1:
            return False
        self.mode = mode
        self._phase_start_s = self._now_s
        if mode == AUTO and self.armed:
            self._start_auto()
        elif mode == RTL:
            self._phase = "rtl_climb" if self.airborne else "land"
        elif mode == LAND:
            self._phase = "land"
        elif self.airborne:
            self._hold()
        return True

    def arm(self) -> None:
        """Arm the motors (checks are the caller's); they spin at MOT_SPIN_ARM."""
        self.armed = True
        self._armed_at_s = self._now_s
        self._ground_since_s = self._now_s
        self._phase = "idle"

    def disarm(self, announce: bool = True) -> None:
        """Stop the motors (a forced disarm in the air drops the copter to the ground); with
        ``announce`` send "Disarming motors"."""
        self.armed = False
        self._phase = "idle"
        self._goal = None
        self.body.vn = self.body.ve = self.body.vu = 0.0
        self.body.up = 0.0
        self.landed_state = ON_GROUND
        if announce:
            self._text(6, "Disarming motors")

    def takeoff(self, alt_m: float) -> bool:
        """GUIDED take-off to ``alt_m`` metres above home; False unless armed on the ground in GUIDED."""
        if self.mode != GUIDED or not self.armed or self.airborne or alt_m <= 0:
            return False
        self._begin_takeoff(alt_m)
        return True

    def start_mission(self, first: int) -> bool:
        """MISSION_START: switch to AUTO and run the mission from ``first`` (0 = the current item)."""
        if len(self._mission()) <= 1:
            return False
        if first > 0:
            self._current = first
        return self.set_mode(AUTO)

    def change_speed(self, speed_m_s: float) -> None:
        """DO_CHANGE_SPEED: horizontal speed (m/s) for the following waypoints (<= 0: unchanged)."""
        if speed_m_s > 0:
            self._speed = speed_m_s

    def set_mission_current(self, seq: int) -> None:
        """Make ``seq`` the current item (0 means the first); jumps there if AUTO is flying."""
        seq = max(seq, 1) if len(self._mission()) > 1 else 0
        self._current, self._complete = seq, False
        if self._running and self.mode == AUTO and self.armed:
            self._run_from(seq)

    # --------------------------------------------------------------- mission
    def _start_auto(self) -> None:
        self._running, self._complete = True, False
        self._run_from(max(self._current, 1))

    def _run_from(self, seq: int) -> None:
        items = self._mission()
        while seq < len(items):
            item = items[seq]
            name = COMMAND_NAMES.get(item.command, str(item.command))
            self._text(6, f"Mission: {seq} {name}")
            if item.command in NAV_COMMANDS:
                if item.command == CMD_TAKEOFF:
                    self._text(6, f"Mission: {seq} {name}")
                self._current = seq
                self._start_nav(item)
                return
            self._do(item, seq)
            seq += 1
        self._mission_complete()

    def _do(self, item: MissionItem, seq: int) -> None:
        if item.command == CMD_CHANGE_SPEED:
            self.change_speed(item.param2)
            self._pending_reached = seq
        elif item.command == CMD_SPRAYER:
            self.sprayer.run(item.param1 != 0)

    def _start_nav(self, item: MissionItem) -> None:
        self._phase_start_s = self._now_s
        if item.command == CMD_TAKEOFF:
            if self.airborne:
                up = self.local_of(item)[2]
                self._goto((self.body.north, self.body.east, max(up, self.body.up)), "wp")
            else:
                self._begin_takeoff(self.local_of(item)[2])
        elif item.command == CMD_WAYPOINT:
            self._goto(self.local_of(item), "wp")
            self._through = self._straight_on(self._current)
        elif item.command == CMD_LAND:
            if item.x or item.y:
                north, east, _ = self.local_of(item)
                self._goto((north, east, self.body.up), "land_approach")
            else:
                self._phase = "land"
        elif item.command == CMD_RTL:
            self._phase = "rtl_climb"

    def _nav_done(self) -> None:
        items = self._mission()
        seq = self._current
        item = items[seq] if seq < len(items) else None
        if item is not None and item.command == CMD_WAYPOINT:
            self._text(6, f"Reached command #{seq}")
        self._pending_reached = seq
        self._run_from(seq + 1)

    def _mission_complete(self) -> None:
        self._running, self._complete, self._current = False, True, 0
        if self.airborne:
            self._hold()

    # ------------------------------------------------------------ navigation
    def _begin_takeoff(self, alt_m: float) -> None:
        self._goal = (self.body.north, self.body.east, alt_m)
        self._phase = "spool" if not self.airborne else "takeoff"
        self._phase_start_s = self._now_s

    def _straight_on(self, seq: int) -> bool:
        """Whether the next navigation item after waypoint ``seq`` is a waypoint at the same
        height straight on from the leg now flown (the vehicle need not slow down)."""
        items = self._mission()
        nxt = next((it for it in items[seq + 1:] if it.command in NAV_COMMANDS), None)
        if nxt is None or nxt.command != CMD_WAYPOINT or self._goal is None:
            return False
        n, e, up = self.local_of(nxt)
        goal = self._goal
        a = (goal[0] - self._origin[0], goal[1] - self._origin[1])
        b = (n - goal[0], e - goal[1])
        la, lb = math.hypot(*a), math.hypot(*b)
        if la < 1.0 or lb < 1.0 or abs(up - goal[2]) > 0.1:
            return False
        return (a[0] * b[0] + a[1] * b[1]) / (la * lb) >= STRAIGHT_ON_COS

    def _goto(self, goal: tuple[float, float, float], phase: str) -> None:
        self._through = False
        self._origin = self._goal if self._goal is not None else (self.body.north, self.body.east)
        self._goal = goal
        self._phase = phase
        self._phase_start_s = self._now_s

    def _stopping_point(self) -> tuple[float, float]:
        """Where braking at WPNAV_ACCEL from the current velocity ends (m north, east)."""
        b = self.body
        accel = max(self._params.value("WPNAV_ACCEL") / 100.0, 0.1)
        speed = math.hypot(b.vn, b.ve)
        return b.north + b.vn * speed / (2 * accel), b.east + b.ve * speed / (2 * accel)

    def _hold(self) -> None:
        self._goto((*self._stopping_point(), self.body.up), "hold")

    def _wp_speed(self) -> float:
        if self.mode == AUTO and self._speed is not None and self._phase == "wp":
            return self._speed
        return self._params.value("WPNAV_SPEED") / 100.0

    def _rtl_speed(self) -> float:
        rtl = self._params.value("RTL_SPEED")
        return rtl / 100.0 if rtl > 0 else self._params.value("WPNAV_SPEED") / 100.0

    # ---------------------------------------------------------------- step
    def step(self, dt: float, now_s: float) -> None:
        """Advance ``dt`` seconds to ``now_s`` (seconds since boot)."""
        self._now_s = now_s
        if self.armed:
            self._advance_phase()
            self._move(dt)
            self._detect_ground()
            self._auto_disarm()
        self.sprayer.update(now_s, self.ground_speed(), self.armed)
        if self.armed and self._phase != "idle":
            self._drain(dt)
        else:
            self.battery.idle()
        self._check_battery()
        if self._pending_reached is not None:
            self._item_reached(self._pending_reached)
            self._pending_reached = None

    def _advance_phase(self) -> None:
        b, phase = self.body, self._phase
        if phase == "spool" and self._now_s - self._phase_start_s >= SPOOL_UP_S:
            self._phase = "takeoff"
            self.landed_state = TAKEOFF
        elif phase == "takeoff" and b.up >= self._goal[2] - ALT_TOLERANCE_M:
            self.landed_state = IN_AIR
            if self.mode == AUTO and self._running:
                self._nav_done()
            else:
                self._hold()
        elif phase in ("wp", "land_approach") and self._at_goal():
            if phase == "land_approach":
                self._phase = "land"
            elif self._hold_done():
                self._nav_done()
        elif phase == "rtl_climb":
            rtl_alt = max(self._params.value("RTL_ALT") / 100.0, b.up)
            self._goto((*self._stopping_point(), rtl_alt), "rtl_climb_go")
        elif phase == "rtl_climb_go" and self._at_goal():
            self._goto((0.0, 0.0, b.up), "rtl_return")
        elif phase == "rtl_return" and self._at_goal():
            self._goto((0.0, 0.0, b.up), "rtl_loiter")
        elif (phase == "rtl_loiter"
              and self._now_s - self._phase_start_s >= self._params.value("RTL_LOIT_TIME") / 1000):
            self._phase = "land"

    def _hold_done(self) -> bool:
        items = self._mission()
        item = items[self._current] if self._current < len(items) else None
        hold_s = item.param1 if item is not None and item.command == CMD_WAYPOINT else 0.0
        if self._arrived_s is None:
            self._arrived_s = self._now_s
        if self._now_s - self._arrived_s >= hold_s:
            self._arrived_s = None
            return True
        return False

    def _at_goal(self) -> bool:
        b, goal = self.body, self._goal
        radius = max(self._params.value("WPNAV_RADIUS") / 100.0, 0.05)
        return (math.hypot(goal[0] - b.north, goal[1] - b.east) <= radius
                and abs(goal[2] - b.up) <= 1.0)

    def _move(self, dt: float) -> None:
        b = self.body
        accel = self._params.value("WPNAV_ACCEL") / 100.0
        accel_z = self._params.value("WPNAV_ACCEL_Z") / 100.0
        if self._phase in ("idle", "spool"):
            want_h, want_u = (0.0, 0.0), 0.0
        elif self._phase == "land":
            want_h = (0.0, 0.0)
            if b.up > LAND_ALT_LOW_M:
                want_u = -self._params.value("WPNAV_SPEED_DN") / 100.0
            else:
                want_u = -self._params.value("LAND_SPEED") / 100.0
            self.landed_state = LANDING if self.airborne else self.landed_state
        else:
            speed = self._rtl_speed() if self._phase.startswith("rtl") else self._wp_speed()
            dn, de = self._goal[0] - b.north, self._goal[1] - b.east
            dist = math.hypot(dn, de)
            exit_speed = speed if self._through and self._phase == "wp" else 0.0
            target = min(speed, math.sqrt(exit_speed * exit_speed + 2.0 * accel * dist))
            if self._phase == "wp" and dist > TRACK_LOOKAHEAD_M:
                dn, de, dist = self._track_carrot()
            want_h = (dn / dist * target, de / dist * target) if dist > 1e-6 else (0.0, 0.0)
            dz = self._goal[2] - b.up
            up_max = self._params.value("WPNAV_SPEED_UP") / 100.0
            dn_max = self._params.value("WPNAV_SPEED_DN") / 100.0
            want_u = min(max(sqrt_controller(dz, POS_Z_P, accel_z, dt), -dn_max), up_max)
        dvn, dve = _limit((want_h[0] - b.vn, want_h[1] - b.ve), accel * dt)
        old_speed = math.hypot(b.vn, b.ve)
        b.vn += dvn
        b.ve += dve
        dvu = max(min(want_u - b.vu, accel_z * dt), -accel_z * dt)
        b.vu += dvu
        self._accel = ((math.hypot(b.vn, b.ve) - old_speed) / dt, dvu / dt)
        b.north += b.vn * dt
        b.east += b.ve * dt
        b.up += b.vu * dt
        if math.hypot(b.vn, b.ve) > 0.5:
            b.yaw = math.atan2(b.ve, b.vn)

    def _track_carrot(self) -> tuple[float, float, float]:
        """North, east offset (m) and distance to the point TRACK_LOOKAHEAD_M ahead on the line
        from the previous waypoint to the goal: AC_WPNav flies that line, not straight at the
        goal from wherever the last waypoint was reached."""
        b, goal = self.body, self._goal
        ln, le = goal[0] - self._origin[0], goal[1] - self._origin[1]
        length = math.hypot(ln, le)
        if length < 1e-6:
            return goal[0] - b.north, goal[1] - b.east, math.hypot(goal[0] - b.north, goal[1] - b.east)
        left = ((goal[0] - b.north) * ln + (goal[1] - b.east) * le) / length - TRACK_LOOKAHEAD_M
        cn = goal[0] - ln / length * max(left, 0.0) - b.north
        ce = goal[1] - le / length * max(left, 0.0) - b.east
        return cn, ce, max(math.hypot(cn, ce), 1e-6)

    def _detect_ground(self) -> None:
        b = self.body
        if b.up > 0.0:
            if b.up > 0.05 and self.landed_state == ON_GROUND:
                self.landed_state = TAKEOFF
            self._ground_since_s = None
            return
        b.up = max(b.up, 0.0)
        if b.vu < 0:
            b.vu = 0.0
        if self._phase != "land" or not self.airborne:
            return
        if self._ground_since_s is None:
            self._ground_since_s = self._now_s
        on_ground_s = self._now_s - self._ground_since_s
        if on_ground_s >= LAND_DETECT_S:
            self.landed_state = ON_GROUND
            self.body.vn = self.body.ve = 0.0

    def _auto_disarm(self) -> None:
        if self.airborne or self._phase in ("spool", "takeoff"):
            return
        since = self._ground_since_s if self._ground_since_s is not None else self._now_s
        if self._phase == "land" and self._now_s - since >= LAND_DETECT_S + DISARM_AFTER_LAND_S:
            self.disarm(announce=False)
            if self.mode == AUTO and self._running:
                self._item_reached(self._current)
                self._text(6, "Disarming motors")
                self._mission_complete()
            else:
                self._text(6, "Disarming motors")
            return
        delay = self._params.value("DISARM_DELAY")
        if delay > 0 and self._now_s - max(since, self._armed_at_s) >= delay:
            self.disarm()

    def _drain(self, dt: float) -> None:
        b = self.body
        airspeed = math.hypot(b.vn - self.wind_ne[0], b.ve - self.wind_ne[1])
        pump = self.sprayer.pump_pct / 100.0 if self.sprayer.spraying else 0.0
        self.battery.draw(dt, airspeed, self._accel[0], self._accel[1], pump)

    # ------------------------------------------------------------- failsafe
    def _check_battery(self) -> None:
        if self._low_fired and self._crit_fired:
            return
        battery = self.battery
        capacity = self._params.value("BATT_CAPACITY")
        remaining_mah = capacity - battery.consumed_mah
        timer = self._params.value("BATT_LOW_TIMER")
        # BATT_FS_VOLTSRC 1: ArduPilot compares the sag-compensated (resting) voltage
        volts = battery.resting_v if self._params.value("BATT_FS_VOLTSRC") == 1 \
            else battery.voltage_v
        for level, volt_name, mah_name, act_name in (
                ("critical", "BATT_CRT_VOLT", "BATT_CRT_MAH", "BATT_FS_CRT_ACT"),
                ("low", "BATT_LOW_VOLT", "BATT_LOW_MAH", "BATT_FS_LOW_ACT")):
            fired = self._crit_fired if level == "critical" else self._low_fired
            if fired:
                continue
            volt_limit = self._params.value(volt_name)
            below = self.armed and volt_limit > 0 and volts < volt_limit
            since_attr = "_crit_since_s" if level == "critical" else "_low_since_s"
            since = getattr(self, since_attr)
            if below and since is None:
                setattr(self, since_attr, self._now_s)
            elif not below:
                setattr(self, since_attr, None)
            volt_trip = below and since is not None and self._now_s - since >= timer
            mah_limit = self._params.value(mah_name)
            mah_trip = mah_limit > 0 and remaining_mah < mah_limit
            if volt_trip or mah_trip:
                self._failsafe_cause = f"{level} {'voltage' if volt_trip else 'capacity'}"
                self._battery_failsafe(level, int(self._params.value(act_name)))
                return

    def _battery_failsafe(self, level: str, action: int) -> None:
        if level == "critical":
            self._crit_fired = self._low_fired = True
        else:
            self._low_fired = True
        self.failsafe = True
        battery = self.battery
        self._text(4, f"Battery 1 is {level} {battery.voltage_v:.2f}V used "
                      f"{battery.consumed_mah:.0f} mAh")
        self._text(4, "Battery Failsafe")
        if action == 0 or not self.armed:
            return
        if not self.airborne:
            self.disarm()
        elif action == 1:
            self.set_mode(LAND)
        elif action in (2, 3, 4):
            self.set_mode(RTL)


"""MAVLink mission items, as the autopilot stores them.

x and y are latitude and longitude in degrees × 1e7 (int32), as in MISSION_ITEM_INT;
z is the altitude in metres in the item's frame. Builders that turn a sortie into
items for ArduPilot or PX4 live below the item type.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from pyproj import Geod

from agridrone.errors import AgridroneError
from missions.px4 import ACTUATOR_MIN, is_pump_on, pump_on_value, pump_params

# MAV_MISSION_TYPE
MISSION_TYPE_MISSION = 0
MISSION_TYPE_FENCE = 1
MISSION_TYPE_RALLY = 2


@dataclass(frozen=True)
class MissionItem:
    """One MISSION_ITEM_INT: seq, frame (MAV_FRAME), command (MAV_CMD), param1–4,
    x = latitude × 1e7, y = longitude × 1e7 (int32), z = altitude (m),
    autocontinue and mission_type (MAV_MISSION_TYPE)."""

    seq: int
    frame: int
    command: int
    param1: float = 0.0
    param2: float = 0.0
    param3: float = 0.0
    param4: float = 0.0
    x: int = 0
    y: int = 0
    z: float = 0.0
    autocontinue: int = 1
    mission_type: int = MISSION_TYPE_MISSION
    current: int = 0

    @property
    def lat_deg(self) -> float:
        """Latitude in degrees."""
        return self.x / 1e7

    @property
    def lon_deg(self) -> float:
        """Longitude in degrees."""
        return self.y / 1e7


def to_int7(deg: float) -> int:
    """Degrees to MAVLink's int32 degrees × 1e7, rounded to the nearest unit (about 1 cm)."""
    return int(round(deg * 1e7))


# ---------------------------------------------------------------------------------------
# Builders: a sortie of plan.json -> MAVLink mission items for ArduPilot Copter or PX4.
# ---------------------------------------------------------------------------------------

# MAV_FRAME
FRAME_GLOBAL = 0
FRAME_MISSION = 2
FRAME_GLOBAL_RELATIVE_ALT = 3
FRAME_GLOBAL_INT = 5
FRAME_GLOBAL_RELATIVE_ALT_INT = 6
FRAME_GLOBAL_TERRAIN_ALT = 10
FRAME_GLOBAL_TERRAIN_ALT_INT = 11

# MAV_CMD
CMD_NAV_WAYPOINT = 16
CMD_NAV_RETURN_TO_LAUNCH = 20
CMD_NAV_LAND = 21
CMD_NAV_TAKEOFF = 22
CMD_DO_CHANGE_SPEED = 178
CMD_DO_SET_ACTUATOR = 187
CMD_DO_SPRAYER = 216
CMD_NAV_FENCE_POLYGON_VERTEX_INCLUSION = 5001
CMD_NAV_FENCE_POLYGON_VERTEX_EXCLUSION = 5002
CMD_NAV_RALLY_POINT = 5100

COMMAND_NAMES = {
    CMD_NAV_WAYPOINT: "NAV_WAYPOINT",
    CMD_NAV_RETURN_TO_LAUNCH: "NAV_RETURN_TO_LAUNCH",
    CMD_NAV_LAND: "NAV_LAND",
    CMD_NAV_TAKEOFF: "NAV_TAKEOFF",
    CMD_DO_CHANGE_SPEED: "DO_CHANGE_SPEED",
    CMD_DO_SET_ACTUATOR: "DO_SET_ACTUATOR",
    CMD_DO_SPRAYER: "DO_SPRAYER",
    CMD_NAV_FENCE_POLYGON_VERTEX_INCLUSION: "FENCE_POLYGON_VERTEX_INCLUSION",
    CMD_NAV_FENCE_POLYGON_VERTEX_EXCLUSION: "FENCE_POLYGON_VERTEX_EXCLUSION",
    CMD_NAV_RALLY_POINT: "NAV_RALLY_POINT",
}
FRAME_NAMES = {
    FRAME_GLOBAL: "GLOBAL",
    FRAME_MISSION: "MISSION",
    FRAME_GLOBAL_RELATIVE_ALT: "RELATIVE_ALT",
    FRAME_GLOBAL_INT: "GLOBAL_INT",
    FRAME_GLOBAL_RELATIVE_ALT_INT: "RELATIVE_ALT_INT",
    FRAME_GLOBAL_TERRAIN_ALT: "TERRAIN_ALT",
    FRAME_GLOBAL_TERRAIN_ALT_INT: "TERRAIN_ALT_INT",
}
# Commands whose x, y, z are a position the vehicle flies to.
POSITION_COMMANDS = frozenset({CMD_NAV_WAYPOINT, CMD_NAV_TAKEOFF, CMD_NAV_LAND})

AUTOPILOTS = ("ardupilot", "px4")
ALT_FRAMES = {"relative": FRAME_GLOBAL_RELATIVE_ALT_INT, "terrain": FRAME_GLOBAL_TERRAIN_ALT_INT}
ENDS = ("rtl", "land")
# Items a flight controller holds: ArduPilot's default storage (its SITL answers NO_SPACE
# above 650, home included); PX4 boards hold 500 to 2000, 500 is the safe figure.
DEFAULT_MAX_ITEMS = {"ardupilot": 650, "px4": 500}
# MAV_CMD_DO_CHANGE_SPEED param1: 1 = ground speed; param3 -1 = throttle unchanged.
SPEED_TYPE_GROUND = 1.0
PX4_PUMP_OFF = ACTUATOR_MIN  # actuator minimum (1000 µs); 0 would be mid-range, the pump half on


def command_name(command: int) -> str:
    """The MAV_CMD name of a command number without the ``MAV_CMD_`` prefix, or its number."""
    return COMMAND_NAMES.get(command, str(command))


def frame_name(frame: int) -> str:
    """A short MAV_FRAME name for a frame number, or the number."""
    return FRAME_NAMES.get(frame, str(frame))


def pump_state(item: MissionItem) -> bool | None:
    """True if the item switches the sprayer on, False if off, None if it does neither.

    Reads DO_SPRAYER (ArduPilot, param1 1/0) and DO_SET_ACTUATOR (PX4, actuator 1 value in
    param1, -1..1: on above -1, the pump's minimum)."""
    if item.command == CMD_DO_SPRAYER:
        return item.param1 >= 0.5
    if item.command == CMD_DO_SET_ACTUATOR and not math.isnan(item.param1):
        return is_pump_on(item.param1)
    return None


def home_item(lon_deg: float, lat_deg: float, alt_m: float = 0.0) -> MissionItem:
    """ArduPilot's item 0: home at (lon, lat) degrees, frame GLOBAL, altitude in metres AMSL.

    ArduPilot ignores what is uploaded at seq 0 and keeps its own home; 0 m stands for
    "unknown ground altitude"."""
    return MissionItem(seq=0, frame=FRAME_GLOBAL, command=CMD_NAV_WAYPOINT,
                       x=to_int7(lat_deg), y=to_int7(lon_deg), z=float(alt_m))


def check_autopilot(autopilot: str) -> None:
    """Refuse an autopilot name other than ``ardupilot`` or ``px4``."""
    if autopilot not in AUTOPILOTS:
        raise AgridroneError(f"unknown autopilot {autopilot!r}: use ardupilot or px4")


def mission_warnings(autopilot: str, alt_frame: str) -> list[str]:
    """Warnings (one line each) that the CLI prints for these mission options."""
    if autopilot == "ardupilot" and alt_frame == "terrain":
        return [
            "terrain altitude frame: ArduPilot refuses to arm until it has terrain data for "
            "the whole mission (TERRAIN_ENABLE=1 and a ground station that sends it) or a "
            "downward rangefinder"
        ]
    return []


def build_mission(
    plan: dict,
    sortie_index: int,
    *,
    autopilot: str,
    alt_frame: str = "relative",
    transit_alt_m: float | None = None,
    end: str = "rtl",
    max_items: int | None = None,
) -> list[list[MissionItem]]:
    """The mission items of sortie ``sortie_index`` (1-based) of a plan.json dict.

    autopilot: ``"ardupilot"`` (item 0 is home; pump by DO_SPRAYER) or ``"px4"`` (no home
    item; pump by DO_SET_ACTUATOR: actuator 1 at the value that gives the plan's flow, see
    :func:`missions.px4.pump_on_value`, and -1 off). alt_frame: ``"relative"``
    (GLOBAL_RELATIVE_ALT_INT) or ``"terrain"`` (GLOBAL_TERRAIN_ALT_INT, ArduPilot only).
    Spray legs fly at their own ``alt_m`` (metres: the height where the drone's swath equals
    their spacing; the plan's ``alt_m`` in plans without it) and ``speed_m_s``; transit
    legs at ``transit_alt_m`` (metres; default: the height of the spray leg before, so a
    turn between passes flown at one height adds no item, and the plan's ``alt_m`` from the
    station) and ``transit_speed_m_s`` (m/s), as the
    energy model assumes: a DO_CHANGE_SPEED precedes each leg whose speed differs from the
    one in force. The sprayer is switched off after every spray leg and again before the
    final RTL/LAND.
    end: ``"rtl"`` or ``"land"`` (NAV_LAND at the station).

    A mission longer than ``max_items`` (default 650 ArduPilot, 500 PX4; home included) is
    split into several complete missions: each takes off at the station, flies to where
    the previous one stopped, goes on, and returns. Every leg appears in exactly one part.
    """
    check_autopilot(autopilot)
    if alt_frame not in ALT_FRAMES:
        raise AgridroneError(f"unknown altitude frame {alt_frame!r}: use relative or terrain")
    if alt_frame == "terrain" and autopilot == "px4":
        raise AgridroneError(
            "PX4 has no terrain altitude frame (it refuses GLOBAL_TERRAIN_ALT items): "
            "use --alt-frame relative"
        )
    if end not in ENDS:
        raise AgridroneError(f"unknown mission end {end!r}: use rtl or land")
    sorties = plan.get("sorties") or []
    if not 1 <= sortie_index <= len(sorties):
        raise AgridroneError(f"no sortie {sortie_index}: the plan has {len(sorties)} sorties")
    limit = DEFAULT_MAX_ITEMS[autopilot] if max_items is None else int(max_items)
    inputs = plan["inputs"]
    spray_alt = float(inputs["alt_m"])
    transit_alt = spray_alt if transit_alt_m is None else float(transit_alt_m)
    if transit_alt <= 0:
        raise AgridroneError(f"transit altitude {transit_alt:g} m must be above 0 m")
    writer = _MissionWriter(
        autopilot=autopilot,
        frame=ALT_FRAMES[alt_frame],
        station=plan["station"],
        spray_alt_m=spray_alt,
        transit_alt_m=transit_alt,
        spray_speed_m_s=float(inputs["speed_m_s"]),
        transit_speed_m_s=float(inputs["transit_speed_m_s"]),
        end=end,
        px4_pump_on=pump_on_value(plan) if autopilot == "px4" else None,
        turns_follow_spray=transit_alt_m is None,
    )
    legs = sorties[sortie_index - 1]["legs"]
    parts: list[list[MissionItem]] = []
    first = 0
    while first < len(legs):
        state = writer.start(resume_at=None if first == 0 else legs[first]["coords"][0])
        items = writer.prologue(state)
        taken = first
        while taken < len(legs):
            after = state.copy()
            group = writer.leg(legs[taken], after)
            if len(items) + len(group) + writer.EPILOGUE_ITEMS > limit:
                break
            items += group
            state = after
            taken += 1
        if taken == first:
            raise AgridroneError(
                f"sortie {sortie_index}: leg {first + 1} does not fit in a mission of "
                f"{limit} items (--max-items); raise the limit"
            )
        items += writer.epilogue(state)
        parts.append(_numbered(items))
        first = taken
    return parts


class _State:
    """What the vehicle is doing at a point of the mission: its last position
    (x, y int degrees × 1e7, z metres) and its commanded speed (m/s)."""

    def __init__(self, position: tuple[int, int, float], speed: float | None) -> None:
        self.position = position
        self.speed = speed

    def copy(self) -> _State:
        return _State(self.position, self.speed)


class _MissionWriter:
    """Emits the items of one autopilot's dialect; seq numbers are set at the end."""

    EPILOGUE_ITEMS = 3  # waypoint over the station, sprayer off, RTL/LAND

    def __init__(self, *, autopilot: str, frame: int, station: Sequence[float],
                 spray_alt_m: float, transit_alt_m: float, spray_speed_m_s: float,
                 transit_speed_m_s: float, end: str, px4_pump_on: float | None = None,
                 turns_follow_spray: bool = False) -> None:
        self.autopilot = autopilot
        self.px4_pump_on = px4_pump_on
        self.frame = frame
        self.station = (to_int7(station[1]), to_int7(station[0]))
        self.station_lonlat = (float(station[0]), float(station[1]))
        self.spray_alt = spray_alt_m
        self.transit_alt = transit_alt_m
        self.turns_follow_spray = turns_follow_spray
        self.speeds = {"spray": spray_speed_m_s, "transit": transit_speed_m_s}
        self.end = end
        self._resume_at: tuple[int, int] | None = None

    def start(self, resume_at: Sequence[float] | None) -> _State:
        """A new part: airborne over the station at transit altitude, speed not yet set."""
        self._resume_at = None if resume_at is None else (to_int7(resume_at[1]), to_int7(resume_at[0]))
        return _State((*self.station, self.transit_alt), None)

    def prologue(self, state: _State) -> list[MissionItem]:
        """Home (ArduPilot), take-off at the station and, for a resumed part, the flight
        from the station to where the previous part stopped."""
        items: list[MissionItem] = []
        if self.autopilot == "ardupilot":
            items.append(home_item(*self.station_lonlat))
        lat, lon = self.station
        items.append(self._item(CMD_NAV_TAKEOFF, self.frame, x=lat, y=lon, z=self.transit_alt))
        if self._resume_at is not None:
            items += self._set_speed(state, "transit")
            items += self._waypoint(state, self._resume_at, self.transit_alt)
        return items

    def leg(self, leg: dict, state: _State) -> list[MissionItem]:
        """The items of one leg of plan.json, updating ``state``."""
        kind = leg["kind"]
        points = [(to_int7(lat), to_int7(lon)) for lon, lat in leg["coords"]]
        items = self._set_speed(state, "spray" if kind == "lead" else kind)
        if kind == "lead":  # lead-in or lead-out: in line with the pass, pump off
            alt = float(leg.get("alt_m", self.spray_alt))
            for point in points:
                items += self._waypoint(state, point, alt)
            return items
        if kind == "transit":
            alt = state.position[2] if self.turns_follow_spray else self.transit_alt
            for k, point in enumerate(points):
                if k == 0 and point == state.position[:2]:
                    continue  # climb or descend on the way to the next point
                items += self._waypoint(state, point, alt)
            return items
        spray_alt = float(leg.get("alt_m", self.spray_alt))
        items += self._waypoint(state, points[0], spray_alt)
        items.append(self._pump(True))
        for point in points[1:]:
            items += self._waypoint(state, point, spray_alt)
        items.append(self._pump(False))
        return items

    def epilogue(self, state: _State) -> list[MissionItem]:
        """Back over the station at transit altitude (unless already there), sprayer off,
        then RTL or LAND at the station."""
        items = self._waypoint(state, self.station, self.transit_alt)
        if self.end == "rtl":
            final = self._item(CMD_NAV_RETURN_TO_LAUNCH, FRAME_MISSION)
        else:
            lat, lon = self.station
            final = self._item(CMD_NAV_LAND, self.frame, x=lat, y=lon, z=0.0)
        return items + [self._pump(False), final]

    def _set_speed(self, state: _State, kind: str) -> list[MissionItem]:
        speed = self.speeds[kind]
        if state.speed == speed:
            return []
        state.speed = speed
        return [self._item(CMD_DO_CHANGE_SPEED, FRAME_MISSION,
                           param1=SPEED_TYPE_GROUND, param2=speed, param3=-1.0)]

    def _waypoint(self, state: _State, point: tuple[int, int], alt: float) -> list[MissionItem]:
        position = (point[0], point[1], alt)
        if position == state.position:
            return []
        state.position = position
        return [self._item(CMD_NAV_WAYPOINT, self.frame, x=point[0], y=point[1], z=alt)]

    def _pump(self, on: bool) -> MissionItem:
        if self.autopilot == "ardupilot":
            return self._item(CMD_DO_SPRAYER, FRAME_MISSION, param1=1.0 if on else 0.0)
        value = self.px4_pump_on if on else PX4_PUMP_OFF
        return self._item(CMD_DO_SET_ACTUATOR, FRAME_MISSION, **pump_params(value))

    @staticmethod
    def _item(command: int, frame: int, **fields) -> MissionItem:
        return MissionItem(seq=0, frame=frame, command=command, **fields)


def _numbered(items: list[MissionItem]) -> list[MissionItem]:
    return [
        MissionItem(seq=i, frame=it.frame, command=it.command, param1=it.param1,
                    param2=it.param2, param3=it.param3, param4=it.param4, x=it.x, y=it.y,
                    z=it.z, autocontinue=it.autocontinue, mission_type=it.mission_type,
                    current=it.current)
        for i, it in enumerate(items)
    ]


def spray_lines_from_items(items: Sequence[MissionItem]) -> list[list[list[float]]]:
    """The sprayed polylines, as lists of [lon, lat] degrees, recovered from mission items
    alone: from the position where the sprayer is switched on, through every waypoint
    flown while it is on, to the position where it is switched off (or the mission ends).

    ArduPilot's item 0 (home) is not a flown position and is ignored."""
    lines: list[list[list[float]]] = []
    current: list[list[float]] | None = None
    position: list[float] | None = None
    has_home = bool(items) and items[0].seq == 0 and items[0].frame == FRAME_GLOBAL \
        and items[0].command == CMD_NAV_WAYPOINT
    for index, item in enumerate(items):
        state = pump_state(item)
        if state is True and current is None:
            current = [position] if position is not None else []
        elif state is False and current is not None:
            if len(current) >= 2:
                lines.append(current)
            current = None
        elif item.command in POSITION_COMMANDS and not (index == 0 and has_home):
            position = [item.lon_deg, item.lat_deg]
            if current is not None and (not current or current[-1] != position):
                current.append(position)
    if current is not None and len(current) >= 2:
        lines.append(current)
    return lines


# ArduPilot Copter defaults (WPNAV_SPEED_UP, WPNAV_SPEED_DN, WPNAV_SPEED) in m/s, used to
# estimate flight time where the mission does not say.
CLIMB_SPEED_M_S = 2.5
DESCENT_SPEED_M_S = 1.5
DEFAULT_SPEED_M_S = 5.0


@dataclass(frozen=True)
class MissionSummary:
    """Figures of a mission read from its items alone: distance_m flown horizontally
    (metres, back to the start for RTL), spray_m of it with the sprayer on, spray_legs
    (times the sprayer is switched on) and duration_s (seconds, at the commanded speeds,
    climbing at 2.5 m/s and descending at 1.5 m/s)."""

    distance_m: float
    spray_m: float
    spray_legs: int
    duration_s: float


def mission_summary(items: Sequence[MissionItem]) -> MissionSummary:
    """Distance, sprayed distance, spray legs and estimated duration of a mission."""
    geod = Geod(ellps="WGS84")
    speed = DEFAULT_SPEED_M_S
    spraying = False
    start: tuple[float, float, float] | None = None
    here: tuple[float, float, float] | None = None
    distance = spray = duration = 0.0
    legs = 0

    def fly(to: tuple[float, float, float]) -> None:
        nonlocal distance, spray, duration, here
        if here is not None:
            _, _, metres = geod.inv(here[0], here[1], to[0], to[1])
            dz = to[2] - here[2]
            distance += metres
            spray += metres if spraying else 0.0
            duration += metres / speed + (dz / CLIMB_SPEED_M_S if dz > 0 else -dz / DESCENT_SPEED_M_S)
        here = to

    for index, item in enumerate(items):
        state = pump_state(item)
        if state is not None:
            legs += int(state and not spraying)
            spraying = state
        elif item.command == CMD_DO_CHANGE_SPEED and item.param2 > 0:
            speed = float(item.param2)
        elif item.command == CMD_NAV_TAKEOFF:
            ground = here or start
            if item.x or item.y:
                lon, lat = item.lon_deg, item.lat_deg
            elif ground is not None:
                lon, lat = ground[0], ground[1]
            else:
                continue
            if here is None:
                here = (lon, lat, 0.0)
            start = start or (lon, lat, 0.0)
            fly((lon, lat, item.z))
        elif item.command in (CMD_NAV_WAYPOINT, CMD_NAV_LAND):
            if index == 0 and item.frame == FRAME_GLOBAL and item.command == CMD_NAV_WAYPOINT:
                start = (item.lon_deg, item.lat_deg, 0.0)  # ArduPilot home
                continue
            if here is None:
                here = start or (item.lon_deg, item.lat_deg, item.z)
            fly((item.lon_deg, item.lat_deg, item.z))
        elif item.command == CMD_NAV_RETURN_TO_LAUNCH and start is not None and here is not None:
            fly((start[0], start[1], here[2]))
            fly(start)
    return MissionSummary(distance_m=distance, spray_m=spray, spray_legs=legs, duration_s=duration)

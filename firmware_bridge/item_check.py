"""Checks of a mission, fence or rally list before the first message goes to the vehicle, so an
item the autopilot would refuse never leaves a half-written list behind.

ArduPilot refuses, with a MISSION_ACK error that aborts the upload after the items before it
are stored (ArduCopter 4.7 SITL, transcript 08-bad-items; libraries/AP_Mission/AP_Mission.cpp
``mavlink_int_to_mission_cmd``): an unknown command (UNSUPPORTED), a latitude outside ±90° or
longitude outside ±180° (INVALID_PARAM5_X / 6_Y), a NaN altitude (INVALID_PARAM7), and a
position command in a frame other than MISSION, GLOBAL(_INT), GLOBAL_RELATIVE_ALT(_INT) or
GLOBAL_TERRAIN_ALT(_INT) (UNSUPPORTED_FRAME). Over MAVLink FTP the same item makes the vehicle
refuse the file after clearing its mission. Infinite params are refused everywhere (MAVLink
floats carry them, no autopilot flies them); NaN params stay allowed (PX4 reads NaN as "unchanged"
in some commands). PX4 is checked for coordinates and altitude of items in a global frame.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from agridrone.errors import AgridroneError
from missions.mission import (
    MISSION_TYPE_FENCE,
    MISSION_TYPE_MISSION,
    MISSION_TYPE_RALLY,
    MissionItem,
)

# AP_Mission's mission commands (the set mavlink_int_to_mission_cmd converts; Copter flies
# those a planner uses: NAV_*, DO_*, CONDITION_*).
ARDUPILOT_MISSION_COMMANDS = frozenset({
    16, 17, 18, 19, 20, 21, 22, 30, 31, 82, 83, 84, 85, 92, 93, 94, 112, 113, 114, 115, 176, 177,
    178, 179, 181, 182, 183, 184, 189, 191, 192, 194, 195, 197, 200, 201, 202, 203, 205, 206,
    207, 208, 211, 212, 213, 214, 215, 216, 217, 218, 220, 222, 223, 42600, 42702, 42703,
})
ARDUPILOT_POSITION_COMMANDS = frozenset({16, 17, 18, 19, 21, 22, 30, 31, 82, 83, 84, 85, 92,
                                         189, 195, 201})
FENCE_COMMANDS = frozenset({5000, 5001, 5002, 5003, 5004})
RALLY_COMMANDS = frozenset({5100})
# MAV_FRAME: MISSION 2, GLOBAL 0 / 5, RELATIVE_ALT 3 / 6, TERRAIN_ALT 10 / 11.
ARDUPILOT_POSITION_FRAMES = frozenset({0, 2, 3, 5, 6, 10, 11})
KIND_NAMES = {MISSION_TYPE_MISSION: "mission", MISSION_TYPE_FENCE: "fence",
              MISSION_TYPE_RALLY: "rally"}


def _commands(autopilot: str, mission_type: int) -> frozenset[int] | None:
    if mission_type == MISSION_TYPE_FENCE:
        return FENCE_COMMANDS
    if mission_type == MISSION_TYPE_RALLY:
        return RALLY_COMMANDS
    return ARDUPILOT_MISSION_COMMANDS if autopilot == "ardupilot" else None


GLOBAL_FRAMES = frozenset({0, 3, 5, 6, 10, 11})


def _located(item: MissionItem, autopilot: str, mission_type: int) -> bool:
    """Whether x, y, z are a position: every fence and rally item; on ArduPilot the position
    commands; on PX4 the items in a global frame."""
    if mission_type != MISSION_TYPE_MISSION:
        return True
    if autopilot == "ardupilot":
        return item.command in ARDUPILOT_POSITION_COMMANDS
    return item.frame in GLOBAL_FRAMES


def item_problem(item: MissionItem, index: int, autopilot: str, mission_type: int) -> str | None:
    """Why the vehicle would refuse ``item`` (at ``index`` in its list), or None."""
    commands = _commands(autopilot, mission_type)
    if commands is not None and item.command not in commands:
        return (f"command {item.command} is not a {KIND_NAMES.get(mission_type, 'mission')} "
                f"command {autopilot} accepts")
    if autopilot == "ardupilot" and mission_type == MISSION_TYPE_MISSION and index == 0:
        return None  # ArduPilot replaces item 0 by its home position
    located = _located(item, autopilot, mission_type)
    for name in ("param1", "param2", "param3", "param4", "z"):
        value = getattr(item, name)
        if not isinstance(value, (int, float)) or math.isinf(value) or (
                math.isnan(value) and name == "z" and located):
            return f"{name} is {value!r}, not a finite number"
    if not located:
        return None
    if not isinstance(item.x, int) or not -900_000_000 <= item.x <= 900_000_000:
        return f"latitude {item.x!r} (degrees x 1e7) is outside -90..90 degrees"
    if not isinstance(item.y, int) or not -1_800_000_000 <= item.y <= 1_800_000_000:
        return f"longitude {item.y!r} (degrees x 1e7) is outside -180..180 degrees"
    if autopilot == "ardupilot" and mission_type == MISSION_TYPE_MISSION \
            and item.frame not in ARDUPILOT_POSITION_FRAMES:
        return f"frame {item.frame} is not one ArduPilot flies a position in"
    return None


def check_items(items: Sequence[MissionItem], autopilot: str, mission_type: int, *,
                allow_empty: bool = False) -> None:
    """Raise AgridroneError naming every item the vehicle would refuse (the first five in
    full), saying that nothing was sent; return when the list is acceptable. An empty mission
    is refused too unless ``allow_empty``: clearing is a separate command."""
    kind = KIND_NAMES.get(mission_type, f"mission_type {mission_type}")
    if mission_type == MISSION_TYPE_MISSION and not items and not allow_empty:
        raise AgridroneError(f"the {kind} holds no items; nothing was sent (to empty the "
                             "vehicle's mission use `agridrone clear`)")
    problems = []
    for index, item in enumerate(items):
        problem = item_problem(item, index, autopilot, mission_type)
        if problem is not None:
            problems.append(f"item {index}: {problem}")
    if problems:
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        raise AgridroneError(f"the {kind} has {len(problems)} item(s) the vehicle would refuse: "
                             f"{'; '.join(problems[:5])}{more}; nothing was sent")

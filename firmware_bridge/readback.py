"""Compare the items sent to a vehicle with the items it returns on download.

ArduPilot renumbers frames when it returns a mission: the ``*_INT`` frames come back as their
non-INT numbers (GLOBAL_INT 5 -> 0, GLOBAL_RELATIVE_ALT_INT 6 -> 3, GLOBAL_TERRAIN_ALT_INT
11 -> 10), commands it does not store with a location come back in frame 0 (GLOBAL), fence
items come back in frame 0, and mission item 0 is replaced by the vehicle's home. It stores
altitudes of located items in centimetres. PX4 returns items exactly as uploaded. Everything
else must match exactly: commands, frames after the renumbering above, latitude and longitude
integers; float parameters within 1e-4.
"""

from __future__ import annotations

import math

from missions.mission import MISSION_TYPE_FENCE, MISSION_TYPE_MISSION, MissionItem

# ArduPilot's AP_Mission::stored_in_location(): commands stored with a position.
ARDUPILOT_LOCATION_COMMANDS = frozenset(
    {16, 17, 18, 19, 21, 22, 30, 31, 82, 84, 85, 92, 94, 179, 189, 191, 201})
ARDUPILOT_INT_FRAME_READBACK = {5: 0, 6: 3, 11: 10}
PARAM_TOLERANCE = 1e-4
FLOAT32_RELATIVE_ERROR = 1e-7  # MAVLink carries params as float32 (24-bit mantissa)
ARDUPILOT_ALT_RESOLUTION_M = 0.01
MAV_CMD_NAV_LAND = 21


def expected_readback_frame(item: MissionItem, autopilot: str, mission_type: int) -> int:
    """The frame (MAV_FRAME) the vehicle returns on download for an uploaded ``item``."""
    if autopilot != "ardupilot":
        return item.frame
    if mission_type == MISSION_TYPE_FENCE:
        return 0
    if mission_type == MISSION_TYPE_MISSION and item.command not in ARDUPILOT_LOCATION_COMMANDS:
        return 0
    return ARDUPILOT_INT_FRAME_READBACK.get(item.frame, item.frame)


def first_compared_seq(autopilot: str, mission_type: int) -> int:
    """Index of the first item a read-back can check: 1 on ArduPilot missions (0 is home)."""
    return 1 if autopilot == "ardupilot" and mission_type == MISSION_TYPE_MISSION else 0


def _same_float(a: float, b: float, tolerance: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return abs(a - b) <= tolerance + FLOAT32_RELATIVE_ERROR * abs(a)


def _alt_tolerance(item: MissionItem, autopilot: str, mission_type: int) -> float:
    located = mission_type != MISSION_TYPE_MISSION or item.command in ARDUPILOT_LOCATION_COMMANDS
    if autopilot == "ardupilot" and located:
        return ARDUPILOT_ALT_RESOLUTION_M / 2 + PARAM_TOLERANCE
    return PARAM_TOLERANCE


def _expected_param(item: MissionItem, name: str, autopilot: str, mission_type: int) -> float:
    """The value of param ``name`` the vehicle returns for ``item``: ArduPilot's AP_Mission
    keeps only the sign of NAV_LAND's param4 (loiter_ccw) and returns -1 or 1."""
    value = getattr(item, name)
    if (autopilot == "ardupilot" and mission_type == MISSION_TYPE_MISSION and name == "param4"
            and item.command == MAV_CMD_NAV_LAND and not math.isnan(value)):
        return -1.0 if value < 0 else 1.0
    return value


def item_differences(sent: MissionItem, got: MissionItem, autopilot: str,
                     mission_type: int) -> list[str]:
    """What differs between one sent item and its read-back, as short phrases (empty if equal)."""
    diffs = []
    if got.command != sent.command:
        diffs.append(f"command {got.command} instead of {sent.command}")
    frame = expected_readback_frame(sent, autopilot, mission_type)
    if got.frame != frame:
        diffs.append(f"frame {got.frame} instead of {frame}")
    if got.x != sent.x or got.y != sent.y:
        diffs.append(f"position {got.x},{got.y} instead of {sent.x},{sent.y}")
    for name in ("param1", "param2", "param3", "param4"):
        wanted = _expected_param(sent, name, autopilot, mission_type)
        if not _same_float(wanted, getattr(got, name), PARAM_TOLERANCE):
            diffs.append(f"{name} {getattr(got, name):g} instead of {wanted:g}")
    if not _same_float(sent.z, got.z, _alt_tolerance(sent, autopilot, mission_type)):
        diffs.append(f"altitude {got.z:g} m instead of {sent.z:g} m")
    return diffs


def compare_items(sent: list[MissionItem], got: list[MissionItem], autopilot: str,
                  mission_type: int) -> list[str]:
    """Every difference between the sent list and the downloaded list, one line per item."""
    if len(got) != len(sent):
        return [f"the vehicle holds {len(got)} items, {len(sent)} were sent"]
    problems = []
    for seq in range(first_compared_seq(autopilot, mission_type), len(sent)):
        diffs = item_differences(sent[seq], got[seq], autopilot, mission_type)
        if diffs:
            problems.append(f"item {seq}: " + ", ".join(diffs))
    return problems

"""What a mission file holds once read: mission, fence and rally items, and the autopilot."""

from __future__ import annotations

from dataclasses import dataclass, field

from missions.mission import (
    FRAME_GLOBAL_RELATIVE_ALT,
    FRAME_GLOBAL_RELATIVE_ALT_INT,
    FRAME_GLOBAL_TERRAIN_ALT,
    FRAME_GLOBAL_TERRAIN_ALT_INT,
    MissionItem,
)

# Files (QGroundControl .plan, Mission Planner .waypoints) carry the float-coordinate frames;
# items carry the _INT frames of MISSION_ITEM_INT. The mapping is one to one.
_TO_FILE = {
    FRAME_GLOBAL_RELATIVE_ALT_INT: FRAME_GLOBAL_RELATIVE_ALT,
    FRAME_GLOBAL_TERRAIN_ALT_INT: FRAME_GLOBAL_TERRAIN_ALT,
}
_FROM_FILE = {v: k for k, v in _TO_FILE.items()}


@dataclass(frozen=True)
class MissionFile:
    """Items read from a file. autopilot: ``"ardupilot"``, ``"px4"`` or None when the file
    does not say (then ``mission[0]`` is ArduPilot's home for .waypoints files)."""

    mission: list[MissionItem]
    fence: list[MissionItem] = field(default_factory=list)
    rally: list[MissionItem] = field(default_factory=list)
    autopilot: str | None = None


def file_frame(frame: int) -> int:
    """The MAV_FRAME written to a file for an item's frame (6 -> 3, 11 -> 10, others same)."""
    return _TO_FILE.get(frame, frame)


def item_frame(frame: int) -> int:
    """The item frame for a MAV_FRAME read from a file (3 -> 6, 10 -> 11, others same)."""
    return _FROM_FILE.get(frame, frame)


def format_number(value: float) -> str:
    """A float as the shortest text that reads back to the same value ("NaN" for NaN)."""
    if value != value:
        return "NaN"
    return repr(float(value))


def format_degrees(value_e7: int) -> str:
    """Degrees × 1e7 (int) as exact decimal degrees with 7 decimals, e.g. 31.5204898."""
    sign = "-" if value_e7 < 0 else ""
    whole, frac = divmod(abs(int(value_e7)), 10_000_000)
    return f"{sign}{whole}.{frac:07d}"

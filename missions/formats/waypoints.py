"""Mission Planner .waypoints files ("QGC WPL 110"), as MAVProxy and QGroundControl read them.

One header line, then one tab-separated line per item: seq, current, frame, command,
param1-4, latitude, longitude, altitude, autocontinue. Line 0 is the planned home
(QGroundControl's MissionController::_loadTextMissionFile treats it so for version 110),
which for ArduPilot is the mission's item 0. A PX4 mission has no home item, so one is
written from the station and dropped again when read with ``autopilot="px4"``.
"""

from __future__ import annotations

from pathlib import Path

from agridrone.errors import AgridroneError
from agridrone.outputs import read_text, write_bytes_atomic
from missions.formats.mission_file import (
    MissionFile,
    file_frame,
    format_degrees,
    format_number,
    item_frame,
)
from missions.mission import MissionItem, home_item, to_int7

HEADER = "QGC WPL 110"


def render_waypoints(
    mission: list[MissionItem],
    home_lonlat_alt: tuple[float, float, float] | None = None,
) -> bytes:
    """The bytes of a .waypoints file. With ``home_lonlat_alt`` (degrees, degrees, metres;
    for missions without a home item, i.e. PX4) a home line is written first and the
    items follow from seq 1."""
    items = list(mission)
    if home_lonlat_alt is not None:
        items = [home_item(*home_lonlat_alt)] + items
    lines = [HEADER]
    for seq, item in enumerate(items):
        fields = [
            str(seq), str(item.current), str(file_frame(item.frame)), str(item.command),
            format_number(item.param1), format_number(item.param2),
            format_number(item.param3), format_number(item.param4),
            format_degrees(item.x), format_degrees(item.y), format_number(item.z),
            str(item.autocontinue),
        ]
        lines.append("\t".join(fields))
    return ("\n".join(lines) + "\n").encode("utf-8")


def write_waypoints(
    path: str | Path,
    mission: list[MissionItem],
    home_lonlat_alt: tuple[float, float, float] | None = None,
) -> Path:
    """Write a .waypoints file atomically; see :func:`render_waypoints`."""
    return write_bytes_atomic(path, render_waypoints(mission, home_lonlat_alt))


def read_waypoints(path: str | Path, autopilot: str | None = None) -> MissionFile:
    """Read a .waypoints file. With ``autopilot="px4"`` line 0 (the home placeholder) is
    dropped and the items are numbered from 0; otherwise every line is an item."""
    path = Path(path)
    lines = [line for line in read_text(path).splitlines() if line.strip()]
    if not lines or lines[0].strip() != HEADER:
        raise AgridroneError(f"{path}: not a Mission Planner waypoint file (no '{HEADER}' header)")
    items: list[MissionItem] = []
    for number, line in enumerate(lines[1:], start=2):
        fields = line.split()
        if len(fields) != 12:
            raise AgridroneError(f"{path}: line {number} has {len(fields)} values, not 12")
        try:
            items.append(MissionItem(
                seq=len(items), current=int(fields[1]), frame=item_frame(int(fields[2])),
                command=int(fields[3]), param1=float(fields[4]), param2=float(fields[5]),
                param3=float(fields[6]), param4=float(fields[7]),
                x=to_int7(float(fields[8])), y=to_int7(float(fields[9])),
                z=float(fields[10]), autocontinue=int(fields[11]),
            ))
        except ValueError:
            raise AgridroneError(f"{path}: line {number} has a value that is not a number") from None
    if autopilot == "px4" and items:
        items = [
            MissionItem(seq=i, frame=it.frame, command=it.command, param1=it.param1,
                        param2=it.param2, param3=it.param3, param4=it.param4, x=it.x,
                        y=it.y, z=it.z, autocontinue=it.autocontinue, current=it.current)
            for i, it in enumerate(items[1:])
        ]
    return MissionFile(mission=items, autopilot=autopilot)

"""QGroundControl .plan files (JSON): mission, geofence polygons and rally points.

The keys and values follow QGroundControl's loader: PlanMasterController.cc (fileType
"Plan", version 1, groundStation, mission/geoFence/rallyPoints objects),
MissionController.cc (_loadJsonMissionFileV2: plannedHomePosition [lat, lon, alt], items,
firmwareType, vehicleType, version 2), MissionItem.cc (SimpleItem: command, frame,
params[7], autoContinue), GeoFenceController.cc (version 2, polygons, circles),
QGCFencePolygon.cc (version 1, inclusion, polygon [[lat, lon], ...]) and
RallyPointController.cc (version 2, points [[lat, lon, alt], ...]).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from agridrone.errors import AgridroneError
from agridrone.outputs import read_text, write_bytes_atomic
from missions.fence import fence_polygons
from missions.formats.mission_file import MissionFile, file_frame, item_frame
from missions.mission import (
    CMD_NAV_FENCE_POLYGON_VERTEX_EXCLUSION,
    CMD_NAV_FENCE_POLYGON_VERTEX_INCLUSION,
    CMD_NAV_RALLY_POINT,
    FRAME_GLOBAL_INT,
    FRAME_GLOBAL_RELATIVE_ALT_INT,
    MISSION_TYPE_FENCE,
    MISSION_TYPE_RALLY,
    MissionItem,
    home_item,
    to_int7,
)

FIRMWARE_TYPES = {"ardupilot": 3, "px4": 12}  # MAV_AUTOPILOT
MAV_TYPE_QUADROTOR = 2
GROUND_STATION = "agridrone"
FENCE_ACTION_DEFAULT = 2  # newer QGroundControl versions require the key; 2 is their default


def render_qgc_plan(
    mission: list[MissionItem],
    fence: list[MissionItem],
    rally: list[MissionItem],
    autopilot: str,
    home_lonlat_alt: tuple[float, float, float] | None = None,
    fence_polygons_json: list[dict] | None = None,
) -> bytes:
    """The bytes of a .plan file. For ArduPilot ``mission[0]`` is home and becomes
    plannedHomePosition; for PX4 ``home_lonlat_alt`` (degrees, degrees, metres AMSL) does.
    ``fence_polygons_json``: :func:`fence_json` of ``fence`` when the caller writes many
    .plan files with one fence (None: computed here)."""
    if autopilot == "ardupilot":
        if not mission:
            raise ValueError("an ArduPilot mission starts with its home item")
        home = [mission[0].x / 1e7, mission[0].y / 1e7, _number(mission[0].z)]
        flown = mission[1:]
    else:
        if home_lonlat_alt is None:
            raise ValueError("a PX4 .plan needs home_lonlat_alt")
        lon, lat, alt = home_lonlat_alt
        home = [to_int7(lat) / 1e7, to_int7(lon) / 1e7, float(alt)]
        flown = mission
    polygons = fence_json(fence) if fence_polygons_json is None else fence_polygons_json
    document = {
        "fileType": "Plan",
        "groundStation": GROUND_STATION,
        "version": 1,
        "mission": {
            "firmwareType": FIRMWARE_TYPES[autopilot],
            "vehicleType": MAV_TYPE_QUADROTOR,
            "version": 2,
            "plannedHomePosition": home,
            "items": [_simple_item(item, index + 1) for index, item in enumerate(flown)],
        },
        "geoFence": {"version": 2, "circles": [], "polygons": polygons},
        "rallyPoints": {
            "version": 2,
            "points": [[p.x / 1e7, p.y / 1e7, _number(p.z)] for p in rally],
        },
    }
    # no indent: the C encoder is several times faster, and a field makes many files
    return (json.dumps(document, allow_nan=False) + "\n").encode("utf-8")


def fence_json(fence: list[MissionItem]) -> list[dict]:
    """The geoFence polygons of a .plan file (lat, lon degrees) from fence items."""
    inclusions, exclusions = fence_polygons(fence)
    return [
        {"fenceAction": FENCE_ACTION_DEFAULT, "inclusion": inclusion, "version": 1,
         "polygon": [[to_int7(lat) / 1e7, to_int7(lon) / 1e7] for lon, lat in ring]}
        for inclusion, rings in ((True, inclusions), (False, exclusions))
        for ring in rings
    ]


def write_qgc_plan(
    path: str | Path,
    mission: list[MissionItem],
    fence: list[MissionItem],
    rally: list[MissionItem],
    autopilot: str,
    home_lonlat_alt: tuple[float, float, float] | None = None,
) -> Path:
    """Write a QGroundControl .plan file atomically; see :func:`render_qgc_plan`."""
    return write_bytes_atomic(path, render_qgc_plan(mission, fence, rally, autopilot, home_lonlat_alt))


def read_qgc_plan(path: str | Path) -> MissionFile:
    """Read a .plan file back into items (ArduPilot: home from plannedHomePosition at seq 0).

    Fence polygons become NAV_FENCE_POLYGON_VERTEX_* items (frame GLOBAL_INT, param1 =
    vertex count), rally points NAV_RALLY_POINT items (frame GLOBAL_RELATIVE_ALT_INT)."""
    path = Path(path)
    try:
        document = json.loads(read_text(path))
        if document.get("fileType") != "Plan":
            raise AgridroneError(f"{path}: not a QGroundControl plan (fileType is not \"Plan\")")
        mission_json = document["mission"]
        autopilot = {v: k for k, v in FIRMWARE_TYPES.items()}.get(mission_json["firmwareType"])
        mission: list[MissionItem] = []
        if autopilot == "ardupilot":
            lat, lon, alt = mission_json["plannedHomePosition"]
            mission.append(home_item(lon, lat, _float(alt)))
        for entry in mission_json["items"]:
            if entry.get("type") != "SimpleItem":
                raise AgridroneError(f"{path}: item type {entry.get('type')!r} is not supported")
            p = [_float(v) for v in entry["params"]]
            mission.append(MissionItem(
                seq=len(mission), frame=item_frame(int(entry["frame"])),
                command=int(entry["command"]), param1=p[0], param2=p[1], param3=p[2],
                param4=p[3], x=to_int7(p[4]), y=to_int7(p[5]), z=p[6],
                autocontinue=int(bool(entry["autoContinue"])),
            ))
        fence: list[MissionItem] = []
        for polygon in document["geoFence"].get("polygons", []):
            command = (CMD_NAV_FENCE_POLYGON_VERTEX_INCLUSION if polygon["inclusion"]
                       else CMD_NAV_FENCE_POLYGON_VERTEX_EXCLUSION)
            ring = polygon["polygon"]
            for lat, lon in ring:
                fence.append(MissionItem(
                    seq=len(fence), frame=FRAME_GLOBAL_INT, command=command,
                    param1=float(len(ring)), x=to_int7(lat), y=to_int7(lon),
                    mission_type=MISSION_TYPE_FENCE,
                ))
        rally = [
            MissionItem(seq=i, frame=FRAME_GLOBAL_RELATIVE_ALT_INT, command=CMD_NAV_RALLY_POINT,
                        x=to_int7(lat), y=to_int7(lon), z=_float(alt),
                        mission_type=MISSION_TYPE_RALLY)
            for i, (lat, lon, alt) in enumerate(document["rallyPoints"].get("points", []))
        ]
    except json.JSONDecodeError as exc:
        raise AgridroneError(f"{path}: not valid JSON: {exc.msg} at line {exc.lineno}") from None
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
        raise AgridroneError(f"{path}: not a valid QGroundControl plan ({exc!r})") from None
    return MissionFile(mission=mission, fence=fence, rally=rally, autopilot=autopilot)


def _simple_item(item: MissionItem, jump_id: int) -> dict:
    return {
        "type": "SimpleItem",
        "command": item.command,
        "frame": file_frame(item.frame),
        "params": [_number(item.param1), _number(item.param2), _number(item.param3),
                   _number(item.param4), item.x / 1e7, item.y / 1e7, _number(item.z)],
        "autoContinue": bool(item.autocontinue),
        "doJumpId": jump_id,
    }


def _number(value: float) -> float | None:
    """JSON has no NaN: QGroundControl writes and reads it as null."""
    return None if math.isnan(value) else float(value)


def _float(value: float | None) -> float:
    return math.nan if value is None else float(value)

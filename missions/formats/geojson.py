"""GeoJSON for QGIS: the field, no-spray zones, every leg of every sortie and, optionally,
the mission items of one mission as points carrying their MAVLink fields."""

from __future__ import annotations

import json
import math
from pathlib import Path

from agridrone.errors import AgridroneError
from agridrone.outputs import read_text, write_bytes_atomic
from missions.formats.mission_file import MissionFile
from missions.mission import MissionItem, to_int7


def render_geojson(plan: dict, mission: list[MissionItem] | None = None,
                   autopilot: str | None = None) -> bytes:
    """The bytes of a GeoJSON FeatureCollection (WGS84 [lon, lat] degrees). Features carry a
    ``layer`` property: field, no_spray, leg (with sortie, kind, pass) and mission_item
    (with seq, command, frame, params, alt_m, autocontinue, current)."""
    features = [
        {"type": "Feature", "properties": {"layer": "field"}, "geometry": plan["field"]},
        {"type": "Feature", "properties": {"layer": "no_spray"}, "geometry": plan["no_spray"]},
    ]
    for sortie in plan["sorties"]:
        for leg in sortie["legs"]:
            properties = {"layer": "leg", "sortie": sortie["index"], "kind": leg["kind"]}
            if "pass" in leg:
                properties["pass"] = leg["pass"]
            features.append({"type": "Feature", "properties": properties,
                             "geometry": {"type": "LineString", "coordinates": leg["coords"]}})
    for item in mission or []:
        features.append({
            "type": "Feature",
            "properties": {
                "layer": "mission_item", "seq": item.seq, "command": item.command,
                "frame": item.frame,
                "params": [None if math.isnan(p) else p
                           for p in (item.param1, item.param2, item.param3, item.param4)],
                "alt_m": item.z, "autocontinue": item.autocontinue, "current": item.current,
            },
            "geometry": {"type": "Point", "coordinates": [item.y / 1e7, item.x / 1e7]},
        })
    document = {"type": "FeatureCollection", "autopilot": autopilot, "features": features}
    return (json.dumps(document, indent=1, allow_nan=False) + "\n").encode("utf-8")


def write_geojson(path: str | Path, plan: dict, mission: list[MissionItem] | None = None,
                  autopilot: str | None = None) -> Path:
    """Write the GeoJSON of :func:`render_geojson` atomically."""
    return write_bytes_atomic(path, render_geojson(plan, mission, autopilot))


def read_geojson(path: str | Path) -> MissionFile:
    """The mission items stored as ``mission_item`` points in a GeoJSON file."""
    path = Path(path)
    try:
        document = json.loads(read_text(path))
        items = []
        for feature in document["features"]:
            properties = feature.get("properties") or {}
            if properties.get("layer") != "mission_item":
                continue
            lon, lat = feature["geometry"]["coordinates"][:2]
            p = [math.nan if v is None else float(v) for v in properties["params"]]
            items.append(MissionItem(
                seq=int(properties["seq"]), frame=int(properties["frame"]),
                command=int(properties["command"]), param1=p[0], param2=p[1], param3=p[2],
                param4=p[3], x=to_int7(lat), y=to_int7(lon), z=float(properties["alt_m"]),
                autocontinue=int(properties["autocontinue"]),
                current=int(properties.get("current", 0)),
            ))
    except json.JSONDecodeError as exc:
        raise AgridroneError(f"{path}: not valid JSON: {exc.msg} at line {exc.lineno}") from None
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise AgridroneError(f"{path}: not an agridrone mission GeoJSON ({exc!r})") from None
    items.sort(key=lambda it: it.seq)
    return MissionFile(mission=items, autopilot=document.get("autopilot"))

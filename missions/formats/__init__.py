"""Mission files operators already use: QGroundControl .plan, Mission Planner .waypoints,
KML (Google Earth) and GeoJSON (QGIS); and, imported on demand because their libraries are
heavy, ISOXML TASKDATA (``isoxml_task``, ``isoxml_applied``) and GeoPackage (``gpkg``). One module per format; every write is atomic
(temporary name, then rename) and deterministic (same items, same bytes)."""

from __future__ import annotations

from pathlib import Path

from agridrone.errors import AgridroneError
from missions.formats.geojson import read_geojson, render_geojson, write_geojson
from missions.formats.kml import read_kml_plan, render_kml, write_kml
from missions.formats.mission_file import MissionFile
from missions.formats.qgc_plan import read_qgc_plan, render_qgc_plan, write_qgc_plan
from missions.formats.waypoints import read_waypoints, render_waypoints, write_waypoints

__all__ = [
    "MissionFile",
    "read_geojson",
    "read_kml_plan",
    "read_mission_file",
    "read_qgc_plan",
    "read_waypoints",
    "render_geojson",
    "render_kml",
    "render_qgc_plan",
    "render_waypoints",
    "write_geojson",
    "write_kml",
    "write_qgc_plan",
    "write_waypoints",
]


def read_mission_file(path: str | Path, autopilot: str | None = None) -> MissionFile:
    """Read the items of a .plan, .waypoints or .geojson file, chosen by extension.

    autopilot: for .waypoints only, which say nothing about it: ``"px4"`` drops the home
    line that the writer added in front of a PX4 mission."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".plan":
        return read_qgc_plan(path)
    if suffix in (".waypoints", ".txt"):
        return read_waypoints(path, autopilot)
    if suffix in (".geojson", ".json"):
        return read_geojson(path)
    raise AgridroneError(
        f"{path}: unknown mission file type {suffix or '(none)'}: use .plan, .waypoints or .geojson"
    )

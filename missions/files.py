"""The mission files of a plan: per sortie a QGroundControl .plan (mission, fence, rally) and
a Mission Planner .waypoints, plus plan.kml, written beside plan.json."""

from __future__ import annotations

import string

from agridrone.errors import AgridroneError
from missions.fence import (
    build_rally,
    fence_plan,
    fence_polygons,
    fence_violations,
    unfenced_warning,
)
from missions.formats import render_kml, render_qgc_plan, render_waypoints
from missions.formats.qgc_plan import fence_json
from missions.mission import DEFAULT_MAX_ITEMS, build_mission, check_autopilot, mission_warnings


def sortie_stem(index: int, count: int) -> str:
    """``sortie-NN`` for sortie ``index`` of ``count``: zero-padded to the digits of the count,
    at least 2 (``sortie-07`` of 12, ``sortie-007`` of 120), so the files sort in flying order."""
    return f"sortie-{index:0{max(2, len(str(count)))}d}"


def render_mission_files(
    plan: dict,
    *,
    autopilot: str,
    alt_frame: str = "relative",
    transit_alt_m: float | None = None,
    end: str = "rtl",
    max_items: int | None = None,
    fence_margin_m: float = 10.0,
) -> tuple[dict[str, bytes], list[str]]:
    """File name -> bytes of every mission file of a plan.json dict, and the warnings to
    print (one line each). Names: ``sortie-NN.plan`` / ``sortie-NN.waypoints`` (see
    :func:`sortie_stem`: ``sortie-NNN`` from 100 sorties on); a sortie
    split by ``max_items`` gives ``sortie-NNa``, ``sortie-NNb``, ... Options as for
    :func:`missions.mission.build_mission`; ``fence_margin_m`` in metres."""
    check_autopilot(autopilot)
    warnings = mission_warnings(autopilot, alt_frame)
    fence, unfenced = fence_plan(plan, margin_m=fence_margin_m, autopilot=autopilot)
    if unfenced:
        warnings.append(unfenced_warning(unfenced, autopilot))
    rally = build_rally(plan, autopilot)
    rings, polygons = fence_polygons(fence), fence_json(fence)  # once, not per sortie
    lon, lat = plan["station"]
    home = (float(lon), float(lat), 0.0)
    waypoint_home = None if autopilot == "ardupilot" else home
    files: dict[str, bytes] = {}
    count = len(plan["sorties"])
    for sortie in plan["sorties"]:
        index = int(sortie["index"])
        parts = build_mission(plan, index, autopilot=autopilot, alt_frame=alt_frame,
                              transit_alt_m=transit_alt_m, end=end, max_items=max_items)
        if len(parts) > len(string.ascii_lowercase):
            raise AgridroneError(f"sortie {index} needs {len(parts)} missions; raise --max-items")
        if len(parts) > 1:
            limit = DEFAULT_MAX_ITEMS[autopilot] if max_items is None else max_items
            warnings.append(
                f"sortie {index} is split into {len(parts)} missions of at most {limit} items "
                f"({sortie_stem(index, count)}a ...); each returns to the station and the next resumes "
                "where it stopped"
            )
        for number, items in enumerate(parts):
            suffix = string.ascii_lowercase[number] if len(parts) > 1 else ""
            stem = f"{sortie_stem(index, count)}{suffix}"
            problems = fence_violations(items, fence, rings)
            if problems:
                warnings.append(
                    f"{stem}: {len(problems)} waypoint(s) breach the geofence and the vehicle "
                    f"will react to it in flight (first: {problems[0]})"
                )
            files[f"{stem}.plan"] = render_qgc_plan(items, fence, rally, autopilot, home, polygons)
            files[f"{stem}.waypoints"] = render_waypoints(items, waypoint_home)
    files["plan.kml"] = render_kml(plan)
    return files, warnings


def plan_mission_files(plan: dict) -> tuple[dict[str, bytes], list[str]]:
    """:func:`render_mission_files` with every option taken from the plan's own ``inputs``
    (autopilot, altitude frame, transit altitude, ending, item limit, fence margin)."""
    inputs = plan["inputs"]
    return render_mission_files(
        plan,
        autopilot=inputs["autopilot"],
        alt_frame=inputs["alt_frame"],
        transit_alt_m=inputs["transit_alt_m"],
        end=inputs["end"],
        max_items=inputs["max_items"],
        fence_margin_m=inputs["fence_margin_m"],
    )


def plan_exports(plan: dict, isoxml: bool = True, gpkg: bool = False) -> dict[str, bytes]:
    """The plan for other farm and GIS software, file name -> bytes: ``TASKDATA.zip``
    (ISOXML, when ``isoxml``) and ``plan.gpkg`` (GeoPackage, when ``gpkg``). Their libraries
    are imported only when asked for."""
    files: dict[str, bytes] = {}
    if isoxml:
        from missions.formats.isoxml_task import render_isoxml_taskdata

        files["TASKDATA.zip"] = render_isoxml_taskdata(plan)
    if gpkg:
        from missions.formats.gpkg import render_geopackage

        files["plan.gpkg"] = render_geopackage(plan)
    return files

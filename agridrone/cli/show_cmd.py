"""``agridrone show FILE``: print a mission file (.plan, .waypoints, .geojson) or the
missions of a plan.json as a table, with a summary."""

from __future__ import annotations

import json
import math
from pathlib import Path

import click

from agridrone.cli.json_output import Output, json_option
from agridrone.cli.plan_settings import resolve
from agridrone.errors import AgridroneError
from agridrone.outputs import read_text
from missions.fence import fence_polygons
from missions.files import sortie_stem
from missions.formats import read_mission_file
from missions.mission import (
    MissionItem,
    build_mission,
    command_name,
    frame_name,
    mission_summary,
)


@click.command("show")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--autopilot", type=click.Choice(["ardupilot", "px4"]), default=None,
              help="Layout of a .waypoints file (px4: line 0 is only a home placeholder) and "
                   "dialect of the missions built from a plan.json [default: the plan's; "
                   "ardupilot for a .waypoints file].")
@click.option("--sortie", type=click.IntRange(min=1), default=None,
              help="plan.json: show only this sortie (1-based).")
@json_option
def show(file: Path, autopilot: str | None, sortie: int | None, as_json: bool) -> None:
    """Print the items of FILE (seq, command, frame, lat, lon, alt, params) and a summary:
    distance, spray legs and estimated duration.

    \b
    Examples:
      agridrone show out/sortie-01.plan
      agridrone show out/plan.json --sortie 2 --json
    """
    out = Output(as_json)
    missions = []
    document: dict = {"file": str(file), "missions": missions, "fence": None, "rally": None}
    if _is_plan_json(file):
        plan = json.loads(read_text(file))
        settings, warnings = resolve(plan)
        dialect = autopilot or settings.autopilot or "ardupilot"
        if autopilot is not None and autopilot != settings.autopilot:
            warnings.append(f"--autopilot {autopilot} overrides the plan's {settings.autopilot}")
        for warning in warnings:
            out.warn(warning, "warning")
        count = len(plan.get("sorties") or [])
        for index in [sortie] if sortie else range(1, count + 1):
            parts = build_mission(plan, index, autopilot=dialect, alt_frame=settings.alt_frame,
                                  transit_alt_m=settings.transit_alt_m, end=settings.end,
                                  max_items=settings.max_items)
            for number, items in enumerate(parts):
                suffix = chr(ord("a") + number) if len(parts) > 1 else ""
                name = f"{sortie_stem(index, count)}{suffix}"
                out.line(f"{name.replace('-', ' ')} ({dialect}, {len(items)} items)")
                missions.append(_mission_json(name, index, dialect, items))
                _print_mission(out, items)
        out.document(document)
        return
    content = read_mission_file(file, autopilot)
    label = content.autopilot or "autopilot not stated"
    out.line(f"{file.name} ({label}, {len(content.mission)} items)")
    missions.append(_mission_json(file.name, None, content.autopilot, content.mission))
    _print_mission(out, content.mission)
    if content.fence:
        inclusions, exclusions = fence_polygons(content.fence)
        out.line(f"fence: {len(content.fence)} vertices, {len(inclusions)} inclusion and "
                 f"{len(exclusions)} exclusion polygons")
        document["fence"] = {"vertices": len(content.fence), "inclusions": len(inclusions),
                             "exclusions": len(exclusions)}
    if content.rally:
        out.line(f"rally: {len(content.rally)} point{'s' if len(content.rally) != 1 else ''}")
        document["rally"] = {"points": len(content.rally)}
    out.document(document)


def _mission_json(name: str, sortie: int | None, autopilot: str | None,
                  items: list[MissionItem]) -> dict:
    """One mission of ``show --json``: its items (degrees, metres) and summary."""
    summary = mission_summary(items)
    return {
        "name": name,
        "sortie": sortie,
        "autopilot": autopilot,
        "items": [{"seq": item.seq, "command": command_name(item.command),
                   "frame": frame_name(item.frame),
                   "lat": item.lat_deg if item.x or item.y else None,
                   "lon": item.lon_deg if item.x or item.y else None,
                   "alt": item.z,
                   "params": [item.param1, item.param2, item.param3, item.param4]}
                  for item in items],
        "summary": {"distance_m": round(summary.distance_m, 1),
                    "spray_m": round(summary.spray_m, 1), "spray_legs": summary.spray_legs,
                    "duration_s": round(summary.duration_s, 1)},
    }


def _is_plan_json(path: Path) -> bool:
    if path.suffix.lower() != ".json":
        return False
    try:
        document = json.loads(read_text(path))
    except json.JSONDecodeError as exc:
        raise AgridroneError(f"{path}: not valid JSON: {exc.msg} at line {exc.lineno}") from None
    return isinstance(document, dict) and "sorties" in document


def _print_mission(out: Output, items: list[MissionItem]) -> None:
    header = f"{'seq':>4}  {'command':<24}{'frame':<17}{'lat':>12}  {'lon':>12}  {'alt':>7}  params"
    out.line(header)
    for item in items:
        has_position = item.x != 0 or item.y != 0
        lat = f"{item.lat_deg:12.7f}" if has_position else f"{'-':>12}"
        lon = f"{item.lon_deg:12.7f}" if has_position else f"{'-':>12}"
        params = " ".join(_fmt(p) for p in (item.param1, item.param2, item.param3, item.param4))
        out.line(f"{item.seq:>4}  {command_name(item.command):<24}{frame_name(item.frame):<17}"
                 f"{lat}  {lon}  {item.z:7.1f}  {params}")
    summary = mission_summary(items)
    minutes, seconds = divmod(round(summary.duration_s), 60)
    out.line(f"distance {summary.distance_m:,.0f} m (sprayed {summary.spray_m:,.0f} m), "
             f"{summary.spray_legs} spray legs, estimated duration {minutes}:{seconds:02d} "
             "(min:s)")
    out.line("")


def _fmt(value: float) -> str:
    return "nan" if math.isnan(value) else f"{value:g}"

"""Helpers of the real-SITL flight tests: plan a field, start SITL as the plan's drone, and
measure what a user relies on from SITL's own telemetry (pump servo, positions, battery)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import shapely
from click.testing import CliRunner
from shapely.geometry import LineString

from agridrone.as_applied import as_applied, spray_width_m, stray_spray
from agridrone.cli import main
from agridrone.resume import drone_from_plan, field_from_plan
from sim.sitl import launch_sitl_for_drone

SPEEDUP = 40.0  # what this SITL sustains on 2 shared cores with correct telemetry (measured)
HOME_AMSL_M = 215.0
ON_PASS_M = 2.0  # pump-on track within this of a pass line belongs to it


def make_plan(folder: Path, *args: str) -> tuple[Path, dict]:
    """Run ``agridrone plan ARGS -o folder``; the plan.json path and document."""
    result = CliRunner().invoke(main, ["plan", *args, "-o", str(folder)])
    assert result.exit_code == 0, result.output
    return folder / "plan.json", json.loads((folder / "plan.json").read_text())


def start_sitl(binary: Path, plan: dict, workdir: Path):
    """SITL as the plan's drone at the plan's station."""
    lon, lat = plan["station"]
    return launch_sitl_for_drone(binary, drone_from_plan(plan), home=(lat, lon, HOME_AMSL_M),
                                 speedup=SPEEDUP, workdir=workdir,
                                 temp_c=float(plan["inputs"]["temp_c"]))


def applied_of(plan: dict, logs: list):
    """The as-applied map of ``logs`` over the plan's field."""
    return as_applied(logs, field_from_plan(plan), spray_width_m(plan),
                      drone_from_plan(plan).pump_max_l_min)


def spray_lines(plan: dict) -> list[np.ndarray]:
    """Every planned spray leg of the plan (local metres)."""
    frame = field_from_plan(plan).frame
    return [frame.to_local(np.asarray(leg["coords"], dtype=np.float64))
            for sortie in plan["sorties"] for leg in sortie["legs"] if leg["kind"] == "spray"]


def pass_end_gaps(plan: dict, logs: list) -> tuple[np.ndarray, np.ndarray]:
    """Per spray leg of every sortie: metres along it from its start to where the pump-on
    track (SITL's positions while its pump output was on) first reaches it, and from the
    last pump-on point on it to its end; 0 when the pump ran from (or past) the end."""
    field = field_from_plan(plan)
    applied = as_applied(logs, field, spray_width_m(plan), plan["drone"]["pump_max_l_min"])
    tracks = [t for ts in applied.spray_tracks for t in ts]
    points = np.vstack(tracks) if tracks else np.empty((0, 2))
    starts, ends = [], []
    for leg in (leg for sortie in plan["sorties"] for leg in sortie["legs"]):
        if leg["kind"] != "spray":
            continue
        line = LineString(field.frame.to_local(np.asarray(leg["coords"], dtype=np.float64)))
        near = points[shapely.distance(line, shapely.points(points)) <= ON_PASS_M]
        if len(near) == 0:
            continue
        along = shapely.line_locate_point(line, shapely.points(near))
        starts.append(float(along.min()))
        ends.append(float(line.length - along.max()))
    return np.array(starts), np.array(ends)


def stray(plan: dict, logs: list, lines: list[np.ndarray] | None = None):
    """Where the pump ran off the plan: outside the field, inside no-spray zones, off the
    spray legs (see agridrone.as_applied.stray_spray)."""
    return stray_spray(applied_of(plan, logs), field_from_plan(plan),
                       spray_lines(plan) if lines is None else lines)

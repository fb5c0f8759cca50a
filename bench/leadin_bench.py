"""Pass-end bench (issue 13.3): every sortie of the 2 ha sample (15 L/ha, the defaults) flown on real ArduPilot SITL (instance 20, 40x) and real PX4 SITL (instance 5, 10x), judged
from their own telemetry: the share of the sortie's sprayed area within ±10 % of the rate
(as-applied dose raster, :mod:`agridrone.flown_dose`), litres used against the plan, the
landing charge against the plan's, and how
far from each pass's start and end the pump really ran (positive: the pump came on late /
went off early, metres along the pass; the median and the worst over all passes).

Run from the repository root with ARDUPILOT_SITL and PX4_SITL set:
``PYTHONPATH=.:tests python3 bench/leadin_bench.py [ardupilot|px4 ...]``. Prints a table;
not a test (a run takes 3-6 minutes per autopilot on 2 cores).
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import shapely
from click.testing import CliRunner
from shapely.geometry import LineString

from agridrone.as_applied import as_applied, spray_width_m
from agridrone.cli import main
from agridrone.cli.simulate_run import SimulateOptions, simulate_plan
from agridrone.flown_dose import flown_dose
from agridrone.resume import drone_from_plan, field_from_plan
from sim.px4_sitl import launch_px4, px4_script
from sim.sitl import launch_sitl_for_drone, sitl_binary

FIELD = "agridrone/data/fields/lahore_rect_2ha.geojson"
HOME_AMSL_M = 215.0
ARDUPILOT_INSTANCE, ARDUPILOT_SPEEDUP = 20, 40.0
PX4_INSTANCE, PX4_SPEEDUP = 5, 10.0
ON_PASS_M = 2.0  # pump-on track within this of a pass line belongs to it


def _plan(folder: Path, autopilot: str) -> dict:
    result = CliRunner().invoke(main, ["plan", FIELD, "--autopilot", autopilot,
                                       "-o", str(folder)])
    assert result.exit_code == 0, result.output
    return json.loads((folder / "plan.json").read_text())


def _fly(autopilot: str, plan: dict, workdir: Path) -> list:
    lon, lat = plan["station"]
    if autopilot == "ardupilot":
        running = launch_sitl_for_drone(sitl_binary(), drone_from_plan(plan),
                                        home=(lat, lon, HOME_AMSL_M), speedup=ARDUPILOT_SPEEDUP,
                                        instance=ARDUPILOT_INSTANCE, workdir=workdir,
                                        temp_c=float(plan["inputs"]["temp_c"]))
    else:
        running = launch_px4(px4_script(), instance=PX4_INSTANCE, home=(lat, lon, HOME_AMSL_M),
                             speed_factor=PX4_SPEEDUP, workdir=workdir)
    with running as sitl:
        return simulate_plan(plan, SimulateOptions(connect=sitl.address,
                                                   heartbeat_timeout_s=30.0))


def pass_end_gaps(plan: dict, logs: list) -> tuple[np.ndarray, np.ndarray]:
    """Per spray leg: metres from its start to where the pump-on track first reaches it,
    and from the last pump-on point on it to its end (along the leg)."""
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


def pump_on_speeds(plan: dict, logs: list) -> tuple[float, float]:
    """Mean ground speed (m/s) while the pump ran (distance / time over pump-on
    stretches), and the median ground speed within 3 m of a pass end while it ran."""
    frame = field_from_plan(plan).frame
    ends = np.vstack([frame.to_local(np.asarray(leg["coords"], dtype=np.float64))[[0, -1]]
                      for sortie in plan["sorties"] for leg in sortie["legs"]
                      if leg["kind"] == "spray"])
    dist = time = 0.0
    near: list[float] = []
    for log in logs:
        pos = np.array(sorted(set(log.positions)), dtype=np.float64)
        pos = pos[np.concatenate(([True], np.diff(pos[:, 0]) > 0))]
        xy = frame.to_local(pos[:, [2, 1]])
        pump = np.array(sorted(log.pump), dtype=np.float64).reshape(-1, 2)
        k = np.clip(np.searchsorted(pump[:, 0], pos[:-1, 0], side="right") - 1, 0, None)
        on = pump[k, 1] > 0
        step = np.hypot(*np.diff(xy, axis=0).T)
        dt = np.diff(pos[:, 0])
        dist += float(step[on].sum())
        time += float(dt[on].sum())
        to_end = np.min(np.hypot(*(xy[:-1, None, :] - ends[None]).transpose(2, 0, 1)), axis=1)
        near.extend((step / dt)[on & (to_end <= 3.0)].tolist())
    return dist / max(time, 1e-9), float(np.median(near)) if near else float("nan")


def measure(autopilot: str) -> dict:
    with tempfile.TemporaryDirectory(prefix=f"leadin-{autopilot}-") as tmp:
        plan = _plan(Path(tmp) / "plan", autopilot)
        logs = _fly(autopilot, plan, Path(tmp) / "sitl")
    field = field_from_plan(plan)
    drone = drone_from_plan(plan)
    _, metrics = flown_dose(logs, field, drone, plan["inputs"]["swath_width_m"], plan["rate_l_ha"])
    applied = as_applied(logs, field, spray_width_m(plan), drone.pump_max_l_min)
    starts, ends = pass_end_gaps(plan, logs)
    mean_speed, end_speed = pump_on_speeds(plan, logs)
    return {"autopilot": autopilot, "completed": all(log.completed for log in logs),
            "within_10_pct": metrics.within_10_pct, "mean_l_ha": metrics.mean_l_ha,
            "liquid_used_l": sum(applied.liquid_l), "liquid_planned_l": sum(s["liquid_l"] for s in plan["sorties"]),
            "sorties": len(plan["sorties"]),
            "landing_soc_pct": [round(log.remaining_pct(), 1) for log in logs],
            "planned_soc_pct": [s["soc_landing_pct"] for s in plan["sorties"]],
            "start_gap_median_m": float(np.median(starts)), "start_gap_max_m": float(starts.max()),
            "end_gap_median_m": float(np.median(ends)), "end_gap_max_m": float(ends.max()),
            "pump_on_speed_m_s": mean_speed, "speed_near_pass_ends_m_s": end_speed}


def main_bench(autopilots: list[str]) -> None:
    rows = [measure(a) for a in autopilots]
    for row in rows:
        print(json.dumps({k: round(v, 2) if isinstance(v, float) else v for k, v in row.items()}))


if __name__ == "__main__":
    main_bench(sys.argv[1:] or ["ardupilot", "px4"])

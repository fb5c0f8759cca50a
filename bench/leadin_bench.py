"""Pass-end bench (issue 13.3): every sortie of the 2 ha sample (15 L/ha, the defaults) flown on real ArduPilot SITL (instance 20, 40x) and real PX4 SITL (instance 5, 10x), judged
from their own telemetry: the share of the sortie's sprayed area within ±10 % of the rate
(as-applied dose raster, :mod:`agridrone.flown_dose`), litres used against the plan, the
landing charge against the plan's, and how
far from each pass's start and end the pump really ran (positive: the pump came on late /
went off early, metres along the pass; the median and the worst over all passes).

Run from the repository root with ARDUPILOT_SITL and PX4_SITL set:
``PYTHONPATH=.:tests python3 bench/leadin_bench.py [ardupilot|px4 ...]``
(LEADIN_BENCH_PX4_INSTANCE=N picks another PX4 instance than 5). Prints a table;
not a test (a run takes 3-6 minutes per autopilot on 2 cores).

Measured (2 ha sample, defaults, every sortie; before = without leads, as ``--no-leads``):

| autopilot | leads | within ±10 % | liquid used / planned | pump-on gap at pass start (median, max) | gap at pass end | speed ≤ 3 m from pass ends |
|---|---|---|---|---|---|---|
| ArduPilot | none | 95.9 % | 29.9 / 30.0 L | 0.58, 1.08 m | 0.03, 0.09 m | - |
| ArduPilot | 6 m | 96.8 % | 29.7 / 30.0 L | 1.90, 2.56 m | 0.00 m | - |
| ArduPilot | 11.2 m in and out | 95.5 % | 29.6 / 30.0 L | 2.54, 3.45 m | 0.00 m | 4.37 m/s |
| PX4 | none | 64.9 % | 34.0 / 30.0 L | 0 m | 0.72, 0.96 m | - |
| PX4 | 6 m | 63.4 % | 32.0 / 30.0 L | 0 m | 0.57, 0.82 m | 3.25 m/s |
| PX4 | 6.0 m in, 11.7 m out | 68.5 % | 31.9 / 30.0 L | 0 m | 0.20, 0.69 m | 3.91 m/s |
| PX4, sortie 1 at 20 L/ha | 6.0 m in, 11.7 m out | - | 31.6 / 30.0 L | 0 m | 0.51 m (median) | 3.81 m/s |
| PX4, sortie 1 at 20 L/ha | 8.1 m in, 11.7 m out | - | 31.6 / 30.0 L | 0 m | 0.15 m | 3.70 m/s |
| PX4, sortie 1 at 20 L/ha | 11.7 m in and out | - | 31.3, 31.4 / 30.0 L (two runs) | 0 m | 0.05, 0.25 m | 4.10, 4.05 m/s |
| PX4 | 11.7 m in and out, none at the breakpoint | 69.1 % | 31.7 / 30.0 L | 0 m | 0.25, 0.55 m | 3.94 m/s |
| PX4 | 11.7 m in and out, at the breakpoint too | 71.5 % | 31.4 / 30.0 L | 0 m | 0.11, 0.72 m | 4.29 m/s |

ArduPilot's sprayer scales the pump with ground speed, so its dose never needed the leads;
a lead-in moves the sprayer's start latency (one or two 3 Hz updates after the DO_SPRAYER at
the pass start) to full speed, hence the longer start gap. PX4 holds the actuator value, so
the slow metres at pass ends over-dose: the leads halve the excess liquid, but PX4 still
flies the pass ends below the spray speed.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

import numpy as np
from click.testing import CliRunner

from agridrone.as_applied import as_applied, spray_width_m
from agridrone.cli import main
from agridrone.cli.simulate_run import SimulateOptions, simulate_plan
from agridrone.flown_dose import flown_dose
from agridrone.resume import drone_from_plan, field_from_plan
from sim.px4_sitl import launch_px4, px4_script
from sim.sitl import launch_sitl_for_drone, sitl_binary
from tests.sitl.flight_checks import pass_end_gaps

FIELD = "agridrone/data/fields/lahore_rect_2ha.geojson"
HOME_AMSL_M = 215.0
ARDUPILOT_INSTANCE, ARDUPILOT_SPEEDUP = 20, 40.0
PX4_INSTANCE, PX4_SPEEDUP = int(os.environ.get("LEADIN_BENCH_PX4_INSTANCE", "5")), 10.0


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
        options = {}
    else:
        running = launch_px4(px4_script(), instance=PX4_INSTANCE, home=(lat, lon, HOME_AMSL_M),
                             speed_factor=PX4_SPEEDUP, workdir=workdir)
        options = {"speedup": PX4_SPEEDUP}  # PX4 has no SIM_SPEEDUP to scale the timeouts by
    with running as sitl:
        return simulate_plan(plan, SimulateOptions(connect=sitl.address,
                                                   heartbeat_timeout_s=30.0, **options))


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

"""Pass-end bench (issue 13.3): every sortie of the 2 ha sample (15 L/ha, the defaults) flown on real ArduPilot SITL (instance 20, 40x) and real PX4 SITL (instance 5, 10x), judged
from their own telemetry: the share of the sortie's sprayed area within ±10 % of the rate
(as-applied dose raster, :mod:`agridrone.flown_dose`), litres used against the plan, the
landing charge against the plan's, and how
far from each pass's start and end the pump really ran (positive: the pump came on late /
went off early, metres along the pass; the median and the worst over all passes).

Run from the repository root with ARDUPILOT_SITL and PX4_SITL set:
``PYTHONPATH=.:tests python3 bench/leadin_bench.py [ardupilot|px4 ...]``
(LEADIN_BENCH_PX4_INSTANCE=N picks another PX4 instance than 5; LEADIN_BENCH_PX4_PARAMS=
"NAME=value,..." sets PX4 parameters at PX4 SITL's start; LEADIN_BENCH_SAVE=PREFIX writes each
autopilot's positions and pump outputs to PREFIX-AUTOPILOT.json). Prints a table;
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
| PX4, rerun on instance 8 | 11.7 m in and out, at the breakpoint too | 71.0 % | 31.5 / 30.0 L | 0 m | 0.21, 0.63 m | 4.04 m/s |
| PX4, MPC_XY_ERR_MAX 10 (not kept, below) | 11.7 m in and out, at the breakpoint too | 77.3 % | 30.5 / 30.0 L | 0.00, 0.09 m | 0.29, 0.80 m | 4.69 m/s |
| PX4, MPC_XY_ERR_MAX 10 (not kept) | 23.4 m in, 11.7 m out | 78.7 % | 30.3 / 30.0 L | 0.21, 5.37 m | 0.00, 7.02 m | 4.87 m/s |
| PX4 (not kept) | 35.0 m in, 11.7 m out (two runs) | 80.1, 71.4 % | 30.9, 30.9 / 30.0 L | 0.00, 0.00 m; 0.00, 3.14 m | 0.28, 1.61 m; 0.00, 0.73 m | 4.59, 4.67 m/s |

ArduPilot's sprayer scales the pump with ground speed, so its dose never needed the leads;
a lead-in moves the sprayer's start latency (one or two 3 Hz updates after the DO_SPRAYER at
the pass start) to full speed, hence the longer start gap. PX4 holds the actuator value, so
the slow metres at pass ends over-dose: the leads halve the excess liquid, but PX4 still
flies the pass ends below the spray speed.

Where PX4's misses lie (the 71.0 % rerun; counterfactuals on its own telemetry through the
same raster, a throw-away script): the plan's passes through this raster give 98.0 %
(ArduPilot's 95.9 % is the same computation, :mod:`agridrone.flown_dose`); the flown
stretches at the planned litres per metre (no speed effect) 84.5 %; moved onto the pass
lines (no cross-track error: median 0.12 m, p90 0.37 m) 73.2 %; with the pattern width of
the planned 2.8 m height instead of the height flown (2.6-3.05 m) 79.9 %; all three 97.9 %,
so the pump timing costs nothing measurable. By place: within 15 m of a pass end (16 % of
the area) 60 % of the cells were outside ±10 %, mostly over; in the overlap strips between
passes (27 %) 42 %; pass centres 14 %, over. Speed from the pass start: 3.7 m/s in the first
3 m, 4.1 at 6-10 m, 4.5 at 15-25 m, 4.88 beyond; the last 25 m before a pass end 4.9-5.0.
So the lead-out works and the DO_SET_ACTUATOR items are not stops (no dip at either end);
the pass start is slow: after the turn PX4 trails its trajectory setpoint, and its generator
(PositionSmoothing::_generateTrajectory) slows its integration by 1 - lag / MPC_XY_ERR_MAX
(default 2 m, range 0.1-10, mc_pos_control multicopter_autonomous_params.yaml).
MPC_XY_ERR_MAX 10 fixed the speed (4.6 m/s in the first 3 m, 4.94 beyond 25 m) but sortie 2
hung in 5 of 7 two-sortie flights: a start that fell into RTL was restarted in the air and
PX4 then crawled along its first pass at 0.6 m/s past the pass end, never reaching the
waypoint; so upload does not set it. What remains with the speed fixed is PX4 SIH's
tracking: a slow ±0.4 m lateral weave after each turn-in (0.6 m off the line at a pass
start) and ±0.2 m in height, both moving the pattern's 30 % ramps in the overlap strips.
That weave also makes the share vary from run to run: the same 35 m lead-in gave 80.1 % (p90
cross-track 0.30 m) and 71.4 % (this bench), so one run per row separates a speed fix (the
litres and the pass-start speed move every time) but not a few points of the share. Four
runs of the speed fixes: liquid 30.3-30.9 L for 30.0 (31.4-31.5 L before), the first 3 m of
a pass at 4.5-4.9 m/s (3.7 before; the three runs whose telemetry was kept), the share
71-80 %; none reached the 85 % goal.

Tracking (issue 13; instance 8, leads 11.7 m in and out, at the breakpoint too; one row per
flight; cross-track: distance from the nearest pass line while the pump ran, median / p90;
height: p90 of |height - the leg's planned height|; gaps: share of vehicle time in position
intervals over 0.5 s, telemetry lost on the loaded machine: the raster then interpolates a
straight, smoothed track, so such a row's share is not comparable):

| PX4 parameters (beyond the plan's) | within ±10 % | liquid / 30.0 L | cross-track | height | gaps | retries |
|---|---|---|---|---|---|---|
| MPC_XY_ERR_MAX 10 | 77.1 % | 30.4 L | - | - | - | 0, 0 |
| MPC_XY_ERR_MAX 10 | 79.1 % | 30.4 L | 0.14 / 0.34 m | 0.22 m | 0 % | 0, 0 |
| + MPC_XY_VEL_P_ACC 3, MPC_XY_VEL_I_ACC 2 | 85.4 % | 30.2 L | 0.10 / 0.25 m | 0.21 m | 47 % | 0, 0 |
| the same | 85.0 % | 30.1 L | 0.09 / 0.25 m | 0.21 m | 10 % | 0, 0 |
| the same | 84.7 % | 30.1 L | 0.10 / 0.24 m | 0.19 m | 17 % | 0, 0 |
| + MPC_XY_TRAJ_P 1 | 86.1 % | 30.1 L | 0.12 / 0.28 m | 0.20 m | 4 % | 0, 0 |
| the same | 86.3 % | 30.2 L | 0.09 / 0.24 m | 0.18 m | 49 % | 0, 0 |
| MPC_XY_P 1.5, MPC_XY_VEL_P_ACC 4, MPC_XY_VEL_I_ACC 3, MPC_XY_TRAJ_P 1 | 87.6 % | 30.0 L | 0.06 / 0.15 m | 0.20 m | 21 % | 0, 0 |
| the same | 86.0 % | 30.2 L | 0.07 / 0.17 m | 0.20 m | 5 % | 0, 0 |
| + MPC_Z_P 1.5, MPC_Z_VEL_P_ACC 8, MPC_Z_VEL_I_ACC 3 (kept: sim/px4_sitl.py) | 92.0 % | 30.1 L | 0.06 / 0.16 m | 0.14 m | 7 % | 0, 0 |
| the same | 93.8 % | 30.2 L | 0.06 / 0.15 m | 0.14 m | 43 % | 0, 0 |
| none: the committed sim/px4_sitl.py tune alone | 92.9 % | 30.1 L | 0.07 / 0.16 m | 0.13 m | 0 % | 0, 0 |
| the same | 93.9 % | 30.0 L | 0.06 / 0.15 m | 0.13 m | 0 % | 0, 0 |
| all gains, NAV_ACC_RAD 0.5 (not kept) | 93.5 % | 30.1 L | 0.06 / 0.15 m | 0.13 m | 1 % | 0, 0 |
| the same | - (flew away: stopped by hand) | - | - | - | - | - |

("+": on top of the row above.) The issue's goal, 85 % within ±10 %, is reached with the kept
set: 92.0, 93.8, 92.9 and 93.9 % in four flights, the last two as committed with no
telemetry lost (every sortie of the 2 ha sample, the plan's defaults, 15 L/ha).
MPC_XY_ERR_MAX 10 after the start fix (bench/px4_start_bench.py): every flight at NAV_ACC_RAD
1 m completed both sorties with no restart and no hang, so upload sets it again
(missions/px4_params.py).
The gains of rows 3-7 were set on the wire after the plan's parameters, the later ones at PX4
SITL's start (LEADIN_BENCH_PX4_PARAMS); the kept set is the simulated hexacopter's own tune in
sim/px4_sitl.py, so every PX4 SITL run now flies it. They are SIH's tune, not the plan's: SIH's
vehicle is a 1 kg airframe with a linear drag of 1 N per m/s, so at 5 m/s the velocity
integrator carries 5 m/s², and PX4's generic MPC_XY_VEL_I_ACC 0.4 (a linearised loop's slowest
mode ~4 s, 19 m of pass) followed every turn slowly; a real spray drone's tune is its owner's
and upload leaves it alone. Counterfactuals on the flights' own telemetry through the same
raster (a throw-away script): MPC_XY_ERR_MAX 10 alone 79.1 % as flown, 85.2 % at the planned
height, 97.8 % on the pass lines; the horizontal gains 86.0-87.6 % as flown, 95.5-96.3 % at
the planned height; all gains 92.1 % as flown, 96.1 % at the planned height, 97.8 % on the
lines. What is left is mostly height (p90 0.14 m; it wanders ±0.1-0.2 m over 10-20 s in
straight flight), then cross-track (p90 0.15 m).

NAV_ACC_RAD 0.5 (experiment 3; the lead-in already is the run-up before each pass): one
flight as good as 1 m, the next stalled in sortie 1 after item 66 of 103 (a transit at 8 m/s)
and drifted away at 1.2 m/s with the trajectory setpoint (PX4's own listener: 5 km out,
mission_result seq_current 67, not finished, no failsafe), so 1 m stays. That is PX4 issue
#27730 (open; fix proposed in PR #27732): a multicopter accepts a waypoint only inside the
acceptance radius and the altitude window in the same cycle, with no "passed the waypoint"
fallback, so a fast fly-through of a tight radius can miss it for good and the vehicle drifts
away. The earlier sortie-2 hangs (crawling past the first pass's end at 0.6 m/s) look like the
same thing; none of the thirteen flights at 1 m above hung.

Gaps: on this shared machine telemetry was lost in 4-49 % of the flights' vehicle time in
most rows; the share of the flights with few gaps (79.1, 86.1, 86.0, 92.0, 92.9, 93.9 %) agrees with
their neighbours, but treat a single row's point or two as noise. Six further flights ended
in the parameter stage (a read or set not answered within four 1 s tries while the machine
was loaded) and are not rows.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

import numpy as np
import shapely
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


def px4_extra_params(text: str) -> dict[str, float]:
    """``NAME=value,NAME=value`` (LEADIN_BENCH_PX4_PARAMS): PX4 parameters set when PX4 SITL
    starts (after its airframe's), for trying a tune."""
    pairs = (item.split("=") for item in text.split(",") if item.strip())
    return {name.strip(): float(value) for name, value in pairs}


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
                             speed_factor=PX4_SPEEDUP, workdir=workdir,
                             params=px4_extra_params(os.environ.get("LEADIN_BENCH_PX4_PARAMS", "")))
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


def tracking_errors(plan: dict, logs: list) -> tuple[float, float, float]:
    """While the pump ran: the median and 90th percentile distance (m) from the nearest spray
    leg (cross-track error), and the 90th percentile of |height above home - that leg's
    planned height| (m)."""
    frame = field_from_plan(plan).frame
    legs = [leg for sortie in plan["sorties"] for leg in sortie["legs"] if leg["kind"] == "spray"]
    lines = shapely.linestrings([frame.to_local(np.asarray(leg["coords"], dtype=np.float64))
                                 for leg in legs])
    heights = np.array([float(leg.get("alt_m", plan["inputs"]["alt_m"])) for leg in legs])
    tree = shapely.STRtree(lines)
    cross: list[np.ndarray] = []
    height: list[np.ndarray] = []
    for log in logs:
        pos = np.array(sorted(set(log.positions)), dtype=np.float64)
        pump = np.array(sorted(log.pump), dtype=np.float64).reshape(-1, 2)
        k = np.clip(np.searchsorted(pump[:, 0], pos[:, 0], side="right") - 1, 0, None)
        on = pos[pump[k, 1] > 0]
        points = shapely.points(frame.to_local(on[:, [2, 1]]))
        (_, nearest), distance = tree.query_nearest(points, return_distance=True, all_matches=False)
        cross.append(distance)
        height.append(np.abs(on[:, 3] - heights[nearest]))
    xt, dz = np.concatenate(cross), np.concatenate(height)
    return float(np.median(xt)), float(np.percentile(xt, 90)), float(np.percentile(dz, 90))


def telemetry_gaps_pct(logs: list, gap_s: float = 0.5) -> float:
    """Share (%) of the flights' vehicle time in position intervals longer than ``gap_s``
    (s): telemetry lost on a loaded machine, whose positions the dose raster interpolates
    along straight lines (a smoothed track: the share is not comparable then)."""
    gaps = total = 0.0
    for log in logs:
        dt = np.diff(np.array(sorted({p[0] for p in log.positions}), dtype=np.float64))
        gaps += float(dt[dt > gap_s].sum())
        total += float(dt.sum())
    return 100.0 * gaps / max(total, 1e-9)


def _save(logs: list, path: str) -> None:
    """Write the sorties' positions and pump outputs as JSON to ``path``."""
    Path(path).write_text(json.dumps([{"positions": log.positions, "pump": log.pump}
                                      for log in logs]))


def measure(autopilot: str) -> dict:
    with tempfile.TemporaryDirectory(prefix=f"leadin-{autopilot}-") as tmp:
        plan = _plan(Path(tmp) / "plan", autopilot)
        logs = _fly(autopilot, plan, Path(tmp) / "sitl")
    if os.environ.get("LEADIN_BENCH_SAVE"):
        _save(logs, f"{os.environ['LEADIN_BENCH_SAVE']}-{autopilot}.json")
    field = field_from_plan(plan)
    drone = drone_from_plan(plan)
    _, metrics = flown_dose(logs, field, drone, plan["inputs"]["swath_width_m"], plan["rate_l_ha"])
    applied = as_applied(logs, field, spray_width_m(plan), drone.pump_max_l_min)
    starts, ends = pass_end_gaps(plan, logs)
    mean_speed, end_speed = pump_on_speeds(plan, logs)
    xt_median, xt_p90, dz_p90 = tracking_errors(plan, logs)
    return {"autopilot": autopilot, "completed": all(log.completed for log in logs),
            "within_10_pct": metrics.within_10_pct, "mean_l_ha": metrics.mean_l_ha,
            "liquid_used_l": sum(applied.liquid_l), "liquid_planned_l": sum(s["liquid_l"] for s in plan["sorties"]),
            "sorties": len(plan["sorties"]),
            "landing_soc_pct": [round(log.remaining_pct(), 1) for log in logs],
            "planned_soc_pct": [s["soc_landing_pct"] for s in plan["sorties"]],
            "start_gap_median_m": float(np.median(starts)), "start_gap_max_m": float(starts.max()),
            "end_gap_median_m": float(np.median(ends)), "end_gap_max_m": float(ends.max()),
            "pump_on_speed_m_s": mean_speed, "speed_near_pass_ends_m_s": end_speed,
            "cross_track_median_m": xt_median, "cross_track_p90_m": xt_p90,
            "height_error_p90_m": dz_p90, "telemetry_gaps_pct": telemetry_gaps_pct(logs),
            "start_retries": [log.start_retries for log in logs]}


def main_bench(autopilots: list[str]) -> None:
    rows = [measure(a) for a in autopilots]
    for row in rows:
        print(json.dumps({k: round(v, 2) if isinstance(v, float) else v for k, v in row.items()}))


if __name__ == "__main__":
    main_bench(sys.argv[1:] or ["ardupilot", "px4"])

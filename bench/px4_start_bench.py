"""PX4 later-sortie start bench: N sorties flown one after another in one PX4 SITL session
(instance 9, 10x; sortie 2 of the 2 ha sample, alternating with a copy whose first
DO_CHANGE_SPEED differs so PX4 sees a new mission each time), counting the starts that needed
the MISSION_START fallback (:func:`firmware_bridge.px4_flight.start_mission`) and those where
item 0 had to be made current first.

Run from the repository root with PX4_SITL set:
``PYTHONPATH=.:tests python3 bench/px4_start_bench.py [N]`` (N = 8; LEADIN_BENCH_PX4_INSTANCE
picks another instance than 9). Prints one JSON line per sortie and a summary; about 15 s a
sortie on 2 cores.

Measured (PX4 v1.16 SIH, runs of 8 sorties):

| start | later sorties whose first start fell into RTL | sorties needing a new start |
|---|---|---|
| before (arm in AUTO/MISSION, then MISSION_START 0), 1 run | 4 of 7 (PX4's log) | 3 of 8 |
| item 0 made current and confirmed, arming alone, 3 runs | 0 of 21 (reset needed in 21 of 21) | 0 of 24 |

A fourth run after the fix hung: its sortie 2 sat on its first pass (last reached item 4)
until the 300 s timeout, like the hang seen on PX4 SIH after an in-air restart with
MPC_XY_ERR_MAX 10 (bench/leadin_bench.py); the error ends the bench, so how that sortie
started was not recorded. bench/leadin_bench.py after the fix: start_retries [0, 0].

Before, PX4 armed into the previous mission's last item (RTL) kept as current; the
MISSION_START sent right after arming won that race only sometimes ("Executing Mission",
"Returning to launch" from 1-2 m, then restarted in the air or landed and disarmed).
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from click.testing import CliRunner

from agridrone.cli import main
from agridrone.cli.simulate_px4 import TELEMETRY_HZ, pump_channel
from agridrone.cli.vehicle_setup import apply_params
from firmware_bridge.link import connect
from firmware_bridge.px4_flight import fly_sortie_px4
from missions.mission import build_mission
from missions.vehicle_params import px4_vehicle_params
from sim.px4_sitl import launch_px4, px4_script

FIELD = "agridrone/data/fields/lahore_rect_2ha.geojson"
HOME_AMSL_M = 215.0
INSTANCE = int(os.environ.get("LEADIN_BENCH_PX4_INSTANCE", "9"))
SPEED_FACTOR = 10.0
CMD_DO_CHANGE_SPEED = 178


def _missions(folder: Path) -> tuple[dict, list]:
    """The plan and two distinct copies of its sortie 2 PX4 mission."""
    result = CliRunner().invoke(main, ["plan", FIELD, "--autopilot", "px4", "-o", str(folder)])
    assert result.exit_code == 0, result.output
    plan = json.loads((folder / "plan.json").read_text())
    items = build_mission(plan, 2, autopilot="px4")[0]
    first_speed = next(i for i, it in enumerate(items) if it.command == CMD_DO_CHANGE_SPEED)
    other = list(items)
    other[first_speed] = dataclasses.replace(items[first_speed],
                                             param2=items[first_speed].param2 - 1.0)
    return plan, [items, other]


def main_bench(count: int) -> None:
    with tempfile.TemporaryDirectory(prefix="px4-start-") as tmp:
        plan, missions = _missions(Path(tmp) / "plan")
        lon, lat = plan["station"]
        with launch_px4(px4_script(), instance=INSTANCE, home=(lat, lon, HOME_AMSL_M),
                        speed_factor=SPEED_FACTOR, workdir=Path(tmp) / "sitl") as sitl:
            link = connect(sitl.address, heartbeat_timeout_s=30.0)
            apply_params(link, px4_vehicle_params(plan), timeout_s=1.0, retries=3)
            logs = []
            for n in range(count):
                start = time.monotonic()
                log = fly_sortie_px4(link, n + 1, [missions[n % 2]], rate_hz=TELEMETRY_HZ,
                                     timeout_s=300.0, pump=pump_channel(plan))
                logs.append(log)
                print(json.dumps({"sortie": n + 1, "completed": log.completed,
                                  "start_retries": log.start_retries,
                                  "item0_made_current": any("made item 0 current" in t
                                                            for t in log.texts),
                                  "wall_s": round(time.monotonic() - start, 1)}), flush=True)
            link.close()
    retried = sum(log.start_retries > 0 for log in logs)
    reset = sum(any("made item 0 current" in t for t in log.texts) for log in logs)
    print(json.dumps({"sorties": count, "starts_needing_a_retry": retried,
                      "retry_ratio": round(retried / count, 3),
                      "item0_made_current": reset,
                      "completed": sum(log.completed for log in logs)}))


if __name__ == "__main__":
    main_bench(int(sys.argv[1]) if len(sys.argv) > 1 else 8)

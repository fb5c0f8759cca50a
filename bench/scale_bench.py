"""Scaling of one plan: time and peak memory against field area (1-1,000 ha), boundary
vertices (10-10,000) and holes (0-50), with the fitted growth exponent of each axis.

Each case runs in a fresh process (warm numba cache) on a generated field
(bench/scale_fields.py: a wavy shell, digitising noise of 3 cm, round 8-sided holes);
"plan" is make_plan (field, simplification, heading, passes, cells, order, transits,
sorties, dose), "files" is plan_files + mission files (pictures, dose raster); "plan MB"
is the process's maximum resident set after make_plan, "peak MB" after the files too. Goals (issue 16): 100 ha with 10,000 vertices under 3 s and 500 MB,
with 50 holes under 3 s, nothing super-quadratic.

Run: python bench/scale_bench.py [--quick]     (never part of the test run)
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CASE = r"""
import json, resource, sys, time
sys.path.insert(0, {root!r})
from bench.scale_fields import write_scale_field
from pathlib import Path
from agridrone.cli.plan_cmd import plan, plan_inputs
from agridrone.planner import make_plan, plan_files
from missions.files import plan_mission_files
path = write_scale_field(Path({path!r}), {area}, {vertices}, {holes})
params = plan.make_context("plan", [str(path), "-o", "unused", "--max-area", "5000"]).params
options = {{k: v for k, v in params.items() if k not in ("field_file", "outdir", "isoxml", "gpkg", "as_json")}}
make_plan(plan_inputs("example:lahore_rect_2ha", **options)[0])  # kernels loaded
t0 = time.perf_counter()
planned = make_plan(plan_inputs(str(path), **options)[0])
t1 = time.perf_counter()
plan_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
files = {{**plan_files(planned), **plan_mission_files(planned.document)[0]}}
t2 = time.perf_counter()
print(json.dumps({{"plan_s": t1 - t0, "files_s": t2 - t1,
                  "plan_peak_mb": plan_peak, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "sorties": len(planned.sorties.sorties),
                  "simplified": any("simplified" in w for w in planned.warnings)}}))
"""


def run_case(area: float, vertices: int, holes: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        code = CASE.format(root=str(ROOT), path=str(Path(tmp) / "field.geojson"),
                           area=area, vertices=vertices, holes=holes)
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             cwd=ROOT, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def exponent(xs: list[float], ts: list[float]) -> float:
    """Slope of log(time) against log(x): time grows like x to this power."""
    return float(np.polyfit(np.log(xs), np.log(ts), 1)[0])


def main() -> None:
    quick = "--quick" in sys.argv
    axes = {
        "area_ha": ([1, 10, 100] if quick else [1, 10, 100, 1000],
                    lambda x: (x, 200, 0)),
        "vertices": ([10, 100, 1000, 10000], lambda x: (100.0, x, 0)),
        "holes": ([0, 5, 20, 50], lambda x: (100.0, 200, x)),
    }
    print(f"{'axis':9} {'value':>7} {'plan s':>8} {'files s':>8} {'plan MB':>8} {'peak MB':>8} {'sorties':>8}  note")
    for axis, (values, case) in axes.items():
        times = []
        for value in values:
            r = run_case(*case(value))
            times.append(r["plan_s"])
            note = "boundary simplified" if r["simplified"] else ""
            print(f"{axis:9} {value:7} {r['plan_s']:8.2f} {r['files_s']:8.2f} {r['plan_peak_mb']:8.0f} {r['peak_mb']:8.0f} "
                  f"{r['sorties']:8}  {note}", flush=True)
        xs = [v + 1 if axis == "holes" else v for v in values]  # holes: against holes + 1
        print(f"{axis:9} fitted growth exponent of plan time: {exponent(xs, times):.2f}"
              f" (last two points: {math.log(times[-1] / times[-2]) / math.log(xs[-1] / xs[-2]):.2f})")


if __name__ == "__main__":
    main()

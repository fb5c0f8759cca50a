"""Benchmark of the coverage planner: heading search with the numba kernels against the
same computation with shapely, and `agridrone plan` wall time cold and warm.

Run: python bench/plan_bench.py [--ratio]   (prints figures; never part of the test run)
--ratio: only the whole-process ratio of `agridrone plan` against the shapely-only search.
`agridrone plan` draws its pictures in a second process (agridrone/cli/picture_worker.py),
so its wall time gains from a free core; on a loaded machine compare CPU times as well.
Run `agridrone warmup` first: without its ahead-of-time kernels (agridrone.aot) and bytecode a
plan imports numba and compiles its modules, 0.5-0.6 s more; the ratio line says which ran.
Targets: search >= 20x faster than shapely on the 150 ha field; plan warm < 1.5 s.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import shapely

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from agridrone.aot import compiled_module  # noqa: E402
from agridrone.coverage.kernels import _heading_costs  # noqa: E402
from agridrone.coverage.swaths import LINE_EPS_M, flatten_rings  # noqa: E402
from agridrone.examples import FIELD_DIR  # noqa: E402
from agridrone.field import load_field  # noqa: E402
from agridrone.geo import LocalFrame  # noqa: E402
from tests.naive import shapely_heading_spray  # noqa: E402

SWATH_M = 5.0
CANDIDATES = np.arange(360) * 0.5  # 360 headings, 0.5° apart
SAMPLES = sorted(p for p in FIELD_DIR.glob("*.geojson") if "nospray" not in p.name)


def big_field(path: Path, area_ha: float = 150.0) -> Path:
    """A field near Multan (150 ha unless given) with a 200-vertex wavy boundary, as GeoJSON."""
    angles = np.linspace(0, 2 * math.pi, 200, endpoint=False)
    radius = 1.0 + 0.08 * np.sin(3 * angles) + 0.05 * np.sin(7 * angles + 1.0)
    xy = np.column_stack([radius * np.cos(angles), radius * np.sin(angles)])
    xy *= math.sqrt(area_ha * 1e4 / shapely.Polygon(xy).area)
    lonlat = LocalFrame(71.45, 30.2).to_wgs84(xy)
    ring = [[round(lon, 8), round(lat, 8)] for lon, lat in lonlat] + [[round(lonlat[0][0], 8), round(lonlat[0][1], 8)]]
    path.write_text(json.dumps({"type": "Polygon", "coordinates": [ring]}))
    return path


def search_times(field_path: Path) -> tuple[float, float, float, float]:
    field = load_field(field_path)
    region = field.sprayable_local.buffer(-SWATH_M / 2)
    rings = flatten_rings(region)
    t0 = time.perf_counter()
    _heading_costs(rings.xs, rings.ys, rings.offsets, CANDIDATES, SWATH_M, LINE_EPS_M, SWATH_M / 2)
    first = time.perf_counter() - t0
    runs = []
    for _ in range(5):
        t0 = time.perf_counter()
        _heading_costs(rings.xs, rings.ys, rings.offsets, CANDIDATES, SWATH_M, LINE_EPS_M, SWATH_M / 2)
        runs.append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    for heading in CANDIDATES:
        shapely_heading_spray(region, float(heading), SWATH_M)
    reference = time.perf_counter() - t0
    return field.area_m2 / 1e4, first, min(runs), reference


def plan_wall_times(field_path: Path) -> tuple[float, float]:
    for cache in (ROOT / "agridrone").rglob("__pycache__"):
        for stale in list(cache.glob("*.nbi")) + list(cache.glob("*.nbc")):
            stale.unlink()
    times = []
    for _ in range(2):
        out = Path(tempfile.mkdtemp())
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "agridrone", "plan", str(field_path), "-o", str(out)],
                       check=True, capture_output=True)
        times.append(time.perf_counter() - t0)
        shutil.rmtree(out)
    return times[0], times[1]


def stage_times(field_path: Path) -> dict[str, float]:
    """Warm in-process seconds of each stage of `agridrone plan` (default options)."""
    from agridrone.cli.plan_cmd import plan as plan_command
    from agridrone.coverage import CoverageOptions, plan_coverage, transit_planner
    from agridrone.drone import DEFAULT_DRONE, load_drone
    from agridrone.planner import make_plan, plan_files

    ctx = plan_command.make_context("plan", [str(field_path), "-o", "unused"])
    drone = load_drone(DEFAULT_DRONE)
    times: dict[str, float] = {}
    for _ in range(2):  # the second round is warm
        t0 = time.perf_counter()
        field = load_field(field_path)
        coverage = plan_coverage(field, CoverageOptions(swath_m=drone.swath_width_m),
                                 transit=transit_planner(field))
        times["field + coverage"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        planned = make_plan(_inputs(ctx.params))
        times["whole make_plan (with sorties)"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        files = plan_files(planned)
        times[f"plan_files ({len(files)} files)"] = time.perf_counter() - t0
    times["coverage passes"] = coverage.passes
    return times


def _inputs(params: dict):
    """PlanInputs for the CLI's default options (as `agridrone plan FIELD` would use)."""
    from agridrone.drone import load_drone
    from agridrone.plan_file import PlanInputs

    swath = load_drone(params["drone_name"]).swath_width_m
    return PlanInputs(
        field_file=str(params["field_file"]), exclude_files=[], drone=params["drone_name"],
        rate_l_ha=params["rate"], swath_width_m=swath, edge_margin_m=swath / 2,
        headland_passes=params["headland_passes"], heading_deg=None, home=None,
        stations_file=None, speed_m_s=params["speed"], transit_speed_m_s=params["transit_speed"],
        alt_m=params["alt"], turn_time_s=params["turn_time"], temp_c=params["temp"],
        swap_time_s=params["swap_time"], autopilot=params["autopilot"],
        alt_frame=params["alt_frame"], transit_alt_m=None, end=params["end"], max_items=None,
        fence_margin_m=params["fence_margin"], repair=False, max_area_ha=params["max_area"],
    )


def whole_process_ratio(workdir: Path, rounds: int = 5) -> None:
    """Whole-process `agridrone plan` (every file written) on a 111 ha, 200-vertex field
    against the shapely-only 360-heading search process (bench/heading_reference.py), run
    alternately so that load on the machine hits both alike; prints the medians and the
    ratio (goal <= 0.5)."""
    field = big_field(workdir / "bench_111ha_200v.geojson", 111.0)
    reference = [sys.executable, str(ROOT / "bench" / "heading_reference.py"), str(field)]
    plan = [sys.executable, "-m", "agridrone", "plan", str(field), "-o", str(workdir / "out")]
    subprocess.run(plan, check=True, capture_output=True, cwd=ROOT)  # numba cache warm
    times: dict[str, list[float]] = {"plan": [], "reference": []}
    for _ in range(rounds):
        for name, command in (("plan", plan), ("reference", reference)):
            t0 = time.perf_counter()
            subprocess.run(command, check=True, capture_output=True, cwd=ROOT)
            times[name].append(time.perf_counter() - t0)
    p, r = float(np.median(times["plan"])), float(np.median(times["reference"]))
    kernels = "ahead-of-time kernels" if compiled_module() is not None else "numba JIT kernels"
    print(f"whole process, {rounds} alternating rounds, medians: agridrone plan 111 ha/200 vertices "
          f"{p:.2f} s ({kernels}), shapely-only 360-heading search {r:.2f} s, ratio {p / r:.2f} "
          "(goal <= 0.5)")


def main() -> None:
    workdir = Path(tempfile.mkdtemp())
    if "--ratio" in sys.argv:  # only the whole-process ratio
        whole_process_ratio(workdir)
        shutil.rmtree(workdir)
        return
    whole_process_ratio(workdir)
    fields = [*SAMPLES, big_field(workdir / "bench_150ha_200v.geojson")]
    print(f"heading search over {len(CANDIDATES)} candidates, swath {SWATH_M} m")
    print(f"{'field':34} {'ha':>7} {'first call':>11} {'numba':>9} {'shapely':>9} {'ratio':>7}")
    for path in fields:
        area, first, kernel, reference = search_times(path)
        print(f"{path.stem:34} {area:7.1f} {first * 1e3:9.1f}ms {kernel * 1e3:7.2f}ms "
              f"{reference * 1e3:7.1f}ms {reference / kernel:6.1f}x")
    print("(first call = compile, or load from numba's on-disk cache when warm)")
    print("\nstages of `agridrone plan` in one process, warm (default drone and rate):")
    for path in fields:
        stages = stage_times(path)
        print(f"  {path.stem:30} " + ", ".join(
            f"{name} {value:.3f} s" if isinstance(value, float) else f"{name} {value}"
            for name, value in stages.items()))
    for path in (fields[0], fields[-1]):
        cold, warm = plan_wall_times(path)
        print(f"agridrone plan {path.name}: wall time with a cold numba cache {cold:.2f} s, "
              f"warm {warm:.2f} s (target warm < 1.5 s; includes interpreter start and imports)")
    shutil.rmtree(workdir)


if __name__ == "__main__":
    main()

"""Where `plan_dose` spends its time on the batch path (issue 16): the dose of each of N
generated 2-20 ha fields (bench/batch_bench.py's district, `agridrone batch`'s options) is
recomputed R times and the fastest run of each part kept: the whole of plan_dose, the
deposit kernel, the two masks and the metrics kernel, in ms per field.

Run from the repository root: ``PYTHONPATH=. python3 bench/dose_stages_bench.py [N] [R]``
(default 60 fields, 5 runs). Prints one line; not a test.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import agridrone.planner as planner  # noqa: E402
from agridrone import dose  # noqa: E402
from agridrone.batch.sources import field_sources  # noqa: E402
from agridrone.cli.batch_cmd import PLAN_ONLY, Task, plan_one  # noqa: E402
from agridrone.cli.plan_cmd import plan  # noqa: E402
from bench.batch_bench import district  # noqa: E402

PARTS = ("plan_dose", "_deposit", "_mask", "_dose_sums")


def captured_calls(count: int) -> list[tuple[tuple, dict]]:
    """The arguments of every plan_dose call planning ``count`` generated fields."""
    calls: list[tuple[tuple, dict]] = []
    original = planner.plan_dose

    def record(*args, **kwargs):
        calls.append((args, kwargs))
        return original(*args, **kwargs)

    planner.plan_dose = record
    try:
        path = district(Path(tempfile.mkdtemp()) / "district.geojson", count)
        params = plan.make_context("plan", ["x", "-o", "unused"]).params
        options = {k: v for k, v in params.items() if k not in PLAN_ONLY}
        for source in field_sources(path)[1]:
            plan_one(Task(source, options, True, str(path)))
    finally:
        planner.plan_dose = original
    return calls


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 60
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    calls = captured_calls(count)
    spent: dict[str, float] = {}

    def timed(name, func):
        def call(*args, **kwargs):
            t0 = time.perf_counter()
            result = func(*args, **kwargs)
            spent[name] = spent.get(name, 0.0) + time.perf_counter() - t0
            return result
        return call

    for name in PARTS[1:]:
        setattr(dose, name, timed(name, getattr(dose, name)))
    best = np.full((len(calls), len(PARTS)), np.inf)
    for _ in range(runs):
        for k, (args, kwargs) in enumerate(calls):
            spent.clear()
            timed("plan_dose", dose.plan_dose)(*args, **kwargs)
            best[k] = np.minimum(best[k], [spent[name] for name in PARTS])
    pixels = np.mean([dose.plan_dose(*a, **kw).raster.dose.size for a, kw in calls[:10]])
    figures = "  ".join(f"{name} {1e3 * best[:, j].mean():.2f}" for j, name in enumerate(PARTS))
    print(f"{len(calls)} fields (~{pixels / 1e6:.1f} Mpixel rasters), ms per field, fastest of "
          f"{runs}: {figures}")


if __name__ == "__main__":
    main()

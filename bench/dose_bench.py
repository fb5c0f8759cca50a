"""Dose bench (issue 13): the dose metrics of every sample field at the t30's default 9 m
swath and at 6 m and 7.5 m (12 m is beyond its limits table), for three layouts:
``squeezed`` (passes one swath apart, a squeezed last pass), ``even`` (even spacing, every
pass one swath wide at one height: the first round) and ``heights`` (the planner now: lines
fitted to the field, each pass flown where the swath equals its spacing), and what the dose
raster costs against the whole plan in the same run.

Run from the repository root: ``PYTHONPATH=. python3 bench/dose_bench.py``. Prints a table;
not a test.
"""

from __future__ import annotations

import time

from agridrone.dose import default_cell_m, plan_dose
from agridrone.plan_file import PlanInputs
from agridrone.planner import make_plan
from tests.fieldgen import SAMPLE_FIELDS

SWATHS = (6.0, 7.5, 9.0)


def _inputs(path, excludes, swath: float) -> PlanInputs:
    return PlanInputs(
        field_file=str(path), exclude_files=[str(e) for e in excludes], drone="agras-t30",
        rate_l_ha=15.0, swath_width_m=swath, edge_margin_m=swath / 2, headland_passes=0,
        heading_deg=None, home=None, stations_file=None, speed_m_s=5.0, transit_speed_m_s=8.0,
        alt_m=3.0, turn_time_s=4.0, temp_c=25.0, swap_time_s=90.0, autopilot="ardupilot",
        alt_frame="relative", transit_alt_m=None, end="rtl", max_items=None,
        fence_margin_m=10.0, repair=False, max_area_ha=2000.0)


def _before(planned, even: bool):
    """The dose of the same field laid an older way, every pass one swath wide at one height:
    passes one swath apart with a squeezed last pass, or (``even``) spread evenly."""
    from agridrone.coverage import CoverageOptions, plan_coverage
    from agridrone.dose import vehicle_application

    inputs = planned.document["inputs"]
    swath = inputs["swath_width_m"]
    coverage = plan_coverage(planned.field, CoverageOptions(swath_m=swath, even_spacing=even))
    spray = [leg for leg in coverage.legs if leg.kind == "spray"]
    app = vehicle_application(spray, coverage.pass_spacing_m, 15.0, 5.0,
                              planned.drone.pump_max_l_min)
    return plan_dose(coverage.legs, app, planned.drone.pattern_for(swath),
                     planned.field.sprayable_local, planned.field.outer_local, 15.0,
                     default_cell_m(swath)).metrics


def main() -> None:
    make_plan(_inputs(*SAMPLE_FIELDS["lahore_rect_2ha"], 9.0))  # compile / load numba caches
    print(f"{'field':26s} {'swath':>5s} {'':8s} {'liquid L':>9s} {'target':>7s} {'±10 %':>6s} "
          f"{'>1.5×':>6s} {'CV %':>5s} {'plan s':>7s} {'dose s':>7s} {'share':>6s}")
    for name, (path, excludes) in SAMPLE_FIELDS.items():
        for swath in SWATHS:
            inputs = _inputs(path, excludes, swath)
            t0 = time.perf_counter()
            planned = make_plan(inputs)
            plan_s = time.perf_counter() - t0
            legs = [leg for s in planned.sorties.sorties for leg in s.legs]
            t1 = time.perf_counter()
            plan_dose(legs, planned.dose.application, planned.drone.pattern_for(swath),
                      planned.field.sprayable_local, planned.field.outer_local, 15.0,
                      default_cell_m(swath))
            dose_s = time.perf_counter() - t1
            for label, m in (("squeezed", _before(planned, False)),
                             ("even", _before(planned, True)), ("heights", planned.dose.metrics)):
                timing = (f"{plan_s:7.2f} {dose_s:7.3f} {100 * dose_s / plan_s:5.1f}%"
                          if label == "heights" else "")
                print(f"{name:26s} {swath:5.1f} {label:8s} {m.liquid_l:9.1f} {m.target_l:7.1f} "
                      f"{m.within_10_pct:6.1f} {m.above_150_pct:6.2f} {m.cv_pct:5.1f} {timing}")


if __name__ == "__main__":
    main()

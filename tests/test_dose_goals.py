"""Issue 13's dose goals on the sample fields and on random fields: total liquid within 2 %
of rate × sprayable area, >= 90 % of the sprayable area within ±10 % of the rate, <= 1 %
above 1.5× the rate, CV <= 10 %, coverage still >= 99 %.

The plan's figures are the dose raster's (tests/test_dose.py checks that raster against the
plain-Python twin and the analytic rectangle). The plans are laid as the planner lays them
for the agras-t30 (its limits table: each pass flown where the swath equals its spacing, the
default 30 % ramp trapezoid widened with it). Every sample field meets every goal at each
swath (the irregular field at 7.5 m missed the CV goal, 11.2 %, until the heading was chosen
among the shortlist by its laid passes' misapplied area: 7.4 %; 8.5 % since fill passes must
fill more than they spray twice, at a heading 16 s faster that now ties on misapplied area).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from shapely.geometry import MultiPolygon, Polygon

from agridrone.coverage import CoverageOptions, plan_coverage
from agridrone.dose import default_cell_m, plan_dose, vehicle_application
from agridrone.drone import SprayPattern, load_drone
from agridrone.field import Field, load_field
from agridrone.geo import LocalFrame
from agridrone.spray_height import pass_heights, pattern_scales, swath_range_m
from tests.fieldgen import SAMPLE_FIELDS, local_fields

RATE = 15.0
SPEED = 5.0
PUMP = 7.2
ALT = 3.0
DRONE = load_drone("agras-t30")
SWATHS = (6.0, 7.5, 9.0)  # the t30's default swath and two others within its limits table

def _dose(field: Field, swath: float, even: bool = True, heights: bool = True):
    """Coverage and dose as the planner lays them; ``heights`` False: every pass one swath
    wide at one height (a profile without limits)."""
    limits = DRONE.limits if heights else None
    options = CoverageOptions(swath_m=swath, speed_m_s=SPEED, even_spacing=even,
                              spacing_range_m=None if limits is None else swath_range_m(limits))
    coverage = plan_coverage(field, options)
    spray = [leg for leg in coverage.legs if leg.kind == "spray"]
    app = vehicle_application(spray, coverage.pass_spacing_m, RATE, SPEED, PUMP)
    scales = None
    if heights:
        scales = pattern_scales(DRONE, pass_heights(DRONE, coverage.pass_spacing_m, ALT), swath)
    dose = plan_dose(coverage.legs, app, SprayPattern.trapezoid(swath), field.sprayable_local,
                     field.outer_local, RATE, default_cell_m(swath), scales)
    return coverage, dose


def _goals(coverage, m) -> dict[str, bool]:
    return {
        "liquid": abs(m.liquid_vs_target_pct - 100.0) <= 2.0,
        "within_10": m.within_10_pct >= 90.0,
        "above_150": m.above_150_pct <= 1.0,
        "cv": m.cv_pct <= 10.0,
        "coverage": coverage.metrics.coverage_pct >= 99.0,
    }


CASES = [(name, swath, goal) for name in sorted(SAMPLE_FIELDS) for swath in SWATHS
         for goal in ("liquid", "within_10", "above_150", "cv", "coverage")]


@pytest.fixture(scope="module")
def sample_doses():
    out = {}
    for name, (path, excludes) in SAMPLE_FIELDS.items():
        field = load_field(path, exclude_paths=excludes)
        for swath in SWATHS:
            out[name, swath] = _dose(field, swath)
    return out


@pytest.mark.parametrize(("name", "swath", "goal"), CASES)
def test_sample_field_meets_dose_goal(sample_doses, name, swath, goal):
    coverage, dose = sample_doses[name, swath]
    assert _goals(coverage, dose.metrics)[goal], dose.metrics


def _field(local) -> Field:
    frame = LocalFrame(73.0, 31.0)
    outer = MultiPolygon([type(local)(local.exterior.coords)])
    holes = MultiPolygon([type(local)(r.coords) for r in local.interiors])
    sprayable = MultiPolygon([local])
    to84 = frame.geometry_to_wgs84
    return Field("random", to84(MultiPolygon([local])), to84(holes), frame,
                 MultiPolygon([local]), holes, outer, sprayable)


# A kite of 4.4 ha with a 5.7 m hole, found on CI: the heading search's best estimate ran
# 4–7° off two edges, the passes added under them sprayed over regular ones, and the field got
# 106.6 % of its liquid (CV 19 %); the laid passes' time now picks an edge direction (100.7 %).
KITE_WITH_HOLE = Polygon(
    [(150.0, 0.0), (-29.263548302419228, 147.11779206048456),
     (-147.11779206048456, -29.263548302419252), (57.4025148547635, -138.58192987669298)],
    [[(9.0, 1.0), (5.0, 5.0), (1.0, 1.0000000000000004), (4.999999999999999, -3.0)]])


# Found in a sweep of 80 random fields: a square of 6.7 ha whose top edge runs 4.5° off the
# passes: the fill passes laid along it 1.8 m and 2.7 m from regular ones sprayed strips
# twice (liquid 102.5 %, 1.7 % above 1.5×, CV 12.9 %); now only passes that fill more than
# they spray twice are added (100.1 %, 0 %, 7.0 %).
SQUARE_UNDER_SLANT = Polygon(
    [(164.95457815897964, 8.17886466468868), (-10.90515288625156, 219.93943754530622),
     (-164.95457815897964, -8.17886466468866), (9.295840775117105, -187.48219423567843)])
# A hexagon of 5.7 ha with a square hole 20 m across: the wedges beside the pass ends left 1.05 % of it
# unsprayed at the fastest heading (coverage 98.95 %); the planner now takes a heading among
# the few laid whose passes miss less than 1 % (99.13 %, 2 % slower).
SMALL_HEXAGON = Polygon(
    [(75.58104649983059, 129.5666060757572), (-34.17332119660459, 146.0554145466497),
     (-143.57435995596816, 43.432742985380095), (-109.40103875936362, -102.62267156126963),
     (11.474801431209816, -149.56045243350366), (143.57435995596816, -43.43274298538018)],
    [[(-13.82438026353004, 0.12692009508590188), (-0.12692009508590885, -13.82438026353004),
      (13.82438026353004, -0.1269200950859097), (0.12692009508591054, 13.82438026353004)]])


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(local_fields())
@example(KITE_WITH_HOLE)
@example(SQUARE_UNDER_SLANT)
@example(SMALL_HEXAGON)
def test_random_fields_meet_dose_goals(local):
    """On random fields with holes at the t30's 9 m swath, each pass flown at the height of
    its spacing, every goal: liquid within 2 % of rate × area, >= 90 % of the area within
    ±10 % of the rate, <= 1 % above 1.5×, CV <= 10 %, coverage >= 99 %.

    Measured on 80 fields of this strategy (hypothesis seed 1234, derandomized, 4.5–35 ha),
    each through ``_dose(field, 9.0)``: all 80 meet every goal; worst liquid 100.33 %,
    ±10 % 98.0 %, above 1.5× 0.15 %, CV 9.3 %, coverage 99.13 % (72 of 80 before fill
    passes had to fill more than they spray twice and before the heading's coverage was
    weighed: worst liquid 102.5 %, CV 12.9 %, above 1.5× 1.7 %, coverage 98.92 %). Three
    more sweeps of 80 (seeds 7, 11, 13, not derandomized) meet every goal too, with less
    room: worst CV 9.95 %, coverage 99.06 %, liquid 100.48 %."""
    field = _field(local)
    coverage, dose = _dose(field, 9.0)
    goals = _goals(coverage, dose.metrics)
    assert all(goals.values()), (goals, coverage.metrics, dose.metrics)


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(local_fields())
def test_random_fields_dose_no_worse_than_squeezed_passes(local):
    """A profile without limits (one height, passes one swath wide): even spacing keeps
    coverage >= 99 % and never sprays more liquid, or more area above 1.5×, than passes one
    swath apart with a squeezed last pass."""
    field = _field(local)
    coverage, dose = _dose(field, 9.0, heights=False)
    _, before = _dose(field, 9.0, even=False, heights=False)
    assert coverage.metrics.coverage_pct >= 99.0
    m, b = dose.metrics, before.metrics
    assert m.liquid_vs_target_pct <= b.liquid_vs_target_pct + 0.01, (m, b)
    assert m.above_150_pct <= b.above_150_pct + 0.1, (m, b)
    assert np.isfinite(m.cv_pct)

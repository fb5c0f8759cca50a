"""Spray height follows the pass spacing (issue 13.1): each pass is flown where the drone's
effective swath (its limits table) equals its spacing, plan.json carries the height, and the
mission builders fly it, with an altitude change only where the height changes."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from agridrone.cli import main
from agridrone.drone import OperatingLimits, load_drone
from agridrone.spray_height import height_for_swath, pass_heights, swath_range_m
from missions.mission import CMD_NAV_WAYPOINT, build_mission, pump_state

T30 = load_drone("agras-t30")


@settings(max_examples=50, deadline=None)
@given(st.floats(4.0, 9.0))
def test_height_for_swath_inverts_the_limits_table(swath):
    height = height_for_swath(T30.limits, swath)
    assert 1.5 <= height <= 3.0
    assert T30.limits.swath_at(height) == pytest.approx(swath, abs=0.04)  # heights in cm


def test_heights_are_clamped_to_the_table_and_the_height_limit():
    limits = OperatingLimits(2.5, 7.0, 6.0, ((1.0, 3.0), (2.0, 6.0), (4.0, 10.0)))
    assert height_for_swath(limits, 2.0) == 1.0  # narrower than the table: its lowest height
    assert height_for_swath(limits, 12.0) == 2.5  # wider: capped by max_spray_height_m
    assert height_for_swath(limits, 8.0) == 2.5
    assert swath_range_m(limits) == (3.0, pytest.approx(7.0))


def test_a_profile_without_limits_flies_every_pass_at_the_plans_height():
    from dataclasses import replace
    plain = replace(T30, limits=None)
    np.testing.assert_array_equal(pass_heights(plain, np.array([8.3, 9.0]), 3.0), [3.0, 3.0])


@pytest.fixture(scope="module")
def irregular_plan(tmp_path_factory):
    out = tmp_path_factory.mktemp("heights")
    result = CliRunner().invoke(main, ["plan", "example:faisalabad_irregular", "-o", str(out)])
    assert result.exit_code == 0, result.output
    return json.loads((out / "plan.json").read_text())


def test_spray_legs_fly_where_the_swath_equals_their_spacing(irregular_plan):
    limits = T30.limits
    spray = [leg for s in irregular_plan["sorties"] for leg in s["legs"] if leg["kind"] == "spray"]
    assert spray
    for leg in spray:
        assert limits.swath_at(leg["alt_m"]) == pytest.approx(leg["spacing_m"], abs=0.04)
    assert all(leg["spacing_m"] <= irregular_plan["inputs"]["swath_width_m"] + 1e-9 for leg in spray)


@pytest.mark.parametrize("autopilot", ["ardupilot", "px4"])
def test_missions_fly_each_pass_at_its_height_changing_only_where_it_changes(
        irregular_plan, autopilot):
    plan = irregular_plan
    for index, sortie in enumerate(plan["sorties"], start=1):
        items = [it for part in build_mission(plan, index, autopilot=autopilot) for it in part]
        heights = {round(leg["alt_m"], 2) for leg in sortie["legs"] if leg["kind"] == "spray"}
        pumping = False
        flown: list[float] = []
        for it in items:
            state = pump_state(it)
            if state is not None:
                pumping = state
            elif it.command == CMD_NAV_WAYPOINT and pumping:
                flown.append(round(it.z, 2))
        assert set(flown) <= heights and flown  # every spray waypoint at a planned height
        waypoints = [it for it in items if it.command == CMD_NAV_WAYPOINT]
        # an item whose only change is altitude appears only where the height changes
        for a, b in zip(waypoints, waypoints[1:], strict=False):
            if (a.x, a.y) == (b.x, b.y):
                assert a.z != b.z

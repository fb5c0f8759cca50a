"""Mission builders for ArduPilot Copter and PX4: item layout, pump on/off, altitude frames,
splitting at --max-items, and spray recovered from the items alone."""

from __future__ import annotations

import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, shape
from test_mission_helpers import SWATH_M, holed_plan, rectangle_plan

from agridrone.errors import AgridroneError
from agridrone.geo import LocalFrame
from missions.mission import (
    CMD_DO_CHANGE_SPEED,
    CMD_DO_SET_ACTUATOR,
    CMD_DO_SPRAYER,
    CMD_NAV_LAND,
    CMD_NAV_RETURN_TO_LAUNCH,
    CMD_NAV_TAKEOFF,
    CMD_NAV_WAYPOINT,
    FRAME_GLOBAL,
    FRAME_GLOBAL_RELATIVE_ALT_INT,
    FRAME_GLOBAL_TERRAIN_ALT_INT,
    FRAME_MISSION,
    build_mission,
    mission_summary,
    mission_warnings,
    pump_state,
    spray_lines_from_items,
    to_int7,
)

PLANS = {"rectangle": rectangle_plan(), "holed": holed_plan()}
SAME_SPEED = rectangle_plan(speed=5.0, transit_speed=5.0)


def _station(plan):
    lon, lat = plan["station"]
    return to_int7(lat), to_int7(lon)


def _rounded(coords):
    return [[to_int7(lon) / 1e7, to_int7(lat) / 1e7] for lon, lat in coords]


def test_ardupilot_mission_is_home_takeoff_speed_passes_and_rtl():
    items = build_mission(SAME_SPEED, 1, autopilot="ardupilot")[0]
    home, takeoff, speed = items[:3]
    assert (home.seq, home.command, home.frame, (home.x, home.y)) == (
        0, CMD_NAV_WAYPOINT, FRAME_GLOBAL, _station(SAME_SPEED))
    assert takeoff.command == CMD_NAV_TAKEOFF and takeoff.frame == FRAME_GLOBAL_RELATIVE_ALT_INT
    assert takeoff.z == SAME_SPEED["inputs"]["alt_m"]
    assert speed.command == CMD_DO_CHANGE_SPEED and speed.param2 == SAME_SPEED["inputs"]["speed_m_s"]
    assert [it.seq for it in items] == list(range(len(items)))
    # each spray leg: waypoint at its start, sprayer on, waypoint at its end, sprayer off
    for i, item in enumerate(items):
        if item.command == CMD_DO_SPRAYER and item.param1 == 1.0:
            before, after, off = items[i - 1], items[i + 1], items[i + 2]
            assert before.command == after.command == CMD_NAV_WAYPOINT
            assert off.command == CMD_DO_SPRAYER and off.param1 == 0.0
    assert items[-1].command == CMD_NAV_RETURN_TO_LAUNCH and items[-1].frame == FRAME_MISSION
    assert items[-2].command == CMD_DO_SPRAYER and items[-2].param1 == 0.0
    assert not {CMD_DO_SET_ACTUATOR} & {it.command for it in items}


def test_px4_mission_has_no_home_and_switches_the_pump_with_do_set_actuator():
    plan = PLANS["holed"]
    items = build_mission(plan, 2, autopilot="px4", end="land")[0]
    assert items[0].command == CMD_NAV_TAKEOFF and (items[0].x, items[0].y) == _station(plan)
    commands = {it.command for it in items}
    assert CMD_DO_SPRAYER not in commands and CMD_DO_SET_ACTUATOR in commands
    pump = [it for it in items if it.command == CMD_DO_SET_ACTUATOR]
    inputs = plan["inputs"]
    flow = plan["rate_l_ha"] * inputs["swath_width_m"] * inputs["speed_m_s"] * 60 / 10_000
    on = 2 * flow / plan["drone"]["pump_max_l_min"] - 1  # PX4 maps -1..1 onto min..max PWM
    assert sorted({it.param1 for it in pump}) == pytest.approx(sorted({on, -1.0}))
    assert all((it.param2, it.param3, it.param4, it.x, it.y, it.z) == (-1, -1, -1, 0, 0, 0)
               for it in pump)  # PX4 copies params 2-6 to Actuator Set 2-6; z = index 0
    for item in items:
        if item.command in (CMD_DO_SET_ACTUATOR, CMD_DO_CHANGE_SPEED, CMD_NAV_RETURN_TO_LAUNCH):
            assert item.frame == FRAME_MISSION  # PX4 refuses DO/RTL items in frame 6
        else:
            assert item.frame == FRAME_GLOBAL_RELATIVE_ALT_INT
    land = items[-1]
    assert land.command == CMD_NAV_LAND and (land.x, land.y) == _station(plan) and land.z == 0.0
    assert pump_state(items[-2]) is False


def test_px4_refuses_the_terrain_frame_with_a_message_that_says_so():
    with pytest.raises(AgridroneError, match="PX4 has no terrain"):
        build_mission(PLANS["rectangle"], 1, autopilot="px4", alt_frame="terrain")


def test_ardupilot_terrain_frame_is_used_and_warned_about():
    items = build_mission(PLANS["rectangle"], 1, autopilot="ardupilot", alt_frame="terrain")[0]
    positioned = [it for it in items[1:] if it.command in (CMD_NAV_WAYPOINT, CMD_NAV_TAKEOFF)]
    assert {it.frame for it in positioned} == {FRAME_GLOBAL_TERRAIN_ALT_INT}
    (warning,) = mission_warnings("ardupilot", "terrain")
    assert "refuses to arm" in warning and "rangefinder" in warning
    assert mission_warnings("ardupilot", "relative") == []


@pytest.mark.parametrize("autopilot", ["ardupilot", "px4"])
@pytest.mark.parametrize("name", sorted(PLANS))
def test_pump_is_off_on_every_transit_leg_and_before_the_end(autopilot, name):
    plan = PLANS[name]
    for index in range(1, len(plan["sorties"]) + 1):
        items = build_mission(plan, index, autopilot=autopilot, transit_alt_m=8.0)[0]
        on = False
        for item in items:
            state = pump_state(item)
            if state is not None:
                on = state
            elif item.command == CMD_NAV_WAYPOINT and item.z == 8.0:
                assert not on, f"pump on while flying to transit waypoint {item.seq}"
            elif item.command in (CMD_NAV_RETURN_TO_LAUNCH, CMD_NAV_LAND):
                assert not on and pump_state(items[item.seq - 1]) is False


@pytest.mark.parametrize("autopilot", ["ardupilot", "px4"])
@pytest.mark.parametrize("name", sorted(PLANS))
def test_spray_lines_from_items_are_the_spray_legs(autopilot, name):
    plan = PLANS[name]
    for index, sortie in enumerate(plan["sorties"], start=1):
        items = build_mission(plan, index, autopilot=autopilot)[0]
        expected = [_rounded(leg["coords"]) for leg in sortie["legs"] if leg["kind"] == "spray"]
        assert spray_lines_from_items(items) == expected


@pytest.mark.parametrize("autopilot", ["ardupilot", "px4"])
@pytest.mark.parametrize("name", sorted(PLANS))
def test_coverage_from_items_matches_coverage_from_the_plan(autopilot, name):
    plan = PLANS[name]
    frame = LocalFrame(plan["frame"]["lon_0"], plan["frame"]["lat_0"])
    field = frame.geometry_to_local(shape(plan["field"]))
    sprayable = field.difference(frame.geometry_to_local(shape(plan["no_spray"])))

    def coverage_pct(lines):
        swaths = [LineString(frame.to_local(line)).buffer(SWATH_M / 2, cap_style="flat")
                  for line in lines]
        return 100 * shapely.union_all(swaths).intersection(sprayable).area / sprayable.area

    planned = [leg["coords"] for s in plan["sorties"] for leg in s["legs"] if leg["kind"] == "spray"]
    flown = [line for i in range(1, len(plan["sorties"]) + 1)
             for line in spray_lines_from_items(build_mission(plan, i, autopilot=autopilot)[0])]
    assert coverage_pct(planned) > 80
    assert abs(coverage_pct(flown) - coverage_pct(planned)) < 0.1


def _positions(items):
    return [(it.x, it.y, it.z) for it in items if it.command == CMD_NAV_WAYPOINT and it.seq > 0]


@settings(max_examples=15, deadline=None)
@given(limit=st.integers(min_value=14, max_value=80),
       autopilot=st.sampled_from(["ardupilot", "px4"]), end=st.sampled_from(["rtl", "land"]))
def test_split_at_max_items_keeps_every_leg_and_resumes_where_the_last_part_stopped(
        limit, autopilot, end):
    plan = PLANS["holed"]
    whole = build_mission(plan, 1, autopilot=autopilot, end=end, max_items=10_000)
    assert len(whole) == 1
    parts = build_mission(plan, 1, autopilot=autopilot, end=end, max_items=limit)
    assert all(len(part) <= limit for part in parts)
    assert len(parts) >= -(-len(whole[0]) // limit)
    for part in parts:
        first = part[1] if autopilot == "ardupilot" else part[0]
        assert first.command == CMD_NAV_TAKEOFF
        assert part[-1].command == (CMD_NAV_RETURN_TO_LAUNCH if end == "rtl" else CMD_NAV_LAND)
    assert [line for p in parts for line in spray_lines_from_items(p)] == \
        spray_lines_from_items(whole[0])
    station = _station(plan)
    for before, after in zip(parts, parts[1:], strict=False):
        stopped = [p for p in _positions(before) if p[:2] != station][-1]
        resumed = _positions(after)[0]
        assert resumed[:2] == stopped[:2]
    flown = [p[:2] for part in parts for p in _positions(part)]
    assert all(p[:2] in flown for p in _positions(whole[0]))


def test_default_item_limits_and_a_limit_too_small_for_one_leg():
    plan = PLANS["rectangle"]
    assert len(build_mission(plan, 1, autopilot="ardupilot")) == 1
    with pytest.raises(AgridroneError, match="max-items"):
        build_mission(plan, 1, autopilot="ardupilot", max_items=6)


def test_bad_options_are_refused_with_a_message():
    plan = PLANS["rectangle"]
    with pytest.raises(AgridroneError, match="no sortie 99"):
        build_mission(plan, 99, autopilot="px4")
    with pytest.raises(AgridroneError, match="unknown autopilot"):
        build_mission(plan, 1, autopilot="inav")
    with pytest.raises(AgridroneError, match="rtl or land"):
        build_mission(plan, 1, autopilot="px4", end="loiter")


def test_summary_counts_spray_legs_and_distance():
    plan = PLANS["rectangle"]
    items = build_mission(plan, 1, autopilot="ardupilot")[0]
    summary = mission_summary(items)
    spray_legs = [leg for leg in plan["sorties"][0]["legs"] if leg["kind"] == "spray"]
    frame = LocalFrame(plan["frame"]["lon_0"], plan["frame"]["lat_0"])
    sprayed = sum(LineString(frame.to_local(leg["coords"])).length for leg in spray_legs)
    assert summary.spray_legs == len(spray_legs)
    assert summary.spray_m == pytest.approx(sprayed, rel=1e-3)
    assert summary.distance_m > summary.spray_m
    assert summary.duration_s > summary.spray_m / plan["inputs"]["speed_m_s"]

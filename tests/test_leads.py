"""Lead-in and lead-out legs around every pass (issue 13.3): their length from the
autopilot's jerk-limited speed profile, their place (in line with the pass, inside the
fence, clear of no-spray zones, pump off), the mission items around them and the energy
the sortie splitter counts for them."""

from __future__ import annotations

import json

import numpy as np
import pytest
import shapely
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from shapely.geometry import LineString, MultiPolygon, Point

from agridrone.cli import main
from agridrone.coverage import CoverageOptions, lead_region, plan_coverage, transit_planner
from agridrone.coverage.leads import lead_lengths_m, px4_braking_distance_m, ramp_distance_m
from agridrone.field import Field
from agridrone.geo import LocalFrame
from agridrone.resume import field_from_plan
from missions.fence import build_fence
from missions.mission import (
    CMD_DO_CHANGE_SPEED,
    CMD_NAV_WAYPOINT,
    build_mission,
    pump_state,
    spray_lines_from_items,
    to_int7,
)
from tests.fieldgen import SAMPLE_FIELDS, local_fields

TOL_M = 0.05


def _integrated_ramp_m(v: float, a: float, j: float, dt: float = 1e-4) -> float:
    """Distance to reach speed v from rest, integrated step by step (trapezoids): jerk +j
    until the acceleration is a, none while held, -j once lowering the acceleration to 0
    would just reach v; stop when the acceleration is back at 0."""
    speed = accel = dist = 0.0
    falling = False
    while True:
        falling = falling or speed + accel * accel / (2 * j) >= v
        jerk = -j if falling else (j if accel < a else 0.0)
        new_accel = min(max(accel + jerk * dt, 0.0), a)
        new_speed = speed + 0.5 * (accel + new_accel) * dt
        dist += 0.5 * (speed + new_speed) * dt
        speed, accel = new_speed, new_accel
        if falling and accel <= 0.0:
            return dist


@pytest.mark.parametrize("v,a,j", [(5.0, 2.5, 1.0), (5.0, 3.0, 4.0), (7.0, 2.5, 5.0),
                                   (1.0, 2.5, 1.0)])
def test_ramp_distance_matches_a_step_by_step_integration(v, a, j):
    assert ramp_distance_m(v, a, j) == pytest.approx(_integrated_ramp_m(v, a, j), rel=2e-3)


def _px4_max_speed(jerk: float, accel: float, distance: float) -> float:
    """PX4 TrajMath computeMaxSpeedFromDistance with final speed 0, as PX4 writes it."""
    b = 4.0 * accel * accel / jerk
    c = -2.0 * accel * distance
    return 0.5 * (-b + (b * b - 4.0 * c) ** 0.5)


@pytest.mark.parametrize("v", [3.0, 5.0, 7.0])
def test_px4_lead_out_is_where_px4_still_commands_the_spray_speed(v):
    assert _px4_max_speed(4.0, 3.0, px4_braking_distance_m(v, 3.0, 4.0)) == pytest.approx(v)
    # and 6 m (the lead-in) would let PX4 command only 3 m/s at the pass end: measured on
    # PX4 SITL, 3.25 m/s within 3 m of the pass ends with 6 m lead-outs
    assert _px4_max_speed(4.0, 3.0, 6.0) == pytest.approx(3.0)


def test_lead_lengths_per_autopilot():
    assert lead_lengths_m("ardupilot", 5.0) == pytest.approx((11.18, 11.18), abs=0.01)
    assert lead_lengths_m("px4", 5.0) == pytest.approx((11.67, 11.67), abs=0.01)
    assert lead_lengths_m("px4", 7.0)[1] > lead_lengths_m("px4", 5.0)[1]


def _plan(tmp_path, name: str, *args: str, leads: bool | None = True) -> dict:
    """plan.json of sample field ``name`` planned with ``args``, ``--leads`` or
    ``--no-leads`` (None: the autopilot's default)."""
    path, excludes = SAMPLE_FIELDS[name]
    extra = [a for e in excludes for a in ("--exclude", str(e))]
    extra += [] if leads is None else ["--leads" if leads else "--no-leads"]
    result = CliRunner().invoke(main, ["plan", str(path), *extra, *args, "--no-isoxml",
                                       "-o", str(tmp_path)])
    assert result.exit_code == 0, result.output
    return json.loads((tmp_path / "plan.json").read_text())


@pytest.mark.parametrize("autopilot,expected", [("ardupilot", False), ("px4", True)])
def test_leads_are_on_by_default_for_px4_only(tmp_path, autopilot, expected):
    """PX4's pump runs at a constant rate, so its slow pass ends need leads; ArduPilot's
    sprayer follows ground speed (agridrone.coverage.leads, SITL figures there)."""
    plan = _plan(tmp_path, "lahore_rect_2ha", "--autopilot", autopilot, leads=None)
    assert plan["inputs"]["leads"] is expected
    kinds = {leg["kind"] for s in plan["sorties"] for leg in s["legs"]}
    assert ("lead" in kinds) is expected


def _legs(plan: dict) -> list[tuple[str, np.ndarray, dict]]:
    frame = LocalFrame(float(plan["frame"]["lon_0"]), float(plan["frame"]["lat_0"]))
    return [(leg["kind"], frame.to_local(np.asarray(leg["coords"], dtype=np.float64)), leg)
            for sortie in plan["sorties"] for leg in sortie["legs"]]


def _direction(xy: np.ndarray) -> np.ndarray:
    d = xy[-1] - xy[0]
    return d / np.hypot(*d)


@pytest.mark.parametrize("name", sorted(SAMPLE_FIELDS))
@pytest.mark.parametrize("autopilot", ["ardupilot", "px4"])
def test_every_pass_has_leads_in_line_inside_the_fence_and_clear_of_no_spray(
        tmp_path, name, autopilot):
    plan = _plan(tmp_path, name, "--autopilot", autopilot)
    legs = _legs(plan)
    field = field_from_plan(plan)
    longest = max(lead_lengths_m(autopilot, plan["inputs"]["speed_m_s"]))
    margin = plan["inputs"]["fence_margin_m"]
    allowed = field.outer_local.buffer(longest + TOL_M)
    keep_out = field.no_spray_local.buffer(1.0 - TOL_M)
    frame = field.frame
    fence = build_fence(plan, margin_m=plan["inputs"]["fence_margin_m"], autopilot=autopilot)
    vertices = [(it.y / 1e7, it.x / 1e7) for it in fence if it.command == 5001]
    inclusion = shapely.Polygon(frame.to_local(np.asarray(vertices)))
    leads = with_in = with_out = 0
    for k, (kind, xy, leg) in enumerate(legs):
        if kind == "lead":
            leads += 1
            assert len(xy) == 2 and 0.0 < np.hypot(*(xy[1] - xy[0])) <= longest + TOL_M
            line = LineString(xy)
            assert allowed.covers(line) and not line.intersects(keep_out)
            # the whole fence margin inside the inclusion fence (it grows by the leads' reach)
            assert inclusion.buffer(-margin + 2 * TOL_M).covers(line)
            assert leg["speed_m_s"] == plan["inputs"]["speed_m_s"]
        if kind != "spray" or len(xy) != 2:
            continue
        before, after = legs[k - 1], legs[k + 1]
        if before[0] == "lead" and before[2]["pass"] == leg["pass"]:
            with_in += 1
            assert np.hypot(*(before[1][-1] - xy[0])) <= TOL_M
            assert np.dot(_direction(before[1]), _direction(xy)) == pytest.approx(1.0, abs=1e-6)
        if after[0] == "lead" and after[2]["pass"] == leg["pass"]:
            with_out += 1
            assert np.hypot(*(after[1][0] - xy[-1])) <= TOL_M
            assert np.dot(_direction(after[1]), _direction(xy)) == pytest.approx(1.0, abs=1e-6)
    passes = sum(1 for kind, xy, _ in legs if kind == "spray" and len(xy) == 2)
    assert leads == with_in + with_out
    # most pass ends get their leads: not those ending at a no-spray zone's clearance or at
    # a breakpoint (a pass cut between sorties counts twice)
    assert with_in >= 0.7 * passes and with_out >= 0.7 * passes, (with_in, with_out, passes)


@pytest.mark.parametrize("autopilot", ["ardupilot", "px4"])
def test_mission_switches_the_pump_at_the_real_pass_ends_and_flies_leads_at_spray_speed(
        tmp_path, autopilot):
    plan = _plan(tmp_path, "lahore_rect_2ha", "--autopilot", autopilot)
    spray_speed = plan["inputs"]["speed_m_s"]
    items = build_mission(plan, 1, autopilot=autopilot)[0]
    planned = [leg["coords"] for leg in plan["sorties"][0]["legs"] if leg["kind"] == "spray"]
    # the pump runs on the passes only, from their first point to their last
    lines = spray_lines_from_items(items)
    assert len(lines) == len(planned)
    for line, leg in zip(lines, planned, strict=True):
        assert np.allclose(line, leg, atol=1e-7)
    legs = plan["sorties"][0]["legs"]
    lead_out_ends = {(to_int7(leg["coords"][-1][1]), to_int7(leg["coords"][-1][0]))
                     for k, leg in enumerate(legs)
                     if leg["kind"] == "lead" and k > 0 and legs[k - 1]["kind"] == "spray"}
    assert lead_out_ends
    speed = None
    followed = 0
    for k, item in enumerate(items):
        if item.command == CMD_DO_CHANGE_SPEED:
            speed = item.param2
        state = pump_state(item)
        if state:
            assert speed == spray_speed  # already at spray speed over the lead-in
        if state is False and items[k + 1].command == CMD_NAV_WAYPOINT \
                and (items[k + 1].x, items[k + 1].y) in lead_out_ends:
            followed += 1  # pump off at the pass end, then straight on at spray speed
            assert speed == spray_speed
    assert followed == len(lead_out_ends)


def test_leads_cost_energy_and_time_in_the_sorties(tmp_path):
    """The splitter flies every lead leg at the spray speed with the pump off: a sortie's
    time covers its spray, lead and transit lengths at their speeds, and its distance
    counts the leads."""
    plan = _plan(tmp_path, "lahore_rect_2ha")
    inputs = plan["inputs"]
    for sortie in plan["sorties"]:
        lengths = {"spray": 0.0, "lead": 0.0, "transit": 0.0}
        frame = LocalFrame(float(plan["frame"]["lon_0"]), float(plan["frame"]["lat_0"]))
        for leg in sortie["legs"]:
            xy = frame.to_local(np.asarray(leg["coords"], dtype=np.float64))
            lengths[leg["kind"]] += float(np.hypot(*np.diff(xy, axis=0).T).sum())
        assert lengths["lead"] > 0
        assert sortie["distance_m"] == pytest.approx(sum(lengths.values()), abs=0.5)
        level_s = ((lengths["spray"] + lengths["lead"]) / inputs["speed_m_s"]
                   + lengths["transit"] / inputs["transit_speed_m_s"])
        assert sortie["time_s"] >= level_s


def _random_field(local) -> Field:
    frame = LocalFrame(73.0, 31.0)
    outer = MultiPolygon([type(local)(local.exterior.coords)])
    holes = MultiPolygon([type(local)(r.coords) for r in local.interiors])
    to84 = frame.geometry_to_wgs84
    return Field("random", to84(MultiPolygon([local])), to84(holes), frame,
                 MultiPolygon([local]), holes, outer, MultiPolygon([local]))


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(local_fields())
def test_random_fields_leads_stay_in_their_region_and_the_route_is_continuous(local):
    field = _random_field(local)
    options = CoverageOptions(swath_m=9.0, lead_m=(6.04, 11.67))
    coverage = plan_coverage(field, options, None, transit_planner(field, 11.67))
    region = lead_region(field, 11.67).region.buffer(TOL_M)
    for a, b in zip(coverage.legs, coverage.legs[1:], strict=False):
        assert np.hypot(*(a.xy[-1] - b.xy[0])) <= 1e-6  # every leg starts where one ended
    leads = [leg for leg in coverage.legs if leg.kind == "lead"]
    assert leads
    for leg in leads:
        assert region.covers(LineString(leg.xy))
        assert not LineString(leg.xy).intersects(field.no_spray_local)
    for leg in coverage.legs:
        if leg.kind == "transit":  # turns and approaches stay clear of the holes too
            assert not LineString(leg.xy).intersects(field.no_spray_local.buffer(-TOL_M))
    assert not any(Point(p).within(field.no_spray_local) for leg in leads for p in leg.xy)


@pytest.mark.parametrize("name", ["sahiwal_L_with_obstacles", "faisalabad_irregular"])
def test_a_pass_cut_at_a_breakpoint_gets_a_lead_out_and_its_resumption_a_lead_in(tmp_path, name):
    """PX4 holds the pump's rate while it slows: the sortie that stops spraying inside a pass
    flies on along it, pump off, before it turns home, and the sortie that resumes there
    comes in along the pass over the sprayed part, so it crosses the breakpoint at speed."""
    plan = _plan(tmp_path, name, "--autopilot", "px4")
    frame = LocalFrame(float(plan["frame"]["lon_0"]), float(plan["frame"]["lat_0"]))
    lead_in_m, lead_out_m = lead_lengths_m("px4", plan["inputs"]["speed_m_s"])
    sorties = plan["sorties"]
    cut = 0
    for k, sortie in enumerate(sorties[:-1]):
        if sortie["breakpoint"] is None:
            continue
        cut += 1
        point = frame.to_local(np.asarray([sortie["breakpoint"]["point"]]))[0]
        legs = [(leg["kind"], frame.to_local(np.asarray(leg["coords"])), leg)
                for leg in sortie["legs"]]
        last = max(i for i, (kind, _, _) in enumerate(legs) if kind == "spray")
        kind, out, leg = legs[last + 1]
        assert kind == "lead" and leg["pass"] == sortie["breakpoint"]["pass"]
        assert np.hypot(*(out[0] - point)) <= TOL_M
        assert np.dot(_direction(out), _direction(legs[last][1])) == pytest.approx(1.0, abs=1e-6)
        assert 1.0 <= np.hypot(*(out[-1] - out[0])) <= lead_out_m + TOL_M
        assert legs[last + 2][0] == "transit"
        nxt = [(leg["kind"], frame.to_local(np.asarray(leg["coords"])), leg)
               for leg in sorties[k + 1]["legs"]]
        assert [kind for kind, _, _ in nxt[:3]] == ["transit", "lead", "spray"]
        lead_in, resumed = nxt[1][1], nxt[2][1]
        assert np.hypot(*(lead_in[-1] - point)) <= TOL_M
        assert np.hypot(*(resumed[0] - point)) <= TOL_M
        assert np.dot(_direction(lead_in), _direction(resumed)) == pytest.approx(1.0, abs=1e-6)
        assert 1.0 <= np.hypot(*(lead_in[-1] - lead_in[0])) <= lead_in_m + TOL_M
        # the lead-in runs back over the ground this pass already sprayed (or its own lead-in)
        flown = shapely.union_all([LineString(xy).buffer(TOL_M) for kind, xy, _ in legs
                                   if kind in ("spray", "lead")])
        assert flown.covers(LineString(lead_in))
        # the mission: the pump comes on at the breakpoint, already at the spray speed
        items = build_mission(plan, k + 2, autopilot="px4")[0]
        lines = spray_lines_from_items(items)
        planned = [leg["coords"] for leg in sorties[k + 1]["legs"] if leg["kind"] == "spray"]
        assert len(lines) == len(planned)
        assert np.allclose(lines[0], planned[0], atol=1e-7)
    assert cut >= 1

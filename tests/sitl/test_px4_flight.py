"""A whole sortie flown on a real PX4 SITL (SIH hexacopter, instance 2, 10x) by
``agridrone simulate PLAN --connect ADDR``, judged from PX4's own telemetry: coverage of the
sortie's planned footprint, no spray off the passes (pump off on every transit), and the dose
PX4 applied: pump PWM on SERVO_OUTPUT_RAW turned into flow by the pump's PWM-to-flow line,
over the ground speed PX4's positions give, against the plan's rate.

Skipped (with the reason shown) unless PX4_SITL names PX4's start script (run.sh)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import shapely
from click.testing import CliRunner
from shapely.geometry import LineString

from sitl.px4_fixtures import SPEED_FACTOR, px4_plan, script_or_skip, start_px4

SCRIPT = script_or_skip()

from agridrone.as_applied import as_applied, spray_width_m  # noqa: E402
from agridrone.cli import main  # noqa: E402
from agridrone.cli import simulate_run as simulate_module  # noqa: E402
from agridrone.resume import field_from_plan  # noqa: E402
from firmware_bridge.link import connect  # noqa: E402
from firmware_bridge.mission_protocol import download  # noqa: E402
from missions.fence import build_fence  # noqa: E402

MISSION_TYPE_FENCE = 1

INSTANCE = 2
PUMP_MIN_PWM, PUMP_MAX_PWM = 1000.0, 2000.0  # the pump: no flow at 1000 us, full at 2000 us
PASS_END_M = 15.0  # steady flight: further than this from a pass end
OFF_PASS_M = 2.0  # further than this from every pass line is off the passes (PX4 tracks to ~1.2 m)


@pytest.fixture(scope="module")
def px4_run(tmp_path_factory):
    """(plan of sortie 1, CLI result, sortie logs, the fence PX4 holds after the flight) of
    one sortie flown on PX4 SITL."""
    plan, folder = px4_plan(tmp_path_factory)
    one = {**plan, "sorties": plan["sorties"][:1]}
    path = folder / "sortie1.json"
    path.write_text(json.dumps(one))
    captured = []
    real = simulate_module.fly_plan

    def spy(plan_doc, options):
        flown = real(plan_doc, options)
        captured.extend(flown.logs)
        return flown

    with start_px4(SCRIPT, plan, INSTANCE, tmp_path_factory.mktemp("px4-flight")) as sitl, \
            pytest.MonkeyPatch.context() as patch:
        patch.setattr(simulate_module, "fly_plan", spy)
        result = CliRunner().invoke(main, ["simulate", str(path), "--connect", sitl.address,
                                           "--speedup", f"{SPEED_FACTOR:g}",
                                           "-o", str(folder / "applied")])
        link = connect(sitl.address, heartbeat_timeout_s=20.0)
        try:
            fence = download(link, mission_type=MISSION_TYPE_FENCE)
        finally:
            link.close()
    return one, result, captured, fence


@pytest.fixture(scope="module")
def flown(px4_run):
    """(plan of sortie 1, CLI result, sortie logs) of one sortie flown on PX4 SITL."""
    return px4_run[:3]


def test_simulate_loads_the_plans_geofence_that_gf_action_guards(px4_run):
    """simulate sets GF_ACTION on PX4, so it must load the fence polygons too (it did not: a
    flight that drifted 5 km on the bench met no fence)."""
    plan, result, _, fence = px4_run
    assert result.exit_code == 0, result.output
    wanted = build_fence(plan, margin_m=float(plan["inputs"]["fence_margin_m"]), autopilot="px4")
    assert [(it.command, it.x, it.y) for it in fence] == [(it.command, it.x, it.y)
                                                          for it in wanted]


def _spray_lines(plan: dict, sortie_index: int = 0) -> list[LineString]:
    """The spray legs (local m) of sortie ``sortie_index`` (0-based)."""
    frame = field_from_plan(plan).frame
    return [LineString(frame.to_local(np.asarray(leg["coords"], dtype=np.float64)))
            for leg in plan["sorties"][sortie_index]["legs"] if leg["kind"] == "spray"]


def _footprint(plan: dict, sortie_index: int, half_m: float):
    """The ground (local m) the spray legs of sortie ``sortie_index`` (0-based) cover."""
    return shapely.union_all([line.buffer(half_m, cap_style="flat")
                              for line in _spray_lines(plan, sortie_index)])


def _samples(plan: dict, log):
    """Per position interval: start xy (local m), duration (s), ground speed (m/s) and the
    pump PWM (µs) PX4 reported last before it."""
    pos = np.array(sorted(set(log.positions)), dtype=np.float64)
    pos = pos[np.concatenate(([True], np.diff(pos[:, 0]) > 0))]
    xy = field_from_plan(plan).frame.to_local(pos[:, [2, 1]])
    dt = np.diff(pos[:, 0])
    speed = np.hypot(*np.diff(xy, axis=0).T) / dt
    pump = np.array(sorted(log.pump), dtype=np.float64)
    index = np.clip(np.searchsorted(pump[:, 0], pos[:-1, 0], side="right") - 1, 0, None)
    pwm = PUMP_MIN_PWM + pump[index, 1] * (PUMP_MAX_PWM - PUMP_MIN_PWM)
    return xy[:-1], dt, speed, pwm


def test_simulate_learns_px4_and_flies_the_sortie_to_the_end(flown):
    _, result, logs = flown
    assert result.exit_code == 0, result.output
    assert "landed, mission complete" in result.output, result.output
    assert "sorties flown    1 of 1" in result.output
    assert len(logs) == 1 and logs[0].completed and logs[0].pump
    assert logs[0].start_retries == 0, logs[0].texts  # armed straight into item 0


def test_flown_sortie_covers_its_planned_footprint(flown):
    plan, _, logs = flown
    field = field_from_plan(plan)
    half = plan["inputs"]["swath_width_m"] / 2
    planned = shapely.intersection(_footprint(plan, 0, half), field.sprayable_local)
    applied = as_applied(logs, field, plan["inputs"]["swath_width_m"],
                         plan["drone"]["pump_max_l_min"])
    covered = shapely.intersection(applied.sprayed_area, planned).area / planned.area
    assert covered >= 0.95, f"{100 * covered:.1f} % of the sortie's planned footprint sprayed"


def test_pump_is_off_on_every_transit(flown):
    plan, _, logs = flown
    xy, _, _, pwm = _samples(plan, logs[0])
    passes = shapely.union_all(_spray_lines(plan))
    off_pass = shapely.distance(passes, shapely.points(xy)) > OFF_PASS_M
    assert off_pass.sum() > 100  # the take-off, every turn and the way home were seen
    assert np.all(pwm[off_pass] <= PUMP_MIN_PWM), "pump ran away from the passes"


def test_applied_dose_from_px4_telemetry_matches_the_plan(flown):
    plan, _, logs = flown
    xy, dt, speed, pwm = _samples(plan, logs[0])
    pump_max = plan["drone"]["pump_max_l_min"]
    flow = pump_max * np.clip((pwm - PUMP_MIN_PWM) / (PUMP_MAX_PWM - PUMP_MIN_PWM), 0, 1)
    ends = np.vstack([np.asarray(line.coords)[[0, -1]] for line in _spray_lines(plan)])
    to_end = np.min(np.hypot(*(xy[:, None, :] - ends[None, :, :]).transpose(2, 0, 1)), axis=1)
    steady = (flow > 0) & (to_end > PASS_END_M)
    swath_ha_per_m = spray_width_m(plan) / 10_000  # the spacing the pump is set for
    litres = np.sum(flow[steady] * dt[steady]) / 60
    rate = litres / (np.sum(speed[steady] * dt[steady]) * swath_ha_per_m)
    assert rate == pytest.approx(plan["rate_l_ha"], rel=0.10), \
        f"PX4 applied {rate:.2f} L/ha on the passes, the plan {plan['rate_l_ha']:g} L/ha"


# 11.7 m leads both ways (PX4's braking distance): 31.3 and 31.4 L for 30.0 planned in two
# runs on PX4 SITL (+4.4, +4.7 %; 31.6 L, +5.2 %, with the 6.0 m ramp as lead-in; 34.6 L,
# +15 %, without leads). The bound is 8 %: PX4 still flies the last metres of a pass at
# ~4.1 m/s with the pump set for 5, and a loaded machine's run varies by tenths of a litre.
def test_whole_sortie_dose_and_liquid_match_the_plan(flown):
    plan, _, logs = flown
    applied = as_applied(logs, field_from_plan(plan), plan["inputs"]["swath_width_m"],
                         plan["drone"]["pump_max_l_min"])
    planned = plan["sorties"][0]["liquid_l"]
    assert applied.liquid_l[0] == pytest.approx(planned, rel=0.08), \
        f"{applied.liquid_l[0]:.1f} L used, {planned:.1f} L planned"


def test_sortie_dose_from_px4_telemetry_is_within_10_pct_of_the_rate(flown, tmp_path_factory):
    """Issue 13.7's flight goal on PX4: >= 85 % of the ground sortie 1 sprays gets the rate
    within ±10 %, from PX4's own telemetry (pump output, where and how high it flew) through
    the plan's dose raster (agridrone.flown_dose). Judged: the sortie's planned footprint in
    the sprayable area less a swath beside sortie 2's (that strip gets its other half from
    sortie 2), pass ends at the field's edge included. The whole plan on the bench
    (bench/leadin_bench.py, four flights): 92.0-93.9 %; with PX4's generic gains 71-79 %."""
    import dataclasses

    from agridrone.field import as_multipolygon
    from agridrone.flown_dose import flown_dose
    from agridrone.resume import drone_from_plan

    plan, _, logs = flown
    full, _ = px4_plan(tmp_path_factory)  # the same plan, sortie 2 included
    swath = plan["inputs"]["swath_width_m"]
    field = field_from_plan(plan)
    others = shapely.union_all([_footprint(full, k, swath / 2)
                                for k in range(1, len(full["sorties"]))])
    own = shapely.intersection(_footprint(full, 0, swath / 2), field.sprayable_local)
    judged = as_multipolygon(own.difference(others.buffer(swath)))
    assert judged.area > 0.3 * field.sprayable_m2
    _, m = flown_dose(logs, dataclasses.replace(field, sprayable_local=judged),
                      drone_from_plan(plan), swath, plan["rate_l_ha"])
    assert m.within_10_pct >= 85.0, m

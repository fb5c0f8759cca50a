"""The whole 2 ha sample flown on real ArduPilot SITL started as the plan's drone (JSON frame
model, pack, sprayer, pump guard), then a sortie cut short by a real battery failsafe,
`agridrone resume` from what the vehicle reports, and the rest flown; and one sortie of
50 m passes (a strip at a 6 m swath), whose time and energy the planner's turn model sets.

Skipped (with the reason shown) unless ARDUPILOT_SITL names an ``arducopter`` binary.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from tests.sitl.ardupilot_required import binary_or_skip

BINARY = binary_or_skip("fly against")

from agridrone.cli import main  # noqa: E402
from agridrone.cli.simulate_run import SimulateOptions, simulate_plan  # noqa: E402
from agridrone.energy import TAKEOFF_SPOOL_S, TOUCHDOWN_S  # noqa: E402
from tests.sitl.flight_checks import (  # noqa: E402
    applied_of,
    make_plan,
    pass_end_gaps,
    start_sitl,
    stray,
)

FIELD = "agridrone/data/fields/lahore_rect_2ha.geojson"
FORCED_LOW_MAH = 19000.0  # BATT_LOW_MAH: the low failsafe fires after 10 of 29 Ah
STRIP_M = (300.0, 50.0)  # east-west, north-south extent of the short-pass strip


@pytest.fixture(scope="module")
def planned(tmp_path_factory):
    # 20 L/ha: 40 L, two sorties of the 30 L tank, so a battery swap is flown too
    return make_plan(tmp_path_factory.mktemp("plan"), FIELD, "--rate", "20")


@pytest.fixture(scope="module")
def sitl(planned, tmp_path_factory):
    with start_sitl(BINARY, planned[1], tmp_path_factory.mktemp("sitl")) as running:
        yield running


@pytest.fixture(scope="module")
def flown(planned, sitl):
    return simulate_plan(planned[1], SimulateOptions(connect=sitl.address,
                                                     heartbeat_timeout_s=30.0))


@pytest.fixture(scope="module")
def short_passes(planned, sitl, tmp_path_factory):
    """A 1.5 ha strip beside the 2 ha sample, passes across it (50 m) at a 6 m swath, 40 L/ha
    so that its first sortie carries a full tank (SITL's frame holds a full tank's mass and
    a half tank's hover power, sim/sitl_frame.py, so only a full-tank sortie compares
    straight), from the same station; that sortie flown on the same SITL."""
    import math

    folder = tmp_path_factory.mktemp("strip")
    lon, lat = planned[1]["station"]
    dlon = STRIP_M[0] / (111320.0 * math.cos(math.radians(lat)))
    dlat = STRIP_M[1] / 110900.0
    ring = [[lon, lat], [lon + dlon, lat], [lon + dlon, lat + dlat], [lon, lat + dlat], [lon, lat]]
    field = folder / "strip.geojson"
    field.write_text(json.dumps({"type": "Feature", "properties": {},
                                 "geometry": {"type": "Polygon", "coordinates": [ring]}}))
    _, plan = make_plan(folder / "plan", str(field), "--swath-width", "6", "--heading", "0",
                        "--rate", "40", "--home", f"{lat},{lon}")
    plan = {**plan, "sorties": plan["sorties"][:1]}
    return plan, simulate_plan(plan, SimulateOptions(connect=sitl.address,
                                                     heartbeat_timeout_s=30.0))


def test_short_pass_sortie_takes_the_time_and_energy_planned(short_passes):
    """The planner's S-curve turns, take-off and landing (agridrone.energy) against SITL's
    own flying of 50 m passes: airborne time and energy drawn (open-circuit, the pack's
    resistance added back, SITL's thinner air taken out) within 4 %. Measured: SITL 414.8 s
    and 863 Wh (852 at sea level), planned 402.7 s and 833 Wh (-2.9 %, -2.2 %); the full
    stops at 2 m/s² and the 1 s climb and descent it replaced planned +5.0 % and +5.6 %
    (the same strip from its own corner)."""
    import numpy as np

    from agridrone.energy import EnergyModel
    from agridrone.resume import drone_from_plan
    from sim.sitl_frame import equivalent_hover_power_w
    from tests.sitl.flight_checks import HOME_AMSL_M

    plan, (log,) = short_passes
    assert log.completed and not log.failsafe, log.texts[-5:]
    sortie = plan["sorties"][0]
    assert sortie["load_l"] == pytest.approx(plan["drone"]["tank_l"])
    assert sum(leg["kind"] == "spray" for leg in sortie["legs"]) >= 20
    heights = np.array(sorted(set(log.positions)))[:, [0, 3]]
    airborne = heights[heights[:, 1] > 0.3, 0]
    flown_s = float(airborne[-1] - airborne[0])
    model = EnergyModel.for_drone(drone_from_plan(plan), float(plan["inputs"]["temp_c"]))
    planned_air_s = sortie["time_s"] - TAKEOFF_SPOOL_S - TOUCHDOWN_S  # on the ground
    assert planned_air_s == pytest.approx(flown_s, rel=0.04), (planned_air_s, flown_s)
    # SITL's frame is made for the station's 215 m (thinner air: 1.3 % more hover power), the
    # plan for sea level
    drone = drone_from_plan(plan)
    temp_c = float(plan["inputs"]["temp_c"])
    thin_air = (equivalent_hover_power_w(drone, temp_c, HOME_AMSL_M)
                / equivalent_hover_power_w(drone, temp_c, 0.0))
    drawn = log.energy_wh(model.resistance_ohm) / thin_air
    assert sortie["energy_wh"] == pytest.approx(drawn, rel=0.04), (sortie["energy_wh"], drawn)


def test_every_sortie_lands_complete_without_a_failsafe(planned, flown):
    plan = planned[1]
    assert [log.sortie for log in flown] == list(range(1, len(plan["sorties"]) + 1))
    assert all(log.completed and not log.failsafe for log in flown), [
        (log.sortie, log.texts[-5:]) for log in flown]


def test_coverage_from_sitl_telemetry(planned, flown):
    plan = planned[1]
    assert applied_of(plan, flown).metrics.coverage_pct >= 98.0
    where = stray(plan, flown)
    assert where.outside_field_m <= 1.0  # the footprint reaches at most half a swath out
    assert where.off_spray_legs_m <= 3.0  # pump off on every transit and the return


def test_as_applied_dose_and_spray_height_from_sitl_telemetry(planned, flown):
    """Issue 13: the dose from SITL's own telemetry (pump output from SERVO_OUTPUT_RAW, where
    and how high it flew) through the plan's dose raster: >= 85 % of the sprayable area
    within ±10 % of the rate (13.7's flight goal), and the pump ran at the height the plan
    gives each pass (where the t30's swath equals its spacing)."""
    import numpy as np

    from agridrone.flown_dose import flown_dose
    from agridrone.resume import drone_from_plan, field_from_plan

    plan = planned[1]
    _, m = flown_dose(flown, field_from_plan(plan), drone_from_plan(plan),
                      plan["inputs"]["swath_width_m"], plan["rate_l_ha"])
    assert m.within_10_pct >= 85.0, m  # measured 96.6 % (CV 9.4 %, 0.07 % above 1.5×)
    heights = {leg["alt_m"] for s in plan["sorties"] for leg in s["legs"] if leg["kind"] == "spray"}
    assert heights and max(heights) < plan["inputs"]["alt_m"]  # lower than the 3 m asked
    on = []
    for log in flown:
        pump = np.array(log.pump, dtype=np.float64).reshape(-1, 2)
        for t, _, _, h in log.positions:
            k = np.searchsorted(pump[:, 0], t, side="right") - 1
            if k >= 0 and pump[k, 1] > 0:
                on.append(h)
    assert abs(float(np.median(on)) - float(np.median(sorted(heights)))) <= 0.3, (
        np.median(on), heights)


def test_pass_ends_get_the_dose_on_ardupilot_without_leads(planned, flown):
    """Issue 13.3 on SITL's telemetry: ArduPilot plans fly no lead legs by default, as its
    sprayer follows ground speed: the pump comes on within a metre or two of each pass
    start (AC_Sprayer's 3 Hz update while the vehicle still accelerates) and stays on to
    the pass end. With leads the vehicle crosses the start at full speed and the same latency
    leaves ~2.5 m unsprayed (bench/leadin_bench.py)."""
    import numpy as np

    plan = planned[1]
    assert plan["inputs"]["leads"] is False
    assert not any(leg["kind"] == "lead" for s in plan["sorties"] for leg in s["legs"])
    starts, ends = pass_end_gaps(plan, flown)
    assert len(starts) == sum(leg["kind"] == "spray" for s in plan["sorties"] for leg in s["legs"])
    # measured (bench/leadin_bench.py, every sortie at 15 L/ha): median 0.58 m, at most 1.08 m
    assert float(np.median(starts)) <= 1.5 and float(starts.max()) <= 2.5, starts
    assert float(np.median(ends)) <= 0.3 and float(ends.max()) <= 1.0, ends


def test_every_landing_keeps_the_planned_reserve(planned, flown):
    plan = planned[1]
    reserve = plan["drone"]["battery"]["reserve_pct"]
    for log, sortie in zip(flown, plan["sorties"], strict=True):
        assert log.remaining_pct() >= reserve
        # SITL's coulomb counter against the plan's landing charge: same physics inputs,
        # ArduPilot's own flying (tilt, drag, its landing) within 8 % of capacity
        assert log.remaining_pct() == pytest.approx(sortie["soc_landing_pct"], abs=8.0)


def test_planned_energy_against_what_sitl_drew(planned, flown):
    plan = planned[1]
    drawn = sum(log.energy_wh() for log in flown)
    planned_wh = sum(s["energy_wh"] for s in plan["sorties"])
    assert drawn == pytest.approx(planned_wh, rel=0.12)


def test_battery_failsafe_cuts_a_sortie_then_resume_covers_the_rest(planned, sitl, flown,
                                                                      tmp_path):
    plan_path, plan = planned
    one = {**plan, "sorties": plan["sorties"][:1]}
    cut = simulate_plan(one, SimulateOptions(connect=sitl.address, heartbeat_timeout_s=30.0,
                                             params={"BATT_LOW_MAH": FORCED_LOW_MAH}))
    log = cut[0]
    assert not log.completed and log.failsafe
    assert log.pump_off_delay_s() is not None and log.pump_off_delay_s() <= 1.0
    assert stray(plan, cut).off_spray_legs_m <= 3.0  # the RTL home sprayed nothing

    runner = CliRunner()
    result = runner.invoke(main, ["resume", str(plan_path), "--sortie", "1", "--connect",
                                  sitl.address, "-o", str(tmp_path / "rest")])
    assert result.exit_code == 0, result.output
    rest = json.loads((tmp_path / "rest" / "plan.json").read_text())
    rest_logs = simulate_plan(rest, SimulateOptions(connect=sitl.address,
                                                    heartbeat_timeout_s=30.0))
    assert all(log.completed for log in rest_logs)
    assert applied_of(plan, cut + rest_logs).metrics.coverage_pct >= 98.0


def test_built_in_vehicle_agrees_with_sitl(planned, flown, tmp_path):
    """The built-in simulator's pack (its own physics, SITL's airframe) against SITL's:
    energy per sortie within 10 %, the same landing charge within 5 % of capacity (SITL's
    controllers fly the corners more slowly than the built-in vehicle's)."""
    plan_path, plan = planned
    # the built-in vehicle in a process of its own (`agridrone simulate`, as an operator
    # runs it); its sortie 1 once logged 975 Wh here and 802 alone against SITL's 886: its
    # height hold chattered, a current swinging ±10 % each physics step that the 5 Hz
    # battery reports sampled in one phase (sim.flight.sqrt_controller now holds it still)
    result = subprocess.run(
        [sys.executable, "-c", "from agridrone.cli import main; main()", "simulate",
         str(plan_path), "--speedup", "100", "--json", "-o", str(tmp_path / "built-in")],
        capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr
    built_in = json.loads(result.stdout)["sorties"]
    assert len(built_in) == len(plan["sorties"])
    from agridrone.energy import EnergyModel
    from agridrone.resume import drone_from_plan

    # simulate's figure counts the pack's own losses (open-circuit voltage × current)
    resistance = EnergyModel.for_drone(drone_from_plan(plan),
                                       float(plan["inputs"]["temp_c"])).resistance_ohm
    for ours, sitls in zip(built_in, flown, strict=True):
        assert ours["energy_wh"] == pytest.approx(sitls.energy_wh(resistance), rel=0.10)
        assert ours["landing_soc_pct"] == pytest.approx(sitls.remaining_pct(), abs=5)

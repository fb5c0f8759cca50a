"""Sortie splitting: reserve, cut-off, tank, breakpoints, station choice."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agridrone.drone import load_drone
from agridrone.energy import EnergyModel
from agridrone.errors import AgridroneError
from agridrone.route import Leg, spray_length_m
from agridrone.sorties import choose_station, cut_polyline, rehome_route, split_sorties

PRESETS = ["agras-t10", "agras-t30", "agras-t40"]
ALT_M = 3.0
TRANSIT_M_S = 8.0


def boustrophedon(width: float, height: float, swath: float, shear: float, station) -> list[Leg]:
    """Back-and-forth route over a parallelogram: passes along x spaced one swath apart, the
    x-offset of a pass growing by ``shear`` per metre of y; from the station and back to it."""
    station = np.asarray(station, dtype=np.float64)
    legs: list[Leg] = []
    here = station
    for k, y in enumerate(np.arange(swath / 2, height, swath)):
        a, b = np.array([shear * y, y]), np.array([shear * y + width, y])
        if k % 2:
            a, b = b, a
        legs.append(Leg("transit", np.array([here, a])))
        legs.append(Leg("spray", np.array([a, b]), k))
        here = b
    legs.append(Leg("transit", np.array([here, station])))
    return legs


def spray_speed(drone, rate: float, swath: float) -> float:
    """6 m/s, or slower if the pump cannot keep up."""
    limit = drone.pump_max_l_min * 10000.0 / (rate * swath * 60.0)
    return min(6.0, math.floor(limit * 100) / 100)


def split(legs, station, drone, rate, **kw):
    swath = drone.swath_width_m
    return split_sorties(legs, station, drone, rate_l_ha=rate, swath_m=swath,
                         speed_m_s=spray_speed(drone, rate, swath), transit_speed_m_s=TRANSIT_M_S,
                         alt_m=ALT_M, **kw)


def refly(sortie, drone, liquid_l, speed, lpm, temp_c=25.0):
    """Fly a sortie's legs again through the energy model, from a full battery."""
    model = EnergyModel.for_drone(drone, temp_c)
    state = model.fly(model.start(liquid_l), model.takeoff(ALT_M))
    for leg in sortie.legs:
        if leg.kind == "spray":
            state = model.fly(state, model.leg(leg.xy, speed, lpm, True))
        else:
            state = model.fly(state, model.leg(leg.xy, TRANSIT_M_S, 0.0, False))
    return model, model.fly(state, model.landing(ALT_M))


fields = st.fixed_dictionaries({
    "width": st.floats(30.0, 700.0),
    "height": st.floats(20.0, 500.0),
    "shear": st.floats(-0.6, 0.6),
    "station": st.tuples(st.floats(-150.0, 0.0), st.floats(-150.0, 0.0)),
})


@settings(max_examples=40, deadline=None)
@given(field=fields, preset=st.sampled_from(PRESETS), rate=st.floats(10.0, 40.0),
       temp_c=st.sampled_from([5.0, 25.0, 40.0]))
def test_sorties_keep_reserve_cutoff_tank_and_spray_everything(field, preset, rate, temp_c):
    drone = load_drone(preset)
    swath = drone.swath_width_m
    legs = boustrophedon(field["width"], field["height"], swath, field["shear"], field["station"])
    plan = split(legs, field["station"], drone, rate, temp_c=temp_c)
    bat = drone.battery
    lpm = rate * swath / 10000.0
    speed = spray_speed(drone, rate, swath)
    station = np.array(field["station"])

    for s in plan.sorties:
        assert s.soc_landing_pct >= bat.reserve_pct - 1e-9
        assert s.min_cell_v >= bat.cutoff_v_per_cell - 1e-9
        assert 0.0 <= s.liquid_l <= s.load_l + 1e-9 <= drone.tank_l + 2e-9  # never below zero
        # station to station, legs joined end to start
        assert np.allclose(s.legs[0].xy[0], station) and np.allclose(s.legs[-1].xy[-1], station)
        for a, b in zip(s.legs[:-1], s.legs[1:], strict=True):
            assert np.allclose(a.xy[-1], b.xy[0])
        # flying the legs again with the load the walk chose gives the same landing
        model, landed = refly(s, drone, s.load_l, speed, lpm, temp_c)
        assert model.landed_ok(landed)
        assert 100 * model.soc(landed) == pytest.approx(s.soc_landing_pct, abs=1e-6)
        assert landed.energy_wh == pytest.approx(s.energy_wh, rel=1e-9)

    sprayed = sum(s.spray_m for s in plan.sorties)
    assert sprayed == pytest.approx(spray_length_m(legs), abs=0.5)
    assert plan.total_liquid_l == pytest.approx(spray_length_m(legs) * lpm, abs=0.5 * lpm)
    assert len(plan.sorties) >= math.ceil(plan.total_liquid_l / drone.tank_l - 1e-6)


@settings(max_examples=25, deadline=None)
@given(field=fields, preset=st.sampled_from(PRESETS), rate=st.floats(10.0, 40.0))
def test_breakpoint_resumes_exactly_where_spraying_stopped(field, preset, rate):
    drone = load_drone(preset)
    legs = boustrophedon(field["width"], field["height"], drone.swath_width_m, field["shear"], field["station"])
    plan = split(legs, field["station"], drone, rate)
    passes = {leg.pass_index: leg for leg in legs if leg.kind == "spray"}
    sprayed_per_pass = dict.fromkeys(passes, 0.0)
    for s in plan.sorties:
        for leg in s.legs:
            if leg.kind == "spray":
                sprayed_per_pass[leg.pass_index] += leg.length_m
    for k, leg in passes.items():  # no gap and no double spray in any pass
        assert sprayed_per_pass[k] == pytest.approx(leg.length_m, abs=1e-6)
    for s, nxt in zip(plan.sorties[:-1], plan.sorties[1:], strict=True):
        if s.breakpoint is None:
            continue
        first_spray = next(leg for leg in nxt.legs if leg.kind == "spray")
        assert first_spray.pass_index == s.breakpoint["pass"]
        assert np.allclose(first_spray.xy[0], s.breakpoint["xy"])
        last_spray = [leg for leg in s.legs if leg.kind == "spray"][-1]
        assert np.allclose(last_spray.xy[-1], s.breakpoint["xy"])
        # the next sortie goes straight from the station to the breakpoint
        assert nxt.legs[0].kind == "transit" and np.allclose(nxt.legs[0].xy[-1], s.breakpoint["xy"])
    assert plan.sorties[-1].breakpoint is None


def test_big_field_needs_many_sorties_and_counts_are_sane():
    drone = load_drone("agras-t30")
    legs = boustrophedon(600.0, 400.0, 9.0, 0.0, (-20.0, -20.0))
    plan = split(legs, (-20.0, -20.0), drone, 20.0)
    liquid_bound = math.ceil(plan.total_liquid_l / drone.tank_l)
    assert plan.total_liquid_l == pytest.approx(20.0 * 24.0, rel=0.05)  # ~24 ha at 20 L/ha
    assert plan.lower_bound_sorties >= liquid_bound
    assert liquid_bound <= len(plan.sorties) <= plan.lower_bound_sorties + 2
    assert any(s.breakpoint for s in plan.sorties)
    expected_time = sum(s.time_s for s in plan.sorties) + 90.0 * (len(plan.sorties) - 1)
    assert plan.total_time_s == pytest.approx(expected_time)
    assert plan.total_energy_wh == pytest.approx(sum(s.energy_wh for s in plan.sorties))


@pytest.mark.parametrize("preset", PRESETS)
@pytest.mark.parametrize("rate", [10.0, 20.0, 30.0])
def test_two_hectares_from_the_edge_take_the_lower_bound(preset, rate):
    drone = load_drone(preset)
    station = (100.0, -5.0)  # middle of the long edge of a 200 m × 100 m field
    legs = boustrophedon(200.0, 100.0, drone.swath_width_m, 0.0, station)
    plan = split(legs, station, drone, rate)
    assert len(plan.sorties) == plan.lower_bound_sorties


@pytest.mark.parametrize("preset", PRESETS)
@pytest.mark.parametrize("rate", [10.0, 20.0, 30.0])
def test_twenty_hectares_within_one_of_the_lower_bound(preset, rate):
    drone = load_drone(preset)
    station = (250.0, -5.0)
    legs = boustrophedon(500.0, 400.0, drone.swath_width_m, 0.0, station)
    plan = split(legs, station, drone, rate)
    assert plan.lower_bound_sorties <= len(plan.sorties) <= plan.lower_bound_sorties + 1


def test_low_rate_is_battery_limited():
    # 10 L/ha with the 40 L drone: a tank covers 3.6 ha, more than one battery can fly
    drone = load_drone("agras-t40")
    legs = boustrophedon(800.0, 500.0, 11.0, 0.0, (0.0, -10.0))
    plan = split(legs, (0.0, -10.0), drone, 10.0)
    assert len(plan.sorties) > math.ceil(plan.total_liquid_l / drone.tank_l)
    tight = min(s.soc_landing_pct for s in plan.sorties[:-1])
    assert tight < drone.battery.reserve_pct + 10.0  # the battery, not the tank, ended them


def test_far_station_loads_less_liquid_to_keep_the_reserve():
    # 1.8 km out, a full 40 L tank cannot make the round trip; lighter loads can
    drone = load_drone("agras-t40")
    station = (-1800.0, 0.0)
    legs = boustrophedon(200.0, 100.0, 11.0, 0.0, station)
    plan = split(legs, station, drone, 20.0)
    assert all(s.load_l < 0.8 * drone.tank_l for s in plan.sorties)
    assert all(s.soc_landing_pct >= drone.battery.reserve_pct for s in plan.sorties)
    assert sum(s.liquid_l for s in plan.sorties) == pytest.approx(spray_length_m(legs) * 20.0 * 11.0 / 1e4)


def test_same_input_same_plan():
    drone = load_drone("agras-t10")
    legs = boustrophedon(300.0, 200.0, 5.0, 0.2, (-5.0, -5.0))
    a = split(legs, (-5.0, -5.0), drone, 15.0).as_dict()
    b = split(legs, (-5.0, -5.0), drone, 15.0).as_dict()
    assert a == b


def test_connect_supplies_every_dead_head():
    drone = load_drone("agras-t10")
    station = np.array([-50.0, -50.0])
    legs = boustrophedon(400.0, 150.0, 5.0, 0.0, station)
    calls = []

    def dogleg(a, b):
        calls.append((tuple(a), tuple(b)))
        return np.array([a, [a[0], b[1]], b])

    plan = split(legs, station, drone, 25.0, connect=dogleg)
    assert len(plan.sorties) > 1
    for s in plan.sorties[1:]:  # approach legs come from connect: three points, a dog-leg
        assert len(s.legs[0].xy) == 3 and s.legs[0].xy[1][0] == s.legs[0].xy[0][0]
    for s in plan.sorties[:-1]:
        assert len(s.legs[-1].xy) == 3
    assert calls


def test_far_station_is_refused_with_a_message():
    drone = load_drone("agras-t10")
    station = (-20000.0, 0.0)
    legs = boustrophedon(100.0, 50.0, 5.0, 0.0, station)
    with pytest.raises(AgridroneError, match="station"):
        split(legs, station, drone, 20.0)


def test_pump_limit_is_refused():
    drone = load_drone("agras-t10")
    legs = boustrophedon(100.0, 50.0, 5.0, 0.0, (0.0, 0.0))
    with pytest.raises(AgridroneError, match="m/s or slower"):
        split_sorties(legs, (0.0, 0.0), drone, rate_l_ha=40.0, swath_m=5.0, speed_m_s=6.0,
                      transit_speed_m_s=8.0, alt_m=3.0)
    with pytest.raises(AgridroneError, match="m/s or slower"):  # not "no station can serve"
        choose_station(np.zeros((2, 2)), legs, drone, rate_l_ha=40.0, swath_m=5.0, speed_m_s=6.0,
                       transit_speed_m_s=8.0, alt_m=3.0)
    with pytest.raises(AgridroneError, match="exceeds the agras-t10 maximum of 10 m/s"):
        split_sorties(legs, (0.0, 0.0), drone, rate_l_ha=10.0, swath_m=5.0, speed_m_s=2.0,
                      transit_speed_m_s=12.0, alt_m=3.0)


def test_choose_station_picks_least_dead_head():
    drone = load_drone("agras-t30")
    legs = boustrophedon(400.0, 300.0, 9.0, 0.0, (0.0, 0.0))
    candidates = np.array([[2000.0, 2000.0], [200.0, -5.0], [-300.0, 150.0]])
    index, deadhead = choose_station(candidates, legs, drone, rate_l_ha=20.0, swath_m=9.0,
                                     speed_m_s=6.0, transit_speed_m_s=8.0, alt_m=3.0)
    assert index == 1
    again = split(rehome_route(legs, candidates[1]), candidates[1], drone, 20.0)
    assert deadhead == pytest.approx(sum(s.distance_m - s.spray_m for s in again.sorties))
    assert deadhead == pytest.approx(again.deadhead_m)
    far = split(rehome_route(legs, candidates[2]), candidates[2], drone, 20.0)
    assert deadhead < far.deadhead_m


def test_cut_polyline_keeps_length_and_point():
    seg = lambda p: np.hypot(*np.diff(p, axis=0).T).sum()  # noqa: E731
    xy = np.array([[0.0, 0.0], [10.0, 0.0], [10.0, 10.0]])
    before, after = cut_polyline(xy, 14.0)
    assert np.allclose(before[-1], [10.0, 4.0]) and np.allclose(after[0], [10.0, 4.0])
    assert seg(before) == pytest.approx(14.0) and seg(after) == pytest.approx(6.0)
    before, after = cut_polyline(np.array([[0.0, 0.0], [30.0, 40.0]]), 10.0)  # straight pass
    assert np.allclose(before, [[0.0, 0.0], [6.0, 8.0]]) and np.allclose(after, [[6.0, 8.0], [30.0, 40.0]])

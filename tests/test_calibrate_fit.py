"""The calibration's fit against flights made up from known parameters: the power of every
sample written out here from momentum theory (not through agridrone.calibrate), the pack's
voltage from a known resistance and capacity. The fit must give those parameters back."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agridrone.calibrate.ardupilot import arming_windows
from agridrone.calibrate.calibration import calibrate
from agridrone.calibrate.fit import BOUNDS, _bounded_lsq, _golden
from agridrone.calibrate.flightlog import FlightLog
from agridrone.calibrate.segments import find_segments
from agridrone.drone import load_drone
from agridrone.energy import OCV_SOC, OCV_TABLES

G = 9.80665
RHO = 101325.0 / (287.05 * 298.15)  # sea level, 25 °C
TRUE = {"fm": 0.55, "cda": 0.6, "avionics": 150.0, "r": 0.055, "cap": 8.1}


def _profile(kind_durations, seed=0):
    """Speed (m/s) and climb (m/s) at 10 Hz through the given (kind, seconds) spans, with
    linear ramps between them and a little noise."""
    rng = np.random.default_rng(seed)
    targets = {"ground": (0.0, 0.0), "hover": (0.0, 0.0), "climb": (0.0, 1.5),
               "descent": (0.0, -1.0), "forward5": (5.0, 0.0), "forward8": (8.0, 0.0)}
    v, vz = [], []
    last = (0.0, 0.0)
    for kind, seconds in kind_durations:
        goal = targets[kind]
        for k in range(20):  # 2 s ramp
            f = (k + 1) / 20
            v.append(last[0] + f * (goal[0] - last[0]))
            vz.append(last[1] + f * (goal[1] - last[1]))
        n = int(seconds * 10)
        v += [goal[0]] * n
        vz += [goal[1]] * n
        last = goal
    v = np.maximum(np.array(v) + rng.normal(0, 0.02, len(v)), 0.0)
    return v, np.array(vz)


def made_up_flight(drone, flow_l_min, plan, seed=0) -> FlightLog:
    """A flight of ``drone`` with TRUE's parameters: power from momentum theory at the
    mass the tank leaves (loaded with what it sprays, as agridrone's sorties are), current
    and voltage from the pack with TRUE's R and capacity."""
    v, vz = _profile(plan, seed)
    n = v.size
    t = np.arange(n) * 0.1
    alt = np.concatenate(([0.0], np.cumsum(vz[:-1] * 0.1)))
    spraying = (v > 4.0) & (np.abs(vz) < 0.1)
    liquid_l = flow_l_min / 60.0 * np.count_nonzero(spraying[:-1]) * 0.1
    liquid = np.maximum(liquid_l - flow_l_min / 60.0 * np.concatenate(([0.0], np.cumsum(spraying[:-1] * 0.1))), 0.0)
    mass = drone.empty_mass_kg + drone.battery.mass_kg + liquid
    area = drone.rotor_count * math.pi * (drone.rotor_diameter_m / 2) ** 2
    accel = np.gradient(v, t)
    ideal = ((mass * G) ** 1.5 / math.sqrt(2 * RHO * area) + mass * G * np.maximum(vz, 0)
             + mass * np.maximum(accel, 0) * v)
    power = ideal / TRUE["fm"] + 0.5 * RHO * TRUE["cda"] * v**3 + TRUE["avionics"] + drone.pump_w * spraying
    airborne = alt > 1.0
    power = np.where(airborne | (vz > 0), power, 30.0)
    cells = drone.battery.cells_series
    q, volts, amps = 0.0, [], []
    for p in power:
        voc = cells * float(np.interp(1.0 - q / TRUE["cap"], OCV_SOC, OCV_TABLES["lipo"]))
        i = 2 * p / (voc + math.sqrt(voc * voc - 4 * TRUE["r"] * p))
        volts.append(voc - i * TRUE["r"])
        amps.append(i)
        q += i * 0.1 / 3600
    return FlightLog(Path("made-up.bin"), "ardupilot", t, np.array(volts), np.array(amps), alt,
                     v, vz, spraying, temp_c=25.0, number=seed + 1)


PLAN_A = [("ground", 3), ("climb", 2), ("hover", 10), ("forward5", 40), ("hover", 5),
          ("forward8", 30), ("hover", 5), ("forward5", 60), ("hover", 8), ("descent", 2.5),
          ("ground", 3)]
PLAN_B = [("ground", 3), ("climb", 3), ("forward8", 20), ("hover", 12), ("forward5", 90),
          ("hover", 6), ("descent", 4), ("ground", 2)]


@pytest.fixture(scope="module")
def fitted():
    base = load_drone("agras-t10")
    flights = [made_up_flight(base, 2.4, PLAN_A, 0), made_up_flight(base, 2.4, PLAN_B, 1),
               made_up_flight(base, 2.4, PLAN_A, 2)]
    return calibrate(flights, base, name="made-up", flow_l_min=2.4)


def test_the_segments_found_are_the_ones_flown():
    base = load_drone("agras-t10")
    flight = made_up_flight(base, 1.5, PLAN_A)
    kinds = [s.kind for s in find_segments(flight)]
    merged = [k for i, k in enumerate(kinds) if i == 0 or kinds[i - 1] != k]
    assert merged[:9] == ["climb", "hover", "forward", "hover", "forward", "hover", "forward",
                          "hover", "descent"]
    assert sum(s.duration_s for s in find_segments(flight) if s.kind == "forward") > 120.0


def test_the_fit_gives_the_power_parameters_back(fitted):
    p = fitted.power
    assert p.figure_of_merit.value == pytest.approx(TRUE["fm"], rel=0.02)
    assert p.drag_area_m2.value == pytest.approx(TRUE["cda"], rel=0.05)
    assert p.avionics_w.value == pytest.approx(TRUE["avionics"], abs=25.0)
    assert p.rms_pct < 1.0
    for est in (p.figure_of_merit, p.drag_area_m2, p.avionics_w):
        assert est.sigma is not None and est.sigma > 0


def test_the_fit_gives_the_pack_back(fitted):
    b = fitted.battery
    assert b.resistance_ohm.value == pytest.approx(TRUE["r"], rel=0.05)
    assert b.capacity_ah.value == pytest.approx(TRUE["cap"], rel=0.05)
    # 8.1 of the preset's 9.5 Ah: 85 % state of health; the profile's R is the new pack's
    assert fitted.drone.battery.state_of_health_pct == pytest.approx(85.3, abs=4.0)
    assert fitted.drone.battery.internal_resistance_mohm == pytest.approx(55.0 * 0.853, rel=0.07)


def test_the_calibrated_profile_predicts_its_flights(fitted):
    for check in fitted.fitted:
        assert abs(check.error_pct) < 1.5


def test_golden_section_finds_the_minimum():
    assert _golden(lambda x: (x - 3.7) ** 2, 0.0, 10.0) == pytest.approx(3.7, abs=1e-5)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10_000))
def test_the_bounded_fit_stays_in_range_and_beats_any_point_in_it(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(4, 30))
    x = np.column_stack([rng.uniform(500, 3000, n), rng.uniform(0, 300, n), np.ones(n)])
    y = rng.uniform(-500, 8000, n)
    w = rng.uniform(1, 60, n)
    coef, _ = _bounded_lsq(x, y, w)
    assert np.all(coef >= BOUNDS[:, 0] - 1e-9) and np.all(coef <= BOUNDS[:, 1] + 1e-9)
    best = np.sum(w * (y - x @ coef) ** 2)
    for _ in range(20):
        other = rng.uniform(BOUNDS[:, 0], BOUNDS[:, 1])
        assert best <= np.sum(w * (y - x @ other) ** 2) * (1 + 1e-9)


@given(st.lists(st.tuples(st.floats(0, 1000), st.booleans()), max_size=12))
def test_arming_windows_are_ordered_and_inside_the_log(changes):
    changes = sorted(changes)
    windows = arming_windows(changes, 0.0, 1000.0)
    assert windows
    for start, end in windows:
        assert 0.0 <= start <= end <= 1000.0
    assert all(a[1] <= b[0] for a, b in zip(windows, windows[1:], strict=False))

"""Time agridrone.sorties.split_sorties on a ~150 ha synthetic route, and count sorties
against the lower bound on every sample field.

Prints, per drone and rate: passes, spray length, sorties reached against the lower
bound, the first (cold: numba cache load/compile) and best warm split time, and the warm
time as a ratio of the 100 ms target; then, for the sample fields planned with the
default drone at 10, 20 and 30 L/ha, the sorties reached beside the lower bound. Run from
the repository root: python -m bench.sortie_bench
"""

from __future__ import annotations

import time

import numpy as np

from agridrone.drone import DEFAULT_DRONE, load_drone
from agridrone.examples import FIELD_DIR
from agridrone.route import Leg, spray_length_m
from agridrone.sorties import split_sorties

TARGET_S = 0.100
WIDTH_M, HEIGHT_M = 1500.0, 1000.0  # 150 ha
STATION = (-10.0, -10.0)
CASES = [("agras-t30", 10.0), ("agras-t30", 20.0), ("agras-t30", 30.0),
         ("agras-t10", 20.0), ("agras-t40", 20.0), ("agras-t40", 10.0)]
WARM_RUNS = 5


def synthetic_route(width: float, height: float, swath: float, station) -> list[Leg]:
    """Back-and-forth passes along x over a width × height rectangle, from the station and back."""
    here = np.asarray(station, dtype=np.float64)
    legs: list[Leg] = []
    for k, y in enumerate(np.arange(swath / 2, height, swath)):
        a, b = np.array([0.0, y]), np.array([width, y])
        if k % 2:
            a, b = b, a
        legs.append(Leg("transit", np.array([here, a])))
        legs.append(Leg("spray", np.array([a, b]), k))
        here = b
    legs.append(Leg("transit", np.array([here, STATION])))
    return legs


def main() -> None:
    print(f"{'drone':10} {'L/ha':>5} {'passes':>6} {'spray km':>8} {'sorties':>7} {'bound':>5} "
          f"{'cold ms':>8} {'warm ms':>8} {'warm/target':>11}")
    for name, rate in CASES:
        drone = load_drone(name)
        swath = drone.swath_width_m
        speed = min(6.0, drone.pump_max_l_min * 10000.0 / (rate * swath * 60.0))
        legs = synthetic_route(WIDTH_M, HEIGHT_M, swath, STATION)

        def run(drone=drone, rate=rate, swath=swath, speed=speed, legs=legs):
            return split_sorties(legs, STATION, drone, rate_l_ha=rate, swath_m=swath,
                                 speed_m_s=speed, transit_speed_m_s=8.0, alt_m=3.0)

        t0 = time.perf_counter()
        plan = run()
        cold = time.perf_counter() - t0
        warm = []
        for _ in range(WARM_RUNS):
            t0 = time.perf_counter()
            run()
            warm.append(time.perf_counter() - t0)
        best = min(warm)
        passes = sum(1 for leg in legs if leg.kind == "spray")
        print(f"{name:10} {rate:5.0f} {passes:6d} {spray_length_m(legs) / 1000:8.1f} "
              f"{len(plan.sorties):7d} {plan.lower_bound_sorties:5d} {cold * 1000:8.1f} "
              f"{best * 1000:8.1f} {best / TARGET_S:11.2f}")
    sample_fields()


def sample_fields() -> None:
    """Sorties against the lower bound on the sample fields (default drone, station on the
    boundary nearest the route's start)."""

    from agridrone.plan_file import PlanInputs
    from agridrone.planner import make_plan

    fields = FIELD_DIR
    excludes = {"faisalabad_irregular": [str(fields / "faisalabad_irregular_nospray.geojson")]}
    drone = load_drone(DEFAULT_DRONE)
    print(f"\nsample fields, {drone.name}, swath {drone.swath_width_m:g} m, at most 5 m/s "
          "(slower where the pump needs it)")
    print(f"{'field':26} {'L/ha':>5} {'m/s':>5} {'sorties':>7} {'bound':>5} {'plan s':>7}")
    for path in sorted(fields.glob("*.geojson")):
        if "nospray" in path.name:
            continue
        for rate in (10.0, 20.0, 30.0):
            speed = round(min(5.0, drone.pump_max_l_min * 1e4 / (rate * drone.swath_width_m * 60)), 2)
            inputs = PlanInputs(
                field_file=str(path), exclude_files=excludes.get(path.stem, []), drone=drone.name,
                rate_l_ha=rate, swath_width_m=drone.swath_width_m,
                edge_margin_m=drone.swath_width_m / 2, headland_passes=0, heading_deg=None,
                home=None, stations_file=None, speed_m_s=speed, transit_speed_m_s=8.0, alt_m=3.0,
                turn_time_s=4.0, temp_c=25.0, swap_time_s=90.0, autopilot="ardupilot",
                alt_frame="relative", transit_alt_m=None, end="rtl", max_items=None,
                fence_margin_m=10.0, repair=False, max_area_ha=2000.0,
            )
            t0 = time.perf_counter()
            planned = make_plan(inputs)
            seconds = time.perf_counter() - t0
            print(f"{path.stem:26} {rate:5.0f} {speed:5.2f} {len(planned.sorties.sorties):7d} "
                  f"{planned.sorties.lower_bound_sorties:5d} {seconds:7.2f}")


if __name__ == "__main__":
    main()

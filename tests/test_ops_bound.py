"""The makespan lower bound of agridrone ops is a true lower bound (no schedule, found by
brute force over every pack assignment or by the scheduler, beats it), and with plenty of
packs the scheduler gets within 10 % of it."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString

from agridrone.ops import bounds, charging
from agridrone.ops.charging import ChargeSpec
from agridrone.ops.packs import Pack
from agridrone.ops.scheduler import Crew, DroneJob, SortieJob, simulate_day

SPEC = ChargeSpec(capacity_ah=29.0, cells=14, chemistry="lipo")
RESERVE = 0.2


def job(index: int, time_s: float, draw: float, offset: float = 0.0) -> SortieJob:
    """A sortie drawing ``draw`` of a pack: it needs the reserve plus that at take-off. Drones
    fly far apart (``offset`` m), so separation never holds one back."""
    xy = np.array([[offset, 0.0], [offset, 100.0], [offset, 0.0]])
    need = min(1.0, RESERVE + draw)
    return SortieJob(index, time_s, 10.0, 900.0, lambda h: need, LineString(xy), xy,
                     np.linspace(0.0, time_s, 3))


def landing(job: SortieJob, health: float, soc: float) -> float:
    """Landing SoC: take-off SoC less what the sortie draws (its need less the reserve)."""
    return soc - (job.need(health) - RESERVE)


def brute_force_best_s(jobs: list[SortieJob], packs: int, crew: Crew) -> float:
    """The shortest makespan (s) of one drone flying ``jobs`` in order with ``packs`` packs,
    all full at 0 s, on one charger with no generator limit, over every assignment of packs
    to sorties: each recharge from the pack's landing to exactly the next sortie's need, as
    early as the charger and the landing allow, in the order of the sorties it serves."""
    limit = min(crew.charger_kw, crew.generator_kw * SPEC.efficiency) * 1000.0 / SPEC.charge_v
    full = charging.full_soc(SPEC)
    best = np.inf
    for assign in itertools.product(range(packs), repeat=len(jobs)):
        if assign[0] != 0 or any(assign[k] > max(assign[:k]) + 1 for k in range(1, len(assign))):
            continue  # packs are alike: only the first use of each new one in order
        soc = [1.0] * packs
        landed_at = [0.0] * packs
        charger_free = drone_free = 0.0
        for j, p in zip(jobs, assign, strict=True):
            need = j.need(1.0)
            ground = max(crew.swap_time_s, j.load_l / crew.refill_l_min * 60.0)
            ready = landed_at[p]
            if soc[p] < need:
                start = max(charger_free, landed_at[p])
                ready = charger_free = start + charging.charge_time_s(SPEC, 1.0, soc[p],
                                                                      need, limit)
                soc[p] = 1.0 if need >= full else need
            takeoff = max(drone_free + ground, ready + crew.swap_time_s)
            drone_free = landed_at[p] = takeoff + j.time_s
            soc[p] = landing(j, 1.0, soc[p])
        best = min(best, drone_free)
    return best


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.floats(300.0, 900.0), st.floats(0.1, 0.8)), min_size=2,
                max_size=5),
       st.integers(1, 3), st.floats(2.0, 7.2))
def test_no_schedule_beats_the_bound(sorties, packs, charger_kw):
    jobs = [job(i, t, d) for i, (t, d) in enumerate(sorties, start=1)]
    crew = Crew(1, charger_kw, 20.0, 60.0, 20.0, 30.0, 25.0)
    bound = bounds.lower_bound([DroneJob(1, 1, np.zeros(2), jobs)], crew, SPEC,
                               [1.0] * packs, landing)
    best = brute_force_best_s(jobs, packs, crew)
    assert bound.makespan_s <= best * (1 + 1e-9)
    result = simulate_day([DroneJob(1, 1, np.zeros(2), list(jobs))],
                          [Pack(f"P{i}", 1.0, charging.full_soc(SPEC), 25.0)
                           for i in range(packs)], SPEC, crew, 0.0, landing)
    # the brute force's fixed charging order is not always the best (the scheduler's top-ups
    # can beat it by a second): the claim is that neither beats the bound
    assert bound.makespan_s <= (result.end_s - result.start_s) * (1 + 1e-9)


@settings(max_examples=15, deadline=None)
@given(st.integers(1, 3), st.integers(1, 8), st.integers(1, 2), st.floats(3.0, 7.2),
       st.floats(5.0, 20.0), st.randoms(use_true_random=False), st.booleans())
def test_the_scheduler_never_beats_the_bound(drones, packs, chargers, charger_kw, gen_kw, rnd,
                                             save_full):
    """Several drones, chargers and a generator that may limit them, full packs kept for the
    hungriest sorties or not: every day the scheduler finds lasts at least the bound."""
    gen_kw = max(gen_kw, charger_kw / SPEC.efficiency)
    crew = Crew(chargers, charger_kw, gen_kw, 60.0, 20.0, 30.0, 25.0)
    fleet = [DroneJob(d, d, np.array([1000.0 * d, 0.0]),
                      [job(i, rnd.uniform(200, 800), rnd.uniform(0.05, 0.8), 1000.0 * d)
                       for i in range(1, rnd.randint(2, 6))]) for d in range(1, drones + 1)]
    pool = [Pack(f"P{i}", 1.0, charging.full_soc(SPEC), 25.0) for i in range(packs)]
    result = simulate_day(fleet, pool, SPEC, crew, 0.0, landing, save_full=save_full)
    bound = bounds.lower_bound(fleet, crew, SPEC, [1.0] * packs, landing)
    assert bound.makespan_s <= (result.end_s - result.start_s) * (1 + 1e-9)


def charger_bound_day(drones: int, packs: int, save_full: bool = False):
    """Drones flying 600 s sorties (every fifth a short one needing little) on one 7.2 kW
    charger, which is slower than the flying: the charger is the limit."""
    crew = Crew(1, 7.2, 9.0, 60.0, 20.0, 30.0, 25.0)
    draws = [0.15 if i % 5 == 0 else (0.72 if i % 2 else 0.8) for i in range(1, 25)]
    fleet = [DroneJob(d, d, np.array([1000.0 * d, 0.0]),
                      [job(i, 600.0, draws[i - 1], 1000.0 * d) for i in range(1, 25)])
             for d in range(1, drones + 1)]
    pool = [Pack(f"P{i}", 1.0, charging.full_soc(SPEC), 25.0) for i in range(packs)]
    result = simulate_day(fleet, pool, SPEC, crew, 0.0, landing, save_full=save_full)
    bound = bounds.lower_bound(fleet, crew, SPEC, [1.0] * packs, landing)
    return result, bound, bounds.plenty_packs(fleet, crew, SPEC, landing)


@pytest.mark.parametrize("drones", [1, 2, 3])
def test_plenty_of_packs_within_ten_percent_of_the_bound(drones):
    result, bound, plenty = charger_bound_day(drones, 1)
    result, bound, _ = charger_bound_day(drones, plenty)
    span = result.end_s - result.start_s
    assert bound.makespan_s <= span <= 1.10 * bound.makespan_s
    assert bound.charging_s > bound.flying_s  # the charger, not the flying, sets the bound


def test_more_packs_never_make_the_day_longer():
    """Two drones: 12 packs finish no later than 6 (the scheduler charged every spare pack
    through the slow taper before)."""
    six = charger_bound_day(2, 6)[0]
    twelve = charger_bound_day(2, 12)[0]
    assert twelve.end_s <= six.end_s + 1.0


def test_full_packs_kept_for_the_hungriest_sorties_shorten_a_charger_bound_day():
    """Three drones, twelve packs, one charger: flying the spare full packs on the sorties
    that would need the longest charge (not on whichever comes next) saves charger time,
    which is what the day waits for."""
    plain, bound, _ = charger_bound_day(3, 12)
    saved, _, _ = charger_bound_day(3, 12, save_full=True)
    assert bound.makespan_s <= saved.end_s < plain.end_s - 60.0
    full_first = [f for f in saved.flights if f.soc_takeoff == 1.0 and f.takeoff_s > 700.0]
    assert full_first and all(f.job.need(1.0) >= 0.9 for f in full_first)

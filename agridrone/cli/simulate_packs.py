"""``simulate`` and the pack registry: which pack flies each sortie (``--pack``, else the pack
the ops schedule gave it), and what each flight drew from it, from the vehicle's own
BATTERY_STATUS reports (voltage × current, the coulomb counter, the voltage at take-off and
landing)."""

from __future__ import annotations

from pathlib import Path

from agridrone.cli.vehicle_setup import resting_curve
from agridrone.energy import EnergyModel, capacity_derating
from agridrone.errors import AgridroneError
from agridrone.ops import registry
from agridrone.ops.pack_wear import PackFlight
from agridrone.ops.plan_block import plan_packs
from agridrone.resume import drone_from_plan
from firmware_bridge.flight import SortieLog

SOC_TOLERANCE = 1e-4  # bisection stops within this state of charge


def sortie_packs(plan: dict, given: tuple[str, ...]) -> list[str] | None:
    """The pack of each sortie: ``given`` (``--pack``, repeatable, each may be a comma list;
    sortie k flies the k-th, the list repeating when shorter: a crew rotating its packs),
    else the ops block's, else None (no registry write)."""
    ids = [p.strip() for text in given for p in text.split(",")]
    if not given:
        return plan_packs(plan)
    if any(not p for p in ids):
        raise AgridroneError("--pack: an empty pack id (give ID, ID,ID or repeat --pack)")
    count = len(plan["sorties"])
    if len(ids) > count:
        raise AgridroneError(f"--pack names {len(ids)} packs for {count} sortie(s): one per "
                             "sortie at most")
    return [ids[k % len(ids)] for k in range(count)]


def drone_key(plan: dict) -> str:
    """The registry's name of the plan's drone (as ``ops`` reads it: the preset or file stem)."""
    return Path(str(plan["inputs"]["drone"])).stem


def check(path: Path, plan: dict, packs: list[str]) -> list[str]:
    """Before flying: the ids the registry will add (AgridroneError for a broken registry
    or a pack of another drone)."""
    return registry.check_packs(path, drone_key(plan), packs)


def _soc(curve, volts: float) -> float:
    """State of charge 0..1 whose resting voltage is ``volts`` (the curve rises with SoC)."""
    lo, hi = 0.0, 1.0
    if volts <= curve(lo):
        return lo
    if volts >= curve(hi):
        return hi
    while hi - lo > SOC_TOLERANCE:
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if curve(mid) < volts else (lo, mid)
    return 0.5 * (lo + hi)


def pack_flights(plan: dict, logs: list[SortieLog], packs: list[str],
                 simulated: bool) -> list[PackFlight]:
    """One :class:`PackFlight` per flown sortie: energy drawn (open-circuit voltage × current,
    losses in the pack included, as the planner counts a sortie's energy; the coulomb count ×
    the mean voltage when no current is reported), charge drawn, and the state of charge at
    the first and last battery report from the voltage plus current × the pack's resistance
    on the pack's resting curve (SITL's when ``simulated``)."""
    drone = drone_from_plan(plan)
    temp_c = float(plan["inputs"]["temp_c"])
    resistance = EnergyModel.for_drone(drone, temp_c).resistance_ohm
    curve = resting_curve(plan, simulated=simulated)
    derating = capacity_derating(drone.battery.chemistry, temp_c)
    out = []
    for log in logs:
        battery = log.battery
        drawn_ah = log.consumed_mah() / 1000.0
        energy = log.energy_wh(resistance)
        if energy <= 0 and battery:
            energy = drawn_ah * sum(b[1] for b in battery) / len(battery)
        socs = [None, None]
        if len(battery) >= 2:
            socs = [_soc(curve, b[1] + b[2] * resistance) for b in (battery[0], battery[-1])]
        out.append(PackFlight(packs[log.sortie - 1], energy, drawn_ah, socs[0], socs[1],
                              derating))
    return out


def credit(path: Path, plan: dict, flights: list[PackFlight]) -> list[str]:
    """Write ``flights`` into the registry at ``path`` (one transaction); the ids added."""
    return registry.record_flights(path, drone_key(plan), drone_from_plan(plan).battery.capacity_ah,
                                   flights)

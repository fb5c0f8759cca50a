"""The makespan's lower bound, the day's bottleneck and the ``--advise`` search.

Lower bound of one field (s): the larger of
- flying: the busiest drone's airborne plus ground time plus its station's drives between
  stops (its region is its own), and the total over the drones' count;
- charging: the charge that must be put back during the day (all the charge the sorties
  draw, less what the packs hold above the reserve at the start), at the most DC power the
  chargers and generator can give together.
"""

from __future__ import annotations

from dataclasses import dataclass

from agridrone.ops.charging import ChargeSpec
from agridrone.ops.scheduler import Crew, DayResult, DroneJob

IDLE_SHARE_LIMIT = 0.10  # drones waiting more than this share of the day for packs
BUSY_SHARE_LIMIT = 0.85  # chargers busier than this are the limit


def ground_s(crew: Crew, load_l: float) -> float:
    """Ground time (s) before a sortie: swap and refill in parallel."""
    return max(crew.swap_time_s, load_l / crew.refill_l_min * 60.0)


@dataclass(frozen=True)
class Bound:
    """Lower bounds of a field's makespan (s): ``flying_s``, ``charging_s`` and their max."""

    flying_s: float
    charging_s: float

    @property
    def makespan_s(self) -> float:
        """The larger of the two bounds (s)."""
        return max(self.flying_s, self.charging_s)


def lower_bound(jobs: list[DroneJob], crew: Crew, spec: ChargeSpec, reserve_soc: float,
                pack_start: list[tuple[float, float]], drawn_ah: float) -> Bound:
    """Lower bound of one field. pack_start: (SoC, health) of each pack at the field's start;
    drawn_ah: charge the field's sorties draw (Ah)."""
    work = [sum(j.time_s + ground_s(crew, j.load_l) + j.move_s for j in d.sorties) for d in jobs]
    flying = max(max(work), sum(work) / len(jobs))
    stock = sum(max(0.0, soc - reserve_soc) * spec.capacity_ah * h for soc, h in pack_start)
    need_wh = max(0.0, drawn_ah - stock) * spec.charge_v
    power_w = min(crew.chargers * crew.charger_kw * 1000.0,
                  crew.generator_kw * 1000.0 * spec.efficiency)
    return Bound(flying, need_wh / power_w * 3600.0)


def bottleneck(result: DayResult, drones: int, crew: Crew) -> str:
    """What limits the day: "packs", "charger power", "refilling" or "flying"."""
    span = max(result.end_s - result.start_s, 1e-9)
    idle = result.wait_pack_s / (drones * span)
    busy = result.charger_busy_s / (crew.chargers * span)
    if idle > IDLE_SHARE_LIMIT:
        limited = result.generator_limited_s / span
        return "charger power" if busy > BUSY_SHARE_LIMIT or limited > 0.5 else "packs"
    ground = sum(f.takeoff_s - f.ground_s for f in result.flights)
    refill = sum(max(0.0, (f.takeoff_s - f.ground_s) - crew.swap_time_s) for f in result.flights)
    if ground > 0 and refill > 0.5 * ground:
        return "refilling"
    return "flying"


def flying_share(result: DayResult, drones: int) -> float:
    """Share (0..1) of the drones' day spent airborne."""
    span = max(result.end_s - result.start_s, 1e-9)
    return sum(f.land_s - f.takeoff_s for f in result.flights) / (drones * span)

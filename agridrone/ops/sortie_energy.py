"""The charge a sortie needs at take-off, decided by the planner's energy model.

A planned sortie is flown again (:class:`agridrone.energy.EnergyModel`, the same pieces the
sortie splitter flies: take-off, every leg at its speed with the pump on spray legs, landing)
from a pack that starts partly charged and may be worn. It may take off when it lands with
the reserve and never sags below the cut-off voltage. The smallest such state of charge is
found by bisection.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from agridrone.drone import DroneProfile
from agridrone.energy import EnergyModel, FlightState, Pieces, litres_per_metre
from agridrone.sorties import Sortie, through_flags

SOC_TOL = 1e-3  # bisection resolution of the take-off state of charge


@dataclass(frozen=True)
class FlightSettings:
    """How a region's sorties are flown: rate (L/ha), pass spacing (m), spray and transit
    speeds (m/s), altitude (m), air temperature (°C)."""

    rate_l_ha: float
    spacing_m: float
    speed_m_s: float
    transit_speed_m_s: float
    alt_m: float
    temp_c: float


def worn(drone: DroneProfile, health: float) -> DroneProfile:
    """``drone`` with a pack of ``health`` (measured / rated capacity, 0..1)."""
    return replace(drone, battery=replace(drone.battery, state_of_health_pct=100.0 * health))


def sortie_pieces(model: EnergyModel, sortie: Sortie, settings: FlightSettings) -> Pieces:
    """The pieces of ``sortie`` as the splitter flies them."""
    lpm = litres_per_metre(settings.rate_l_ha, settings.spacing_m)
    parts = [model.takeoff(settings.alt_m)]
    for j, leg in enumerate(sortie.legs):
        if leg.kind == "spray":
            parts.append(model.leg(leg.xy, settings.speed_m_s, lpm, True,
                                   *through_flags(sortie.legs, j)))
        elif leg.kind == "lead":  # lead-in or lead-out: spray speed, pump off
            parts.append(model.leg(leg.xy, settings.speed_m_s, 0.0, False,
                                   *through_flags(sortie.legs, j)))
        else:
            parts.append(model.leg(leg.xy, settings.transit_speed_m_s, 0.0, False))
    parts.append(model.landing(settings.alt_m))
    return Pieces.concat(parts)


def fly_from(model: EnergyModel, pieces: Pieces, load_l: float, soc: float) -> FlightState:
    """The landed state of a flight of ``pieces`` with ``load_l`` litres, taking off at ``soc``."""
    start = model.start(load_l)
    start = replace(start, charge_ah=(1.0 - soc) * model.capacity_ah)
    return model.fly(start, pieces)


def required_soc(drone: DroneProfile, health: float, sortie: Sortie, settings: FlightSettings
                 ) -> tuple[float, float] | None:
    """(smallest take-off SoC, SoC at landing from it), 0..1, for ``sortie`` on a pack of
    ``health``; None when even a full pack cannot fly it."""
    model = EnergyModel.for_drone(worn(drone, health), settings.temp_c)
    pieces = sortie_pieces(model, sortie, settings)
    full = fly_from(model, pieces, sortie.load_l, 1.0)
    if not model.landed_ok(full):
        return None
    lo, hi = model.reserve_soc, 1.0
    while hi - lo > SOC_TOL:
        mid = 0.5 * (lo + hi)
        if model.landed_ok(fly_from(model, pieces, sortie.load_l, mid)):
            hi = mid
        else:
            lo = mid
    return hi, model.soc(fly_from(model, pieces, sortie.load_l, hi))


def landing_soc(drone: DroneProfile, health: float, sortie: Sortie, settings: FlightSettings,
                soc: float) -> float:
    """State of charge (0..1) on landing after flying ``sortie`` from ``soc``."""
    model = EnergyModel.for_drone(worn(drone, health), settings.temp_c)
    return model.soc(fly_from(model, sortie_pieces(model, sortie, settings), sortie.load_l, soc))

"""Lithium CC-CV charging and the lumped heat balance of a pack.

Charge law: the charge current at state of charge ``s`` (0..1) is
``I(s) = min(I_lim, k (1 - s))`` with ``k = I_max / (1 - s_cv)``: constant current up to
the point where the cells' constant-voltage phase takes over (``s_cv``, about 80 % at the
pack's maximum current ``I_max``; later when a weaker charger limits the current to
``I_lim``), then a current falling in proportion to the charge still missing, which is the
exponential taper of a CV phase. Charging ends at the termination current ``I_term``
(``s_full = 1 - I_term / k``). Every step is solved in closed form, so a simulation with
piecewise-constant ``I_lim`` is exact.

Heat: one thermal mass ``C`` (J/K) with loss ``h`` (W/K) to the air; a constant heat input
``P`` (W) over ``t`` seconds gives ``T(t) = T_a + P/h + (T_0 - T_a - P/h) exp(-t h / C)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from agridrone.errors import AgridroneError

# Charge voltage per cell at the end of CC (V): the chemistry's full open-circuit voltage.
CHARGE_V_PER_CELL = {"lipo": 4.20, "li-ion": 4.20, "lifepo4": 3.65}
CELL_HEAT_J_KG_K = 1000.0  # lithium cells: about 0.9-1.1 kJ/(kg K)


@dataclass(frozen=True)
class ChargeSpec:
    """How the packs of one drone type charge.

    capacity_ah: rated capacity (Ah) of a new pack; cells: cells in series; chemistry
    selects the charge voltage; max_c_rate: the pack's highest charge current in C (1/h);
    cv_soc: state of charge (0..1) where CV begins at that current; term_c_rate: termination
    current in C; efficiency: charger AC-to-DC efficiency (0..1); max_temp_c: a pack
    above this temperature (°C) is not plugged in before it cools; resistance_ohm: pack
    internal resistance (heat I²R); mass_kg: pack mass; cool_tau_s: time constant (s) of
    the pack cooling in still air.
    """

    capacity_ah: float
    cells: int
    chemistry: str
    max_c_rate: float = 4.0
    cv_soc: float = 0.8
    term_c_rate: float = 0.1
    efficiency: float = 0.93
    max_temp_c: float = 45.0
    resistance_ohm: float = 0.015
    mass_kg: float = 10.0
    cool_tau_s: float = 2400.0

    @property
    def charge_v(self) -> float:
        """Pack voltage (V) while charging, taken as the cells' full-charge voltage."""
        return CHARGE_V_PER_CELL[self.chemistry] * self.cells

    @property
    def heat_capacity_j_k(self) -> float:
        """Thermal mass of the pack (J/K)."""
        return self.mass_kg * CELL_HEAT_J_KG_K

    @property
    def loss_w_k(self) -> float:
        """Heat loss to the air (W/K) implied by the cooling time constant."""
        return self.heat_capacity_j_k / self.cool_tau_s


def max_current_a(spec: ChargeSpec, health: float) -> float:
    """The pack's highest charge current (A): ``max_c_rate`` times its present capacity."""
    return spec.max_c_rate * spec.capacity_ah * health


def taper_k(spec: ChargeSpec, health: float) -> float:
    """``k`` of the charge law (A per unit of missing charge)."""
    return max_current_a(spec, health) / (1.0 - spec.cv_soc)


def full_soc(spec: ChargeSpec) -> float:
    """State of charge (0..1) at which the current falls to the termination current."""
    return 1.0 - spec.term_c_rate * (1.0 - spec.cv_soc) / spec.max_c_rate


def current_a(spec: ChargeSpec, health: float, soc: float, limit_a: float) -> float:
    """Charge current (A) at ``soc`` with the charger limiting it to ``limit_a``."""
    return max(0.0, min(limit_a, taper_k(spec, health) * (1.0 - soc)))


def advance(spec: ChargeSpec, health: float, soc: float, dt_s: float, limit_a: float
            ) -> tuple[float, float]:
    """State of charge after charging ``dt_s`` seconds from ``soc`` with the current limited
    to ``limit_a`` (A), and the charge put in (Ah). Exact (closed form), stops at full."""
    q_ah = spec.capacity_ah * health
    k = taper_k(spec, health)
    s_full = full_soc(spec)
    if soc >= s_full or dt_s <= 0.0 or limit_a <= 0.0:
        return soc, 0.0
    s = soc
    t = dt_s
    s_knee = 1.0 - limit_a / k  # where the taper current falls below the limit
    if s < s_knee:  # constant current
        t_cc = (min(s_knee, s_full) - s) * q_ah * 3600.0 / limit_a
        if t <= t_cc:
            s_new = s + limit_a * t / (q_ah * 3600.0)
            return s_new, (s_new - soc) * q_ah
        s = min(s_knee, s_full)
        t -= t_cc
    if s < s_full:  # taper: ds/dt = k (1 - s) / Q
        s = 1.0 - (1.0 - s) * math.exp(-k * t / (q_ah * 3600.0))
        s = min(s, s_full)
    return s, (s - soc) * q_ah


def charge_time_s(spec: ChargeSpec, health: float, soc0: float, soc1: float, limit_a: float
                  ) -> float:
    """Seconds to charge from ``soc0`` to ``soc1`` (≤ full) at a constant current limit."""
    q_ah = spec.capacity_ah * health
    k = taper_k(spec, health)
    soc1 = min(soc1, full_soc(spec))
    if soc1 <= soc0:
        return 0.0
    s_knee = 1.0 - limit_a / k
    t = 0.0
    if soc0 < s_knee:
        end = min(s_knee, soc1)
        t += (end - soc0) * q_ah * 3600.0 / limit_a
        soc0 = end
    if soc1 > soc0:
        t += q_ah * 3600.0 / k * math.log((1.0 - soc0) / (1.0 - soc1))
    return t


def heated(spec: ChargeSpec, temp_c: float, air_c: float, power_w: float, dt_s: float) -> float:
    """Pack temperature (°C) after ``dt_s`` s of ``power_w`` W heat input from ``temp_c``."""
    h = spec.loss_w_k
    steady = air_c + power_w / h
    return steady + (temp_c - steady) * math.exp(-dt_s * h / spec.heat_capacity_j_k)


def cooling_time_s(spec: ChargeSpec, temp_c: float, air_c: float) -> float:
    """Seconds a pack at ``temp_c`` needs in air at ``air_c`` to cool to the charging limit."""
    if temp_c <= spec.max_temp_c:
        return 0.0
    if air_c >= spec.max_temp_c:
        raise AgridroneError(
            f"air at {air_c:g} °C is above the packs' charging limit of {spec.max_temp_c:g} °C; "
            "no pack can be charged (shade the chargers or raise --charge-max-temp)")
    return spec.cool_tau_s * math.log((temp_c - air_c) / (spec.max_temp_c - air_c))

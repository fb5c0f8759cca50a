"""What one flight tells about its pack: the energy it drew, and, when it drew deep enough,
the pack's capacity. The registry (:mod:`agridrone.ops.registry`) adds them up.

Capacity rule: a sortie whose state of charge fell by at least :data:`MIN_SOC_DROP` (from
the pack's voltage at take-off to its voltage at landing, each corrected for the sag under
the current and read on the pack's resting-voltage curve) measures the capacity as the
charge drawn (coulomb count, Ah) over that fall, brought to 25 °C. The registry's measured
capacity becomes the mean of its old value and this one, so one noisy flight moves it half
way and a pack that wears is followed within a few deep flights. Shallower sorties leave it
alone: a 10 % voltage error on a 20 % fall would be a 50 % capacity error.
"""

from __future__ import annotations

from dataclasses import dataclass

MIN_SOC_DROP = 0.5  # state-of-charge fall (0..1) a sortie needs to measure the capacity


@dataclass(frozen=True)
class PackFlight:
    """One sortie of one pack: energy drawn (Wh), charge drawn (Ah), state of charge (0..1)
    at take-off and landing from its voltage (None when the vehicle reported none), and the
    capacity derating of its chemistry at the flight's temperature (1 at 25 °C)."""

    pack: str
    energy_wh: float
    drawn_ah: float
    soc_takeoff: float | None
    soc_landing: float | None
    derating: float = 1.0

    def capacity_ah(self) -> float | None:
        """The capacity this flight measures (Ah at 25 °C), None when it drew too little."""
        if self.soc_takeoff is None or self.soc_landing is None:
            return None
        drop = self.soc_takeoff - self.soc_landing
        if drop < MIN_SOC_DROP or self.drawn_ah <= 0:
            return None
        return self.drawn_ah / drop / self.derating


def updated_capacity(old_ah: float, measured_ah: float | None) -> float:
    """The registry's new measured capacity (Ah): the mean of ``old_ah`` and ``measured_ah``,
    or ``old_ah`` when the flight measured none."""
    return old_ah if measured_ah is None else 0.5 * (old_ah + measured_ah)

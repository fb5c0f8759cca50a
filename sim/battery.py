"""The flight battery, drained by agridrone's energy model along the trajectory actually flown.

Every physics step adds a span to :class:`agridrone.energy.Pieces`: avionics, pump (while
spraying) and parasitic drag at the true airspeed (wind included) as mass-independent power;
climb and acceleration as power per kg; hover power is the model's own ``k_hover · m^1.5``.
:meth:`agridrone.energy.EnergyModel.fly` integrates charge and mass (the tank drains) over the
spans. Voltage and current are the loaded pack's for the power of the latest step. Disarmed,
the motors are off and the pack reports no current (as SITL does).
"""

from __future__ import annotations

import math

import numpy as np

from agridrone.drone import DroneProfile
from agridrone.energy import G_M_S2, EnergyModel, Pieces, loaded_pack_voltage, ocv_per_cell_v
from agridrone.errors import AgridroneError

FLUSH_S = 0.2  # integrate the accumulated steps at least this often (simulated seconds)


class SimBattery:
    """State of charge, voltage and current of the drone's pack during a simulated flight."""

    def __init__(self, drone: DroneProfile, liquid_l: float, elevation_m: float,
                 temp_c: float = 25.0) -> None:
        self.drone = drone
        self.model = EnergyModel.for_drone(drone, temp_c, elevation_m)
        self.state = self.model.start(liquid_l)
        self.liquid_l = liquid_l
        self.voltage_v = self._ocv()
        self.current_a = 0.0
        self._steps: list[tuple[float, float, float, float, float]] = []
        self._pending_s = 0.0

    def _ocv(self) -> float:
        soc = min(max(self.model.soc(self.state), 0.0), 1.0)
        return ocv_per_cell_v(self.drone.battery.chemistry, soc) * self.drone.battery.cells_series

    def draw(self, dt_s: float, airspeed_m_s: float, climb_m_s: float, accel_power_w_kg: float,
             pump_fraction: float) -> None:
        """Account one flying step of ``dt_s`` seconds.

        airspeed_m_s: speed through the air; climb_m_s: vertical speed (up positive);
        accel_power_w_kg: a·v per kg (W/kg) while speeding up; pump_fraction: pump output 0..1.
        """
        d = self.drone
        litres = min(self.liquid_l, pump_fraction * d.pump_max_l_min / 60.0 * dt_s)
        self.liquid_l -= litres
        spraying = pump_fraction > 0.0
        p_add = d.avionics_w + (d.pump_w * pump_fraction if spraying else 0.0) \
            + self.model.k_parasitic * airspeed_m_s**3
        p_mass = (G_M_S2 * max(climb_m_s, 0.0) + max(accel_power_w_kg, 0.0)) / d.figure_of_merit
        self._steps.append((dt_s, 0.0, litres, p_add, p_mass))
        self._pending_s += dt_s
        mass = self.state.mass_kg
        power = self.model.k_hover * mass**1.5 + p_add + p_mass * mass
        ocv = self._ocv()
        try:
            self.voltage_v, self.current_a = loaded_pack_voltage(
                ocv, self.model.resistance_ohm, power)
        except AgridroneError:
            self.voltage_v = ocv / 2.0
            self.current_a = ocv / (2.0 * max(self.model.resistance_ohm, 1e-6))
        if self._pending_s >= FLUSH_S:
            self.flush()

    def idle(self) -> None:
        """Motors off: no current, the open-circuit voltage shows."""
        self.flush()
        self.current_a = 0.0
        self.voltage_v = self._ocv()

    def flush(self) -> None:
        """Integrate the steps accumulated since the last flush."""
        if not self._steps:
            return
        rows = np.array(self._steps, dtype=np.float64).T
        self.state = self.model.fly(self.state, Pieces.of(*rows))
        self._steps.clear()
        self._pending_s = 0.0

    @property
    def consumed_mah(self) -> float:
        """Charge drawn so far (mAh)."""
        return self.state.charge_ah * 1000.0 + sum(
            s[0] * self.current_a for s in self._steps) / 3.6

    def remaining_pct(self) -> int:
        """Remaining capacity (%) by coulomb counting, 0..100."""
        soc = 1.0 - self.consumed_mah / 1000.0 / self.model.capacity_ah
        return int(min(max(math.floor(soc * 100.0 + 0.5), 0), 100))

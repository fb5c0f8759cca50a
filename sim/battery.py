"""The flight battery of the built-in vehicle, drained by its own physics as ArduPilot SITL
drains its pack: the motors draw power in proportion to the thrust they make, and the pack
sags under the current by its internal resistance.

The airframe is the one SITL flies (:func:`sim.sitl_frame.frame_model`: mass with a full
tank, the reference hover power, drag area, the pack's full voltage, capacity and
resistance), so the two simulators answer alike; nothing here calls the planner's energy
model. Per step: thrust ``T = |(m a + D, m (g + a_z))|`` (along-track acceleration, body drag
``½ ρ CdA v²`` at the airspeed, vertical acceleration), motor power ``P = k T`` with ``k`` the
hover power per newton of the frame, current from ``V I = P`` with ``V = V_rest(SoC) - I R``
on SITL's resting-voltage curve, charge counted in ampere-hours. Disarmed, the motors are off
and the pack reports no current (as SITL does). Units: s, m, m/s, m/s², kg, W, V, A, Ah.
"""

from __future__ import annotations

import math

from agridrone.drone import DroneProfile
from agridrone.energy import G_M_S2, air_density_kg_m3
from sim.sitl_frame import frame_model, sitl_resting_voltage


class SimBattery:
    """State of charge, voltage and current of the drone's pack during a simulated flight."""

    def __init__(self, drone: DroneProfile, liquid_l: float, elevation_m: float,
                 temp_c: float = 25.0) -> None:
        frame = frame_model(drone, temp_c=temp_c, elevation_m=elevation_m)
        self.drone = drone
        self.liquid_l = liquid_l
        self.mass_kg = float(frame["mass"])
        self.watts_per_newton = (frame["refCurrent"] * frame["refVoltage"]
                                 / (self.mass_kg * G_M_S2))
        self.capacity_ah = float(frame["battCapacityAh"])
        self.resistance_ohm = float(frame["refBatRes"])
        self.full_v = float(frame["maxVoltage"])
        self.half_rho_cda = 0.5 * air_density_kg_m3(elevation_m, temp_c) * drone.drag_area_m2
        self.charge_ah = 0.0
        self.current_a = 0.0
        self.voltage_v = self.resting_v

    @property
    def soc(self) -> float:
        """State of charge 0..1 by the charge drawn."""
        return min(max(1.0 - self.charge_ah / self.capacity_ah, 0.0), 1.0)

    @property
    def resting_v(self) -> float:
        """The pack's open-circuit voltage now (V), on SITL's resting curve."""
        return sitl_resting_voltage(self.full_v, self.soc)

    def draw(self, dt_s: float, airspeed_m_s: float, accel_m_s2: float, accel_up_m_s2: float,
             pump_fraction: float) -> None:
        """Account one flying step of ``dt_s`` seconds.

        airspeed_m_s: speed through the air; accel_m_s2: along-track acceleration (braking
        negative); accel_up_m_s2: vertical acceleration (up positive); pump_fraction: pump
        output 0..1 (drains the tank)."""
        d = self.drone
        self.liquid_l -= min(self.liquid_l, pump_fraction * d.pump_max_l_min / 60.0 * dt_s)
        m = self.mass_kg
        horizontal = m * accel_m_s2 + self.half_rho_cda * airspeed_m_s**2
        thrust = math.hypot(horizontal, m * max(G_M_S2 + accel_up_m_s2, 0.0))
        power = self.watts_per_newton * thrust
        rest, r = self.resting_v, self.resistance_ohm
        disc = rest * rest - 4.0 * r * power
        if disc <= 0.0:  # more than the pack can give: it delivers its maximum power
            self.current_a = rest / (2.0 * r)
        else:
            self.current_a = 2.0 * power / (rest + math.sqrt(disc))
        self.voltage_v = rest - self.current_a * r
        self.charge_ah += self.current_a * dt_s / 3600.0

    def idle(self) -> None:
        """Motors off: no current, the resting voltage shows."""
        self.current_a = 0.0
        self.voltage_v = self.resting_v

    @property
    def consumed_mah(self) -> float:
        """Charge drawn so far (mAh)."""
        return self.charge_ah * 1000.0

    def remaining_pct(self) -> int:
        """Remaining capacity (%) by coulomb counting, 0..100."""
        return int(min(max(math.floor(self.soc * 100.0 + 0.5), 0), 100))

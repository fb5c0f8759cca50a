"""Energy model of a spraying multirotor and its lithium battery.

Power (watts) from momentum theory: hover power ``(m g)^1.5 / (FM sqrt(2 rho A))`` with A
the total rotor disk area, plus parasitic drag ``0.5 rho CdA v^3``, avionics and (while
spraying) pump power; climbing adds ``m g v_c / FM`` and accelerating ``m a v / FM``.
Induced power is kept at its hover value in forward flight (no translational lift),
which errs on the safe side. Mass falls as the tank drains.

The battery is an open-circuit voltage curve OCV(SoC) per chemistry, a pack internal
resistance (the loaded voltage solves ``V = OCV - I R`` with ``V I = P``), the state of
health (capacity down, resistance up) and a temperature derating of capacity and
resistance. State of charge follows the charge drawn (Ah).

A flight is a sequence of *pieces*: spans of time with constant speed profile, holding
duration (s), distance (m), liquid sprayed (L), a mass-independent power (W) and a power
per kg of mass (W/kg). Legs become pieces (accelerate, cruise, decelerate on every
polyline segment) and :meth:`EnergyModel.fly` integrates the battery over them in a numba
kernel (steps of at most STEP_MAX_S seconds). For the sortie splitter, kernels also fly
whole runs of a route's legs from :class:`RouteTables` (:meth:`EnergyModel.fly_legs`,
:meth:`EnergyModel.fly_route`) and a pass cut at a breakpoint with its way home
(:meth:`EnergyModel.fly_cut`), adding energy, time and state in the same order as
:meth:`EnergyModel.fly` one leg at a time (the same figures to the last bit).

The speed profile is ArduPilot Copter's waypoint navigation as agridrone uploads it
(missions.vehicle_params: WPNAV_ACCEL = ACCEL_M_S2, WPNAV_JERK = WAYPOINT_JERK_M_S3,
WPNAV_RADIUS = WAYPOINT_RADIUS_M). Every waypoint-to-waypoint segment is an S-curve from
standstill to standstill (AP_Math/SCurve): the acceleration rises to ACCEL_M_S2 over an
edge of 2·tj seconds, tj the raised-cosine jerk time that the snap limit allows
(:func:`scurve_edge_s`), so a ramp 0 → v takes v/a + 2·tj and covers v·(v/a + 2·tj)/2
(2.87 s and 7.2 m to 5 m/s). The vehicle does not stop at a waypoint that has another
after it: AC_WPNav starts the next segment's S-curve while this one still decelerates
(SCurve::advance_target_along_track), as soon as the point halfway through that overlap
lies within WPNAV_RADIUS of the waypoint, so the two ramps overlap by
:func:`corner_overlap_s` (1.08 s at a right angle with the 0.2 m radius; the whole ramp
when the segments are in line). Inside a polyline leg that overlap is taken at each
vertex's angle; at a leg's own ends, which meet another leg (pass ↔ crossover), each leg
takes half of the right-angle overlap. Measured on real ArduPilot SITL (a 1.5 ha strip of
50 m passes at 6 m swath, 5 m/s): 14.6 s per pass and crossover, this profile 14.5 s,
full stops at 2 m/s² 16.0 s.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from agridrone.aot import kernel
from agridrone.drone import LIQUID_DENSITY_KG_L, DroneProfile
from agridrone.errors import AgridroneError

G_M_S2 = 9.80665
ACCEL_M_S2 = 2.0  # horizontal acceleration and braking of a loaded sprayer (WPNAV_ACCEL)
# ArduPilot's waypoint S-curve as uploaded (missions.vehicle_params) and the attitude
# controller's defaults that set its snap limit (AC_WPNav::calc_scurve_jerk_and_snap)
WAYPOINT_JERK_M_S3 = 20.0  # WPNAV_JERK
WAYPOINT_RADIUS_M = 0.2  # WPNAV_RADIUS
ATTITUDE_INPUT_TC_S = 0.15  # ATC_INPUT_TC
ATTITUDE_ACCEL_MAX_RAD_S2 = math.radians(1100.0)  # ATC_ACCEL_R_MAX / _P_MAX, 110000 cdeg/s²
STEP_MAX_S = 5.0  # battery integration step
TAKEOFF_SPOOL_S = 3.0  # hover on the ground spot while motors spool up
# ArduPilot Copter's vertical defaults (agridrone leaves them): the take-off climbs at up to
# WPNAV_SPEED_UP with WPNAV_ACCEL_Z; the landing descends at WPNAV_SPEED_DN to LAND_ALT_LOW
# and at LAND_SPEED below (on real SITL the old 1 s climb and 1 s descent from 3 m at the
# profile's 3 m/s left each sortie ~10 s longer than planned)
CLIMB_SPEED_M_S = 2.5
CLIMB_ACCEL_M_S2 = 1.0
DESCENT_SPEED_M_S = 1.5
LAND_SPEED_M_S = 0.5
LAND_ALT_LOW_M = 10.0
TOUCHDOWN_S = 5.0  # hover and settle before motors stop
MIN_SEGMENT_M = 1e-9  # shorter polyline segments are ignored
# Every sortie lands this much (% of capacity) above the pack's reserve: the autopilot's low
# failsafe fires at the reserve plus the charge home (agridrone.failsafe), and a flight on
# real ArduPilot SITL drew up to 3 % of capacity more than planned on a battery-limited
# sortie; without this room its low failsafe cut such sorties short. That sortie carried
# less than a tank, and SITL's frame keeps a full tank's mass and a half tank's hover power
# (sim/sitl_frame.py): a 22.9 L sortie draws 10.9 % more power there than the drone would.
# Kept at 8: full-tank sorties now come within -3..+1 % of SITL's energy (-3.5 % of sortie
# energy at worst, ~2 % of capacity), and the partial-tank sorties CI flies still need it.
FAILSAFE_MARGIN_PCT = 8.0

# Open-circuit voltage per cell (V) at SoC 0, 0.1, ..., 1.0 (evenly spaced: the kernel relies on it).
OCV_SOC = np.linspace(0.0, 1.0, 11)
OCV_TABLES: dict[str, np.ndarray] = {
    "lipo": np.array([3.30, 3.60, 3.68, 3.72, 3.75, 3.78, 3.82, 3.87, 3.94, 4.04, 4.20]),
    "li-ion": np.array([3.00, 3.35, 3.48, 3.57, 3.63, 3.68, 3.75, 3.84, 3.93, 4.05, 4.20]),
    "lifepo4": np.array([2.80, 3.20, 3.25, 3.27, 3.29, 3.30, 3.31, 3.32, 3.33, 3.35, 3.45]),
}
# Usable capacity against 25 °C, by cell temperature (°C).
_DERATE_TEMP_C = np.array([-20.0, 0.0, 20.0, 40.0, 60.0])
_DERATE_CAPACITY: dict[str, np.ndarray] = {
    "lipo": np.array([0.70, 0.88, 1.0, 1.0, 0.95]),
    "li-ion": np.array([0.72, 0.90, 1.0, 1.0, 0.95]),
    "lifepo4": np.array([0.60, 0.85, 1.0, 1.0, 0.96]),
}
RESISTANCE_RISE_PER_K_BELOW_25C = 0.015
_NO_LEAD = np.zeros((0, 2))  # _fly_cut's lead-out polyline when there is none


def air_density_kg_m3(alt_m: float, temp_c: float) -> float:
    """Air density (kg/m³) at ``alt_m`` metres above sea level and air temperature ``temp_c`` °C.

    Pressure from the ISA troposphere; density from the ideal gas law with the actual
    temperature (so a hot day at the same altitude gives thinner air).
    """
    if not -60.0 <= temp_c <= 60.0:
        raise AgridroneError(f"air temperature {temp_c} °C is out of range; allowed -60..60 °C")
    if not -500.0 <= alt_m <= 6000.0:
        raise AgridroneError(f"altitude {alt_m} m is out of range; allowed -500..6000 m")
    pressure_pa = 101325.0 * (1.0 - 2.25577e-5 * alt_m) ** 5.25588
    return pressure_pa / (287.05 * (temp_c + 273.15))


def hover_power_w(mass_kg: float, disk_area_m2: float, figure_of_merit: float, rho: float) -> float:
    """Electrical hover power in watts: (m g)^1.5 / (FM sqrt(2 rho A)), A total disk area m²."""
    return (mass_kg * G_M_S2) ** 1.5 / (figure_of_merit * math.sqrt(2.0 * rho * disk_area_m2))


def parasitic_power_w(rho: float, drag_area_m2: float, speed_m_s: float) -> float:
    """Power in watts to overcome body drag at ``speed_m_s``: 0.5 rho CdA v³."""
    return 0.5 * rho * drag_area_m2 * speed_m_s**3


def ocv_per_cell_v(chemistry: str, soc: float) -> float:
    """Open-circuit cell voltage (V) of ``chemistry`` at state of charge ``soc`` (0..1)."""
    return float(np.interp(soc, OCV_SOC, OCV_TABLES[chemistry]))


def loaded_pack_voltage(ocv_pack_v: float, resistance_ohm: float, power_w: float) -> tuple[float, float]:
    """Terminal voltage (V) and current (A) of a pack delivering ``power_w`` watts.

    Solves V = OCV - I R with V I = P (the higher-voltage root, written as
    I = 2P / (OCV + sqrt(OCV² - 4RP)) so that it stays exact for tiny R). Raises
    AgridroneError when the pack cannot deliver that power at all (P > OCV² / 4R).
    """
    disc = ocv_pack_v * ocv_pack_v - 4.0 * resistance_ohm * power_w
    if disc < 0.0:
        raise AgridroneError(
            f"the battery cannot deliver {power_w:.0f} W (at most {ocv_pack_v**2 / (4 * resistance_ohm):.0f} W)"
        )
    current = 2.0 * power_w / (ocv_pack_v + math.sqrt(disc))
    return ocv_pack_v - current * resistance_ohm, current


def capacity_derating(chemistry: str, temp_c: float) -> float:
    """Fraction of rated capacity usable at battery temperature ``temp_c`` °C (1.0 at 20–40 °C)."""
    return float(np.interp(temp_c, _DERATE_TEMP_C, _DERATE_CAPACITY[chemistry]))


def litres_per_metre(rate_l_ha: float, swath_m: float) -> float:
    """Liquid sprayed per metre of pass (L/m) at ``rate_l_ha`` L/ha over a ``swath_m`` m swath."""
    return rate_l_ha * swath_m / 10000.0


def check_flow(rate_l_ha: float, swath_m: float, speed_m_s: float, pump_max_l_min: float) -> float:
    """Pump flow in L/min = rate (L/ha) × swath (m) × speed (m/s) × 60 / 10 000.

    Raises AgridroneError when an input is not positive, or when the flow exceeds
    ``pump_max_l_min``; the message names the highest speed and the widest swath that
    the pump can serve at this rate.
    """
    for label, value in (("rate", rate_l_ha), ("swath", swath_m), ("speed", speed_m_s),
                         ("pump max flow", pump_max_l_min)):
        if not value > 0.0:
            raise AgridroneError(f"{label} must be positive, got {value}")
    flow = rate_l_ha * swath_m * speed_m_s * 60.0 / 10000.0
    if flow > pump_max_l_min * (1.0 + 1e-12):
        max_speed = pump_max_l_min * 10000.0 / (rate_l_ha * swath_m * 60.0)
        max_swath = pump_max_l_min * 10000.0 / (rate_l_ha * speed_m_s * 60.0)
        raise AgridroneError(
            f"{rate_l_ha:g} L/ha over a {swath_m:g} m swath at {speed_m_s:g} m/s needs "
            f"{flow:.2f} L/min but the pump delivers at most {pump_max_l_min:g} L/min; "
            f"fly at {_floor2(max_speed)} m/s or slower, or use a swath of {_floor2(max_swath)} m or narrower"
        )
    return flow


def _floor2(x: float) -> str:
    """x rounded down to 2 decimals, so that the figure named in a message does work."""
    return f"{math.floor(x * 100.0) / 100.0:.2f}"


def scurve_edge_s(accel_m_s2: float = ACCEL_M_S2, jerk_m_s3: float = WAYPOINT_JERK_M_S3,
                  input_tc_s: float = ATTITUDE_INPUT_TC_S,
                  angle_accel_rad_s2: float = ATTITUDE_ACCEL_MAX_RAD_S2) -> float:
    """Seconds ArduPilot's waypoint S-curve takes to bring the acceleration from 0 to
    ``accel_m_s2`` (and back): snap = ½·min(jerk·π / (2·max(tc, 0.1)), angular accel · g)
    (AC_WPNav::calc_scurve_jerk_and_snap), the raised-cosine jerk time tj = jerk·π/(2·snap),
    shortened to √(a·π/(2·snap)) when the acceleration is reached within it
    (SCurve::calculate_path), and the edge 2·tj, or tj + a/jerk with a constant-jerk part
    between (0.37 s as uploaded: 2 m/s², 20 m/s³)."""
    snap = 0.5 * min(jerk_m_s3 * math.pi / (2.0 * max(input_tc_s, 0.1)), angle_accel_rad_s2 * G_M_S2)
    tj = jerk_m_s3 * math.pi / (2.0 * snap)
    if accel_m_s2 < jerk_m_s3 * tj:
        return 2.0 * min(tj, math.sqrt(accel_m_s2 * math.pi / (2.0 * snap)))
    return tj + accel_m_s2 / jerk_m_s3


SCURVE_EDGE_S = scurve_edge_s()


def ramp_s(speed_m_s: float, accel_m_s2: float = ACCEL_M_S2, edge_s: float = SCURVE_EDGE_S) -> float:
    """Seconds of an S-curve ramp from standstill to ``speed_m_s`` (m/s) whose acceleration
    rises linearly to at most ``accel_m_s2`` over ``edge_s`` seconds and falls back as fast:
    v/a + edge, or 2·√(v·edge/a) when the acceleration never reaches ``accel_m_s2``; the ramp
    covers speed × that time / 2 metres (it is point-symmetric about half speed)."""
    return _ramp_time(float(speed_m_s), float(accel_m_s2), float(edge_s))


def corner_overlap_s(cos_turn: float, accel_m_s2: float = ACCEL_M_S2, edge_s: float = SCURVE_EDGE_S,
                     radius_m: float = WAYPOINT_RADIUS_M) -> float:
    """Seconds by which ArduPilot overlaps the braking S-curve into a waypoint with the next
    segment's start, for segments whose directions have cosine ``cos_turn`` (1 in line, 0 a
    right angle, -1 back): the longest overlap τ whose midpoint, τ/2 before and after the
    waypoint on the two ramps, lies within ``radius_m`` of it, i.e. d(τ/2)·√(2 - 2·cos) <
    radius with d(s) the distance an S-curve ramp covers in its first s seconds (infinite in
    line: the caller caps it at the ramps' lengths)."""
    return _corner_overlap(float(cos_turn), float(accel_m_s2), float(edge_s), float(radius_m))


def climb_s(alt_m: float, speed_m_s: float = CLIMB_SPEED_M_S, accel_m_s2: float = CLIMB_ACCEL_M_S2) -> float:
    """Seconds to climb ``alt_m`` metres from a hover to a hover, accelerating and braking at
    ``accel_m_s2`` up to ``speed_m_s``: alt/v + v/a, or 2·√(alt/a) when the climb is too
    short to reach v (3.5 s to the 3 m spray height; SITL took 3-4 s)."""
    if alt_m <= 0.0:
        return 0.0
    if alt_m >= speed_m_s * speed_m_s / accel_m_s2:
        return alt_m / speed_m_s + speed_m_s / accel_m_s2
    return 2.0 * math.sqrt(alt_m / accel_m_s2)


def descent_s(alt_m: float, max_rate_m_s: float = math.inf) -> float:
    """Seconds ArduPilot's landing takes from ``alt_m`` metres: WPNAV_SPEED_DN down to
    LAND_ALT_LOW, LAND_SPEED below it, neither faster than ``max_rate_m_s`` (6 s from 3 m)."""
    high = max(alt_m - LAND_ALT_LOW_M, 0.0)
    low = min(alt_m, LAND_ALT_LOW_M)
    return (high / min(DESCENT_SPEED_M_S, max_rate_m_s)
            + max(low, 0.0) / min(LAND_SPEED_M_S, max_rate_m_s))


@dataclass(frozen=True)
class Pieces:
    """A flight as spans, one column per span of a (5, n) float64 array whose rows are
    duration (s), distance (m), liquid sprayed (L), power independent of mass (W) and
    power per kg of mass (W/kg)."""

    table: np.ndarray

    @classmethod
    def of(cls, dur, dist, liq, padd, pmass) -> Pieces:
        """Pieces from the five rows given as sequences of equal length."""
        return cls(np.ascontiguousarray(np.array([dur, dist, liq, padd, pmass], dtype=np.float64)))

    @staticmethod
    def concat(parts: list[Pieces]) -> Pieces:
        """The pieces of ``parts`` flown one after the other."""
        return Pieces(np.ascontiguousarray(np.concatenate([p.table for p in parts], axis=1)))

    @property
    def dur(self) -> np.ndarray:
        """Durations (s)."""
        return self.table[0]

    @property
    def dist(self) -> np.ndarray:
        """Distances (m)."""
        return self.table[1]

    @property
    def liq(self) -> np.ndarray:
        """Liquid sprayed (L)."""
        return self.table[2]

    @property
    def padd(self) -> np.ndarray:
        """Power independent of mass (W)."""
        return self.table[3]

    @property
    def pmass(self) -> np.ndarray:
        """Power per kg of mass (W/kg)."""
        return self.table[4]


@dataclass(frozen=True)
class FlightState:
    """Where a flight stands: mass (kg), charge drawn (Ah), energy drawn (Wh, open-circuit
    voltage × current, so internal losses included), time (s), lowest loaded cell voltage
    (V) so far, and whether the pack could deliver every power asked of it."""

    mass_kg: float
    charge_ah: float
    energy_wh: float
    time_s: float
    min_cell_v: float
    delivered: bool = True


@dataclass(frozen=True)
class RouteTables:
    """A route's legs and the ways home from their ends as tables for
    :meth:`EnergyModel.fly_legs`: ``legs`` the pieces of every leg, leg i in columns
    legs_off[i]..legs_off[i + 1]-1; ``home`` the pieces of the flights home (landing not
    included), leg i's in columns home_lo[i]..home_hi[i]-1; ``landing`` the pieces of the
    descent and touchdown; ``lengths`` the legs' lengths (m); ``is_spray`` which legs are
    passes."""

    legs: np.ndarray
    legs_off: np.ndarray
    home: np.ndarray
    home_lo: np.ndarray
    home_hi: np.ndarray
    landing: np.ndarray
    lengths: np.ndarray
    is_spray: np.ndarray

    def leg(self, i: int) -> Pieces:
        """The pieces of leg ``i``."""
        return Pieces(np.ascontiguousarray(self.legs[:, self.legs_off[i]:self.legs_off[i + 1]]))


@dataclass(frozen=True)
class EnergyModel:
    """The energy model of one drone at one air temperature and field elevation.

    Built by :meth:`for_drone`; all figures in SI units (kg, m, s, W, Ah, ohm).
    """

    drone: DroneProfile
    rho: float
    k_hover: float  # W per kg^1.5
    k_parasitic: float  # W per (m/s)^3
    capacity_ah: float  # usable from full to empty, after SoH and temperature
    resistance_ohm: float
    cells: int
    ocv_v: np.ndarray  # per cell at OCV_SOC
    cutoff_v: float
    reserve_soc: float
    kernel_params: np.ndarray  # k_hover, capacity, resistance, cells, step, density for _fly
    limits: np.ndarray  # reserve SoC, cut-off cell voltage (V) for _fly_legs

    @classmethod
    def for_drone(cls, drone: DroneProfile, temp_c: float = 25.0, elevation_m: float = 0.0) -> EnergyModel:
        """The model of ``drone`` in air at ``temp_c`` °C, ``elevation_m`` m above sea level."""
        rho = air_density_kg_m3(elevation_m, temp_c)
        bat = drone.battery
        soh = bat.state_of_health_pct / 100.0
        cold_k = max(0.0, 25.0 - temp_c)
        reserve_soc = (bat.reserve_pct + FAILSAFE_MARGIN_PCT) / 100.0
        k_hover = G_M_S2**1.5 / (drone.figure_of_merit * math.sqrt(2.0 * rho * drone.disk_area_m2))
        capacity_ah = bat.capacity_ah * soh * capacity_derating(bat.chemistry, temp_c)
        resistance_ohm = (bat.internal_resistance_mohm / 1000.0 / soh
                          * (1.0 + RESISTANCE_RISE_PER_K_BELOW_25C * cold_k))
        return cls(
            drone=drone,
            rho=rho,
            k_hover=k_hover,
            k_parasitic=0.5 * rho * drone.drag_area_m2,
            capacity_ah=capacity_ah,
            resistance_ohm=resistance_ohm,
            cells=bat.cells_series,
            ocv_v=OCV_TABLES[bat.chemistry],
            cutoff_v=bat.cutoff_v_per_cell,
            reserve_soc=reserve_soc,
            kernel_params=np.array([k_hover, capacity_ah, resistance_ohm,
                                    float(bat.cells_series), STEP_MAX_S, LIQUID_DENSITY_KG_L]),
            limits=np.array([reserve_soc, bat.cutoff_v_per_cell]),
        )

    def start(self, liquid_l: float) -> FlightState:
        """A full battery on the ground with ``liquid_l`` litres in the tank."""
        return FlightState(self.drone.takeoff_mass_kg(liquid_l), 0.0, 0.0, 0.0, math.inf)

    def soc(self, state: FlightState) -> float:
        """State of charge (0..1) of ``state``."""
        return 1.0 - state.charge_ah / self.capacity_ah

    def margin(self, state: FlightState) -> float:
        """How far ``state`` stays inside the limits: min(SoC - reserve, lowest loaded cell
        voltage - cut-off in volts); negative when a limit is broken, -1 when the pack could
        not deliver the power."""
        if not state.delivered:
            return -1.0
        return min(self.soc(state) - self.reserve_soc, state.min_cell_v - self.cutoff_v)

    def landed_ok(self, state: FlightState) -> bool:
        """True when ``state`` keeps the reserve and never sagged below the cut-off."""
        return self.margin(state) >= 0.0

    def usable_energy_wh(self) -> float:
        """Open-circuit energy (Wh) between full charge and the landing reserve."""
        soc = np.concatenate(([self.reserve_soc], OCV_SOC[OCV_SOC > self.reserve_soc]))
        v = np.interp(soc, OCV_SOC, self.ocv_v)
        area = float(np.sum(0.5 * (v[1:] + v[:-1]) * np.diff(soc)))
        return area * self.cells * self.capacity_ah

    def takeoff(self, alt_m: float) -> Pieces:
        """Spool-up and vertical climb to ``alt_m`` metres as ArduPilot's take-off flies it
        (:func:`climb_s`: WPNAV_ACCEL_Z, WPNAV_SPEED_UP, no faster than the profile's climb
        rate); the potential energy m·g·h through the rotors' figure of merit."""
        d = self.drone
        t_climb = climb_s(alt_m, min(CLIMB_SPEED_M_S, d.climb_rate_m_s))
        rate = alt_m / t_climb if t_climb > 0.0 else 0.0
        return Pieces.of(
            [TAKEOFF_SPOOL_S, t_climb], [0.0, 0.0], [0.0, 0.0], [d.avionics_w, d.avionics_w],
            [0.0, G_M_S2 * rate / d.figure_of_merit],
        )

    def landing(self, alt_m: float) -> Pieces:
        """Vertical descent from ``alt_m`` metres as ArduPilot lands (:func:`descent_s`), then
        touchdown. Descent is charged at hover power (no credit for the falling mass)."""
        d = self.drone
        return Pieces.of([descent_s(alt_m, d.descent_rate_m_s), TOUCHDOWN_S], [0.0, 0.0],
                         [0.0, 0.0], [d.avionics_w, d.avionics_w], [0.0, 0.0])

    def leg(self, xy: np.ndarray, speed_m_s: float, litres_per_m: float, spraying: bool,
            through_start: bool = False, through_end: bool = False) -> Pieces:
        """Pieces of a polyline leg (n, 2 local metres) flown at ``speed_m_s`` with ArduPilot's
        waypoint S-curves (module docstring), slowing through each vertex and into both ends
        unless ``through_start`` / ``through_end`` (entered or left at that speed, as a pass
        between its lead-in and lead-out); ``litres_per_m`` L/m sprayed when ``spraying``
        (pump power on)."""
        d = self.drone
        p_fixed = d.avionics_w + (d.pump_w if spraying else 0.0)
        lpm = litres_per_m if spraying else 0.0
        v = float(speed_m_s)
        return Pieces(_leg_pieces(np.ascontiguousarray(xy, dtype=np.float64), v,
                                  ACCEL_M_S2, SCURVE_EDGE_S, WAYPOINT_RADIUS_M, lpm, p_fixed,
                                  self.k_parasitic, d.figure_of_merit,
                                  v if through_start else 0.0, v if through_end else 0.0))

    def fly(self, state: FlightState, pieces: Pieces) -> FlightState:
        """The state after flying ``pieces`` from ``state`` (battery integrated in steps of
        at most STEP_MAX_S seconds)."""
        mass, q, e, t, vmin, ok = _fly(pieces.table, state.mass_kg, state.charge_ah,
                                       self.kernel_params, self.ocv_v)
        return FlightState(mass, q, state.energy_wh + e, state.time_s + t,
                           min(state.min_cell_v, vmin), state.delivered and ok)

    def legs(self, legs_xy: list[np.ndarray], speeds_m_s: np.ndarray, litres_per_m: float,
             spraying: np.ndarray, through_start: np.ndarray,
             through_end: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The pieces of legs (polylines ``legs_xy``, local metres), each flown as :meth:`leg`
        flies it with that leg's speed (m/s), pump flag and through flags, ``litres_per_m``
        L/m where spraying: one (5, n) table and the column where each leg's pieces start
        (with one more entry, n)."""
        d = self.drone
        spraying = np.asarray(spraying, dtype=np.bool_)
        speeds = np.asarray(speeds_m_s, dtype=np.float64)
        starts = np.zeros(len(legs_xy) + 1, dtype=np.int64)
        starts[1:] = np.cumsum([len(xy) for xy in legs_xy])
        xy = np.ascontiguousarray(np.concatenate(legs_xy), dtype=np.float64).reshape(-1, 2)
        return _legs_pieces(
            xy, starts, speeds, np.where(spraying, litres_per_m, 0.0),
            np.where(spraying, d.avionics_w + d.pump_w, d.avionics_w + 0.0),
            np.where(through_start, speeds, 0.0), np.where(through_end, speeds, 0.0),
            ACCEL_M_S2, SCURVE_EDGE_S, WAYPOINT_RADIUS_M, self.k_parasitic, d.figure_of_merit)

    def fly_legs(self, tables: RouteTables, j: int, last_spray: int, state: FlightState, liquid_l: float,
                 litres_per_m: float, dry_l: float) -> tuple[int, int, FlightState, float, float, bool]:
        """Walk a sortie over whole legs of ``tables`` from leg ``j`` (the kernel _fly_legs,
        ``last_spray`` the index of the route's last pass): how the walk stopped (WALK_*), the
        leg it stopped at, the state after the legs kept, the litres left, the landing margin
        after the pass it stopped at flown whole (-1 when the liquid did not suffice) and
        whether a pass was sprayed."""
        status, j, m, q, e, t, vmin, ok, liquid, margin_full, sprayed = _fly_legs(
            tables.legs, tables.legs_off, tables.home, tables.home_lo, tables.home_hi,
            tables.landing, tables.lengths, tables.is_spray, j, last_spray, state.mass_kg, state.charge_ah,
            state.energy_wh, state.time_s, state.min_cell_v, state.delivered, liquid_l,
            litres_per_m, dry_l, self.kernel_params, self.ocv_v, self.limits)
        return status, j, FlightState(m, q, e, t, vmin, ok), liquid, margin_full, sprayed

    def fly_cut(self, state: FlightState, part_xy: np.ndarray, lead_xy: np.ndarray | None,
                home_xy: np.ndarray, landing: Pieces, speed_m_s: float, transit_speed_m_s: float,
                litres_per_m: float, at_speed: bool) -> tuple[FlightState, float]:
        """Spray polyline ``part_xy`` (local metres) at ``speed_m_s`` with ``litres_per_m``
        L/m, entered at that speed when ``at_speed`` and left at it into the pump-off lead-out
        ``lead_xy`` when there is one, from ``state``, as :meth:`leg` and :meth:`fly` would
        (kernel _fly_cut): the state after them and the :meth:`margin` after the transit
        ``home_xy`` at ``transit_speed_m_s`` and ``landing``."""
        d = self.drone
        lead = _NO_LEAD if lead_xy is None else np.ascontiguousarray(lead_xy, dtype=np.float64)
        m, q, e, t, vmin, ok, margin = _fly_cut(
            np.ascontiguousarray(part_xy, dtype=np.float64), lead,
            np.ascontiguousarray(home_xy, dtype=np.float64), landing.table, float(speed_m_s),
            float(transit_speed_m_s), litres_per_m, d.avionics_w + d.pump_w, d.avionics_w + 0.0, at_speed,
            state.mass_kg, state.charge_ah, state.energy_wh, state.time_s, state.min_cell_v, state.delivered,
            self.kernel_params, self.ocv_v, self.limits, ACCEL_M_S2, SCURVE_EDGE_S, WAYPOINT_RADIUS_M,
            self.k_parasitic, d.figure_of_merit)
        return FlightState(m, q, e, t, vmin, ok), margin

    def fly_route(self, legs: np.ndarray, legs_off: np.ndarray, need_l: np.ndarray, is_spray: np.ndarray,
                  j: int, state: FlightState, liquid_l: float,
                  remaining_l: float) -> tuple[int, FlightState, float, float]:
        """Fly the legs of pieces table ``legs`` (leg i in columns legs_off[i]..legs_off[i+1]-1)
        from leg ``j`` with ``liquid_l`` litres in the tank and ``remaining_l`` still to spray,
        pass i using need_l[i] litres, until a pass needs more than the tank holds (kernel
        _fly_route): the leg it stopped at (len(need_l) at the end), the state, the litres in
        the tank and still to spray."""
        j, m, q, e, t, vmin, ok, liquid, remaining = _fly_route(
            legs, legs_off, need_l, is_spray, j, state.mass_kg, state.charge_ah, state.energy_wh,
            state.time_s, state.min_cell_v, state.delivered, liquid_l, remaining_l,
            self.kernel_params, self.ocv_v)
        return j, FlightState(m, q, e, t, vmin, ok), liquid, remaining

    def hover_time_s(self, mass_kg: float) -> float:
        """Seconds a full battery keeps ``mass_kg`` kg hovering (avionics on, pump off), until
        the pack is empty or the loaded cell voltage reaches the cut-off; no reserve kept."""
        power = self.k_hover * mass_kg**1.5 + self.drone.avionics_w
        return _hover_endurance(power, self.capacity_ah, self.resistance_ohm, float(self.cells),
                                OCV_SOC, self.ocv_v, self.cutoff_v, 1.0)


def hover_time_s(drone: DroneProfile, liquid_l: float = 0.0, *, mass_kg: float | None = None,
                 temp_c: float = 25.0, elevation_m: float = 0.0) -> float:
    """Hover endurance in seconds of ``drone`` with ``liquid_l`` litres on board (or at a given
    takeoff ``mass_kg``), air at ``temp_c`` °C and ``elevation_m`` m, full battery to empty or
    cut-off (the way makers quote hover time; no landing reserve)."""
    model = EnergyModel.for_drone(drone, temp_c, elevation_m)
    return model.hover_time_s(drone.takeoff_mass_kg(liquid_l) if mass_kg is None else mass_kg)


def usable_energy_wh(drone: DroneProfile, temp_c: float = 25.0) -> float:
    """Energy (Wh) one battery of ``drone`` gives between full and the landing reserve at ``temp_c`` °C."""
    return EnergyModel.for_drone(drone, temp_c).usable_energy_wh()


@kernel()
def _mean_cube(v0, v1):
    """Time-average of v³ while speed ramps linearly from v0 to v1: (v1⁴ - v0⁴) / 4(v1 - v0)."""
    return (v1 + v0) * (v1 * v1 + v0 * v0) / 4.0


@kernel("float64(float64, float64, float64)")
def _ramp_time(v, accel, edge):
    """Seconds of an S-curve ramp 0 -> v (acceleration edges of ``edge`` s, plateau ``accel``)."""
    if v <= 0.0:
        return 0.0
    if v >= accel * edge:
        return v / accel + edge
    return 2.0 * math.sqrt(v * edge / accel)


@kernel()
def _ramp_peak(length, v, accel, edge):
    """Highest speed (at most v) of a standstill-to-standstill S-curve over ``length`` m:
    its two ramps share the length, each covering peak × ramp time / 2."""
    if v * _ramp_time(v, accel, edge) <= length:
        return v
    peak = accel * (-0.5 * edge + math.sqrt(0.25 * edge * edge + length / accel))
    if peak >= accel * edge:
        return peak
    return (0.5 * length * math.sqrt(accel / edge)) ** (2.0 / 3.0)


@kernel("float64(float64, float64, float64, float64)")
def _corner_overlap(c, accel, edge, radius):
    """Overlap (s) of two S-curve ramps at a waypoint whose segments' directions have
    cosine c: twice the time s in which a ramp from standstill covers radius / sqrt(2 - 2c)
    (its acceleration rising at accel/edge per second for ``edge`` s, then constant)."""
    spread = math.sqrt(max(2.0 - 2.0 * c, 0.0))
    if spread <= 1e-12:
        return np.inf
    target = radius / spread
    jerk = accel / edge
    d_edge = jerk * edge * edge * edge / 6.0
    if target <= d_edge:
        return 2.0 * (6.0 * target / jerk) ** (1.0 / 3.0)
    v_edge = 0.5 * jerk * edge * edge
    # 0.5 accel x² + v_edge x + d_edge - target = 0 for the time x after the edge
    x = (-v_edge + math.sqrt(v_edge * v_edge + 2.0 * accel * (target - d_edge))) / accel
    return 2.0 * (edge + x)


@kernel("float64[:, ::1]"
        "(float64[:, ::1], float64, float64, float64, float64, float64, float64, float64, float64, float64, float64)")
def _leg_pieces(xy, v, accel, edge, radius, lpm, p_fixed, k_par, fm, v_start, v_end):
    """Pieces of a polyline leg: on each segment an S-curve ramp from standstill (none at the
    leg's start when entered at v_start = v), cruise, a ramp to standstill (none at the
    leg's end when left at v_end = v); ramps meeting at a vertex overlap by the corner
    overlap at its angle, split between them, and a ramp at a stopping leg end is shortened
    by half the right-angle overlap (the other half is the neighbouring leg's)."""
    n = xy.shape[0]
    lengths = np.zeros(max(n - 1, 0))
    ux = np.zeros(max(n - 1, 0))
    uy = np.zeros(max(n - 1, 0))
    m = 0
    for j in range(n - 1):
        dx = xy[j + 1, 0] - xy[j, 0]
        dy = xy[j + 1, 1] - xy[j, 1]
        length = math.sqrt(dx * dx + dy * dy)
        if length > MIN_SEGMENT_M:
            lengths[m] = length
            ux[m] = dx / length
            uy[m] = dy / length
            m += 1
    out = np.zeros((5, 3 * m))
    dur, dist, liq, padd, pmass = out[0], out[1], out[2], out[3], out[4]
    if m == 0:
        return out[:, :0].copy()
    peaks = np.zeros(m)
    t_ramp = np.zeros(m)
    for j in range(m):
        ramps_in = (0 if (j == 0 and v_start > 0.0) else 1) + (0 if (j == m - 1 and v_end > 0.0) else 1)
        if ramps_in == 2:
            peaks[j] = _ramp_peak(lengths[j], v, accel, edge)
        else:
            peaks[j] = v
        t_ramp[j] = _ramp_time(peaks[j], accel, edge)
    half_right = 0.5 * _corner_overlap(0.0, accel, edge, radius)
    credit_in = np.zeros(m)  # seconds taken off each segment's first / last ramp
    credit_out = np.zeros(m)
    for j in range(m - 1):
        c = ux[j] * ux[j + 1] + uy[j] * uy[j + 1]
        shared = 0.5 * min(_corner_overlap(c, accel, edge, radius), t_ramp[j], t_ramp[j + 1])
        credit_out[j] = shared
        credit_in[j + 1] = shared
    if v_start <= 0.0:
        credit_in[0] = min(half_right, t_ramp[0])
    if v_end <= 0.0:
        credit_out[m - 1] = min(half_right, t_ramp[m - 1])
    k = 0
    for j in range(m):
        peak = peaks[j]
        ramp_in = not (j == 0 and v_start > 0.0)
        ramp_out = not (j == m - 1 and v_end > 0.0)
        d_ramp = 0.5 * peak * t_ramp[j]
        d_in = d_ramp if ramp_in else 0.0
        d_out = d_ramp if ramp_out else 0.0
        t_in = t_ramp[j] if ramp_in else 0.0
        t_out = t_ramp[j] if ramp_out else 0.0
        if d_in + d_out > lengths[j]:  # entered or left at speed with no room to ramp: shrink
            scale = lengths[j] / (d_in + d_out)
            d_in *= scale
            d_out *= scale
            t_in *= scale
            t_out *= scale
        d_cruise = max(0.0, lengths[j] - d_in - d_out)
        if t_in > 0.0:
            dur[k] = max(t_in - credit_in[j], 0.0)
            dist[k] = d_in
            liq[k] = d_in * lpm
            padd[k] = p_fixed + k_par * _mean_cube(0.0, peak)
            pmass[k] = peak * peak / (2.0 * dur[k]) / fm if dur[k] > 0.0 else 0.0
            k += 1
        if d_cruise > MIN_SEGMENT_M:
            dur[k] = d_cruise / peak
            dist[k] = d_cruise
            liq[k] = d_cruise * lpm
            padd[k] = p_fixed + k_par * peak * peak * peak
            k += 1
        if t_out > 0.0:
            dur[k] = max(t_out - credit_out[j], 0.0)
            dist[k] = d_out
            liq[k] = d_out * lpm
            padd[k] = p_fixed + k_par * _mean_cube(0.0, peak)
            k += 1
    return out[:, :k].copy()


@kernel()
def _ocv(soc, ocv_y, n):
    """OCV per cell at soc from a table on n evenly spaced SoC points 0..1, clamped."""
    if soc <= 0.0:
        return ocv_y[0]
    if soc >= 1.0:
        return ocv_y[n - 1]
    x = soc * (n - 1)
    k = min(int(x), n - 2)
    return ocv_y[k] + (x - k) * (ocv_y[k + 1] - ocv_y[k])


@kernel()
def _pack_current(voc, r, p):
    """Current (A) and terminal voltage (V) for power p; current < 0 when undeliverable."""
    disc = voc * voc - 4.0 * r * p
    if disc < 0.0:
        return -1.0, 0.5 * voc
    i = 2.0 * p / (voc + math.sqrt(disc))
    return i, voc - i * r


@kernel("Tuple((float64, float64, float64, float64, float64, boolean))"
        "(float64[:, ::1], float64, float64, float64[::1], float64[::1])")
def _fly(table, m0, q0, battery, ocv_y):
    """battery: k_hover, capacity Ah, resistance ohm, cells, step s, liquid kg/L."""
    return _fly_span(table, 0, table.shape[1], m0, q0, battery, ocv_y)


@kernel()
def _fly_span(table, lo, hi, m0, q0, battery, ocv_y):
    """_fly over the pieces in columns lo..hi-1 of ``table``: mass, charge, energy and time
    of the span (both from 0), lowest loaded cell voltage, whether every power was delivered."""
    k_h, cap_ah, r, cells, step_max, dens = battery[0], battery[1], battery[2], battery[3], battery[4], battery[5]
    n_soc = ocv_y.shape[0]
    dur, liq, padd, pmass = table[0], table[2], table[3], table[4]
    m = m0
    q = q0
    e = 0.0
    t = 0.0
    vmin = np.inf
    ok = True
    for i in range(lo, hi):
        d = dur[i]
        if d <= 0.0:
            m -= liq[i] * dens
            continue
        nsteps = max(1, int(math.ceil(d / step_max)))
        h = d / nsteps
        dm = liq[i] * dens / nsteps
        for _ in range(nsteps):
            mm = m - 0.5 * dm
            p = k_h * mm**1.5 + padd[i] + pmass[i] * mm
            soc = 1.0 - q / cap_ah
            voc = cells * _ocv(soc, ocv_y, n_soc)
            cur, vl = _pack_current(voc, r, p)
            if cur < 0.0:
                ok = False
                cur = voc / (2.0 * r)
            q += cur * h / 3600.0
            e += voc * cur * h / 3600.0
            t += h
            m -= dm
            vmin = min(vmin, vl / cells)
    return m, q, e, t, vmin, ok


@kernel("float64(float64, float64, float64, float64, float64[::1], float64[::1], float64, float64)")
def _hover_endurance(p, cap_ah, r, cells, soc_x, ocv_y, cutoff, h):
    q = 0.0
    t = 0.0
    max_steps = int(24.0 * 3600.0 / h)
    for _ in range(max_steps):
        soc = 1.0 - q / cap_ah
        if soc <= 0.0:
            break
        voc = cells * np.interp(soc, soc_x, ocv_y)
        cur, vl = _pack_current(voc, r, p)
        if cur < 0.0 or vl / cells < cutoff:
            break
        q += cur * h / 3600.0
        t += h
    return t


@kernel("Tuple((float64[:, ::1], int64[::1]))"
        "(float64[:, ::1], int64[::1], float64[::1], float64[::1], float64[::1], float64[::1], float64[::1],"
        " float64, float64, float64, float64, float64)")
def _legs_pieces(xy, starts, v, lpm, p_fixed, v_start, v_end, accel, edge, radius, k_par, fm):
    """Pieces of legs one after the other, leg i the rows starts[i]..starts[i+1]-1 of ``xy``
    flown as _leg_pieces flies it at speed v[i] with lpm[i] L/m, fixed power p_fixed[i] (W)
    and entry / exit speeds v_start[i] / v_end[i]: the pieces of all legs in one table and
    the column where each leg's pieces start (with one more entry, the table's width)."""
    n = starts.shape[0] - 1
    parts = []
    offsets = np.zeros(n + 1, dtype=np.int64)
    for i in range(n):
        part = _leg_pieces(np.ascontiguousarray(xy[starts[i]:starts[i + 1]]), v[i], accel, edge,
                           radius, lpm[i], p_fixed[i], k_par, fm, v_start[i], v_end[i])
        parts.append(part)
        offsets[i + 1] = offsets[i] + part.shape[1]
    out = np.zeros((5, offsets[n]))
    for i in range(n):
        out[:, offsets[i]:offsets[i + 1]] = parts[i]
    return out, offsets


# how _fly_legs stopped: at a leg that is not a pass (transit, lead-in or lead-out) after the
# last pass (the route's own way home); at such a leg with the tank dry; at such a leg after
# which the way home breaks a limit; at a pass that does not fit whole (too little liquid, or
# a limit broken on the way home after it); after the route's last leg
WALK_TAIL, WALK_DRY, WALK_TRANSIT_FAILS, WALK_CUT, WALK_END = range(5)


@kernel()
def _margin(q, vmin, ok, cap_ah, limits):
    """EnergyModel.margin of a state with charge q (Ah) drawn, lowest cell voltage vmin (V)
    and delivery flag ok; limits: reserve SoC, cut-off cell voltage (V)."""
    if not ok:
        return -1.0
    return min((1.0 - q / cap_ah) - limits[0], vmin - limits[1])


@kernel("Tuple((int64, int64, float64, float64, float64, float64, float64, boolean, float64, float64, boolean))"
        "(float64[:, ::1], int64[::1], float64[:, ::1], int64[::1], int64[::1], float64[:, ::1], float64[::1],"
        " boolean[::1], int64, int64, float64, float64, float64, float64, float64, boolean, float64, float64,"
        " float64, float64[::1], float64[::1], float64[::1])")
def _fly_legs(legs, legs_off, home, home_lo, home_hi, landing, lengths, is_spray, j, last_spray,
              m, q, e, t, vmin, ok, liquid, lpm, dry_l, battery, ocv_y, limits):
    """The sortie walk over whole route legs from leg j with the flight state (mass kg,
    charge Ah, energy Wh, time s, lowest cell V, delivered) and ``liquid`` litres left: each
    leg is kept when the flight home after it (leg i's home pieces in columns
    home_lo[i]..home_hi[i]-1, then the landing) keeps the margin >= 0 and a pass's liquid
    (lengths[i] m at lpm L/m) is on board; a transit leg is not started with the tank dry
    (at most ``dry_l`` L). Returns how it stopped (WALK_*), the leg it stopped at, the state
    after the legs kept, the liquid left, the margin after a whole pass and home for
    WALK_CUT (-1 when the liquid did not suffice) and whether a pass was sprayed."""
    cap_ah = battery[1]
    n = lengths.shape[0]
    sprayed = False
    while True:
        margin_full = -1.0
        if not is_spray[j]:
            if j > last_spray:
                return WALK_TAIL, j, m, q, e, t, vmin, ok, liquid, margin_full, sprayed
            if liquid <= dry_l:
                return WALK_DRY, j, m, q, e, t, vmin, ok, liquid, margin_full, sprayed
        elif not lengths[j] <= liquid / lpm + 1e-6:
            return WALK_CUT, j, m, q, e, t, vmin, ok, liquid, margin_full, sprayed
        m1, q1, e1, t1, v1, ok1 = _fly_span(legs, legs_off[j], legs_off[j + 1], m, q, battery, ocv_y)
        e1 = e + e1
        t1 = t + t1
        v1 = min(vmin, v1)
        ok1 = ok and ok1
        m2, q2, _, _, v2, ok2 = _fly_span(home, home_lo[j], home_hi[j], m1, q1, battery, ocv_y)
        _, q3, _, _, v3, ok3 = _fly_span(landing, 0, landing.shape[1], m2, q2, battery, ocv_y)
        margin = _margin(q3, min(min(v1, v2), v3), ok1 and ok2 and ok3, cap_ah, limits)
        if not is_spray[j]:
            if margin < 0.0:
                return WALK_TRANSIT_FAILS, j, m, q, e, t, vmin, ok, liquid, margin_full, sprayed
        else:
            if margin < 0.0:
                return WALK_CUT, j, m, q, e, t, vmin, ok, liquid, margin, sprayed
            liquid = max(liquid - lengths[j] * lpm, 0.0)
            sprayed = True
        m, q, e, t, vmin, ok = m1, q1, e1, t1, v1, ok1
        j += 1
        if j == n:
            return WALK_END, j, m, q, e, t, vmin, ok, liquid, margin_full, sprayed


@kernel("Tuple((int64, float64, float64, float64, float64, float64, boolean, float64, float64))"
        "(float64[:, ::1], int64[::1], float64[::1], boolean[::1], int64, float64, float64, float64, float64,"
        " float64, boolean, float64, float64, float64[::1], float64[::1])")
def _fly_route(legs, legs_off, need, is_spray, j, m, q, e, t, vmin, ok, liquid, remaining, battery, ocv_y):
    """The legs of a route flown one after the other from leg j with the flight state (mass
    kg, charge Ah, energy Wh, time s, lowest cell V, delivered), ``liquid`` litres in the tank
    and ``remaining`` still to spray, each pass using need[i] litres, until a pass needs more
    than the tank holds (+1e-9 L) or the route ends: the leg it stopped at, the state, the
    liquid in the tank and the litres still to spray."""
    n = need.shape[0]
    while j < n:
        if is_spray[j] and need[j] > liquid + 1e-9:
            break
        m, q1, e1, t1, v1, ok1 = _fly_span(legs, legs_off[j], legs_off[j + 1], m, q, battery, ocv_y)
        q = q1
        e = e + e1
        t = t + t1
        vmin = min(vmin, v1)
        ok = ok and ok1
        if is_spray[j]:
            liquid -= need[j]
            remaining -= need[j]
        j += 1
    return j, m, q, e, t, vmin, ok, liquid, remaining


@kernel("Tuple((float64, float64, float64, float64, float64, boolean, float64))"
        "(float64[:, ::1], float64[:, ::1], float64[:, ::1], float64[:, ::1], float64, float64, float64, float64,"
        " float64, boolean, float64, float64, float64, float64, float64, boolean, float64[::1], float64[::1],"
        " float64[::1], float64, float64, float64, float64, float64)")
def _fly_cut(part, lead, home, landing, v, v_transit, lpm, p_spray, p_idle, at_speed,
             m, q, e, t, vmin, ok, battery, ocv_y, limits, accel, edge, radius, k_par, fm):
    """A pass sprayed up to a breakpoint (polyline ``part``, entered at speed v when
    ``at_speed``), its lead-out ``lead`` flown pump-off on from there at speed v (none when
    it has fewer than 2 points), from the flight state (mass kg, charge Ah, energy Wh, time
    s, lowest cell V, delivered): the state after them and the landing margin after the
    transit ``home`` (at v_transit) and the landing pieces; lpm L/m sprayed, p_spray /
    p_idle the fixed power (W) with the pump on / off, as _leg_pieces takes them."""
    has_lead = lead.shape[0] >= 2
    pieces = _leg_pieces(part, v, accel, edge, radius, lpm, p_spray, k_par, fm,
                         v if at_speed else 0.0, v if has_lead else 0.0)
    m1, q1, e1, t1, v1, ok1 = _fly_span(pieces, 0, pieces.shape[1], m, q, battery, ocv_y)
    e1 = e + e1
    t1 = t + t1
    v1 = min(vmin, v1)
    ok1 = ok and ok1
    if has_lead:
        pieces = _leg_pieces(lead, v, accel, edge, radius, 0.0, p_idle, k_par, fm, v, 0.0)
        m2, q2, e2, t2, v2, ok2 = _fly_span(pieces, 0, pieces.shape[1], m1, q1, battery, ocv_y)
        m1, q1, e1, t1, v1, ok1 = m2, q2, e1 + e2, t1 + t2, min(v1, v2), ok1 and ok2
    pieces = _leg_pieces(home, v_transit, accel, edge, radius, 0.0, p_idle, k_par, fm, 0.0, 0.0)
    m3, q3, _, _, v3, ok3 = _fly_span(pieces, 0, pieces.shape[1], m1, q1, battery, ocv_y)
    _, q4, _, _, v4, ok4 = _fly_span(landing, 0, landing.shape[1], m3, q3, battery, ocv_y)
    margin = _margin(q4, min(min(v1, v3), v4), ok1 and ok3 and ok4, battery[1], limits)
    return m1, q1, e1, t1, v1, ok1, margin

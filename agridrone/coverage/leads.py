"""Lead-in and lead-out: straight pump-off legs in line with each pass, so the vehicle
crosses the pass start already at spray speed and is still flying straight at speed when
the pump goes off at the pass end (the turn comes after).

Without them the vehicle accelerates out of, and decelerates into, every pass end with the
pump switched on there: ArduPilot's AC_Sprayer scales the pump with ground speed (so the
slow metres get the dose, but the pump-off fires when the navigation *target* reaches the
waypoint, ahead of the aircraft), and PX4 holds the actuator value set for cruise speed,
so the slow metres at each end get too much.

Lengths (:func:`lead_lengths_m`): on ArduPilot the lead-in is the distance the autopilot's
jerk-limited (S-curve) speed profile needs from a stop to the spray speed
(:func:`ramp_distance_m`), and the lead-out the same (its S-curve is symmetric). The
lead-out is what the autopilot needs to still command full speed at the pass end when
it stops (or turns sharply) at the lead-out's end: PX4 looks only one waypoint ahead,
assumes a stop there and limits the speed with TrajMath's computeMaxSpeedFromDistance
(v² = 2·a·(d − 2·a·v/j)), so it needs v²/(2a) + 2·a·v/j (:func:`px4_braking_distance_m`).
PX4's lead-in is that braking distance too: the ramp alone (6.0 m) was too short, as PX4
enters the lead-in from a 90° turn it takes at sqrt(MPC_XY_TRAJ_P·MPC_ACC_HOR·NAV_ACC_RAD)
≈ 1.2 m/s sideways and its position controller then trails the S-curve setpoint, so it
flew within 3 m of the pass ends at 3.8 m/s, not 5. Lead legs may run beyond the field's
edge (the inclusion fence grows around every leg outside the field, missions/fence.py, so
they stay the fence margin inside it); they are shortened only where they would come
within the no-spray zones' clearance. The pump is off on them. A pass cut at a breakpoint
between two sorties gets them too (agridrone.sorties): a lead-out over its unsprayed rest
and a lead-in over its sprayed part, both inside the field.

Default (:func:`leads_by_default`): on for PX4, off for ArduPilot. Measured on real SITL
(2 ha sample, every sortie, bench/leadin_bench.py): on PX4 the leads cut the liquid used
from 34.0 to 31.9 L of 30.0 planned and raise the share within ±10 % from 64.9 to 68.5 %;
on ArduPilot, whose sprayer follows ground speed, they changed the share within ±10 %
from 95.9 to 95.5 % and moved the pump start 0.6 → 2.5 m (median) into each pass (the
sprayer's 3 Hz latency at full speed), at the cost of ~20 m more flying per pass.

What PX4 still missed with these leads (71.0-71.5 % within ±10 %; the decomposition is in
bench/leadin_bench.py): not the pass ends, which it now crosses at 4.9-5.0 m/s, but the first
25 m of every pass, flown at 3.7-4.5 m/s because its trajectory generator waits for a vehicle
that trails it after the turn (MPC_XY_ERR_MAX), and PX4 SIH's ±0.4 m lateral and ±0.2 m
height weave, which moves the pattern's ramps in the overlap strips. MPC_XY_ERR_MAX 10
(missions/px4_params.py, set again once sortie starts no longer fell into RTL) took the pass
starts to 4.6 m/s and the share to 77-79 %; the simulated hexacopter's own tune
(sim/px4_sitl.py) took the weave to 0.15 m cross-track and 0.14 m in height (p90) and the
share to 92-94 %. A 35 m lead-in (three braking distances) with MPC_XY_ERR_MAX 2 brought the
pass starts to 4.5 m/s and the liquid to 30.9 L of 30.0, but the share to 80.1 % in one run
and 71.4 % in the next (the weave varied), so the lead-in stays one braking distance: the
extra 23 m per pass (+9.5 % flight time on the 2 ha sample, 35 m beyond the field's edge) did
not reliably pay.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import LineString, MultiPolygon, Point

# ArduPilot Copter waypoint navigation (AC_WPNav defaults, Copter 4.x): WPNAV_ACCEL 250 cm/s²,
# WPNAV_JERK 1 m/s³ (the S-curve's jerk limit).
ARDUPILOT_ACCEL_M_S2 = 2.5
ARDUPILOT_JERK_M_S3 = 1.0
# PX4 multicopter auto modes (parameter reference defaults): MPC_ACC_HOR 3 m/s²,
# MPC_JERK_AUTO 4 m/s³.
PX4_ACCEL_M_S2 = 3.0
PX4_JERK_M_S3 = 4.0
# ArduPilot AC_Sprayer: update() runs at 3 Hz and spraying starts once the speed has been
# above SPRAY_SPEED_MIN for 100 ms (AC_SPRAYER_DEFAULT_TURN_ON_DELAY): the pump can start up
# to this long after the DO_SPRAYER item at the pass start has run.
ARDUPILOT_SPRAYER_PERIOD_S = 1.0 / 3.0
ARDUPILOT_SPRAYER_ON_DELAY_S = 0.1
MIN_LEAD_M = 0.5  # a lead leg shorter than this is left out
LIMITS = {"ardupilot": (ARDUPILOT_ACCEL_M_S2, ARDUPILOT_JERK_M_S3),
          "px4": (PX4_ACCEL_M_S2, PX4_JERK_M_S3)}


def leads_by_default(autopilot: str) -> bool:
    """Whether plans for ``autopilot`` ("ardupilot" or "px4") get lead legs unless told
    (module docstring: they pay on PX4, not on ArduPilot)."""
    return autopilot == "px4"


def ramp_distance_m(speed_m_s: float, accel_m_s2: float, jerk_m_s3: float) -> float:
    """Distance (m) a jerk-limited speed profile (acceleration at most ``accel_m_s2``, its
    rate of change at most ``jerk_m_s3``) covers from rest to ``speed_m_s``: the S-curve is
    point-symmetric about half speed, so the distance is speed × ramp time / 2, with ramp
    time v/a + a/j when the acceleration limit is reached (v ≥ a²/j), else 2·√(v/j)."""
    v, a, j = float(speed_m_s), float(accel_m_s2), float(jerk_m_s3)
    ramp_s = v / a + a / j if v >= a * a / j else 2.0 * math.sqrt(v / j)
    return v * ramp_s / 2.0


def px4_braking_distance_m(speed_m_s: float, accel_m_s2: float, jerk_m_s3: float) -> float:
    """The distance (m) before a stop at which PX4 still commands ``speed_m_s``: the inverse
    of TrajMath's computeMaxSpeedFromDistance with final speed 0, v²/(2a) + 2·a·v/j."""
    v, a, j = float(speed_m_s), float(accel_m_s2), float(jerk_m_s3)
    return v * v / (2.0 * a) + 2.0 * a * v / j


def lead_lengths_m(autopilot: str, speed_m_s: float) -> tuple[float, float]:
    """(lead-in, lead-out) lengths (m) for ``autopilot`` at the spray speed (m/s): 11.2 m
    and 11.2 m on ArduPilot (the S-curve ramp); 11.7 m and 11.7 m on PX4 at 5 m/s (its
    braking distance both ways: the ramp alone, 6.0 m, left PX4 slow after the turn into
    the lead-in, module docstring)."""
    accel, jerk = LIMITS.get(autopilot, LIMITS["ardupilot"])
    if autopilot == "px4":
        brake = px4_braking_distance_m(speed_m_s, accel, jerk)
        return brake, brake
    ramp = ramp_distance_m(speed_m_s, accel, jerk)
    return ramp, ramp


def sprayer_start_lag_m(speed_m_s: float) -> float:
    """The most (m) ArduPilot's sprayer can start after its DO_SPRAYER ran, at ``speed_m_s``:
    one 3 Hz update period plus the 100 ms on-delay (2.2 m at 5 m/s)."""
    return speed_m_s * (ARDUPILOT_SPRAYER_PERIOD_S + ARDUPILOT_SPRAYER_ON_DELAY_S)


@dataclass(frozen=True)
class LeadRegion:
    """Where lead legs may run (local metres): the field widened by ``reach_m`` (the longest
    lead), minus the no-spray zones' keep-out."""

    region: MultiPolygon

    @classmethod
    def around(cls, outer: MultiPolygon, keep_out, reach_m: float) -> LeadRegion:
        widened = outer.buffer(reach_m, join_style="mitre") if reach_m > 0 else outer
        region = shapely.difference(widened, keep_out)
        shapely.prepare(region)
        return cls(region)

    def clip(self, start: np.ndarray, direction: np.ndarray, length_m: float) -> float:
        """How far (m, at most ``length_m``) from ``start`` along the unit ``direction`` a
        straight leg stays inside the region (0 when shorter than MIN_LEAD_M)."""
        if length_m < MIN_LEAD_M or not shapely.covers(self.region, Point(start)):
            return 0.0
        line = LineString([start, start + length_m * direction])
        if shapely.covers(self.region, line):
            return float(length_m)
        inside = shapely.intersection(line, self.region)
        reach = 0.0
        for part in getattr(inside, "geoms", [inside]):
            if part.is_empty or part.geom_type != "LineString":
                continue
            coords = np.asarray(part.coords)
            near = np.hypot(*(coords - start).T)
            if near.min() <= 1e-6:
                reach = max(reach, float(near.max()))
        return reach if reach >= MIN_LEAD_M else 0.0


def leads_for(segment: np.ndarray, region: LeadRegion, lead_in_m: float, lead_out_m: float
              ) -> tuple[np.ndarray | None, np.ndarray | None]:
    """The lead-in (up to ``lead_in_m``, ending at the pass start) and lead-out (up to
    ``lead_out_m``, starting at its end) of a straight pass ``segment`` ((2, 2) local
    metres), each a (2, 2) array or None."""
    d = segment[1] - segment[0]
    norm = float(np.hypot(*d))
    if norm <= 0.0:
        return None, None
    u = d / norm
    back = region.clip(segment[0], -u, lead_in_m)
    ahead = region.clip(segment[1], u, lead_out_m)
    lead_in = np.array([segment[0] - back * u, segment[0]]) if back > 0 else None
    lead_out = np.array([segment[1], segment[1] + ahead * u]) if ahead > 0 else None
    return lead_in, lead_out

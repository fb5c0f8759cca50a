"""What calibration reads from a flight log, on one time base: the battery's samples."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from agridrone.errors import AgridroneError

MIN_BATTERY_SAMPLES = 20
AIRBORNE_M = 1.0  # height above home (m) above which the drone counts as flying


@dataclass(frozen=True)
class FlightLog:
    """One flight (one arming) as arrays over the battery's sample times.

    t_s: time (s from the first battery sample); voltage_v: loaded pack voltage (V);
    current_a: pack current (A); alt_m: height above home (m); speed_m_s: horizontal
    ground speed (m/s); climb_m_s: vertical speed, up positive (m/s); spraying: pump on;
    temp_c: battery (else air) temperature (°C), None when not logged; tank_l: a tank-level
    sensor's litres, None when not logged; source: the log's file; number: which flight
    (arming) of that file, from 1; home_amsl_m: the take-off point's altitude (m above
    sea level, 0 when not logged); autopilot: "ardupilot"
    or "px4".
    """

    source: Path
    autopilot: str
    t_s: np.ndarray
    voltage_v: np.ndarray
    current_a: np.ndarray
    alt_m: np.ndarray
    speed_m_s: np.ndarray
    climb_m_s: np.ndarray
    spraying: np.ndarray
    temp_c: float | None = None
    tank_l: np.ndarray | None = None
    number: int = 1
    home_amsl_m: float = 0.0

    @property
    def name(self) -> str:
        """The file's name and ``#N``, the N-th flight (arming) in it."""
        return f"{self.source.name}#{self.number}"

    @property
    def dt_s(self) -> np.ndarray:
        """Each sample's share of time (s): held until the next sample, the last one zero."""
        return np.append(np.diff(self.t_s), 0.0)

    @property
    def airborne(self) -> np.ndarray:
        """Samples between the first and the last one above AIRBORNE_M."""
        above = np.flatnonzero(self.alt_m > AIRBORNE_M)
        mask = np.zeros(self.t_s.size, dtype=bool)
        if above.size:
            mask[above[0]:above[-1] + 1] = True
        return mask

    def energy_wh(self, resistance_ohm: float = 0.0) -> float:
        """Energy drawn from the pack (Wh): (loaded voltage + current × ``resistance_ohm``)
        × current over time, i.e. with the pack's own losses when its resistance is given
        (agridrone.energy counts energy that way)."""
        power = (self.voltage_v + self.current_a * resistance_ohm) * self.current_a
        return float(np.sum(power * self.dt_s)) / 3600.0

    def charge_ah(self) -> np.ndarray:
        """Charge drawn up to each sample (Ah), from the current."""
        return np.concatenate(([0.0], np.cumsum(self.current_a[:-1] * np.diff(self.t_s)))) / 3600.0

    def spray_time_s(self) -> float:
        """Seconds the pump ran."""
        return float(np.sum(self.dt_s[self.spraying]))


def on_grid(t_s: np.ndarray, times: np.ndarray, values: np.ndarray) -> np.ndarray:
    """``values`` sampled at ``times`` (s, ascending) linearly interpolated onto ``t_s``."""
    if times.size == 0:
        return np.zeros_like(t_s)
    return np.interp(t_s, times, values)


def held(t_s: np.ndarray, times: np.ndarray, values: np.ndarray, default: float = 0.0) -> np.ndarray:
    """The last value at or before each time of ``t_s`` (a step signal); ``default`` before
    the first."""
    if values.size == 0:
        return np.full(t_s.shape, default, dtype=np.float64)
    k = np.searchsorted(times, t_s, side="right") - 1
    return np.where(k >= 0, values[np.clip(k, 0, None)], default)


def check_battery(path: Path, t_s: np.ndarray, voltage_v: np.ndarray,
                  current_a: np.ndarray | None = None) -> None:
    """Refuse a log with too few battery samples, a pack that reads no voltage, or one whose
    current reads zero throughout (no current sensor; PX4's SIH simulator models none)."""
    if t_s.size < MIN_BATTERY_SAMPLES or not np.any(voltage_v > 0.5):
        raise AgridroneError(f"{path}: no battery messages (voltage and current) in this log; "
                             "calibration needs them")
    if current_a is not None and not np.any(current_a > 0.0):
        raise AgridroneError(f"{path}: the battery current reads zero throughout this log (no "
                             "current sensor); calibration needs it")

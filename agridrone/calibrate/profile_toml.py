"""The calibrated drone as TOML that ``plan --drone FILE`` loads, and its ``[calibration]``
table read back for ``agridrone drones``.

The file is the base profile with the fitted figure of merit, drag area, avionics power,
pack resistance and state of health put in, the maker's ``[published]`` figures left out
(they describe the maker's drone, not this one), and a ``[calibration]`` table: the base
profile, the logs, each fitted value's uncertainty, the fit's RMS residual and the held-out
flights' energy errors. No date: the same logs give the same file, byte for byte.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

from agridrone.drone import DroneProfile
from agridrone.errors import AgridroneError

try:  # Python 3.11+
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

_AIRFRAME_KEYS = ("empty_mass_kg", "rotor_count", "rotor_diameter_m", "figure_of_merit",
                  "drag_area_m2", "max_speed_m_s", "climb_rate_m_s", "descent_rate_m_s", "tank_l",
                  "pump_max_l_min", "swath_width_m", "avionics_w", "pump_w")
_BATTERY_KEYS = ("chemistry", "cells_series", "capacity_ah", "internal_resistance_mohm",
                 "state_of_health_pct", "reserve_pct", "cutoff_v_per_cell", "mass_kg")


def _value(v) -> str:
    """A TOML value: strings and numbers (6 significant digits), lists of them."""
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if not math.isfinite(v):
            raise AgridroneError(f"cannot write {v} to a drone profile")
        return repr(float(f"{v:.6g}"))
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    raise TypeError(f"no TOML for {type(v).__name__}")


def render_profile(drone: DroneProfile, calibration: dict) -> str:
    """The TOML text of ``drone`` (already holding the fitted values) with ``calibration`` as
    its ``[calibration]`` table (string, number and list values)."""
    lines = [f"# {drone.name}: calibrated by agridrone calibrate from flight logs; see "
             "[calibration].", f"name = {_value(drone.name)}",
             f"description = {_value(drone.description)}"]
    lines += [f"{k} = {_value(getattr(drone, k))}" for k in _AIRFRAME_KEYS]
    lines += ["", "[battery]"] + [f"{k} = {_value(getattr(drone.battery, k))}" for k in _BATTERY_KEYS]
    pattern = drone.spray_pattern
    if pattern is not None:
        lines += ["", "[spray_pattern]"]
        if pattern.ramp_fraction is not None:
            lines.append(f"ramp_fraction = {_value(pattern.ramp_fraction)}")
        else:
            lines += [f"offsets_m = {_value(pattern.offsets_m)}",
                      f"deposit = {_value(pattern.deposit)}", f"source = {_value(pattern.source)}"]
    if drone.limits is not None:
        lim = drone.limits
        lines += ["", "[limits]", f"max_spray_height_m = {_value(lim.max_spray_height_m)}",
                  f"max_spray_speed_m_s = {_value(lim.max_spray_speed_m_s)}",
                  f"max_wind_m_s = {_value(lim.max_wind_m_s)}",
                  f"swath_by_height = [{', '.join(_value(list(p)) for p in lim.swath_by_height)}]"]
    lines += ["", "[calibration]"] + [f"{k} = {_value(v)}" for k, v in calibration.items()]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class CalibratedProfile:
    """A calibrated profile found on disk: its file, name, base profile, the logs it came
    from, the fit's RMS residual (% of mean power), its held-out flights' energy errors (%)
    and the whole ``[calibration]`` table."""

    path: Path
    name: str
    base: str
    logs: tuple[str, ...]
    rms_pct: float
    holdout_error_pct: tuple[float, ...]
    table: dict


def read_calibration(path: Path) -> CalibratedProfile | None:
    """The ``[calibration]`` table of the TOML file ``path``, None when it has none or is not
    a readable TOML file."""
    try:
        with Path(path).open("rb") as fh:
            data = tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError):
        return None
    cal = data.get("calibration")
    if not isinstance(cal, dict):
        return None
    return CalibratedProfile(Path(path), str(data.get("name", Path(path).stem)),
                             str(cal.get("base", "?")), tuple(cal.get("logs", ())),
                             float(cal.get("power_rms_pct", math.nan)),
                             tuple(float(x) for x in cal.get("holdout_error_pct", ())), cal)


USER_DIR_ENV = "AGRIDRONE_DRONES_DIR"


def user_profile_dir() -> Path:
    """The user's own drone folder: $AGRIDRONE_DRONES_DIR, else
    $XDG_DATA_HOME/agridrone/drones (~/.local/share/agridrone/drones)."""
    import os

    if os.environ.get(USER_DIR_ENV):
        return Path(os.environ[USER_DIR_ENV])
    data = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data) / "agridrone" / "drones"


def find_calibrated(folders: list[Path]) -> list[CalibratedProfile]:
    """The calibrated profiles (TOML files with a ``[calibration]`` table) in ``folders``,
    each folder's in file-name order; missing folders are skipped."""
    out = []
    for folder in folders:
        if Path(folder).is_dir():
            out += [c for p in sorted(Path(folder).glob("*.toml"))
                    if (c := read_calibration(p)) is not None]
    return out

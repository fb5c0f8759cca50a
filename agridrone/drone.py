"""Drone profiles: the airframe, spray system and battery figures the energy model needs.

Profiles are TOML files. The presets are package data in ``agridrone/data/drones/`` and
are chosen by file stem (``--drone agras-t30``); any other TOML file is chosen by path.
A profile holds top-level airframe keys, a ``[battery]`` table and, for presets, a
``[published]`` table with the maker's hover-time figures the model is checked against.
A calibrated profile (``agridrone calibrate``) carries a ``[calibration]`` table saying which
logs it was fitted to; planning does not read it.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

from agridrone.errors import AgridroneError

try:  # Python 3.11+
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

PRESET_DIR = Path(__file__).resolve().parent / "data" / "drones"
DEFAULT_DRONE = "agras-t30"
LIQUID_DENSITY_KG_L = 1.0  # spray mixes are close to water
DEFAULT_RAMP_FRACTION = 0.3  # spray pattern ramp, share of the swath (trapezoid default)

CHEMISTRIES = ("lipo", "li-ion", "lifepo4")

# key -> (low, high, unit) inclusive allowed range
_AIRFRAME_RANGES: dict[str, tuple[float, float, str]] = {
    "empty_mass_kg": (0.2, 300.0, "kg"),
    "rotor_count": (3, 16, "rotors"),
    "rotor_diameter_m": (0.1, 3.0, "m"),
    "figure_of_merit": (0.2, 0.85, ""),
    "drag_area_m2": (0.0, 5.0, "m²"),
    "max_speed_m_s": (1.0, 30.0, "m/s"),
    "climb_rate_m_s": (0.2, 10.0, "m/s"),
    "descent_rate_m_s": (0.2, 10.0, "m/s"),
    "tank_l": (0.5, 100.0, "L"),
    "pump_max_l_min": (0.1, 60.0, "L/min"),
    "swath_width_m": (1.0, 30.0, "m"),
    "avionics_w": (0.0, 3000.0, "W"),
    "pump_w": (0.0, 3000.0, "W"),
}
_BATTERY_RANGES: dict[str, tuple[float, float, str]] = {
    "cells_series": (1, 30, "cells"),
    "capacity_ah": (0.5, 300.0, "Ah"),
    "internal_resistance_mohm": (0.0, 2000.0, "mΩ"),
    "state_of_health_pct": (50.0, 100.0, "%"),
    "reserve_pct": (0.0, 60.0, "%"),
    "mass_kg": (0.05, 80.0, "kg"),
}
# cut-off volts per cell under load, allowed range per chemistry
_CUTOFF_RANGES: dict[str, tuple[float, float]] = {
    "lipo": (3.0, 3.8),
    "li-ion": (2.5, 3.7),
    "lifepo4": (2.5, 3.2),
}
_PUBLISHED_RANGES: dict[str, tuple[float, float, str]] = {
    "hover_empty_min": (0.5, 120.0, "min"),
    "hover_empty_takeoff_kg": (0.2, 400.0, "kg"),
    "hover_loaded_min": (0.5, 120.0, "min"),
    "hover_loaded_takeoff_kg": (0.2, 400.0, "kg"),
}
_INT_KEYS = {"rotor_count", "cells_series"}
_LIMITS_RANGES: dict[str, tuple[float, float, str]] = {
    "max_spray_height_m": (0.5, 50.0, "m"),
    "max_spray_speed_m_s": (0.5, 30.0, "m/s"),
    "max_wind_m_s": (0.0, 30.0, "m/s"),
}
_SWATH_POINT_RANGES = ((0.0, 50.0, "m height"), (0.5, 30.0, "m swath"))


@dataclass(frozen=True)
class BatterySpec:
    """A flight battery pack.

    chemistry: ``"lipo"``, ``"li-ion"`` or ``"lifepo4"`` (selects the OCV(SoC) curve).
    cells_series: cells in series. capacity_ah: rated capacity (Ah) when new.
    internal_resistance_mohm: whole-pack resistance (mΩ) at 25 °C when new.
    state_of_health_pct: remaining capacity against new (%).
    reserve_pct: state of charge (%) the drone must still hold on landing.
    cutoff_v_per_cell: lowest allowed cell voltage under load (V).
    mass_kg: pack mass (kg).
    """

    chemistry: str
    cells_series: int
    capacity_ah: float
    internal_resistance_mohm: float
    state_of_health_pct: float
    reserve_pct: float
    cutoff_v_per_cell: float
    mass_kg: float


@dataclass(frozen=True)
class PublishedHover:
    """The maker's hover-time figures: minutes at a stated takeoff mass (kg), empty and loaded,
    and where they were published."""

    hover_empty_min: float
    hover_empty_takeoff_kg: float
    hover_loaded_min: float
    hover_loaded_takeoff_kg: float
    source: str


@dataclass(frozen=True)
class SprayPattern:
    """The lateral spray pattern: relative deposit across the flight line.

    offsets_m: lateral offsets from the flight line (m, ascending, the first < 0 < the
    last); deposit: relative deposit at each offset (>= 0, any scale), linear between
    the points and zero beyond the ends. The dose model normalises it so that its
    integral is one. ``source`` says where it comes from (the test report of a measured
    pattern, e.g. an ISO 23117-2 patternator run); ``ramp_fraction`` is the ramp's share
    of the swath for a trapezoid, None for a measured pattern.

    The default (:meth:`trapezoid`) is flat over the swath minus a ramp and falls linearly
    to zero over the ramp on each side, centred on the swath's edges, so that passes one
    swath apart sum to a flat dose.
    """

    offsets_m: tuple[float, ...]
    deposit: tuple[float, ...]
    source: str
    ramp_fraction: float | None = None

    @classmethod
    def trapezoid(cls, swath_m: float, ramp_fraction: float = DEFAULT_RAMP_FRACTION) -> SprayPattern:
        """Flat over ``swath_m × (1 - ramp_fraction)``, zero beyond
        ``swath_m × (1 + ramp_fraction)`` (widths in m, centred on the flight line)."""
        inner = swath_m * (1.0 - ramp_fraction) / 2.0
        outer = swath_m * (1.0 + ramp_fraction) / 2.0
        if ramp_fraction == 0.0:
            outer = inner + 1e-6 * swath_m
        return cls((-outer, -inner, inner, outer), (0.0, 1.0, 1.0, 0.0),
                   f"trapezoid, ramp {100 * ramp_fraction:g} % of the {swath_m:g} m swath",
                   ramp_fraction)

    @property
    def half_width_m(self) -> float:
        """The farthest offset (m) the pattern reaches on either side."""
        return max(-self.offsets_m[0], self.offsets_m[-1])


@dataclass(frozen=True)
class OperatingLimits:
    """Where the spray system works as rated: above ``max_spray_height_m`` (m above the crop)
    or faster than ``max_spray_speed_m_s`` (m/s) the droplets drift off the swath, and
    spraying stops above ``max_wind_m_s`` (m/s). ``swath_by_height`` is the effective swath
    (m) at spray heights (m), ((height, swath), ...) with heights increasing; between the
    points it is interpolated linearly, beyond them it stays at the nearest point's width."""

    max_spray_height_m: float
    max_spray_speed_m_s: float
    max_wind_m_s: float
    swath_by_height: tuple[tuple[float, float], ...]

    def swath_at(self, height_m: float) -> float:
        """Effective swath width (m) at ``height_m`` metres above the crop."""
        points = self.swath_by_height
        if height_m <= points[0][0]:
            return points[0][1]
        for (h0, w0), (h1, w1) in zip(points, points[1:], strict=False):
            if height_m <= h1:
                return w0 + (w1 - w0) * (height_m - h0) / (h1 - h0)
        return points[-1][1]


def limits_from_dict(data: dict | None) -> OperatingLimits | None:
    """:class:`OperatingLimits` from its plain dict (plan.json's ``drone.limits``), or None."""
    if data is None:
        return None
    points = tuple((float(h), float(w)) for h, w in data["swath_by_height"])
    return OperatingLimits(**{**data, "swath_by_height": points})


@dataclass(frozen=True)
class DroneProfile:
    """A spraying multirotor.

    Masses in kg (empty_mass_kg is the airframe without battery and without liquid),
    lengths in metres, speeds and rates in m/s, tank in litres, pump flow in L/min,
    powers in watts. figure_of_merit is the rotors' hover efficiency (ideal / actual
    power); drag_area_m2 is Cd·A for forward flight. published holds the maker's hover
    figures for presets, None for user profiles without them. spray_pattern is the
    lateral deposit pattern at the profile's swath (a ``[spray_pattern]`` table: either
    ``ramp_fraction`` of the default trapezoid, or measured ``offsets_m`` and
    ``deposit`` with their ``source``); see :meth:`pattern_for`. limits holds the spray
    system's operating limits (``[limits]`` table), None when the profile states none.
    """

    name: str
    description: str
    empty_mass_kg: float
    rotor_count: int
    rotor_diameter_m: float
    figure_of_merit: float
    drag_area_m2: float
    max_speed_m_s: float
    climb_rate_m_s: float
    descent_rate_m_s: float
    tank_l: float
    pump_max_l_min: float
    swath_width_m: float
    avionics_w: float
    pump_w: float
    battery: BatterySpec
    published: PublishedHover | None = None
    spray_pattern: SprayPattern | None = None
    limits: OperatingLimits | None = None

    def __post_init__(self) -> None:
        # a profile read back from plan.json (``as_dict``) carries the pattern as a mapping
        if isinstance(self.spray_pattern, dict):
            p = self.spray_pattern
            object.__setattr__(self, "spray_pattern", SprayPattern(
                tuple(p["offsets_m"]), tuple(p["deposit"]), p["source"], p.get("ramp_fraction")))

    def pattern_for(self, swath_m: float) -> SprayPattern:
        """The spray pattern flown at ``swath_m`` (m): a measured pattern as given, else the
        trapezoid of this profile's ramp share (the default 30 % when none is given)."""
        if self.spray_pattern is None:
            return SprayPattern.trapezoid(swath_m)
        if self.spray_pattern.ramp_fraction is None:
            return self.spray_pattern
        return SprayPattern.trapezoid(swath_m, self.spray_pattern.ramp_fraction)

    @property
    def disk_area_m2(self) -> float:
        """Total rotor disk area in m² (all rotors, coaxial pairs counted twice)."""
        return self.rotor_count * math.pi * (self.rotor_diameter_m / 2.0) ** 2

    def takeoff_mass_kg(self, liquid_l: float) -> float:
        """Mass in kg with the battery and ``liquid_l`` litres of spray liquid (1 kg/L)."""
        return self.empty_mass_kg + self.battery.mass_kg + liquid_l * LIQUID_DENSITY_KG_L

    def as_dict(self) -> dict:
        """The profile as plain JSON-ready values (nested ``battery``, ``published`` and
        ``limits``, its swath points as [height, swath] lists)."""
        data = asdict(self)
        if data["limits"] is not None:
            data["limits"]["swath_by_height"] = [list(p) for p in self.limits.swath_by_height]
        return data


def list_presets() -> list[DroneProfile]:
    """All preset profiles in ``agridrone/data/drones/``, sorted by name."""
    return [load_drone(str(p)) for p in sorted(PRESET_DIR.glob("*.toml"))]


def preset_names() -> list[str]:
    """Names (file stems) of the preset profiles, sorted."""
    return sorted(p.stem for p in PRESET_DIR.glob("*.toml"))


def load_drone(name_or_path: str) -> DroneProfile:
    """Load a drone profile by preset name (file stem in ``agridrone/data/drones/``) or TOML path.

    Raises AgridroneError naming the file and the offending key (with its allowed range)
    for an unknown preset, unreadable TOML, a missing, unknown or out-of-range key.
    """
    path = Path(name_or_path)
    if path.suffix.lower() != ".toml" and not path.exists():
        path = PRESET_DIR / f"{name_or_path}.toml"
        if not path.is_file():
            raise AgridroneError(
                f"unknown drone {name_or_path!r}; presets: {', '.join(preset_names())} "
                "(or give a path to a .toml profile)"
            )
    try:
        text = path.read_bytes()
    except FileNotFoundError:
        raise AgridroneError(f"drone profile {path} not found") from None
    except OSError as exc:
        raise AgridroneError(f"drone profile {path}: cannot read ({exc.strerror})") from None
    return _parsed_profile(path, text)


@lru_cache(maxsize=32)  # a batch loads the same profile twice per field
def _parsed_profile(path: Path, text: bytes) -> DroneProfile:
    """The profile in the TOML file ``path`` whose bytes are ``text``."""
    try:
        data = tomllib.loads(text.decode())
    except tomllib.TOMLDecodeError as exc:
        raise AgridroneError(f"drone profile {path}: not valid TOML ({exc})") from None
    return _profile_from_mapping(data, path)


def _profile_from_mapping(data: dict, path: Path) -> DroneProfile:
    where = f"drone profile {path.name}"
    allowed_top = set(_AIRFRAME_RANGES) | {"name", "description", "battery", "published",
                                           "spray_pattern", "limits", "calibration"}
    _reject_unknown(data, allowed_top, where, "")
    if not isinstance(data.get("calibration", {}), dict):  # written by agridrone calibrate
        raise AgridroneError(f"{where}: 'calibration' must be a table")
    airframe = {k: _number(data, k, _AIRFRAME_RANGES[k], where, "") for k in _AIRFRAME_RANGES}
    name = data.get("name", path.stem)
    description = data.get("description", "")
    if not isinstance(name, str) or not name.strip():
        raise AgridroneError(f"{where}: key 'name' must be a non-empty string")
    if not isinstance(description, str):
        raise AgridroneError(f"{where}: key 'description' must be a string")

    bat = data.get("battery")
    if not isinstance(bat, dict):
        raise AgridroneError(f"{where}: missing table [battery]")
    _reject_unknown(bat, set(_BATTERY_RANGES) | {"chemistry", "cutoff_v_per_cell"}, where, "battery.")
    chemistry = bat.get("chemistry")
    if chemistry not in CHEMISTRIES:
        raise AgridroneError(
            f"{where}: key 'battery.chemistry' = {chemistry!r}; allowed: {', '.join(CHEMISTRIES)}"
        )
    lo, hi = _CUTOFF_RANGES[chemistry]
    battery_values = {
        k: _number(bat, k, _BATTERY_RANGES[k], where, "battery.") for k in _BATTERY_RANGES
    }
    cutoff = _number(bat, "cutoff_v_per_cell", (lo, hi, f"V for {chemistry}"), where, "battery.")
    battery = BatterySpec(chemistry=chemistry, cutoff_v_per_cell=cutoff, **battery_values)

    published = None
    pub = data.get("published")
    if pub is not None:
        if not isinstance(pub, dict):
            raise AgridroneError(f"{where}: 'published' must be a table")
        _reject_unknown(pub, set(_PUBLISHED_RANGES) | {"source"}, where, "published.")
        source = pub.get("source", "")
        if not isinstance(source, str) or not source:
            raise AgridroneError(f"{where}: key 'published.source' must name the spec page")
        figures = {
            k: _number(pub, k, _PUBLISHED_RANGES[k], where, "published.") for k in _PUBLISHED_RANGES
        }
        published = PublishedHover(source=source, **figures)
    pattern = _spray_pattern(data.get("spray_pattern"), airframe["swath_width_m"], where)
    return DroneProfile(
        name=name, description=description, battery=battery, published=published,
        spray_pattern=pattern, limits=_limits(data.get("limits"), where), **airframe
    )


def _spray_pattern(table, swath_m: float, where: str) -> SprayPattern | None:
    """The ``[spray_pattern]`` table: ``ramp_fraction`` (0..1) of the default trapezoid, or a
    measured pattern ``offsets_m`` (m, ascending, spanning the flight line), ``deposit``
    (>= 0, same length) and ``source``; None when the table is absent."""
    if table is None:
        return None
    if not isinstance(table, dict):
        raise AgridroneError(f"{where}: 'spray_pattern' must be a table")
    _reject_unknown(table, {"ramp_fraction", "offsets_m", "deposit", "source"}, where,
                    "spray_pattern.")
    if "offsets_m" not in table and "deposit" not in table:
        ramp = _number(table, "ramp_fraction", (0.0, 1.0, ""), where, "spray_pattern.") if (
            "ramp_fraction" in table) else DEFAULT_RAMP_FRACTION
        return SprayPattern.trapezoid(swath_m, ramp)
    if "ramp_fraction" in table:
        raise AgridroneError(f"{where}: give either 'spray_pattern.ramp_fraction' or a measured "
                             "'offsets_m'/'deposit' table, not both")
    offsets, deposit = table.get("offsets_m"), table.get("deposit")
    ok = (isinstance(offsets, list) and isinstance(deposit, list) and len(offsets) == len(deposit)
          and len(offsets) >= 3
          and all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
                  for v in [*offsets, *deposit]))
    if not ok:
        raise AgridroneError(f"{where}: 'spray_pattern.offsets_m' and 'spray_pattern.deposit' must "
                             "be lists of at least 3 numbers of the same length")
    if any(b <= a for a, b in zip(offsets[:-1], offsets[1:], strict=True)) or not offsets[0] < 0 < offsets[-1]:
        raise AgridroneError(f"{where}: 'spray_pattern.offsets_m' must ascend and span the flight "
                             f"line (first < 0 < last), got {offsets}")
    if any(v < 0 for v in deposit) or not any(v > 0 for v in deposit):
        raise AgridroneError(f"{where}: 'spray_pattern.deposit' must be >= 0 and not all zero")
    if max(-offsets[0], offsets[-1]) > 2.0 * swath_m:
        raise AgridroneError(f"{where}: 'spray_pattern.offsets_m' reaches beyond twice the "
                             f"{swath_m:g} m swath; give offsets in metres")
    source = table.get("source", "")
    if not isinstance(source, str) or not source.strip():
        raise AgridroneError(f"{where}: key 'spray_pattern.source' must name the pattern test "
                             "(e.g. the ISO 23117-2 report)")
    return SprayPattern(tuple(float(v) for v in offsets), tuple(float(v) for v in deposit), source)


def _limits(table: object, where: str) -> OperatingLimits | None:
    """The ``[limits]`` table: the three maxima and ``swath_by_height`` = [[height m, swath
    m], ...] with strictly increasing heights, all within range."""
    if table is None:
        return None
    if not isinstance(table, dict):
        raise AgridroneError(f"{where}: 'limits' must be a table")
    _reject_unknown(table, set(_LIMITS_RANGES) | {"swath_by_height"}, where, "limits.")
    values = {k: _number(table, k, _LIMITS_RANGES[k], where, "limits.") for k in _LIMITS_RANGES}
    raw = table.get("swath_by_height")
    shape_error = (f"{where}: key 'limits.swath_by_height' must be a list of [height m, swath m]"
                   " pairs with increasing heights")
    if not isinstance(raw, list) or not raw:
        raise AgridroneError(shape_error)
    points = []
    for pair in raw:
        if not isinstance(pair, list) or len(pair) != 2 or not all(
                isinstance(v, (int, float)) and not isinstance(v, bool) for v in pair):
            raise AgridroneError(shape_error)
        for value, (lo, hi, unit) in zip(pair, _SWATH_POINT_RANGES, strict=True):
            if not lo <= value <= hi:
                raise AgridroneError(f"{where}: key 'limits.swath_by_height' point {pair}: "
                                     f"{value!r} is out of range; allowed {lo:g}..{hi:g} {unit}")
        points.append((float(pair[0]), float(pair[1])))
    if any(b[0] <= a[0] for a, b in zip(points, points[1:], strict=False)):
        raise AgridroneError(shape_error)
    return OperatingLimits(swath_by_height=tuple(points), **values)


def _reject_unknown(table: dict, allowed: set[str], where: str, prefix: str) -> None:
    for key in table:
        if key not in allowed:
            raise AgridroneError(
                f"{where}: unknown key '{prefix}{key}'; allowed: {', '.join(sorted(allowed))}"
            )


def _number(table: dict, key: str, rng: tuple[float, float, str], where: str, prefix: str):
    lo, hi, unit = rng
    unit_text = f" {unit}" if unit else ""
    if key not in table:
        raise AgridroneError(f"{where}: missing key '{prefix}{key}' ({lo:g}..{hi:g}{unit_text})")
    value = table[key]
    is_int_key = key in _INT_KEYS
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (
        is_int_key and not isinstance(value, int)
    ):
        kind = "an integer" if is_int_key else "a number"
        raise AgridroneError(
            f"{where}: key '{prefix}{key}' = {value!r} must be {kind} in {lo:g}..{hi:g}{unit_text}"
        )
    if not (lo <= value <= hi) or (isinstance(value, float) and math.isnan(value)):
        raise AgridroneError(
            f"{where}: key '{prefix}{key}' = {value!r} is out of range; allowed {lo:g}..{hi:g}{unit_text}"
        )
    return int(value) if is_int_key else float(value)

"""The vehicle settings a command takes from plan.json, and the options that override them.

plan.json is the one source of truth: ``upload``, ``params`` and ``show`` read the drone,
application rate, pass spacing (swath), spray speed, altitude frame, transit altitude,
ending, item limit and fence margin from the plan's ``inputs`` and ``drone``. An option given
on the command line wins, and says so in a warning naming the plan's value. Without a plan
(a .plan or .waypoints file, or ``params`` alone) the options and these defaults apply.
"""

from __future__ import annotations

from dataclasses import dataclass

from agridrone.drone import DroneProfile, load_drone
from agridrone.errors import AgridroneError

DEFAULT_SPEED_M_S = 5.0  # the planner's default spray speed (agridrone plan --speed)
DEFAULTS = {"alt_frame": "relative", "transit_alt_m": None, "end": "rtl", "max_items": None,
            "fence_margin_m": 10.0}


@dataclass(frozen=True)
class PlanSettings:
    """What a vehicle command loads: ``drone`` (None when neither plan nor --drone names one),
    ``rate_l_ha`` (L/ha, None when unknown), ``swath_m`` pass spacing (m), ``speed_m_s``
    spray speed (m/s), ``alt_frame`` ("relative"/"terrain"), ``transit_alt_m`` (m, None: the
    spray altitude), ``end`` ("rtl"/"land"), ``max_items`` (None: the autopilot's default),
    ``fence_margin_m`` (m) and ``autopilot`` the plan was made for (None without a plan)."""

    drone: DroneProfile | None
    rate_l_ha: float | None
    swath_m: float | None
    speed_m_s: float
    alt_frame: str
    transit_alt_m: float | None
    end: str
    max_items: int | None
    fence_margin_m: float
    autopilot: str | None


# setting -> (option name, unit shown in the warning, plan.json inputs key)
_OPTIONS = {
    "rate_l_ha": ("--rate", " L/ha", "rate_l_ha"),
    "swath_m": ("--swath-width", " m", "swath_width_m"),
    "speed_m_s": ("--speed", " m/s", "speed_m_s"),
    "alt_frame": ("--alt-frame", "", "alt_frame"),
    "transit_alt_m": ("--transit-alt", " m", "transit_alt_m"),
    "end": ("--end", "", "end"),
    "max_items": ("--max-items", " items", "max_items"),
    "fence_margin_m": ("--fence-margin", " m", "fence_margin_m"),
}


def _shown(value, unit: str) -> str:
    if value is None:
        return "(not set)"
    return f"{value:g}{unit}" if isinstance(value, float) else f"{value}{unit}"


def resolve(plan: dict | None, *, drone: str | None = None, **options) -> tuple[PlanSettings,
                                                                               list[str]]:
    """The settings for ``plan`` (a plan.json dict, or None) with ``options`` (the keys of
    :class:`PlanSettings` except drone and autopilot; None: not given) and ``drone`` (a preset
    name or .toml path, None: not given) applied, and one warning per option that overrides a
    different plan value. Raises AgridroneError for an unknown option name."""
    unknown = set(options) - set(_OPTIONS)
    if unknown:
        raise AgridroneError(f"unknown plan setting(s): {', '.join(sorted(unknown))}")
    warnings: list[str] = []
    values: dict = {}
    inputs = plan["inputs"] if plan is not None else {}
    for key, (option, unit, input_key) in _OPTIONS.items():
        given = options.get(key)
        if plan is None:
            values[key] = given if given is not None else DEFAULTS.get(key)
            continue
        planned = {"rate_l_ha": plan["rate_l_ha"],
                   "swath_m": plan["application"]["spacing_m"]}.get(key, inputs.get(input_key))
        if given is not None and given != planned:
            warnings.append(f"{option} {_shown(given, unit)} overrides the plan's "
                            f"{_shown(planned, unit)}")
        values[key] = given if given is not None else planned
    if values["speed_m_s"] is None:
        values["speed_m_s"] = DEFAULT_SPEED_M_S
    profile = _drone(plan, drone, warnings)
    if values["swath_m"] is None and profile is not None:
        values["swath_m"] = profile.swath_width_m
    return PlanSettings(drone=profile, autopilot=inputs.get("autopilot"), **values), warnings


def _drone(plan: dict | None, name: str | None, warnings: list[str]) -> DroneProfile | None:
    from agridrone.resume import drone_from_plan

    if name is not None:
        profile = load_drone(name)
        if plan is not None and profile.as_dict() != plan["drone"]:
            warnings.append(f"--drone {name} overrides the plan's drone {plan['drone']['name']}")
        return profile
    return drone_from_plan(plan) if plan is not None else None

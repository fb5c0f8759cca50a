"""The terminal report of a plan."""

from __future__ import annotations

from typing import Protocol


class StationSaving(Protocol):
    """What ``--home auto`` reports: candidates tried and dead-head saved (m)."""

    candidates: int
    saving_m: float
    default_deadhead_m: float


def format_duration(seconds: float) -> str:
    """Seconds as ``1 h 02 min 05 s`` / ``12 min 05 s`` / ``42 s``."""
    total = int(round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min {secs:02d} s"
    if minutes:
        return f"{minutes} min {secs:02d} s"
    return f"{secs} s"


def _clock(seconds: float) -> str:
    """Seconds as ``m:ss``."""
    minutes, secs = divmod(int(round(seconds)), 60)
    return f"{minutes}:{secs:02d}"


def _swaps(count: int) -> str:
    return f"{count} battery swap" + ("" if count == 1 else "s")


def plan_report(plan: dict, station_choice: StationSaving | None = None) -> str:
    """Human-readable summary of a plan.json document: the field and route, then one line
    per sortie and the totals."""
    m = plan["metrics"]
    inputs = plan["inputs"]
    drone = plan["drone"]
    totals = plan["totals"]
    dose = m["dose"]
    app = plan["application"]
    heading_note = "fixed" if inputs["heading_deg"] is not None else "searched"
    lon, lat = plan["station"]
    station_note = {"auto": "chosen to minimise dead-head", None: "nearest boundary point"}.get(
        inputs["home"] if isinstance(inputs["home"], str) or inputs["home"] is None else "given",
        "given",
    )
    lines = [
        f"field            {inputs['field_file']}",
        f"area             {m['area_ha']:.2f} ha ({m['sprayable_ha']:.2f} ha sprayable)",
        f"passes           {m['passes']} (swath {inputs['swath_width_m']:g} m, heading {m['heading_deg']:.1f}°, {heading_note})",
        f"spray distance   {m['spray_m'] / 1000:.2f} km",
        f"coverage         {m['coverage_pct']:.2f} % (overlap {m['overlap_pct']:.2f} %, outside {m['outside_m2']:.0f} m²)",
        f"drone            {drone['name']}: {drone['tank_l']:g} L tank, "
        f"{drone['battery']['cells_series']}S {drone['battery']['capacity_ah']:g} Ah {drone['battery']['chemistry']}, "
        f"reserve {drone['battery']['reserve_pct']:g} %",
        f"application      {plan['rate_l_ha']:g} L/ha at {inputs['speed_m_s']:g} m/s, {totals['liquid_l']:.1f} L in all",
        f"dose             mean {dose['mean_l_ha']:.2f} L/ha, CV {dose['cv_pct']:.1f} %, "
        f"{dose['within_10_pct']:.1f} % within ±10 %, {dose['above_150_pct']:.1f} % above 1.5×, "
        f"{dose['outside_field_l']:.2f} L outside the field",
        f"pump             spacing {app['spacing_m']:.2f} m: {app['flow_l_min']:.2f} L/min, "
        f"SPRAY_PUMP_RATE {app['spray_pump_rate']:.2f} %/(m/s)",
        f"station          {lat:.7f}, {lon:.7f} (lat, lon; {station_note})",
    ]
    if station_choice is not None:
        lines.append(
            f"                 saves {station_choice.saving_m:.0f} m of dead-head against the default "
            f"({station_choice.default_deadhead_m:.0f} m), best of {station_choice.candidates} candidates"
        )
    lines += [
        f"sorties          {totals['sorties']} (lower bound {plan['lower_bound_sorties']}: "
        "max(⌈liquid / tank⌉, ⌈energy / usable energy per battery⌉))",
        "",
        "  #   time   distance     spray   liquid   energy  landing SoC  min cell  ends",
    ]
    for sortie in plan["sorties"]:
        bp = sortie["breakpoint"]
        ends = "end of pass" if bp is None else f"inside pass {bp['pass'] + 1}"
        lines.append(
            f"{sortie['index']:3d}  {_clock(sortie['time_s']):>5}  {sortie['distance_m'] / 1000:6.2f} km"
            f"  {sortie['spray_m'] / 1000:5.2f} km  {sortie['liquid_l']:5.1f} L  {sortie['energy_wh']:6.0f} Wh"
            f"  {sortie['soc_landing_pct']:8.1f} %  {sortie['min_cell_v']:6.2f} V  {ends}"
        )
    lines += [
        "",
        f"dead-head        {totals['deadhead_m'] / 1000:.2f} km over all sorties ({m['turns']} turns)",
        f"estimated time   {format_duration(totals['time_s'])} including {_swaps(totals['sorties'] - 1)} "
        f"of {format_duration(totals['swap_time_s'])}",
        f"energy           {totals['energy_wh'] / 1000:.2f} kWh",
    ]
    return "\n".join(lines)

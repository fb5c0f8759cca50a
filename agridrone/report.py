"""The terminal report of a plan."""

from __future__ import annotations


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


def plan_report(plan: dict) -> str:
    """Human-readable summary of a plan.json document."""
    m = plan["metrics"]
    inputs = plan["inputs"]
    heading_note = "fixed" if inputs["heading_deg"] is not None else "searched"
    lon, lat = plan["station"]
    lines = [
        f"field            {inputs['field_file']}",
        f"area             {m['area_ha']:.2f} ha ({m['sprayable_ha']:.2f} ha sprayable)",
        f"passes           {m['passes']} (swath {inputs['swath_width_m']:g} m, heading {m['heading_deg']:.1f}°, {heading_note})",
        f"spray distance   {m['spray_m'] / 1000:.2f} km",
        f"dead-head        {m['deadhead_m'] / 1000:.2f} km ({m['turns']} turns)",
        f"estimated time   {format_duration(m['est_time_s'])}",
        f"coverage         {m['coverage_pct']:.2f} % (overlap {m['overlap_pct']:.2f} %, outside {m['outside_m2']:.0f} m²)",
        f"station          {lat:.7f}, {lon:.7f} (lat, lon)",
        f"sorties          {len(plan['sorties'])}",
    ]
    return "\n".join(lines)

"""Where a sortie's mission stopped, in the plan's terms: the last mission item the vehicle
reached mapped back to a vertex of the sortie's legs, for :func:`agridrone.resume.resume_plan`."""

from __future__ import annotations

from agridrone.errors import AgridroneError
from agridrone.resume import Stop
from missions.mission import CMD_NAV_WAYPOINT, MissionItem, build_mission, to_int7


def stop_after_item(plan: dict, sortie_index: int, reached: int) -> Stop:
    """The :class:`~agridrone.resume.Stop` of sortie ``sortie_index`` (1-based) whose vehicle
    last reached mission item ``reached`` of the ArduPilot mission built with the plan's
    options (item 0 = home). Raises AgridroneError for a sortie or item the plan does not
    have, or a sortie flown as several missions."""
    sorties = plan["sorties"]
    if not 1 <= sortie_index <= len(sorties):
        raise AgridroneError(f"no sortie {sortie_index}: the plan has {len(sorties)} sorties")
    inputs = plan["inputs"]
    parts = build_mission(plan, sortie_index, autopilot="ardupilot",
                          alt_frame=inputs["alt_frame"], transit_alt_m=inputs["transit_alt_m"],
                          end=inputs["end"], max_items=inputs["max_items"])
    if len(parts) > 1:
        raise AgridroneError(f"sortie {sortie_index} is flown as {len(parts)} missions; resume "
                             "supports sorties flown as one mission (raise --max-items)")
    items = parts[0]
    if not 0 <= reached < len(items):
        raise AgridroneError(f"mission item {reached} is not in sortie {sortie_index} "
                             f"(items 0..{len(items) - 1})")
    return _reached_vertex(sorties[sortie_index - 1]["legs"], items, reached)


def _reached_vertex(legs_json: list[dict], items: list[MissionItem], reached: int) -> Stop:
    """The last leg vertex at or before mission item ``reached``, matched to the sortie's
    legs in flying order; Stop(-1) when none was reached (still at the station)."""
    vertices = [(i, k, (to_int7(lat), to_int7(lon)))
                for i, leg in enumerate(legs_json) for k, (lon, lat) in enumerate(leg["coords"])]
    at, cursor = Stop(-1), 0
    for item in items[1:reached + 1]:
        if item.command != CMD_NAV_WAYPOINT:
            continue
        for j in range(cursor, len(vertices)):
            if vertices[j][2] == (item.x, item.y):
                at, cursor = Stop(vertices[j][0], vertices[j][1]), j + 1
                break
    return at

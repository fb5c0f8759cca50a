"""Where a sortie's mission stopped, in the plan's terms: the last mission item the vehicle
reached mapped back to a vertex of the sortie's legs, for :func:`agridrone.resume.resume_plan`."""

from __future__ import annotations

from agridrone.errors import AgridroneError
from agridrone.resume import Stop
from missions.mission import CMD_NAV_WAYPOINT, MissionItem, build_mission, pump_state, to_int7


def stop_after_item(plan: dict, sortie_index: int, reached: int, part: int = 0) -> Stop:
    """The :class:`~agridrone.resume.Stop` of sortie ``sortie_index`` (1-based) whose vehicle
    last reached mission item ``reached`` of mission ``part`` (0 for a, 1 for b, ... of a
    sortie split by the item limit) of the ArduPilot missions built with the plan's options
    (item 0 = home). Raises AgridroneError for a sortie, part or item the plan does not
    have."""
    sorties = plan["sorties"]
    if not 1 <= sortie_index <= len(sorties):
        raise AgridroneError(f"no sortie {sortie_index}: the plan has {len(sorties)} sorties")
    inputs = plan["inputs"]
    parts = build_mission(plan, sortie_index, autopilot="ardupilot",
                          alt_frame=inputs["alt_frame"], transit_alt_m=inputs["transit_alt_m"],
                          end=inputs["end"], max_items=inputs["max_items"])
    if not 0 <= part < len(parts):
        raise AgridroneError(f"sortie {sortie_index} is flown as {len(parts)} mission(s); it has "
                             f"no part {chr(ord('a') + part)}")
    items = parts[part]
    if not 0 <= reached < len(items):
        raise AgridroneError(f"mission item {reached} is not in sortie {sortie_index} "
                             f"(items 0..{len(items) - 1})")
    if len(parts) == 1:
        return _reached_vertex(sorties[sortie_index - 1]["legs"], items, reached)
    # Each mission of a split sortie flies from the station to where the one before
    # stopped and back: only what lies between a mission's first pump-on and last pump-off
    # is the sortie's own work (the flights to and from the station can meet its transits).
    flown = [item for earlier in parts[:part] for item in _spraying(earlier)]
    current = _spraying(items[:reached + 1])
    return _reached_vertex(sorties[sortie_index - 1]["legs"], [items[0], *flown, *current],
                           len(flown) + len(current))


def _spraying(items: list[MissionItem]) -> list[MissionItem]:
    """The items from the first pump-on to the pump-off after the last pump-on (to the end
    when it has none); none when the pump never comes on."""
    on = [i for i, item in enumerate(items) if pump_state(item) is True]
    if not on:
        return []
    off = [i for i in range(on[-1], len(items)) if pump_state(items[i]) is False]
    return items[on[0]:(off[0] if off else len(items) - 1) + 1]


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

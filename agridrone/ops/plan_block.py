"""The ``ops`` block of a drone's region plan.json: which drone of the day flies it, its
MAVLink system id, and the pack the schedule gave each sortie. ``upload`` and ``simulate``
address that system id; ``simulate`` credits those packs in the registry."""

from __future__ import annotations

from pathlib import PurePosixPath

from agridrone.errors import AgridroneError


def ops_block(fd, plan, schedule_path: str) -> dict:
    """The block of region plan ``plan`` (an :class:`agridrone.ops.day.RegionPlan`) of field
    day ``fd``: drone number, sysid, the plan's sorties' packs in order, and the path of
    schedule.json relative to the plan's folder."""
    flights = sorted((f for f in fd.result.flights
                      if f.drone == plan.drone and f.job.stop == plan.stop),
                     key=lambda f: f.sortie)
    return {"drone": plan.drone, "sysid": plan.sysid, "packs": [f.pack for f in flights],
            "schedule": schedule_path}


def schedule_from(folder: str) -> str:
    """schedule.json's path relative to a plan folder ``folder`` (relative to DIR)."""
    depth = len(PurePosixPath(folder).parts)
    return "/".join([".."] * depth + ["schedule.json"])


def _block(plan: dict) -> dict | None:
    block = plan.get("ops")
    if block is not None and not isinstance(block, dict):
        raise AgridroneError("plan.json: 'ops' must be an object (drone, sysid, packs)")
    return block


def plan_sysid(plan: dict) -> int | None:
    """The MAVLink system id a plan.json names (its ``ops`` block), None when it names none;
    AgridroneError when it is not 1..255."""
    block = _block(plan)
    if block is None:
        return None
    sysid = block.get("sysid")
    if not isinstance(sysid, int) or isinstance(sysid, bool) or not 1 <= sysid <= 255:
        raise AgridroneError(f"plan.json: ops.sysid {sysid!r} is not a MAVLink system id "
                             "(1-255)")
    return sysid


def plan_packs(plan: dict) -> list[str] | None:
    """The pack of each sortie of a plan.json made by ``agridrone ops``, None for a plan
    without an ``ops`` block; AgridroneError when the block and the sorties disagree."""
    block = _block(plan)
    if block is None:
        return None
    packs = block.get("packs")
    if not isinstance(packs, list) or not all(isinstance(p, str) and p for p in packs):
        raise AgridroneError("plan.json: ops.packs must be a list of pack ids")
    if len(packs) != len(plan["sorties"]):
        raise AgridroneError(f"the plan's ops block names {len(packs)} packs for "
                             f"{len(plan['sorties'])} sorties")
    return packs

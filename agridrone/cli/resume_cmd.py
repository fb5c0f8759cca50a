"""``agridrone resume``: plan what is left after a sortie stopped early."""

from __future__ import annotations

import string
from pathlib import Path

import click

from agridrone.cli.json_output import Output, json_option
from agridrone.cli.plan_cmd import STALE_PATTERNS, parse_lat_lon, plan_json
from agridrone.cli.simulate_cmd import connect_key
from agridrone.errors import AgridroneError


@click.command("resume")
@click.argument("plan_file", metavar="PLAN", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--at", "at", default=None, metavar="LAT,LON",
              help="Where the stopped sortie's pump stopped (simulate prints it from the "
                   "flight's telemetry): the rest starts exactly there.")
@click.option("--connect", "address", default=None,
              help="Read the last reached mission item from this vehicle (MISSION_CURRENT, "
                   "MISSION_ITEM_REACHED).")
@click.option("--reached", type=click.IntRange(min=0), default=None,
              help="The last mission item the stopped sortie reached.")
@click.option("--part", default="a", show_default=True,
              type=click.Choice(list(string.ascii_lowercase[:8])),
              help="With --reached/--connect: which mission of a sortie split by --max-items "
                   "(sortie-NNa, NNb, ...) was flying.")
@click.option("--sortie", type=click.IntRange(min=1), default=1, show_default=True,
              help="The sortie that stopped (1-based).")
@click.option("-o", "--out", "outdir", required=True,
              type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the new plan (created if missing).")
@click.option("--key", "key_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="MAVLink 2 signing key file of the --connect vehicle (agridrone signing).")
@json_option
def resume(plan_file: Path, at: str | None, address: str | None, reached: int | None,
           part: str, sortie: int, outdir: Path, key_file: Path | None, as_json: bool) -> None:
    """Write a new plan covering only what is left of PLAN after a sortie stopped early:
    the rest of that sortie's spraying from where it stopped, then every later sortie,
    split again into sorties with the same drone and options. It writes what 'plan'
    writes: plan.json, coverage.geojson, preview.png, map.html, the mission files, and the
    report (with --json: one JSON document instead).

    Where it stopped, one of: --at LAT,LON (where the pump really stopped, so nothing is
    sprayed twice or missed), --reached N (the last mission item reached; the stretch flown
    after that waypoint is sprayed again) or --connect ADDR (asks the vehicle for N).

    \b
    Examples:
      agridrone resume out/plan.json --sortie 2 --at 31.4512345,74.2212345 -o out-rest/
      agridrone resume out/plan.json --sortie 2 --reached 41 -o out-rest/
      agridrone resume out/plan.json --sortie 2 --connect tcp:127.0.0.1:5760 -o out-rest/
    """
    from agridrone.outputs import remove_stale, write_files_atomically
    from agridrone.plan_file import read_plan
    from agridrone.planner import plan_files
    from agridrone.report import plan_report
    from agridrone.resume import resume_plan, stop_at_point
    from missions.files import plan_mission_files
    from missions.progress import stop_after_item

    out = Output(as_json)
    if sum(x is not None for x in (at, address, reached)) != 1:
        raise AgridroneError("give one of --at LAT,LON, --reached N or --connect ADDRESS")
    plan = read_plan(plan_file)
    if at is not None:
        lon, lat = parse_lat_lon(at, "--at")
        stop = stop_at_point(plan, sortie, lon, lat)
        where = f"the point {at}"
    else:
        if reached is None:
            from firmware_bridge.flight import read_progress

            reached = read_progress(address, key=connect_key(key_file, address))
            out.line(f"vehicle {address}: last reached mission item {reached}")
        stop = stop_after_item(plan, sortie, reached, ord(part) - ord("a"))
        where = f"item {reached}"
    planned = resume_plan(plan, sortie, stop)
    missions, warnings = plan_mission_files(planned.document)
    files = {**plan_files(planned), **missions}
    for warning in warnings:
        out.warn(warning)
    write_files_atomically(outdir, files)
    removed = remove_stale(outdir, STALE_PATTERNS, keep=set(files))
    document = planned.document
    out.line(f"rest of sortie {sortie} from {where} and the sorties after it: "
               f"{document['metrics']['spray_m'] / 1000:.2f} km to spray in "
               f"{document['totals']['sorties']} sorties "
               f"(was {plan['metrics']['spray_m'] / 1000:.2f} km in {len(plan['sorties'])})")
    out.line(plan_report(document))
    out.line(f"wrote            {len(files)} files to {outdir}: " + ", ".join(sorted(files)[:6])
             + (" …" if len(files) > 6 else ""))
    out.document({**plan_json(document, outdir, files, removed),
                  "resumed": {"plan_file": str(plan_file), "sortie": sortie,
                              "at": None if at is None else [lon, lat], "reached": reached,
                              "was": {"spray_m": plan["metrics"]["spray_m"],
                                      "sorties": len(plan["sorties"])}}})

"""``agridrone ops``: a day in the field with several drones, a few packs, chargers on one
generator; plans, schedule, charts and every drone's mission files out."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import click

from agridrone.cli.json_output import Output, json_option
from agridrone.drone import DEFAULT_DRONE
from agridrone.errors import AgridroneError
from agridrone.ops import bounds, registry
from agridrone.ops.charts import gantt_png, map_png
from agridrone.ops.day import Day, OpsInputs, plan_day, schedule
from agridrone.ops.plan_block import ops_block, schedule_from
from agridrone.ops.schedule_file import plan_dir, schedule_document
from agridrone.ops.scheduler import Crew
from agridrone.plan_file import dumps
from agridrone.planner import plan_files
from missions.files import plan_mission_files

POSITIVE = click.FloatRange(min=0, min_open=True)
ADVISE_CHARGER_KW = (3.0, 4.5, 7.2, 9.0)
ADVISE_GOAL = 0.90  # drones airborne this share of the day


def parse_clock(text: str) -> float:
    """``HH:MM`` -> seconds after midnight; AgridroneError when malformed."""
    try:
        hh, mm = text.split(":")
        h, m = int(hh), int(mm)
    except ValueError:
        raise AgridroneError(f"--start wants HH:MM, e.g. 07:30; got {text!r}") from None
    if not (0 <= h < 24 and 0 <= m < 60):
        raise AgridroneError(f"--start {text}: hours 0-23, minutes 0-59")
    return h * 3600.0 + m * 60.0


def sysid_params(autopilot: str, sysid: int) -> bytes:
    """A parameter file giving the vehicle its MAVLink system id (load it once per drone):
    ``SYSID_THISMAV`` on ArduPilot, ``MAV_SYS_ID`` on PX4 (both take effect on reboot)."""
    name = "SYSID_THISMAV" if autopilot == "ardupilot" else "MAV_SYS_ID"
    return f"{name},{sysid}\n".encode()


def day_files(day: Day) -> dict[str, bytes]:
    """Every output file of ``day``, name (with folders) -> bytes."""
    files: dict[str, bytes] = {"schedule.json": dumps(schedule_document(day)),
                               "gantt.png": gantt_png(day), "map.png": map_png(day)}
    for fd in day.fields:
        for job in fd.jobs:
            files[f"{fd.field.name}/drone-{job.number}/sysid.parm"] = sysid_params(
                day.inputs.autopilot, job.sysid)
        for plan in fd.regions:
            folder = plan_dir(fd.field.name, plan.drone, plan.stop, plan.stops)
            document = {**plan.planned.document,
                        "ops": ops_block(fd, plan, schedule_from(folder))}
            missions, _ = plan_mission_files(document)
            planned = replace(plan.planned, document=document)
            for name, content in {**plan_files(planned), **missions}.items():
                files[f"{folder}/{name}"] = content
            files[f"{folder}/{plan.name}.geojson"] = plan.region_geojson
            files[f"{folder}/stations.geojson"] = plan.stations_geojson
    return files


def advise(day: Day, max_packs: int) -> tuple[int, int, float, float, float] | None:
    """The smallest (packs, chargers, charger kW) that keeps the drones flying, i.e. not
    waiting for a charged pack, at least ADVISE_GOAL of the day on every field (the ground
    time of swaps and refills is flying work no pack can save: airborne alone tops out near
    85 % with a 90 s refill per 10 min sortie), with the working and airborne shares
    reached; None when none tried does. Sets are tried smallest first: fewest packs, then
    least charger power, then fewest chargers, each within the generator."""
    crew = day.crew
    options = sorted(
        ((k, c, kw) for k in range(1, max_packs + 1) for c in (1, 2, 3) for kw in ADVISE_CHARGER_KW
         if c * kw / day.spec.efficiency <= crew.generator_kw + 1e-9),
        key=lambda o: (o[0], o[1] * o[2], o[1]))
    for packs, chargers, kw in options:
        trial = Crew(chargers, kw, crew.generator_kw, crew.swap_time_s, crew.refill_l_min,
                     crew.separation_m, crew.air_c, crew.step_s)
        pool = [(f"P{i}", 1.0, 0) for i in range(1, packs + 1)]
        result = schedule(day, pool, trial)
        drones = day.inputs.drones
        share = min(bounds.working_share(fd.result, drones) for fd in result.fields)
        if share >= ADVISE_GOAL:
            airborne = min(bounds.flying_share(fd.result, drones) for fd in result.fields)
            return packs, chargers, kw, share, airborne
    return None


@click.command()
@click.argument("fields", nargs=-1, metavar="FIELD...")
@click.option("-o", "--out", "outdir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder for schedule.json, gantt.png, map.png and one plan folder per field "
                   "and drone (FIELD/drone-N/plan.json and its mission files).")
@click.option("--drones", default=1, show_default=True, type=click.IntRange(1, 8),
              help="Drones flying at once; each field is split into one region per drone.")
@click.option("--drone", "drone_name", default=DEFAULT_DRONE, show_default=True, metavar="NAME|FILE",
              help="Drone profile of every drone: a preset (see 'agridrone drones') or a TOML file.")
@click.option("--packs", default=4, show_default=True, type=click.IntRange(1, 64),
              help="Battery packs in the pool the drones share (taken from the registry first).")
@click.option("--chargers", default=1, show_default=True, type=click.IntRange(1, 16),
              help="Chargers, one pack each at a time.")
@click.option("--charger-kw", default=7.2, show_default=True, type=POSITIVE,
              help="DC output of each charger in kW.")
@click.option("--generator-kw", default=9.0, show_default=True, type=POSITIVE,
              help="Electrical output of the one generator feeding every charger, kW.")
@click.option("--refill-l-min", default=20.0, show_default=True, type=POSITIVE,
              help="Refill pump flow in L/min; ground time is the longer of swap and refill.")
@click.option("--swap-time", default=60.0, show_default=True, type=click.FloatRange(min=0),
              help="Seconds to land-to-ready a battery swap takes.")
@click.option("--stations", default="auto", show_default=True, metavar="FILE|auto",
              help="Candidate pads (points, e.g. along a road) or 'auto': points of the field's "
                   "edge; each drone's pad is the candidate with the least dead-head.")
@click.option("--moves", default=0, show_default=True, type=click.IntRange(0, 6),
              help="Most times each drone's station may drive to a new stop on one field. The "
                   "region is cut into strips of whole tank loads, each flown from its own pad; "
                   "the count of moves (0..N) that keeps the drone busy least (flying, ground, "
                   "driving) is chosen. E.g. --moves 3 on a 100 ha field.")
@click.option("--drive-speed", default=8.0, show_default=True, type=POSITIVE,
              help="Speed in m/s of the truck between fields (straight-line distance) and "
                   "between a field's stops (along the field's edge, or straight between "
                   "--stations points). The drone stays on the ground while its station drives.")
@click.option("--start", "start_text", default="07:00", show_default=True, metavar="HH:MM",
              help="Time of the first take-off's ground work.")
@click.option("--separation", default=30.0, show_default=True, type=click.FloatRange(min=0),
              help="Metres two drones must always keep between them (flying or on their pads).")
@click.option("--rate", default=15.0, show_default=True, type=POSITIVE, metavar="L/HA",
              help="Application rate in litres per hectare.")
@click.option("--speed", default=5.0, show_default=True, type=click.FloatRange(0.5, 20), help="Spray speed, m/s.")
@click.option("--transit-speed", default=8.0, show_default=True, type=click.FloatRange(0.5, 25),
              help="Pump-off speed, m/s.")
@click.option("--alt", default=3.0, show_default=True, type=click.FloatRange(0.5, 50),
              help="Spray altitude above ground, m.")
@click.option("--temp", default=25.0, show_default=True, type=click.FloatRange(-20, 50),
              help="Air temperature, °C (air density, battery derating, pack cooling).")
@click.option("--autopilot", default="ardupilot", show_default=True, type=click.Choice(["ardupilot", "px4"]),
              help="Flight stack of the mission files.")
@click.option("--first-sysid", default=1, show_default=True, type=click.IntRange(1, 250),
              help="MAVLink system id of drone 1; drone N gets first-sysid + N - 1.")
@click.option("--charge-c-rate", default=4.0, show_default=True, type=click.FloatRange(0.2, 10),
              help="Highest charge current of a pack, in C (multiples of its capacity per hour).")
@click.option("--charge-max-temp", default=45.0, show_default=True, type=click.FloatRange(0, 80),
              help="A pack hotter than this (°C) cools before it is charged.")
@click.option("--registry", "registry_path", default=None, type=click.Path(dir_okay=False, path_type=Path),
              help="Pack registry (SQLite) [default: packs.sqlite in the user's data folder, "
                   "$XDG_DATA_HOME/agridrone or ~/.local/share/agridrone]; missing = new packs.")
@click.option("--advise", "advise_flag", is_flag=True,
              help="Also try 1 to 4 x drones packs and 1-3 chargers of 3, 4.5, 7.2 or 9 kW (within "
                   "--generator-kw) and print the smallest set that keeps the drones flying 90 % "
                   "of the day: waiting for a charged pack at most 10 % (swaps and refills count "
                   "as flying work).")
@json_option
def ops(fields: tuple[str, ...], outdir: Path, drones: int, drone_name: str, packs: int,
        chargers: int, charger_kw: float, generator_kw: float, refill_l_min: float,
        swap_time: float, stations: str, moves: int, drive_speed: float, start_text: str, separation: float,
        rate: float, speed: float, transit_speed: float, alt: float, temp: float, autopilot: str,
        first_sysid: int, charge_c_rate: float, charge_max_temp: float,
        registry_path: Path | None, advise_flag: bool, as_json: bool) -> None:
    """Schedule a day in the field: FIELD... (files or example:NAME) flown by --drones
    drones at once, each field split into one region per drone that keep --separation
    apart, sharing --packs packs charged (lithium CC-CV) by --chargers chargers on one
    generator, the crew driving from field to field.

    A sortie takes off only with a pack charged enough for it (the planner's energy
    model decides, worn packs from the registry fly less), and a pack is never charging and
    flying at once.

    \b
    Writes into the --out folder:
      schedule.json          per drone its sorties (times, pack, SoC, station), per pack its
                             charge and flight intervals, per station its use, totals
                             (ha/h, idle time, charger busy share, bottleneck), lower bound
      gantt.png              one row per drone and per pack
      map.png                regions, pads and the stations' drives
      FIELD/drone-N/         that drone's plan.json and mission files, sysid.parm (its
                             MAVLink system id; plan.json and schedule.json carry it too,
                             so upload and simulate address that drone); plan.json also
                             names each sortie's pack (simulate credits it in --registry);
                             with --moves, one stop-K/ plan folder per stop
    and prints a summary (with --json: one JSON document, docs/json-output.md).

    \b
    Example:
      agridrone ops example:faisalabad_irregular --drones 2 --packs 4 --chargers 2 \\
          --charger-kw 3.0 --generator-kw 9 -o day/ --advise
      agridrone ops big.geojson --moves 3 --packs 6 -o day/   # the station moves 0-3 times
    """
    if not fields:
        raise AgridroneError("no field given; name at least one FIELD (or example:NAME)")
    path = registry.default_path() if registry_path is None else registry_path
    pack_list = registry.pool(path, Path(drone_name).stem, packs)
    inputs = OpsInputs(
        fields=list(fields), exclude_files=[], drone=drone_name, drones=drones, packs=pack_list,
        chargers=chargers, charger_kw=charger_kw, generator_kw=generator_kw,
        refill_l_min=refill_l_min, stations_file=None if stations == "auto" else stations,
        drive_speed_m_s=drive_speed, start_s=parse_clock(start_text), separation_m=separation,
        swap_time_s=swap_time, rate_l_ha=rate, speed_m_s=speed, transit_speed_m_s=transit_speed,
        alt_m=alt, temp_c=temp, autopilot=autopilot, first_sysid=first_sysid,
        charge_c_rate=charge_c_rate, charge_max_temp_c=charge_max_temp, moves=moves)
    day = plan_day(inputs)
    files = day_files(day)
    advice = advise(day, max(2, 4 * drones)) if advise_flag else None
    written = write_day(outdir, files)
    doc = schedule_document(day)
    totals = doc["totals"]
    out = Output(as_json)
    for f in doc["fields"]:
        out.line(f"{f['field']}: {f['start']}-{f['end']}, makespan {f['makespan_s'] / 60:.0f} min "
                   f"(lower bound {f['lower_bound_s']['makespan'] / 60:.0f} min, "
                   f"x{f['makespan_over_bound']:.2f}), bottleneck {f['bottleneck']}")
    out.line(f"day: {totals['sprayable_ha']:.1f} ha in {totals['day_s'] / 3600:.2f} h, "
               f"{totals['ha_per_hour']:.2f} ha/h, airborne {totals['flying_share']:.0%}, "
               f"waiting for packs {totals['idle_waiting_for_packs_s'] / 60:.0f} min, "
               f"chargers busy {totals['charger_busy_share']:.0%}, bottleneck {totals['bottleneck']}")
    if advise_flag:
        if advice is None:
            out.line(f"advice: no set of up to {max(2, 4 * drones)} packs and 3 chargers "
                     "within the generator keeps the drones flying (not waiting for packs) "
                     "90 % of the day")
        else:
            k, c, kw, share, airborne = advice
            out.line(f"advice: {k} packs, {c} charger(s) of {kw:g} kW keep the drones "
                     f"flying {share:.0%} of the day (airborne {airborne:.0%}, the rest of it "
                     f"swaps, refills and drives); they wait {1 - share:.0%} for packs")
    out.line(f"wrote {len(written)} files to {outdir}")
    out.document({"out": str(outdir), "schedule_file": str(outdir / "schedule.json"),
                  "files": sorted(files), "fields": doc["fields"], "totals": totals,
                  "advice": None if not advise_flag else (None if advice is None else {
                      "packs": advice[0], "chargers": advice[1], "charger_kw": advice[2],
                      "working_share": advice[3], "flying_share": advice[4]})})


def write_day(outdir: Path, files: dict[str, bytes]) -> list[Path]:
    """Write the day's files atomically (all or nothing)."""
    from agridrone.outputs import write_files_atomically

    return write_files_atomically(outdir, files)

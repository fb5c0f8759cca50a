"""``agridrone simulate``: fly a plan against a simulated or connected vehicle, write the
as-applied map and compare with the plan."""

from __future__ import annotations

import json
from pathlib import Path

import click

from agridrone.cli.json_output import Output, json_option
from agridrone.cli.sim_cmd import parse_wind
from agridrone.errors import AgridroneError

PLAN_NAME = "plan.json"


def _read_plan(path: Path) -> dict:
    """plan.json read and validated against its schema."""
    from agridrone.outputs import read_text
    from agridrone.plan_file import validate_plan

    try:
        document = json.loads(read_text(path))
    except json.JSONDecodeError as exc:
        raise AgridroneError(f"{path}: not valid JSON: {exc.msg} at line {exc.lineno}") from None
    if not isinstance(document, dict):
        raise AgridroneError(f"{path}: not an agridrone plan.json")
    validate_plan(document)
    return document


def connect_key(key_file: Path | None, address: str | None) -> bytes | None:
    """The signing key of --key (read and checked), None without it; --key needs --connect."""
    from firmware_bridge.signing import read_key

    if key_file is None:
        return None
    if address is None:
        raise AgridroneError("--key signs the link to a --connect vehicle; give --connect")
    return read_key(key_file)


def _parse_params(pairs: tuple[str, ...]) -> dict[str, float]:
    """``NAME=VALUE`` pairs as a parameter dict."""
    values = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        try:
            values[name.strip().upper()] = float(value)
        except ValueError:
            sep = ""
        if not sep or not name.strip():
            raise AgridroneError(f"--param wants NAME=VALUE, e.g. BATT_LOW_MAH=20000; got {pair!r}")
    return values


def _as_applied_files(plan: dict, logs: list) -> tuple[dict[str, bytes], object]:
    """as-applied.geojson and as-applied.png of the sorties flown, and the as-applied map."""
    import numpy as np

    from agridrone.as_applied import (
        as_applied,
        as_applied_geojson,
        render_as_applied,
        spray_width_m,
    )
    from agridrone.resume import drone_from_plan, field_from_plan
    from agridrone.text_fonts import isolate

    field = field_from_plan(plan, Path(plan["inputs"]["field_file"]).stem)
    applied = as_applied(logs, field, spray_width_m(plan),
                         drone_from_plan(plan).pump_max_l_min)
    stop = logs[-1].interrupted_at if logs and not logs[-1].completed else None
    stop_lonlat = None if stop is None else (stop[1], stop[0])
    station = field.frame.to_local(np.asarray([plan["station"]], dtype=np.float64))[0]
    stop_xy = None if stop is None else field.frame.to_local(np.asarray([stop_lonlat]))[0]
    m = applied.metrics
    title = (f"{isolate(field.name)}: as applied in {len(logs)} of {len(plan['sorties'])} sorties, "
             f"coverage {m.coverage_pct:.1f} %, overlap {m.overlap_pct:.1f} %, "
             f"outside {m.outside_m2:.0f} m²")
    files = {"as-applied.geojson": as_applied_geojson(applied, field, stop_lonlat),
             "as-applied.png": render_as_applied(applied, field, station, title, stop_xy)}
    return files, applied


def _as_applied_dose_files(plan: dict, logs: list) -> tuple[dict[str, bytes], object]:
    """as-applied-dose.png and .tif (the dose from the telemetry: where the pump ran, how
    fast and how high the vehicle flew) and as-applied-TASKDATA.zip (ISOXML grid of the
    litres per hectare applied); returns the files and the dose figures."""
    import numpy as np

    from agridrone.as_applied import spray_width_m
    from agridrone.dose_map import as_applied_files
    from agridrone.flown_dose import flown_dose
    from agridrone.resume import drone_from_plan, field_from_plan
    from missions.formats.isoxml_applied import FlownTrack, render_as_applied_taskdata

    field = field_from_plan(plan, Path(plan["inputs"]["field_file"]).stem)
    swath, rate = float(plan["inputs"]["swath_width_m"]), float(plan["rate_l_ha"])
    raster, metrics = flown_dose(logs, field, drone_from_plan(plan), swath, rate)
    title = (f"{field.name}: as-applied dose of {len(logs)} of {len(plan['sorties'])} sorties, "
             f"{metrics.within_10_pct:.1f} % within ±10 % of {rate:g} L/ha")
    files = as_applied_files(field, raster, rate, title)
    tracks = [FlownTrack(np.array([(t, lon, lat) for t, lat, lon, _ in log.positions]
                                  ).reshape(-1, 3),
                         np.array(log.pump, dtype=np.float64).reshape(-1, 2)) for log in logs]
    files["as-applied-TASKDATA.zip"] = render_as_applied_taskdata(plan, tracks, rate,
                                                                  spray_width_m(plan))
    return files, metrics


def _report(plan: dict, logs: list, applied, plan_file: Path, options, dose=None) -> str:
    """The simulation beside the plan: coverage, overlap, outside area, liquid, the
    as-applied dose (``dose``: its DoseMetrics) against the planned one, energy and state of
    charge at each landing; where a stopped sortie stopped and how to resume."""
    from agridrone.energy import EnergyModel
    from agridrone.resume import drone_from_plan

    resistance = EnergyModel.for_drone(drone_from_plan(plan),
                                       float(plan["inputs"]["temp_c"])).resistance_ohm
    m, pm = applied.metrics, plan["metrics"]
    vehicle = options.connect or (f"built-in simulated ArduCopter (speedup {options.speedup:g}, "
                                  f"loss {options.loss_pct:g} %, seed {options.seed})")
    lines = [
        f"vehicle          {vehicle}",
        f"wind             {options.wind[0]:g} m/s from {options.wind[1]:g}°",
        f"sorties flown    {len(logs)} of {len(plan['sorties'])}",
        f"coverage         {m.coverage_pct:.2f} % of {pm['sprayable_ha']:.2f} ha sprayable "
        f"(planned {pm['coverage_pct']:.2f} %)",
        f"overlap          {m.overlap_pct:.2f} % (planned {pm['overlap_pct']:.2f} %)",
        f"outside          {m.outside_m2:.0f} m² sprayed outside the field or in no-spray zones "
        f"(planned {pm['outside_m2']:.0f} m²)",
        f"liquid           {sum(applied.liquid_l):.1f} L used "
        f"(planned {sum(s['liquid_l'] for s in plan['sorties'][:len(logs)]):.1f} L for these "
        "sorties)",
        *_dose_lines(plan, dose),
        "",
        "  #   landing SoC flown / plan  energy flown / plan      liquid flown / plan ends",
    ]
    for log, planned in zip(logs, plan["sorties"], strict=False):
        energy = log.energy_wh(resistance)
        diff = 100.0 * (energy / planned["energy_wh"] - 1.0) if planned["energy_wh"] else 0.0
        soc = log.remaining_pct()
        ends = "landed, mission complete" if log.completed else (
            f"left the mission after item {log.interrupted_at_item}"
            + (" (battery failsafe)" if log.failsafe else ""))
        if log.start_retries:
            ends += f" (start retried {log.start_retries}x)"
        lines.append(
            f"{log.sortie:3d}   {'-' if soc is None else soc:>5} % / {planned['soc_landing_pct']:5.1f} %"
            f"    {energy:6.0f} / {planned['energy_wh']:6.0f} Wh ({diff:+5.1f} %)"
            f"   {applied.liquid_l[log.sortie - 1]:5.1f} / {planned['liquid_l']:5.1f} L   {ends}")
    stopped = logs[-1] if logs and not logs[-1].completed else None
    if stopped is not None:
        where = stopped.interrupted_at
        lines += [
            "",
            f"breakpoint       sortie {stopped.sortie} stopped after mission item "
            f"{stopped.interrupted_at_item}"
            + ("" if where is None else f", left the mission at {where[0]:.7f}, {where[1]:.7f}"),
            f"resume with      agridrone resume {plan_file} --sortie {stopped.sortie} "
            f"--reached {stopped.interrupted_at_item} -o NEW_FOLDER",
        ]
    return "\n".join(lines)


def _report_json(plan: dict, logs: list, applied, plan_file: Path, options) -> dict:
    """The ``--json`` document of simulate: what :func:`_report` prints, as numbers."""
    from agridrone.energy import EnergyModel
    from agridrone.resume import drone_from_plan

    resistance = EnergyModel.for_drone(drone_from_plan(plan),
                                       float(plan["inputs"]["temp_c"])).resistance_ohm
    m, pm = applied.metrics, plan["metrics"]
    stopped = logs[-1] if logs and not logs[-1].completed else None
    return {
        "plan_file": str(plan_file),
        "vehicle": options.connect or "built-in",
        "wind": {"speed_m_s": options.wind[0], "from_deg": options.wind[1]},
        "sorties_flown": len(logs),
        "sorties_planned": len(plan["sorties"]),
        "coverage_pct": m.coverage_pct, "planned_coverage_pct": pm["coverage_pct"],
        "overlap_pct": m.overlap_pct, "planned_overlap_pct": pm["overlap_pct"],
        "outside_m2": m.outside_m2, "planned_outside_m2": pm["outside_m2"],
        "liquid_l": sum(applied.liquid_l),
        "sorties": [{
            "sortie": log.sortie,
            "landing_soc_pct": log.remaining_pct(),
            "planned_landing_soc_pct": planned["soc_landing_pct"],
            "energy_wh": log.energy_wh(resistance),
            "planned_energy_wh": planned["energy_wh"],
            "liquid_l": applied.liquid_l[log.sortie - 1],
            "planned_liquid_l": planned["liquid_l"],
            "completed": log.completed,
            "interrupted_at_item": log.interrupted_at_item,
            "failsafe": bool(log.failsafe),
        } for log, planned in zip(logs, plan["sorties"], strict=False)],
        "breakpoint": None if stopped is None else {
            "sortie": stopped.sortie, "item": stopped.interrupted_at_item,
            "at": None if stopped.interrupted_at is None else list(stopped.interrupted_at),
            "resume": f"agridrone resume {plan_file} --sortie {stopped.sortie} "
                      f"--reached {stopped.interrupted_at_item} -o NEW_FOLDER"},
    }


def _dose_lines(plan: dict, dose) -> list[str]:
    """The as-applied dose figures beside the plan's (metrics.dose)."""
    if dose is None:
        return []
    planned = plan["metrics"].get("dose", {})

    def was(key: str, unit: str) -> str:
        return f" (planned {planned[key]:.2f}{unit})" if key in planned else ""

    return [
        f"dose             {dose.mean_l_ha:.2f} L/ha mean{was('mean_l_ha', ' L/ha')}; "
        f"{dose.within_10_pct:.1f} % of the area within ±10 % of {plan['rate_l_ha']:g} L/ha"
        f"{was('within_10_pct', ' %')}",
        f"                 {dose.above_150_pct:.2f} % above 1.5×{was('above_150_pct', ' %')}, "
        f"{dose.below_50_pct:.2f} % below 0.5×{was('below_50_pct', ' %')}, CV "
        f"{dose.cv_pct:.1f} %{was('cv_pct', ' %')}; {dose.liquid_l:.1f} L deposited = "
        f"{dose.liquid_vs_target_pct:.1f} % of rate × sprayable area",
    ]


@click.command("simulate")
@click.argument("plan_file", metavar="PLAN", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--wind", "wind_text", default="0,0", show_default=True,
              help="Steady wind SPEED,FROM_DEG (m/s, degrees); on --connect it sets SIM_WIND_*.")
@click.option("--connect", "address", default=None,
              help="Fly this MAVLink vehicle (e.g. tcp:127.0.0.1:5760 for ArduPilot SITL) "
                   "instead of the built-in simulated copter.")
@click.option("--speedup", type=click.FloatRange(1.0, 1000.0), default=100.0, show_default=True,
              help="Simulated seconds per wall second (built-in vehicle; scales timeouts).")
@click.option("--loss", "loss_pct", type=click.FloatRange(0.0, 50.0), default=0.0,
              show_default=True, help="Packets lost (%) each way on the built-in vehicle's link.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the built-in vehicle.")
@click.option("--param", "param_pairs", multiple=True, metavar="NAME=VALUE",
              help="Set an ArduPilot parameter after the derived ones; repeatable "
                   "(e.g. BATT_LOW_MAH=20000 forces a battery failsafe).")
@click.option("--fence-action", type=click.Choice(["rtl", "brake"]), default="rtl",
              show_default=True, help="What the vehicle does on a fence breach (FENCE_ACTION).")
@click.option("-o", "--out", "outdir", type=click.Path(file_okay=False, path_type=Path),
              default=None, help="Folder for as-applied.geojson and .png [default: the plan's].")
@click.option("--key", "key_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="MAVLink 2 signing key file of the --connect vehicle (agridrone signing).")
@click.option("--sysid", type=click.IntRange(1, 255), default=None,
              help="MAVLink system id of the vehicle to fly when several share the link "
                   "(the built-in vehicle takes it as SYSID_THISMAV) [default: the plan's, "
                   "as agridrone ops writes it; else the first vehicle heard, 1 built-in].")
@click.option("--pack", "pack_ids", multiple=True, metavar="ID[,ID...]",
              help="Battery pack flying each sortie, credited in the pack registry (a cycle, "
                   "the energy drawn; the measured capacity after a sortie that drew 50 % or "
                   "more of its charge); repeatable or a comma list, sortie k flies the k-th, "
                   "the list repeating when shorter [default: the packs the ops schedule "
                   "gave the plan's sorties; a plan of agridrone plan: none, no registry "
                   "write]. E.g. --pack T30-07,T30-08.")
@click.option("--registry", "registry_path", default=None,
              type=click.Path(dir_okay=False, path_type=Path),
              help="Pack registry (SQLite) [default: packs.sqlite in the user's data folder, "
                   "$XDG_DATA_HOME/agridrone or ~/.local/share/agridrone]; a pack it does not "
                   "know is added (rated as the plan's drone) with a warning.")
@json_option
def simulate(plan_file: Path, wind_text: str, address: str | None, speedup: float,
             loss_pct: float, seed: int, param_pairs: tuple[str, ...], fence_action: str,
             outdir: Path | None, key_file: Path | None, sysid: int | None,
             pack_ids: tuple[str, ...], registry_path: Path | None, as_json: bool) -> None:
    """Fly every sortie of PLAN (plan.json) end to end and report the as-applied result.

    Each sortie is uploaded and verified, armed in GUIDED, started in AUTO and watched until
    it lands; the next sortie follows from its breakpoint. Coverage, overlap and area sprayed
    outside the field are measured from where the pump actually ran (SERVO_OUTPUT_RAW) along
    the reported positions (GLOBAL_POSITION_INT), buffered by half a swath. A sortie cut
    short (battery failsafe, fence breach) ends the run with exit status 1; the report names
    the mission item reached and the `agridrone resume` command for the rest.

    \b
    On ArduPilot SITL (--connect), SITL's SIM_SPEEDUP scales the timeouts and its pack is set
    up as the drone's (SIM_BATT_VOLTAGE, SIM_BATT_CAP_AH, BATT_CAPACITY) and swapped between
    sorties; start SITL with the drone's JSON frame model (sim.sitl.launch_sitl_for_drone)
    so its consumption comes from ArduPilot's physics.

    \b
    Writes into --out (default: PLAN's folder): as-applied.geojson, as-applied.png,
    as-applied-dose.png and .tif (L/ha from where the pump ran, how fast and how high the
    vehicle flew), as-applied-TASKDATA.zip (ISOXML grid of the litres per hectare applied).
    With --json the report is one JSON document on stdout (docs/json-output.md).

    \b
    Packs (--pack, or those of an ops plan): after the flight each pack's registry row
    gets a cycle per sortie flown and the energy drawn (Wh, the vehicle's BATTERY_STATUS
    voltage x current plus the pack's own losses), all in one transaction.

    \b
    Example:
      agridrone simulate day/field/drone-2/plan.json      # sysid and packs of the ops day
      agridrone simulate out/plan.json --pack T30-07 --registry packs.sqlite
    """
    from agridrone.cli import simulate_packs
    from agridrone.cli.simulate_run import SimulateOptions, fly_plan
    from agridrone.ops import registry
    from agridrone.outputs import write_files_atomically

    plan = _read_plan(plan_file)
    options = SimulateOptions(wind=parse_wind(wind_text), connect=address, speedup=speedup,
                              loss_pct=loss_pct, seed=seed, params=_parse_params(param_pairs),
                              key=connect_key(key_file, address), fence_action=fence_action,
                              sysid=sysid)
    packs = simulate_packs.sortie_packs(plan, pack_ids)
    store = registry.default_path() if registry_path is None else registry_path
    if packs is not None:
        simulate_packs.check(store, plan, packs)
    flown = fly_plan(plan, options)
    logs = flown.logs
    files, applied = _as_applied_files(plan, logs)
    dose_files, dose = _as_applied_dose_files(plan, logs)
    files.update(dose_files)
    target = outdir if outdir is not None else plan_file.parent
    write_files_atomically(target, files)
    out = Output(as_json)
    out.line(_report(plan, logs, applied, plan_file, options, dose))
    out.line(f"wrote            {', '.join(sorted(files))} to {target}")
    credited = []
    if packs is not None and logs:
        flights = simulate_packs.pack_flights(plan, logs, packs, flown.simulated)
        for pack in simulate_packs.credit(store, plan, flights):
            out.warn(f"pack {pack} was not in the registry {store}: added, rated as the "
                     f"plan's drone", kind="warning")
        credited = [{"pack": f.pack, "energy_wh": round(f.energy_wh, 1),
                     "capacity_ah": f.capacity_ah()} for f in flights]
        out.line(f"packs            {len(flights)} flight(s) credited in {store}: "
                 + ", ".join(f"{f.pack} {f.energy_wh:.0f} Wh" for f in flights))
    out.document({**_report_json(plan, logs, applied, plan_file, options), "out": str(target),
                  "files": sorted(files), "packs": credited})
    stopped = logs[-1] if logs and not logs[-1].completed else None
    if stopped is not None:
        click.echo(f"error: {_cut_short(stopped, len(plan['sorties']))}", err=True)
        raise SystemExit(1)


def _cut_short(log, planned: int) -> str:
    """Why the run stopped: the sortie, the item reached, the vehicle's failsafe text."""
    reason = next((text for text in log.texts if "ailsafe" in text or "Battery" in text
                   or "Fence" in text or "fence" in text), None)
    why = f" ({reason})" if reason else ""
    return (f"sortie {log.sortie} of {planned} was cut short after mission item "
            f"{log.interrupted_at_item}{why}; the rest needs `agridrone resume`")

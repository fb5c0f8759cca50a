"""``agridrone calibrate``: fit a drone's energy model to its own flight logs and write a
drone TOML that ``plan --drone FILE`` uses."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import click

from agridrone.calibrate.calibration import Calibration, calibrate, calibration_table, flight_temp_c
from agridrone.calibrate.holdout import EnergyCheck, check_energy
from agridrone.calibrate.logs import read_flights
from agridrone.calibrate.mass import tank_for
from agridrone.calibrate.profile_toml import render_profile
from agridrone.drone import DEFAULT_DRONE, load_drone
from agridrone.errors import AgridroneError
from agridrone.outputs import write_bytes_atomic


def _plan_flow(path: str) -> float:
    """The pump flow (L/min) of a plan.json's spray legs."""
    try:
        plan = json.loads(Path(path).read_text())
        flows = {leg["flow_l_min"] for s in plan["sorties"] for leg in s["legs"]
                 if leg["kind"] == "spray"}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise AgridroneError(f"{path}: not a readable plan.json ({exc})") from None
    if not flows:
        raise AgridroneError(f"{path}: the plan has no spray legs to take the pump flow from")
    return float(max(flows))


def _print_fit(cal: Calibration) -> None:
    p, b, base = cal.power, cal.battery, cal.base
    click.echo(f"fit over {len(p.residuals)} steady segments of {len(cal.fitted)} flights "
               f"(base {base.name}):")
    click.echo(f"  figure of merit    {base.figure_of_merit:<8g} -> {p.figure_of_merit.text(3)}")
    click.echo(f"  drag area          {base.drag_area_m2:<8g} -> {p.drag_area_m2.text(3, 'm²')}")
    click.echo(f"  avionics power     {base.avionics_w:<8g} -> {p.avionics_w.text(3, 'W')}")
    click.echo(f"  pack resistance    {base.battery.internal_resistance_mohm / 1000:<8g} -> "
               f"{b.resistance_ohm.text(3, 'ohm')}")
    click.echo(f"  usable capacity    {base.battery.capacity_ah:<8g} -> {b.capacity_ah.text(3, 'Ah')}"
               f" (state of health {cal.drone.battery.state_of_health_pct:g} %)")
    click.echo(f"  residuals          power RMS {p.rms_w:.0f} W ({p.rms_pct:.1f} % of the mean), "
               f"voltage RMS {b.rms_v:.2f} V")
    groups: dict[tuple[str, str], list] = defaultdict(list)
    for r in p.residuals:
        groups[(r.flight, r.kind)].append(r)
    click.echo("  flight                 kind      n   time s  logged W  model W  residual")
    for (flight, kind), rs in groups.items():
        dur = sum(r.duration_s for r in rs)
        logged = sum(r.logged_w * r.duration_s for r in rs) / dur
        model = sum(r.model_w * r.duration_s for r in rs) / dur
        click.echo(f"  {flight:<22} {kind:<8} {len(rs):>2} {dur:>8.0f} {logged:>9.0f} "
                   f"{model:>8.0f} {100 * (model - logged) / logged:>+8.1f} %")


def _print_checks(title: str, rows: list[tuple[EnergyCheck, EnergyCheck]]) -> None:
    click.echo(title)
    click.echo("  flight                 logged Wh  calibrated Wh  error    base Wh  error")
    for ours, theirs in rows:
        click.echo(f"  {ours.flight:<22} {ours.logged_wh:>9.1f} {ours.predicted_wh:>14.1f} "
                   f"{ours.error_pct:>+6.1f} % {theirs.predicted_wh:>9.1f} {theirs.error_pct:>+6.1f} %")


@click.command("calibrate")
@click.argument("logs", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--drone", "base_name", default=DEFAULT_DRONE, show_default=True,
              help="Base profile (preset name or TOML file): airframe, tank, battery and pump "
                   "of the drone that flew the logs; the fit replaces its energy figures.")
@click.option("-o", "--out", "out", required=True, type=click.Path(dir_okay=False),
              help="Calibrated drone TOML to write (e.g. my-drone.toml).")
@click.option("--holdout", "holdout", multiple=True, type=click.Path(dir_okay=False),
              help="A log kept out of the fit: its logged energy against the calibrated and "
                   "the base profile's prediction is printed and recorded. Repeatable.")
@click.option("--flow", "flow_l_min", type=click.FloatRange(min=0.0),
              help="Pump flow (L/min) while spraying, for the mass along the flight "
                   "[default: the --plan's flow; without either, a full tank drained over "
                   "each flight's pump time].")
@click.option("--plan", "plan_path", type=click.Path(dir_okay=False),
              help="plan.json the logs flew: the pump flow of its spray legs.")
@click.option("--temp", "temp_c", type=float,
              help="Air and battery temperature (°C) [default: the log's, else 25].")
@click.option("--name", "name", help="Name of the calibrated profile [default: the output's "
                                     "file stem].")
def calibrate_cmd(logs, base_name, out, holdout, flow_l_min, plan_path, temp_c, name) -> None:
    """Learn a drone's energy model from its own flight logs.

    Reads ArduPilot DataFlash (.bin) and telemetry (.tlog) logs and PX4 logs (.ulg): battery
    voltage and current, height, speed, climb and the pump (the servo whose SERVOn_FUNCTION
    is 22; PX4: the output set to Actuator Set 1). Steady hover, forward-flight, climb and
    descent segments are fitted to the energy model (figure of merit, drag area, avionics
    power; pack resistance and state of health from the voltage), with one-sigma
    uncertainties and the residuals printed. The mass along each flight is the base
    profile's empty mass and battery plus the tank, draining at the pump flow.

    \b
    Example:
      agridrone calibrate logs/00000012.BIN logs/00000013.BIN --drone agras-t30 \\
          --plan out/plan.json --holdout logs/00000014.BIN -o my-t30.toml
      agridrone plan field.geojson --drone my-t30.toml -o out2
    """
    if not out.lower().endswith(".toml"):
        raise AgridroneError(f"--out {out}: give a .toml file name")
    base = load_drone(base_name)
    if flow_l_min is None and plan_path is not None:
        flow_l_min = _plan_flow(plan_path)
    flights = [f for path in logs for f in read_flights(path)]
    held_out = [f for path in holdout for f in read_flights(path)]
    cal = calibrate(flights, base, name=name or Path(out).stem, flow_l_min=flow_l_min,
                    temp_c=temp_c)
    _print_fit(cal)

    def both(f):
        t = flight_temp_c(f, temp_c)
        return (check_energy(f, cal.drone, tank_for(f, cal.drone, flow_l_min), t),
                check_energy(f, base, tank_for(f, base, flow_l_min), t))

    _print_checks("fitted flights, energy while airborne:", [both(f) for f in flights])
    checks = [both(f) for f in held_out]
    if checks:
        _print_checks("held-out flights, energy while airborne:", checks)
    table = calibration_table(cal, logs=[Path(p).name for p in logs], flow_l_min=flow_l_min,
                              holdout=checks)
    path = write_bytes_atomic(out, render_profile(cal.drone, table).encode())
    try:
        load_drone(str(path))
    except AgridroneError:
        path.unlink()
        raise
    click.echo(f"wrote {path} (plan --drone {path})")

"""``agridrone drones``: list the drone presets with their key figures."""

from __future__ import annotations

import click

from agridrone.drone import DEFAULT_DRONE, DroneProfile, list_presets
from agridrone.energy import hover_time_s

_HEADER = ("name", "tank L", "battery", "mass kg", "loaded kg", "hover min", "maker says")


def drone_row(drone: DroneProfile, temp_c: float) -> tuple[str, ...]:
    """One table row: name (``*`` marks the default), tank (L), battery (cells S, Ah, chemistry), mass empty and
    loaded (kg, with battery), hover time empty/loaded (min) from the model at ``temp_c`` °C,
    and the maker's published hover times (min, at the takeoff masses it states) where known."""
    bat = drone.battery
    empty_min = hover_time_s(drone, 0.0, temp_c=temp_c) / 60.0
    loaded_min = hover_time_s(drone, drone.tank_l, temp_c=temp_c) / 60.0
    pub = drone.published
    maker = "-" if pub is None else (f"{pub.hover_empty_min:g}/{pub.hover_loaded_min:g} at "
                                     f"{pub.hover_empty_takeoff_kg:g}/{pub.hover_loaded_takeoff_kg:g} kg")
    return (
        drone.name + (" *" if drone.name == DEFAULT_DRONE else ""),
        f"{drone.tank_l:g}",
        f"{bat.cells_series}S {bat.capacity_ah:g}Ah {bat.chemistry}",
        f"{drone.takeoff_mass_kg(0.0):.1f}",
        f"{drone.takeoff_mass_kg(drone.tank_l):.1f}",
        f"{empty_min:.1f}/{loaded_min:.1f}",
        maker,
    )


@click.command("drones")
@click.option("--temp", "temp_c", type=float, default=25.0, show_default=True,
              help="Air and battery temperature (°C) for the hover times.")
def drones(temp_c: float) -> None:
    """List the drone presets (agridrone/data/drones/*.toml) with tank, battery, mass and hover
    time empty/loaded; pick one with ``--drone NAME`` or give a TOML file of your own."""
    rows = [_HEADER] + [drone_row(d, temp_c) for d in list_presets()]
    widths = [max(len(r[i]) for r in rows) for i in range(len(_HEADER))]
    for row in rows:
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    click.echo(f"* default drone; hover min = model empty/loaded at {temp_c:g} °C, to empty or cut-off")

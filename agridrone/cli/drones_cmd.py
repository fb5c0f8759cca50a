"""``agridrone drones``: list the drone presets with their key figures, and the calibrated\nprofiles found in the user's folders."""

from __future__ import annotations

from pathlib import Path

import click

from agridrone.calibrate.profile_toml import CalibratedProfile, find_calibrated, user_profile_dir
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


_CAL_HEADER = ("calibrated", "base", "logs", "fit RMS", "held-out error", "file")


def _table(rows: list[tuple[str, ...]]) -> None:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())


def calibrated_row(cal: CalibratedProfile) -> tuple[str, ...]:
    """One row of a calibrated profile: name, base, logs, the power fit's RMS residual (% of
    the mean power), its held-out flights' energy errors (%) and its file."""
    held = ", ".join(f"{e:+.1f} %" for e in cal.holdout_error_pct) or "-"
    return (cal.name, cal.base, str(len(cal.logs)), f"{cal.rms_pct:.1f} %", held, str(cal.path))


@click.command("drones")
@click.option("--temp", "temp_c", type=float, default=25.0, show_default=True,
              help="Air and battery temperature (°C) for the hover times.")
@click.option("--dir", "folders", multiple=True, type=click.Path(file_okay=False),
              help="A folder of drone TOML files to list calibrated profiles from (besides "
                   "your own folder, $AGRIDRONE_DRONES_DIR or ~/.local/share/agridrone/drones). "
                   "Repeatable.")
def drones(temp_c: float, folders: tuple[str, ...]) -> None:
    """List the drone presets (agridrone/data/drones/*.toml) with tank, battery, mass and hover
    time empty/loaded; pick one with ``--drone NAME`` or give a TOML file of your own.

    Then the calibrated profiles (written by ``agridrone calibrate``) found in ``--dir``
    folders and your own drone folder, with the fit's RMS power residual and the held-out
    flights' energy errors. Example: ``agridrone drones --dir my-drones``.
    """
    _table([_HEADER] + [drone_row(d, temp_c) for d in list_presets()])
    click.echo(f"* default drone; hover min = model empty/loaded at {temp_c:g} °C, to empty or cut-off")
    found = find_calibrated([*map(Path, folders), user_profile_dir()])
    if found:
        click.echo("")
        _table([_CAL_HEADER] + [calibrated_row(c) for c in found])

"""``agridrone plan``: field boundary in, spray route and plan files out."""

from __future__ import annotations

from pathlib import Path

import click

from agridrone.errors import AgridroneError
from agridrone.field import DEFAULT_MAX_AREA_HA
from agridrone.outputs import write_files_atomically
from agridrone.plan_file import PlanInputs
from agridrone.planner import make_plan, plan_files
from agridrone.report import plan_report

POSITIVE = click.FloatRange(min=0, min_open=True)


def parse_lat_lon(text: str, option: str) -> list[float]:
    """``"LAT,LON"`` (degrees) -> [lon, lat]; AgridroneError naming ``option`` when malformed."""
    try:
        lat_text, lon_text = text.split(",")
        lat, lon = float(lat_text), float(lon_text)
    except ValueError:
        raise AgridroneError(f"{option} wants LAT,LON in degrees, e.g. 31.4504,74.2213; got {text!r}") from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise AgridroneError(f"{option} {text}: latitude must be within ±90° and longitude within ±180°")
    return [lon, lat]


@click.command()
@click.argument("field_file", metavar="FIELD", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--out", "outdir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder for plan.json, coverage.geojson and preview.png (created if missing).")
@click.option("--exclude", "exclude_files", multiple=True, type=click.Path(dir_okay=False, path_type=Path),
              help="File of no-spray zones (trees, houses, ponds, pylons); repeatable.")
@click.option("--swath-width", default=5.0, show_default=True, type=POSITIVE,
              help="Spray swath width in metres; passes are this far apart.")
@click.option("--edge-margin", default=None, type=click.FloatRange(min=0),
              help="Metres from the field edge to the centre of the pass beside it "
                   "[default: half a swath, so the spray just reaches the edge].")
@click.option("--headland-passes", default=0, show_default=True, type=click.IntRange(min=0, max=20),
              help="Loops along the field edge (and around no-spray zones) before the back-and-forth.")
@click.option("--heading", default=None, type=click.FloatRange(min=0, max=360),
              help="Fix the pass direction in compass degrees (crop rows) instead of searching for the fastest.")
@click.option("--home", default=None, metavar="LAT,LON",
              help="Takeoff and refill station [default: the point of the boundary nearest the route's start].")
@click.option("--speed", default=5.0, show_default=True, type=click.FloatRange(min=0.5, max=20),
              help="Spray speed in m/s.")
@click.option("--transit-speed", default=8.0, show_default=True, type=click.FloatRange(min=0.5, max=25),
              help="Pump-off transit speed in m/s.")
@click.option("--alt", default=3.0, show_default=True, type=click.FloatRange(min=0.5, max=50),
              help="Spray altitude in metres above ground.")
@click.option("--turn-time", default=4.0, show_default=True, type=click.FloatRange(min=0),
              help="Seconds one turn between passes costs (decelerate, turn, accelerate).")
@click.option("--repair", is_flag=True, help="Fix self-intersecting boundaries with shapely's make_valid and report the change.")
@click.option("--max-area", default=DEFAULT_MAX_AREA_HA, show_default=True, type=POSITIVE,
              help="Refuse fields larger than this many hectares.")
def plan(field_file: Path, outdir: Path, exclude_files: tuple[Path, ...], swath_width: float,
         edge_margin: float | None, headland_passes: int, heading: float | None, home: str | None,
         speed: float, transit_speed: float, alt: float, turn_time: float, repair: bool,
         max_area: float) -> None:
    """Plan boustrophedon spray passes over FIELD (GeoJSON, KML or WKT, WGS84).

    Holes in the field and polygons of --exclude files are no-spray zones: passes stop
    at them and transits fly around them. Writes plan.json (the hand-off to upload and
    simulate), coverage.geojson (for QGIS) and preview.png into the --out folder, and
    prints a report.

    \b
    Example:
      agridrone plan missions/fields/lahore_rect_2ha.geojson -o out/
    """
    inputs = PlanInputs(
        field_file=str(field_file),
        exclude_files=[str(p) for p in exclude_files],
        swath_width_m=swath_width,
        edge_margin_m=swath_width / 2 if edge_margin is None else edge_margin,
        headland_passes=headland_passes,
        heading_deg=None if heading is None else heading % 180.0,
        home=None if home is None else parse_lat_lon(home, "--home"),
        speed_m_s=speed,
        transit_speed_m_s=transit_speed,
        alt_m=alt,
        turn_time_s=turn_time,
        repair=repair,
        max_area_ha=max_area,
    )
    planned = make_plan(inputs)
    for warning in planned.warnings:
        click.echo(f"note: {warning}", err=True)
    written = write_files_atomically(outdir, plan_files(planned))
    click.echo(plan_report(planned.document))
    click.echo("wrote            " + ", ".join(str(p) for p in written))

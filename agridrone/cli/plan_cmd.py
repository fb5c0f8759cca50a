"""``agridrone plan``: field boundary in, spray route and plan files out."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from string import ascii_lowercase

import click

from agridrone.cli.json_output import Output, json_option
from agridrone.cli.picture_worker import PictureWorker
from agridrone.cli.sim_cmd import parse_wind
from agridrone.drone import DEFAULT_DRONE, load_drone
from agridrone.errors import AgridroneError
from agridrone.field import DEFAULT_MAX_AREA_HA
from agridrone.limits import check_spray_limits, default_swath_m
from agridrone.outputs import remove_stale, write_files_atomically
from agridrone.plan_file import PlanInputs
from agridrone.planner import make_plan, plan_data_files, plan_title
from agridrone.report import plan_report
from missions.files import plan_exports, plan_mission_files, sortie_stem

DEFAULT_RATE_L_HA = 15.0
OUTPUT_OPTIONS = ("isoxml", "gpkg")  # options that choose files, not plan inputs
STALE_PATTERNS = ("sortie-*.plan", "sortie-*.waypoints", "TASKDATA.zip", "plan.gpkg")

POSITIVE = click.FloatRange(min=0, min_open=True)


def plan_json(document: dict, outdir: Path, files: dict[str, bytes], removed: list[Path],
              station_choice=None) -> dict:
    """The ``--json`` document of plan and resume: where the files went and the plan's
    figures (metrics, totals, each sortie without its legs); see docs/json-output.md."""
    count = len(document["sorties"])

    def mission_files(index: int) -> list[str]:
        stem = sortie_stem(index, count)
        return [name for name in sorted(files) if name.startswith(stem)
                and name[len(stem):].lstrip(ascii_lowercase).startswith(".")]

    return {
        "out": str(outdir),
        "plan_file": str(outdir / "plan.json"),
        "files": sorted(files),
        "removed": sorted(path.name for path in removed),
        "metrics": document["metrics"],
        "totals": document["totals"],
        "lower_bound_sorties": document["lower_bound_sorties"],
        "rate_l_ha": document["rate_l_ha"],
        "station": document["station"],
        "station_choice": None if station_choice is None else {
            "candidates": station_choice.candidates, "deadhead_m": station_choice.deadhead_m,
            "default_deadhead_m": station_choice.default_deadhead_m},
        "sorties": [{**{k: v for k, v in sortie.items() if k != "legs"},
                     "mission_files": mission_files(int(sortie["index"]))}
                    for sortie in document["sorties"]],
    }


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
@click.argument("field_file", metavar="FIELD")
@click.option("-o", "--out", "outdir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder for plan.json, coverage.geojson and preview.png (created if missing).")
@click.option("--layer", default=None, metavar="NAME",
              help="Layer of FIELD to read where it has several (a GeoPackage, a zip of Shapefiles) "
                   "[default: its only polygon layer].")
@click.option("--id", "feature_id", default=None, metavar="ID|NAME",
              help="The one feature of FIELD to plan, by id or name: GeoJSON id or name property, "
                   "KML Placemark, Shapefile/GeoPackage FID or name field, ISOXML partfield "
                   "(PFD1) or its designator [default: every polygon; an ISOXML's only partfield].")
@click.option("--exclude", "exclude_files", multiple=True, metavar="FILE",
              help="File of no-spray zones (trees, houses, ponds, pylons); repeatable.")
@click.option("--drone", "drone_name", default=DEFAULT_DRONE, show_default=True, metavar="NAME|FILE",
              help="Drone profile: a preset (see 'agridrone drones') or a TOML file.")
@click.option("--rate", default=DEFAULT_RATE_L_HA, show_default=True, type=POSITIVE, metavar="L/HA",
              help="Application rate in litres per hectare; refused when the pump cannot deliver it.")
@click.option("--swath-width", default=None, type=POSITIVE,
              help="Spray swath width in metres; passes are this far apart [default: the drone's, "
                   "no wider than its effective swath at --alt].")
@click.option("--edge-margin", default=None, type=click.FloatRange(min=0),
              help="Metres from the field edge to the centre of the pass beside it "
                   "[default: half a swath, so the spray just reaches the edge].")
@click.option("--headland-passes", default=0, show_default=True, type=click.IntRange(min=0, max=20),
              help="Loops along the field edge (and around no-spray zones) before the back-and-forth.")
@click.option("--heading", default=None, type=click.FloatRange(min=0, max=360),
              help="Fix the pass direction in compass degrees (crop rows) instead of searching for the fastest.")
@click.option("--home", default=None, metavar="LAT,LON|auto",
              help="Takeoff and refill station; 'auto' picks the point of the boundary (or of --stations) "
                   "that minimises dead-head over all sorties [default: the point of the boundary "
                   "nearest the route's start].")
@click.option("--stations", "stations_file", default=None, type=click.Path(dir_okay=False, path_type=Path),
              help="File of candidate stations (points) for --home auto.")
@click.option("--speed", default=5.0, show_default=True, type=click.FloatRange(min=0.5, max=20),
              help="Spray speed in m/s.")
@click.option("--transit-speed", default=8.0, show_default=True, type=click.FloatRange(min=0.5, max=25),
              help="Pump-off transit speed in m/s.")
@click.option("--alt", default=3.0, show_default=True, type=click.FloatRange(min=0.5, max=50),
              help="Spray altitude in metres above ground.")
@click.option("--turn-time", default=4.0, show_default=True, type=click.FloatRange(min=0),
              help="Seconds one turn between passes costs (decelerate, turn, accelerate).")
@click.option("--temp", default=25.0, show_default=True, type=click.FloatRange(min=-20, max=50),
              help="Air and battery temperature in °C (air density, battery derating).")
@click.option("--swap-time", default=90.0, show_default=True, type=click.FloatRange(min=0),
              help="Seconds on the ground between sorties (battery swap and refill).")
@click.option("--autopilot", default="ardupilot", show_default=True, type=click.Choice(["ardupilot", "px4"]),
              help="Flight stack the mission files are written for.")
@click.option("--alt-frame", default="relative", show_default=True, type=click.Choice(["relative", "terrain"]),
              help="Altitude frame of the waypoints (terrain: ArduPilot only, needs terrain data or a rangefinder).")
@click.option("--transit-alt", default=None, type=POSITIVE,
              help="Altitude in metres of pump-off transit legs [default: the spray altitude].")
@click.option("--end", default="rtl", show_default=True, type=click.Choice(["rtl", "land"]),
              help="How each sortie's mission ends at the station.")
@click.option("--max-items", default=None, type=click.IntRange(min=20),
              help="Split a sortie's mission before it exceeds this many items [default: 650 ArduPilot, 500 PX4].")
@click.option("--fence-margin", default=10.0, show_default=True, type=click.FloatRange(min=0),
              help="Metres the geofence inclusion polygon extends beyond the field.")
@click.option("--wind", "wind_text", default=None, metavar="SPEED,FROM",
              help="Forecast wind (m/s, degrees it blows from); refused above the drone's spraying limit.")
@click.option("--buffer", "buffer_m", default=0.0, show_default=True, type=click.FloatRange(min=0),
              help="Metres the spray keeps from every no-spray zone (and from --buffer-edge features).")
@click.option("--buffer-edge", "buffer_edge_files", multiple=True,
              type=click.Path(dir_okay=False, path_type=Path),
              help="GeoJSON/WKT file of features to keep --buffer metres from: lines along a field edge "
                   "(a canal), polygons or points beside it (houses, a pond); repeatable.")
@click.option("--leads/--no-leads", "leads", default=None,
              help="Lead-in and lead-out legs (pump off, in line with each pass, at the spray speed) so "
                   "passes are sprayed at speed from end to end; they fly up to 12 m beyond the field's "
                   "edge (11.2 m ArduPilot, 11.7 m PX4, at 5 m/s).  [default: on for "
                   "PX4, whose pump runs at a constant rate (on SITL: 34.0 -> 31.4 L for 30 planned); "
                   "off for ArduPilot, whose sprayer follows ground speed and sprays the slow ends "
                   "right]")
@click.option("--repair", is_flag=True, help="Fix self-intersecting boundaries with shapely's make_valid and report the change.")
@click.option("--isoxml/--no-isoxml", "isoxml", default=True, show_default=True,
              help="Write TASKDATA.zip (ISO 11783-10: field, no-spray zones, product, task at --rate) "
                   "for farm management systems and tractor terminals.")
@click.option("--gpkg", is_flag=True,
              help="Also write plan.gpkg (GeoPackage: field, no_spray, passes, transits, sorties, "
                   "coverage, station layers) for QGIS / ArcGIS.")
@click.option("--max-area", default=DEFAULT_MAX_AREA_HA, show_default=True, type=POSITIVE,
              help="Refuse fields larger than this many hectares.")
@json_option
def plan(field_file: str, outdir: Path, exclude_files: tuple[str, ...], drone_name: str,
         rate: float, swath_width: float | None, edge_margin: float | None, headland_passes: int,
         heading: float | None, home: str | None, stations_file: Path | None, speed: float,
         transit_speed: float, alt: float, turn_time: float, temp: float, swap_time: float,
         autopilot: str, alt_frame: str, transit_alt: float | None, end: str,
         max_items: int | None, fence_margin: float, wind_text: str | None, buffer_m: float,
         buffer_edge_files: tuple[Path, ...], repair: bool, max_area: float,
         layer: str | None, feature_id: str | None, isoxml: bool, gpkg: bool,
         as_json: bool, leads: bool | None = None) -> None:
    """Plan boustrophedon spray passes over FIELD, or over a bundled sample: FIELD =
    example:NAME (see 'agridrone examples').

    \b
    FIELD formats (by extension):
      .geojson .json .kml .wkt   WGS84; a GeoJSON "crs" member is reprojected
      .shp (with .shx, .dbf, .prj) or .zip of them, .gpkg   reprojected from their CRS
      .kmz                       zipped KML
      TASKDATA.XML or its .zip   ISOXML: partfield boundary = field, obstacles = no-spray

    Holes in the field and polygons of --exclude files are no-spray zones: passes stop
    short of them and transits fly around them. The route is cut into sorties that each
    fit one battery (landing with the profile's reserve) and one tank, possibly in the
    middle of a pass; the next sortie resumes exactly there.

    \b
    Writes into the --out folder:
      plan.json             the hand-off to upload, simulate and resume
      coverage.geojson      field, no-spray zones, legs and station (QGIS)
      preview.png           picture of the plan: sorties in colour, pass numbers, breakpoints
      map.html              the same as a web page (works offline; toggles, tooltips)
      sortie-NN.plan        QGroundControl mission + fence + rally, per sortie
      sortie-NN.waypoints   Mission Planner / MAVProxy mission, per sortie (NNN from
                            100 sorties on, so the files sort in flying order)
      plan.kml              Google Earth
      TASKDATA.zip          ISOXML task data (unless --no-isoxml)
      plan.gpkg             GeoPackage of the plan's layers (with --gpkg)
    and prints a report (with --json: one JSON document instead).

    \b
    Examples:
      agridrone plan agridrone/data/fields/lahore_rect_2ha.geojson -o out/
      agridrone plan field.kml --exclude trees.geojson --drone agras-t40 --rate 20 \\
          --home auto --autopilot px4 -o out/
    """
    with PictureWorker() as worker:  # imports Pillow and isoxml while this process plans
        inputs, limit_notes = plan_inputs(
            field_file, exclude_files=exclude_files, drone_name=drone_name, rate=rate,
            swath_width=swath_width, edge_margin=edge_margin, headland_passes=headland_passes,
            heading=heading, home=home, stations_file=stations_file, speed=speed,
            transit_speed=transit_speed, alt=alt, turn_time=turn_time, temp=temp,
            swap_time=swap_time, autopilot=autopilot, alt_frame=alt_frame,
            transit_alt=transit_alt, end=end, max_items=max_items, fence_margin=fence_margin,
            wind_text=wind_text, buffer_m=buffer_m, buffer_edge_files=buffer_edge_files,
            repair=repair, max_area=max_area, layer=layer, feature_id=feature_id, leads=leads)
        planned = make_plan(inputs)
        outputs = plan_outputs(planned, isoxml=isoxml, gpkg=gpkg, worker=worker)
    files = outputs.files
    out = Output(as_json)
    for warning in [*limit_notes, *planned.warnings, *outputs.warnings]:
        out.warn(warning)
    written = write_files_atomically(outdir, files)
    removed = remove_stale(outdir, STALE_PATTERNS, keep=set(files))
    out.line(plan_report(planned.document, planned.station_choice))
    out.line(f"wrote            {len(written)} files to {outdir}: " + ", ".join(sorted(files)[:6])
             + (" …" if len(files) > 6 else ""))
    out.document(plan_json(planned.document, outdir, files, removed, planned.station_choice))


@dataclass(frozen=True)
class PlanOutputs:
    """The files of a plan (name -> bytes) and the warnings the mission builders gave."""

    files: dict[str, bytes]
    warnings: list[str]


def plan_outputs(planned, *, isoxml: bool = True, gpkg: bool = False,
                 worker: PictureWorker | None = None) -> PlanOutputs:
    """Every file ``agridrone plan`` writes for ``planned`` (a planner.Planned): the
    planner's own, the mission files and, as chosen, ISOXML TASKDATA and GeoPackage; the
    pictures and TASKDATA made by ``worker`` while this process makes the rest, when given."""
    def others() -> tuple[dict[str, bytes], list[str]]:
        missions, warnings = plan_mission_files(planned.document)
        return {**plan_data_files(planned), **missions,
                **plan_exports(planned.document, isoxml=False, gpkg=gpkg)}, warnings

    pictures, (files, warnings) = (worker or PictureWorker()).draw(
        planned.field, planned.document, planned.dose, plan_title(planned), others, isoxml)
    return PlanOutputs({**files, **pictures}, warnings)


def plan_inputs(field_file: str, *, exclude_files: tuple[str, ...], drone_name: str,
                rate: float, swath_width: float | None, edge_margin: float | None,
                headland_passes: int, heading: float | None, home: str | None,
                stations_file: Path | None, speed: float, transit_speed: float, alt: float,
                turn_time: float, temp: float, swap_time: float, autopilot: str,
                alt_frame: str, transit_alt: float | None, end: str, max_items: int | None,
                fence_margin: float, wind_text: str | None, buffer_m: float,
                buffer_edge_files: tuple[Path, ...], repair: bool, max_area: float,
                layer: str | None = None, feature_id: str | None = None, leads: bool | None = None
                ) -> tuple[PlanInputs, list[str]]:
    """The PlanInputs of ``agridrone plan``'s input options (by their parameter names; not
    the OUTPUT_OPTIONS) for FIELD, and the notes the drone's operating limits give;
    AgridroneError on inconsistent options. ``agridrone batch`` uses it per field."""
    if stations_file is not None and home != "auto":
        raise AgridroneError("--stations needs --home auto")
    if home == "auto":
        station: list[float] | str | None = "auto"
    else:
        station = None if home is None else parse_lat_lon(home, "--home")
    if buffer_edge_files and buffer_m == 0:
        raise AgridroneError("--buffer-edge needs a distance: give --buffer M")
    wind = None if wind_text is None else parse_wind(wind_text)
    drone = load_drone(drone_name)
    swath = default_swath_m(drone, alt) if swath_width is None else swath_width
    limit_notes = check_spray_limits(drone, alt_m=alt, speed_m_s=speed, swath_m=swath, wind=wind)
    inputs = PlanInputs(
        field_file=str(field_file),
        exclude_files=[str(p) for p in exclude_files],
        drone=drone_name,
        rate_l_ha=rate,
        swath_width_m=swath,
        edge_margin_m=swath / 2 if edge_margin is None else edge_margin,
        headland_passes=headland_passes,
        heading_deg=None if heading is None else heading % 180.0,
        home=station,
        stations_file=None if stations_file is None else str(stations_file),
        speed_m_s=speed,
        transit_speed_m_s=transit_speed,
        alt_m=alt,
        turn_time_s=turn_time,
        temp_c=temp,
        swap_time_s=swap_time,
        autopilot=autopilot,
        alt_frame=alt_frame,
        transit_alt_m=transit_alt,
        end=end,
        max_items=max_items,
        fence_margin_m=fence_margin,
        repair=repair,
        max_area_ha=max_area,
        wind=None if wind is None else list(wind),
        buffer_m=buffer_m,
        buffer_edge_files=[str(p) for p in buffer_edge_files],
        layer=layer,
        feature_id=feature_id,
        leads=leads,
    )
    return inputs, limit_notes

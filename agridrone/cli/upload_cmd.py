"""``agridrone upload | download | clear | params``: load a sortie, its fence and rally point
and the sprayer / battery-failsafe parameters into a flight controller, verified by read-back;
read the vehicle's mission into a .waypoints file; clear it. Lists travel by MAVLink FTP or
the item protocol (``--transfer``, :mod:`firmware_bridge.transfer`)."""

from __future__ import annotations

import json
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import click

from agridrone.errors import AgridroneError

if TYPE_CHECKING:
    from firmware_bridge.transfer import TransferReport

MISSION, FENCE, RALLY = 0, 1, 2
KIND_TYPES = {"mission": MISSION, "fence": FENCE, "rally": RALLY}
MIN_RATE_S = 0.1  # the progress bar shows items/s once a phase has run this long


def _link_options(command):
    """Options every vehicle command shares: address, serial speed, ids, timeouts, output."""
    options = [
        click.option("--connect", "address", required=True,
                     help="Vehicle address: tcp:HOST:PORT, tcpin:, udp:/udpin:HOST:PORT, "
                          "udpout:HOST:PORT or a serial device such as /dev/ttyUSB0."),
        click.option("--baud", type=click.IntRange(min=1), default=57600, show_default=True,
                     help="Serial speed (bits/s); serial devices only."),
        click.option("--autopilot", type=click.Choice(["ardupilot", "px4"]), default=None,
                     help="Override the autopilot the vehicle's HEARTBEAT reports."),
        click.option("--source-system", type=click.IntRange(1, 255), default=255,
                     show_default=True, help="Our MAVLink system id."),
        click.option("--source-component", type=click.IntRange(0, 255), default=190,
                     show_default=True, help="Our MAVLink component id."),
        click.option("--heartbeat-timeout", type=click.FloatRange(min=0.1), default=10.0,
                     show_default=True, help="Seconds to wait for the vehicle's HEARTBEAT."),
        click.option("--timeout", "timeout_s", type=click.FloatRange(min=0.001), default=1.0,
                     show_default=True, help="Seconds to wait for an answer before resending."),
        click.option("--retries", type=click.IntRange(min=0), default=5, show_default=True,
                     help="Resends in a row without an answer before giving up."),
        click.option("--quiet", is_flag=True, help="No progress bar."),
        click.option("--json", "as_json", is_flag=True,
                     help="Print a machine-readable summary (JSON) on stdout."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _transfer_option(command):
    """``--transfer auto|ftp|items``: how lists travel to and from the vehicle."""
    return click.option(
        "--transfer", type=click.Choice(["auto", "ftp", "items"]), default="auto",
        show_default=True,
        help="auto: MAVLink FTP on ArduPilot, falling back to the item protocol; ftp: FTP "
             "only (fail without it); items: the item-by-item mission protocol.")(command)


@dataclass(frozen=True)
class _LinkArgs:
    address: str
    baud: int
    autopilot: str | None
    source_system: int
    source_component: int
    heartbeat_timeout: float


@contextmanager
def _vehicle(args: _LinkArgs):
    from firmware_bridge.link import connect

    link = connect(args.address, baud=args.baud, source_system=args.source_system,
                   source_component=args.source_component,
                   heartbeat_timeout_s=args.heartbeat_timeout, autopilot=args.autopilot)
    try:
        yield link
    finally:
        link.close()


class _ProgressBars:
    """One click progress bar per transfer phase, on stderr, showing the path (ftp or items),
    items done and items/s; nothing when hidden. Phases are "<path> <step>"
    (:data:`firmware_bridge.transfer.Progress`)."""

    def __init__(self, hidden: bool) -> None:
        self.hidden = hidden
        self._bar = None
        self._key: tuple[str, str] | None = None
        self._started = 0.0
        self.kind = "mission"

    def __call__(self, phase: str, done: int, total: int) -> None:
        if self.hidden:
            return
        key = (self.kind, phase)
        if key != self._key:
            self.close()
            path, _, step = phase.rpartition(" ")
            step = "read-back" if step == "verify" else step
            label = f"{self.kind} {step}" + (f" via {path}" if path else "")
            self._bar = click.progressbar(length=max(total, 1), label=label, file=sys.stderr,
                                          show_pos=True, item_show_func=lambda rate: rate)
            self._bar.__enter__()
            self._key = key
            self._started = time.monotonic()
        elapsed = time.monotonic() - self._started
        rate = f"{done / elapsed:.0f} items/s" if elapsed >= MIN_RATE_S else None
        self._bar.update(done - self._bar.pos, rate)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
            self._bar = None
            self._key = None


def _emit(as_json: bool, summary: dict, lines: list[str]) -> None:
    if as_json:
        click.echo(json.dumps(summary, indent=2, sort_keys=True))
    else:
        for line in lines:
            click.echo(line)


def _read_plan(path: Path) -> dict | None:
    """The plan.json dict, or None when ``path`` is a mission file (.plan, .waypoints)."""
    from agridrone.export.atomic import read_text

    if path.suffix.lower() != ".json":
        return None
    try:
        document = json.loads(read_text(path))
    except json.JSONDecodeError as exc:
        raise AgridroneError(f"{path}: not valid JSON: {exc.msg} at line {exc.lineno}") from None
    if not isinstance(document, dict) or "sorties" not in document:
        raise AgridroneError(f"{path}: not an agridrone plan.json (no 'sorties')")
    return document


def _parse_sortie(value: str) -> int | None:
    if value == "all":
        return None
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise AgridroneError(f"--sortie {value!r}: give a sortie number (1, 2, ...) or 'all'")
    return number


def _plan_lists(plan: dict, sortie: str, part: int, autopilot: str, opts: dict
                ) -> dict[str, list]:
    from agridrone.fence import build_fence, build_rally
    from agridrone.mission import build_mission

    count = len(plan.get("sorties") or [])
    number = _parse_sortie(sortie)
    if number is None:
        if count != 1:
            raise AgridroneError(f"the plan has {count} sorties and a vehicle holds one mission "
                                 "at a time: choose one with --sortie N")
        number = 1
    parts = build_mission(plan, number, autopilot=autopilot, alt_frame=opts["alt_frame"],
                          transit_alt_m=opts["transit_alt"], end=opts["end"],
                          max_items=opts["max_items"])
    if not 1 <= part <= len(parts):
        raise AgridroneError(f"sortie {number} has {len(parts)} part(s); --part {part} is not one")
    lists = {"mission": parts[part - 1]}
    if opts["fence"]:
        lists["fence"] = build_fence(plan, margin_m=opts["fence_margin"], autopilot=autopilot)
    if opts["rally"]:
        lists["rally"] = build_rally(plan, autopilot=autopilot)
    return lists


def _file_lists(path: Path, autopilot: str, opts: dict) -> dict[str, list]:
    from agridrone.export import read_mission_file

    content = read_mission_file(path, autopilot)
    if not content.mission:
        raise AgridroneError(f"{path.name} holds no mission items: it is not a mission (give "
                             "plan.json, a .plan or a .waypoints file); nothing was sent")
    if content.autopilot and content.autopilot != autopilot:
        raise AgridroneError(f"{path.name} is a {content.autopilot} mission but the vehicle "
                             f"runs {autopilot} (override with --autopilot if you are sure)")
    lists = {"mission": content.mission}
    for kind in ("fence", "rally"):
        if opts[kind]:
            items = getattr(content, kind)
            if not items:
                raise AgridroneError(f"{path.name} holds no {kind} (--{kind})")
            lists[kind] = items
    return lists


def _spray_speed(plan: dict | None, speed: float | None) -> float:
    if speed is not None:
        return speed
    if plan is not None:
        return float(plan["inputs"]["speed_m_s"])
    raise AgridroneError("give the spray speed with --speed (m/s)")


def _derived_params(*, drone: str | None, rate: float | None, sprayer: bool, battery: bool,
                    speed: float | None, min_speed: float, pump_servo: int,
                    spinner_servo: int) -> dict[str, float]:
    from agridrone.drone import load_drone
    from firmware_bridge.params import battery_failsafe_params, sprayer_params

    if not (sprayer or battery):
        raise AgridroneError("choose --sprayer and/or --battery-failsafe")
    if drone is None:
        raise AgridroneError("give the drone profile with --drone NAME (or a .toml path)")
    profile = load_drone(drone)
    values: dict[str, float] = {}
    if sprayer:
        if rate is None:
            raise AgridroneError("give the application rate with --rate L/HA")
        if speed is None:
            raise AgridroneError("give the spray speed with --speed (m/s)")
        values.update(sprayer_params(
            pump_max_l_min=profile.pump_max_l_min, rate_l_ha=rate,
            swath_m=profile.swath_width_m, spray_speed_m_s=speed, min_speed_m_s=min_speed,
            pump_servo=pump_servo, spinner_servo=spinner_servo or None))
    if battery:
        pack = profile.battery
        values.update(battery_failsafe_params(
            cells=pack.cells_series, cutoff_v_per_cell=pack.cutoff_v_per_cell,
            capacity_ah=pack.capacity_ah, reserve_pct=pack.reserve_pct))
    return values


def _param_options(command):
    options = [
        click.option("--drone", default=None, help="Drone profile: preset name or .toml path."),
        click.option("--rate", type=click.FloatRange(min=0, min_open=True), default=None,
                     help="Application rate (L/ha) for the sprayer parameters."),
        click.option("--speed", type=click.FloatRange(min=0, min_open=True), default=None,
                     help="Spray speed (m/s) [default: the plan's speed]."),
        click.option("--min-speed", type=click.FloatRange(min=0), default=1.0,
                     show_default=True, help="Ground speed (m/s) below which the pump stops."),
        click.option("--pump-servo", type=click.IntRange(1, 32), default=9, show_default=True,
                     help="SERVOn output driving the pump (SERVOn_FUNCTION=22)."),
        click.option("--spinner-servo", type=click.IntRange(0, 32), default=10,
                     show_default=True,
                     help="SERVOn output driving the spinner (23); 0: no spinner."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


@click.command("upload")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option("--sortie", default="1", show_default=True,
              help="plan.json: the sortie to load (1-based), or 'all' for a one-sortie plan.")
@click.option("--part", type=click.IntRange(min=1), default=1, show_default=True,
              help="plan.json: which part of a sortie split by --max-items.")
@click.option("--fence", is_flag=True, help="Also load the geofence.")
@click.option("--rally", is_flag=True, help="Also load the rally point.")
@click.option("--params", "with_params", is_flag=True,
              help="Also set the sprayer and battery-failsafe parameters (needs --drone, --rate).")
@click.option("--max-items", type=click.IntRange(min=1), default=None,
              help="Mission items the vehicle holds [default: 650 ArduPilot, none PX4].")
@click.option("--alt-frame", type=click.Choice(["relative", "terrain"]), default="relative",
              show_default=True, help="plan.json: altitude frame of the mission.")
@click.option("--transit-alt", type=float, default=None,
              help="plan.json: transit altitude (m) [default: spray altitude].")
@click.option("--end", type=click.Choice(["rtl", "land"]), default="rtl", show_default=True,
              help="plan.json: end the mission with RTL or LAND at the station.")
@click.option("--fence-margin", type=click.FloatRange(min=0), default=10.0, show_default=True,
              help="plan.json: fence margin around the field (m).")
@_param_options
@_transfer_option
@_link_options
def upload(file: Path, sortie: str, part: int, fence: bool, rally: bool, with_params: bool,
           max_items: int | None, alt_frame: str, transit_alt: float | None, end: str,
           fence_margin: float, drone: str | None, rate: float | None, speed: float | None,
           min_speed: float, pump_servo: int, spinner_servo: int, transfer: str, address: str,
           baud: int, autopilot: str | None, source_system: int, source_component: int,
           heartbeat_timeout: float, timeout_s: float, retries: int, quiet: bool,
           as_json: bool) -> None:
    """Load FILE (plan.json, .plan or .waypoints) into the vehicle and verify it by read-back.

    The mission (and with --fence / --rally the geofence and rally point) is uploaded by
    MAVLink FTP or item by item (--transfer), read back through the mission protocol and
    compared item by item; a failed upload clears the vehicle's list so it never holds a
    half-new mission. The report names the path each list took, and why FTP was not used.
    """
    from firmware_bridge.params import set_params
    from firmware_bridge.transfer import load

    plan = _read_plan(file)
    opts = {"fence": fence, "rally": rally, "alt_frame": alt_frame, "transit_alt": transit_alt,
            "end": end, "max_items": max_items, "fence_margin": fence_margin}
    values = None
    if with_params:
        values = _derived_params(drone=drone, rate=rate, sprayer=True, battery=True,
                                 speed=_spray_speed(plan, speed), min_speed=min_speed,
                                 pump_servo=pump_servo, spinner_servo=spinner_servo)
    link_args = _LinkArgs(address, baud, autopilot, source_system, source_component,
                          heartbeat_timeout)
    bars = _ProgressBars(hidden=quiet or as_json)
    summary: dict = {"connect": address, "file": str(file), "uploads": []}
    lines = []
    with _vehicle(link_args) as link:
        summary["autopilot"] = link.autopilot
        if plan is not None:
            lists = _plan_lists(plan, sortie, part, link.autopilot, opts)
        else:
            lists = _file_lists(file, link.autopilot, opts)
        try:
            for kind, items in lists.items():
                bars.kind = kind
                report = load(link, items, KIND_TYPES[kind], transfer=transfer, progress=bars,
                              timeout_s=timeout_s, retries=retries,
                              max_items=max_items if kind == "mission" else None)
                bars.close()
                summary["uploads"].append({"kind": kind, "verified": True,
                                           **_report_summary(report)})
                lines += _report_lines(kind, "loaded and verified", report)
                if report.fell_back_reason and not report.ftp_answered:
                    transfer = "items"  # no FTP on this vehicle: do not probe again
        finally:
            bars.close()
        if values is not None:
            confirmed = set_params(link, values, timeout_s=timeout_s, retries=retries)
            summary["params"] = confirmed
            lines.append(f"parameters: {len(confirmed)} set and read back")
    _emit(as_json, summary, lines)


def _report_summary(report: TransferReport) -> dict:
    """The JSON fields of a :class:`firmware_bridge.transfer.TransferReport`."""
    return {"path": report.path, "items": report.items, "bytes": report.bytes,
            "retries": report.retries, "seconds": round(report.seconds, 3),
            "items_per_s": round(report.items_per_s, 1),
            "fell_back_reason": report.fell_back_reason}


def _report_lines(kind: str, done: str, report: TransferReport) -> list[str]:
    """The closing report of one list: path, items, bytes, retries, items/s, and why FTP was
    not used when it was tried."""
    lines = [f"{kind}: {report.items} items {done} via {report.path} in {report.seconds:.1f} s "
             f"({report.bytes} bytes, {report.items_per_s:.0f} items/s, "
             f"{report.retries} retries)"]
    if report.fell_back_reason:
        lines.append(f"{kind}: MAVLink FTP not used: {report.fell_back_reason}")
    return lines


@click.command("download")
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), required=True,
              help="Mission Planner .waypoints file to write.")
@_transfer_option
@_link_options
def download(output: Path, transfer: str, address: str, baud: int, autopilot: str | None,
             source_system: int, source_component: int, heartbeat_timeout: float,
             timeout_s: float, retries: int, quiet: bool, as_json: bool) -> None:
    """Read the vehicle's mission and write it to a .waypoints file (ArduPilot: line 0 is
    the vehicle's home), by MAVLink FTP or the pipelined item download (--transfer)."""
    from agridrone.export import write_waypoints
    from firmware_bridge.transfer import fetch

    if output.suffix.lower() != ".waypoints":
        raise AgridroneError(f"{output}: the download is written as .waypoints")
    bars = _ProgressBars(hidden=quiet or as_json)
    link_args = _LinkArgs(address, baud, autopilot, source_system, source_component,
                          heartbeat_timeout)
    with _vehicle(link_args) as link:
        try:
            items, report = fetch(link, transfer=transfer, progress=bars, timeout_s=timeout_s,
                                  retries=retries)
        finally:
            bars.close()
        dialect = link.autopilot
    home = None
    if dialect == "px4":  # PX4 has no home item; the file's line 0 is a placeholder
        located = next((it for it in items if it.x or it.y), None)
        home = (located.lon_deg, located.lat_deg, 0.0) if located else (0.0, 0.0, 0.0)
    write_waypoints(output, items, home)
    summary = {"connect": address, "autopilot": dialect, "output": str(output),
               **_report_summary(report)}
    _emit(as_json, summary, _report_lines("mission", "downloaded", report)
          + [f"{len(items)} mission items written to {output}"])


@click.command("clear")
@click.option("--fence", is_flag=True, help="Also clear the geofence.")
@click.option("--rally", is_flag=True, help="Also clear the rally points.")
@_link_options
def clear(fence: bool, rally: bool, address: str, baud: int, autopilot: str | None,
          source_system: int, source_component: int, heartbeat_timeout: float,
          timeout_s: float, retries: int, quiet: bool, as_json: bool) -> None:
    """Delete the vehicle's mission (and with --fence / --rally its fence and rally points),
    checked by reading back a count of 0."""
    from firmware_bridge.mission_protocol import clear as clear_list

    kinds = ["mission"] + (["fence"] if fence else []) + (["rally"] if rally else [])
    link_args = _LinkArgs(address, baud, autopilot, source_system, source_component,
                          heartbeat_timeout)
    with _vehicle(link_args) as link:
        for kind in kinds:
            clear_list(link, mission_type=KIND_TYPES[kind], timeout_s=timeout_s,
                       retries=retries)
    _emit(as_json, {"connect": address, "cleared": kinds},
          [f"{kind} cleared (count 0 read back)" for kind in kinds])


@click.command("params")
@click.option("--sprayer", is_flag=True, help="Set the sprayer parameters (SPRAY_*, SERVOn).")
@click.option("--battery-failsafe", is_flag=True, help="Set the battery failsafe (BATT_*).")
@_param_options
@_link_options
def params(sprayer: bool, battery_failsafe: bool, drone: str | None, rate: float | None,
           speed: float | None, min_speed: float, pump_servo: int, spinner_servo: int,
           address: str, baud: int, autopilot: str | None, source_system: int,
           source_component: int, heartbeat_timeout: float, timeout_s: float, retries: int,
           quiet: bool, as_json: bool) -> None:
    """Set ArduPilot's sprayer and battery-failsafe parameters derived from the drone
    profile and the application rate, then read them back."""
    from firmware_bridge.params import set_params

    values = _derived_params(drone=drone, rate=rate, sprayer=sprayer, battery=battery_failsafe,
                             speed=speed, min_speed=min_speed, pump_servo=pump_servo,
                             spinner_servo=spinner_servo)
    link_args = _LinkArgs(address, baud, autopilot, source_system, source_component,
                          heartbeat_timeout)
    with _vehicle(link_args) as link:
        confirmed = set_params(link, values, timeout_s=timeout_s, retries=retries)
    _emit(as_json, {"connect": address, "params": confirmed},
          [f"{name} = {value:g}" for name, value in sorted(confirmed.items())])

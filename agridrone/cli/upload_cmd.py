"""``agridrone upload | download | clear | params``: load a sortie, its fence and rally point
and every parameter the plan needs (:mod:`missions.vehicle_params`, the same values
``simulate`` sets; on ArduPilot also the Lua pump guard) into a flight controller, verified by
read-back;
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

from agridrone.cli.plan_settings import PlanSettings, resolve
from agridrone.errors import AgridroneError

if TYPE_CHECKING:
    from firmware_bridge.transfer import TransferReport
    from missions.vehicle_params import Sprayer

MISSION, FENCE, RALLY = 0, 1, 2
KIND_TYPES = {"mission": MISSION, "fence": FENCE, "rally": RALLY}
MIN_RATE_S = 0.1  # the progress bar shows items/s once a phase has run this long
DEFAULT_MAX_DISTANCE_M = 500.0  # pre-flight: the vehicle stands at most this far from the start


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
        click.option("--sysid", "sysid", type=click.IntRange(1, 255), default=None,
                     help="MAVLink system id of the vehicle to talk to (its SYSID_THISMAV / "
                          "MAV_SYS_ID) when several share the link: every message is "
                          "addressed to it [default: the plan's, as agridrone ops writes it "
                          "into each drone's plan.json; else the first vehicle heard]."),
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
        click.option("--key", "key_file", type=click.Path(path_type=Path, dir_okay=False),
                     default=None, help="Sign every message with this MAVLink 2 signing key "
                                        "file (agridrone signing keygen) and accept only "
                                        "the vehicle's messages signed with it."),
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
    key_file: Path | None = None
    sysid: int | None = None


@contextmanager
def _vehicle(args: _LinkArgs):
    from firmware_bridge.link import connect
    from firmware_bridge.signing import read_key

    key = read_key(args.key_file) if args.key_file is not None else None
    link = connect(args.address, baud=args.baud, source_system=args.source_system,
                   source_component=args.source_component,
                   heartbeat_timeout_s=args.heartbeat_timeout, autopilot=args.autopilot,
                   key=key, target_system=args.sysid)
    try:
        yield link
    finally:
        link.close()


def _target(sysid: int | None, plan: dict | None) -> int | None:
    """The system id to address: --sysid, else the plan's (its ops block), else None (the
    first vehicle heard)."""
    from agridrone.ops.plan_block import plan_sysid

    if sysid is not None or plan is None:
        return sysid
    return plan_sysid(plan)


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
    from agridrone.outputs import read_text

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


def _plan_lists(plan: dict, sortie: str, part: int, autopilot: str, settings: PlanSettings,
                opts: dict) -> tuple[dict[str, list], int]:
    """The lists to load for sortie ``sortie`` (part ``part``) of ``plan``, and its number."""
    from missions.fence import build_rally, fence_plan, unfenced_warning
    from missions.mission import build_mission

    count = len(plan.get("sorties") or [])
    number = _parse_sortie(sortie)
    if number is None:
        if count != 1:
            raise AgridroneError(f"the plan has {count} sorties and a vehicle holds one mission "
                                 "at a time: choose one with --sortie N")
        number = 1
    parts = build_mission(plan, number, autopilot=autopilot, alt_frame=settings.alt_frame,
                          transit_alt_m=settings.transit_alt_m, end=settings.end,
                          max_items=settings.max_items)
    if not 1 <= part <= len(parts):
        raise AgridroneError(f"sortie {number} has {len(parts)} part(s); --part {part} is not one")
    lists = {"mission": parts[part - 1]}
    if opts["fence"]:
        lists["fence"], unfenced = fence_plan(plan, margin_m=settings.fence_margin_m,
                                              autopilot=autopilot)
        if unfenced:
            _warn([unfenced_warning(unfenced, autopilot)])
    if opts["rally"]:
        lists["rally"] = build_rally(plan, autopilot=autopilot)
    return lists, number


def _file_lists(path: Path, autopilot: str, opts: dict) -> dict[str, list]:
    from missions.formats import read_mission_file

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


def _sprayer(settings: PlanSettings, *, min_speed: float, pump_servo: int,
             spinner_servo: int) -> Sprayer:
    """ArduPilot's sprayer for ``settings`` (drone, rate, pass spacing and speed, from
    plan.json or the options that override it)."""
    from missions.vehicle_params import Sprayer

    if settings.drone is None:
        raise AgridroneError("give the drone profile with --drone NAME (a preset or .toml "
                             "path), or a plan.json that names it")
    if settings.rate_l_ha is None:
        raise AgridroneError("give the application rate with --rate L/HA, or a plan.json")
    return Sprayer(rate_l_ha=settings.rate_l_ha, spacing_m=settings.swath_m,
                   speed_m_s=settings.speed_m_s, pump_max_l_min=settings.drone.pump_max_l_min,
                   min_speed_m_s=min_speed, pump_servo=pump_servo,
                   spinner_servo=spinner_servo or None)


def _file_params(settings: PlanSettings, sprayer: Sprayer | None) -> dict[str, float]:
    """Without a plan (a mission file, or ``params`` alone): the sprayer (``sprayer``, None:
    not asked for) and a battery failsafe at the drone's landing reserve (a sortie's
    farthest point is unknown, so no charge for the way home)."""
    from missions.ardupilot_params import battery_failsafe_params
    from missions.vehicle_params import chemistry_resting_v

    values = sprayer.params() if sprayer is not None else {}
    if settings.drone is not None:
        pack = settings.drone.battery
        values.update(battery_failsafe_params(
            cells=pack.cells_series, cutoff_v_per_cell=pack.cutoff_v_per_cell,
            capacity_ah=pack.capacity_ah, reserve_pct=pack.reserve_pct,
            resting_v=chemistry_resting_v(settings.drone)))
    return values


@dataclass(frozen=True)
class _ParamRequest:
    """What ``--params`` / ``params`` asked for: the sprayer's options and the fence action."""

    min_speed: float
    pump_servo: int
    spinner_servo: int
    fence_action: str


def _vehicle_values(link, plan: dict | None, number: int, settings: PlanSettings,
                    request: _ParamRequest, with_sprayer: bool = True) -> dict[str, float]:
    """Every parameter to set on ``link``'s vehicle: from the plan's sortie ``number``
    (:func:`agridrone.cli.vehicle_setup.derived_params`, the sprayer as ``settings`` and the
    options give it), or without a plan :func:`_file_params` (ArduPilot only; the sprayer
    only ``with_sprayer``)."""
    from agridrone.cli.vehicle_setup import derived_params, is_sitl

    if plan is None:
        if link.autopilot == "px4":
            raise AgridroneError("PX4 parameters are derived from a plan.json: give one "
                                 "(upload plan.json --params, or params --plan plan.json)")
        if settings.drone is None:
            raise AgridroneError("give the drone profile with --drone NAME (a preset or "
                                 ".toml path), or a plan.json that names it")
        return _file_params(settings, _sprayer(settings, min_speed=request.min_speed,
                                               pump_servo=request.pump_servo,
                                               spinner_servo=request.spinner_servo)
                            if with_sprayer else None)
    if link.autopilot == "px4":
        return derived_params(link, plan, number, fence_action=request.fence_action,
                              simulated=False)
    sprayer = _sprayer(settings, min_speed=request.min_speed, pump_servo=request.pump_servo,
                       spinner_servo=request.spinner_servo)
    return derived_params(link, plan, number, fence_action=request.fence_action,
                          simulated=is_sitl(link), sprayer=sprayer)


def _apply(link, values: dict[str, float], *, timeout_s: float, retries: int, guard: bool,
           summary: dict, lines: list[str]) -> dict[str, float]:
    """Set ``values`` and read them back; with ``guard`` (ArduPilot) install the pump guard.
    Fills ``summary`` ("params", "pump_guard") and ``lines``; warns on stderr where the
    vehicle has no scripting."""
    from agridrone.cli.vehicle_setup import apply_params, install_pump_guard, is_sitl

    confirmed = apply_params(link, values, timeout_s=timeout_s, retries=retries)
    summary["params"] = confirmed
    lines.append(f"parameters: {len(confirmed)} set and read back")
    if guard and link.autopilot == "ardupilot":
        report = install_pump_guard(link, sitl=is_sitl(link), timeout_s=timeout_s,
                                    retries=retries)
        install = report.install
        summary["pump_guard"] = None if install is None else {
            "path": install.path, "written": install.written,
            "reboot_needed": install.reboot_needed}
        if report.warning:
            _warn([report.line])
        else:
            lines.append(report.line)
    return confirmed


def _warn(warnings: list[str]) -> None:
    for warning in warnings:
        click.echo(f"warning: {warning}", err=True)


def _param_options(command):
    options = [
        click.option("--drone", default=None,
                     help="Drone profile: preset name or .toml path [default: the plan's]."),
        click.option("--rate", type=click.FloatRange(min=0, min_open=True), default=None,
                     help="Application rate (L/ha) [default: the plan's]."),
        click.option("--swath-width", type=click.FloatRange(min=0, min_open=True),
                     default=None, help="Pass spacing (m) [default: the plan's, else the "
                                        "drone's swath]."),
        click.option("--speed", type=click.FloatRange(min=0, min_open=True), default=None,
                     help="Spray speed (m/s) [default: the plan's, else 5]."),
        click.option("--min-speed", type=click.FloatRange(min=0), default=0.0,
                     show_default=True,
                     help="Ground speed (m/s) below which the pump stops (0: the pump runs in "
                          "proportion to speed from standstill, as simulate sets it)."),
        click.option("--pump-servo", type=click.IntRange(1, 32), default=9, show_default=True,
                     help="SERVOn output driving the pump (SERVOn_FUNCTION=22)."),
        click.option("--spinner-servo", type=click.IntRange(0, 32), default=10,
                     show_default=True,
                     help="SERVOn output driving the spinner (23); 0: no spinner."),
        click.option("--fence-action", type=click.Choice(["rtl", "brake"]), default="rtl",
                     show_default=True,
                     help="What the vehicle does on a fence breach (FENCE_ACTION; PX4: "
                          "GF_ACTION return or hold)."),
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
              help="Also set every parameter the plan needs, read back (as simulate sets "
                   "them): sprayer, the sortie's battery failsafe, geofence on (its polygons "
                   "are loaded too), return height, waypoint radius; ArduPilot: also the Lua "
                   "pump guard by FTP; PX4: pump output, BAT_*_THR, GF_ACTION. A mission "
                   "file (ArduPilot) gets the sprayer and a reserve-only battery failsafe "
                   "and needs --drone and --rate.")
@click.option("--max-items", type=click.IntRange(min=1), default=None,
              help="Mission items the vehicle holds [default: the plan's, else 650 ArduPilot, "
                   "none PX4].")
@click.option("--alt-frame", type=click.Choice(["relative", "terrain"]), default=None,
              help="plan.json: altitude frame of the mission [default: the plan's].")
@click.option("--transit-alt", type=click.FloatRange(min=0, min_open=True), default=None,
              help="plan.json: transit altitude (m) [default: the plan's].")
@click.option("--end", type=click.Choice(["rtl", "land"]), default=None,
              help="plan.json: end the mission with RTL or LAND [default: the plan's].")
@click.option("--fence-margin", type=click.FloatRange(min=0), default=None,
              help="plan.json: fence margin around the field (m) [default: the plan's].")
@click.option("--force", is_flag=True,
              help="Skip the pre-flight checks (airframe, sprayer, distance, battery).")
@click.option("--max-distance", type=click.FloatRange(min=0, min_open=True),
              default=DEFAULT_MAX_DISTANCE_M, show_default=True,
              help="Pre-flight: farthest the mission's start may lie from the vehicle (m).")
@_param_options
@_transfer_option
@_link_options
def upload(file: Path, sortie: str, part: int, fence: bool, rally: bool, with_params: bool,
           max_items: int | None, alt_frame: str | None, transit_alt: float | None,
           end: str | None, fence_margin: float | None, drone: str | None, rate: float | None,
           swath_width: float | None, speed: float | None, min_speed: float, pump_servo: int,
           spinner_servo: int, fence_action: str, force: bool, max_distance: float,
           transfer: str, address: str, sysid: int | None,
           baud: int, autopilot: str | None, source_system: int, source_component: int,
           heartbeat_timeout: float, timeout_s: float, retries: int, key_file: Path | None,
           quiet: bool, as_json: bool) -> None:
    """Load FILE (plan.json, .plan or .waypoints) into the vehicle and verify it by read-back.

    The mission (and with --fence / --rally the geofence and rally point) is uploaded by
    MAVLink FTP or item by item (--transfer), read back through the mission protocol and
    compared item by item; a failed upload clears the vehicle's list so it never holds a
    half-new mission. The report names the path each list took, and why FTP was not used.

    With --params the vehicle then gets the parameters of the plan's sortie, exactly those
    ``agridrone simulate`` sets, each read back (see --params).

    Example: agridrone upload plan.json --sortie 2 --params --connect /dev/ttyUSB0
    """
    from firmware_bridge.transfer import load

    plan = _read_plan(file)
    settings, warnings = resolve(plan, drone=drone, rate_l_ha=rate, swath_m=swath_width,
                                 speed_m_s=speed, alt_frame=alt_frame, transit_alt_m=transit_alt,
                                 end=end, max_items=max_items, fence_margin_m=fence_margin)
    _warn(warnings)
    # --params switches the fence on (FENCE_ENABLE / GF_ACTION): its polygons go with it
    opts = {"fence": fence or (with_params and plan is not None), "rally": rally}
    request = _ParamRequest(min_speed, pump_servo, spinner_servo, fence_action)
    link_args = _LinkArgs(address, baud, autopilot, source_system, source_component,
                          heartbeat_timeout, key_file, _target(sysid, plan))
    bars = _ProgressBars(hidden=quiet or as_json)
    summary: dict = {"connect": address, "file": str(file), "uploads": []}
    lines = []
    with _vehicle(link_args) as link:
        summary["autopilot"] = link.autopilot
        number = None
        if plan is not None:
            lists, number = _plan_lists(plan, sortie, part, link.autopilot, settings, opts)
        else:
            lists = _file_lists(file, link.autopilot, opts)
        values = (_vehicle_values(link, plan, number or 1, settings, request) if with_params
                  else None)
        if force:
            lines.append("pre-flight checks skipped (--force)")
        else:
            problems = _preflight(link, plan, number, lists["mission"], settings, values,
                                  max_distance, file_autopilot=None if plan else _stated(file))
            if problems:
                raise AgridroneError("pre-flight checks failed, nothing uploaded: "
                                     + "; ".join(problems) + " (--force skips the checks)")
            lines.append("pre-flight checks passed (airframe, sprayer, distance"
                         + (", battery)" if plan is not None else ")"))
        summary["preflight"] = "skipped" if force else "passed"
        try:
            for kind, items in lists.items():
                bars.kind = kind
                report = load(link, items, KIND_TYPES[kind], transfer=transfer, progress=bars,
                              timeout_s=timeout_s, retries=retries,
                              max_items=settings.max_items if kind == "mission" else None)
                bars.close()
                summary["uploads"].append({"kind": kind, "verified": True,
                                           **_report_summary(report)})
                lines += _report_lines(kind, "loaded and verified", report)
                if report.fell_back_reason and not report.ftp_answered:
                    transfer = "items"  # no FTP on this vehicle: do not probe again
        finally:
            bars.close()
        if values is not None:
            _apply(link, values, timeout_s=timeout_s, retries=retries, guard=True,
                   summary=summary, lines=lines)
    _emit(as_json, summary, lines)


def _stated(file: Path) -> str | None:
    """The autopilot a mission file says it is for (.plan), or None."""
    from missions.formats import read_mission_file

    return read_mission_file(file, None).autopilot


def _mission_start(items: list) -> tuple[float, float] | None:
    """(lat, lon) degrees of the first positioned item after ArduPilot's home (item 0)."""
    located = [item for item in items[1:] if item.x or item.y] or [
        item for item in items if item.x or item.y]
    return (located[0].lat_deg, located[0].lon_deg) if located else None


def _preflight(link, plan: dict | None, number: int | None, mission: list,
               settings: PlanSettings, values: dict[str, float] | None, max_distance: float,
               file_autopilot: str | None) -> list[str]:
    """Every pre-flight problem (firmware_bridge.preflight), in order: airframe and
    autopilot, sprayer, distance to the start, battery (plan.json only)."""
    from firmware_bridge import preflight

    preflight.request_telemetry(link)
    checks = [preflight.check_airframe(link, settings.autopilot or file_autopilot),
              preflight.check_sprayer(link, to_set=values)]
    if plan is not None:
        lon, lat = plan["station"]
        start = (float(lat), float(lon))
    else:
        start = _mission_start(mission)
    if start is not None:
        checks.append(preflight.check_distance(link, *start, max_distance))
    if plan is not None and settings.drone is not None:
        from missions.vehicle_params import return_threshold_pct

        threshold = return_threshold_pct(plan, number, link.autopilot)
        checks.append(preflight.check_battery(link, plan["sorties"][number - 1],
                                              settings.drone, threshold_pct=threshold))
    return [problem for problem in checks if problem is not None]


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
def download(output: Path, transfer: str, address: str, sysid: int | None, baud: int, autopilot: str | None,
             source_system: int, source_component: int, heartbeat_timeout: float,
             timeout_s: float, retries: int, key_file: Path | None, quiet: bool,
             as_json: bool) -> None:
    """Read the vehicle's mission and write it to a .waypoints file (ArduPilot: line 0 is
    the vehicle's home), by MAVLink FTP or the pipelined item download (--transfer)."""
    from firmware_bridge.transfer import fetch
    from missions.formats import write_waypoints

    if output.suffix.lower() != ".waypoints":
        raise AgridroneError(f"{output}: the download is written as .waypoints")
    bars = _ProgressBars(hidden=quiet or as_json)
    link_args = _LinkArgs(address, baud, autopilot, source_system, source_component,
                          heartbeat_timeout, key_file, sysid)
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
def clear(fence: bool, rally: bool, address: str, sysid: int | None, baud: int, autopilot: str | None,
          source_system: int, source_component: int, heartbeat_timeout: float,
          timeout_s: float, retries: int, key_file: Path | None, quiet: bool,
          as_json: bool) -> None:
    """Delete the vehicle's mission (and with --fence / --rally its fence and rally points),
    checked by reading back a count of 0."""
    from firmware_bridge.mission_protocol import clear as clear_list

    kinds = ["mission"] + (["fence"] if fence else []) + (["rally"] if rally else [])
    link_args = _LinkArgs(address, baud, autopilot, source_system, source_component,
                          heartbeat_timeout, key_file, sysid)
    with _vehicle(link_args) as link:
        for kind in kinds:
            clear_list(link, mission_type=KIND_TYPES[kind], timeout_s=timeout_s,
                       retries=retries)
    _emit(as_json, {"connect": address, "cleared": kinds},
          [f"{kind} cleared (count 0 read back)" for kind in kinds])


SPRAYER_FAMILY = ("SPRAY_", "SERVO")
BATTERY_FAMILY = ("BATT_",)


@click.command("params")
@click.option("--plan", "plan_file", type=click.Path(path_type=Path, dir_okay=False, exists=True),
              default=None, help="plan.json: set every parameter its sortie needs (as upload "
                                 "--params and simulate set them), or with --sprayer / "
                                 "--battery-failsafe only those.")
@click.option("--sortie", type=click.IntRange(min=1), default=1, show_default=True,
              help="--plan: the sortie whose battery failsafe to set (1-based).")
@click.option("--sprayer", is_flag=True, help="Only the sprayer parameters (SPRAY_*, SERVOn).")
@click.option("--battery-failsafe", is_flag=True, help="Only the battery failsafe (BATT_*).")
@_param_options
@_link_options
def params(plan_file: Path | None, sortie: int, sprayer: bool, battery_failsafe: bool,
           drone: str | None, rate: float | None, swath_width: float | None,
           speed: float | None, min_speed: float, pump_servo: int, spinner_servo: int,
           fence_action: str, address: str, sysid: int | None, baud: int,
           autopilot: str | None, source_system: int, source_component: int, heartbeat_timeout: float,
           timeout_s: float, retries: int, key_file: Path | None, quiet: bool,
           as_json: bool) -> None:
    """Set the vehicle's parameters and read them back.

    With --plan: everything sortie --sortie of the plan needs (sprayer, battery failsafe,
    geofence switches, return; ArduPilot: the Lua pump guard; PX4: pump output, BAT_*_THR,
    GF_ACTION), the values upload --params and simulate set. The fence's polygons are not
    loaded here: upload them with upload --fence. Without a plan (ArduPilot): --sprayer and/or
    --battery-failsafe from --drone and --rate (the failsafe at the drone's reserve).

    Example: agridrone params --plan plan.json --sortie 2 --connect udp:127.0.0.1:14550
    """
    plan = None
    if plan_file is not None:
        plan = _read_plan(plan_file)
        if plan is None:
            raise AgridroneError(f"--plan {plan_file}: give a plan.json")
    elif not (sprayer or battery_failsafe):
        raise AgridroneError("choose --sprayer and/or --battery-failsafe, or give --plan")
    settings, warnings = resolve(plan, drone=drone, rate_l_ha=rate, swath_m=swath_width,
                                 speed_m_s=speed)
    _warn(warnings)
    request = _ParamRequest(min_speed, pump_servo, spinner_servo, fence_action)
    link_args = _LinkArgs(address, baud, autopilot, source_system, source_component,
                          heartbeat_timeout, key_file, _target(sysid, plan))
    summary: dict = {"connect": address}
    lines: list[str] = []
    with _vehicle(link_args) as link:
        values = _vehicle_values(link, plan, sortie, settings, request,
                                 with_sprayer=plan is not None or sprayer)
        families = (SPRAYER_FAMILY if sprayer else ()) + (BATTERY_FAMILY if battery_failsafe
                                                         else ())
        if families:
            values = {name: value for name, value in values.items()
                      if name.startswith(families)}
        everything = plan is not None and not families
        confirmed = _apply(link, values, timeout_s=timeout_s, retries=retries,
                           guard=everything, summary=summary, lines=lines)
    _emit(as_json, summary, [f"{name} = {value:g}" for name, value in sorted(confirmed.items())]
          + lines[1:])

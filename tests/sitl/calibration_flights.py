"""Fly agridrone-planned spraying sorties on real ArduPilot SITL as a drone that
is not the one they were planned for (tests/data/drones/t10-worn.toml) and keep
the DataFlash logs SITL writes (one ``.BIN`` per arming), for the calibration tests.

Run as a script to (re)make the small logs committed in tests/data/logs/:
``ARDUPILOT_SITL=/path/to/arducopter python3 -m tests.sitl.calibration_flights OUTDIR [NAME...]``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from agridrone.cli.simulate_run import SimulateOptions, simulate_plan
from agridrone.drone import load_drone
from sim.sitl import free_instance, launch_sitl_for_drone, sitl_binary
from tests.sitl.flight_checks import HOME_AMSL_M, make_plan

SPEEDUP = 40.0
# Only what calibration reads: GPS (bit 2), CTUN (4), battery/current (9), RCOUT (10);
# the EKF's own messages off, every message at most 10 Hz (SITL logs its simulated ESCs and
# physics at the loop rate otherwise: 50 MB a sortie). Set at boot, from a .parm file.
LOG_PARAMS = {"LOG_BITMASK": float((1 << 2) | (1 << 4) | (1 << 9) | (1 << 10)),
              "EK3_LOG_LEVEL": 3.0, "LOG_FILE_RATEMAX": 10.0}
# name: (field, plan options, sorties flown: None for all); the irregular field needs 20
FLIGHTS = {
    "rect": ("agridrone/data/fields/lahore_rect_2ha.geojson", ("--rate", "10"), None),
    "irregular": ("agridrone/data/fields/faisalabad_irregular.geojson", ("--rate", "10"), 1),
}
LOG_FLUSH_TIMEOUT_S = 20.0  # wall time SITL gets to write its log buffer out after a flight
PLAN_DRONE = "agras-t10"  # what the operator plans with and calibrates from
TRUE_DRONE = Path(__file__).resolve().parents[1] / "data" / "drones" / "t10-worn.toml"  # what SITL flies
HEADER = {"FMT", "FMTU", "UNIT", "MULT", "PARM", "VER"}
KEEP = {"ARM", "EV", "MODE", "MSG", "BAT", "GPS", "CTUN", "RCOU"}


def fly(binary: Path, name: str, workdir: Path, instance: int | None = None) -> list[Path]:
    """Plan FLIGHTS[name] for PLAN_DRONE, fly its sorties on SITL started as TRUE_DRONE and
    return SITL's
    DataFlash logs, one per sortie (SITL ``instance``: the first free one when None), copied to ``workdir/NAME-K.BIN``."""
    field, options, sorties = FLIGHTS[name]
    _, plan = make_plan(workdir / f"plan-{name}", field, "--drone", PLAN_DRONE, *options)
    plan = {**plan, "sorties": plan["sorties"][:sorties]}
    lon, lat = plan["station"]
    sitl_dir = workdir / f"sitl-{name}"
    sitl_dir.mkdir(parents=True, exist_ok=True)
    parm = sitl_dir / "calibration-logging.parm"
    parm.write_text("".join(f"{k} {v:g}\n" for k, v in LOG_PARAMS.items()))
    with launch_sitl_for_drone(binary, load_drone(str(TRUE_DRONE)), home=(lat, lon, HOME_AMSL_M),
                               speedup=SPEEDUP, workdir=sitl_dir, instance=instance,
                               param_files=[parm],
                               temp_c=float(plan["inputs"]["temp_c"])) as sitl:
        logs = simulate_plan(plan, SimulateOptions(connect=sitl.address,
                                                   heartbeat_timeout_s=30.0))
        # SITL writes its log from a buffer: the last sortie's disarm record can still be in
        # it when the flight driver is done, and stopping SITL then loses it.
        deadline = time.monotonic() + LOG_FLUSH_TIMEOUT_S
        while disarmings(sitl_dir / "logs") < len(logs) and time.monotonic() < deadline:
            time.sleep(0.5)
    assert all(log.completed for log in logs), [log.texts[-3:] for log in logs]
    out = []
    for path in sorted((sitl_dir / "logs").glob("*.BIN")):
        out += split_by_arming(path, workdir, name, first=len(out) + 1)
    assert len(out) == len(logs), (out, len(logs))
    return out


def disarmings(folder: Path) -> int:
    """How many disarm records SITL's DataFlash logs in ``folder`` hold so far."""
    from pymavlink import mavutil

    count = 0
    for path in sorted(folder.glob("*.BIN")):
        log = mavutil.mavlink_connection(str(path))
        while (m := log.recv_match(type="ARM")) is not None:
            count += not m.ArmState
    return count


def split_by_arming(path: Path, folder: Path, stem: str, first: int = 1) -> list[Path]:
    """Copy SITL's DataFlash log ``path`` as one file per arming, ``folder/STEM-K.BIN`` from
    K = ``first``, holding SITL's own records, byte for byte, of the types calibration reads
    (KEEP; the format, unit and parameter records from the log's start, then the armed
    span's records)."""
    from pymavlink import mavutil

    log = mavutil.mavlink_connection(str(path))
    header = bytearray()
    spans: list[bytearray] = []
    current: bytearray | None = None
    while True:
        m = log.recv_msg()
        if m is None:
            break
        kind = m.get_type()
        if kind == "ARM":
            if m.ArmState and current is None:
                current = bytearray()
            elif not m.ArmState and current is not None:
                current += m.get_msgbuf()
                spans.append(current)
                current = None
                continue
        if kind in HEADER:
            header += m.get_msgbuf()
        elif current is not None and kind in KEEP:
            current += m.get_msgbuf()
    out = []
    for k, span in enumerate(spans, start=first):
        target = folder / f"{stem}-{k}.BIN"
        target.write_bytes(bytes(header + span))
        out.append(target)
    return out


if __name__ == "__main__":  # pragma: no cover - the generator of the committed logs
    folder = Path(sys.argv[1])
    folder.mkdir(parents=True, exist_ok=True)
    for flight in sys.argv[2:] or FLIGHTS:
        for path in fly(sitl_binary(), flight, folder, instance=free_instance(50)):
            print(path, path.stat().st_size)

"""Read any supported flight log by its suffix: ``.bin`` (ArduPilot DataFlash), ``.tlog``
(MAVLink telemetry), ``.ulg`` (PX4)."""

from __future__ import annotations

from pathlib import Path

from agridrone.calibrate.flightlog import FlightLog
from agridrone.errors import AgridroneError

SUFFIXES = (".bin", ".tlog", ".ulg")


def read_flights(path: str | Path) -> list[FlightLog]:
    """The flights (one per arming) in the log file ``path``. Raises AgridroneError naming
    the file when it is missing, of an unknown kind, or unusable (see the readers)."""
    from agridrone.calibrate.ardupilot import read_dataflash, read_tlog
    from agridrone.calibrate.px4 import read_ulog

    path = Path(path)
    if not path.is_file():
        raise AgridroneError(f"{path}: no such log file")
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise AgridroneError(f"{path}: unknown log kind {suffix or '(no suffix)'}; "
                             f"one of {', '.join(SUFFIXES)}")
    if path.stat().st_size == 0:
        raise AgridroneError(f"{path}: empty file")
    reader = {".bin": read_dataflash, ".tlog": read_tlog, ".ulg": read_ulog}[suffix]
    return reader(path)

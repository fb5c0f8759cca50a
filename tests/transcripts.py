"""Loader for the recorded ArduCopter SITL transcripts (tests/data/sitl-transcripts/, copied
from ../shared/sitl-transcripts/ with its README).

Each ``NN-name.jsonl`` holds a header line and one line per MAVLink message in either direction
(``gcs>veh`` or ``veh>gcs``), ``t`` in simulated seconds. :func:`load` reads one scenario;
:func:`to_message` turns a recorded ground-station line back into a pymavlink message that can
be sent again. The directory is the repository's test data, or the one named by the environment
variable ``AGRIDRONE_TRANSCRIPTS``.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path

from pymavlink.dialects.v20 import ardupilotmega as mavlink

GCS_TO_VEHICLE = "gcs>veh"
VEHICLE_TO_GCS = "veh>gcs"
_NON_FINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def transcript_dir() -> Path:
    """Where the transcripts live: $AGRIDRONE_TRANSCRIPTS or tests/data/sitl-transcripts."""
    env = os.environ.get("AGRIDRONE_TRANSCRIPTS")
    if env:
        return Path(env)
    return Path(__file__).resolve().parent / "data" / "sitl-transcripts"


@dataclass(frozen=True)
class Line:
    """One recorded message: time (simulated s), direction, type, fields and recorder's note."""

    t: float
    direction: str
    type: str
    fields: dict
    note: str = ""

    @property
    def from_gcs(self) -> bool:
        """True for a message the ground station sent."""
        return self.direction == GCS_TO_VEHICLE


@dataclass(frozen=True)
class Transcript:
    """A scenario: its header (dict) and its lines in recorded order."""

    name: str
    header: dict
    lines: tuple[Line, ...]

    def gcs_lines(self) -> list[Line]:
        """What the ground station sent, in order."""
        return [line for line in self.lines if line.from_gcs]

    def vehicle_lines(self, types: set[str] | None = None) -> list[Line]:
        """What the vehicle sent (optionally only ``types``), in order."""
        return [line for line in self.lines
                if not line.from_gcs and (types is None or line.type in types)]

    def recorded_vehicle_types(self) -> set[str]:
        """Message types of the vehicle that this scenario recorded."""
        return {line.type for line in self.lines if not line.from_gcs}


def _decode(value):
    if isinstance(value, str) and value in _NON_FINITE:
        return _NON_FINITE[value]
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def available() -> list[str]:
    """Names (file stems) of the transcripts present, sorted."""
    directory = transcript_dir()
    return sorted(p.stem for p in directory.glob("*.jsonl")) if directory.is_dir() else []


def load(name: str) -> Transcript:
    """Read scenario ``name`` (file stem such as ``03-upload-ok``)."""
    path = transcript_dir() / f"{name}.jsonl"
    rows = [json.loads(raw) for raw in path.read_text().splitlines() if raw.strip()]
    lines = tuple(
        Line(row["t"], row["dir"], row["type"],
             {k: _decode(v) for k, v in row["fields"].items()}, row.get("note", ""))
        for row in rows[1:])
    return Transcript(name, rows[0], lines)


def to_message(line: Line):
    """A pymavlink (ardupilotmega, MAVLink 2) message with the recorded fields of ``line``."""
    cls = getattr(mavlink, f"MAVLink_{line.type.lower()}_message")
    fields = dict(line.fields)
    for key, value in fields.items():
        if isinstance(value, str):
            fields[key] = value.encode()
    return cls(**fields)

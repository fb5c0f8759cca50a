"""ArduPilot's mission file format: the bytes of ``@MISSION/mission.dat``, ``fence.dat`` and
``rally.dat`` that ArduPilot (4.1 and later) serves and accepts over MAVLink FTP.

Layout, from ArduPilot's libraries/AP_Filesystem/AP_Filesystem_Mission.h (``struct header``)
and AP_Filesystem_Mission.cpp (``read``, ``write``, ``finish_upload``), and MAVProxy's
MAVProxy/modules/mavproxy_wp.py (``wp_ftp_upload``, ``ftp_callback``), all little-endian:

* a 10-byte header ``<HHHHH``: magic 0x763D, data type (MAV_MISSION_TYPE), options (bit 0
  NO_CLEAR: keep the stored list and write from ``start``), start (index of the first item,
  0 for a whole list), item count;
* then ``count`` MISSION_ITEM_INT payloads packed in MAVLink wire order, 38 bytes each
  (MAVLINK_MSG_ID_MISSION_ITEM_INT_LEN): param1-4, x, y (int32 degrees × 1e7), z (float32
  metres), seq, command (uint16), target_system, target_component, frame, current,
  autocontinue, mission_type (uint8).

ArduPilot refuses an uploaded file whose magic is wrong, whose length does not hold exactly
``count`` items, or in which any item is all zero bytes (a part the client never wrote).
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass

from agridrone.errors import AgridroneError
from missions.mission import (
    MISSION_TYPE_FENCE,
    MISSION_TYPE_MISSION,
    MISSION_TYPE_RALLY,
    MissionItem,
)

MAGIC = 0x763D
HEADER = struct.Struct("<HHHHH")
ITEM = struct.Struct("<ffffiifHHBBBBBB")
HEADER_SIZE = HEADER.size  # 10 bytes
ITEM_SIZE = ITEM.size  # 38 bytes
OPTION_NO_CLEAR = 1
MAX_ITEMS = 0xFFFF  # the count is a uint16
FILE_PATHS = {
    MISSION_TYPE_MISSION: "@MISSION/mission.dat",
    MISSION_TYPE_FENCE: "@MISSION/fence.dat",
    MISSION_TYPE_RALLY: "@MISSION/rally.dat",
}


@dataclass(frozen=True)
class MissionFile:
    """A decoded mission file: its MAV_MISSION_TYPE, header options and start index, and the
    items in file order."""

    mission_type: int
    options: int
    start: int
    items: list[MissionItem]


def file_path(mission_type: int) -> str:
    """The FTP path of the list of ``mission_type`` (MAV_MISSION_TYPE 0, 1 or 2)."""
    if mission_type not in FILE_PATHS:
        raise AgridroneError(f"mission type {mission_type}: use 0 (mission), 1 (fence) or 2 (rally)")
    return FILE_PATHS[mission_type]


def file_size(count: int) -> int:
    """Bytes of a file holding ``count`` items."""
    return HEADER_SIZE + count * ITEM_SIZE


def encode(items: Sequence[MissionItem], mission_type: int, *, start: int = 0,
           options: int = 0) -> bytes:
    """The file bytes for ``items`` as a list of ``mission_type``.

    Items are written with seq = ``start`` + their index, target ids 0 and the given
    mission_type; x and y are int32 degrees × 1e7, params and z are stored as float32.
    Refuses more than 65,535 items and an item that would pack to all zero bytes (ArduPilot
    takes such an item for a hole in the file and refuses the whole file).
    """
    file_path(mission_type)
    if len(items) > MAX_ITEMS:
        raise AgridroneError(f"{len(items)} items do not fit a mission file (at most {MAX_ITEMS})")
    if not 0 <= start <= MAX_ITEMS or not 0 <= options <= 0xFFFF:
        raise AgridroneError(f"mission file start {start} or options {options} out of range")
    parts = [HEADER.pack(MAGIC, mission_type, options, start, len(items))]
    for index, item in enumerate(items):
        try:
            packed = ITEM.pack(item.param1, item.param2, item.param3, item.param4, item.x,
                               item.y, item.z, (start + index) & 0xFFFF, item.command, 0, 0,
                               item.frame, item.current, item.autocontinue, mission_type)
        except struct.error as exc:
            raise AgridroneError(f"item {index} cannot be packed into a mission file: {exc}") from None
        if not any(packed):
            raise AgridroneError(f"item {index} packs to all zero bytes; ArduPilot would refuse the file")
        parts.append(packed)
    return b"".join(parts)


def decode(data: bytes, mission_type: int | None = None) -> MissionFile:
    """The header and items of mission file bytes.

    ``mission_type``, when given, is the type the file must hold. Refuses a short file, a
    wrong magic, an unknown or unexpected type and a length that is not the header plus
    exactly the counted items (a truncated download). Each item's seq is its place in the
    vehicle's list (``start`` + index), whatever its seq field holds.
    """
    if len(data) < HEADER_SIZE:
        raise AgridroneError(f"mission file of {len(data)} bytes is shorter than its "
                             f"{HEADER_SIZE}-byte header")
    magic, dtype, options, start, count = HEADER.unpack_from(data, 0)
    if magic != MAGIC:
        raise AgridroneError(f"mission file magic 0x{magic:04x}, expected 0x{MAGIC:04x}")
    if dtype not in FILE_PATHS:
        raise AgridroneError(f"mission file holds unknown mission type {dtype}")
    if mission_type is not None and dtype != mission_type:
        raise AgridroneError(f"mission file holds mission type {dtype}, expected {mission_type}")
    if len(data) != file_size(count):
        raise AgridroneError(f"mission file of {len(data)} bytes should hold {count} items "
                             f"({file_size(count)} bytes)")
    items = []
    for index in range(count):
        (p1, p2, p3, p4, x, y, z, _seq, command, _tsys, _tcomp, frame, current, autocontinue,
         _mtype) = ITEM.unpack_from(data, HEADER_SIZE + index * ITEM_SIZE)
        items.append(MissionItem(seq=start + index, frame=frame, command=command, param1=p1, param2=p2,
                                 param3=p3, param4=p4, x=x, y=y, z=z, autocontinue=autocontinue,
                                 mission_type=dtype, current=current))
    return MissionFile(mission_type=dtype, options=options, start=start, items=items)

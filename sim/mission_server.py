"""The vehicle side of the MAVLink mission protocol (mission, fence, rally) as ArduPilot runs it.

Behaviour copied from ArduCopter 4.7 (see ../shared/sitl-transcripts/): uploads are asked for with
MISSION_REQUEST (40), an unanswered request is repeated every second, the upload is cancelled 8 s
after the last item received; wrong or repeated sequence numbers get INVALID_SEQUENCE without
aborting; invalid items abort with a specific code. MISSION_COUNT truncates the stored mission at
once and items are written in place as they arrive, so a broken upload leaves a mixed mission.
Downloads return item 0 as the vehicle's home and non-INT frame numbers.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace

from pymavlink.dialects.v20 import ardupilotmega as mavlink

from missions.mission import MissionItem

MISSION, FENCE, RALLY = 0, 1, 2

REQUEST_INTERVAL_S = 1.0
UPLOAD_TIMEOUT_S = 8.0

# Commands ArduCopter accepts in a mission (AP_Mission's supported set, the ones a planner uses).
MISSION_COMMANDS = frozenset({
    16, 17, 18, 19, 20, 21, 22, 30, 31, 82, 83, 92, 93, 94, 112, 113, 114, 115, 176, 177, 178,
    179, 181, 182, 183, 184, 189, 191, 192, 194, 195, 197, 200, 201, 202, 203, 205, 206, 207, 208,
    211, 212, 213, 214, 215, 216, 217, 218, 220, 222, 223, 42600, 42702, 42703,
})
# Mission commands whose x/y/z are a position (checked on upload, renumbered frame on download).
POSITION_COMMANDS = frozenset({16, 17, 18, 19, 21, 22, 30, 31, 82, 83, 92, 189, 195, 201})
FENCE_COMMANDS = frozenset({5000, 5001, 5002, 5003, 5004})
RALLY_COMMANDS = frozenset({5100})

# Frame numbers reported on download for the frames a GCS uploads.
_DOWNLOAD_FRAME = {5: 0, 6: 3, 11: 10, 0: 0, 3: 3, 10: 10}




def item_from_message(msg) -> MissionItem:
    """The stored form of a MISSION_ITEM_INT or (float degrees) MISSION_ITEM message: its
    seq, frame, command, params, position (degrees × 1e7), altitude and autocontinue."""
    if msg.get_type() == "MISSION_ITEM":
        x, y = _to_e7(msg.x), _to_e7(msg.y)
    else:
        x, y = int(msg.x), int(msg.y)
    return stored_item(int(msg.command), int(msg.frame), float(msg.param1), float(msg.param2),
                       float(msg.param3), float(msg.param4), x, y, float(msg.z),
                       int(msg.autocontinue))


def stored_item(command: int, frame: int = 0, param1: float = 0.0, param2: float = 0.0,
                param3: float = 0.0, param4: float = 0.0, x: int = 0, y: int = 0,
                z: float = 0.0, autocontinue: int = 1) -> MissionItem:
    """A mission item as the vehicle stores it: its place in the list is its seq, so the
    stored item carries none (seq 0) and no mission type (the list it is in says that)."""
    return MissionItem(0, frame, command, param1, param2, param3, param4, x, y, z,
                       autocontinue)


def _to_e7(value: float) -> int:
    return int(round(value * 1e7)) if math.isfinite(value) else 2**31 - 1


def validate(item: MissionItem, mission_type: int) -> int:
    """MAV_MISSION_RESULT for ``item``: 0 (ACCEPTED) or the code ArduPilot rejects it with."""
    allowed = {MISSION: MISSION_COMMANDS, FENCE: FENCE_COMMANDS, RALLY: RALLY_COMMANDS}[mission_type]
    if item.command not in allowed:
        return mavlink.MAV_MISSION_UNSUPPORTED
    positional = mission_type != MISSION or item.command in POSITION_COMMANDS
    if positional:
        if abs(item.x) > 900_000_000:
            return mavlink.MAV_MISSION_INVALID_PARAM5_X
        if abs(item.y) > 1_800_000_000:
            return mavlink.MAV_MISSION_INVALID_PARAM6_Y
        if not math.isfinite(item.z) or abs(item.z) >= 83_000:
            return mavlink.MAV_MISSION_INVALID_PARAM7
    return mavlink.MAV_MISSION_ACCEPTED


def download_frame(item: MissionItem, mission_type: int) -> int:
    """The frame number ArduPilot reports for ``item`` on download."""
    if mission_type == FENCE:
        return 0
    if mission_type == MISSION and item.command not in POSITION_COMMANDS:
        return 0
    return _DOWNLOAD_FRAME.get(item.frame, item.frame)


def fence_total(items: list[MissionItem]) -> int:
    """FENCE_TOTAL as AC_PolyFence_loader counts it: every item plus one header per polygon."""
    total, i = len(items), 0
    while i < len(items):
        if items[i].command in (5001, 5002):
            total += 1
            i += max(int(items[i].param1), 1)
        else:
            i += 1
    return total


@dataclass
class _Upload:
    mission_type: int
    count: int
    gcs: tuple[int, int]
    next_seq: int
    last_item_s: float
    last_request_s: float
    buffer: list[MissionItem]
    repeats: int = 0


class MissionServer:
    """Stores mission, fence and rally lists and answers the GCS's protocol messages.

    ``send(msg)`` transmits a MAVLink message, ``statustext(severity, text)`` a STATUSTEXT,
    ``param_changed(name, value)`` a PARAM_VALUE broadcast; ``home()`` returns the home item;
    ``timeout_scale`` multiplies the re-request interval and the upload timeout (1 = ArduPilot).
    """

    def __init__(self, send: Callable, statustext: Callable[[int, str], None],
                 param_changed: Callable[[str, float], None], home: Callable[[], MissionItem],
                 mission_limit: int = 650, timeout_scale: float = 1.0) -> None:
        self._send = send
        self._statustext = statustext
        self._param_changed = param_changed
        self._home = home
        self.mission_limit = mission_limit
        self.timeout_scale = timeout_scale
        self.lists: dict[int, list[MissionItem]] = {MISSION: [home()], FENCE: [], RALLY: []}
        self._upload: _Upload | None = None
        self.on_mission_changed: Callable[[], None] = lambda: None
        # False while the vehicle boots: ArduPilot's mission storage is not loaded yet and
        # MISSION_COUNT gets NO_SPACE + "Only 0 items are supported" (ArduCopter 4.7 SITL).
        self.storage_ready: Callable[[], bool] = lambda: True

    # ----------------------------------------------------------------- public
    def store(self, mission_type: int, items: list[MissionItem]) -> None:
        """Replace a stored list directly (test setup, as if uploaded earlier)."""
        self.lists[mission_type] = list(items)
        self.on_mission_changed()

    def handle(self, msg, now_s: float) -> bool:
        """Answer ``msg`` if it belongs to the mission protocol; returns True when it did."""
        kind = msg.get_type()
        handler = {
            "MISSION_COUNT": self._on_count,
            "MISSION_ITEM_INT": self._on_item,
            "MISSION_ITEM": self._on_item,
            "MISSION_REQUEST_LIST": self._on_request_list,
            "MISSION_REQUEST_INT": self._on_request,
            "MISSION_REQUEST": self._on_request,
            "MISSION_CLEAR_ALL": self._on_clear_all,
            "MISSION_ACK": lambda m, t: None,
        }.get(kind)
        if handler is None:
            return False
        handler(msg, now_s)
        return True

    def tick(self, now_s: float) -> None:
        """Re-request the awaited item every second; cancel 8 s after the last item received."""
        up = self._upload
        if up is None:
            return
        deadline = up.last_item_s + UPLOAD_TIMEOUT_S * self.timeout_scale
        interval = REQUEST_INTERVAL_S * self.timeout_scale
        if now_s >= deadline:
            self._upload = None
            self._ack(up.gcs, up.mission_type, mavlink.MAV_MISSION_OPERATION_CANCELLED)
            self._statustext(4, "Mission upload timeout")
            return
        due = up.last_request_s + (up.repeats + 1) * interval
        if now_s >= due and due < deadline - 1e-6:
            up.repeats += 1
            self._send_request(up)

    def cancel_upload(self) -> None:
        """Forget an upload in progress (the link was closed or the vehicle rebooted)."""
        self._upload = None

    # -------------------------------------------------------------- uploads
    def _on_count(self, msg, now_s: float) -> None:
        mtype, count, gcs = int(msg.mission_type), int(msg.count), _source(msg)
        if mtype not in self.lists:
            self._ack(gcs, mtype, mavlink.MAV_MISSION_UNSUPPORTED)
            return
        self._upload = None
        limit = self.mission_limit if self.storage_ready() else 0
        if mtype == MISSION and count > limit:
            self._ack(gcs, mtype, mavlink.MAV_MISSION_NO_SPACE)
            self._statustext(4, f"Only {limit} items are supported")
            return
        if count == 0:
            self._clear(gcs, mtype, announce=True)
            return
        up = _Upload(mtype, count, gcs, 0, now_s, now_s, [])
        self._upload = up
        self._request(up, now_s)
        stored = self.lists[MISSION]
        if mtype == MISSION and len(stored) > count:
            del stored[count:]
            self._param_changed("MIS_TOTAL", count)
            self.on_mission_changed()

    def _on_item(self, msg, now_s: float) -> None:
        up = self._upload
        if up is None or int(msg.mission_type) != up.mission_type or _source(msg) != up.gcs:
            return
        if int(msg.seq) != up.next_seq:
            self._ack(up.gcs, up.mission_type, mavlink.MAV_MISSION_INVALID_SEQUENCE)
            return
        item = item_from_message(msg)
        result = validate(item, up.mission_type)
        if result != mavlink.MAV_MISSION_ACCEPTED:
            self._upload = None
            self._ack(up.gcs, up.mission_type, result)
            return
        up.last_item_s = now_s
        up.next_seq += 1
        appended = self._store_item(up, item)
        if up.next_seq == up.count:
            self._upload = None
            self._complete(up)
        else:
            self._request(up, now_s)
        if appended:
            self._param_changed("MIS_TOTAL", len(self.lists[MISSION]))

    def _store_item(self, up: _Upload, item: MissionItem) -> bool:
        """Write ``item`` in place; returns True when the stored mission grew by one."""
        if up.mission_type != MISSION:
            up.buffer.append(item)
            return False
        seq, stored = up.next_seq - 1, self.lists[MISSION]
        if seq < len(stored):
            stored[seq] = item
            self.on_mission_changed()
            return False
        stored.append(item)
        self.on_mission_changed()
        return True

    def _complete(self, up: _Upload) -> None:
        self._ack(up.gcs, up.mission_type, mavlink.MAV_MISSION_ACCEPTED)
        if up.mission_type == MISSION:
            self._statustext(6, "Flight plan received")
        elif up.mission_type == FENCE:
            self.lists[FENCE] = up.buffer
            self._statustext(7, "Fence Indexed OK")
            self._param_changed("FENCE_TOTAL", fence_total(up.buffer))
        else:
            self.lists[RALLY] = up.buffer
            self._param_changed("RALLY_TOTAL", len(up.buffer))

    def _request(self, up: _Upload, now_s: float) -> None:
        """Ask for the next item now; re-requests follow on a fixed grid from this moment."""
        up.last_request_s, up.repeats = now_s, 0
        self._send_request(up)

    def _send_request(self, up: _Upload) -> None:
        self._send(mavlink.MAVLink_mission_request_message(
            up.gcs[0], up.gcs[1], up.next_seq, up.mission_type))

    # ------------------------------------------------------------ downloads
    def _on_request_list(self, msg, now_s: float) -> None:
        mtype = int(msg.mission_type)
        if mtype not in self.lists:
            self._ack(_source(msg), mtype, mavlink.MAV_MISSION_UNSUPPORTED)
            return
        gcs = _source(msg)
        self._send(mavlink.MAVLink_mission_count_message(
            gcs[0], gcs[1], len(self.lists[mtype]), mtype))

    def _on_request(self, msg, now_s: float) -> None:
        mtype, seq, gcs = int(msg.mission_type), int(msg.seq), _source(msg)
        items = self.lists.get(mtype)
        if items is None or seq >= len(items):
            self._ack(gcs, mtype, mavlink.MAV_MISSION_INVALID_SEQUENCE)
            return
        item = self._home() if (mtype == MISSION and seq == 0) else items[seq]
        frame = 0 if (mtype == MISSION and seq == 0) else download_frame(item, mtype)
        if mtype == MISSION and item.command == mavlink.MAV_CMD_NAV_LAND:
            # AP_Mission keeps only the sign of LAND's param4 (loiter_ccw) and returns -1 or 1
            item = replace(item, param4=-1.0 if item.param4 < 0 else 1.0)
        if msg.get_type() == "MISSION_REQUEST":
            out = mavlink.MAVLink_mission_item_message(
                gcs[0], gcs[1], seq, frame, item.command, 0, item.autocontinue, item.param1,
                item.param2, item.param3, item.param4, item.x / 1e7, item.y / 1e7, item.z, mtype)
        else:
            out = mavlink.MAVLink_mission_item_int_message(
                gcs[0], gcs[1], seq, frame, item.command, 0, item.autocontinue, item.param1,
                item.param2, item.param3, item.param4, item.x, item.y, item.z, mtype)
        self._send(out)

    # ---------------------------------------------------------------- clear
    def _on_clear_all(self, msg, now_s: float) -> None:
        mtype = int(msg.mission_type)
        if mtype not in self.lists:
            self._ack(_source(msg), mtype, mavlink.MAV_MISSION_UNSUPPORTED)
            return
        if self._upload is not None and self._upload.mission_type == mtype:
            self._upload = None
        self._clear(_source(msg), mtype, announce=False)

    def _clear(self, gcs: tuple[int, int], mtype: int, announce: bool) -> None:
        self.lists[mtype] = []
        self._ack(gcs, mtype, mavlink.MAV_MISSION_ACCEPTED)
        if mtype == MISSION:
            if announce:
                self._statustext(6, "Flight plan received")
            self._param_changed("MIS_TOTAL", 0)
            self.on_mission_changed()
        elif mtype == FENCE:
            self._statustext(7, "Fence Indexed OK")
            self._param_changed("FENCE_TOTAL", 0)
        else:
            self._param_changed("RALLY_TOTAL", 0)

    def _ack(self, gcs: tuple[int, int], mtype: int, result: int) -> None:
        self._send(mavlink.MAVLink_mission_ack_message(gcs[0], gcs[1], result, mtype))


def home_item(lat_deg: float, lon_deg: float, alt_amsl_m: float) -> MissionItem:
    """Mission item 0 as ArduPilot reports it: NAV_WAYPOINT at home, frame 0, altitude AMSL."""
    return stored_item(16, 0, x=_to_e7(lat_deg), y=_to_e7(lon_deg), z=alt_amsl_m)


def _source(msg) -> tuple[int, int]:
    return msg.get_srcSystem(), msg.get_srcComponent()

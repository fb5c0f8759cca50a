"""A minimal MAVLink vehicle for the firmware_bridge tests, on a TCP loopback port.

It speaks the mission and parameter protocols the way ArduCopter 4.7 SITL does in
../shared/sitl-transcripts (or the way PX4 does, with ``autopilot="px4"``):

* upload: MISSION_COUNT -> MISSION_REQUEST per item (PX4: REQUEST first, then REQUEST_INT),
  re-requested every ``rerequest_s``; INVALID_SEQUENCE for a wrong seq without aborting
  (PX4 ignores a repeat of the previous item and aborts on others); invalid items abort with
  their own code; NO_SPACE above ``max_items``; ArduPilot writes items in place as they arrive
  (MISSION_COUNT truncates first), PX4 keeps the old list until the upload completes;
  OPERATION_CANCELLED ``upload_timeout_s`` after the last item received;
* download: ArduPilot returns home as item 0 (frame 0, AMSL) and renumbers frames
  (6 -> 3, 5 -> 0, commands without a location -> 0, fence -> 0), altitudes in cm;
* MISSION_CLEAR_ALL (ERROR while an upload is open), set-current (command 224 and
  MISSION_SET_CURRENT), PARAM_SET / PARAM_REQUEST_READ (unknown names: no reply at all;
  replies carry the real type; SPRAY_* exist once SPRAY_ENABLE=1, or only after a reboot with
  ``spray_needs_reboot``).

Faults for tests: ``reject[seq] = code`` fails the upload at that item with that MISSION_ACK
code; ``alter_seq`` stores that item with a shifted latitude; ``go_silent(after_items, for_s)``
drops everything in and out for a while once that many items were stored.
"""

from __future__ import annotations

import math
import select
import socket
import threading
import time
from dataclasses import replace

from pymavlink.dialects.v20 import ardupilotmega as mavlink2

from missions.mission import MissionItem

HOME = (315204000, 743587000, 215.1)
LOCATION_COMMANDS = {16, 17, 18, 19, 21, 22, 30, 31, 82, 84, 85, 92, 94, 179, 189, 191, 201}
KNOWN_COMMANDS = LOCATION_COMMANDS | {
    20, 93, 112, 113, 114, 115, 177, 178, 181, 183, 184, 187, 200, 205, 206, 211, 216, 217,
    218, 222, 223, 3000, 5000, 5001, 5002, 5003, 5004, 5100}
PX4_UNSUPPORTED_COMMANDS = {183, 216}
PX4_UNSUPPORTED_FRAMES = {10, 11}
INT8, INT16, INT32, REAL32 = 2, 4, 6, 9
SPRAY_FAMILY = {"SPRAY_PUMP_RATE": (10.0, REAL32), "SPRAY_SPINNER": (1300.0, INT16),
                "SPRAY_SPEED_MIN": (100.0, REAL32), "SPRAY_PUMP_MIN": (0.0, INT8)}


def default_params() -> dict[str, list]:
    """ArduPilot-like parameters this peer knows: name -> [value, MAV_PARAM_TYPE]."""
    params = {"SPRAY_ENABLE": [0.0, INT8], "BATT_LOW_VOLT": [10.5, REAL32],
              "BATT_CRT_VOLT": [0.0, REAL32], "BATT_FS_LOW_ACT": [0.0, INT8],
              "BATT_LOW_MAH": [0.0, REAL32], "BATT_CAPACITY": [3300.0, INT32],
              "BATT_CRT_MAH": [0.0, REAL32], "BATT_FS_CRT_ACT": [0.0, INT8],
              "BATT_FS_VOLTSRC": [0.0, INT8],
              # geofence and the flight simulate / upload --params set (ArduCopter's types)
              "FENCE_ENABLE": [0.0, INT8], "FENCE_TYPE": [7.0, INT8], "FENCE_ACTION": [1.0, INT8],
              "FENCE_ALT_MAX": [100.0, REAL32], "FENCE_MARGIN": [2.0, REAL32],
              "RTL_ALT": [1500.0, INT32], "RTL_LOIT_TIME": [5000.0, INT32],
              "WPNAV_RADIUS": [200.0, REAL32], "WPNAV_ACCEL": [250.0, REAL32],
              "WPNAV_JERK": [1.0, REAL32]}
    for n in range(1, 17):
        params[f"SERVO{n}_FUNCTION"] = [0.0, INT16]
    return params


class _SocketWriter:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock

    def write(self, data: bytes) -> None:
        try:
            self.sock.sendall(data)
        except OSError:
            pass


class MavlinkPeer:
    """One simulated vehicle (sysid 1, compid 1) listening on 127.0.0.1:<port>."""

    def __init__(self, *, autopilot: str = "ardupilot", max_items: int = 650,
                 rerequest_s: float = 0.2, upload_timeout_s: float = 3.0,
                 heartbeat_s: float = 0.5, spray_needs_reboot: bool = False) -> None:
        self.autopilot = autopilot
        self.max_items = max_items
        self.rerequest_s = rerequest_s
        self.upload_timeout_s = upload_timeout_s
        self.heartbeat_s = heartbeat_s
        self.spray_needs_reboot = spray_needs_reboot
        self.lists: dict[int, list[MissionItem]] = {0: [], 1: [], 2: []}
        self.params = default_params()
        self.reject: dict[int, int] = {}
        self.alter_seq: int | None = None
        self.counts_received: list[int] = []
        self.current_seq = 0
        self._spray_at_boot = False
        self._silence_after: int | None = None
        self._silence_s = 0.0
        self._silent_until = 0.0
        self._upload: dict | None = None
        self._lock = threading.Lock()
        self._running = False
        self._server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._server.bind(("127.0.0.1", 0))
        self._server.listen(4)
        self.port = self._server.getsockname()[1]
        self._threads: list[threading.Thread] = []

    @property
    def address(self) -> str:
        """The pymavlink address a GCS connects to."""
        return f"tcp:127.0.0.1:{self.port}"

    def start(self) -> MavlinkPeer:
        """Start accepting connections in a daemon thread."""
        self._running = True
        thread = threading.Thread(target=self._accept_loop, daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def stop(self) -> None:
        """Stop serving and close every socket."""
        self._running = False
        self._server.close()
        for thread in self._threads:
            thread.join(timeout=2.0)

    def go_silent(self, after_items: int, for_s: float) -> None:
        """Once ``after_items`` items of an upload are stored (and the next one requested),
        drop all traffic in and out for ``for_s`` seconds."""
        self._silence_after = after_items
        self._silence_s = for_s

    def reboot(self) -> None:
        """Apply parameters that take effect only at boot (SPRAY_* on older builds)."""
        self._spray_at_boot = self.params["SPRAY_ENABLE"][0] >= 1

    def stored(self, mission_type: int = 0) -> list[MissionItem]:
        """A copy of the vehicle's stored list (as uploaded, before download renumbering)."""
        with self._lock:
            return list(self.lists[mission_type])

    # connection handling -------------------------------------------------------------
    def _accept_loop(self) -> None:
        while self._running:
            try:
                ready, _, _ = select.select([self._server], [], [], 0.05)
                if not ready:
                    continue
                sock, _ = self._server.accept()
            except OSError:
                return
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            thread = threading.Thread(target=self._serve, args=(sock,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _serve(self, sock: socket.socket) -> None:
        mav = mavlink2.MAVLink(_SocketWriter(sock), srcSystem=1, srcComponent=1)
        mav.robust_parsing = True
        last_heartbeat = 0.0
        with sock:
            while self._running:
                try:
                    ready, _, _ = select.select([sock], [], [], 0.01)
                    data = sock.recv(65536) if ready else b""
                except OSError:
                    return
                if ready and not data:
                    return
                now = time.monotonic()
                silent = now < self._silent_until
                messages = (mav.parse_buffer(data) or []) if data else []
                with self._lock:
                    for msg in messages:
                        if not silent and msg.get_type() != "BAD_DATA":
                            self._handle(mav, msg, now)
                    if not silent:
                        self._tick(mav, now)
                if not silent and now - last_heartbeat >= self.heartbeat_s:
                    autopilot = 3 if self.autopilot == "ardupilot" else 12
                    mav.heartbeat_send(2, autopilot, 89, 0, 3)
                    last_heartbeat = now

    # mission protocol ----------------------------------------------------------------
    def _limit(self, mission_type: int) -> int:
        return self.max_items if mission_type == 0 else 100

    def _request(self, mav, up: dict, now: float) -> None:
        src = up["src"]
        if self.autopilot == "px4" and up["asked_int"]:
            mav.mission_request_int_send(src[0], src[1], up["expect"], up["type"])
        else:
            mav.mission_request_send(src[0], src[1], up["expect"], up["type"])
        up["last_request"] = now

    def _tick(self, mav, now: float) -> None:
        up = self._upload
        if up is None:
            return
        if now - up["last_rx"] > self.upload_timeout_s:
            mav.mission_ack_send(up["src"][0], up["src"][1], 15, up["type"])
            mav.statustext_send(4, b"Mission upload timeout")
            self._upload = None
        elif now - up["last_request"] >= self.rerequest_s:
            self._request(mav, up, now)

    def _invalid_code(self, item: MissionItem, seq: int) -> int:
        if seq in self.reject:
            return self.reject[seq]
        if self.autopilot == "px4" and item.frame in PX4_UNSUPPORTED_FRAMES:
            return 2
        if item.command not in KNOWN_COMMANDS or (
                self.autopilot == "px4" and item.command in PX4_UNSUPPORTED_COMMANDS):
            return 3
        if item.command in LOCATION_COMMANDS or item.mission_type != 0:
            if abs(item.x) > 900_000_000:
                return 10
            if abs(item.y) > 1_800_000_000:
                return 11
            if math.isnan(item.z):
                return 12
        return 0

    def _store(self, up: dict, item: MissionItem) -> None:
        target = up["buffer"] if self.autopilot == "px4" else self.lists[up["type"]]
        if item.seq == self.alter_seq:
            item = replace(item, x=item.x + 1)
        if item.seq < len(target):
            target[item.seq] = item
        else:
            target.append(item)

    def _handle_count(self, mav, msg, now: float) -> None:
        src = (msg.get_srcSystem(), msg.get_srcComponent())
        self.counts_received.append(msg.count)
        if self._upload is not None and self._upload["src"] != src:
            mav.mission_ack_send(src[0], src[1], 14, msg.mission_type)
            return
        self._upload = None
        if msg.count > self._limit(msg.mission_type):
            mav.mission_ack_send(src[0], src[1], 4, msg.mission_type)
            mav.statustext_send(4, f"Only {self._limit(msg.mission_type)} items are supported"
                                .encode())
            return
        if self.autopilot == "ardupilot":
            del self.lists[msg.mission_type][msg.count:]
        if msg.count == 0:
            self.lists[msg.mission_type] = []
            mav.mission_ack_send(src[0], src[1], 0, msg.mission_type)
            return
        self._upload = {"type": msg.mission_type, "count": msg.count, "expect": 0, "src": src,
                        "last_rx": now, "last_request": now, "asked_int": False, "buffer": []}
        self._request(mav, self._upload, now)

    def _handle_item(self, mav, msg, now: float) -> None:
        src = (msg.get_srcSystem(), msg.get_srcComponent())
        up = self._upload
        if up is None or up["type"] != msg.mission_type:
            mav.mission_ack_send(src[0], src[1], 1, msg.mission_type)
            return
        if msg.seq != up["expect"]:
            if self.autopilot == "px4" and msg.seq == up["expect"] - 1:
                return  # PX4 ignores a repeat of the previous item
            mav.mission_ack_send(src[0], src[1], 13, msg.mission_type)
            if self.autopilot == "px4":
                self._upload = None
            return
        item = MissionItem(seq=msg.seq, frame=msg.frame, command=msg.command, param1=msg.param1,
                           param2=msg.param2, param3=msg.param3, param4=msg.param4, x=msg.x,
                           y=msg.y, z=msg.z, autocontinue=msg.autocontinue,
                           mission_type=msg.mission_type)
        code = self._invalid_code(item, msg.seq)
        if code:
            mav.mission_ack_send(src[0], src[1], code, msg.mission_type)
            self._upload = None
            return
        self._store(up, item)
        up["expect"] += 1
        up["last_rx"] = now
        up["asked_int"] = True
        if up["expect"] == up["count"]:
            if self.autopilot == "px4":
                self.lists[up["type"]] = up["buffer"]
            mav.mission_ack_send(src[0], src[1], 0, up["type"])
            self._upload = None
            return
        self._request(mav, up, now)
        if self._silence_after is not None and up["expect"] >= self._silence_after:
            self._silent_until = now + self._silence_s
            self._silence_after = None
            up["last_rx"] = now + self._silence_s

    def _as_downloaded(self, item: MissionItem, mission_type: int) -> MissionItem:
        if self.autopilot != "ardupilot":
            return item
        if mission_type == 0 and item.seq == 0:
            return MissionItem(seq=0, frame=0, command=16, x=HOME[0], y=HOME[1], z=HOME[2])
        located = mission_type != 0 or item.command in LOCATION_COMMANDS
        frame = {5: 0, 6: 3, 11: 10}.get(item.frame, item.frame) if located else 0
        if mission_type == 1:
            frame = 0
        z = round(item.z * 100) / 100 if located else item.z
        return replace(item, frame=frame, z=z)

    def _handle_download(self, mav, msg) -> None:
        src = (msg.get_srcSystem(), msg.get_srcComponent())
        if self._upload is not None:
            mav.mission_ack_send(src[0], src[1], 14, msg.mission_type)
            return
        stored = self.lists[msg.mission_type]
        if msg.get_type() == "MISSION_REQUEST_LIST":
            mav.mission_count_send(src[0], src[1], len(stored), msg.mission_type)
            return
        if msg.seq >= len(stored):
            mav.mission_ack_send(src[0], src[1], 13, msg.mission_type)
            return
        it = self._as_downloaded(stored[msg.seq], msg.mission_type)
        mav.mission_item_int_send(src[0], src[1], msg.seq, it.frame, it.command, 0,
                                  it.autocontinue, it.param1, it.param2, it.param3, it.param4,
                                  it.x, it.y, it.z, msg.mission_type)

    def _handle(self, mav, msg, now: float) -> None:
        kind = msg.get_type()
        src = (msg.get_srcSystem(), msg.get_srcComponent())
        if kind == "MISSION_COUNT":
            self._handle_count(mav, msg, now)
        elif kind == "MISSION_ITEM_INT":
            self._handle_item(mav, msg, now)
        elif kind in ("MISSION_REQUEST_LIST", "MISSION_REQUEST_INT", "MISSION_REQUEST"):
            self._handle_download(mav, msg)
        elif kind == "MISSION_CLEAR_ALL":
            ok = self._upload is None
            if ok:
                self.lists[msg.mission_type] = []
            mav.mission_ack_send(src[0], src[1], 0 if ok else 1, msg.mission_type)
        elif kind == "COMMAND_LONG" and msg.command == 224:
            seq = int(msg.param1)
            if seq < len(self.lists[0]):
                self.current_seq = max(seq, 1)
                mav.command_ack_send(224, 0, 0, 0, src[0], src[1])
                mav.mission_current_send(self.current_seq, len(self.lists[0]) - 1, 2, 0)
            else:
                mav.command_ack_send(224, 2, 0, 0, src[0], src[1])
        elif kind == "PARAM_REQUEST_READ":
            self._reply_param(mav, msg.param_id)
        elif kind == "PARAM_SET":
            self._set_param(mav, msg.param_id, msg.param_value)

    # parameters ----------------------------------------------------------------------
    def _visible_params(self) -> dict[str, list]:
        visible = dict(self.params)
        spray_on = self.params["SPRAY_ENABLE"][0] >= 1
        if spray_on and (self._spray_at_boot or not self.spray_needs_reboot):
            for name, (value, ptype) in SPRAY_FAMILY.items():
                visible[name] = self.params.setdefault(name, [value, ptype])
        else:
            for name in SPRAY_FAMILY:
                visible.pop(name, None)
        return visible

    def _reply_param(self, mav, name: str) -> None:
        visible = self._visible_params()
        if name not in visible:
            return  # ArduPilot sends nothing for an unknown name
        value, ptype = visible[name]
        mav.param_value_send(name.encode(), value, ptype, len(visible), 65535)

    def _set_param(self, mav, name: str, value: float) -> None:
        if name not in self._visible_params():
            return
        entry = self.params[name]
        entry[0] = float(round(value)) if entry[1] != REAL32 else value
        self._reply_param(mav, name)

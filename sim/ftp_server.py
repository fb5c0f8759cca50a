"""The vehicle side of MAVLink FTP for ArduPilot's ``@MISSION/mission.dat``, ``fence.dat`` and
``rally.dat``, written from ArduPilot's source independently of the bridge's client.

Sources: libraries/GCS_MAVLink/GCS_FTP.cpp and GCS_FTP.h (packet layout, opcodes, NAK codes,
replies with seq + 1, the cached reply re-sent for a repeated request, bursts of up to 2000
239-byte ACKs ended by a NAK EndOfFile whose offset is the file length, at most 5 sessions, an
idle session closed after 20 s, a file left open 3 s reopened) and
libraries/AP_Filesystem/AP_Filesystem_Mission.cpp / .h (the file: header ``<HHHHH`` magic
0x763D, type, options, start, count, then 38-byte MISSION_ITEM_INT payloads; stat size 1 MiB;
at most one upload at a time; an upload is checked and applied on close: wrong magic, a length
that does not hold the counted items, or an all-zero item refuse it and leave the stored list
untouched). Measured on ArduCopter 4.7 SITL (tests/sitl/test_sitl_bridge_ftp.py): the close
(TerminateSession) is ACKed whether the file was applied or refused, and an unknown opcode gets
NAK Fail.

Applying a file follows ArduPilot too: a mission is cleared (unless option NO_CLEAR) and items
written one by one, so an invalid item stops it part-way; a fence is written only when every
item converts; rally points are truncated and appended. Deviations: reads serve a snapshot
taken at open; RemoveFile, Rename, directories other than ``@MISSION`` and TruncateFile answer
NAK Fail or FileNotFound.

Use: ``server = FtpServer(store)``; for each FILE_TRANSFER_PROTOCOL message
``for reply in server.handle(msg, now_s): send(reply)``; call ``server.tick(now_s)`` now and
then to close idle sessions. ``store`` is a :class:`MissionStore`: :class:`MemoryMissionStore`
or :class:`MissionServerStore` around the simulator's :class:`sim.mission_server.MissionServer`.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Protocol

from pymavlink.dialects.v20 import ardupilotmega as mavlink

from missions.mission import MissionItem
from sim.mission_server import FENCE, MISSION, RALLY, download_frame, stored_item, validate

# opcodes
OP_NONE, OP_TERMINATE, OP_RESET, OP_LIST, OP_OPEN_RO, OP_READ = 0, 1, 2, 3, 4, 5
OP_CREATE, OP_WRITE, OP_OPEN_WO, OP_CRC32, OP_BURST_READ = 6, 7, 11, 14, 15
OP_ACK, OP_NAK = 128, 129
# NAK codes
ERR_FAIL, ERR_FAIL_ERRNO, ERR_INVALID_DATA_SIZE = 1, 2, 3
ERR_NO_SESSIONS, ERR_EOF, ERR_FILE_NOT_FOUND = 5, 6, 10
ENFILE = 23

PACKET_HEADER = struct.Struct("<HBBBBBBI")
DATA_SIZE = 239
FILE_HEADER = struct.Struct("<HHHHH")
ITEM = struct.Struct("<ffffiifHHBBBBBB")
MAGIC = 0x763D
OPTION_NO_CLEAR = 1
STAT_SIZE = 1024 * 1024
BURST_PACKETS = 2000
MAX_SESSIONS = 5
SESSION_REUSE_S = 3.0
SESSION_KILL_S = 20.0
DIRECTORY = "@MISSION"
FILE_TYPES = {"mission.dat": MISSION, "fence.dat": FENCE, "rally.dat": RALLY}


class MissionStore(Protocol):
    """Where the FTP server reads and writes the vehicle's three lists."""

    def read_items(self, mission_type: int) -> list[MissionItem]:
        """The list as the vehicle reports it on download (mission item 0 is home)."""

    def write_items(self, mission_type: int, items: list[MissionItem], start: int,
                    keep_old: bool) -> bool:
        """Apply an uploaded file's items from index ``start``; False when refused."""


def _apply(stored: list[MissionItem], items: list[MissionItem], start: int, keep_old: bool,
           valid: Callable[[MissionItem], bool], atomic: bool) -> tuple[list[MissionItem], bool]:
    """The list after writing ``items`` ArduPilot's way, and whether every item was taken."""
    if atomic and not all(valid(item) for item in items):
        return stored, False
    result = list(stored) if keep_old else []
    for index, item in enumerate(items):
        if not valid(item):
            return result, False
        at = start + index
        if at == len(result):
            result.append(item)
        elif at < len(result):
            result[at] = item
        else:
            return result, False
    return result, True


class MemoryMissionStore:
    """Three lists in memory; ``valid(item, mission_type)`` decides which items the vehicle
    accepts (default: all). Reads renumber frames as ArduPilot does (``download_frame``);
    item 0 of the mission is returned as stored."""

    def __init__(self, valid: Callable[[MissionItem, int], bool] | None = None) -> None:
        self.lists: dict[int, list[MissionItem]] = {MISSION: [], FENCE: [], RALLY: []}
        self._valid = valid or (lambda item, mission_type: True)

    def read_items(self, mission_type: int) -> list[MissionItem]:
        """The stored list of ``mission_type`` with ArduPilot's download frames."""
        return [_with_download_frame(item, mission_type) for item in self.lists[mission_type]]

    def write_items(self, mission_type: int, items: list[MissionItem], start: int,
                    keep_old: bool) -> bool:
        """Write as ArduPilot does: mission in place, fence all or nothing, rally appended."""
        if mission_type != MISSION and keep_old:
            return False
        self.lists[mission_type], ok = _apply(
            self.lists[mission_type], items, start, keep_old,
            lambda item: self._valid(item, mission_type), atomic=mission_type == FENCE)
        return ok


class MissionServerStore:
    """The lists of a :class:`sim.mission_server.MissionServer`: items are checked with its
    ``validate``, read back with ArduPilot's frame renumbering, mission item 0 from ``home()``."""

    def __init__(self, server, home: Callable[[], MissionItem]) -> None:
        self.server = server
        self.home = home

    def read_items(self, mission_type: int) -> list[MissionItem]:
        """The list as the mission protocol would return it."""
        items = self.server.lists[mission_type]
        out = []
        for index, item in enumerate(items):
            if mission_type == MISSION and index == 0:
                out.append(self.home())
                continue
            out.append(_with_download_frame(item, mission_type))
        return out

    def write_items(self, mission_type: int, items: list[MissionItem], start: int,
                    keep_old: bool) -> bool:
        """Apply the items through ``server.store`` (so the flight sees the new mission)."""
        if mission_type != MISSION and keep_old:
            return False
        if mission_type == MISSION and not self.server.storage_ready():
            # booting: ArduCopter 4.7 SITL ACKs the file, then holds an empty mission
            self.server.store(MISSION, self.server.lists[MISSION][:1])
            return False
        if mission_type == MISSION and start + len(items) > self.server.mission_limit:
            return False
        result, ok = _apply(self.server.lists[mission_type], items, start, keep_old,
                            lambda item: validate(item, mission_type) == 0,
                            atomic=mission_type == FENCE)
        self.server.store(mission_type, result)
        return ok


def _with_download_frame(item: MissionItem, mission_type: int) -> MissionItem:
    return replace(item, frame=download_frame(item, mission_type))


@dataclass
class _Request:
    seq: int
    session: int
    opcode: int
    size: int
    offset: int
    data: bytes
    sysid: int
    compid: int


@dataclass
class _Reply:
    seq: int
    session: int
    opcode: int = OP_ACK
    req_opcode: int = 0
    burst_complete: int = 0
    offset: int = 0
    data: bytes = b""
    sysid: int = 0
    compid: int = 0

    def message(self):
        raw = PACKET_HEADER.pack(self.seq & 0xFFFF, self.session, self.opcode, len(self.data),
                                 self.req_opcode, self.burst_complete, 0, self.offset)
        payload = list((raw + self.data).ljust(251, b"\0"))
        return mavlink.MAVLink_file_transfer_protocol_message(0, self.sysid, self.compid, payload)


@dataclass
class _OpenFile:
    mission_type: int
    writing: bool
    content: bytearray = field(default_factory=bytearray)


@dataclass
class _Session:
    last_op_s: float
    file: _OpenFile | None = None


class FtpServer:
    """ArduPilot's MAVLink FTP server reduced to the ``@MISSION`` files of ``store``.

    ``handle(msg, now_s)`` takes a FILE_TRANSFER_PROTOCOL message (``now_s`` in seconds, any
    monotonic clock) and returns the reply messages to send, in order.
    ``mission_files=False`` serves no ``@MISSION`` files (an ArduPilot older than 4.1: opens
    answer NAK FileNotFound). ``break_after_writes`` injects a fault: after that many WriteFile
    requests the server answers nothing more (a transfer broken mid-way). ``on_upload(
    mission_type, applied)`` is called whenever a closed upload was checked, applied or not.
    """

    def __init__(self, store: MissionStore, *, mission_files: bool = True,
                 break_after_writes: int | None = None,
                 on_upload: Callable[[int, bool], None] | None = None) -> None:
        self.store = store
        self.mission_files = mission_files
        self.break_after_writes = break_after_writes
        self.on_upload = on_upload or (lambda mission_type, applied: None)
        self.sessions: dict[tuple[int, int, int], _Session] = {}
        self._last_reply: _Reply | None = None
        self.uploads_applied = 0
        self.uploads_refused = 0
        self.writes = 0

    def reset(self) -> None:
        """Forget every session without applying open uploads (the vehicle rebooted)."""
        self.sessions.clear()
        self._last_reply = None
        self.writes = 0

    # ------------------------------------------------------------- public
    def handle(self, msg, now_s: float) -> list:
        """The replies to one FILE_TRANSFER_PROTOCOL message."""
        if msg.get_type() != "FILE_TRANSFER_PROTOCOL":
            return []
        raw = bytes(msg.payload)
        seq, session, opcode, size, _req, _burst, _pad, offset = PACKET_HEADER.unpack_from(raw)
        request = _Request(seq, session, opcode, size, offset, raw[12:], msg.get_srcSystem(),
                           msg.get_srcComponent())
        self.tick(now_s)
        if self.break_after_writes is not None:
            self.writes += opcode == OP_WRITE
            if self.writes > self.break_after_writes:
                return []
        return [reply.message() for reply in self._dispatch(request, now_s)]

    def tick(self, now_s: float) -> None:
        """Close sessions idle for 20 s (an unfinished upload is then checked and applied)."""
        for key, session in list(self.sessions.items()):
            if now_s - session.last_op_s > SESSION_KILL_S:
                self._close(session)
                del self.sessions[key]

    # ----------------------------------------------------------- dispatch
    def _dispatch(self, request: _Request, now_s: float) -> list[_Reply]:
        if request.opcode == OP_RESET:
            for key in [k for k in self.sessions if k[:2] == (request.sysid, request.compid)]:
                self._close(self.sessions.pop(key))
            return [self._reply_to(request)]
        if request.opcode in (OP_ACK, OP_NAK):
            return []
        key = (request.sysid, request.compid, request.session)
        session = self.sessions.get(key)
        if session is None:
            active = [s for s in self.sessions.values() if now_s - s.last_op_s < SESSION_REUSE_S]
            if len(active) >= MAX_SESSIONS:
                return [self._nak(self._reply_to(request), ERR_NO_SESSIONS)]
            if len(self.sessions) >= MAX_SESSIONS:
                oldest = min(self.sessions, key=lambda k: self.sessions[k].last_op_s)
                self._close(self.sessions.pop(oldest))
            session = self.sessions[key] = _Session(now_s)
        last = self._last_reply
        if (last is not None and (last.sysid, last.compid, last.session) == key
                and (request.seq + 1) & 0xFFFF == last.seq):
            session.last_op_s = now_s
            return [last]
        reply = self._reply_to(request)
        replies = self._operate(session, request, reply, now_s)
        session.last_op_s = now_s
        if replies:
            self._last_reply = replies[-1]
        return replies

    def _operate(self, session: _Session, request: _Request, reply: _Reply,
                 now_s: float) -> list[_Reply]:
        if request.size > DATA_SIZE:
            return [self._nak(reply, ERR_INVALID_DATA_SIZE)]
        op = request.opcode
        if op == OP_NONE:
            return [reply]
        if op == OP_TERMINATE:
            self._close(session)  # ArduPilot ACKs the close even when it refused the file
            return [reply]
        if op == OP_LIST:
            return [self._list(request, reply)]
        if op in (OP_OPEN_RO, OP_CREATE, OP_OPEN_WO):
            if (op == OP_OPEN_RO and session.file is not None
                    and now_s - session.last_op_s > SESSION_REUSE_S):
                self._close(session)
            return [self._open(session, request, reply)]
        if op in (OP_READ, OP_BURST_READ, OP_WRITE):
            if session.file is None:
                return [self._nak(reply, ERR_FILE_NOT_FOUND)]
            if session.file.writing != (op == OP_WRITE):
                return [self._nak(reply, ERR_FAIL)]
            if op == OP_READ:
                return [self._read(session.file, request, reply)]
            if op == OP_BURST_READ:
                return self._burst(session.file, request, reply)
            return [self._write(session.file, request, reply)]
        if op == OP_CRC32:
            mission_type = self._file_type(request)
            if mission_type is None:
                return [self._nak(reply, ERR_FILE_NOT_FOUND)]
            crc = zlib.crc32(self._file_bytes(mission_type), 0xFFFFFFFF) ^ 0xFFFFFFFF
            reply.data = struct.pack("<I", crc)
            return [reply]
        return [self._nak(reply, ERR_FAIL)]

    # ---------------------------------------------------------- operations
    def _list(self, request: _Request, reply: _Reply) -> _Reply:
        path = _name(request).rstrip("/")
        if path != DIRECTORY or not self.mission_files:
            return self._nak(reply, ERR_FILE_NOT_FOUND)
        entries = [f"F{name}\t{STAT_SIZE}\0".encode() for name in FILE_TYPES]
        reply.offset = request.offset
        if request.offset >= len(entries):
            return self._nak(reply, ERR_EOF)
        reply.data = b"".join(entries[request.offset:])
        return reply

    def _open(self, session: _Session, request: _Request, reply: _Reply) -> _Reply:
        if session.file is not None:
            return self._nak(reply, ERR_FAIL)
        mission_type = self._file_type(request)
        if mission_type is None:
            return self._nak(reply, ERR_FILE_NOT_FOUND)
        if request.opcode == OP_OPEN_RO:
            session.file = _OpenFile(mission_type, False, bytearray(self._file_bytes(mission_type)))
            reply.data = struct.pack("<I", STAT_SIZE)
            return reply
        if any(s.file is not None and s.file.writing for s in self.sessions.values()):
            return self._nak(reply, ERR_FAIL_ERRNO, ENFILE)  # only one upload at a time
        session.file = _OpenFile(mission_type, True)
        return reply

    def _read(self, file: _OpenFile, request: _Request, reply: _Reply) -> _Reply:
        chunk = bytes(file.content[request.offset:request.offset + min(request.size, DATA_SIZE)])
        if not chunk:
            return self._nak(reply, ERR_EOF)
        reply.offset, reply.data = request.offset, chunk
        return reply

    def _burst(self, file: _OpenFile, request: _Request, reply: _Reply) -> list[_Reply]:
        size = min(request.size or DATA_SIZE, DATA_SIZE)
        offset, seq, replies = request.offset, reply.seq, []
        for index in range(BURST_PACKETS):
            chunk = bytes(file.content[offset:offset + size])
            packet = _Reply(seq, reply.session, OP_ACK, OP_BURST_READ, 0, offset, chunk,
                            reply.sysid, reply.compid)
            if not chunk:
                packet.burst_complete = 1
                replies.append(self._nak(packet, ERR_EOF))
                break
            packet.burst_complete = int(index == BURST_PACKETS - 1)
            replies.append(packet)
            offset += len(chunk)
            seq += 1
        return replies

    def _write(self, file: _OpenFile, request: _Request, reply: _Reply) -> _Reply:
        content, data = file.content, request.data[:request.size]
        if request.offset == 0 and len(data) >= FILE_HEADER.size:
            count = FILE_HEADER.unpack_from(data)[4]
            if count < 0xFFFF:
                content.extend(bytes(max(0, FILE_HEADER.size + count * ITEM.size - len(content))))
        end = request.offset + len(data)
        content.extend(bytes(max(0, end - len(content))))
        content[request.offset:end] = data
        reply.offset = request.offset
        return reply

    # -------------------------------------------------------------- files
    def _close(self, session: _Session) -> bool:
        """Close the session's file; an upload is checked and applied. False if refused."""
        file, session.file = session.file, None
        if file is None or not file.writing:
            return True
        ok = self._finish_upload(file)
        if ok:
            self.uploads_applied += 1
        else:
            self.uploads_refused += 1
        self.on_upload(file.mission_type, ok)
        return ok

    def _finish_upload(self, file: _OpenFile) -> bool:
        content = bytes(file.content)
        if len(content) < FILE_HEADER.size:
            return False
        magic, _dtype, options, start, count = FILE_HEADER.unpack_from(content)
        if magic != MAGIC or (len(content) - FILE_HEADER.size) // ITEM.size != count:
            return False
        raw_items = [content[FILE_HEADER.size + i * ITEM.size:FILE_HEADER.size + (i + 1) * ITEM.size]
                     for i in range(count)]
        if any(not any(raw) for raw in raw_items):
            return False
        items = []
        for raw in raw_items:
            p1, p2, p3, p4, x, y, z, _seq, command, _ts, _tc, frame, _cur, auto, _mt = ITEM.unpack(raw)
            items.append(stored_item(command, frame, p1, p2, p3, p4, x, y, z, auto))
        return self.store.write_items(file.mission_type, items, start,
                                      keep_old=bool(options & OPTION_NO_CLEAR))

    def _file_bytes(self, mission_type: int) -> bytes:
        items = self.store.read_items(mission_type)
        parts = [FILE_HEADER.pack(MAGIC, mission_type, 0, 0, len(items))]
        for seq, item in enumerate(items):
            parts.append(ITEM.pack(item.param1, item.param2, item.param3, item.param4, item.x,
                                   item.y, item.z, seq, item.command, 0, 0, item.frame, 0,
                                   item.autocontinue, mission_type))
        return b"".join(parts)

    def _file_type(self, request: _Request) -> int | None:
        directory, _, name = _name(request).partition("/")
        if not self.mission_files or directory != DIRECTORY:
            return None
        return FILE_TYPES.get(name)

    # ------------------------------------------------------------ replies
    @staticmethod
    def _reply_to(request: _Request) -> _Reply:
        return _Reply((request.seq + 1) & 0xFFFF, request.session, OP_ACK, request.opcode, 0, 0, b"",
                      request.sysid, request.compid)

    @staticmethod
    def _nak(reply: _Reply, code: int, errno: int | None = None) -> _Reply:
        reply.opcode = OP_NAK
        reply.data = bytes([code]) if errno is None else bytes([code, errno])
        return reply


def _name(request: _Request) -> str:
    return request.data[:request.size].split(b"\0", 1)[0].decode("ascii", "replace")

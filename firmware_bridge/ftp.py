"""Missions, fences and rally points through MAVLink FTP (FILE_TRANSFER_PROTOCOL), as whole
files in ArduPilot's mission file format (:mod:`firmware_bridge.mission_file`).

Protocol, from ArduPilot's libraries/GCS_MAVLink/GCS_FTP.cpp and GCS_FTP.h and pymavlink's
mavftp.py / mavftp_op.py: each FILE_TRANSFER_PROTOCOL payload (251 bytes) starts with a
12-byte header ``<HBBBBBBI`` (seq, session, opcode, size, req_opcode, burst_complete, padding,
offset) followed by up to 239 data bytes. A reply carries seq = request seq + 1 and the
request's opcode in req_opcode; the server answers a repeated request (same seq) with its
cached reply, so a retry never runs an operation twice. A NAK carries the MAV_FTP_ERR code in
data[0] (and errno in data[1] for FailErrno). BurstReadFile streams ACKs of consecutive
239-byte chunks until a NAK EndOfFile whose offset is the file length. CalcFileCRC32 returns
ArduPilot's crc_crc32 (reflected 0xEDB88320 table, initial value 0, no final inversion) of
the whole file (AP_Filesystem::crc32).

ArduPilot's ``@MISSION/`` files (libraries/AP_Filesystem/AP_Filesystem_Mission.cpp) apply an
upload when the file is closed (TerminateSession or ResetSessions) and refuse it, leaving the
stored list untouched, when the magic is wrong or an item is all zero bytes. ArduCopter 4.7
SITL ACKs the close either way (tests/sitl/test_sitl_bridge_ftp.py), so only a read-back tells
whether the file was applied. A booting vehicle acknowledges a mission file and forgets it:
:func:`firmware_bridge.link.connect` waits until it leaves MAV_STATE_BOOT. Up to 5 FTP requests
are queued by ArduPilot; a 6th in flight is dropped. The client writes the 10-byte header block last:
until every other block is acknowledged the server's copy has no magic, and a transfer broken
at any point is refused rather than applied half written. Writes are pipelined (``window``
requests in flight) the way MAVProxy's ``wp ftpload`` (MAVProxy/modules/mavproxy_wp.py over
mavproxy_ftp / pymavlink mavftp ``cmd_put`` with ``write_qsize``) does.
"""

from __future__ import annotations

import random
import struct
import time
import zlib
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from agridrone.errors import AgridroneError
from firmware_bridge.mission_file import (
    ITEM_SIZE,
    MAX_ITEMS,
    decode,
    encode,
    file_path,
    file_size,
)
from firmware_bridge.readback import compare_items
from missions.mission import MISSION_TYPE_MISSION, MissionItem

# opcodes (MAV_FTP_OPCODE)
OP_TERMINATE_SESSION = 1
OP_RESET_SESSIONS = 2
OP_OPEN_FILE_RO = 4
OP_READ_FILE = 5
OP_CREATE_FILE = 6
OP_WRITE_FILE = 7
OP_CREATE_DIRECTORY = 9
OP_CALC_FILE_CRC32 = 14
OP_BURST_READ_FILE = 15
OP_ACK = 128
OP_NAK = 129

# NAK codes (MAV_FTP_ERR)
ERR_FAIL_ERRNO = 2
ERR_EOF = 6
ERR_FILE_EXISTS = 8
ERROR_NAMES = {
    0: "None", 1: "Fail", 2: "FailErrno", 3: "InvalidDataSize", 4: "InvalidSession",
    5: "NoSessionsAvailable", 6: "EndOfFile", 7: "UnknownCommand", 8: "FileExists",
    9: "FileProtected", 10: "FileNotFound",
}
ERRNO_NAMES = {2: "ENOENT", 5: "EIO", 9: "EBADF", 12: "ENOMEM", 22: "EINVAL", 23: "ENFILE",
               28: "ENOSPC"}

HEADER = struct.Struct("<HBBBBBBI")
PAYLOAD_SIZE = 251
DATA_SIZE = PAYLOAD_SIZE - HEADER.size  # 239 bytes
DEFAULT_TIMEOUT_S = 1.0
DEFAULT_RETRIES = 5
MAX_BURST_REPLIES = 4000  # ArduPilot sends at most 2000 per burst
MAX_FILE_BYTES = file_size(MAX_ITEMS)
DEFAULT_WINDOW = 5  # ArduPilot queues 5 FTP requests; a 6th in flight is dropped (SITL: 600
# items at window 5 in 0.24 s, at 6 one write lost and 1.0 s)

# The next request seq of this process: each client goes on from where the last one stopped,
# starting at a random point, so a new transfer does not hit a reply the vehicle has cached.
_next_seq = [random.randrange(0x10000)]

Progress = Callable[[str, int, int], None]
"""progress(phase, done, total): phase "upload", "verify" or "download"; counts are items."""


class FtpError(AgridroneError):
    """An FTP transfer failed; ``code`` is the vehicle's MAV_FTP_ERR NAK code, or None when
    the vehicle stopped answering."""

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Packet:
    """One FILE_TRANSFER_PROTOCOL payload: header fields and ``size`` bytes of data."""

    seq: int
    session: int
    opcode: int
    size: int
    req_opcode: int
    burst_complete: int
    offset: int
    data: bytes

    def payload(self) -> list[int]:
        """The 251 payload bytes as MAVLink's ``payload`` field wants them."""
        raw = HEADER.pack(self.seq, self.session, self.opcode, self.size, self.req_opcode,
                          self.burst_complete, 0, self.offset) + self.data
        return list(raw.ljust(PAYLOAD_SIZE, b"\0"))

    @classmethod
    def parse(cls, payload: Sequence[int]) -> Packet:
        """The packet held in a FILE_TRANSFER_PROTOCOL message's payload."""
        raw = bytes(payload)
        seq, session, opcode, size, req_opcode, burst, _pad, offset = HEADER.unpack_from(raw)
        size = min(size, DATA_SIZE)
        return cls(seq, session, opcode, size, req_opcode, burst, offset,
                   raw[HEADER.size:HEADER.size + size])


def ardupilot_crc32(data: bytes) -> int:
    """ArduPilot's crc_crc32(0, data): the CRC-32 table walk without zlib's inversions."""
    return zlib.crc32(data, 0xFFFFFFFF) ^ 0xFFFFFFFF


def nak_reason(packet: Packet) -> str:
    """The NAK's error name, with the errno name for FailErrno."""
    code = packet.data[0] if packet.data else 1
    name = ERROR_NAMES.get(code, f"error {code}")
    if code == ERR_FAIL_ERRNO and len(packet.data) > 1:
        errno = packet.data[1]
        name += f" ({ERRNO_NAMES.get(errno, f'errno {errno}')})"
    return name


class Endpoint:
    """The vehicle end of a bridge :class:`firmware_bridge.link.Link` or of a bare pymavlink
    mavutil connection, with one ``recv`` for both.

    ``target_system`` / ``target_component`` default to the link's (or connection's) ids.
    """

    def __init__(self, link_or_conn, target_system: int | None = None,
                 target_component: int | None = None) -> None:
        self._link = link_or_conn if hasattr(link_or_conn, "conn") else None
        self.conn = link_or_conn.conn if self._link is not None else link_or_conn
        self.target_system = int(target_system if target_system is not None
                                 else getattr(link_or_conn, "target_system", 1) or 1)
        self.target_component = int(target_component if target_component is not None
                                    else getattr(link_or_conn, "target_component", 1) or 1)

    @property
    def mav(self):
        """The pymavlink encoder: ``endpoint.mav.<message>_send(...)``."""
        return self.conn.mav

    def drain(self) -> None:
        """Discard every message already received but not yet read (stale replies)."""
        if self._link is not None:
            self._link.drain()
            return
        for _ in range(100_000):
            if self.conn.recv_msg() is None:
                return

    def recv(self, types: list[str], timeout_s: float):
        """The next message of one of ``types`` from the target system, or None after
        ``timeout_s`` seconds; messages addressed to another system are skipped."""
        if self._link is not None:
            return self._link.recv(types, timeout_s)
        own = self.conn.mav.srcSystem
        deadline = time.monotonic() + timeout_s
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                msg = self.conn.recv_match(type=types, blocking=True, timeout=min(remaining, 0.1))
            except OSError as exc:
                raise FtpError(f"link failed: {exc}") from None
            if msg is None or msg.get_srcSystem() != self.target_system:
                continue
            if getattr(msg, "target_system", 0) in (0, own):
                return msg
        return None


@dataclass(frozen=True)
class FtpResult:
    """A finished FTP transfer: ``items`` items of ``mission_type`` as ``bytes`` file bytes
    through ``path`` in ``seconds`` (s), with ``resent`` requests sent again after a timeout;
    ``verified`` is True when a read-back matched the items sent."""

    path: str
    mission_type: int
    items: int
    bytes: int
    seconds: float
    resent: int
    verified: bool

    @property
    def items_per_s(self) -> float:
        """Items per second over the whole transfer."""
        return self.items / self.seconds if self.seconds > 0 else float("inf")


class FtpClient:
    """A MAVLink FTP client for one vehicle: sequential requests with retries, burst reads
    with gap filling, pipelined writes. ``timeout_s`` (s) is the wait for each reply,
    ``retries`` the extra tries per request, ``window`` the writes kept in flight."""

    def __init__(self, link_or_conn, *, target_system: int | None = None,
                 target_component: int | None = None, timeout_s: float = DEFAULT_TIMEOUT_S,
                 retries: int = DEFAULT_RETRIES, window: int = DEFAULT_WINDOW) -> None:
        self.endpoint = Endpoint(link_or_conn, target_system, target_component)
        self.timeout_s = timeout_s
        self.retries = retries
        self.window = max(1, window)
        self.seq = _next_seq[0]
        self.session = 0
        self.resent = 0
        self.file_created = False  # a CreateFile was acknowledged: the vehicle may apply a file

    # ------------------------------------------------------------ transport
    def _send(self, opcode: int, *, offset: int = 0, data: bytes = b"", size: int | None = None,
              seq: int | None = None) -> int:
        if seq is None:
            seq = self.seq
            self.seq = _next_seq[0] = (self.seq + 1) & 0xFFFF
        packet = Packet(seq, self.session, opcode, len(data) if size is None else size, 0, 0,
                        offset, data)
        self.endpoint.mav.file_transfer_protocol_send(
            0, self.endpoint.target_system, self.endpoint.target_component, packet.payload())
        return seq

    def _recv(self, timeout_s: float) -> Packet | None:
        """The next reply; our next seq moves past it, as pymavlink's mavftp does after bursts:
        the server answers a request whose seq + 1 equals its last reply's seq from its cache,
        so a new request must never reuse a seq the server has replied with."""
        msg = self.endpoint.recv(["FILE_TRANSFER_PROTOCOL"], timeout_s)
        if msg is None:
            return None
        reply = Packet.parse(msg.payload)
        if (reply.seq - self.seq) & 0xFFFF < 0x8000:
            self.seq = _next_seq[0] = (reply.seq + 1) & 0xFFFF
        return reply

    def _request(self, opcode: int, what: str, *, offset: int = 0, data: bytes = b"",
                 size: int | None = None) -> Packet:
        """Send one request and return its ACK; the same seq is sent again on timeout."""
        seq = self._send(opcode, offset=offset, data=data, size=size)
        for attempt in range(self.retries + 1):
            if attempt:
                self.resent += 1
                self._send(opcode, offset=offset, data=data, size=size, seq=seq)
            deadline = time.monotonic() + self.timeout_s
            while (remaining := deadline - time.monotonic()) > 0:
                reply = self._recv(remaining)
                if reply is None:
                    break
                if reply.req_opcode != opcode or reply.seq != (seq + 1) & 0xFFFF:
                    continue
                if reply.opcode == OP_NAK:
                    raise FtpError(f"vehicle refused FTP {what}: {nak_reason(reply)}",
                                   reply.data[0] if reply.data else None)
                return reply
        raise FtpError(f"vehicle did not answer FTP {what} after {self.retries + 1} tries")

    # ------------------------------------------------------------ operations
    def reset_sessions(self) -> None:
        """Close every session this client holds on the vehicle (ResetSessions)."""
        self._request(OP_RESET_SESSIONS, "ResetSessions")

    def terminate(self, path: str) -> None:
        """Close the open file (TerminateSession); for an ``@MISSION/`` upload this is when
        the vehicle checks and applies the file (ArduPilot ACKs even a file it refused)."""
        self._request(OP_TERMINATE_SESSION, f"close of {path}")

    def mkdir(self, path: str) -> None:
        """Create the directory ``path`` (CreateDirectory). One that exists already is fine:
        ArduPilot answers FailErrno (EEXIST) or FileExists; a folder that truly cannot be
        made shows when a file is created in it."""
        try:
            self._request(OP_CREATE_DIRECTORY, f"mkdir of {path}", data=path.encode())
        except FtpError as exc:
            if exc.code not in (ERR_FAIL_ERRNO, ERR_FILE_EXISTS):
                raise

    def crc32(self, path: str) -> int:
        """The vehicle's CRC-32 of the file at ``path`` (see :func:`ardupilot_crc32`)."""
        reply = self._request(OP_CALC_FILE_CRC32, f"CRC32 of {path}", data=path.encode())
        if reply.size != 4:
            raise FtpError(f"vehicle sent a {reply.size}-byte CRC32 of {path}")
        return struct.unpack("<I", reply.data)[0]

    def read(self, path: str) -> bytes:
        """The whole file at ``path``: open, burst reads, gaps filled by single reads, close."""
        reply = self._request(OP_OPEN_FILE_RO, f"open of {path}", data=path.encode())
        self.session = reply.session
        data = self._read_open_file(path)
        self.terminate(path)
        return data

    def write(self, path: str, data: bytes, progress: Callable[[int], None] | None = None) -> None:
        """Create ``path`` and write ``data``: every block but the first, pipelined, then the
        first; then close. ``progress(bytes_acknowledged)`` follows the writes."""
        reply = self._request(OP_CREATE_FILE, f"create of {path}", data=path.encode())
        self.session = reply.session
        self.file_created = True
        blocks = [(ofs, data[ofs:ofs + DATA_SIZE]) for ofs in range(0, len(data), DATA_SIZE)]
        done = [0]

        def acked(nbytes: int) -> None:
            done[0] += nbytes
            if progress:
                progress(done[0])

        self._write_blocks(path, blocks[1:], acked)
        self._write_blocks(path, blocks[:1], acked)
        self.terminate(path)

    def _read_open_file(self, path: str) -> bytes:
        chunks: dict[int, bytes] = {}
        end_of_file: int | None = None
        idle_bursts = 0
        while end_of_file is None:
            start = _contiguous_end(chunks)
            before = len(chunks)
            end_of_file = self._burst(path, start, chunks)
            if len(chunks) == before and end_of_file is None:
                idle_bursts += 1
                self.resent += 1
                if idle_bursts > self.retries:
                    raise FtpError(f"vehicle stopped sending {path} at byte {start}")
            else:
                idle_bursts = 0
            if _furthest_end(chunks) > MAX_FILE_BYTES:
                raise FtpError(f"vehicle sent more of {path} than a mission file can hold")
            if end_of_file is None and _contiguous_end(chunks) < _furthest_end(chunks):
                self._fill_gaps(path, chunks, _furthest_end(chunks))
        self._fill_gaps(path, chunks, end_of_file)
        data = bytearray(end_of_file)
        for ofs, chunk in chunks.items():
            piece = chunk[:max(0, end_of_file - ofs)]
            data[ofs:ofs + len(piece)] = piece
        return bytes(data)

    def _burst(self, path: str, offset: int, chunks: dict[int, bytes]) -> int | None:
        """Run one burst from ``offset``; store the chunks; the file length if it ended."""
        self._send(OP_BURST_READ_FILE, offset=offset, size=DATA_SIZE)
        for _ in range(MAX_BURST_REPLIES):
            reply = self._recv(self.timeout_s)
            if reply is None:
                return None
            if reply.req_opcode not in (OP_BURST_READ_FILE, OP_READ_FILE):
                continue
            if reply.opcode == OP_ACK:
                if reply.size:
                    chunks[reply.offset] = reply.data
                if reply.burst_complete:
                    return None
            elif reply.data and reply.data[0] == ERR_EOF:
                return reply.offset
            else:
                raise FtpError(f"vehicle refused FTP read of {path}: {nak_reason(reply)}",
                               reply.data[0] if reply.data else None)
        return None

    def _fill_gaps(self, path: str, chunks: dict[int, bytes], end: int) -> None:
        """Read every byte before ``end`` that no chunk holds yet, with ReadFile requests."""
        position = 0
        for ofs in sorted(chunks) + [end]:
            while position < min(ofs, end):
                size = min(DATA_SIZE, ofs - position, end - position)
                reply = self._request(OP_READ_FILE, f"read of {path}", offset=position, size=size)
                if reply.offset != position or not reply.size:
                    raise FtpError(f"vehicle answered a read of {path} at byte {position} "
                                   f"with {reply.size} bytes at {reply.offset}")
                chunks[position] = reply.data
                position += reply.size
            if ofs < end:
                position = max(position, ofs + len(chunks[ofs]))

    def _write_blocks(self, path: str, blocks: list[tuple[int, bytes]],
                      acked: Callable[[int], None]) -> None:
        todo = deque(blocks)
        in_flight: dict[int, tuple[int, bytes, float, int]] = {}
        while todo or in_flight:
            while todo and len(in_flight) < self.window:
                ofs, chunk = todo.popleft()
                seq = self._send(OP_WRITE_FILE, offset=ofs, data=chunk)
                in_flight[seq] = (ofs, chunk, time.monotonic(), 1)
            oldest = min(sent for _, _, sent, _ in in_flight.values())
            reply = self._recv(max(0.0, oldest + self.timeout_s - time.monotonic()))
            if reply is not None and reply.req_opcode == OP_WRITE_FILE:
                entry = in_flight.pop((reply.seq - 1) & 0xFFFF, None)
                if entry is not None and reply.opcode == OP_NAK:
                    raise FtpError(f"vehicle refused FTP write of {path} at byte {entry[0]}: "
                                   f"{nak_reason(reply)}", reply.data[0] if reply.data else None)
                if entry is not None:
                    acked(len(entry[1]))
            now = time.monotonic()
            for seq, (ofs, chunk, sent, tries) in list(in_flight.items()):
                if now - sent < self.timeout_s:
                    continue
                if tries > self.retries:
                    raise FtpError(f"vehicle stopped acknowledging FTP writes of {path} at "
                                   f"byte {ofs} after {tries} tries")
                del in_flight[seq]
                self.resent += 1
                in_flight[self._send(OP_WRITE_FILE, offset=ofs, data=chunk)] = (
                    ofs, chunk, now, tries + 1)


def _contiguous_end(chunks: dict[int, bytes]) -> int:
    end = 0
    while end in chunks and chunks[end]:
        end += len(chunks[end])
    return end


def _furthest_end(chunks: dict[int, bytes]) -> int:
    return max((ofs + len(chunk) for ofs, chunk in chunks.items()), default=0)


def ftp_upload(link_or_conn, items: Sequence[MissionItem],
               mission_type: int = MISSION_TYPE_MISSION, *, verify: bool = True,
               progress: Progress | None = None, timeout_s: float = DEFAULT_TIMEOUT_S,
               retries: int = DEFAULT_RETRIES, window: int = DEFAULT_WINDOW,
               target_system: int | None = None,
               target_component: int | None = None) -> FtpResult:
    """Replace the vehicle's mission, fence or rally list with ``items`` through
    ``@MISSION/<mission|fence|rally>.dat``; with ``verify``, read the file back and compare
    it item by item (ArduPilot rules of :mod:`firmware_bridge.readback`).

    ``link_or_conn`` is a bridge Link or a pymavlink mavutil connection. Raises
    :class:`FtpError` (an AgridroneError) when the vehicle does not answer FTP, refuses the
    file, stops mid-transfer (the vehicle then keeps its previous list: the header goes
    last) or returns different items. ``timeout_s`` (s) per reply, ``retries`` per request.
    """
    path = file_path(mission_type)
    data = encode(items, mission_type)
    client = FtpClient(link_or_conn, target_system=target_system,
                       target_component=target_component, timeout_s=timeout_s, retries=retries,
                       window=window)
    started = time.monotonic()
    client.endpoint.drain()
    client.reset_sessions()
    total = len(items)
    try:
        client.write(path, data, progress and (
            lambda nbytes: progress("upload", min(total, nbytes // ITEM_SIZE), total)))
    except FtpError:
        close_quietly(client)
        raise
    verified = False
    if verify:
        got = decode(client.read(path), mission_type).items
        problems = compare_items(list(items), got, "ardupilot", mission_type)
        if problems:
            raise FtpError(f"{path} read back differs: {problems[0]}")
        if progress:
            progress("verify", total, total)
        verified = True
    return FtpResult(path, mission_type, total, len(data), time.monotonic() - started,
                     client.resent, verified)


def ftp_download(link_or_conn, mission_type: int = MISSION_TYPE_MISSION, *,
                 check_crc: bool = True, progress: Progress | None = None,
                 timeout_s: float = DEFAULT_TIMEOUT_S, retries: int = DEFAULT_RETRIES,
                 target_system: int | None = None,
                 target_component: int | None = None) -> list[MissionItem]:
    """The vehicle's mission, fence or rally list read from ``@MISSION/<type>.dat``
    (ArduPilot: mission item 0 is home). With ``check_crc`` the bytes are checked against
    the vehicle's CRC32 of the file. Raises :class:`FtpError` on any failure."""
    path = file_path(mission_type)
    client = FtpClient(link_or_conn, target_system=target_system,
                       target_component=target_component, timeout_s=timeout_s, retries=retries)
    client.endpoint.drain()
    client.reset_sessions()
    try:
        data = client.read(path)
    except FtpError:
        close_quietly(client)
        raise
    if check_crc:
        remote = client.crc32(path)
        local = ardupilot_crc32(data)
        if remote != local:
            raise FtpError(f"{path} CRC32 0x{local:08x} differs from the vehicle's 0x{remote:08x}")
    items = decode(data, mission_type).items
    if progress:
        progress("download", len(items), len(items))
    return items


def close_quietly(client: FtpClient) -> None:
    """Best effort after a failure: free the vehicle's sessions (an unfinished upload is then
    refused by the vehicle because its header was never written)."""
    client.retries = 0
    try:
        client.reset_sessions()
    except FtpError:
        pass

"""MAVLink FTP transfers of @MISSION files: firmware_bridge.ftp against sim.ftp_server over a
real pymavlink TCP loopback connection (tests/ftp_loopback.py), with loss, duplication,
refusal and a transfer broken part-way."""

from __future__ import annotations

import random
import struct
import time

import pytest
from ftp_loopback import LoopbackVehicle

from agridrone.errors import AgridroneError
from firmware_bridge import mission_file
from firmware_bridge.ftp import (
    DATA_SIZE,
    FtpClient,
    FtpError,
    ardupilot_crc32,
    ftp_download,
    ftp_upload,
)
from firmware_bridge.link import connect
from missions.mission import MissionItem
from sim.ftp_server import FtpServer, MemoryMissionStore, MissionServerStore
from sim.mission_server import FENCE, MISSION, RALLY, MissionServer, home_item, stored_item

FAST = {"timeout_s": 0.3, "retries": 3, "target_system": 1, "target_component": 1}
OLD_MISSION = [stored_item(16, 0, x=1, y=2, z=3.0), stored_item(22, 3, z=10.0), stored_item(20, 0)]


def mission(n_waypoints: int) -> list[MissionItem]:
    """A spray mission: home, take-off, speed, sprayer on, waypoints, sprayer off, RTL."""
    items = [MissionItem(0, 0, 16, x=-353632620, y=1491652370, z=584.0),
             MissionItem(0, 6, 22, x=-353632620, y=1491652370, z=12.5),
             MissionItem(0, 2, 178, param1=1.0, param2=5.5, param3=-1.0),
             MissionItem(0, 2, 216, param1=1.0)]
    for k in range(n_waypoints):
        items.append(MissionItem(0, 6, 16, x=-353632620 + 37 * k, y=1491652370 + (k % 2) * 900,
                                 z=3.5))
    items += [MissionItem(0, 2, 216, param1=0.0), MissionItem(0, 2, 20)]
    return [MissionItem(seq, it.frame, it.command, it.param1, it.param2, it.param3, it.param4,
                        it.x, it.y, it.z) for seq, it in enumerate(items)]


def as_sim(items: list[MissionItem]) -> list[MissionItem]:
    return [stored_item(it.command, it.frame, it.param1, it.param2, it.param3, it.param4, it.x, it.y,
                 it.z, it.autocontinue) for it in items]


def store_with_old_mission() -> MemoryMissionStore:
    store = MemoryMissionStore()
    store.lists[MISSION] = list(OLD_MISSION)
    return store


def test_upload_then_download_gives_the_same_mission():
    store = store_with_old_mission()
    items = mission(300)
    seen: list[tuple[str, int, int]] = []
    with LoopbackVehicle(FtpServer(store).handle) as vehicle:
        result = ftp_upload(vehicle.gcs, items, MISSION, progress=lambda *p: seen.append(p),
                            **FAST)
        got = ftp_download(vehicle.gcs, MISSION, **FAST)
    assert store.lists[MISSION] == as_sim(items)
    uploaded = [done for phase, done, total in seen if phase == "upload"]
    assert uploaded == sorted(uploaded) and uploaded[-1] == len(items)
    assert seen[-1] == ("verify", len(items), len(items))
    assert result.verified and result.items == len(items)
    assert result.bytes == mission_file.file_size(len(items))
    assert [(g.command, g.x, g.y, g.z) for g in got] == [(i.command, i.x, i.y, i.z) for i in items]
    assert got[1].frame == 3  # ArduPilot returns GLOBAL_RELATIVE_ALT_INT as RELATIVE_ALT
    assert vehicle.received.count("FILE_TRANSFER_PROTOCOL") < len(items) / 2


def test_fence_and_rally_go_to_their_own_files():
    store = MemoryMissionStore()
    fence = [MissionItem(k, 5, 5001, param1=3.0, x=10 * k, y=20 * k, mission_type=FENCE)
             for k in range(3)]
    rally = [MissionItem(0, 6, 5100, x=5, y=6, z=30.0, mission_type=RALLY)]
    with LoopbackVehicle(FtpServer(store).handle) as vehicle:
        ftp_upload(vehicle.gcs, fence, FENCE, **FAST)
        ftp_upload(vehicle.gcs, rally, RALLY, **FAST)
        got_rally = ftp_download(vehicle.gcs, RALLY, **FAST)
    assert store.lists[FENCE] == as_sim(fence)
    assert store.lists[RALLY] == as_sim(rally)
    assert store.lists[MISSION] == []
    assert [(g.command, g.x, g.y, g.z) for g in got_rally] == [(5100, 5, 6, 30.0)]


def test_lossy_duplicating_link_still_delivers_every_item():
    store = store_with_old_mission()
    items = mission(400)
    rng = random.Random(7)
    server = FtpServer(store)

    def serve_twice(msg, now_s):
        replies = server.handle(msg, now_s)
        return replies + replies[:1]  # the first reply of each request arrives twice

    with LoopbackVehicle(serve_twice, lose_in=lambda m: rng.random() < 0.08,
                         lose_out=lambda m: rng.random() < 0.08) as vehicle:
        result = ftp_upload(vehicle.gcs, items, MISSION, **FAST)
        client = FtpClient(vehicle.gcs, timeout_s=0.3, retries=5, target_system=1)
        client.reset_sessions()
        data = client.read(mission_file.file_path(MISSION))
    assert store.lists[MISSION] == as_sim(items)
    assert result.resent > 0
    assert mission_file.decode(data, MISSION).items[5].x == items[5].x
    assert len(data) == mission_file.file_size(len(items))


def test_burst_gaps_are_filled_and_a_lost_end_of_file_is_asked_again():
    store = MemoryMissionStore()
    store.lists[MISSION] = as_sim(mission(60))
    lost: set[tuple[int, int]] = set()
    opcodes: list[int] = []

    def lose_third_chunk_and_eof_once(msg):
        seq, opcode, req, _burst, offset, _data = _parse(msg)
        key = (opcode, offset)
        if req == 15 and (offset == 2 * DATA_SIZE or opcode == 129) and key not in lost:
            lost.add(key)
            return True
        return False

    server = FtpServer(store)

    def serve(msg, now_s):
        opcodes.append(bytes(msg.payload)[3])
        return server.handle(msg, now_s)

    with LoopbackVehicle(serve, lose_out=lose_third_chunk_and_eof_once) as vehicle:
        client = FtpClient(vehicle.gcs, timeout_s=0.2, target_system=1)
        client.reset_sessions()
        data = client.read("@MISSION/mission.dat")
    assert data == server._file_bytes(MISSION)
    assert len(lost) == 2
    assert opcodes.count(15) == 2 and opcodes.count(5) == 1  # one more burst, one single read


def test_vehicle_refusing_the_file_is_reported_and_named():
    store = MemoryMissionStore(valid=lambda item, mission_type: item.command != 9999)
    store.lists[MISSION] = list(OLD_MISSION)
    items = mission(20)
    items[0:1] = [MissionItem(0, 2, 9999)]
    with LoopbackVehicle(FtpServer(store).handle) as vehicle:
        with pytest.raises(FtpError) as caught:
            ftp_upload(vehicle.gcs, items, MISSION, **FAST)
    # ArduPilot ACKs the close of a file it refused: the read-back is what notices
    assert caught.value.code is None
    assert "read back differs" in str(caught.value) and "\n" not in str(caught.value)
    assert isinstance(caught.value, AgridroneError)


def test_transfer_broken_midway_fails_cleanly_and_keeps_the_old_mission():
    store = store_with_old_mission()
    server = FtpServer(store)
    writes = [0]

    def silent_after_five_writes(msg):
        if bytes(msg.payload)[3] == 7:  # WriteFile
            writes[0] += 1
        return writes[0] > 5

    with LoopbackVehicle(server.handle, lose_in=silent_after_five_writes) as vehicle:
        with pytest.raises(FtpError) as caught:
            ftp_upload(vehicle.gcs, mission(200), MISSION, **FAST)
    message = str(caught.value)
    assert "stopped acknowledging" in message and "\n" not in message
    assert caught.value.code is None
    assert store.lists[MISSION] == OLD_MISSION
    # 20 s later the vehicle closes the idle session: it checks the half-written file (its
    # header, sent last, never arrived) and refuses it
    server.tick(time.monotonic() + 25.0)
    assert server.uploads_refused == 1 and server.uploads_applied == 0
    assert store.lists[MISSION] == OLD_MISSION


def test_writes_lost_midway_fail_cleanly_and_the_reset_makes_the_vehicle_drop_the_file():
    store = store_with_old_mission()
    server = FtpServer(store)
    writes = [0]

    def writes_lost_after_three(msg):
        if bytes(msg.payload)[3] == 7:  # WriteFile
            writes[0] += 1
            return writes[0] > 3
        return False

    with LoopbackVehicle(server.handle, lose_in=writes_lost_after_three) as vehicle:
        with pytest.raises(FtpError, match="stopped acknowledging FTP writes"):
            ftp_upload(vehicle.gcs, mission(200), MISSION, **FAST)
    assert server.uploads_refused == 1 and server.uploads_applied == 0
    assert store.lists[MISSION] == OLD_MISSION
    assert server.sessions == {}


def test_vehicle_without_ftp_is_reported_quickly():
    with LoopbackVehicle(lambda msg, now_s: []) as vehicle:
        with pytest.raises(FtpError, match="did not answer FTP ResetSessions after 2 tries"):
            ftp_download(vehicle.gcs, MISSION, timeout_s=0.1, retries=1, target_system=1)


def test_download_crc_matches_the_vehicle_crc():
    store = MemoryMissionStore()
    store.lists[MISSION] = as_sim(mission(50))
    with LoopbackVehicle(FtpServer(store).handle) as vehicle:
        client = FtpClient(vehicle.gcs, timeout_s=0.3, target_system=1)
        client.reset_sessions()
        data = client.read("@MISSION/mission.dat")
        assert client.crc32("@MISSION/mission.dat") == ardupilot_crc32(data)
        with pytest.raises(FtpError, match="FileNotFound"):
            client.read("@MISSION/nothing.dat")


def test_ardupilot_crc32_is_the_uninverted_table_crc():
    # crc_crc32() of ArduPilot's libraries/AP_Math/crc.cpp, starting from 0
    def table_crc(data: bytes) -> int:
        crc = 0
        for byte in data:
            crc ^= byte
            for _ in range(8):
                crc = (crc >> 1) ^ (0xEDB88320 if crc & 1 else 0)
        return crc

    for data in (b"", b"\x00", b"123456789", bytes(range(256)) * 3):
        assert ardupilot_crc32(data) == table_crc(data)


def test_upload_through_a_bridge_link_into_the_simulators_mission_server():
    sent: list = []
    home = home_item(-35.363262, 149.165237, 584.0)
    missions = MissionServer(sent.append, lambda s, t: None, lambda n, v: None, lambda: home)
    server = FtpServer(MissionServerStore(missions, lambda: home))
    items = mission(30)
    with LoopbackVehicle(server.handle, heartbeat=True) as vehicle:
        link = connect(f"tcp:127.0.0.1:{vehicle.port}", heartbeat_timeout_s=5.0)
        try:
            result = ftp_upload(link, items, MISSION, timeout_s=0.3, retries=3)
            got = ftp_download(link, MISSION, timeout_s=0.3, retries=3)
        finally:
            link.close()
    assert result.verified
    assert missions.lists[MISSION][1:] == as_sim(items)[1:]
    assert (got[0].x, got[0].y) == (home.x, home.y)  # item 0 reads back as the vehicle's home


# ------------------------------------------------------------ server alone
def _request(seq: int, opcode: int, *, session: int = 0, offset: int = 0, data: bytes = b"",
             size: int | None = None):
    from pymavlink.dialects.v20 import ardupilotmega as mavlink

    header = struct.pack("<HBBBBBBI", seq, session, opcode, len(data) if size is None else size,
                         0, 0, 0, offset)
    msg = mavlink.MAVLink_file_transfer_protocol_message(0, 1, 1, list((header + data).ljust(251, b"\0")))
    msg._header = mavlink.MAVLink_header(msg.id, srcSystem=255, srcComponent=190)
    return msg


def _parse(reply):
    raw = bytes(reply.payload)
    seq, session, opcode, size, req, burst, _, offset = struct.unpack_from("<HBBBBBBI", raw)
    return seq, opcode, req, burst, offset, raw[12:12 + size]


def test_server_burst_ends_with_eof_at_the_file_length():
    store = MemoryMissionStore()
    store.lists[MISSION] = as_sim(mission(20))
    server = FtpServer(store)
    server.handle(_request(0, 4, data=b"@MISSION/mission.dat"), 0.0)
    replies = [_parse(r) for r in server.handle(_request(1, 15, size=DATA_SIZE), 0.0)]
    length = mission_file.file_size(len(store.lists[MISSION]))
    assert [r[0] for r in replies] == list(range(2, 2 + len(replies)))  # seq + 1, + 2, ...
    assert b"".join(r[5] for r in replies[:-1]) == server._file_bytes(MISSION)
    eof = replies[-1]
    assert eof[1] == 129 and eof[5] == bytes([6]) and eof[4] == length and eof[3] == 1


def test_server_answers_a_repeated_request_from_its_cache_without_redoing_it():
    store = store_with_old_mission()
    server = FtpServer(store)
    server.handle(_request(0, 6, data=b"@MISSION/mission.dat"), 0.0)
    first = server.handle(_request(1, 6, data=b"@MISSION/mission.dat"), 0.0)
    again = server.handle(_request(1, 6, data=b"@MISSION/mission.dat"), 0.0)
    assert _parse(first[0])[1] == 129  # a second create on an open session: Fail
    assert _parse(again[0]) == _parse(first[0])


def test_server_refuses_a_file_with_an_unwritten_item_and_keeps_the_list():
    store = store_with_old_mission()
    server = FtpServer(store)
    data = mission_file.encode(mission(10), MISSION)
    server.handle(_request(0, 6, data=b"@MISSION/mission.dat"), 0.0)
    server.handle(_request(1, 7, offset=0, data=data[:DATA_SIZE]), 0.0)  # items 6.. never sent
    closed = _parse(server.handle(_request(2, 1), 0.0)[0])
    assert closed[1] == 128  # ACK: ArduCopter 4.7 SITL ACKs the close of a refused file
    assert store.lists[MISSION] == OLD_MISSION


def test_server_lists_the_mission_directory():
    server = FtpServer(MemoryMissionStore())
    listing = _parse(server.handle(_request(0, 3, data=b"@MISSION/"), 0.0)[0])[5]
    assert listing.split(b"\0")[:3] == [b"Fmission.dat\t1048576", b"Ffence.dat\t1048576",
                                        b"Frally.dat\t1048576"]

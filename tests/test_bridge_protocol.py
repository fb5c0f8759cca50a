"""firmware_bridge mission protocol over real loopback sockets, against the ArduPilot-like
peer in tests/mavlink_peer.py (and its PX4 mode): upload + read-back, limits, loss and
duplicates through sim/link_emulator.py, a vehicle going silent, MISSION_ACK errors, fence and
rally, set-current."""

from __future__ import annotations

import socket
import threading

import pytest
from mavlink_peer import HOME, MavlinkPeer

from agridrone.errors import AgridroneError
from firmware_bridge import mission_protocol
from firmware_bridge.ack_errors import explain, result_name
from firmware_bridge.link import connect
from missions.mission import MissionItem
from sim.link_emulator import LinkEmulator, RadioProfile

FAST = {"timeout_s": 0.1, "retries": 3}  # loopback answers in well under a millisecond
LOSSY = {"timeout_s": 0.02, "retries": 40}  # 20 % loss each way: a lost round trip is 36 %


def spray_mission(count: int, lat0: int = 315204000, alt: float = 5.0) -> list[MissionItem]:
    """An ArduPilot-style spray mission of ``count`` items: home, takeoff, speed, then
    waypoints with DO_SPRAYER on/off between them, RTL last."""
    items = [MissionItem(seq=0, frame=0, command=16, x=HOME[0], y=HOME[1]),
             MissionItem(seq=1, frame=6, command=22, z=alt),
             MissionItem(seq=2, frame=6, command=178, param1=1.0, param2=5.0, param3=-1.0)]
    while len(items) < count - 1:
        seq = len(items)
        if seq % 2:
            items.append(MissionItem(seq=seq, frame=6, command=16, x=lat0 + seq * 37,
                                     y=743587000 + (seq % 7) * 1000, z=alt))
        else:
            items.append(MissionItem(seq=seq, frame=6, command=216, param1=float(seq % 4 == 0)))
    items.append(MissionItem(seq=count - 1, frame=6, command=20))
    return items


@pytest.fixture
def peer():
    vehicle = MavlinkPeer().start()
    yield vehicle
    vehicle.stop()


@pytest.fixture
def link(peer):
    conn = connect(peer.address, heartbeat_timeout_s=3.0)
    yield conn
    conn.close()


def test_600_items_upload_and_read_back_over_tcp(peer, link):
    items = spray_mission(600)
    result = mission_protocol.upload(link, items, **FAST)
    assert result.count == 600 and result.autopilot == "ardupilot"
    assert peer.stored()[1:] == items[1:]
    got = mission_protocol.download(link, **FAST)
    assert len(got) == 600
    assert (got[0].frame, got[0].x, got[0].y) == (0, HOME[0], HOME[1])  # home, not item 0
    waypoint, sprayer = got[3], got[4]
    assert (waypoint.frame, waypoint.x, waypoint.z) == (3, items[3].x, items[3].z)
    assert (sprayer.frame, sprayer.command, sprayer.param1) == (0, 216, 1.0)


def test_700_items_are_refused_before_anything_is_sent(peer, link):
    peer.lists[0] = spray_mission(12)
    with pytest.raises(AgridroneError, match="700 items but the vehicle holds at most 650.*"
                                             "nothing was sent"):
        mission_protocol.upload(link, spray_mission(700), **FAST)
    assert peer.counts_received == []
    assert len(peer.stored()) == 12


def test_no_space_answer_is_named_and_the_mission_cleared(link, peer):
    peer.max_items = 100
    with pytest.raises(AgridroneError) as info:
        mission_protocol.upload(link, spray_mission(120), max_items=1000, **FAST)
    message = str(info.value)
    assert "NO_SPACE" in message and "MISSION_COUNT 120" in message
    assert "mission was cleared" in message and peer.stored() == []


def test_600_items_through_lossy_duplicating_link():
    vehicle = MavlinkPeer().start()
    radio = LinkEmulator(("127.0.0.1", vehicle.port),
                         RadioProfile(loss_pct=20.0, duplicate_pct=10.0, seed=7)).start()
    try:
        conn = connect(radio.address, heartbeat_timeout_s=3.0)
        items = spray_mission(600)
        result = mission_protocol.upload(conn, items, **LOSSY)
        conn.close()
    finally:
        radio.stop()
        vehicle.stop()
    assert result.count == 600 and result.resent > 0
    assert radio.to_server.lost > 0 and radio.to_client.lost > 0
    assert radio.to_server.duplicated > 0 and radio.to_client.duplicated > 0
    assert vehicle.stored()[1:] == items[1:]


def test_vehicle_silent_mid_upload_fails_says_how_far_and_is_cleared(peer, link):
    peer.lists[0] = spray_mission(20, alt=20.0)  # an old mission the upload overwrites
    # silent longer than the upload's retry budget (4 x 0.1 s), shorter than the clear's
    peer.go_silent(after_items=300, for_s=1.0)
    with pytest.raises(AgridroneError) as info:
        mission_protocol.upload(link, spray_mission(600), timeout_s=0.1, retries=3)
    message = str(info.value)
    assert "went silent" in message and "300 of 600 items confirmed stored" in message
    assert "no answer to 3 retries" in message
    assert "mission was cleared (count 0 read back)" in message
    assert peer.stored() == []


def test_vehicle_silent_for_good_says_the_mission_may_be_mixed(peer, link):
    peer.go_silent(after_items=5, for_s=60.0)
    with pytest.raises(AgridroneError) as info:
        mission_protocol.upload(link, spray_mission(40), timeout_s=0.05, retries=2)
    message = str(info.value)
    assert "5 of 40 items confirmed stored" in message
    assert "FAILED" in message and "mix of old and new items" in message


ERROR_CODES = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 14, 15]


def test_each_mission_ack_error_has_its_own_message(peer, link):
    messages = {}
    for code in ERROR_CODES:
        peer.reject = {3: code}
        with pytest.raises(AgridroneError) as info:
            mission_protocol.upload(link, spray_mission(8), **FAST)
        message = str(info.value)
        assert f"MISSION_ACK {result_name(code)}" in message and explain(code) in message
        assert "item 3 of 8" in message and "mission was cleared" in message
        messages[code] = message
    assert len(set(messages.values())) == len(ERROR_CODES)
    assert result_name(14) == "DENIED" and result_name(2) == "UNSUPPORTED_FRAME"


def test_invalid_items_are_refused_before_anything_is_sent(peer, link):
    before = peer.stored()
    items = spray_mission(8)
    items[3] = MissionItem(seq=3, frame=6, command=16, x=950_000_000, y=743587000, z=5.0)
    items[5] = MissionItem(seq=5, frame=6, command=9999, z=5.0)
    with pytest.raises(AgridroneError, match="item 3: latitude.*item 5: command 9999.*nothing "
                                             "was sent"):
        mission_protocol.upload(link, items, **FAST)
    assert peer.stored() == before


def test_refusals_the_checks_did_not_foresee_end_with_the_vehicles_code(peer, link,
                                                                          monkeypatch):
    monkeypatch.setattr(mission_protocol, "check_items", lambda *args, **kwargs: None)
    items = spray_mission(8)
    items[3] = MissionItem(seq=3, frame=6, command=16, x=950_000_000, y=743587000, z=5.0)
    with pytest.raises(AgridroneError, match="INVALID_PARAM5_X"):
        mission_protocol.upload(link, items, **FAST)
    items[3] = MissionItem(seq=3, frame=6, command=9999, z=5.0)
    with pytest.raises(AgridroneError, match="MISSION_ACK UNSUPPORTED:"):
        mission_protocol.upload(link, items, **FAST)


def test_read_back_that_differs_is_never_reported_as_success(peer, link):
    peer.alter_seq = 9
    with pytest.raises(AgridroneError) as info:
        mission_protocol.upload(link, spray_mission(30), **FAST)
    message = str(info.value)
    assert "read-back differs" in message and "item 9: position" in message
    assert peer.stored() == []


def test_fence_and_rally_round_trip(peer, link):
    inclusion = [(315214780, 743587000), (315209390, 743597951), (315198610, 743597951),
                 (315193220, 743587000), (315198610, 743576049), (315209390, 743576049)]
    exclusion = [(315207593, 743585946), (315207593, 743588054), (315209390, 743588054),
                 (315209390, 743585946)]
    fence = [MissionItem(seq=i, frame=5, command=5001, param1=6.0, x=x, y=y, mission_type=1)
             for i, (x, y) in enumerate(inclusion)]
    fence += [MissionItem(seq=6 + i, frame=5, command=5002, param1=4.0, x=x, y=y,
                          mission_type=1) for i, (x, y) in enumerate(exclusion)]
    rally = [MissionItem(seq=0, frame=6, command=5100, x=315204000, y=743592269, z=15.0,
                         mission_type=2)]
    assert mission_protocol.upload(link, fence, mission_type=1, **FAST).count == 10
    assert mission_protocol.upload(link, rally, mission_type=2, **FAST).count == 1
    got_fence = mission_protocol.download(link, mission_type=1, **FAST)
    assert [(it.command, it.frame, it.param1, it.x, it.y) for it in got_fence] == [
        (it.command, 0, it.param1, it.x, it.y) for it in fence]
    got_rally = mission_protocol.download(link, mission_type=2, **FAST)
    assert [(it.command, it.frame, it.x, it.y, it.z) for it in got_rally] == [
        (5100, 3, 315204000, 743592269, 15.0)]
    mission_protocol.clear(link, mission_type=1, **FAST)
    assert peer.stored(1) == [] and peer.stored(2) == rally


def test_px4_item_zero_is_real_and_reads_back_exactly():
    vehicle = MavlinkPeer(autopilot="px4").start()
    try:
        conn = connect(vehicle.address, heartbeat_timeout_s=3.0)
        assert conn.autopilot == "px4"
        items = [MissionItem(seq=i, frame=6, command=16, x=315204000 + i * 100, y=743587000,
                             z=10.0) for i in range(40)]
        mission_protocol.upload(conn, items, **FAST)
        assert mission_protocol.download(conn, **FAST) == items
        terrain = [MissionItem(seq=0, frame=11, command=16, x=315204000, y=743587000, z=3.0)]
        with pytest.raises(AgridroneError, match="UNSUPPORTED_FRAME"):
            mission_protocol.upload(conn, terrain, **FAST)
        conn.close()
    finally:
        vehicle.stop()


def test_set_current_and_its_refusal(peer, link):
    peer.lists[0] = spray_mission(12)
    mission_protocol.set_current(link, 5, **FAST)
    assert peer.current_seq == 5
    with pytest.raises(AgridroneError, match="refused to make mission item 50 current"):
        mission_protocol.set_current(link, 50, **FAST)


def test_clear_is_verified_by_a_count_of_zero(peer, link):
    peer.lists[0] = spray_mission(12)
    mission_protocol.clear(link, **FAST)
    assert peer.stored() == [] and mission_protocol.download(link, **FAST) == []


def test_silent_address_gives_a_clear_error():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    accepted = []
    thread = threading.Thread(target=lambda: accepted.append(server.accept()), daemon=True)
    thread.start()
    try:
        with pytest.raises(AgridroneError, match="no vehicle HEARTBEAT .* within 0.3 s"):
            connect(f"tcp:127.0.0.1:{server.getsockname()[1]}", heartbeat_timeout_s=0.3)
    finally:
        thread.join(timeout=2.0)
        for conn, _ in accepted:
            conn.close()
        server.close()


def test_refused_and_malformed_addresses_give_clear_errors():
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    with pytest.raises(AgridroneError, match=f"cannot open tcp:127.0.0.1:{port}"):
        connect(f"tcp:127.0.0.1:{port}", heartbeat_timeout_s=0.3)
    with pytest.raises(AgridroneError, match="needs HOST:PORT"):
        connect("tcp:5760", heartbeat_timeout_s=0.3)
    with pytest.raises(AgridroneError, match="unknown scheme"):
        connect("http://127.0.0.1:5760", heartbeat_timeout_s=0.3)

"""Pipelined item-protocol download (firmware_bridge.pipelined_download) against the
simulator's mission server (sim.mission_server.MissionServer) over a TCP loopback pymavlink
connection: several requests in flight, items out of order, lost and duplicated."""

from __future__ import annotations

import random

import pytest
from ftp_loopback import LoopbackVehicle

from agridrone.errors import AgridroneError
from firmware_bridge.pipelined_download import pipelined_download
from sim.mission_server import FENCE, MISSION, MissionServer, download_frame, home_item, stored_item

HOME = home_item(-35.363262, 149.165237, 584.0)
FAST = {"timeout_s": 0.3, "retries": 3, "target_system": 1, "target_component": 1}


class MissionPeer:
    """The simulator's mission server behind ``serve(msg, now_s) -> replies``."""

    def __init__(self, n_items: int) -> None:
        self.outbox: list = []
        self.server = MissionServer(self.outbox.append, lambda severity, text: None,
                                    lambda name, value: None, lambda: HOME)
        waypoints = [stored_item(16, 6, x=-353632620 + 11 * k, y=1491652370 - 7 * k, z=4.0 + k % 3)
                     for k in range(n_items - 2)]
        self.server.store(MISSION, [HOME, stored_item(22, 6, z=12.0)] + waypoints)

    def serve(self, msg, now_s: float) -> list:
        self.server.handle(msg, now_s)
        replies, self.outbox[:] = list(self.outbox), []
        return replies

    def expected(self, mission_type: int = MISSION) -> list[tuple]:
        """(seq, command, frame, x, y, z) of each item as the vehicle returns it."""
        items = self.server.lists[mission_type]
        return [(seq, it.command, 0 if seq == 0 and mission_type == MISSION
                 else download_frame(it, mission_type), it.x, it.y, it.z)
                for seq, it in enumerate(items)]


def fields(items) -> list[tuple]:
    return [(it.seq, it.command, it.frame, it.x, it.y, it.z) for it in items]


def test_download_returns_the_vehicle_list_in_order():
    peer = MissionPeer(120)
    with LoopbackVehicle(peer.serve) as vehicle:
        result = pipelined_download(vehicle.gcs, MISSION, window=8, **FAST)
        # the closing ACK is the last message the GCS sends; the vehicle's reader thread
        # may still be on its way to it when the download returns
        assert vehicle.wait_for("MISSION_ACK")
    assert fields(result.items) == peer.expected()
    assert result.requests == 120 and result.resent == 0 and result.duplicates == 0
    assert vehicle.received[-1] == "MISSION_ACK"


def test_several_requests_are_in_flight_and_answers_may_come_out_of_order():
    peer = MissionPeer(60)
    held: list = []
    most_held = [0]

    def hold_four(msg, now_s):
        if msg.get_type() != "MISSION_REQUEST_INT":
            return peer.serve(msg, now_s)
        held.append((now_s, msg))
        most_held[0] = max(most_held[0], len(held))
        if len(held) < 4:
            return []
        return release()

    def release() -> list:
        replies = []
        for _, msg in reversed(held):  # answer the newest request first
            replies += peer.serve(msg, 0.0)
        held.clear()
        return replies

    def tick(now_s):  # the tail of the list: answer what is held after 50 ms
        return release() if held and now_s - held[0][0] > 0.05 else []

    with LoopbackVehicle(hold_four, tick=tick) as vehicle:
        result = pipelined_download(vehicle.gcs, MISSION, window=8, **FAST)
    assert most_held[0] >= 4
    assert fields(result.items) == peer.expected()


def test_lost_and_duplicated_items_are_handled():
    peer = MissionPeer(200)
    rng = random.Random(3)

    def serve_some_twice(msg, now_s):
        replies = peer.serve(msg, now_s)
        return replies * 2 if rng.random() < 0.15 else replies

    with LoopbackVehicle(serve_some_twice, lose_in=lambda m: rng.random() < 0.05,
                         lose_out=lambda m: rng.random() < 0.05) as vehicle:
        result = pipelined_download(vehicle.gcs, MISSION, window=8, **FAST)
    assert fields(result.items) == peer.expected()
    assert result.resent > 0 and result.duplicates > 0


def test_fence_download_uses_its_mission_type():
    peer = MissionPeer(3)
    peer.server.store(FENCE, [stored_item(5001, 5, 4.0, x=10 * k, y=20 * k) for k in range(4)])
    with LoopbackVehicle(peer.serve) as vehicle:
        result = pipelined_download(vehicle.gcs, FENCE, **FAST)
    assert fields(result.items) == peer.expected(FENCE)
    assert all(it.mission_type == FENCE for it in result.items)


def test_vehicle_that_stops_answering_is_reported_with_the_item():
    peer = MissionPeer(50)
    requests = [0]

    def silent_after_ten_requests(msg):
        if msg.get_type() == "MISSION_REQUEST_INT":
            requests[0] += 1
        return requests[0] > 10

    with LoopbackVehicle(peer.serve, lose_in=silent_after_ten_requests) as vehicle:
        with pytest.raises(AgridroneError, match=r"stopped answering the mission download at "
                                                 r"item 10 of 50 after 4 requests"):
            pipelined_download(vehicle.gcs, MISSION, window=4, timeout_s=0.1, retries=3,
                               target_system=1)


def test_empty_list_needs_no_requests():
    peer = MissionPeer(3)
    peer.server.store(MISSION, [])
    with LoopbackVehicle(peer.serve) as vehicle:
        result = pipelined_download(vehicle.gcs, MISSION, **FAST)
    assert result.items == [] and result.requests == 0

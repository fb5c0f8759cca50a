"""sim/link_emulator.py: whole MAVLink frames cut from any byte stream, the same losses and
duplicates for the same seed, and frames passed through unchanged on a clean link."""

from __future__ import annotations

import random
import socket

from hypothesis import given, settings
from hypothesis import strategies as st
from pymavlink.dialects.v20 import ardupilotmega as mavlink2

from sim.link_emulator import FrameSplitter, LinkEmulator, RadioProfile, frame_fates


def _frames(seed: int, count: int) -> list[bytes]:
    """MAVLink 1 and 2 frames of several sizes (MAVLink 2 trims trailing zeros)."""
    rng = random.Random(seed)
    mav = mavlink2.MAVLink(None, srcSystem=1, srcComponent=1)
    frames = []
    for i in range(count):
        if rng.random() < 0.5:
            msg = mavlink2.MAVLink_mission_item_int_message(
                255, 190, i, 6, 16, 0, 1, rng.random(), 0, 0, 0, rng.randrange(1 << 30),
                rng.randrange(1 << 30), rng.random() * 100, rng.randrange(3))
        else:
            msg = mavlink2.MAVLink_mission_request_message(255, 190, i, 0)
        frames.append(msg.pack(mav, force_mavlink1=rng.random() < 0.3))
    return frames


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), cuts=st.lists(st.integers(1, 64), min_size=1, max_size=40),
       noise=st.binary(max_size=5).filter(lambda b: 0xFD not in b and 0xFE not in b))
def test_splitter_returns_the_frames_whatever_the_chunking(seed, cuts, noise):
    frames = _frames(seed, 12)
    stream = noise + b"".join(frames)
    splitter, got, position = FrameSplitter(), [], 0
    while position < len(stream):
        step = cuts[len(got) % len(cuts)]
        got += splitter.feed(stream[position:position + step])
        position += step
    assert got == frames


def test_same_seed_loses_and_duplicates_the_same_frames():
    profile = RadioProfile(loss_pct=20.0, duplicate_pct=10.0)

    def fates(seed: int) -> list[tuple[bool, bool]]:
        rng = random.Random(seed)
        return [frame_fates(rng, profile) for _ in range(5000)]

    fates_a = fates(11)
    assert fates_a == fates(11) and fates_a != fates(12)
    lost = sum(lost for lost, _ in fates_a) / len(fates_a)
    duplicated = sum(dup for _, dup in fates_a) / len(fates_a)
    assert 0.18 < lost < 0.22 and 0.08 < duplicated < 0.12


def test_clean_link_forwards_frames_unchanged_both_ways():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    radio = LinkEmulator(("127.0.0.1", server.getsockname()[1]),
                         RadioProfile(latency_s=0.005, baud=1_000_000)).start()
    frames = _frames(5, 30)
    try:
        client = socket.create_connection(("127.0.0.1", radio.port), timeout=3.0)
        vehicle, _ = server.accept()
        vehicle.settimeout(3.0)
        client.sendall(b"".join(frames))
        assert _read_frames(vehicle, len(frames)) == frames
        vehicle.sendall(b"".join(reversed(frames)))
        assert _read_frames(client, len(frames)) == list(reversed(frames))
        client.close()
        vehicle.close()
    finally:
        radio.stop()
        server.close()
    assert radio.to_server.frames == radio.to_client.frames == len(frames)
    assert radio.to_server.lost == radio.to_client.lost == 0


def _read_frames(sock: socket.socket, count: int) -> list[bytes]:
    splitter, frames = FrameSplitter(), []
    while len(frames) < count:
        data = sock.recv(65536)
        assert data, "connection closed early"
        frames += splitter.feed(data)
    return frames

"""ArduPilot's mission file format (firmware_bridge.mission_file): round trip over random items
and the byte layout ArduPilot's source gives.

Layout sources: ArduPilot libraries/AP_Filesystem/AP_Filesystem_Mission.h (``struct header``:
uint16 magic = 0x763d, uint16 data_type, uint16 options, uint16 start, uint16 num_items) and
AP_Filesystem_Mission.cpp (items are ``mavlink_mission_item_int_t`` copied with memcpy,
MAVLINK_MSG_ID_MISSION_ITEM_INT_LEN = 38 bytes each); MAVProxy/modules/mavproxy_wp.py
(``wp_ftp_upload`` packs ``struct.pack("<HHHHH", 0x763d, type, 0, 0, count)`` then each item
with pymavlink's ``MAVLink_mission_item_int_message.unpacker.pack`` in ``ordered_fieldnames``).
"""

from __future__ import annotations

import math
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pymavlink.dialects.v20 import ardupilotmega as mavlink

from agridrone.errors import AgridroneError
from firmware_bridge.mission_file import (
    MAGIC,
    OPTION_NO_CLEAR,
    decode,
    encode,
    file_path,
    file_size,
)
from missions.mission import MissionItem

FLOAT32 = st.floats(width=32, allow_nan=False, allow_infinity=True)
INT32 = st.integers(-(2**31), 2**31 - 1)


@st.composite
def items_of(draw, mission_type: int) -> list[MissionItem]:
    n = draw(st.integers(0, 40))
    out = []
    for seq in range(n):
        out.append(MissionItem(
            seq=seq, frame=draw(st.integers(0, 255)), command=draw(st.integers(1, 65535)),
            param1=draw(FLOAT32), param2=draw(FLOAT32), param3=draw(FLOAT32),
            param4=draw(FLOAT32), x=draw(INT32), y=draw(INT32), z=draw(FLOAT32),
            autocontinue=draw(st.integers(0, 1)), mission_type=mission_type,
            current=draw(st.integers(0, 1))))
    return out


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2).flatmap(lambda t: st.tuples(st.just(t), items_of(t))))
def test_round_trip_keeps_every_field(case):
    mission_type, items = case
    data = encode(items, mission_type)
    assert len(data) == file_size(len(items))
    decoded = decode(data, mission_type)
    assert decoded.mission_type == mission_type and decoded.start == 0 and decoded.options == 0
    assert decoded.items == items
    assert encode(decoded.items, mission_type) == data  # byte-identical both ways


def test_header_layout_is_ardupilots():
    data = encode([MissionItem(0, 0, 16, x=1, y=2, z=3.0)] * 3, 2, start=7,
                  options=OPTION_NO_CLEAR)
    # <HHHHH: magic 0x763d, data_type, options, start, num_items (AP_Filesystem_Mission.h)
    assert data[:10] == bytes([0x3D, 0x76, 2, 0, 1, 0, 7, 0, 3, 0])
    assert MAGIC == 0x763D
    assert len(data) == 10 + 3 * 38


def test_item_bytes_equal_a_packed_mission_item_int_payload():
    item = MissionItem(seq=0, frame=6, command=22, param1=1.5, param2=-2.0, param3=0.25,
                       param4=math.nan, x=-353632620, y=1491652370, z=12.5, autocontinue=1,
                       current=1)
    data = encode([MissionItem(0, 0, 16, x=5), item], 0)
    msg = mavlink.MAVLink_mission_item_int_message(0, 0, 1, 6, 22, 1, 1, 1.5, -2.0, 0.25,
                                                   math.nan, -353632620, 1491652370, 12.5, 0)
    fields = tuple(getattr(msg, name) for name in msg.ordered_fieldnames)
    assert msg.unpacker.size == 38  # MAVLINK_MSG_ID_MISSION_ITEM_INT_LEN, with mission_type
    assert data[48:86] == msg.unpacker.pack(*fields)
    # wire order: param1-4, x, y, z, seq, command, target ids, frame, current, autocontinue, type
    assert struct.unpack_from("<i", data, 48 + 16)[0] == -353632620
    assert struct.unpack_from("<HH", data, 48 + 28) == (1, 22)
    assert data[48 + 34:48 + 38] == bytes([6, 1, 1, 0])


def test_decode_reads_seq_from_the_position_in_the_list():
    data = encode([MissionItem(9, 0, 16, x=1), MissionItem(9, 0, 16, x=2)], 0, start=4)
    assert [item.seq for item in decode(data).items] == [4, 5]


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d[:7], "shorter than its 10-byte header"),
    (lambda d: b"\x00\x00" + d[2:], "magic 0x0000"),
    (lambda d: d[:-1], "should hold 2 items"),
    (lambda d: d + b"\x01", "should hold 2 items"),
    (lambda d: d[:2] + b"\x07\x00" + d[4:], "unknown mission type 7"),
])
def test_decode_refuses_damaged_files(mutate, message):
    data = encode([MissionItem(0, 0, 16, x=1), MissionItem(1, 3, 16, x=2)], 0)
    with pytest.raises(AgridroneError, match=message):
        decode(mutate(data))


def test_decode_refuses_another_type_than_expected():
    with pytest.raises(AgridroneError, match="holds mission type 1, expected 0"):
        decode(encode([MissionItem(0, 0, 5001, x=1)], 1), 0)


def test_encode_refuses_what_ardupilot_would_refuse():
    with pytest.raises(AgridroneError, match="all zero bytes"):
        encode([MissionItem(0, 0, 0, autocontinue=0)], 0)
    with pytest.raises(AgridroneError, match="cannot be packed"):
        encode([MissionItem(0, 0, 16, x=2**31)], 0)
    with pytest.raises(AgridroneError, match="mission type 3"):
        file_path(3)


def test_file_paths_are_ardupilots():
    assert [file_path(t) for t in (0, 1, 2)] == [
        "@MISSION/mission.dat", "@MISSION/fence.dat", "@MISSION/rally.dat"]

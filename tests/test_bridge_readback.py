"""Read-back comparison: ArduPilot's renumbered frames and home item are accepted, and any
other difference in command, frame, position or parameters is caught."""

from __future__ import annotations

import math
from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from firmware_bridge.readback import (
    ARDUPILOT_LOCATION_COMMANDS,
    compare_items,
    expected_readback_frame,
)
from missions.mission import MissionItem

COMMANDS = [16, 22, 21, 178, 216, 20, 183, 187]
items_strategy = st.builds(
    MissionItem,
    seq=st.just(0),
    frame=st.sampled_from([0, 2, 3, 5, 6, 10, 11]),
    command=st.sampled_from(COMMANDS),
    param1=st.floats(-1000, 1000), param2=st.floats(-1000, 1000),
    param3=st.floats(-1000, 1000), param4=st.floats(-1000, 1000),
    x=st.integers(-900_000_000, 900_000_000), y=st.integers(-1_800_000_000, 1_800_000_000),
    z=st.floats(-100, 1000),
)


def _numbered(items):
    return [replace(item, seq=i) for i, item in enumerate(items)]


def _as_ardupilot_returns(item: MissionItem) -> MissionItem:
    """What ArduPilot 4.7 sends back: frames renumbered, altitude of located items in cm,
    NAV_LAND's param4 as -1 or 1 (AP_Mission keeps only its sign, loiter_ccw)."""
    located = item.command in ARDUPILOT_LOCATION_COMMANDS
    frame = {5: 0, 6: 3, 11: 10}.get(item.frame, item.frame) if located else 0
    z = round(item.z * 100) / 100 if located else item.z
    param4 = (-1.0 if item.param4 < 0 else 1.0) if item.command == 21 else item.param4
    return replace(item, frame=frame, z=z, param4=param4)


@settings(max_examples=80, deadline=None)
@given(st.lists(items_strategy, min_size=2, max_size=12))
def test_ardupilot_renumbering_and_home_are_not_differences(items):
    sent = _numbered(items)
    got = [MissionItem(seq=0, frame=0, command=16, x=315204000, y=743587000, z=215.1)]
    got += [_as_ardupilot_returns(item) for item in sent[1:]]
    assert compare_items(sent, got, "ardupilot", 0) == []
    assert compare_items(sent, sent, "px4", 0) == []


@settings(max_examples=80, deadline=None)
@given(st.lists(items_strategy, min_size=2, max_size=12), st.data())
def test_any_real_change_is_caught(items, data):
    sent = _numbered(items)
    got = [_as_ardupilot_returns(item) for item in sent]
    seq = data.draw(st.integers(1, len(sent) - 1))
    field = data.draw(st.sampled_from(["command", "x", "y", "param1", "param4", "z"]))
    old = getattr(got[seq], field)
    if field == "command":
        new = 17 if old != 17 else 19
    elif field in ("x", "y"):
        new = old + data.draw(st.sampled_from([-1, 1]))
    elif field == "z":  # ArduPilot keeps altitudes to the centimetre
        new = old + data.draw(st.sampled_from([-0.02, 5.0]))
    else:
        new = old + data.draw(st.sampled_from([-0.02, 0.0005, 5.0]))
    got[seq] = replace(got[seq], **{field: new})
    problems = compare_items(sent, got, "ardupilot", 0)
    assert len(problems) == 1 and problems[0].startswith(f"item {seq}:")
    px4_got = [replace(item) for item in sent]
    px4_got[seq] = replace(px4_got[seq], **{field: new})
    assert compare_items(sent, px4_got, "px4", 0) != []


def test_frames_and_counts_are_checked():
    sent = [MissionItem(seq=0, frame=6, command=16, x=1, y=2, z=3.0),
            MissionItem(seq=1, frame=6, command=16, x=1, y=2, z=3.0)]
    wrong_frame = [sent[0], replace(sent[1], frame=0)]
    assert compare_items(sent, wrong_frame, "ardupilot", 0) == ["item 1: frame 0 instead of 3"]
    assert compare_items(sent, sent[:1], "ardupilot", 0) == [
        "the vehicle holds 1 items, 2 were sent"]
    assert compare_items(sent, [sent[0], sent[1]], "px4", 0) == []
    fence = MissionItem(seq=0, frame=5, command=5001, param1=4.0, mission_type=1)
    assert expected_readback_frame(fence, "ardupilot", 1) == 0
    rally = MissionItem(seq=0, frame=6, command=5100, mission_type=2)
    assert expected_readback_frame(rally, "ardupilot", 2) == 3
    nan_yaw = replace(sent[1], param4=math.nan)
    assert compare_items([sent[0], nan_yaw], [sent[0], nan_yaw], "px4", 0) == []

"""Differential conformance: the recorded protocol scripts (tests/data/sitl-transcripts/) sent
to a live ArduPilot SITL and to the built-in simulator must get the same answers: MISSION_ACK
codes, the request message types and their seqs, counts, downloaded items, COMMAND_ACK and
PARAM_VALUE answers, STATUSTEXTs, and the MIS_TOTAL / FENCE_TOTAL / RALLY_TOTAL broadcasts
(streams and comparison of tests/test_sim_conformance.py; heartbeat and MISSION_CURRENT, which
a faster-than-real SITL samples differently, are left to the recorded comparison there).

One SITL (quad, speedup 5, instance 14) serves every scenario; before each, its mission,
fence and rally are cleared and the scenario's preloaded mission is uploaded through a second
client port, standing in for the fresh SITL each recording started from. Skipped (with the
reason shown) unless ARDUPILOT_SITL names an ``arducopter`` binary.
"""

from __future__ import annotations

import re
import time

import pytest
from test_sim_conformance import compared_streams, replay_against, replay_on_simulator

from sim.sitl import launch_sitl
from tests.sitl.ardupilot_required import binary_or_skip

BINARY = binary_or_skip("compare the simulator with")

from firmware_bridge import mission_protocol  # noqa: E402
from firmware_bridge.link import connect  # noqa: E402
from missions.mission import MissionItem  # noqa: E402

SPEEDUP = 5.0
READY_TIMEOUT_S = 60.0
# Scenarios a running vehicle can replay (13-arming and 15-reboot start from boot).
SCENARIOS = ["03-upload-ok", "04-count-zero", "05-out-of-sequence", "06-duplicate-item",
             "07-timeout", "08-bad-items", "09-no-space", "10-fence-rally", "11-set-current",
             "12-clear-all", "02-params"]
COMPARED = ("answers", "broadcast")
# The version banner names the build (its git hash and a board id): not behaviour.
BUILD_TEXT = re.compile(r"^ArduCopter V[\d.]+-\w+ \([0-9a-f]{8}\)$|^[0-9a-fA-F]{32}$")


def without_build(entries: list) -> list:
    """Stream entries with the build's git hash and board id in STATUSTEXTs masked."""
    masked = []
    for entry in entries:
        if entry[0] == "STATUSTEXT" and BUILD_TEXT.match(entry[2]):
            entry = (*entry[:2], "<build banner>")
        masked.append(entry)
    return masked


class LiveSitl:
    """A running SITL seen as the replay wants a vehicle: its TCP port, simulated seconds
    (wall time x speedup) and a way to preload a mission (through the monitor port)."""

    def __init__(self, sitl, speedup: float) -> None:
        self.port = int(sitl.address.rsplit(":", 1)[1])
        self.boot_at_s = 0.0
        self._speedup = speedup
        self._started = time.monotonic()
        # SITL opens its second client port only once the first has had a client
        connect(sitl.address, heartbeat_timeout_s=30.0).close()
        self.setup = connect(sitl.monitor_address, source_component=191,
                             heartbeat_timeout_s=30.0)

    def now_s(self) -> float:
        return (time.monotonic() - self._started) * self._speedup

    def reset(self) -> None:
        """Empty mission, fence and rally, as on the fresh SITL of each recording."""
        for mission_type in (0, 1, 2):
            mission_protocol.clear(self.setup, mission_type=mission_type)

    def store_mission(self, mission_type: int, items: list) -> None:
        sent = [MissionItem(seq=i, frame=it.frame, command=it.command, param1=it.param1,
                            param2=it.param2, param3=it.param3, param4=it.param4, x=it.x,
                            y=it.y, z=it.z, autocontinue=it.autocontinue,
                            mission_type=mission_type) for i, it in enumerate(items)]
        mission_protocol.upload(self.setup, sent, mission_type=mission_type)


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    with launch_sitl(BINARY, home=(31.5204, 74.3587, 215.0), speedup=SPEEDUP, instance=14,
                     workdir=tmp_path_factory.mktemp("sitl-conformance")) as sitl:
        vehicle = LiveSitl(sitl, SPEEDUP)
        try:
            yield vehicle
        finally:
            vehicle.setup.close()


@pytest.mark.parametrize("name", SCENARIOS)
def test_simulator_answers_as_the_live_sitl_does(live, name):
    live.reset()
    on_sitl = compared_streams(name, replay_against(name, live, SPEEDUP, READY_TIMEOUT_S))
    on_sim = compared_streams(name, replay_on_simulator(name, SPEEDUP))
    for stream in COMPARED:
        sim, real = without_build(on_sim.get(stream, [])), without_build(on_sitl.get(stream, []))
        assert sim == real, (
            f"{name}: stream {stream!r}: simulator {sim} != SITL {real}")

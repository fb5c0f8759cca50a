"""Conformance: replay the ground-station side of every recorded protocol scenario against the
simulator over TCP and check it answers as ArduCopter SITL did.

What is compared, per scenario, restricted to the vehicle message types the scenario recorded:

* answers — MISSION_REQUEST / MISSION_ACK / MISSION_COUNT / MISSION_ITEM_INT (seq, mission
  type, result code, command, frame, position), COMMAND_ACK (command, result), PARAM_VALUE
  (name, value, type, index), STATUSTEXT (severity, text), HOME_POSITION, MESSAGE_INTERVAL:
  the same sequence in the same order;
* unsolicited PARAM_VALUE broadcasts (MIS_TOTAL, FENCE_TOTAL, RALLY_TOTAL): same sequence;
* boot STATUSTEXTs and periodic "PreArm:" reports: same sequence (the EKF cores' IMU0/IMU1
  messages come in either order on the real vehicle, so the core number is ignored);
* HEARTBEAT (base_mode, custom_mode, system_status): same sequence of changes;
* MISSION_CURRENT: every recorded change, in order (a 2 Hz stream sampled at a 20 times faster
  clock also catches the states an upload passes through, which the recording sampled past).

Independent streams interleave by timing on a real vehicle, so each is compared on its own.
Telemetry values and timing are not compared. STAT_RUNTIME broadcasts (SITL's run-time
statistics, not simulated) are left out. The replay runs at speedup 20: each ground-station
message goes out at its recorded simulated time and only after the vehicle has sent every answer
recorded before it; times are read from the simulator's own clock.
"""

from __future__ import annotations

import re
import time

import pytest
import transcripts
from pymavlink.dialects.v20 import ardupilotmega as mavlink
from sim_gcs import Gcs

from sim.boot import BOOT_TEXTS
from sim.mission_server import MISSION, item_from_message
from sim.vehicle import SimVehicle

SPEEDUP = 5.0  # the re-request timer (1 s) is 200 ms of wall time: room for a loaded machine
ANSWER_WAIT_S = 3.0
PROTOCOL_SCENARIOS = [
    "02-params", "03-upload-ok", "04-count-zero", "05-out-of-sequence", "06-duplicate-item",
    "07-timeout", "08-bad-items", "09-no-space", "10-fence-rally", "11-set-current",
    "12-clear-all", "13-arming", "15-reboot",
]
ANSWER_TYPES = {
    "MISSION_REQUEST", "MISSION_ACK", "MISSION_COUNT", "MISSION_ITEM_INT", "MISSION_ITEM",
    "COMMAND_ACK", "PARAM_VALUE", "STATUSTEXT", "HOME_POSITION", "MESSAGE_INTERVAL",
    "AUTOPILOT_VERSION", "MISSION_ITEM_REACHED",
}
BROADCAST_PARAMS = {"MIS_TOTAL", "FENCE_TOTAL", "RALLY_TOTAL"}
BOOT_TEXT_PREFIXES = tuple(text.split("{")[0] for _, _, text in BOOT_TEXTS)

pytestmark = pytest.mark.skipif(
    not transcripts.available(), reason=f"no transcripts in {transcripts.transcript_dir()}")


def channel(kind: str, f: dict) -> str | None:
    """Which independently ordered stream a vehicle message belongs to (None: not compared)."""
    if kind == "HEARTBEAT":
        return "heartbeat"
    if kind == "MISSION_CURRENT":
        return "mission_current"
    if kind == "PARAM_VALUE" and f["param_id"] in BROADCAST_PARAMS:
        return "broadcast"
    if kind == "PARAM_VALUE" and f["param_id"].startswith("STAT_"):
        return None
    if kind == "STATUSTEXT" and (f["text"].startswith(BOOT_TEXT_PREFIXES)
                                 or f["text"].startswith("PreArm:")):
        return "boot"
    return "answers" if kind in ANSWER_TYPES else None


def key(kind: str, f: dict) -> tuple:
    """The parts of a vehicle message that must match the recording."""
    if kind in ("MISSION_REQUEST", "MISSION_COUNT"):
        return kind, f.get("seq", f.get("count")), f["mission_type"]
    if kind == "MISSION_ACK":
        return kind, f["type"], f["mission_type"]
    if kind in ("MISSION_ITEM_INT", "MISSION_ITEM"):
        return (kind, f["seq"], f["mission_type"], f["command"], f["frame"], f["x"], f["y"],
                round(f["z"], 2), f["param1"], f["param2"])
    if kind == "COMMAND_ACK":
        return kind, f["command"], f["result"]
    if kind == "PARAM_VALUE":
        return kind, f["param_id"], f["param_value"], f["param_type"], f["param_index"]
    if kind == "STATUSTEXT":
        return kind, f["severity"], re.sub(r"IMU\d", "IMU#", f["text"])
    if kind == "HEARTBEAT":
        return kind, f["base_mode"], f["custom_mode"], f["system_status"]
    if kind == "MISSION_CURRENT":
        return kind, f["seq"], f["total"], f["mission_state"], f["mission_mode"]
    if kind == "MESSAGE_INTERVAL":
        return kind, f["message_id"]
    return (kind,)


def _fields(msg) -> dict:
    d = msg.to_dict()
    if isinstance(d.get("param_id"), bytes):
        d["param_id"] = d["param_id"].decode()
    return d


def streams(pairs: list[tuple[str, dict]], types: set[str], max_index: int) -> dict[str, list]:
    """Split (type, fields) pairs into compared streams; changes only for heartbeat/current."""
    out: dict[str, list] = {}
    for kind, f in pairs:
        if kind not in types:
            continue
        if kind == "PARAM_VALUE" and f["param_index"] != 65535 and f["param_index"] > max_index:
            continue  # the recording kept only the first PARAM_VALUEs of a PARAM_REQUEST_LIST
        name = channel(kind, f)
        if name is None:
            continue
        entry = key(kind, f)
        seq = out.setdefault(name, [])
        if name in ("heartbeat", "mission_current") and seq and seq[-1] == entry:
            continue
        seq.append(entry)
    return out


def _wait(condition, timeout_s: float, gcs: Gcs | None = None) -> None:
    """Wait for ``condition``; reconnect ``gcs`` at once if the vehicle closed the link."""
    deadline = time.monotonic() + timeout_s
    while not condition() and time.monotonic() < deadline:
        if gcs is not None and gcs.closed:
            gcs.connect()
        time.sleep(0.002)


def _answers_received(gcs: Gcs) -> int:
    return sum(1 for m in gcs.messages() if channel(m.get_type(), _fields(m)) == "answers")


def _bring_up(gcs: Gcs, speedup: float, ready_timeout_s: float = 10.0) -> None:
    """The recorded setup: GCS heartbeat, the usual streams, wait until ready (then 2 s)."""
    gcs.send(mavlink.MAVLink_heartbeat_message(6, 8, 0, 0, 4, 3))
    for stream, rate in ((1, 2), (2, 2), (3, 2), (6, 3), (10, 10), (11, 10), (12, 3)):
        gcs.send(mavlink.MAVLink_request_data_stream_message(1, 1, stream, rate, 1))
    ready = gcs.wait_for(lambda m: m.get_type() == "SYS_STATUS"
                         and m.onboard_control_sensors_health & 0x10000000,
                         timeout_s=ready_timeout_s)
    assert ready is not None, "the vehicle never became ready to arm"
    time.sleep(2.0 / speedup)


def preloaded(header: dict) -> list:
    """The scenario's preloaded mission as simulator items (empty when it has none)."""
    return [item_from_message(transcripts.to_message(transcripts.Line(
        0.0, transcripts.GCS_TO_VEHICLE, "MISSION_ITEM_INT",
        {"target_system": 1, "target_component": 1, "mission_type": 0, **it})))
        for it in header.get("preloaded_mission", [])]


def replay_against(name: str, vehicle, speedup: float, ready_timeout_s: float = 10.0
                   ) -> list[tuple[str, dict]]:
    """Send the ground-station side of scenario ``name`` to ``vehicle`` (anything with
    ``port``, ``now_s()`` in simulated seconds, ``boot_at_s`` and ``store_mission``: the
    simulator or a live SITL running ``speedup`` times real time); returns the vehicle
    messages received, as (type, fields)."""
    script = transcripts.load(name)
    header = script.header
    from_boot = name.startswith("13")
    gcs = Gcs(vehicle.port)
    try:
        if not from_boot:
            _bring_up(gcs, speedup, ready_timeout_s)
        if "preloaded_mission" in header:
            vehicle.store_mission(MISSION, preloaded(header))
            time.sleep(1.0 / speedup)
        gcs.clear()
        if from_boot:
            _wait(lambda: gcs.messages({"HEARTBEAT"}), 5.0)
        start = vehicle.boot_at_s if from_boot else vehicle.now_s()
        answers_before = 0
        for line in script.lines:
            if not line.from_gcs:
                if channel(line.type, line.fields) == "answers":
                    answers_before += 1
                continue
            _wait(lambda line=line: vehicle.now_s() - start >= line.t, 60.0, gcs)
            _wait(lambda n=answers_before: _answers_received(gcs) >= n, ANSWER_WAIT_S, gcs)
            gcs.send(transcripts.to_message(line))
        _wait(lambda: vehicle.now_s() - start >= header["duration_t"], 60.0, gcs)
        _wait(lambda: _answers_received(gcs) >= answers_before, ANSWER_WAIT_S)
        time.sleep(0.5 / speedup)
        return [(m.get_type(), _fields(m)) for m in gcs.messages()]
    finally:
        gcs.close()


def compared_streams(name: str, received: list[tuple[str, dict]] | None = None
                     ) -> dict[str, list]:
    """The compared streams of scenario ``name``: as recorded, or of ``received``."""
    script = transcripts.load(name)
    types = script.recorded_vehicle_types()
    indices = [ln.fields["param_index"] for ln in script.vehicle_lines({"PARAM_VALUE"})
               if ln.fields["param_index"] != 65535]
    max_index = max(indices, default=-1)
    if received is None:
        received = [(ln.type, ln.fields) for ln in script.vehicle_lines()]
    return streams(received, types, max_index)


def replay_on_simulator(name: str, speedup: float = SPEEDUP) -> list[tuple[str, dict]]:
    """Scenario ``name`` replayed on a fresh simulator running ``speedup`` times real time;
    the vehicle messages received."""
    from_boot = name.startswith("13")
    boot_scale = 1.0 if (from_boot or name.startswith("15")) else 0.02
    vehicle = SimVehicle(speedup=speedup, boot_scale=boot_scale,
                         home=(31.5204, 74.3587, 215.1))
    vehicle.start()
    try:
        return replay_against(name, vehicle, speedup)
    finally:
        vehicle.stop()


def replay(name: str) -> tuple[dict, dict]:
    """Replay scenario ``name``; returns (expected streams, streams the simulator produced)."""
    return compared_streams(name), compared_streams(name, replay_on_simulator(name))


def is_subsequence(wanted: list, got: list) -> bool:
    """True when ``wanted`` appears in ``got`` in order (other entries may lie between)."""
    remaining = iter(got)
    return all(any(entry == g for g in remaining) for entry in wanted)


@pytest.mark.parametrize("name", PROTOCOL_SCENARIOS)
def test_vehicle_answers_like_arducopter_sitl(name):
    expected, actual = replay(name)
    for stream_name, wanted in expected.items():
        got = actual.get(stream_name, [])
        if stream_name == "mission_current":
            assert is_subsequence(wanted, got), f"{name}: MISSION_CURRENT {got} lacks {wanted}"
        else:
            assert got == wanted, f"{name}: stream {stream_name!r} differs"
    for stream_name in set(actual) - set(expected):
        assert not actual[stream_name], f"{name}: unexpected {stream_name!r} messages"

"""The simulator on the wire beyond the recorded scenarios: link behaviour, options, fault
injection, a whole spray flight through MAVLink, and the ``agridrone sim`` command."""

from __future__ import annotations

import os
import select
import signal
import socket
import subprocess
import sys
import time

import pytest
import transcripts
from pymavlink.dialects.v20 import ardupilotmega as mavlink
from sim_gcs import Gcs

from sim.faults import Faults
from sim.link import TcpServerLink
from sim.vehicle import SimVehicle

FAST = {"speedup": 20.0, "boot_scale": 0.02}


def hello(gcs: Gcs, streams: bool = True) -> None:
    """Speak first (HEARTBEAT) and optionally ask for the usual telemetry streams."""
    gcs.send(mavlink.MAVLink_heartbeat_message(6, 8, 0, 0, 4, 3))
    if streams:
        for stream, rate in ((2, 2), (3, 4), (6, 4), (12, 2)):
            gcs.send(mavlink.MAVLink_request_data_stream_message(1, 1, stream, rate, 1))


def wait_ready(gcs: Gcs) -> None:
    msg = gcs.wait_for(lambda m: m.get_type() == "SYS_STATUS"
                       and m.onboard_control_sensors_health & 0x10000000, timeout_s=10.0)
    assert msg is not None


def command(gcs: Gcs, cmd: int, *params: float):
    """Send COMMAND_LONG ``cmd`` and return its COMMAND_ACK."""
    p = list(params) + [0.0] * (7 - len(params))
    before = len(gcs.messages())
    gcs.send(mavlink.MAVLink_command_long_message(1, 1, cmd, 0, *p))
    ack = None
    deadline = time.monotonic() + 5.0
    while ack is None and time.monotonic() < deadline:
        ack = next((m for m in gcs.messages()[before:]
                    if m.get_type() == "COMMAND_ACK" and m.command == cmd), None)
        time.sleep(0.005)
    assert ack is not None, f"no COMMAND_ACK for {cmd}"
    return ack


@pytest.fixture
def vehicle():
    with SimVehicle(**FAST) as v:
        yield v


def test_only_heartbeat_until_the_gcs_speaks_then_telemetry_on_request(vehicle):
    gcs = Gcs(vehicle.port)
    try:
        time.sleep(0.3)  # 6 simulated seconds
        assert {m.get_type() for m in gcs.messages()} == {"HEARTBEAT"}
        hello(gcs, streams=False)
        time.sleep(0.3)
        assert not gcs.messages({"GLOBAL_POSITION_INT", "SYS_STATUS"})
        hello(gcs)
        assert gcs.wait_for(lambda m: m.get_type() == "GLOBAL_POSITION_INT") is not None
        hb = gcs.messages({"HEARTBEAT"})[-1]
        assert (hb.type, hb.autopilot) == (mavlink.MAV_TYPE_QUADROTOR,
                                           mavlink.MAV_AUTOPILOT_ARDUPILOTMEGA)
        assert hb.get_srcSystem() == 1 and hb.get_srcComponent() == 1
    finally:
        gcs.close()


def test_message_interval_and_request_message(vehicle):
    gcs = Gcs(vehicle.port)
    try:
        hello(gcs, streams=False)
        assert command(gcs, 511, mavlink.MAVLINK_MSG_ID_ATTITUDE, 250000).result == 0
        assert command(gcs, 510, mavlink.MAVLINK_MSG_ID_ATTITUDE).result == 0
        interval = gcs.wait_for(lambda m: m.get_type() == "MESSAGE_INTERVAL")
        assert (interval.message_id, interval.interval_us) == (30, 250000)
        assert gcs.wait_for(lambda m: m.get_type() == "ATTITUDE") is not None
        assert command(gcs, 511, 9999, 1000).result == mavlink.MAV_RESULT_FAILED
        assert command(gcs, 512, mavlink.MAVLINK_MSG_ID_AUTOPILOT_VERSION).result == 0
        version = gcs.wait_for(lambda m: m.get_type() == "AUTOPILOT_VERSION")
        assert version.flight_sw_version == 0x04070000
        assert bytes(version.flight_custom_version) == b"90700977"
        assert command(gcs, 31999).result == mavlink.MAV_RESULT_UNSUPPORTED
    finally:
        gcs.close()


def test_a_ground_station_that_stops_reading_keeps_its_link_and_whole_packets():
    """A GCS that falls behind (a busy machine) is not disconnected and gets no torn packets:
    once the socket is full the vehicle's end drops whole packets (ArduPilot drops a message
    its port has no room for), and every frame the GCS then reads parses."""
    link = TcpServerLink("127.0.0.1", 0, send_buffer_bytes=4096)
    gcs = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    gcs.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    try:
        gcs.connect(("127.0.0.1", link.port))
        deadline = time.monotonic() + 5.0
        while not link.connected and time.monotonic() < deadline:
            link.poll(0.01)
        mav = mavlink.MAVLink(None, srcSystem=1, srcComponent=1)
        sent = [mav.global_position_int_encode(i, i, -i, 1000, 500, 0, 0, 0, 0).pack(mav)
                for i in range(20_000)]
        for packet in sent:
            link.send(packet)
        assert link.connected and link.dropped_packets > 0
        parser = mavlink.MAVLink(None)
        parser.robust_parsing = True
        received, deadline = [], time.monotonic() + 5.0
        while len(received) < len(sent) - link.dropped_packets and time.monotonic() < deadline:
            link.poll(0.001)
            readable, _, _ = select.select([gcs], [], [], 0.01)
            if readable:
                chunk = gcs.recv(65536)
                assert chunk, "the vehicle's end closed the link of a slow reader"
                received += parser.parse_buffer(chunk) or []
        assert len(received) == len(sent) - link.dropped_packets
        assert {m.get_type() for m in received} == {"GLOBAL_POSITION_INT"}
        boot_ms = [m.time_boot_ms for m in received]
        assert boot_ms == sorted(boot_ms) and boot_ms[0] == 0  # in order, from the first
    finally:
        gcs.close()
        link.close()


def test_udp_transport_answers_the_sender():
    with SimVehicle(transport="udp", **FAST) as v:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.settimeout(0.2)
        mav = mavlink.MAVLink(None, srcSystem=255, srcComponent=190)
        parser = mavlink.MAVLink(None)
        try:
            sock.sendto(mavlink.MAVLink_heartbeat_message(6, 8, 0, 0, 4, 3).pack(mav),
                        ("127.0.0.1", v.port))
            sock.sendto(mavlink.MAVLink_param_request_read_message(
                1, 1, b"SPRAY_ENABLE", -1).pack(mav), ("127.0.0.1", v.port))
            found = None
            deadline = time.monotonic() + 5.0
            while found is None and time.monotonic() < deadline:
                try:
                    data = sock.recv(65536)
                except TimeoutError:
                    continue
                for msg in parser.parse_buffer(data) or []:
                    if msg.get_type() == "PARAM_VALUE":
                        found = msg
            assert found is not None and found.param_id == "SPRAY_ENABLE"
        finally:
            sock.close()


def test_mission_limit_and_timeout_scale_options():
    with SimVehicle(mission_limit=5, timeout_scale=0.1, **FAST) as v:
        gcs = Gcs(v.port)
        try:
            hello(gcs, streams=False)
            # a booting ArduPilot refuses every mission ("Only 0 items are supported")
            assert gcs.wait_for(lambda m: m.get_type() == "HEARTBEAT" and m.system_status != 1)
            gcs.send(mavlink.MAVLink_mission_count_message(1, 1, 6, 0))
            ack = gcs.wait_for(lambda m: m.get_type() == "MISSION_ACK")
            assert ack.type == mavlink.MAV_MISSION_NO_SPACE
            text = gcs.wait_for(lambda m: m.get_type() == "STATUSTEXT" and "supported" in m.text)
            assert text.text == "Only 5 items are supported"
            gcs.clear()
            gcs.send(mavlink.MAVLink_mission_count_message(1, 1, 3, 0))
            ack = gcs.wait_for(lambda m: m.get_type() == "MISSION_ACK", timeout_s=5.0)
            assert ack.type == mavlink.MAV_MISSION_OPERATION_CANCELLED  # 0.8 s of silence
            requests = [m.seq for m in gcs.messages({"MISSION_REQUEST"})]
            assert requests == [0] * 8  # first request, then re-requested every 0.1 s
        finally:
            gcs.close()


def test_injected_reboot_closes_the_link_and_boots_again():
    with SimVehicle(faults=Faults(reboot_at_s=4.0), speedup=20.0, boot_scale=1.0) as v:
        gcs = Gcs(v.port)
        try:
            hello(gcs)
            deadline = time.monotonic() + 5.0
            while not gcs.closed and time.monotonic() < deadline:
                time.sleep(0.01)
            assert gcs.closed
            gcs.clear()
            gcs.connect()
            hb = gcs.wait_for(lambda m: m.get_type() == "HEARTBEAT")
            assert hb.system_status == mavlink.MAV_STATE_BOOT
        finally:
            gcs.close()


def test_link_drop_silences_both_ways_then_recovers():
    faults = Faults(drop_link_at_s=2.0, drop_link_for_s=20.0)
    with SimVehicle(faults=faults, **FAST) as v:
        gcs = Gcs(v.port)
        try:
            hello(gcs)
            deadline = time.monotonic() + 5.0
            while not gcs.closed and time.monotonic() < deadline:
                time.sleep(0.01)
            assert gcs.closed
            gcs.clear()
            gcs.connect()
            time.sleep(0.2)  # 4 s into a 20 s outage
            assert not gcs.messages()
            assert gcs.wait_for(lambda m: m.get_type() == "HEARTBEAT", timeout_s=5.0) is not None
        finally:
            gcs.close()


def _param_answers(faults: Faults, requests: int) -> list:
    with SimVehicle(faults=faults, seed=7, **FAST) as v:
        gcs = Gcs(v.port)
        try:
            hello(gcs, streams=False)
            time.sleep(0.05)
            for index in range(requests):
                gcs.send(mavlink.MAVLink_param_request_read_message(1, 1, b"", index))
            time.sleep(0.5)
            return [m.param_index for m in gcs.messages({"PARAM_VALUE"})]
        finally:
            gcs.close()


def test_packet_loss_loses_some_packets_not_all():
    answers = _param_answers(Faults(loss_pct=30.0), 60)
    assert 10 < len(set(answers)) < 55  # ~49 % expected: 30 % each way


def test_duplication_doubles_packets_both_ways():
    answers = _param_answers(Faults(duplicate_pct=100.0), 10)
    assert sorted(answers) == sorted(list(range(10)) * 4)


def test_latency_delays_answers():
    with SimVehicle(faults=Faults(latency_s=4.0), speedup=10.0, boot_scale=0.02) as v:
        gcs = Gcs(v.port)
        try:
            hello(gcs, streams=False)
            gcs.send(mavlink.MAVLink_param_request_read_message(1, 1, b"", 0))
            time.sleep(0.2)  # 2 simulated seconds: not even half the round trip
            assert not gcs.messages({"PARAM_VALUE"})
            assert gcs.wait_for(lambda m: m.get_type() == "PARAM_VALUE", timeout_s=5.0)
        finally:
            gcs.close()


def upload(gcs: Gcs, items: list[dict]) -> None:
    """Upload mission ``items`` (MISSION_ITEM_INT fields) answering MISSION_REQUESTs."""
    gcs.clear()
    gcs.send(mavlink.MAVLink_mission_count_message(1, 1, len(items), 0))
    sent = 0
    deadline = time.monotonic() + 10.0
    while time.monotonic() < deadline:
        msgs = gcs.messages({"MISSION_REQUEST", "MISSION_ACK"})
        if msgs and msgs[-1].get_type() == "MISSION_ACK":
            assert msgs[-1].type == 0
            return
        if len(msgs) > sent:
            seq = msgs[-1].seq
            gcs.send(mavlink.MAVLink_mission_item_int_message(
                1, 1, **{**items[seq], "seq": seq}, mission_type=0))
            sent = len(msgs)
        time.sleep(0.002)
    raise AssertionError("upload did not finish")


@pytest.mark.skipif(not transcripts.available(), reason="no transcripts")
def test_spray_flight_over_mavlink_like_transcript_14():
    script = transcripts.load("14-flight-spray")
    items = script.header["uploaded_items"]
    with SimVehicle(speedup=50.0, boot_scale=0.02) as v:
        gcs = Gcs(v.port)
        try:
            hello(gcs)
            wait_ready(gcs)
            for name, value, kind in (("SPRAY_ENABLE", 1, 2), ("SERVO9_FUNCTION", 22, 4),
                                      ("SERVO10_FUNCTION", 23, 4)):
                gcs.send(mavlink.MAVLink_param_set_message(1, 1, name.encode(), value, kind))
            upload(gcs, [{k: v for k, v in it.items() if k != "seq"} for it in items])
            assert command(gcs, 176, 1, 4).result == 0
            assert command(gcs, 400, 1).result == 0
            assert command(gcs, 300).result == 0
            landed = gcs.wait_for(lambda m: m.get_type() == "HEARTBEAT" and m.custom_mode == 3
                                  and not m.base_mode & 128, timeout_s=30.0)
            assert landed is not None, "the vehicle did not finish the mission"
            time.sleep(0.05)
            reached = [m.seq for m in gcs.messages({"MISSION_ITEM_REACHED"})]
            recorded = [ln.fields["seq"] for ln in script.vehicle_lines({"MISSION_ITEM_REACHED"})]
            assert reached == recorded
            pumps = [m.servo9_raw for m in gcs.messages({"SERVO_OUTPUT_RAW"})]
            assert max(pumps) == 1500 and pumps[0] == 0 and pumps[-1] == 1100
            statuses = {m.system_status for m in gcs.messages({"HEARTBEAT"})}
            assert mavlink.MAV_STATE_ACTIVE in statuses
            consumed = [m.current_consumed for m in gcs.messages({"BATTERY_STATUS"})]
            assert consumed[-1] > consumed[0]
            liquid_l, tank_l = v.call(lambda veh: (veh.flight.battery.liquid_l,
                                                   veh.flight.drone.tank_l))
            assert liquid_l < tank_l
        finally:
            gcs.close()


def _ctrl_c_as_from_a_shell() -> None:
    """In the child before exec: SIGINT delivered and at its default, as a shell starts a
    command (a child inherits an ignored or blocked signal from the test process)."""
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_agridrone_sim_prints_its_address_and_stops_on_ctrl_c():
    # the full suite twice left `agridrone sim` running 10-30 s after SIGINT, never alone:
    # the test process's own SIGINT state is named if it happens again
    inherited = (signal.getsignal(signal.SIGINT), signal.pthread_sigmask(signal.SIG_BLOCK, []))
    proc = subprocess.Popen(
        [sys.executable, "-c", "from agridrone.cli import main; main()", "sim", "--port", "0",
         "--speedup", "5", "--seed", "3", "--home", "31.5,74.3,200"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"}, preexec_fn=_ctrl_c_as_from_a_shell)
    try:
        line = proc.stdout.readline()
        assert line.startswith("simulated vehicle listening on tcp:127.0.0.1:")
        port = int(line.split("tcp:127.0.0.1:")[1].split()[0])
        gcs = Gcs(port)
        assert gcs.wait_for(lambda m: m.get_type() == "HEARTBEAT") is not None
        gcs.close()
        proc.send_signal(signal.SIGINT)
        try:
            assert proc.wait(timeout=30) == 0
        except subprocess.TimeoutExpired:
            pytest.fail(f"agridrone sim still running 30 s after SIGINT; the test process's "
                        f"SIGINT handler and blocked signals: {inherited}")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_agridrone_sim_refuses_a_bad_home():
    proc = subprocess.run(
        [sys.executable, "-c", "from agridrone.cli import main; main()", "sim", "--home", "1,2"],
        capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: --home must be LAT,LON,ALT")


@pytest.mark.skipif(not transcripts.available(), reason="no transcripts")
def test_forced_battery_failsafe_returns_and_refuses_to_rearm_like_transcript_16():
    items = transcripts.load("14-flight-spray").header["uploaded_items"]
    with SimVehicle(speedup=50.0, boot_scale=0.02) as v:
        gcs = Gcs(v.port)
        try:
            hello(gcs)
            wait_ready(gcs)
            gcs.send(mavlink.MAVLink_param_request_read_message(1, 1, b"BATT_CAPACITY", -1))
            capacity = gcs.wait_for(lambda m: m.get_type() == "PARAM_VALUE"
                                    and m.param_id == "BATT_CAPACITY").param_value
            for name, value, kind in (("BATT_FS_LOW_ACT", 2, 9), ("BATT_LOW_MAH", capacity - 1500, 9),
                                      ("SPRAY_ENABLE", 1, 2), ("SERVO9_FUNCTION", 22, 4)):
                gcs.send(mavlink.MAVLink_param_set_message(1, 1, name.encode(), value, kind))
            upload(gcs, [{k: v for k, v in it.items() if k != "seq"} for it in items])
            assert command(gcs, 176, 1, 4).result == 0
            assert command(gcs, 400, 1).result == 0
            assert command(gcs, 300).result == 0
            failsafe = gcs.wait_for(lambda m: m.get_type() == "HEARTBEAT" and m.custom_mode == 6,
                                    timeout_s=30.0)
            assert failsafe is not None and failsafe.system_status == mavlink.MAV_STATE_CRITICAL
            texts = [m.text for m in gcs.messages({"STATUSTEXT"})]
            assert "Battery Failsafe" in texts
            landed = gcs.wait_for(lambda m: m.get_type() == "HEARTBEAT" and m.custom_mode == 6
                                  and not m.base_mode & 128, timeout_s=30.0)
            assert landed is not None and landed.system_status == mavlink.MAV_STATE_CRITICAL
            breakpoint_seq = gcs.messages({"MISSION_CURRENT"})[-1]
            assert 1 < breakpoint_seq.seq < 19 and breakpoint_seq.mission_state == 4
            gcs.clear()
            assert command(gcs, 176, 1, 4).result == 0
            assert command(gcs, 400, 1).result == mavlink.MAV_RESULT_FAILED
            refusal = gcs.wait_for(lambda m: m.get_type() == "STATUSTEXT"
                                   and m.text == "Arm: Battery failsafe")
            assert refusal is not None and refusal.severity == 2
        finally:
            gcs.close()


def test_servo_output_time_wraps_like_the_autopilots_after_71_minutes():
    """SERVO_OUTPUT_RAW's time_usec is uint32: past 4,294.97 s of flight it wraps instead of
    stopping the simulated vehicle (seen on a loaded machine in a sped-up simulate run)."""
    from sim.vehicle import SimVehicle

    with SimVehicle(port=0, boot_scale=0.01) as sim:
        message = sim._msg_servo_output_raw(5000.0)
        assert message.time_usec == 5_000_000_000 - 2**32
        message.pack(sim._mav)  # raised struct.error before

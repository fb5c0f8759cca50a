"""A simulated ArduCopter that speaks MAVLink 2 like ArduPilot SITL, in a background thread.

Usage::

    with SimVehicle(port=0, speedup=10) as vehicle:
        port = vehicle.port            # connect a GCS to tcp:127.0.0.1:<port>

The vehicle is sysid 1 (or ``sysid``, its SYSID_THISMAV) / compid 1, QUADROTOR / ARDUPILOTMEGA;
like ArduPilot it ignores messages addressed to another system. Everything the wire shows follows
the recorded ArduCopter 4.7 transcripts in ../shared/sitl-transcripts/: HEARTBEAT only until the
GCS speaks, telemetry only after REQUEST_DATA_STREAM / SET_MESSAGE_INTERVAL, the mission
protocol of :mod:`sim.mission_server` and its files over MAVLink FTP (:mod:`sim.ftp_server`),
parameters of :mod:`sim.params`, the boot timeline of :mod:`sim.boot`, flight of
:mod:`sim.flight`. Time is simulated: ``speedup`` simulated seconds
pass per wall second, and every timeout (protocol, boot, flight) runs on simulated time.
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections.abc import Callable
from pathlib import Path

from pymavlink.dialects.v20 import ardupilotmega as mavlink

from agridrone.drone import DroneProfile
from missions.mission import MissionItem
from sim import telemetry
from sim.boot import BootTimeline
from sim.faults import Faults, FaultyPipe
from sim.flight import FlightController
from sim.ftp_server import FtpServer, MissionServerStore
from sim.link import TcpServerLink, UdpLink
from sim.mission_server import FENCE, MISSION, RALLY, MissionServer, fence_total, home_item
from sim.params import COPTER_PARM, ParamStore

DEFAULT_HOME = (31.5204, 74.3587, 215.1)
FIRMWARE_VERSION = 0x04070000  # 4.7.0 dev, as the recorded SITL
GIT_HASH = b"90700977"
BANNER = ("ArduCopter V4.7.0-dev (90700977)", "3d1219c7c4c5404aaa1f6d2a48adfda4", "Frame: QUAD/PLUS")
HEARTBEAT_PERIOD_S = 1.0
FIRST_HEARTBEAT_S = 0.92
REBOOT_CLOSE_DELAY_S = 0.2  # ACK, then the TCP connection closes (15-reboot: 0.2 s)
REBOOT_RESTART_S = 0.29  # the firmware restarts this long after the close (first HEARTBEAT 0.92 s later)
LOOP_WAIT_S = 0.002
PHYSICS_DT_S = 0.02
PARAM_INDEX_NONE = 65535
MAV_SYS_STATUS_PREARM_CHECK = 0x10000000
SENSORS_PRESENT = 1399979055
SENSORS_ENABLED = 1380031535
SENSORS_HEALTH = 1196530735
ARM_DISARM_FORCE = 21196
FTP_MODES = ("serve", "absent", "refuse", "break")
FTP_BREAK_AFTER_WRITES = 5


class SimVehicle:
    """The simulated copter. ``start()`` binds and runs it; ``stop()`` ends the thread.

    host/port/transport: where it listens ("tcp" serves one GCS and accepts a reconnect,
    "udp" answers whoever sent last); port 0 picks a free port. speedup: simulated seconds per
    wall second. seed: seeds fault injection and sensor noise. home: (lat deg, lon deg,
    altitude m AMSL). mission_limit: items the mission store holds (650 as SITL).
    boot_scale: multiplies the boot timeline (1.0 = SITL's 41 s to a position estimate).
    timeout_scale: multiplies the mission protocol's 1 s re-request and 8 s timeout.
    faults: injected link faults. param_files: ``.parm`` files, copter defaults first.
    wind: (speed m/s, direction it blows from, degrees), used by the energy model.
    drone: the airframe and battery the energy model flies (agridrone's default preset when
    None); liquid_l: litres in the tank at power-on (a full tank when None).
    ftp: MAVLink FTP of the ``@MISSION`` files: "serve" (ArduPilot 4.1+), "absent" (no answer
    at all), "refuse" (FTP without mission files: NAK FileNotFound), "break" (after the 5th
    WriteFile since boot, FTP answers nothing more until a reboot: a transfer broken mid-way).
    sysid: its MAVLink system id (SYSID_THISMAV, 1..255).
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, transport: str = "tcp",
                 speedup: float = 1.0, seed: int = 0,
                 home: tuple[float, float, float] = DEFAULT_HOME, mission_limit: int = 650,
                 boot_scale: float = 1.0, timeout_scale: float = 1.0,
                 faults: Faults | None = None,
                 param_files: tuple[Path, ...] = (COPTER_PARM,),
                 wind: tuple[float, float] = (0.0, 0.0), drone: DroneProfile | None = None,
                 liquid_l: float | None = None, ftp: str = "serve", sysid: int = 1) -> None:
        if transport not in ("tcp", "udp"):
            raise ValueError(f"transport must be 'tcp' or 'udp', got {transport!r}")
        if ftp not in FTP_MODES:
            raise ValueError(f"ftp must be one of {FTP_MODES}, got {ftp!r}")
        if not speedup > 0 or not boot_scale > 0 or not timeout_scale > 0:
            raise ValueError("speedup, boot_scale and timeout_scale must be positive")
        if not 1 <= sysid <= 255:
            raise ValueError(f"sysid must be 1-255, got {sysid}")
        self.host, self._requested_port, self.transport = host, port, transport
        self.speedup = float(speedup)
        self.seed = seed
        self.home = home
        self.boot_scale = boot_scale
        self.faults = faults or Faults()
        self.params = ParamStore(tuple(param_files))
        self.sysid = sysid
        self.params.set("SYSID_THISMAV", sysid)
        self._rng = random.Random(seed)
        self._lock = threading.RLock()
        self._thread: threading.Thread | None = None
        self._running = threading.Event()
        self._link: TcpServerLink | UdpLink | None = None
        self._mav = mavlink.MAVLink(None, srcSystem=sysid, srcComponent=1)
        self._parser = mavlink.MAVLink(None)
        self._outgoing = FaultyPipe(self.faults, self._rng)
        self._incoming = FaultyPipe(self.faults, self._rng)
        self.missions = MissionServer(self._send, self._statustext, self._param_broadcast,
                                      self._home_item, mission_limit, timeout_scale)
        self.flight = FlightController(self.params, home, self._statustext, self._mission_items,
                                       self._send_mission_item_reached, wind, drone, liquid_l)
        self.missions.on_mission_changed = self.flight.mission_changed
        self.missions.storage_ready = lambda: not self._boot.booting(self.now_s() - self._boot_at_s)
        self.ftp_mode = ftp
        self.ftp = FtpServer(MissionServerStore(self.missions, self._home_item),
                             mission_files=ftp != "refuse",
                             break_after_writes=FTP_BREAK_AFTER_WRITES if ftp == "break" else None,
                             on_upload=self._announce_list_total)
        self._wall_start = 0.0
        self._started_sim = False
        self._boot_at_s = 0.0
        self._reboot_close_at_s: float | None = None
        self._reboot_done = False
        self._link_was_down = False
        self._reset_boot_state(0.0)

    # ------------------------------------------------------------- lifecycle
    def start(self) -> int:
        """Bind the socket and start the vehicle thread; returns the bound port."""
        link_cls = TcpServerLink if self.transport == "tcp" else UdpLink
        self._link = link_cls(self.host, self._requested_port)
        self._wall_start = time.monotonic()
        self._started_sim = self.transport == "udp"
        self._running.set()
        self._thread = threading.Thread(target=self._run, name="SimVehicle", daemon=True)
        self._thread.start()
        return self._link.port

    def stop(self) -> None:
        """Stop the thread and close the sockets (safe to call twice)."""
        self._running.clear()
        if self._thread is not None:
            self._thread.join(timeout=30.0)  # a loaded machine may be catching up on physics
            self._thread = None
        if self._link is not None:
            self._link.close()
            self._link = None

    def __enter__(self) -> SimVehicle:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The bound port (after ``start()``)."""
        if self._link is None:
            raise RuntimeError("the vehicle is not started")
        return self._link.port

    def now_s(self) -> float:
        """Simulated seconds since ``start()``."""
        return (time.monotonic() - self._wall_start) * self.speedup

    @property
    def boot_at_s(self) -> float:
        """Simulated time (s since ``start()``) of the current boot: the first TCP connection,
        ``start()`` for UDP, or the restart after a reboot."""
        return self._boot_at_s

    def store_mission(self, mission_type: int, items: list[MissionItem]) -> None:
        """Put a list in the vehicle's storage as if uploaded before (test and demo setup)."""
        with self._lock:
            self.missions.store(mission_type, items)
            if mission_type == MISSION:
                self.params.set("MIS_TOTAL", len(items))

    def call(self, fn: Callable[[SimVehicle], object]) -> object:
        """Run ``fn(vehicle)`` under the vehicle's lock and return its result (state inspection)."""
        with self._lock:
            return fn(self)

    # ------------------------------------------------------------- main loop
    def _run(self) -> None:
        while self._running.is_set():
            new_client, chunks = self._link.poll(LOOP_WAIT_S)
            with self._lock:
                now = self.now_s()
                if new_client:
                    self._on_connect(now)
                for chunk in chunks:
                    for msg in self._parse(chunk):
                        self._incoming.put(msg, now)
                self._service(now)

    def _service(self, now: float) -> None:
        self._apply_link_faults(now)
        for msg in self._incoming.take(now):
            self._gcs_spoke = True
            self._handle(msg, now)
        if not self._started_sim:
            return
        t = now - self._boot_at_s
        self._boot_events(t)
        self._step_physics(t)
        self.missions.tick(now)
        self.ftp.tick(now)
        self._heartbeat(t)
        self._stream(t)
        if self._reboot_close_at_s is not None and now >= self._reboot_close_at_s:
            self._reboot(now)
        if (self.faults.reboot_at_s is not None and not self._reboot_done
                and now >= self.faults.reboot_at_s):
            self._reboot_done = True
            self._reboot(now)
        for packet in self._outgoing.take(now):
            self._link.send(packet)

    def _apply_link_faults(self, now: float) -> None:
        down = self.faults.link_down(now)
        if down and not self._link_was_down:
            self._link.drop_client()
            self._outgoing.clear()
        self._link_was_down = down

    def _parse(self, chunk: bytes) -> list:
        try:
            return self._parser.parse_buffer(chunk) or []
        except mavlink.MAVError:
            return []

    def _on_connect(self, now: float) -> None:
        self._parser = mavlink.MAVLink(None)
        self._gcs_spoke = False
        self.missions.cancel_upload()
        self._outgoing.clear()
        if not self._started_sim:
            self._started_sim = True
            self._boot_at_s = now
            self._next_heartbeat_s = FIRST_HEARTBEAT_S

    def _reset_boot_state(self, boot_at_s: float) -> None:
        self._boot_at_s = boot_at_s
        self._gcs_spoke = False
        self._boot = BootTimeline(self.boot_scale, self.home[2])
        self._schedule = telemetry.StreamSchedule()
        self._next_heartbeat_s = FIRST_HEARTBEAT_S
        self._home_announced = False
        self._physics_t = 0.0
        self._arm_attempted = False

    def _reboot(self, now: float) -> None:
        self._reboot_close_at_s = None
        self._link.drop_client()
        self._outgoing.clear()
        self._incoming.clear()
        self.missions.cancel_upload()
        self.ftp.reset()
        self.flight.reset()
        self._reset_boot_state(now + REBOOT_RESTART_S)

    # --------------------------------------------------------------- output
    def _send(self, msg) -> None:
        """Queue ``msg`` for the GCS; only HEARTBEAT goes out before the GCS has spoken."""
        if msg.get_type() != "HEARTBEAT" and not self._gcs_spoke:
            return
        self._outgoing.put(msg.pack(self._mav), self.now_s())

    def _statustext(self, severity: int, text: str) -> None:
        self._send(mavlink.MAVLink_statustext_message(severity, text.encode()[:50]))

    def _param_broadcast(self, name: str, value: float) -> None:
        param = self.params.set(name, value)
        if param is not None:
            self._send_param(param, PARAM_INDEX_NONE)

    def _send_param(self, param, index: int) -> None:
        self._send(mavlink.MAVLink_param_value_message(
            param.name.encode(), param.value, param.type_code, self.params.count, index))

    def _send_mission_item_reached(self, seq: int) -> None:
        self._send(mavlink.MAVLink_mission_item_reached_message(seq))

    def _announce_list_total(self, mission_type: int, applied: bool) -> None:
        """After an FTP upload, broadcast the list's size parameter as ArduPilot saves it."""
        items = self.missions.lists[mission_type]
        if mission_type == MISSION:
            self._param_broadcast("MIS_TOTAL", len(items))
        elif mission_type == FENCE:
            self._param_broadcast("FENCE_TOTAL", fence_total(items))
        elif mission_type == RALLY:
            self._param_broadcast("RALLY_TOTAL", len(items))

    def _home_item(self) -> MissionItem:
        return home_item(*self.home)

    def _mission_items(self) -> list[MissionItem]:
        return self.missions.lists[MISSION]

    # ------------------------------------------------------- periodic output
    def _boot_events(self, t: float) -> None:
        for severity, text in self._boot.due_texts(t):
            self._statustext(severity, text)
            if "origin set" in text and not self._home_announced:
                self._home_announced = True
                self._send(self._gps_global_origin(t))
                self._send(self._home_position(t))
        if self._boot.prearm_due(t) and self._arm_attempted:
            for reason in self._arm_reasons(t):
                self._statustext(2, f"PreArm: {reason}")

    def _step_physics(self, t: float) -> None:
        """Step the flight to ``t``, sending the telemetry due at each step's own time: after
        the loop was held up (a busy machine at a high speedup) the reports still sample the
        whole stretch flown, as SITL's do, instead of one report at its end."""
        while self._physics_t + PHYSICS_DT_S <= t:
            self._physics_t += PHYSICS_DT_S
            self.flight.step(PHYSICS_DT_S, self._physics_t)
            self._stream(self._physics_t)

    def _heartbeat(self, t: float) -> None:
        if t < self._next_heartbeat_s:
            return
        self._next_heartbeat_s += HEARTBEAT_PERIOD_S
        if self._next_heartbeat_s <= t:
            self._next_heartbeat_s = t + HEARTBEAT_PERIOD_S
        self._send(mavlink.MAVLink_heartbeat_message(
            mavlink.MAV_TYPE_QUADROTOR, mavlink.MAV_AUTOPILOT_ARDUPILOTMEGA,
            self._base_mode(t), self.flight.mode, self._system_status(t), 3))

    def _base_mode(self, t: float) -> int:
        mode = 81
        if self.flight.position_controlled() or self._boot.booting(t):
            mode |= mavlink.MAV_MODE_FLAG_GUIDED_ENABLED
        if self.flight.armed:
            mode |= mavlink.MAV_MODE_FLAG_SAFETY_ARMED
        return mode

    def _system_status(self, t: float) -> int:
        if self._boot.booting(t):
            return mavlink.MAV_STATE_BOOT
        if self.flight.failsafe:
            return mavlink.MAV_STATE_CRITICAL
        if self.flight.airborne:
            return mavlink.MAV_STATE_ACTIVE
        return mavlink.MAV_STATE_STANDBY

    def _stream(self, t: float) -> None:
        for name in self._schedule.due(t):
            self._send(self._build(name, t))

    # -------------------------------------------------------- message build
    def _build(self, name: str, t: float):
        return getattr(self, "_msg_" + name.lower())(t)

    def _msg_sys_status(self, t: float):
        health = SENSORS_HEALTH | (MAV_SYS_STATUS_PREARM_CHECK if not self._arm_reasons(t) else 0)
        battery = self.flight.battery
        return mavlink.MAVLink_sys_status_message(
            SENSORS_PRESENT, SENSORS_ENABLED, health, 0, _millivolts(battery.voltage_v),
            _centiamps(battery.current_a), battery.remaining_pct(), 0, 0, 0, 0, 0, 0)

    def _msg_mission_current(self, t: float):
        seq, total, state, mode = self.flight.mission_status()
        return mavlink.MAVLink_mission_current_message(seq, total, state, mode)

    def _msg_gps_raw_int(self, t: float):
        lat, lon = self.flight.lat_lon_e7()
        fix = 6 if self._boot.gps_fix(t) else 0
        body = self.flight.body
        return mavlink.MAVLink_gps_raw_int_message(
            int(t * 1e6), fix, lat, lon, int((self.home[2] + body.up) * 1000), 121, 200,
            int(self.flight.ground_speed() * 100), int(math.degrees(self.flight.course()) * 100) % 36000,
            10 if fix else 0)

    def _msg_extended_sys_state(self, t: float):
        return mavlink.MAVLink_extended_sys_state_message(0, self.flight.landed_state)

    def _msg_global_position_int(self, t: float):
        lat, lon = self.flight.lat_lon_e7()
        body = self.flight.body
        return mavlink.MAVLink_global_position_int_message(
            int(t * 1000), lat, lon, int((self.home[2] + body.up) * 1000), int(body.up * 1000),
            int(body.vn * 100), int(body.ve * 100), int(-body.vu * 100),
            int(math.degrees(body.yaw) * 100) % 36000)

    def _msg_local_position_ned(self, t: float):
        body = self.flight.body
        return mavlink.MAVLink_local_position_ned_message(
            int(t * 1000), body.north, body.east, -body.up, body.vn, body.ve, -body.vu)

    def _msg_servo_output_raw(self, t: float):
        motors = self.flight.motor_pwm()
        outputs = [motors] * 4 + [0] * 12
        for channel, pwm in self.flight.sprayer_outputs().items():
            outputs[channel - 1] = pwm
        # time_usec is uint32 and wraps after 71.6 min, as the autopilots' own does: a long or
        # sped-up flight on a loaded machine got there and the unwrapped value killed the sim
        return mavlink.MAVLink_servo_output_raw_message(int(t * 1e6) % 2**32, 0, *outputs)

    def _msg_attitude(self, t: float):
        body = self.flight.body
        return mavlink.MAVLink_attitude_message(int(t * 1000), 0.0, 0.0, body.yaw, 0.0, 0.0, 0.0)

    def _msg_vfr_hud(self, t: float):
        body = self.flight.body
        return mavlink.MAVLink_vfr_hud_message(
            0.0, self.flight.ground_speed(), int(math.degrees(body.yaw)) % 360,
            self.flight.throttle_pct(), self.home[2] + body.up, body.vu)

    def _msg_system_time(self, t: float):
        return mavlink.MAVLink_system_time_message(0, int(t * 1000))

    def _msg_battery_status(self, t: float):
        battery = self.flight.battery
        voltages = [_millivolts(battery.voltage_v)] + [65535] * 9
        return mavlink.MAVLink_battery_status_message(
            0, 0, 0, 32767, voltages, _centiamps(battery.current_a), int(battery.consumed_mah),
            -1, battery.remaining_pct())

    def _msg_ekf_status_report(self, t: float):
        flags = 0x3FF if not self._arm_reasons(t) else 167
        return mavlink.MAVLink_ekf_status_report_message(flags, 0.01, 0.01, 0.01, 0.01, 0.0, 0.0)

    def _home_position(self, t: float):
        lat, lon = home_item(*self.home).x, home_item(*self.home).y
        nan = float("nan")
        return mavlink.MAVLink_home_position_message(
            lat, lon, int(self.home[2] * 1000), 0.0, 0.0, -0.0, [nan] * 4, 0.0, 0.0, 0.0,
            int(t * 1e6))

    def _gps_global_origin(self, t: float):
        item = home_item(*self.home)
        return mavlink.MAVLink_gps_global_origin_message(
            item.x, item.y, int(self.home[2] * 1000), int(t * 1e6))

    def _autopilot_version(self):
        return mavlink.MAVLink_autopilot_version_message(
            64495, FIRMWARE_VERSION, 0, 0, 0, list(GIT_HASH), [0] * 8, [0] * 8, 0, 0, 0)

    # -------------------------------------------------------------- inputs
    def _handle(self, msg, now: float) -> None:
        target = getattr(msg, "target_system", self.sysid)
        if target not in (0, self.sysid):
            return
        kind = msg.get_type()
        if kind == "FILE_TRANSFER_PROTOCOL":
            if self.ftp_mode != "absent":
                for reply in self.ftp.handle(msg, now):
                    self._send(reply)
            return
        if self.missions.handle(msg, now):
            return
        handler = getattr(self, "_on_" + kind.lower(), None)
        if handler is not None:
            handler(msg, now - self._boot_at_s)

    def _on_request_data_stream(self, msg, t: float) -> None:
        self._schedule.request_stream(msg.req_stream_id, msg.req_message_rate,
                                      bool(msg.start_stop), t)

    def _on_param_request_read(self, msg, t: float) -> None:
        if msg.param_index >= 0:
            param = self.params.by_index(msg.param_index)
            if param is not None:
                self._send_param(param, msg.param_index)
            return
        param = self.params.get(_name(msg.param_id))
        if param is not None:
            self._send_param(param, PARAM_INDEX_NONE)

    def _on_param_set(self, msg, t: float) -> None:
        param = self.params.set(_name(msg.param_id), msg.param_value)
        if param is not None:
            self._send_param(param, PARAM_INDEX_NONE)

    def _on_param_request_list(self, msg, t: float) -> None:
        for text in BANNER:
            self._statustext(6, text)
        for index, param in enumerate(self.params.visible()):
            self._send_param(param, index)

    def _on_mission_set_current(self, msg, t: float) -> None:
        if msg.seq >= len(self._mission_items()):
            return
        _, total, state, mode = self.flight.mission_status()
        self.flight.set_mission_current(msg.seq)
        self._send(mavlink.MAVLink_mission_current_message(msg.seq, total, state, mode))

    def _on_set_mode(self, msg, t: float) -> None:
        ok = self.flight.set_mode(int(msg.custom_mode))
        self._ack(msg, 11, mavlink.MAV_RESULT_ACCEPTED if ok else mavlink.MAV_RESULT_FAILED)

    def _on_command_long(self, msg, t: float) -> None:
        params = (msg.param1, msg.param2, msg.param3, msg.param4, msg.param5, msg.param6,
                  msg.param7)
        self._command(msg, int(msg.command), params, t)

    def _on_command_int(self, msg, t: float) -> None:
        params = (msg.param1, msg.param2, msg.param3, msg.param4, msg.x, msg.y, msg.z)
        self._command(msg, int(msg.command), params, t)

    def _ack(self, msg, command: int, result: int) -> None:
        self._send(mavlink.MAVLink_command_ack_message(
            command, result, 0, 0, msg.get_srcSystem(), msg.get_srcComponent()))

    def _command(self, msg, command: int, p: tuple, t: float) -> None:
        handlers: dict[int, Callable] = {
            mavlink.MAV_CMD_COMPONENT_ARM_DISARM: self._cmd_arm,
            mavlink.MAV_CMD_DO_SET_MODE: self._cmd_set_mode,
            mavlink.MAV_CMD_MISSION_START: self._cmd_mission_start,
            mavlink.MAV_CMD_NAV_TAKEOFF: self._cmd_takeoff,
            mavlink.MAV_CMD_NAV_RETURN_TO_LAUNCH: self._cmd_rtl,
            mavlink.MAV_CMD_NAV_LAND: self._cmd_land,
            mavlink.MAV_CMD_DO_CHANGE_SPEED: self._cmd_change_speed,
            mavlink.MAV_CMD_DO_SET_MISSION_CURRENT: self._cmd_set_mission_current,
            mavlink.MAV_CMD_REQUEST_MESSAGE: self._cmd_request_message,
            mavlink.MAV_CMD_REQUEST_AUTOPILOT_CAPABILITIES: self._cmd_capabilities,
            mavlink.MAV_CMD_SET_MESSAGE_INTERVAL: self._cmd_set_interval,
            mavlink.MAV_CMD_GET_MESSAGE_INTERVAL: self._cmd_get_interval,
            mavlink.MAV_CMD_PREFLIGHT_REBOOT_SHUTDOWN: self._cmd_reboot,
        }
        handler = handlers.get(command)
        if handler is None:
            self._ack(msg, command, mavlink.MAV_RESULT_UNSUPPORTED)
            return
        handler(msg, command, p, t)

    def _arm_reasons(self, t: float) -> tuple[str, ...]:
        return self._boot.arm_reasons(t) or self.flight.failsafe_reasons()

    def _cmd_arm(self, msg, command: int, p: tuple, t: float) -> None:
        if p[0] == 0:
            if self.flight.airborne and p[1] != ARM_DISARM_FORCE:
                self._ack(msg, command, mavlink.MAV_RESULT_FAILED)
                return
            self._ack(msg, command, mavlink.MAV_RESULT_ACCEPTED)
            if self.flight.armed:
                self.flight.disarm()
            return
        if self.flight.armed:
            self._ack(msg, command, mavlink.MAV_RESULT_ACCEPTED)
            return
        self._arm_attempted = True
        reasons = self._arm_reasons(t)
        if not reasons and not self.flight.mode_armable():
            reasons = ("Mode not armable",)
        if reasons and p[1] != ARM_DISARM_FORCE:
            self._ack(msg, command, mavlink.MAV_RESULT_FAILED)
            for reason in reasons:
                self._statustext(2, f"Arm: {reason}")
            return
        self._ack(msg, command, mavlink.MAV_RESULT_ACCEPTED)
        self._send(self._home_position(t))
        self._statustext(6, "Arming motors")
        self.flight.arm()

    def _cmd_set_mode(self, msg, command: int, p: tuple, t: float) -> None:
        ok = int(p[0]) & mavlink.MAV_MODE_FLAG_CUSTOM_MODE_ENABLED and self.flight.set_mode(int(p[1]))
        self._ack(msg, command, mavlink.MAV_RESULT_ACCEPTED if ok else mavlink.MAV_RESULT_FAILED)

    def _cmd_mission_start(self, msg, command: int, p: tuple, t: float) -> None:
        ok = self.flight.start_mission(int(p[0]))
        self._ack(msg, command, mavlink.MAV_RESULT_ACCEPTED if ok else mavlink.MAV_RESULT_FAILED)

    def _cmd_takeoff(self, msg, command: int, p: tuple, t: float) -> None:
        ok = self.flight.takeoff(float(p[6]))
        self._ack(msg, command, mavlink.MAV_RESULT_ACCEPTED if ok else mavlink.MAV_RESULT_FAILED)

    def _cmd_rtl(self, msg, command: int, p: tuple, t: float) -> None:
        ok = self.flight.set_mode(6)
        self._ack(msg, command, mavlink.MAV_RESULT_ACCEPTED if ok else mavlink.MAV_RESULT_FAILED)

    def _cmd_land(self, msg, command: int, p: tuple, t: float) -> None:
        ok = self.flight.set_mode(9)
        self._ack(msg, command, mavlink.MAV_RESULT_ACCEPTED if ok else mavlink.MAV_RESULT_FAILED)

    def _cmd_change_speed(self, msg, command: int, p: tuple, t: float) -> None:
        self.flight.change_speed(float(p[1]))
        self._ack(msg, command, mavlink.MAV_RESULT_ACCEPTED)

    def _cmd_set_mission_current(self, msg, command: int, p: tuple, t: float) -> None:
        seq = int(p[0])
        if not 0 <= seq < len(self._mission_items()):
            self._ack(msg, command, mavlink.MAV_RESULT_DENIED)
            return
        self.flight.set_mission_current(seq)
        self._ack(msg, command, mavlink.MAV_RESULT_ACCEPTED)
        self._send(self._msg_mission_current(t))

    def _cmd_request_message(self, msg, command: int, p: tuple, t: float) -> None:
        msg_id = int(p[0])
        if msg_id == mavlink.MAVLINK_MSG_ID_AUTOPILOT_VERSION:
            reply = self._autopilot_version()
        elif msg_id == mavlink.MAVLINK_MSG_ID_HOME_POSITION and self._boot.home_set(t):
            reply = self._home_position(t)
        elif msg_id in telemetry.NAMES_BY_ID:
            reply = self._build(telemetry.NAMES_BY_ID[msg_id], t)
        else:
            self._ack(msg, command, mavlink.MAV_RESULT_FAILED)
            return
        self._ack(msg, command, mavlink.MAV_RESULT_ACCEPTED)
        self._send(reply)

    def _cmd_capabilities(self, msg, command: int, p: tuple, t: float) -> None:
        self._ack(msg, command, mavlink.MAV_RESULT_ACCEPTED)
        self._send(self._autopilot_version())

    def _cmd_set_interval(self, msg, command: int, p: tuple, t: float) -> None:
        ok = self._schedule.set_interval(int(p[0]), float(p[1]), t)
        self._ack(msg, command, mavlink.MAV_RESULT_ACCEPTED if ok else mavlink.MAV_RESULT_FAILED)

    def _cmd_get_interval(self, msg, command: int, p: tuple, t: float) -> None:
        msg_id = int(p[0])
        self._send(mavlink.MAVLink_message_interval_message(
            msg_id, self._schedule.interval_us(msg_id)))
        self._ack(msg, command, mavlink.MAV_RESULT_ACCEPTED)

    def _cmd_reboot(self, msg, command: int, p: tuple, t: float) -> None:
        if int(p[0]) != 1 or self.flight.armed:
            self._ack(msg, command, mavlink.MAV_RESULT_FAILED)
            return
        self._ack(msg, command, mavlink.MAV_RESULT_ACCEPTED)
        self._reboot_close_at_s = self.now_s() + REBOOT_CLOSE_DELAY_S


def _millivolts(volts: float) -> int:
    """Volts as the uint16 millivolts of SYS_STATUS / BATTERY_STATUS (clipped to the field)."""
    return min(max(int(volts * 1000), 0), 65534)


def _centiamps(amps: float) -> int:
    """Amps as the int16 centiamps of SYS_STATUS / BATTERY_STATUS (clipped to the field)."""
    return min(max(int(amps * 100), 0), 32767)


def _name(param_id) -> str:
    if isinstance(param_id, bytes):
        param_id = param_id.decode(errors="replace")
    return param_id.rstrip("\x00")

"""A MAVLink link to one vehicle: open it, wait for the vehicle's HEARTBEAT, send and receive.

Addresses follow pymavlink: ``tcp:HOST:PORT`` (connect), ``tcpin:HOST:PORT`` (listen),
``udp:``/``udpin:HOST:PORT`` (listen), ``udpout:HOST:PORT`` (send first; ``udpout:HOST:PORT:LOCAL``
sends from local UDP port LOCAL: PX4 answers only the first port that spoke to it, so every
later connection to the same PX4 must come from that port), or a serial device
path such as ``/dev/ttyUSB0`` or ``COM3`` opened at ``baud``.
"""

from __future__ import annotations

import os
import socket
import time

from agridrone.errors import AgridroneError

# MAVLink 2 is needed for fence and rally transfers (mission_type); pymavlink reads this
# variable when it loads a dialect.
os.environ.setdefault("MAVLINK20", "1")

from pymavlink import mavutil  # noqa: E402

MAV_AUTOPILOT_ARDUPILOTMEGA = 3
MAV_AUTOPILOT_PX4 = 12
MAV_AUTOPILOT_INVALID = 8
MAV_TYPE_GCS = 6
MAV_STATE_BOOT = 1
BOOT_TIMEOUT_S = 30.0
AUTOPILOT_NAMES = {MAV_AUTOPILOT_ARDUPILOTMEGA: "ardupilot", MAV_AUTOPILOT_PX4: "px4"}
NETWORK_SCHEMES = ("tcp:", "tcpin:", "udp:", "udpin:", "udpout:")
GCS_HEARTBEAT_PERIOD_S = 1.0


class LinkLost(AgridroneError):
    """The connection to the vehicle closed (TCP EOF or reset): nothing more will arrive."""


def _raise_on_close(conn, address: str) -> None:
    """Make a pymavlink TCP connection raise LinkLost when the peer closes it. pymavlink's
    mavtcp.handle_eof / handle_disconnect print "EOF on TCP socket" and return, so a reader
    polling a dead socket printed that line millions of times and never ended."""

    def closed(why: str):
        def handler() -> None:
            raise LinkLost(f"link {address} lost: the vehicle closed the connection ({why})")
        return handler

    conn.handle_eof = closed("EOF")
    conn.handle_disconnect = closed("reset by peer")


class Link:
    """An open connection to one vehicle (the one asked for by system id, else the first that
    sent a HEARTBEAT).

    ``autopilot`` is ``"ardupilot"`` or ``"px4"``; ``target_system`` / ``target_component``
    are the vehicle's ids; ``source_system`` / ``source_component`` are ours (the GCS).
    """

    def __init__(self, conn, *, address: str, autopilot: str, target_system: int,
                 target_component: int, source_system: int, source_component: int) -> None:
        self.conn = conn
        self.address = address
        self.autopilot = autopilot
        self.target_system = target_system
        self.target_component = target_component
        self.source_system = source_system
        self.source_component = source_component
        self._last_heartbeat_sent = 0.0

    @property
    def mav(self):
        """The pymavlink MAVLink encoder: ``link.mav.<message>_send(...)``."""
        return self.conn.mav

    def recv(self, types: list[str], timeout_s: float):
        """The next message of one of ``types`` from the vehicle, or None after ``timeout_s`` seconds.

        Messages from other systems, and messages addressed to another GCS, are skipped.
        Sends our own HEARTBEAT once a second while waiting.
        """
        deadline = time.monotonic() + timeout_s
        while True:
            self._heartbeat_if_due()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            try:
                msg = self.conn.recv_match(type=types, blocking=True, timeout=min(remaining, 0.25))
            except OSError as exc:
                raise AgridroneError(f"link {self.address} failed: {exc}") from None
            if msg is None:
                continue
            if msg.get_srcSystem() != self.target_system:
                continue
            target = getattr(msg, "target_system", 0)
            if target not in (0, self.source_system):
                continue
            return msg

    def drain(self) -> None:
        """Discard every message already received but not yet read (stale answers)."""
        for _ in range(100_000):
            if self.conn.recv_msg() is None:
                return

    def send_heartbeat(self) -> None:
        """Send one GCS HEARTBEAT (MAV_TYPE_GCS, MAV_AUTOPILOT_INVALID)."""
        self.mav.heartbeat_send(MAV_TYPE_GCS, MAV_AUTOPILOT_INVALID, 0, 0, 0)
        self._last_heartbeat_sent = time.monotonic()

    def _heartbeat_if_due(self) -> None:
        if time.monotonic() - self._last_heartbeat_sent >= GCS_HEARTBEAT_PERIOD_S:
            self.send_heartbeat()

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()


def _open(address: str, baud: int, source_system: int, source_component: int):
    if mavutil.mavlink.WIRE_PROTOCOL_VERSION != "2.0":
        os.environ["MAVLINK20"] = "1"
        mavutil.set_dialect(mavutil.current_dialect)
    kwargs = {"source_system": source_system, "source_component": source_component}
    if address.startswith(NETWORK_SCHEMES):
        host_port = address.split(":", 1)[1]
        if ":" not in host_port:
            raise AgridroneError(f"address {address!r} needs HOST:PORT, e.g. tcp:127.0.0.1:5760")
        if address.startswith("udpout:") and host_port.count(":") == 2:
            return _udpout_from(host_port, kwargs)
        conn = mavutil.mavlink_connection(address, retries=1, **kwargs)
        if isinstance(conn, mavutil.mavtcp):
            _raise_on_close(conn, address)
        return conn
    if ":" in address and not os.path.exists(address):
        raise AgridroneError(
            f"address {address!r}: unknown scheme (use tcp:, tcpin:, udp:, udpin:, udpout: "
            "or a serial device path)")
    try:
        return mavutil.mavlink_connection(address, baud=baud, **kwargs)
    except ModuleNotFoundError:
        raise AgridroneError(f"cannot open serial device {address}: serial links need the "
                             "pyserial package (pip install pyserial)") from None


def _udpout_from(host_port_local: str, kwargs: dict):
    """``udpout:HOST:PORT`` whose socket is bound to local port LOCAL before its first send."""
    host, port, local = host_port_local.split(":")
    if not local.isdigit():
        raise AgridroneError(f"udpout:{host_port_local}: the local port must be a number")
    conn = mavutil.mavlink_connection(f"udpout:{host}:{port}", **kwargs)
    try:
        conn.port.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        conn.port.bind((host, int(local)))
    except OSError as exc:
        conn.close()
        raise AgridroneError(f"cannot send from local UDP port {local}: {exc}") from None
    return conn
def _wait_until_booted(link: Link, timeout_s: float) -> None:
    """Wait up to ``timeout_s`` seconds for a HEARTBEAT whose system_status is not BOOT."""
    deadline = time.monotonic() + timeout_s
    while (remaining := deadline - time.monotonic()) > 0:
        msg = link.recv(["HEARTBEAT"], remaining)
        if msg is not None and msg.get_srcComponent() == link.target_component \
                and msg.system_status != MAV_STATE_BOOT:
            return
    raise AgridroneError(f"vehicle on {link.address} still reports MAV_STATE_BOOT after "
                         f"{timeout_s:g} s: it is not ready for a mission")


def _silent(address: str, timeout_s: float, target_system: int | None, heard: set[int]) -> str:
    """Why connect gave up: no vehicle at all, or not the system id asked for."""
    if target_system is None or not heard:
        which = "vehicle" if target_system is None else f"system id {target_system}"
        return (f"no {which} HEARTBEAT on {address} within {timeout_s:g} s (check the "
                "address, the baud rate and that the vehicle is powered)")
    others = ", ".join(str(s) for s in sorted(heard))
    return (f"no HEARTBEAT from system id {target_system} on {address} within {timeout_s:g} s; "
            f"heard system id(s) {others} (check SYSID_THISMAV / MAV_SYS_ID or --sysid)")


def connect(address: str, *, baud: int = 57600, source_system: int = 255,
            source_component: int = 190, heartbeat_timeout_s: float = 10.0,
            autopilot: str | None = None, key: bytes | None = None,
            boot_timeout_s: float = BOOT_TIMEOUT_S, target_system: int | None = None) -> Link:
    """Open ``address`` and wait up to ``heartbeat_timeout_s`` seconds for a vehicle HEARTBEAT,
    then up to ``boot_timeout_s`` seconds more while its HEARTBEAT says MAV_STATE_BOOT.

    ``target_system`` (1..255) picks the vehicle by its MAVLink system id (SYSID_THISMAV,
    MAV_SYS_ID) when several share the link: HEARTBEATs of other systems are passed over, and
    every message is then addressed to it and only its messages are read. None: the first
    vehicle that sends a HEARTBEAT.

    A booting ArduPilot has not loaded its mission storage yet: it answers MISSION_COUNT with
    NO_SPACE and forgets a mission file written over FTP (measured on ArduCopter 4.7 SITL: the
    upload is acknowledged, then the mission reads back as home only). Nothing may be sent
    before the vehicle leaves BOOT.

    ``baud`` is the serial speed (bits/s, serial devices only). ``autopilot`` ("ardupilot" or
    "px4") overrides what the vehicle's HEARTBEAT says. ``key`` (32 bytes) signs every message
    (MAVLink 2 signing) and accepts only the vehicle's messages signed with it. Raises
    AgridroneError when the address cannot be opened, no vehicle (or not ``target_system``)
    speaks within the timeout, or signing keeps its messages out (:class:`firmware_bridge.signing.SigningState`).
    """
    from firmware_bridge.signing import SigningState

    if autopilot is not None and autopilot not in ("ardupilot", "px4"):
        raise AgridroneError(f"autopilot {autopilot!r}: use ardupilot or px4")
    if target_system is not None and not 1 <= target_system <= 255:
        raise AgridroneError(f"system id {target_system}: MAVLink system ids are 1-255")
    try:
        conn = _open(address, baud, source_system, source_component)
    except AgridroneError:
        raise
    except Exception as exc:  # pymavlink raises OSError, serial errors, ValueError
        raise AgridroneError(f"cannot open {address}: {exc}") from None
    signing = SigningState(conn, key)
    link = Link(conn, address=address, autopilot=autopilot or "", target_system=0,
                target_component=0, source_system=source_system,
                source_component=source_component)
    deadline = time.monotonic() + heartbeat_timeout_s
    heard: set[int] = set()
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AgridroneError(signing.problem() or _silent(
                    address, heartbeat_timeout_s, target_system, heard))
            link._heartbeat_if_due()
            try:
                msg = conn.recv_match(type="HEARTBEAT", blocking=True, timeout=min(remaining, 0.25))
            except OSError as exc:
                raise AgridroneError(f"link {address} failed: {exc}") from None
            signing.check()
            if msg is None or msg.type == MAV_TYPE_GCS or msg.autopilot == MAV_AUTOPILOT_INVALID:
                continue
            heard.add(msg.get_srcSystem())
            if target_system is not None and msg.get_srcSystem() != target_system:
                continue
            name = AUTOPILOT_NAMES.get(msg.autopilot)
            if autopilot is None and name is None:
                raise AgridroneError(
                    f"vehicle on {address} reports autopilot {msg.autopilot}, neither ArduPilot "
                    "nor PX4: name it with --autopilot")
            link.autopilot = autopilot or name
            link.target_system = msg.get_srcSystem()
            link.target_component = msg.get_srcComponent()
            link.send_heartbeat()
            if msg.system_status == MAV_STATE_BOOT:
                _wait_until_booted(link, boot_timeout_s)
            return link
    except BaseException:
        conn.close()
        raise

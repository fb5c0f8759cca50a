"""A pymavlink connection pair over TCP loopback for the FTP and pipelined-download tests.

The test holds a real ``mavutil`` connection (``tcp:127.0.0.1:PORT``, the GCS end); a daemon
thread holds the vehicle end: it parses what the GCS sends, hands each message to
``serve(msg, now_s) -> list[reply messages]`` and sends the replies back. ``lose_in`` /
``lose_out`` (message -> bool) drop messages on the way in or out, ``tick(now_s)`` is called
every few milliseconds for replies that are due later, and ``heartbeat`` makes the vehicle send
an ArduCopter HEARTBEAT twice a second (for ``firmware_bridge.link.connect``).
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable

os.environ.setdefault("MAVLINK20", "1")

from pymavlink import mavutil  # noqa: E402
from pymavlink.dialects.v20 import ardupilotmega as mavlink  # noqa: E402

if mavutil.mavlink.WIRE_PROTOCOL_VERSION != "2.0":
    os.environ["MAVLINK20"] = "1"
    mavutil.set_dialect(mavutil.current_dialect)

VEHICLE_SYSTEM, VEHICLE_COMPONENT = 1, 1


class LoopbackVehicle:
    """Context manager: ``with LoopbackVehicle(serve) as vehicle: vehicle.gcs`` is the test's
    mavutil connection; ``vehicle.port`` the TCP port; ``vehicle.received`` the message types
    the vehicle got, in order."""

    def __init__(self, serve: Callable[[object, float], list], *,
                 lose_in: Callable[[object], bool] | None = None,
                 lose_out: Callable[[object], bool] | None = None,
                 tick: Callable[[float], list] | None = None, heartbeat: bool = False) -> None:
        self.serve = serve
        self.lose_in = lose_in or (lambda msg: False)
        self.lose_out = lose_out or (lambda msg: False)
        self.tick = tick or (lambda now_s: [])
        self.heartbeat = heartbeat
        self.received: list[str] = []
        self._stop = threading.Event()
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(1)
        self.port = self._listener.getsockname()[1]
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self.gcs = None

    def __enter__(self) -> LoopbackVehicle:
        self._listener.settimeout(5.0)
        if not self.heartbeat:
            self.gcs = mavutil.mavlink_connection(f"tcp:127.0.0.1:{self.port}", retries=1,
                                                  source_system=255, source_component=190)
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def wait_for(self, message_type: str, timeout_s: float = 2.0) -> bool:
        """Wait until the vehicle has received ``message_type`` (bounded); True if it has."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if message_type in self.received:
                return True
            time.sleep(0.005)
        return False

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5.0)
        if self.gcs is not None:
            self.gcs.close()
        self._listener.close()

    def _run(self) -> None:
        try:
            sock, _ = self._listener.accept()
        except OSError:
            return
        sock.settimeout(0.005)
        mav = mavlink.MAVLink(None, srcSystem=VEHICLE_SYSTEM, srcComponent=VEHICLE_COMPONENT)
        parser = mavlink.MAVLink(None)
        next_heartbeat = 0.0
        with sock:
            while not self._stop.is_set():
                now = time.monotonic()
                out = list(self.tick(now))
                if self.heartbeat and now >= next_heartbeat:
                    next_heartbeat = now + 0.5
                    out.append(mavlink.MAVLink_heartbeat_message(2, 3, 0, 0, 0, 3))
                try:
                    chunk = sock.recv(65536)
                except TimeoutError:
                    chunk = None
                except OSError:
                    return
                if chunk == b"":
                    return  # the GCS closed the connection
                for msg in (parser.parse_buffer(chunk) if chunk else None) or []:
                    self.received.append(msg.get_type())
                    if not self.lose_in(msg):
                        out += self.serve(msg, now)
                try:
                    for reply in out:
                        if not self.lose_out(reply):
                            sock.sendall(reply.pack(mav))
                except OSError:
                    return

"""Several vehicles behind one link, as on a shared telemetry radio or a MAVLink router: one
TCP port for the ground station; every byte it sends goes to every vehicle, and every whole
message of every vehicle comes back to it (vehicles' streams are cut at message boundaries
so that two vehicles' messages never interleave). Each vehicle answers only what is
addressed to its own system id (or to all), as ArduPilot does.

Usage::

    with SimVehicle(sysid=1) as a, SimVehicle(sysid=2) as b, Hub([a.port, b.port]) as hub:
        ...  # a GCS connects to tcp:127.0.0.1:<hub.port>
"""

from __future__ import annotations

import select
import socket
import threading

from pymavlink.dialects.v20 import ardupilotmega as mavlink

POLL_S = 0.01


class Hub:
    """A one-port hub in front of the vehicles listening on TCP ``vehicle_ports`` of
    ``host``. ``from_gcs`` keeps every byte the ground station sent (what went on the wire)."""

    def __init__(self, vehicle_ports: list[int], host: str = "127.0.0.1") -> None:
        self.host = host
        self.vehicle_ports = list(vehicle_ports)
        self.from_gcs = bytearray()
        self._listener: socket.socket | None = None
        self._gcs: socket.socket | None = None
        self._vehicles: list[tuple[socket.socket, mavlink.MAVLink]] = []
        self._running = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self) -> int:
        """Connect to every vehicle, listen for the ground station; returns the hub's port."""
        for port in self.vehicle_ports:
            sock = socket.create_connection((self.host, port), timeout=5.0)
            sock.setblocking(False)
            parser = mavlink.MAVLink(None)
            parser.robust_parsing = True
            self._vehicles.append((sock, parser))
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind((self.host, 0))
        self._listener.listen(2)
        self._listener.setblocking(False)
        self._running.set()
        self._thread = threading.Thread(target=self._run, name="Hub", daemon=True)
        self._thread.start()
        return self.port

    @property
    def port(self) -> int:
        """The ground station's TCP port."""
        assert self._listener is not None, "the hub is not started"
        return self._listener.getsockname()[1]

    def gcs_messages(self) -> list:
        """Every message the ground station has sent so far, parsed."""
        parser = mavlink.MAVLink(None)
        parser.robust_parsing = True
        with self._lock:
            data = bytes(self.from_gcs)
        return [m for m in parser.parse_buffer(data) or [] if m.get_type() != "BAD_DATA"]

    def stop(self) -> None:
        """Stop forwarding and close every socket (safe to call twice)."""
        self._running.clear()
        if self._thread is not None:
            self._thread.join(timeout=5.0)
            self._thread = None
        for sock in [self._gcs, self._listener, *(s for s, _ in self._vehicles)]:
            if sock is not None:
                sock.close()
        self._gcs = self._listener = None
        self._vehicles = []

    def __enter__(self) -> Hub:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def _run(self) -> None:
        while self._running.is_set():
            watched = [self._listener, *(s for s, _ in self._vehicles)]
            if self._gcs is not None:
                watched.append(self._gcs)
            readable, _, _ = select.select(watched, [], [], POLL_S)
            if self._listener in readable:
                self._accept()
            if self._gcs is not None and self._gcs in readable:
                self._from_gcs()
            for sock, parser in list(self._vehicles):
                if sock in readable:
                    self._from_vehicle(sock, parser)

    def _accept(self) -> None:
        try:
            client, _ = self._listener.accept()
        except OSError:
            return
        if self._gcs is not None:
            self._gcs.close()
        client.setblocking(True)
        client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._gcs = client

    def _from_gcs(self) -> None:
        try:
            data = self._gcs.recv(65536)
        except OSError:
            data = b""
        if not data:
            self._gcs.close()
            self._gcs = None
            return
        with self._lock:
            self.from_gcs += data
        for sock, _ in self._vehicles:
            sock.setblocking(True)
            try:
                sock.sendall(data)
            except OSError:
                pass
            sock.setblocking(False)

    def _from_vehicle(self, sock: socket.socket, parser: mavlink.MAVLink) -> None:
        try:
            data = sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:  # the vehicle closed its end (a reboot): it is gone from the hub
            self._vehicles = [(s, p) for s, p in self._vehicles if s is not sock]
            sock.close()
            return
        messages = parser.parse_buffer(data) or []
        if self._gcs is None:
            return
        try:
            for msg in messages:
                if msg.get_type() != "BAD_DATA":
                    self._gcs.sendall(msg.get_msgbuf())
        except OSError:
            self._gcs.close()
            self._gcs = None

"""A minimal ground station for the simulator's tests: a raw TCP MAVLink 2 client as 255/190
that records every vehicle message with its arrival time and can reconnect after a reboot."""

from __future__ import annotations

import select
import socket
import threading
import time

from pymavlink.dialects.v20 import ardupilotmega as mavlink

GCS_SYSID, GCS_COMPID = 255, 190


class Gcs:
    """Connects to ``127.0.0.1:port``; ``received`` lists (wall time, message) as they arrive."""

    def __init__(self, port: int, host: str = "127.0.0.1") -> None:
        self.host, self.port = host, port
        self.received: list[tuple[float, object]] = []
        self._lock = threading.Lock()
        self._mav = mavlink.MAVLink(None, srcSystem=GCS_SYSID, srcComponent=GCS_COMPID)
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self.closed = True
        self.connect()

    def connect(self, timeout_s: float = 3.0) -> None:
        """(Re)connect, retrying every 20 ms for up to ``timeout_s`` seconds."""
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                sock = socket.create_connection((self.host, self.port), timeout=1.0)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.02)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._sock, self.closed = sock, False
        self._thread = threading.Thread(target=self._read, args=(sock,), daemon=True)
        self._thread.start()

    def _read(self, sock: socket.socket) -> None:
        parser = mavlink.MAVLink(None)
        while True:
            try:
                readable, _, _ = select.select([sock], [], [], 0.05)
                data = sock.recv(65536) if readable else None
            except (OSError, ValueError):
                data = b""
            if data == b"":
                self.closed = True
                return
            if data is None:
                if self._sock is not sock:
                    return
                continue
            for msg in parser.parse_buffer(data) or []:
                with self._lock:
                    self.received.append((time.monotonic(), msg))

    def send(self, msg) -> None:
        """Send a pymavlink message as the GCS (255/190)."""
        if self._sock is not None and not self.closed:
            try:
                self._sock.sendall(msg.pack(self._mav))
            except OSError:
                self.closed = True

    def messages(self, types: set[str] | None = None) -> list:
        """Messages received so far (optionally of ``types``), in arrival order."""
        with self._lock:
            return [m for _, m in self.received if types is None or m.get_type() in types]

    def wait_for(self, predicate, timeout_s: float = 5.0):
        """The first received message satisfying ``predicate`` (waits up to ``timeout_s``)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for msg in self.messages():
                if predicate(msg):
                    return msg
            time.sleep(0.005)
        return None

    def clear(self) -> None:
        """Forget what was received so far."""
        with self._lock:
            self.received.clear()

    def close(self) -> None:
        """Close the connection."""
        sock, self._sock = self._sock, None
        self.closed = True
        if sock is not None:
            sock.close()

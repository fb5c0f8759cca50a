"""The vehicle's end of the link: a TCP server for one GCS (as SITL's SERIAL0) or a UDP socket.

Both are polled from the vehicle's own thread; nothing here blocks longer than the poll timeout.
A ground station that reads slower than the vehicle sends is not disconnected: once the
socket's buffer is full the vehicle holds at most TX_BACKLOG_BYTES more and then drops whole
packets, as ArduPilot drops a MAVLink message for which its port has no room.
"""

from __future__ import annotations

import select
import socket

TX_BACKLOG_BYTES = 16384  # bytes held for a slow reader beyond the socket's own buffer


class TcpServerLink:
    """Listens on ``host:port`` and serves one client; a new connection replaces the old one.
    ``send_buffer_bytes``: the client socket's send buffer (None: the kernel's default)."""

    def __init__(self, host: str, port: int, send_buffer_bytes: int | None = None) -> None:
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind((host, port))
        self._listener.listen(4)
        self._listener.setblocking(False)
        self._client: socket.socket | None = None
        self._backlog = bytearray()
        self._send_buffer_bytes = send_buffer_bytes
        self.dropped_packets = 0

    @property
    def port(self) -> int:
        """The bound TCP port."""
        return self._listener.getsockname()[1]

    @property
    def connected(self) -> bool:
        """True while a client is connected."""
        return self._client is not None

    def poll(self, timeout_s: float) -> tuple[bool, list[bytes]]:
        """Wait up to ``timeout_s`` wall seconds; returns (a new client connected, data received)."""
        self._flush()
        watched = [self._listener] + ([self._client] if self._client else [])
        readable, _, _ = select.select(watched, [], [], timeout_s)
        new_client, chunks = False, []
        if self._listener in readable:
            try:
                client, _ = self._listener.accept()
            except OSError:
                client = None
            if client is not None:
                self.drop_client()
                client.setblocking(False)
                client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                if self._send_buffer_bytes is not None:
                    client.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF,
                                      self._send_buffer_bytes)
                self._client, new_client = client, True
        if self._client is not None and self._client in readable:
            try:
                data = self._client.recv(65536)
            except (BlockingIOError, InterruptedError):
                data = None
            except OSError:
                data = b""
            if data == b"":
                self.drop_client()
            elif data:
                chunks.append(data)
        return new_client, chunks

    def send(self, data: bytes) -> None:
        """Send the packet ``data`` to the client, if any, without blocking: behind a full
        socket it waits in the backlog, or is dropped whole (counted in ``dropped_packets``)
        when the backlog already holds TX_BACKLOG_BYTES; a broken connection is dropped."""
        if self._client is None:
            return
        if len(self._backlog) >= TX_BACKLOG_BYTES:
            self.dropped_packets += 1
            return
        self._backlog += data
        self._flush()

    def _flush(self) -> None:
        while self._backlog and self._client is not None:
            try:
                sent = self._client.send(self._backlog)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                self.drop_client()
                return
            del self._backlog[:sent]

    def drop_client(self) -> None:
        """Close the client connection (reboot, link drop); the listener keeps accepting."""
        self._backlog.clear()
        if self._client is not None:
            try:
                self._client.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self._client.close()
            self._client = None

    def close(self) -> None:
        """Close the client and the listening socket."""
        self.drop_client()
        self._listener.close()


class UdpLink:
    """A UDP socket bound to ``host:port``; replies go to whoever sent the last datagram."""

    def __init__(self, host: str, port: int) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind((host, port))
        self._sock.setblocking(False)
        self._peer: tuple[str, int] | None = None

    @property
    def port(self) -> int:
        """The bound UDP port."""
        return self._sock.getsockname()[1]

    @property
    def connected(self) -> bool:
        """True once a GCS has sent a datagram."""
        return self._peer is not None

    def poll(self, timeout_s: float) -> tuple[bool, list[bytes]]:
        """Wait up to ``timeout_s`` wall seconds; returns (a new peer appeared, datagrams)."""
        readable, _, _ = select.select([self._sock], [], [], timeout_s)
        new_peer, chunks = False, []
        while readable:
            try:
                data, addr = self._sock.recvfrom(65536)
            except (BlockingIOError, InterruptedError, ConnectionResetError):
                break
            if addr != self._peer:
                self._peer, new_peer = addr, True
            chunks.append(data)
        return new_peer, chunks

    def send(self, data: bytes) -> None:
        """Send ``data`` to the current peer, if any."""
        if self._peer is not None:
            try:
                self._sock.sendto(data, self._peer)
            except OSError:
                pass

    def drop_client(self) -> None:
        """Forget the peer (it must send again before it hears anything)."""
        self._peer = None

    def close(self) -> None:
        """Close the socket."""
        self._sock.close()

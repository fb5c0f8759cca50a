"""A telemetry radio on loopback: a TCP proxy between a client (the ground station) and a
server (the vehicle) that forwards whole MAVLink frames with loss, duplication, one-way
latency and a bandwidth limit.

Each direction has its own random stream seeded from ``seed``, the connection's number and
the direction, so the same seed loses and duplicates the same frames of the same traffic.
Bandwidth is modelled as a serial line of ``baud`` bits/s with 10 bits per byte: a frame
occupies the line for ``len * 10 / baud`` seconds (lost frames too; they were sent) and
arrives ``latency_s`` after it left the line. Bytes that are not part of a MAVLink v1/v2 frame
are dropped.

Run as ``python -m sim.link_emulator --upstream 127.0.0.1:5760 --listen 5770 --loss 2
--latency-ms 40 --baud 57600`` and connect the ground station to ``tcp:127.0.0.1:5770``.
"""

from __future__ import annotations

import argparse
import random
import select
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field

MAVLINK1_MAGIC = 0xFE
MAVLINK2_MAGIC = 0xFD
MAVLINK2_SIGNED = 0x01
BITS_PER_BYTE = 10  # start bit + 8 data bits + stop bit


@dataclass(frozen=True)
class RadioProfile:
    """Link impairments: ``loss_pct`` and ``duplicate_pct`` in percent of frames per direction,
    ``latency_s`` one-way delay in seconds, ``baud`` line rate in bits/s (None: unlimited),
    ``seed`` for the random streams."""

    loss_pct: float = 0.0
    duplicate_pct: float = 0.0
    latency_s: float = 0.0
    baud: int | None = None
    seed: int = 0


class FrameSplitter:
    """Cuts a byte stream into whole MAVLink v1 and v2 frames (signature included)."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[bytes]:
        """Add received bytes; return the frames completed by them, in order."""
        self._buffer.extend(data)
        frames = []
        buf = self._buffer
        while buf:
            if buf[0] not in (MAVLINK1_MAGIC, MAVLINK2_MAGIC):
                starts = [i for i in (buf.find(MAVLINK1_MAGIC), buf.find(MAVLINK2_MAGIC)) if i >= 0]
                del buf[:min(starts) if starts else len(buf)]
                continue
            if len(buf) < 3:
                break
            if buf[0] == MAVLINK1_MAGIC:
                size = buf[1] + 8
            else:
                size = buf[1] + 12 + (13 if buf[2] & MAVLINK2_SIGNED else 0)
            if len(buf) < size:
                break
            frames.append(bytes(buf[:size]))
            del buf[:size]
        return frames


def frame_fates(rng: random.Random, profile: RadioProfile) -> tuple[bool, bool]:
    """(lost, duplicated) for the next frame; draws exactly two numbers from ``rng``."""
    lost = rng.random() * 100.0 < profile.loss_pct
    duplicated = rng.random() * 100.0 < profile.duplicate_pct
    return lost, duplicated


@dataclass
class DirectionStats:
    """Frames seen, lost and duplicated in one direction."""

    frames: int = 0
    lost: int = 0
    duplicated: int = 0


@dataclass
class _Direction:
    """One direction of one connection: split, decide, schedule, deliver."""

    profile: RadioProfile
    rng: random.Random
    destination: socket.socket
    stats: DirectionStats
    splitter: FrameSplitter = field(default_factory=FrameSplitter)
    queue: deque = field(default_factory=deque)
    ready: threading.Condition = field(default_factory=threading.Condition)
    line_free_at: float = 0.0
    closed: bool = False

    @property
    def immediate(self) -> bool:
        """No latency and no bandwidth limit: frames go out from the reading thread."""
        return not self.profile.latency_s and not self.profile.baud

    def accept(self, data: bytes) -> None:
        now = time.monotonic()
        if self.immediate:
            for frame in self.splitter.feed(data):
                lost, duplicated = frame_fates(self.rng, self.profile)
                self.stats.frames += 1
                self.stats.lost += lost
                self.stats.duplicated += duplicated and not lost
                if not lost:
                    self.destination.sendall(frame * (2 if duplicated else 1))
            return
        with self.ready:
            for frame in self.splitter.feed(data):
                lost, duplicated = frame_fates(self.rng, self.profile)
                self.stats.frames += 1
                self.stats.lost += lost
                self.stats.duplicated += duplicated and not lost
                for _ in range(2 if duplicated else 1):
                    start = max(now, self.line_free_at)
                    if self.profile.baud:
                        self.line_free_at = start + len(frame) * BITS_PER_BYTE / self.profile.baud
                    else:
                        self.line_free_at = start
                    if not lost:
                        self.queue.append((self.line_free_at + self.profile.latency_s, frame))
            self.ready.notify()

    def close(self) -> None:
        with self.ready:
            self.closed = True
            self.ready.notify()

    def deliver_forever(self) -> None:
        while True:
            with self.ready:
                while not self.queue and not self.closed:
                    self.ready.wait(0.1)
                if self.closed:
                    return
                due, frame = self.queue[0]
                wait = due - time.monotonic()
                if wait > 0:
                    self.ready.wait(min(wait, 0.1))
                    continue
                self.queue.popleft()
            try:
                self.destination.sendall(frame)
            except OSError:
                return


class LinkEmulator:
    """TCP proxy on 127.0.0.1:``listen_port`` (0: any free port) to ``upstream`` (host, port)."""

    def __init__(self, upstream: tuple[str, int], profile: RadioProfile,
                 listen_port: int = 0) -> None:
        self.upstream = upstream
        self.profile = profile
        self._server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._server.bind(("127.0.0.1", listen_port))
        self._server.listen(4)
        self.port = self._server.getsockname()[1]
        self.to_server = DirectionStats()
        self.to_client = DirectionStats()
        self._running = False
        self._connections = 0
        self._threads: list[threading.Thread] = []
        self._directions: list[_Direction] = []
        self._sockets: list[socket.socket] = []

    @property
    def address(self) -> str:
        """pymavlink address of the client side, e.g. ``tcp:127.0.0.1:40123``."""
        return f"tcp:127.0.0.1:{self.port}"

    def start(self) -> LinkEmulator:
        """Accept clients in a daemon thread; return self."""
        self._running = True
        self._spawn(self._accept_loop)
        return self

    def stop(self) -> None:
        """Close every connection and stop the threads (each within a second)."""
        self._running = False
        self._server.close()
        for direction in self._directions:
            direction.close()
        for sock in self._sockets:
            try:
                sock.close()
            except OSError:
                pass
        for thread in self._threads:
            thread.join(timeout=2.0)

    def _spawn(self, target, *args) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _accept_loop(self) -> None:
        while self._running:
            try:
                ready, _, _ = select.select([self._server], [], [], 0.05)
                if not ready:
                    continue
                client, _ = self._server.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.upstream, timeout=5.0)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            for sock in (client, server):  # frames go out as they come, no Nagle batching
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._sockets += [client, server]
            index = self._connections
            self._connections += 1
            seed = self.profile.seed * 1_000_003 + index * 2
            up = _Direction(self.profile, random.Random(seed), server, self.to_server)
            down = _Direction(self.profile, random.Random(seed + 1), client, self.to_client)
            self._directions += [up, down]
            for direction, source in ((up, client), (down, server)):
                if not direction.immediate:
                    self._spawn(direction.deliver_forever)
                self._spawn(self._pump, source, direction)

    def _pump(self, source: socket.socket, direction: _Direction) -> None:
        while self._running:
            try:
                ready, _, _ = select.select([source], [], [], 0.1)
                if not ready:
                    continue
                data = source.recv(65536)
            except (OSError, ValueError):
                break
            if not data:
                break
            try:
                direction.accept(data)
            except OSError:
                break
        direction.close()
        try:
            direction.destination.shutdown(socket.SHUT_WR)
        except OSError:
            pass


def main(argv: list[str] | None = None) -> None:
    """Command line: run the emulator until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--upstream", required=True, help="vehicle HOST:PORT (TCP)")
    parser.add_argument("--listen", type=int, default=0, help="local port for the GCS (0: any)")
    parser.add_argument("--loss", type=float, default=0.0, help="frame loss, percent")
    parser.add_argument("--dup", type=float, default=0.0, help="frame duplication, percent")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="one-way latency, ms")
    parser.add_argument("--baud", type=int, default=None, help="line rate, bits/s")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    host, port = args.upstream.rsplit(":", 1)
    profile = RadioProfile(loss_pct=args.loss, duplicate_pct=args.dup,
                           latency_s=args.latency_ms / 1000.0, baud=args.baud, seed=args.seed)
    emulator = LinkEmulator((host, int(port)), profile, args.listen).start()
    print(f"link emulator: {emulator.address} -> {args.upstream} ({profile})", flush=True)
    try:
        while True:
            time.sleep(1.0)
    except KeyboardInterrupt:
        emulator.stop()


if __name__ == "__main__":
    main()

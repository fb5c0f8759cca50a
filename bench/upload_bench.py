"""Mission upload speed over TCP loopback against the bound of one request round trip per item.

The item protocol cannot beat one round trip per item: the vehicle asks for item k + 1 only
after it has item k. This script measures that round trip (a MISSION_REQUEST_LIST ->
MISSION_COUNT exchange with the same vehicle), uploads a 600-item spray mission, and prints
items/s for the transfer, the bound 1 / round trip, and their ratio. Vehicles: the simulator
(sim.vehicle.SimVehicle) and the minimal peer of the tests; ``--radio`` adds the same upload
through sim/link_emulator.py as a 57,600-baud radio with 40 ms one-way latency and 2 % loss.

Run: ``python bench/upload_bench.py [--items 600] [--radio]``
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from mavlink_peer import MavlinkPeer  # noqa: E402
from test_bridge_protocol import spray_mission  # noqa: E402

from firmware_bridge import mission_protocol  # noqa: E402
from firmware_bridge.link import Link, connect  # noqa: E402
from sim.link_emulator import LinkEmulator, RadioProfile  # noqa: E402

PINGS = 100


def round_trip_s(link: Link, pings: int = PINGS) -> float:
    """Median seconds of a MISSION_REQUEST_LIST -> MISSION_COUNT exchange."""
    samples = []
    for _ in range(pings):
        start = time.perf_counter()
        link.mav.mission_request_list_send(link.target_system, link.target_component, 0)
        msg = link.recv(["MISSION_COUNT"], 2.0)
        if msg is not None:
            samples.append(time.perf_counter() - start)
    if not samples:
        raise RuntimeError("the vehicle answered no MISSION_REQUEST_LIST")
    return statistics.median(samples)


@contextmanager
def simulator_port():
    from sim.vehicle import SimVehicle

    with SimVehicle(port=0) as vehicle:
        yield vehicle.port


@contextmanager
def peer_port():
    peer = MavlinkPeer().start()
    try:
        yield peer.port
    finally:
        peer.stop()


def measure(name: str, address: str, count: int, timeout_s: float) -> None:
    """Print one line: transfer items/s, bound items/s, ratio, read-back time."""
    link = connect(address, heartbeat_timeout_s=10.0)
    try:
        mission_protocol.clear(link, timeout_s=timeout_s)
        rtt = round_trip_s(link)
        result = mission_protocol.upload(link, spray_mission(count), timeout_s=timeout_s,
                                         retries=10)
    finally:
        link.close()
    bound = 1.0 / rtt
    print(f"{name:<34} {count} items in {result.transfer_s:6.2f} s = "
          f"{result.items_per_s:7.1f} items/s | round trip {rtt * 1000:6.2f} ms -> bound "
          f"{bound:7.1f} items/s | ratio {result.items_per_s / bound:5.2f} | "
          f"read-back {result.verify_s:5.2f} s, resent {result.resent}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=600)
    parser.add_argument("--radio", action="store_true",
                        help="also through an emulated 57,600-baud radio (40 ms, 2 % loss)")
    args = parser.parse_args()
    for name, vehicle in (("simulator, TCP loopback", simulator_port),
                          ("test peer, TCP loopback", peer_port)):
        with vehicle() as port:
            measure(name, f"tcp:127.0.0.1:{port}", args.items, timeout_s=0.5)
            if args.radio:
                radio = LinkEmulator(("127.0.0.1", port), RadioProfile(
                    loss_pct=2.0, latency_s=0.040, baud=57600, seed=1)).start()
                try:
                    measure(f"{name.split(',')[0]}, radio 57600/40ms/2%", radio.address,
                            args.items, timeout_s=0.5)
                finally:
                    radio.stop()


if __name__ == "__main__":
    main()

"""Mission transfer speed: the item protocol against its round-trip bound on loopback, and
MAVLink FTP against the item protocol, and pipelined against one-at-a-time download, over an
emulated telemetry radio.

1. Loopback: the item protocol cannot beat one round trip per item (the vehicle asks for item
   k + 1 only after it has item k). The script measures that round trip (MISSION_REQUEST_LIST
   -> MISSION_COUNT), uploads a 600-item spray mission and prints items/s, the bound
   1 / round trip and their ratio, for the simulator (sim.vehicle.SimVehicle) and the test
   peer; ``--radio`` adds the same upload through the emulated radio.
2. Radio (sim/link_emulator.py: 57,600 baud, 40 ms one-way latency, 2 % loss each way), the
   simulator behind it: the sortie loaded and verified (pipelined read-back) through
   ``firmware_bridge.transfer.load`` with ``transfer="ftp"`` and with ``"items"`` on the same
   link, time ratio FTP / items (target <= 0.25), and whether both left the same mission in
   the vehicle; then the mission downloaded with 8 requests in flight and with one at a time,
   speed ratio (target >= 3) and whether both gave the same items.

Run: ``python bench/upload_bench.py [--items 600] [--radio] [--timeout 0.5]``
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
from firmware_bridge.pipelined_download import pipelined_download  # noqa: E402
from firmware_bridge.transfer import TransferReport, load  # noqa: E402
from sim.link_emulator import LinkEmulator, RadioProfile  # noqa: E402

PINGS = 100
RADIO = RadioProfile(loss_pct=2.0, latency_s=0.040, baud=57600, seed=1)
RADIO_NAME = "radio 57600 baud / 40 ms / 2 % loss"
RADIO_RETRIES = 10


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

    with SimVehicle(port=0, boot_scale=0.01) as vehicle:
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


def _report_line(report: TransferReport) -> str:
    return (f"  load+verify via {report.path:<5} {report.items} items, {report.bytes:6d} bytes "
            f"in {report.seconds:6.2f} s = {report.items_per_s:6.1f} items/s, "
            f"{report.retries} retries")


def radio_comparison(count: int, timeout_s: float) -> None:
    """Print FTP vs item-protocol load+verify, and pipelined vs one-at-a-time download, over
    the emulated radio to the simulator; ``timeout_s`` (s) before a resend."""
    from sim.vehicle import SimVehicle

    items = spray_mission(count)
    print(f"\n{count}-item sortie, simulator behind an emulated {RADIO_NAME}, "
          f"timeout {timeout_s:g} s:")
    with SimVehicle(port=0, boot_scale=0.01) as vehicle:
        radio = LinkEmulator(("127.0.0.1", vehicle.port), RADIO).start()
        link = connect(radio.address, heartbeat_timeout_s=10.0)
        try:
            missions = {}
            reports = {}
            for path in ("ftp", "items"):
                mission_protocol.clear(link, timeout_s=timeout_s, retries=RADIO_RETRIES)
                reports[path] = load(link, items, transfer=path, timeout_s=timeout_s,
                                     retries=RADIO_RETRIES)
                missions[path] = vehicle.call(lambda sim: list(sim.missions.lists[0]))
                print(_report_line(reports[path]))
            ratio = reports["ftp"].seconds / reports["items"].seconds
            print(f"  FTP / items time ratio {ratio:.3f} (target <= 0.25) | same vehicle "
                  f"mission: {missions['ftp'] == missions['items']}")
            downloads = {}
            for window in (mission_protocol.ARDUPILOT_DOWNLOAD_WINDOW, 1):
                downloads[window] = pipelined_download(link, window=window, timeout_s=timeout_s,
                                                       retries=RADIO_RETRIES)
                result = downloads[window]
                print(f"  download, {window} request(s) in flight: {len(result.items)} items in "
                      f"{result.seconds:6.2f} s = {result.items_per_s:6.1f} items/s, "
                      f"{result.resent} resent, {result.duplicates} duplicates")
            piped, single = downloads[mission_protocol.ARDUPILOT_DOWNLOAD_WINDOW], downloads[1]
            print(f"  pipelined / one-at-a-time speed ratio "
                  f"{piped.items_per_s / single.items_per_s:.2f} (target >= 3) | same items: "
                  f"{piped.items == single.items}")
        finally:
            link.close()
            radio.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=600)
    parser.add_argument("--radio", action="store_true",
                        help="also the loopback item-protocol lines through the emulated radio")
    parser.add_argument("--timeout", type=float, default=0.5,
                        help="seconds before a resend on the emulated radio")
    args = parser.parse_args()
    print(f"item protocol, {args.items} items, against one round trip per item:")
    for name, vehicle in (("simulator, TCP loopback", simulator_port),
                          ("test peer, TCP loopback", peer_port)):
        with vehicle() as port:
            measure(name, f"tcp:127.0.0.1:{port}", args.items, timeout_s=0.5)
            if args.radio:
                radio = LinkEmulator(("127.0.0.1", port), RADIO).start()
                try:
                    measure(f"{name.split(',')[0]}, radio 57600/40ms/2%", radio.address,
                            args.items, timeout_s=args.timeout)
                finally:
                    radio.stop()
    radio_comparison(args.items, args.timeout)


if __name__ == "__main__":
    main()

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

3. ``--sitl``: a real ArduPilot SITL (ARDUPILOT_SITL, quad, speedup 1, instance 12): item
   upload, FTP upload (the file written and applied, then the whole load with its pipelined
   read-back) and pipelined download in items/s, each read back and compared item by item,
   beside the figures MAVProxy reaches on the same SITL (../shared/sitl/README.md). SITL holds
   at most 650 items. Goal: FTP upload >= 2,000 items/s, pipelined download >= 800 items/s.

Run: ``python bench/upload_bench.py [--items 600] [--radio] [--timeout 0.5] [--sitl]``
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


MAVPROXY_ITEMS_PER_S = {"item upload": 180.0, "FTP upload": 2400.0, "pipelined download": 810.0}
GOALS_ITEMS_PER_S = {"FTP upload": 2000.0, "pipelined download": 800.0}
SITL_INSTANCE = 12


def _sitl_line(name: str, count: int, seconds: float, same: bool) -> None:
    rate = count / seconds
    reference = MAVPROXY_ITEMS_PER_S.get(name)
    goal = GOALS_ITEMS_PER_S.get(name)
    ref = f"MAVProxy ~{reference:,.0f}" if reference else ""
    verdict = f" | goal >= {goal:,.0f}: {'met' if rate >= goal else 'MISSED'}" if goal else ""
    print(f"  {name:<30} {count} items in {seconds:6.3f} s = {rate:7.0f} items/s | {ref:<16}"
          f"{verdict} | read back identical: {same}")


def sitl_figures(count: int) -> None:
    """Print item upload, FTP upload and pipelined download on real ArduPilot SITL (speedup 1)."""
    import tempfile

    from firmware_bridge.ftp import FtpClient
    from firmware_bridge.mission_file import encode, file_path
    from firmware_bridge.readback import compare_items
    from sim.sitl import launch_sitl, sitl_binary

    binary = sitl_binary()
    if binary is None:
        sys.exit("--sitl needs ARDUPILOT_SITL=/path/to/arducopter")
    items = spray_mission(min(count, mission_protocol.ARDUPILOT_DEFAULT_MAX_ITEMS))
    n = len(items)
    print(f"\nreal ArduPilot SITL ({binary.name}, quad, speedup 1), {n} items:")
    with launch_sitl(binary, home=(31.5204, 74.3587, 215.0), speedup=1.0,
                     instance=SITL_INSTANCE, workdir=Path(tempfile.mkdtemp(prefix="bench-sitl-"))
                     ) as sitl:
        link = connect(sitl.address, heartbeat_timeout_s=30.0)
        try:
            def same() -> bool:
                got = pipelined_download(link, 0).items
                return len(got) == n and compare_items(items, got, "ardupilot", 0) == []

            result = mission_protocol.upload(link, items)
            _sitl_line("item upload", n, result.transfer_s, same())
            mission_protocol.clear(link)
            client = FtpClient(link)
            client.reset_sessions()
            data = encode(items, 0)
            started = time.perf_counter()
            client.write(file_path(0), data)
            _sitl_line("FTP upload", n, time.perf_counter() - started, same())
            mission_protocol.clear(link)
            report = load(link, items, transfer="ftp")
            _sitl_line("FTP upload + pipelined verify", n, report.seconds, same())
            download = pipelined_download(link, 0)
            _sitl_line("pipelined download", len(download.items), download.seconds,
                       compare_items(items, download.items, "ardupilot", 0) == [])
        finally:
            link.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=600)
    parser.add_argument("--radio", action="store_true",
                        help="also the loopback item-protocol lines through the emulated radio")
    parser.add_argument("--timeout", type=float, default=0.5,
                        help="seconds before a resend on the emulated radio")
    parser.add_argument("--sitl", action="store_true",
                        help="only the real ArduPilot SITL figures (needs ARDUPILOT_SITL)")
    args = parser.parse_args()
    if args.sitl:
        sitl_figures(args.items)
        return
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

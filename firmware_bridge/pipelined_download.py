"""Item-protocol download with several MISSION_REQUEST_INT in flight, as MAVProxy does
(MAVProxy/modules/mavproxy_wp.py: ``wp_requested`` holds the outstanding requests, items are
accepted in any order, duplicates dropped, requests unanswered after a timeout sent again).

One request per item still crosses the link, but the round trips overlap: over a radio with
tens of milliseconds of latency the download runs at the link's bandwidth instead of one item
per round trip. ArduPilot answers each MISSION_REQUEST_INT on its own
(libraries/GCS_MAVLink/MissionItemProtocol.cpp, ``handle_mission_request_int``), so requests
may be outstanding together.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from agridrone.errors import AgridroneError
from firmware_bridge.ack_errors import result_name
from firmware_bridge.ftp import Endpoint
from missions.mission import MISSION_TYPE_MISSION, MissionItem

MAV_MISSION_ACCEPTED = 0
KIND_NAMES = {0: "mission", 1: "fence", 2: "rally"}
DEFAULT_WINDOW = 8
DEFAULT_TIMEOUT_S = 1.0
DEFAULT_RETRIES = 5

Progress = Callable[[str, int, int], None]
"""progress(phase, done, total): phase "download"; counts are items."""


@dataclass(frozen=True)
class DownloadResult:
    """A finished download: the ``items`` in seq order, ``requests`` MISSION_REQUEST_INT sent
    (count request excluded), ``resent`` of them after a timeout, ``duplicates`` items
    received more than once, and the time taken in ``seconds`` (s)."""

    items: list[MissionItem]
    requests: int
    resent: int
    duplicates: int
    seconds: float

    @property
    def items_per_s(self) -> float:
        """Items per second over the whole download."""
        return len(self.items) / self.seconds if self.seconds > 0 else float("inf")


def _item_from_msg(msg) -> MissionItem:
    if msg.get_type() == "MISSION_ITEM":  # float degrees: convert to degrees × 1e7
        x, y = int(round(msg.x * 1e7)), int(round(msg.y * 1e7))
    else:
        x, y = int(msg.x), int(msg.y)
    return MissionItem(seq=msg.seq, frame=msg.frame, command=msg.command, param1=msg.param1,
                       param2=msg.param2, param3=msg.param3, param4=msg.param4, x=x, y=y,
                       z=msg.z, autocontinue=msg.autocontinue,
                       mission_type=getattr(msg, "mission_type", 0), current=msg.current)


def _read_count(endpoint: Endpoint, mission_type: int, timeout_s: float, retries: int) -> int:
    last_ack = None
    for _ in range(retries + 1):
        endpoint.mav.mission_request_list_send(endpoint.target_system,
                                               endpoint.target_component, mission_type)
        deadline = time.monotonic() + timeout_s
        while (remaining := deadline - time.monotonic()) > 0:
            msg = endpoint.recv(["MISSION_COUNT", "MISSION_ACK"], remaining)
            if msg is None or getattr(msg, "mission_type", 0) != mission_type:
                continue
            if msg.get_type() == "MISSION_COUNT":
                return int(msg.count)
            if msg.type != MAV_MISSION_ACCEPTED:
                last_ack = msg.type
    refused = f" (last answer MISSION_ACK {result_name(last_ack)})" if last_ack is not None else ""
    raise AgridroneError(f"vehicle did not send its {KIND_NAMES.get(mission_type, mission_type)} "
                         f"count after {retries + 1} requests{refused}")


def pipelined_download(link_or_conn, mission_type: int = MISSION_TYPE_MISSION, *,
                       window: int = DEFAULT_WINDOW, timeout_s: float = DEFAULT_TIMEOUT_S,
                       retries: int = DEFAULT_RETRIES, progress: Progress | None = None,
                       target_system: int | None = None,
                       target_component: int | None = None) -> DownloadResult:
    """The vehicle's mission, fence or rally list (ArduPilot: item 0 is home), keeping up to
    ``window`` MISSION_REQUEST_INT outstanding.

    ``link_or_conn`` is a bridge Link or a pymavlink mavutil connection. Items may arrive in
    any order and more than once; a request unanswered for ``timeout_s`` seconds is sent
    again, at most ``retries`` times, then the download fails with an AgridroneError naming
    the item. Ends with MISSION_ACK ACCEPTED, an empty list too.
    """
    endpoint = Endpoint(link_or_conn, target_system, target_component)
    kind = KIND_NAMES.get(mission_type, str(mission_type))
    started = time.monotonic()
    endpoint.drain()
    count = _read_count(endpoint, mission_type, timeout_s, retries)
    received: dict[int, MissionItem] = {}
    in_flight: dict[int, tuple[float, int]] = {}  # seq -> (sent at, tries)
    next_seq = requests = resent = duplicates = 0

    def request(seq: int, tries: int) -> None:
        nonlocal requests
        endpoint.mav.mission_request_int_send(endpoint.target_system, endpoint.target_component,
                                              seq, mission_type)
        in_flight[seq] = (time.monotonic(), tries)
        requests += 1

    while len(received) < count:
        while next_seq < count and len(in_flight) < max(1, window):
            if next_seq not in received:
                request(next_seq, 1)
            next_seq += 1
        oldest = min(sent for sent, _ in in_flight.values())
        msg = endpoint.recv(["MISSION_ITEM_INT", "MISSION_ITEM"],
                            max(0.0, oldest + timeout_s - time.monotonic()))
        if (msg is not None and getattr(msg, "mission_type", 0) == mission_type
                and 0 <= msg.seq < count):
            if msg.seq in received:
                duplicates += 1
            else:
                received[msg.seq] = _item_from_msg(msg)
                in_flight.pop(msg.seq, None)
                if progress:
                    progress("download", len(received), count)
        now = time.monotonic()
        for seq, (sent, tries) in list(in_flight.items()):
            if now - sent < timeout_s:
                continue
            if tries > retries:
                raise AgridroneError(f"vehicle stopped answering the {kind} download at item "
                                     f"{seq} of {count} after {tries} requests")
            resent += 1
            request(seq, tries + 1)
    # also after a count of 0: PX4 holds its download open until the ACK and refuses the
    # next upload's MISSION_COUNT with MAV_MISSION_ERROR meanwhile
    endpoint.mav.mission_ack_send(endpoint.target_system, endpoint.target_component,
                                  MAV_MISSION_ACCEPTED, mission_type)
    return DownloadResult([received[seq] for seq in range(count)], requests, resent,
                          duplicates, time.monotonic() - started)

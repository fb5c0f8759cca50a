"""Which telemetry messages the vehicle streams, and how often (simulated seconds).

Rates start at zero, as on ArduPilot SITL (its MAV1_* stream-rate parameters default to 0):
nothing but HEARTBEAT flows until the GCS sends REQUEST_DATA_STREAM (rates per stream group, as
ArduPilot groups messages) or SET_MESSAGE_INTERVAL (one message, overriding its group's rate).
"""

from __future__ import annotations

from pymavlink.dialects.v20 import ardupilotmega as mavlink

# ArduPilot's stream groups (MAV_DATA_STREAM id -> messages), restricted to what the sim sends.
STREAM_GROUPS: dict[int, tuple[str, ...]] = {
    mavlink.MAV_DATA_STREAM_EXTENDED_STATUS: (
        "SYS_STATUS", "MISSION_CURRENT", "GPS_RAW_INT", "EXTENDED_SYS_STATE",
    ),
    mavlink.MAV_DATA_STREAM_RC_CHANNELS: ("SERVO_OUTPUT_RAW",),
    mavlink.MAV_DATA_STREAM_POSITION: ("GLOBAL_POSITION_INT", "LOCAL_POSITION_NED"),
    mavlink.MAV_DATA_STREAM_EXTRA1: ("ATTITUDE",),
    mavlink.MAV_DATA_STREAM_EXTRA2: ("VFR_HUD",),
    mavlink.MAV_DATA_STREAM_EXTRA3: ("SYSTEM_TIME", "BATTERY_STATUS", "EKF_STATUS_REPORT"),
}
STREAMED = tuple(name for group in STREAM_GROUPS.values() for name in group)
MESSAGE_IDS: dict[str, int] = {
    name: getattr(mavlink, f"MAVLINK_MSG_ID_{name}") for name in STREAMED
}
NAMES_BY_ID = {msg_id: name for name, msg_id in MESSAGE_IDS.items()}


class StreamSchedule:
    """Per-message send intervals and due times; all times in simulated seconds."""

    def __init__(self) -> None:
        self._group_interval: dict[str, float] = {}
        self._override: dict[str, float | None] = {}
        self._next_due: dict[str, float] = {}

    def request_stream(self, stream_id: int, rate_hz: int, start: bool, now_s: float) -> None:
        """Apply REQUEST_DATA_STREAM: ``rate_hz`` for every message of the group (0/stop = off)."""
        groups = STREAM_GROUPS if stream_id == mavlink.MAV_DATA_STREAM_ALL else {
            stream_id: STREAM_GROUPS.get(stream_id, ())}
        for names in groups.values():
            for name in names:
                if start and rate_hz > 0:
                    self._group_interval[name] = 1.0 / rate_hz
                    self._next_due.setdefault(name, now_s)
                else:
                    self._group_interval.pop(name, None)

    def set_interval(self, msg_id: int, interval_us: float, now_s: float) -> bool:
        """Apply SET_MESSAGE_INTERVAL; False when the message is not one the vehicle streams.

        ``interval_us`` -1 disables the message, 0 restores its group rate.
        """
        name = NAMES_BY_ID.get(int(msg_id))
        if name is None:
            return False
        if interval_us == 0:
            self._override.pop(name, None)
        elif interval_us < 0:
            self._override[name] = None
        else:
            self._override[name] = interval_us / 1e6
            self._next_due[name] = now_s
        return True

    def interval_us(self, msg_id: int) -> int:
        """The current interval in microseconds (-1 = not streamed), as MESSAGE_INTERVAL reports."""
        name = NAMES_BY_ID.get(int(msg_id))
        interval = self._interval(name) if name else None
        return -1 if interval is None else int(round(interval * 1e6))

    def _interval(self, name: str) -> float | None:
        if name in self._override:
            return self._override[name]
        return self._group_interval.get(name)

    def due(self, now_s: float) -> list[str]:
        """Names of the messages due at ``now_s``, in group order; advances their timers."""
        out = []
        for name in STREAMED:
            interval = self._interval(name)
            if interval is None:
                continue
            next_due = self._next_due.get(name, now_s)
            if now_s >= next_due:
                out.append(name)
                following = next_due + interval
                self._next_due[name] = following if following > now_s else now_s + interval
        return out

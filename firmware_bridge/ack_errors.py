"""MISSION_ACK result codes (MAV_MISSION_RESULT) as names and one-line explanations."""

from __future__ import annotations

from pymavlink.dialects.v20 import ardupilotmega as _dialect

MAV_MISSION_ACCEPTED = 0
MAV_MISSION_ERROR = 1
MAV_MISSION_NO_SPACE = 4
MAV_MISSION_INVALID_SEQUENCE = 13
MAV_MISSION_DENIED = 14

_EXPLANATIONS = {
    1: "the vehicle reported a generic error and is not accepting mission items right now",
    2: "the vehicle does not support this item's coordinate frame",
    3: "the vehicle does not support this item's command",
    4: "the vehicle cannot store this many items",
    5: "one of this item's parameters has an invalid value",
    6: "param1 of this item is invalid",
    7: "param2 of this item is invalid",
    8: "param3 of this item is invalid",
    9: "param4 of this item is invalid",
    10: "the latitude (x) of this item is out of range",
    11: "the longitude (y) of this item is out of range",
    12: "the altitude (z) of this item is invalid",
    13: "an item arrived out of sequence",
    14: "the vehicle refuses mission commands from this ground station now "
        "(another transfer in progress?)",
    15: "the vehicle cancelled the transfer (it timed out waiting for items)",
}


def result_name(code: int) -> str:
    """``MAV_MISSION_RESULT`` code as its short name, e.g. 4 -> ``"NO_SPACE"``."""
    entry = _dialect.enums["MAV_MISSION_RESULT"].get(code)
    if entry is None or entry.name.endswith("ENUM_END"):
        return f"RESULT_{code}"
    return entry.name.removeprefix("MAV_MISSION_")


def explain(code: int) -> str:
    """One-line explanation of a MISSION_ACK result code for the user."""
    return _EXPLANATIONS.get(code, "the vehicle rejected the transfer with an unknown result code")

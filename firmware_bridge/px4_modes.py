"""PX4 flight modes and the commands that start a mission, as PX4 understands them.

PX4 packs its mode into HEARTBEAT.custom_mode as main mode in bits 16-23 and sub mode in bits
24-31 (px4_custom_mode.h). AUTO is main mode 4 with sub modes MISSION 4, LOITER 3, RTL 5,
LAND 6, TAKEOFF 2. A mission is flown by DO_SET_MODE (base mode 1 = custom mode enabled,
main 4, sub 4), arming, then MISSION_START. PX4 does not honour REQUEST_DATA_STREAM; telemetry
rates are asked per message with SET_MESSAGE_INTERVAL (in the vehicle's microseconds).
"""

from __future__ import annotations

MAIN_AUTO = 4
SUB_LOITER, SUB_MISSION, SUB_RTL, SUB_LAND = 3, 4, 5, 6
MAV_CMD_SET_MESSAGE_INTERVAL = 511
MAV_MODE_FLAG_CUSTOM_MODE_ENABLED = 1
# GLOBAL_POSITION_INT, SERVO_OUTPUT_RAW, MISSION_CURRENT, BATTERY_STATUS, VFR_HUD
TELEMETRY_IDS = (33, 36, 42, 147, 74)


def custom_mode(main: int, sub: int = 0) -> int:
    """HEARTBEAT.custom_mode of PX4 main mode ``main`` and sub mode ``sub``."""
    return (int(main) << 16) | (int(sub) << 24)


def main_sub(mode: int) -> tuple[int, int]:
    """(main mode, sub mode) of a PX4 custom_mode."""
    return (int(mode) >> 16) & 0xFF, (int(mode) >> 24) & 0xFF


AUTO_MISSION = custom_mode(MAIN_AUTO, SUB_MISSION)
AUTO_RTL = custom_mode(MAIN_AUTO, SUB_RTL)
AUTO_LAND = custom_mode(MAIN_AUTO, SUB_LAND)


def set_mode_params(mode: int) -> tuple[float, float, float]:
    """DO_SET_MODE param1..3 for a PX4 custom_mode: base mode 1, main mode, sub mode."""
    main, sub = main_sub(mode)
    return float(MAV_MODE_FLAG_CUSTOM_MODE_ENABLED), float(main), float(sub)

"""Lua applets agridrone loads into ArduPilot's scripts folder (SCR_ENABLE=1).

PUMP_GUARD: switches the sprayer off whenever the armed vehicle is outside AUTO or a battery
failsafe is active (ArduPilot's AC_Sprayer ignores the flight mode, so a failsafe RTL would
spray on its way home)."""

from pathlib import Path

PUMP_GUARD = Path(__file__).with_name("agridrone_pump_guard.lua")

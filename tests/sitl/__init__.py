"""Tests against a real ArduPilot SITL (``arducopter``), run only when ARDUPILOT_SITL names it."""

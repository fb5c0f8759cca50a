"""Tests against a real ArduPilot SITL (``arducopter``) and PX4 SITL (``run.sh``), run only
when ARDUPILOT_SITL or PX4_SITL names them."""

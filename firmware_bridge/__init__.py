"""Ground-station side of agridrone: load missions, fences, rally points and parameters
into ArduPilot or PX4 over MAVLink, and verify what the vehicle stored.

Modules: :mod:`firmware_bridge.link` (connect, wait for the vehicle), :mod:`firmware_bridge.mission_protocol`
(upload, download, clear, set_current), :mod:`firmware_bridge.params` (sprayer and battery
failsafe parameters, set and read back).
"""

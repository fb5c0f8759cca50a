"""Ground-station side of agridrone: load missions, fences, rally points and parameters
into ArduPilot or PX4 over MAVLink, and verify what the vehicle stored.

Modules: :mod:`firmware_bridge.link` (connect, wait for the vehicle to leave BOOT, LinkLost on a
closed link), :mod:`firmware_bridge.item_check` (what the vehicle would refuse, checked before
sending), :mod:`firmware_bridge.transfer` (all-or-nothing load and fetch by FTP or items),
:mod:`firmware_bridge.mission_protocol` (upload, download, clear, set_current),
:mod:`firmware_bridge.params` (sprayer and battery failsafe parameters, set and read back).
"""

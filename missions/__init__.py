"""Plan → autopilot missions and the files operators use.

``missions.mission`` holds the one mission item type every stage uses and the ArduPilot and
PX4 item builders; ``missions.fence`` the geofence and rally lists; ``missions.files`` the
mission files of a plan; ``missions.formats`` one module per file format (.plan, .waypoints,
KML, GeoJSON); ``missions.progress`` maps a vehicle's progress back onto the plan.
"""

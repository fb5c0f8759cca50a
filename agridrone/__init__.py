"""agridrone: battery-aware boustrophedon spray mission planner for agricultural drones."""

__version__ = "0.1.0"

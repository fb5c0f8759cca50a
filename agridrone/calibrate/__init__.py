"""Learn a drone's energy model from its own flight logs (``agridrone calibrate``).

Pure computation, one job per module: :mod:`.flightlog` (the samples calibration needs),
:mod:`.ardupilot` and :mod:`.px4` (the log readers), :mod:`.segments` (hover, forward
flight, climb and descent), :mod:`.mass` (mass along the flight from the tank), :mod:`.fit`
(the energy model's parameters with uncertainties), :mod:`.holdout` (predicted against
logged energy per flight) and :mod:`.profile_toml` (the calibrated drone TOML).
"""

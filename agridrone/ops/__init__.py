"""A day in the field (``agridrone ops``): several drones on split regions, a pool of battery
packs charged (CC-CV) by chargers on one shared generator, and the schedule that results.

Pure computation, one job per module: :mod:`charging` (the CC-CV law and pack heating),
:mod:`packs` (pack objects and their history), :mod:`regions` (splitting a field and placing
the pads), :mod:`sortie_energy` (the charge a sortie needs, from the planner's energy model),
:mod:`scheduler` (the event simulation), :mod:`bounds` (lower bound, bottleneck, advice),
:mod:`registry` (the SQLite pack registry), :mod:`day` (several fields, plans and the
schedule document) and :mod:`charts` (Gantt and map pictures).
"""

"""Batch planning of many fields: where the fields come from (:mod:`.sources`), the
summary table (:mod:`.summary`), ordered streaming over a pool of worker processes or a
Dask cluster (:mod:`.runner`) and the progress line (:mod:`.progress`). The command that
composes them with the planner and the missions stage is ``agridrone.cli.batch_cmd``."""

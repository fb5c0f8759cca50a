"""Even pass spacing: each cell's passes spread evenly across its width.

The regular scan lines lie one swath apart and the swath generator adds one more pass
where they leave a strip under an edge, so a cell whose width is not a whole number of
swaths had its last two passes closer than the others and that strip got up to twice the
dose. Here every cell keeps its count of passes (the fewest that cover it: its first and
last pass stay where they are, at the edge margin) and the passes between them move so
that all gaps are equal: one spacing per cell, at most the swath.
"""

from __future__ import annotations

import numpy as np
import shapely

from agridrone.coverage.swaths import FlatRings, Passes, pass_at

MOVE_EPS_M = 1e-6  # passes closer than this to their even place stay where they are
COVER_TOL_M2 = 0.01  # a re-laid cell may cover this much less of the region (m²)
GRID_M = 1e-3  # overlay grid (m), as in coverage.metrics


def even_spacing(
    passes: Passes, cells: list[list[int]], inner: FlatRings, outer: FlatRings,
    region: shapely.Geometry, swath_m: float,
) -> tuple[Passes, np.ndarray]:
    """Passes re-laid with equal gaps inside each cell, and each pass's spacing (m).

    ``cells`` are lists of pass indices ordered bottom to top (see
    :func:`agridrone.coverage.decomposition.decompose`); ``inner`` / ``outer`` the
    clip and reach rings of :func:`agridrone.coverage.swaths.clip_rings`. A cell of one
    pass gets the swath as its spacing. A moved pass is the interval of its new line
    that overlaps the old one, its ends run on to the edges it meets; when the new line
    meets the region differently (a small obstacle between two lines), or when the re-laid
    cell would spray less of ``region`` (the sprayable region in the heading frame; e.g. a
    cell whose last pass only covers the tip of a slanted edge), the cell keeps its passes
    one swath apart as they were, and the swath as spacing. The result keeps the pass
    indices.
    """
    y = passes.y.copy()
    x0 = passes.x0.copy()
    x1 = passes.x1.copy()
    spacing = np.full(len(passes), float(swath_m))
    for cell in cells:
        if len(cell) < 2:
            continue
        idx = np.asarray(cell, dtype=np.int64)
        first, last = float(passes.y[idx[0]]), float(passes.y[idx[-1]])
        gap = (last - first) / (len(idx) - 1)
        target = first + gap * np.arange(len(idx))
        moved: list[tuple[int, float, float, float]] = []
        for i, y_new in zip(idx[1:-1], target[1:-1], strict=True):
            if abs(y_new - passes.y[i]) <= MOVE_EPS_M:
                continue
            ends = pass_at(inner, outer, float(y_new), float(passes.x0[i]), float(passes.x1[i]))
            if ends is None:
                moved = []
                break
            moved.append((int(i), float(y_new), *ends))
        if not moved:
            if all(abs(t - passes.y[i]) <= MOVE_EPS_M for i, t in zip(idx, target, strict=True)):
                spacing[idx] = gap
            continue
        new = (y.copy(), x0.copy(), x1.copy())
        for i, y_new, a, b in moved:
            new[0][i], new[1][i], new[2][i] = y_new, a, b
        before = _sprayed_m2(region, passes.y[idx], passes.x0[idx], passes.x1[idx], swath_m)
        after = _sprayed_m2(region, new[0][idx], new[1][idx], new[2][idx], swath_m)
        if after >= before - COVER_TOL_M2:
            y, x0, x1 = new
            spacing[idx] = gap
    return Passes(y, x0, x1, passes.row.copy()), spacing


def _sprayed_m2(region, y: np.ndarray, x0: np.ndarray, x1: np.ndarray, swath_m: float) -> float:
    """Area (m²) of ``region`` under passes (heading frame) one swath wide with flat ends."""
    lines = shapely.linestrings(np.stack([np.column_stack([x0, y]), np.column_stack([x1, y])],
                                         axis=1))
    sprayed = shapely.union_all(shapely.buffer(lines, swath_m / 2, cap_style="flat"),
                                grid_size=GRID_M)
    return float(shapely.intersection(sprayed, region, grid_size=GRID_M).area)

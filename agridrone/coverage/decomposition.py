"""Boustrophedon cellular decomposition of the passes.

Passes on consecutive scan lines that overlap one-to-one belong to one cell, which is
covered back and forth without leaving it; where the count of passes per line changes
(around a hole, at a notch of a non-convex field) cells end and new ones begin.
"""

from __future__ import annotations

import numpy as np

from agridrone.coverage.swaths import Passes
from agridrone.coverage.unique import sorted_unique


def decompose(passes: Passes) -> list[list[int]]:
    """Cells as lists of pass indices, each ordered bottom to top (heading frame).

    Regular passes form the cells; a pass added at a top (bottom) edge joins the cell
    that ends (starts) on the line just below (above) it and overlaps it, or forms a
    cell of its own.
    """
    regular = np.flatnonzero(passes.row >= 0)
    cells: list[list[int]] = []
    cell_of: dict[int, int] = {}
    previous_row = -2
    previous: list[int] = []
    for row in sorted_unique(passes.row[regular]):
        current = [int(i) for i in regular[passes.row[regular] == row]]
        links = _overlaps(passes, previous, current) if row == previous_row + 1 else {}
        back: dict[int, list[int]] = {}
        for p, cs in links.items():
            for c in cs:
                back.setdefault(c, []).append(p)
        for c in current:
            parents = back.get(c, [])
            if len(parents) == 1 and links[parents[0]] == [c]:
                cell = cell_of[parents[0]]
            else:
                cell = len(cells)
                cells.append([])
            cells[cell].append(c)
            cell_of[c] = cell
        previous, previous_row = current, int(row)

    extras = np.flatnonzero(passes.row < 0)
    if extras.size:
        _attach_extras(passes, extras, cells, cell_of)
    return cells


def _overlaps(passes: Passes, lower: list[int], upper: list[int]) -> dict[int, list[int]]:
    """For each pass of ``lower``, the passes of ``upper`` that overlap it in x."""
    return {
        p: [c for c in upper if min(passes.x1[p], passes.x1[c]) > max(passes.x0[p], passes.x0[c])]
        for p in lower
    }


def _attach_extras(passes: Passes, extras: np.ndarray, cells: list[list[int]],
                   cell_of: dict[int, int]) -> None:
    """Each extra pass, in turn, joins the first cell whose last pass overlaps it from
    the row just below it or whose first pass overlaps it from the row just above it, or
    starts a cell of its own. The rows just below and above a pass are found once per pass
    (on the regular passes sorted by height), not once per cell."""
    ys, x0s, x1s, rows = (passes.y.tolist(), passes.x0.tolist(), passes.x1.tolist(),
                          passes.row.tolist())
    regular = np.flatnonzero(passes.row >= 0)
    by_height = regular[np.argsort(passes.y[regular], kind="stable")]
    heights = passes.y[by_height]
    for extra in extras.tolist():
        y, x0, x1 = ys[extra], x0s[extra], x1s[extra]
        below, above = _rows_beside(passes, by_height, heights, y)
        for cell in cells:
            last, first = cell[-1], cell[0]
            if min(x1s[last], x1) > max(x0s[last], x0) and ys[last] < y and below == rows[last]:
                cell.append(extra)
                cell_of[extra] = cell_of[last]
                break
            if min(x1s[first], x1) > max(x0s[first], x0) and ys[first] > y and above == rows[first]:
                cell.insert(0, extra)
                cell_of[extra] = cell_of[first]
                break
        else:
            cell_of[extra] = len(cells)
            cells.append([extra])


def _rows_beside(passes: Passes, by_height: np.ndarray, heights: np.ndarray,
                 y: float) -> tuple[int, int]:
    """The row of the highest regular pass below height ``y`` and of the lowest above it
    (-1 where none): the first of equally high passes in pass order, as ``np.argmax`` /
    ``np.argmin`` over the passes in pass order pick it."""
    k = int(np.searchsorted(heights, y, side="left"))
    below = -1
    if k > 0:
        top = heights[k - 1]
        j = int(np.searchsorted(heights, top, side="left"))
        below = int(passes.row[by_height[j]])
    k = int(np.searchsorted(heights, y, side="right"))
    above = int(passes.row[by_height[k]]) if k < heights.size else -1
    return below, above

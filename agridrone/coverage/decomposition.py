"""Boustrophedon cellular decomposition of the passes.

Passes on consecutive scan lines that overlap one-to-one belong to one cell, which is
covered back and forth without leaving it; where the count of passes per line changes
(around a hole, at a notch of a non-convex field) cells end and new ones begin.
"""

from __future__ import annotations

import numpy as np

from agridrone.coverage.swaths import Passes


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
    for row in np.unique(passes.row[regular]):
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

    for extra in np.flatnonzero(passes.row < 0):
        _attach_extra(passes, int(extra), cells, cell_of)
    return cells


def _overlaps(passes: Passes, lower: list[int], upper: list[int]) -> dict[int, list[int]]:
    """For each pass of ``lower``, the passes of ``upper`` that overlap it in x."""
    return {
        p: [c for c in upper if min(passes.x1[p], passes.x1[c]) > max(passes.x0[p], passes.x0[c])]
        for p in lower
    }


def _attach_extra(passes: Passes, extra: int, cells: list[list[int]], cell_of: dict[int, int]) -> None:
    y = passes.y[extra]
    for cell in cells:
        last, first = cell[-1], cell[0]
        if _overlap(passes, last, extra) and passes.y[last] < y and _nearest_row_below(passes, y) == passes.row[last]:
            cell.append(extra)
            cell_of[extra] = cell_of[last]
            return
        if _overlap(passes, first, extra) and passes.y[first] > y and _nearest_row_above(passes, y) == passes.row[first]:
            cell.insert(0, extra)
            cell_of[extra] = cell_of[first]
            return
    cell_of[extra] = len(cells)
    cells.append([extra])


def _overlap(passes: Passes, a: int, b: int) -> bool:
    return min(passes.x1[a], passes.x1[b]) > max(passes.x0[a], passes.x0[b])


def _nearest_row_below(passes: Passes, y: float) -> int:
    below = (passes.row >= 0) & (passes.y < y)
    return int(passes.row[below][np.argmax(passes.y[below])]) if below.any() else -1


def _nearest_row_above(passes: Passes, y: float) -> int:
    above = (passes.row >= 0) & (passes.y > y)
    return int(passes.row[above][np.argmin(passes.y[above])]) if above.any() else -1

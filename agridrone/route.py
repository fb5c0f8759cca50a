"""The route: legs in flying order, in the field's local metric frame.

A route starts and ends at the station (takeoff and refill point). Spray legs are
passes flown with the pump on; transit legs (turns, dead-head between cells, flights
to and from the station) are flown with the pump off. Coordinates are metres in the
local transverse Mercator frame of :class:`agridrone.geo.LocalFrame`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

LegKind = Literal["spray", "transit", "lead"]


@dataclass(frozen=True)
class Leg:
    """One leg of a route.

    kind: ``"spray"`` (pump on), ``"transit"`` (pump off) or ``"lead"`` (a lead-in or
        lead-out: pump off, straight in line with a pass, flown at spray speed).
    xy: float64 array of shape (n, 2), n >= 2, local metres, in flying order.
    pass_index: for spray legs the 0-based index of the pass in the route's spray
        order (a pass cut at a breakpoint keeps its index in both halves); for lead legs
        the pass they lead into or out of; None for transit legs.
    """

    kind: LegKind
    xy: np.ndarray
    pass_index: int | None = None

    @property
    def length_m(self) -> float:
        """Length of the leg in metres."""
        return polyline_length(self.xy)


def polyline_length(xy: np.ndarray) -> float:
    """Length in metres of a polyline given as an (n, 2) array of local metres."""
    if len(xy) < 2:
        return 0.0
    return float(np.hypot(*np.diff(xy, axis=0).T).sum())


def polyline_lengths(xys: list[np.ndarray]) -> list[float]:
    """:func:`polyline_length` of each polyline (m), the same values, those of the two-point
    polylines in one array operation."""
    out = [0.0] * len(xys)
    pairs = [i for i, xy in enumerate(xys) if len(xy) == 2]
    if pairs:
        ends = np.array([xys[i] for i in pairs], dtype=np.float64)
        d = ends[:, 1] - ends[:, 0]
        for i, length in zip(pairs, np.hypot(d[:, 0], d[:, 1]).tolist(), strict=True):
            out[i] = length
    for i, xy in enumerate(xys):
        if len(xy) != 2:
            out[i] = polyline_length(xy)
    return out


def spray_length_m(legs: list[Leg]) -> float:
    """Total length in metres of the spray legs."""
    return sum(leg.length_m for leg in legs if leg.kind == "spray")


def transit_length_m(legs: list[Leg]) -> float:
    """Total length in metres of the pump-off legs (transits, lead-ins and lead-outs)."""
    return sum(leg.length_m for leg in legs if leg.kind != "spray")

"""What a map of a plan shows, taken from plan.json alone (WGS84): one layer per sortie
(its colour, spray passes with their numbers, transits, liquid and time), the breakpoints
(where a sortie ends inside a pass and the next one resumes) and the station.

preview.png (:mod:`agridrone.preview`) and map.html (:mod:`agridrone.map_html`) draw these
same layers, so the picture, the web map and the printed report name the same sorties and
passes. Pass numbers count from 1 in flying order: pass N is plan.json's ``pass`` N - 1.
"""

from __future__ import annotations

import colorsys
from dataclasses import dataclass

# Tableau 10 without its grey (transits are grey), green and red (the field's outline and the
# no-spray zones), and a dark blue: eight colours that read apart on the light field
BASE_COLOURS = ("#1f77b4", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf",
                "#bcbd22", "#393b79")
GOLDEN = 0.618033988749895
HUES_LEFT_OUT = 0.43  # greens 0.17-0.47 and reds below 0.03 or above 0.90


@dataclass(frozen=True)
class SprayPass:
    """One spray leg: ``number`` (1-based pass number), ``coords`` [[lon, lat], ...] in
    flying order."""

    number: int
    coords: list[list[float]]


@dataclass(frozen=True)
class SortieLayer:
    """One sortie: ``index`` (1-based), ``colour`` (#rrggbb), ``liquid_l`` (L), ``time_s``
    (airborne s), ``passes`` its spray legs, ``transits`` its pump-off legs' coordinates."""

    index: int
    colour: str
    liquid_l: float
    time_s: float
    passes: list[SprayPass]
    transits: list[list[list[float]]]

    @property
    def label(self) -> str:
        """Legend text: ``sortie 3 · 28.3 L · 10:05``."""
        minutes, seconds = divmod(round(self.time_s), 60)
        return f"sortie {self.index} · {self.liquid_l:.1f} L · {minutes}:{seconds:02d}"


@dataclass(frozen=True)
class Breakpoint:
    """Where sortie ``ends`` stopped spraying inside pass ``pass_number`` (1-based) and sortie
    ``resumes`` takes over; ``point`` [lon, lat]."""

    point: list[float]
    pass_number: int
    ends: int
    resumes: int | None

    @property
    def label(self) -> str:
        """``S1 ends · S2 resumes`` (the last sortie resumes nothing)."""
        return f"S{self.ends} ends" + ("" if self.resumes is None else f" · S{self.resumes} resumes")


@dataclass(frozen=True)
class MapLayers:
    """Everything a map of the plan shows; coordinates [lon, lat] (WGS84)."""

    field: dict
    no_spray: dict
    station: list[float]
    sorties: list[SortieLayer]
    breakpoints: list[Breakpoint]


def sortie_colour(index: int) -> str:
    """The colour of sortie ``index`` (1-based): :data:`BASE_COLOURS` in turn, then hues
    spread by the golden ratio (avoiding the field's green and the no-spray red)."""
    if index <= len(BASE_COLOURS):
        return BASE_COLOURS[index - 1]
    # spread over the hues outside the field's greens (0.17-0.47) and the no-spray reds
    u = (index * GOLDEN) % 1.0
    hue = 0.03 + u * (1.0 - HUES_LEFT_OUT)
    if hue > 0.17:
        hue += 0.30
    r, g, b = colorsys.hsv_to_rgb(hue, 0.75, 0.8)
    return f"#{round(r * 255):02x}{round(g * 255):02x}{round(b * 255):02x}"


def map_layers(plan: dict) -> MapLayers:
    """The layers of a plan.json dict."""
    sorties = []
    breakpoints = []
    count = len(plan["sorties"])
    for sortie in plan["sorties"]:
        index = int(sortie["index"])
        passes = [SprayPass(int(leg["pass"]) + 1, leg["coords"])
                  for leg in sortie["legs"] if leg["kind"] == "spray"]
        transits = [leg["coords"] for leg in sortie["legs"] if leg["kind"] != "spray"]
        sorties.append(SortieLayer(index, sortie_colour(index), float(sortie["liquid_l"]),
                                   float(sortie["time_s"]), passes, transits))
        bp = sortie.get("breakpoint")
        if bp is not None:
            breakpoints.append(Breakpoint(list(bp["point"]), int(bp["pass"]) + 1, index,
                                          index + 1 if index < count else None))
    return MapLayers(plan["field"], plan["no_spray"], list(plan["station"]), sorties,
                     breakpoints)


def labelled_passes(layers: MapLayers, most: int = 60) -> list[tuple[SprayPass, str]]:
    """The passes to write a number beside, with their sortie's colour: each pass number once
    (on its longest piece when a breakpoint splits it), and only every k-th number when there
    are more than ``most`` (k = 2, 5, 10, 20, ...), so the labels stay legible."""
    best: dict[int, tuple[float, SprayPass, str]] = {}
    for sortie in layers.sorties:
        for spray in sortie.passes:
            size = _span_deg2(spray.coords)
            if spray.number not in best or size > best[spray.number][0]:
                best[spray.number] = (size, spray, sortie.colour)
    step = 1
    for candidate in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000):
        step = candidate
        if len(best) / candidate <= most:
            break
    return [(spray, colour) for number, (_, spray, colour) in sorted(best.items())
            if number == 1 or number % step == 0]


def _span_deg2(coords: list[list[float]]) -> float:
    """Squared extent of a polyline in degrees² (enough to rank pieces of one pass)."""
    (x0, y0), (x1, y1) = coords[0], coords[-1]
    return (x1 - x0) ** 2 + (y1 - y0) ** 2

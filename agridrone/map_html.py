"""map.html: the plan as one self-contained web page that works offline.

Inline SVG drawn here in Web Mercator pixels, inline CSS and a little inline JavaScript, and
nothing fetched: no CDN, no fonts, no images. It shows the layers of
:mod:`agridrone.map_layers` (field, no-spray zones, each sortie in its colour with its pass
numbers, transits, breakpoints, station), a check box per sortie that shows or hides it, a
tooltip per pass (number, sortie, length, litres) and per breakpoint, and an online
basemap (OpenStreetMap tiles) that is off until the user ticks it; only then does the page
make a request. ``map.html#hide=2,5`` opens it with sorties 2 and 5 hidden,
``map.html#basemap`` with the basemap on.
"""

from __future__ import annotations

import html
import json
import math

import numpy as np

from agridrone.geo import LocalFrame
from agridrone.map_layers import MapLayers, labelled_passes, map_layers

TILE_PX = 256
TARGET_PX = 900.0  # the longer side of the field's box on screen at the chosen zoom
MARGIN_PX = 60.0
MAX_ZOOM = 22
TILE_SERVER = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
TILE_MAX_ZOOM = 19
ATTRIBUTION = "© OpenStreetMap contributors"


def _world_px(lon: float, lat: float, zoom: int) -> tuple[float, float]:
    """Web Mercator (EPSG:3857) pixel of a WGS84 point at ``zoom``: the tile grid's own
    coordinates, 256 px per tile, origin at the north-west corner of the world."""
    size = TILE_PX * 2**zoom
    lat = max(min(lat, 85.05112878), -85.05112878)
    phi = math.radians(lat)
    x = (lon + 180.0) / 360.0 * size
    y = (1.0 - math.log(math.tan(phi) + 1.0 / math.cos(phi)) / math.pi) / 2.0 * size
    return x, y


class _Canvas:
    """Page pixels of WGS84 points: world pixels at one zoom, shifted so the field's box
    (plus a margin) starts at 0, 0."""

    def __init__(self, field: dict) -> None:
        points = [pt for polygon in _polygons(field) for ring in polygon for pt in ring]
        lons = [p[0] for p in points]
        lats = [p[1] for p in points]
        x0, y1 = _world_px(min(lons), min(lats), 0)
        x1, y0 = _world_px(max(lons), max(lats), 0)
        extent = max(x1 - x0, y1 - y0, 1e-12)
        self.zoom = max(0, min(MAX_ZOOM, math.floor(math.log2(TARGET_PX / extent))))
        scale = 2**self.zoom
        self.origin = (x0 * scale - MARGIN_PX, y0 * scale - MARGIN_PX)
        self.width = (x1 - x0) * scale + 2 * MARGIN_PX
        self.height = (y1 - y0) * scale + 2 * MARGIN_PX

    def xy(self, lon: float, lat: float) -> tuple[float, float]:
        x, y = _world_px(lon, lat, self.zoom)
        return x - self.origin[0], y - self.origin[1]

    def points(self, coords: list[list[float]]) -> str:
        return " ".join("{:.1f},{:.1f}".format(*self.xy(lon, lat)) for lon, lat in coords)

    def path(self, geometry: dict) -> str:
        """SVG path data of a (Multi)Polygon, holes included (drawn with fill-rule evenodd)."""
        parts = []
        for polygon in _polygons(geometry):
            for ring in polygon:
                parts.append("M" + " L".join("{:.1f},{:.1f}".format(*self.xy(*pt[:2])) for pt in ring)
                             + " Z")
        return " ".join(parts)


def _polygons(geometry: dict) -> list:
    if geometry["type"] == "Polygon":
        return [geometry["coordinates"]]
    return list(geometry["coordinates"])


def _length_m(xy: np.ndarray) -> float:
    """Length (m) of a polyline (n, 2) in local metres."""
    return float(np.sum(np.hypot(*np.diff(xy, axis=0).T)))


def render_map_html(plan: dict, title: str) -> bytes:
    """The bytes of map.html for a plan.json dict; ``title`` heads the page. The same plan
    gives the same bytes."""
    layers = map_layers(plan)
    canvas = _Canvas(plan["field"])
    frame = LocalFrame(float(plan["frame"]["lon_0"]), float(plan["frame"]["lat_0"]))
    swath_m = float(plan["inputs"]["swath_width_m"])
    rate = float(plan["rate_l_ha"])
    svg = [f'<svg id="map" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {canvas.width:.1f} '
           f'{canvas.height:.1f}" width="{canvas.width:.0f}" height="{canvas.height:.0f}">',
           '<g id="basemap"></g>',
           f'<path id="field" d="{canvas.path(layers.field)}"/>']
    if layers.no_spray.get("coordinates"):
        svg.append(f'<path id="no-spray" d="{canvas.path(layers.no_spray)}"/>')
    labels = {id(spray): colour for spray, colour in labelled_passes(layers)}
    passes = [spray for sortie in layers.sorties for spray in sortie.passes]
    lengths = {id(spray): _length_m(xy) for spray, xy in
               zip(passes, frame.to_local_each([spray.coords for spray in passes]), strict=True)}
    for sortie in layers.sorties:
        svg.append(f'<g class="sortie" id="sortie-{sortie.index}" style="--c:{sortie.colour}">')
        for coords in sortie.transits:
            svg.append(f'<polyline class="transit" points="{canvas.points(coords)}"/>')
        for spray in sortie.passes:
            length = lengths[id(spray)]
            tip = (f"pass {spray.number} · sortie {sortie.index} · {length:.0f} m · "
                   f"{length * swath_m * rate / 10_000:.1f} L")
            svg.append(f'<polyline class="pass" points="{canvas.points(spray.coords)}" '
                       f'data-tip="{html.escape(tip)}"/>')
            if id(spray) in labels:
                (xa, ya), (xb, yb) = canvas.xy(*spray.coords[0]), canvas.xy(*spray.coords[-1])
                svg.append(f'<text class="pass-number" x="{(xa + xb) / 2:.1f}" '
                           f'y="{(ya + yb) / 2 - 4:.1f}">{spray.number}</text>')
        svg.append("</g>")
    for bp in layers.breakpoints:
        x, y = canvas.xy(*bp.point)
        tip = f"{bp.label} · inside pass {bp.pass_number}"
        svg.append(f'<g class="breakpoint" data-tip="{html.escape(tip)}">'
                   f'<circle cx="{x:.1f}" cy="{y:.1f}" r="7"/>'
                   f'<text x="{x + 10:.1f}" y="{y + 16:.1f}">{html.escape(bp.label)}</text></g>')
    sx, sy = canvas.xy(*layers.station)
    star = " ".join(f"{sx + r * math.sin(a):.1f},{sy - r * math.cos(a):.1f}"
                    for k in range(10) for a, r in [(k * math.pi / 5, 12 if k % 2 == 0 else 5)])
    svg.append(f'<g id="station" data-tip="station (takeoff, refill)"><polygon points="{star}"/>'
               f'<text x="{sx + 14:.1f}" y="{sy - 8:.1f}">station</text></g>')
    svg.append("</svg>")
    return _page(title, layers, canvas, "\n".join(svg)).encode("utf-8")


def _page(title: str, layers: MapLayers, canvas: _Canvas, svg: str) -> str:
    toggles = "\n".join(
        f'<label><input type="checkbox" class="toggle" data-sortie="{s.index}" checked>'
        f'<span class="swatch" style="background:{s.colour}"></span>{html.escape(s.label)}</label>'
        for s in layers.sorties)
    settings = json.dumps({"zoom": canvas.zoom, "origin": [round(v, 1) for v in canvas.origin],
                           "width": round(canvas.width, 1), "height": round(canvas.height, 1),
                           "tiles": TILE_SERVER, "tileMaxZoom": TILE_MAX_ZOOM}, sort_keys=True)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src https://tile.openstreetmap.org">
<title>{html.escape(title)}</title>
<style>
body {{ margin: 0; font: 13px system-ui, sans-serif; display: flex; background: #fafafa; }}
#side {{ width: 260px; padding: 10px; border-right: 1px solid #ccc; flex: none; }}
#side h1 {{ font-size: 14px; margin: 0 0 8px; }}
#side label {{ display: block; margin: 3px 0; cursor: pointer; }}
.swatch {{ display: inline-block; width: 18px; height: 6px; margin: 0 6px 2px 2px; vertical-align: middle; }}
#wrap {{ flex: auto; overflow: auto; position: relative; }}
#field {{ fill: #dcefd2; stroke: #3a6b1f; stroke-width: 2; fill-rule: evenodd; }}
#no-spray {{ fill: #f4c7c3; stroke: #b3261e; stroke-width: 1.5; fill-rule: evenodd; }}
body.basemap #field {{ fill-opacity: 0.35; }}
.pass {{ stroke: var(--c); stroke-width: 4; fill: none; }}
.pass:hover {{ stroke-width: 8; }}
.transit {{ stroke: #757575; stroke-width: 1.2; stroke-dasharray: 5 4; fill: none; }}
.pass-number {{ fill: var(--c); font-size: 10px; text-anchor: middle; paint-order: stroke; stroke: #fff; stroke-width: 3px; }}
.breakpoint circle {{ fill: #fff; stroke: #000; stroke-width: 2; }}
.breakpoint text, #station text {{ font-size: 11px; paint-order: stroke; stroke: #fff; stroke-width: 3px; }}
#station polygon {{ fill: #ff8f00; stroke: #000; stroke-width: 1; }}
#tip {{ position: fixed; display: none; background: #fff; border: 1px solid #333; padding: 3px 6px; pointer-events: none; font-size: 12px; }}
#attribution {{ display: none; font-size: 11px; color: #444; }}
body.basemap #attribution {{ display: block; }}
</style></head>
<body>
<div id="side">
<h1>{html.escape(title)}</h1>
<div id="sorties">
{toggles}
</div>
<hr>
<label><input type="checkbox" id="basemap-toggle"> online basemap (OpenStreetMap; needs internet)</label>
<div id="attribution">{ATTRIBUTION}</div>
<p>Hover a pass for its number, sortie, length and litres. A white circle is a breakpoint: a sortie ends inside a pass there and the next one resumes.</p>
</div>
<div id="wrap">
{svg}
</div>
<div id="tip"></div>
<script>
"use strict";
const MAP = {settings};
function show(sortie, visible) {{
  document.getElementById("sortie-" + sortie).style.display = visible ? "" : "none";
}}
for (const box of document.querySelectorAll(".toggle")) {{
  box.addEventListener("change", () => show(box.dataset.sortie, box.checked));
}}
const hidden = (location.hash.match(/hide=([0-9,]+)/) || [null, ""])[1].split(",").filter(Boolean);
for (const box of document.querySelectorAll(".toggle")) {{
  if (hidden.includes(box.dataset.sortie)) {{ box.checked = false; show(box.dataset.sortie, false); }}
}}
const tip = document.getElementById("tip");
for (const item of document.querySelectorAll("[data-tip]")) {{
  item.addEventListener("mousemove", (e) => {{
    tip.textContent = item.dataset.tip; tip.style.display = "block";
    tip.style.left = (e.clientX + 12) + "px"; tip.style.top = (e.clientY + 12) + "px";
  }});
  item.addEventListener("mouseleave", () => {{ tip.style.display = "none"; }});
}}
function drawBasemap() {{
  const layer = document.getElementById("basemap");
  const z = Math.min(MAP.zoom, MAP.tileMaxZoom), k = 2 ** (MAP.zoom - z), size = 256 * k;
  const [ox, oy] = MAP.origin;
  for (let tx = Math.floor(ox / size); tx * size < ox + MAP.width; tx++) {{
    for (let ty = Math.floor(oy / size); ty * size < oy + MAP.height; ty++) {{
      const img = document.createElementNS("http://www.w3.org/2000/svg", "image");
      img.setAttribute("href", MAP.tiles.replace("{{z}}", z).replace("{{x}}", tx).replace("{{y}}", ty));
      img.setAttribute("x", tx * size - ox); img.setAttribute("y", ty * size - oy);
      img.setAttribute("width", size); img.setAttribute("height", size);
      layer.appendChild(img);
    }}
  }}
}}
document.getElementById("basemap-toggle").addEventListener("change", (e) => {{
  const layer = document.getElementById("basemap");
  document.body.classList.toggle("basemap", e.target.checked);
  if (e.target.checked && !layer.firstChild) drawBasemap();
  layer.style.display = e.target.checked ? "" : "none";
}});
if (/basemap/.test(location.hash)) {{
  const box = document.getElementById("basemap-toggle");
  box.checked = true; box.dispatchEvent(new Event("change"));
}}
</script>
</body></html>
"""

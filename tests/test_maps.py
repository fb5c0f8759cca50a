"""preview.png and map.html: each sortie in its own colour with its legend, pass numbers,
breakpoints and the station; map.html self-contained, checked in a real headless Chromium
(the Debian package) by screenshot pixels and by Chromium's own network log."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from agridrone.cli import main
from agridrone.map_layers import BASE_COLOURS, map_layers, sortie_colour

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="needs a headless Chromium (Debian: apt-get install chromium)")


@pytest.fixture(scope="module")
def planned(tmp_path_factory) -> tuple[Path, dict, str]:
    """The L-shaped sample field with its obstacles: four sorties, three breakpoints."""
    out = tmp_path_factory.mktemp("maps") / "out"
    result = CliRunner().invoke(main, ["plan", "example:sahiwal_L_with_obstacles", "-o", str(out)])
    assert result.exit_code == 0, result.output
    plan = json.loads((out / "plan.json").read_text())
    assert len(plan["sorties"]) >= 3 and sum(s["breakpoint"] is not None for s in plan["sorties"]) >= 2
    return out, plan, result.output


def _rgb(colour: str) -> np.ndarray:
    return np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)])


def _pixels_of(image: Image.Image, colour: str, tolerance: int = 6) -> int:
    """How many pixels are within ``tolerance`` (per channel) of ``colour``."""
    rgb = np.asarray(image.convert("RGB"), dtype=np.int16)
    return int(np.all(np.abs(rgb - _rgb(colour)) <= tolerance, axis=2).sum())


def test_sortie_colours_differ_and_avoid_the_field_colours():
    colours = [sortie_colour(i) for i in range(1, 201)]
    assert colours[:len(BASE_COLOURS)] == list(BASE_COLOURS)
    assert len(set(colours[:40])) == 40
    for colour in colours:
        r, g, b = _rgb(colour)
        assert not (g > r + 40 and g > b + 40), colour  # no field green
        assert not (r > g + 90 and r > b + 90 and g < 60), colour  # no no-spray red


def test_layers_come_from_the_plan(planned):
    _, plan, _ = planned
    layers = map_layers(plan)
    assert [s.index for s in layers.sorties] == [s["index"] for s in plan["sorties"]]
    for layer, sortie in zip(layers.sorties, plan["sorties"], strict=True):
        minutes, seconds = divmod(round(sortie["time_s"]), 60)
        assert layer.label == f"sortie {sortie['index']} · {sortie['liquid_l']:.1f} L · {minutes}:{seconds:02d}"
        assert [p.number for p in layer.passes] == [
            leg["pass"] + 1 for leg in sortie["legs"] if leg["kind"] == "spray"]
    ends = [(s["index"], s["breakpoint"]["pass"] + 1) for s in plan["sorties"] if s["breakpoint"]]
    assert [(b.ends, b.pass_number) for b in layers.breakpoints] == ends
    for bp in layers.breakpoints:
        assert bp.resumes == bp.ends + 1 and bp.label == f"S{bp.ends} ends · S{bp.ends + 1} resumes"


def test_report_names_the_breakpoint_passes_the_maps_show(planned):
    _, plan, report = planned
    for sortie in plan["sorties"]:
        if sortie["breakpoint"]:
            assert f"inside pass {sortie['breakpoint']['pass'] + 1}" in report


def test_preview_draws_every_sortie_in_its_colour(planned):
    out, plan, _ = planned
    image = Image.open(out / "preview.png")
    for sortie in plan["sorties"]:
        assert _pixels_of(image, sortie_colour(sortie["index"])) > 20, sortie["index"]
    station_orange = "#ff8f00"
    assert _pixels_of(image, station_orange) > 20


def test_preview_draws_each_pass_where_it_is_in_its_sorties_colour(planned):
    """At the quarter points of the spray passes (away from the pass numbers at the middle)
    the picture has the pass's sortie colour within a pixel, all but the few a breakpoint's
    label box covers; the station's orange is at the station."""
    from agridrone.field import load_field
    from agridrone.preview import draw_preview

    out, plan, _ = planned
    image = np.asarray(Image.open(out / "preview.png").convert("RGB"), dtype=np.int16)
    field = load_field("example:sahiwal_L_with_obstacles")
    canvas = draw_preview(field, plan, "")  # the same drawing, to read its world -> pixel transform
    layers = map_layers(plan)
    checked, hidden = 0, []
    for sortie in layers.sorties:
        colour = _rgb(sortie.colour)
        for spray in sortie.passes:
            xy = field.frame.to_local(np.asarray(spray.coords, dtype=np.float64))
            for t in (0.25, 0.75):
                c, r = np.round(canvas.px(xy[0] + t * (xy[-1] - xy[0]))[0]).astype(int)
                patch = image[r - 1: r + 2, c - 1: c + 2]
                if not np.all(np.abs(patch - colour) <= 6, axis=2).any():
                    hidden.append((sortie.index, spray.number, t))
                checked += 1
    assert checked >= 2 * 40 and len(hidden) <= len(layers.breakpoints), hidden
    c, r = np.round(canvas.px(field.frame.to_local(np.asarray([layers.station])))[0]).astype(int)
    assert np.all(np.abs(image[r - 2: r + 3, c - 2: c + 3] - _rgb("#ff8f00")) <= 6, axis=2).any()


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def test_map_html_is_self_contained_with_a_layer_per_sortie(planned):
    out, plan, _ = planned
    text = (out / "map.html").read_text(encoding="utf-8")
    parser = _Tags()
    parser.feed(text)
    tags = parser.tags
    assert not [t for t, a in tags if t in ("link", "img", "iframe", "object", "embed")]
    assert not [a for t, a in tags if t == "script" and "src" in a]
    assert not [a for t, a in tags if "href" in a or "src" in a]
    assert "@import" not in text and "url(" not in text
    groups = [a["id"] for t, a in tags if t == "g" and a.get("class") == "sortie"]
    assert groups == [f"sortie-{s['index']}" for s in plan["sorties"]]
    tips = [a["data-tip"] for t, a in tags if t == "polyline" and a.get("class") == "pass"]
    spray_legs = [(leg["pass"] + 1, s["index"]) for s in plan["sorties"] for leg in s["legs"]
                  if leg["kind"] == "spray"]
    assert len(tips) == len(spray_legs)
    for tip, (number, sortie) in zip(tips, spray_legs, strict=True):
        assert tip.startswith(f"pass {number} · sortie {sortie} · ")
    toggles = [a["data-sortie"] for t, a in tags if t == "input" and a.get("class") == "toggle"]
    assert toggles == [str(s["index"]) for s in plan["sorties"]]
    basemap = next(a for t, a in tags if t == "input" and a.get("id") == "basemap-toggle")
    assert "checked" not in basemap


def _chromium(page: Path, fragment: str, tmp_path: Path, name: str) -> tuple[Image.Image, list]:
    """Screenshot of ``page#fragment`` and the URLs the page asked for (from Chromium's net
    log: requests with an initiator; Chromium's own update checks have none). Host
    resolution is mapped to nothing, so no request leaves the machine."""
    shot, log = tmp_path / f"{name}.png", tmp_path / f"{name}-net.json"
    subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
         f"--user-data-dir={tmp_path / (name + '-profile')}", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--host-resolver-rules=MAP * ~NOTFOUND", "--window-size=1400,1100",
         "--virtual-time-budget=3000", f"--screenshot={shot}", f"--log-net-log={log}",
         f"{page.resolve().as_uri()}{fragment}"],
        check=True, capture_output=True, timeout=120)
    events = json.loads(log.read_text())
    types = {v: k for k, v in events["constants"]["logEventTypes"].items()}
    requested = [e["params"]["url"] for e in events["events"]
                 if types.get(e["type"]) == "URL_REQUEST_START_JOB" and "url" in e.get("params", {})
                 and e["params"].get("initiator") != "not an origin"]
    return Image.open(io.BytesIO(shot.read_bytes())), requested


@needs_chromium
def test_map_html_in_chromium_shows_every_sortie_and_asks_for_nothing(planned, tmp_path):
    out, plan, _ = planned
    image, requested = _chromium(out / "map.html", "", tmp_path, "all")
    assert [url for url in requested if not url.startswith("file:")] == []
    for sortie in plan["sorties"]:
        assert _pixels_of(image, sortie_colour(sortie["index"])) > 50, sortie["index"]
    assert _pixels_of(image, "#ff8f00") > 20  # the station
    assert _pixels_of(image, "#f4c7c3") > 200  # the no-spray zones


@needs_chromium
def test_map_html_toggle_hides_a_sortie(planned, tmp_path):
    out, plan, _ = planned
    image, _ = _chromium(out / "map.html", "#hide=2", tmp_path, "hide2")
    # the check box swatch of sortie 2 keeps its colour: count only the map (right of the panel)
    map_part = image.crop((280, 0, image.width, image.height))
    assert _pixels_of(map_part, sortie_colour(2)) == 0
    for sortie in plan["sorties"]:
        if sortie["index"] != 2:
            assert _pixels_of(map_part, sortie_colour(sortie["index"])) > 50


@needs_chromium
def test_basemap_is_fetched_only_when_asked_for(planned, tmp_path):
    out, _, _ = planned
    _, requested = _chromium(out / "map.html", "#basemap", tmp_path, "basemap")
    assert any(url.startswith("https://tile.openstreetmap.org/") for url in requested)


def test_a_plan_of_many_sorties_still_draws(tmp_path):
    from test_mission_helpers import holed_plan

    from agridrone.map_html import render_map_html
    from agridrone.preview import render_preview
    from agridrone.resume import field_from_plan

    plan = holed_plan()
    one = plan["sorties"][0]
    plan["sorties"] = [{**one, "index": k} for k in range(1, 121)]
    image = Image.open(io.BytesIO(render_preview(field_from_plan(plan), plan, "120 sorties")))
    assert image.size == (1100, 800)
    assert _pixels_of(image, sortie_colour(120)) > 0  # the last sortie is drawn on top
    page = render_map_html(plan, "120 sorties").decode()
    assert page.count('class="toggle"') == 120

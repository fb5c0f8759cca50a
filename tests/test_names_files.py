"""Names and files: sortie files sort in flying order, written files get the user's umask
mode (not tempfile's 0600), field names in any script draw without warnings, and library
warnings stay out of the commands' output."""

from __future__ import annotations

import copy
import os
import shutil
import stat
import warnings
from pathlib import Path

import numpy as np
import pytest
import shapely
from click.testing import CliRunner
from test_mission_helpers import holed_plan

from agridrone import text_fonts
from agridrone.cli import main
from agridrone.examples import FIELD_DIR
from agridrone.outputs import write_bytes_atomic, write_files_atomically
from missions.files import render_mission_files, sortie_stem
from missions.formats import read_waypoints, write_waypoints
from missions.mission import build_mission

URDU = "ساہیوال_کا_کھیت"
CHINESE = "拉合尔农田"


def test_sortie_stems_pad_to_the_count():
    assert sortie_stem(7, 12) == "sortie-07"
    assert sortie_stem(7, 99) == "sortie-07"
    assert sortie_stem(7, 120) == "sortie-007"
    assert sortie_stem(120, 120) == "sortie-120"
    assert sortie_stem(3, 1000) == "sortie-0003"


def test_a_plan_of_120_sorties_names_its_files_in_flying_order():
    plan = holed_plan()
    one = plan["sorties"][0]
    plan["sorties"] = [{**copy.deepcopy(one), "index": k} for k in range(1, 121)]
    files, _ = render_mission_files(plan, autopilot="ardupilot")
    stems = [name.removesuffix(".plan") for name in files if name.endswith(".plan")]
    assert stems == sorted(stems)  # the order they were made in: sortie 1, 2, ..., 120
    assert stems[0] == "sortie-001" and stems[99] == "sortie-100" and stems[-1] == "sortie-120"


@pytest.fixture(params=[0o022, 0o002, 0o077])
def umask(request):
    old = os.umask(request.param)
    yield request.param
    os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_single_file_writes_get_the_umask_mode(tmp_path, umask):
    path = write_bytes_atomic(tmp_path / "a.txt", b"x")
    assert _mode(path) == 0o666 & ~umask
    items = build_mission(holed_plan(), 1, autopilot="ardupilot")[0]
    download = write_waypoints(tmp_path / "download.waypoints", items)  # what `download` writes
    assert _mode(download) == 0o666 & ~umask
    assert len(read_waypoints(download).mission) == len(items)


def test_plan_outputs_get_the_umask_mode(tmp_path, umask):
    written = write_files_atomically(tmp_path / "out", {"plan.json": b"{}", "f/g.txt": b"y"})
    for path in written:
        assert _mode(path) == 0o666 & ~umask, path
    assert _mode(tmp_path / "out") == 0o777 & ~umask


def test_plan_command_files_are_readable_by_the_group(tmp_path):
    old = os.umask(0o022)
    try:
        result = CliRunner().invoke(main, ["plan", "example:lahore_rect_2ha", "-o", str(tmp_path / "o")])
    finally:
        os.umask(old)
    assert result.exit_code == 0, result.output
    modes = {p.name: _mode(p) for p in (tmp_path / "o").iterdir()}
    assert modes and set(modes.values()) == {0o644}, modes


def _fonts_for(text: str) -> bool:
    return text_fonts.drawable(text) == text


@pytest.mark.parametrize("name", [URDU, CHINESE])
def test_field_names_in_any_script_draw_without_warnings(tmp_path, name):
    if not _fonts_for(name):
        pytest.skip("needs fonts with Urdu and Chinese glyphs "
                    "(Debian: apt-get install fonts-noto-core fonts-wqy-microhei)")
    field = tmp_path / f"{name}.geojson"
    shutil.copy(FIELD_DIR / "lahore_rect_2ha.geojson", field)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # a missing glyph would fail the plan
        warnings.filterwarnings("ignore", category=PendingDeprecationWarning)
        result = CliRunner().invoke(main, ["plan", str(field), "-o", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    assert "Glyph" not in result.output and "findfont" not in result.output
    assert name in result.output  # the report keeps the name as written


def test_without_fonts_for_a_script_its_characters_become_question_marks(monkeypatch, tmp_path):
    base = [entry for entry in text_fonts._installed() if entry[0] == text_fonts.BASE_FAMILY]
    monkeypatch.setattr(text_fonts, "_installed", lambda: tuple(base))
    assert text_fonts.drawable(f"{CHINESE}: 2 ha") == "?????: 2 ha"
    field = tmp_path / f"{CHINESE}.geojson"
    shutil.copy(FIELD_DIR / "lahore_rect_2ha.geojson", field)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        warnings.filterwarnings("ignore", category=PendingDeprecationWarning)
        result = CliRunner().invoke(main, ["plan", str(field), "-o", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output


def test_shapely_runtime_warnings_stay_out_of_command_output():
    result = CliRunner().invoke(main, ["drones"])
    assert result.exit_code == 0
    with warnings.catch_warnings(record=True) as caught:
        shapely.linestrings(np.array([[np.nan, 0.0], [1.0, 1.0]]))
        shapely.LineString([(0, 0), (1, 1)]).intersection(shapely.Polygon())
    assert [w for w in caught if issubclass(w.category, RuntimeWarning)] == []


def test_a_right_to_left_name_is_isolated_in_the_title():
    assert text_fonts.isolate(URDU) == f"\u2068{URDU}\u2069"
    assert text_fonts.drawable(text_fonts.isolate("field")) == "\u2068field\u2069"


def test_latin_titles_ask_for_the_base_family_only_and_other_scripts_for_the_fallbacks():
    assert text_fonts.font_families("Farm 7: 2.00 ha at 56.7° ±10 % ×1.5") == [text_fonts.BASE_FAMILY]
    if not _fonts_for(URDU):
        pytest.skip("needs fonts with Urdu glyphs (Debian: apt-get install fonts-noto-core)")
    families = text_fonts.font_families(text_fonts.isolate(URDU))
    assert families[0] == text_fonts.BASE_FAMILY and len(families) > 1
    assert families == text_fonts.font_families()

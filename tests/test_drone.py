"""Drone profiles: presets, validation messages, the `agridrone drones` listing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agridrone.drone import PRESET_DIR, DroneProfile, list_presets, load_drone, preset_names
from agridrone.errors import AgridroneError

PRESET_TEXT = (PRESET_DIR / "agras-t30.toml").read_text()


def write_profile(tmp_path: Path, text: str) -> str:
    path = tmp_path / "custom.toml"
    path.write_text(text)
    return str(path)


def test_presets_cover_the_three_classes():
    presets = {d.name: d for d in list_presets()}
    assert set(preset_names()) == set(presets)
    quad = [d for d in presets.values() if d.rotor_count == 4 and 6.0 <= d.tank_l <= 12.0]
    mid = [d for d in presets.values() if d.rotor_count >= 6 and 20.0 <= d.tank_l <= 30.0]
    big = [d for d in presets.values() if d.rotor_count == 8 and d.tank_l >= 40.0]
    assert quad and mid and big
    for d in presets.values():
        assert d.published is not None and "www.dji.com" in d.published.source
        # the maker's empty figure is the airframe with its battery
        assert d.takeoff_mass_kg(0.0) == pytest.approx(d.published.hover_empty_takeoff_kg)


def test_load_by_name_and_by_path_agree(tmp_path):
    by_name = load_drone("agras-t30")
    by_path = load_drone(write_profile(tmp_path, PRESET_TEXT))
    assert by_name == by_path
    assert isinstance(by_name, DroneProfile)
    assert by_name.battery.cells_series == 14 and by_name.battery.chemistry == "lipo"


def test_as_dict_is_plain_json():
    d = load_drone("agras-t40")
    data = json.loads(json.dumps(d.as_dict()))
    assert data["tank_l"] == 40.0
    assert data["battery"]["capacity_ah"] == 30.0
    assert data["published"]["hover_loaded_min"] == 7.0


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("tank_l = 30.0", "tank_l = 300.0", r"'tank_l' = 300.0 is out of range; allowed 0.5..100 L"),
        ("rotor_count = 6", "rotor_count = 6.5", r"'rotor_count' = 6.5 must be an integer in 3..16"),
        ("capacity_ah = 29.0", "capacity_ah = -1.0", r"'battery.capacity_ah' = -1.0 is out of range; allowed 0.5..300 Ah"),
        ("cutoff_v_per_cell = 3.3", "cutoff_v_per_cell = 2.5", r"'battery.cutoff_v_per_cell' = 2.5 is out of range; allowed 3..3.8 V for lipo"),
        ('chemistry = "lipo"', 'chemistry = "nimh"', r"'battery.chemistry' = 'nimh'; allowed: lipo, li-ion, lifepo4"),
        ("figure_of_merit = 0.52", 'figure_of_merit = "high"', r"'figure_of_merit' = 'high' must be a number in 0.2..0.85"),
        ("pump_w = 100.0", "pump_w = 100.0\nspeed = 3", r"unknown key 'speed'"),
        ("swath_width_m = 9.0\n", "", r"missing key 'swath_width_m' \(1..30 m\)"),
        ("state_of_health_pct = 100.0", "state_of_health_pct = 40.0", r"'battery.state_of_health_pct' = 40.0 is out of range; allowed 50..100 %"),
    ],
)
def test_bad_profile_names_key_and_range(tmp_path, old, new, expected):
    assert old in PRESET_TEXT
    path = write_profile(tmp_path, PRESET_TEXT.replace(old, new, 1))
    with pytest.raises(AgridroneError, match=expected) as err:
        load_drone(path)
    assert "custom.toml" in str(err.value)


def test_lifepo4_accepts_its_own_cutoff(tmp_path):
    text = PRESET_TEXT.replace('chemistry = "lipo"', 'chemistry = "lifepo4"').replace(
        "cutoff_v_per_cell = 3.3", "cutoff_v_per_cell = 2.8")
    assert load_drone(write_profile(tmp_path, text)).battery.cutoff_v_per_cell == 2.8


def test_unknown_preset_lists_the_presets():
    with pytest.raises(AgridroneError, match="unknown drone 'agras-t99'; presets: agras-t10, agras-t30, agras-t40"):
        load_drone("agras-t99")


def test_broken_toml_and_missing_file(tmp_path):
    with pytest.raises(AgridroneError, match="not valid TOML"):
        load_drone(write_profile(tmp_path, "tank_l = = 3"))
    with pytest.raises(AgridroneError, match="not found"):
        load_drone(str(tmp_path / "nope.toml"))


def test_drones_command_lists_presets_with_hover_times():
    cli = pytest.importorskip("agridrone.cli")
    from click.testing import CliRunner

    result = CliRunner().invoke(cli.main, ["drones"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split()[:3] == ["name", "tank", "L"]
    t30 = next(line for line in lines if line.startswith("agras-t30"))
    assert "14S 29Ah lipo" in t30 and "36.5" in t30 and "66.5" in t30
    assert "21.1/8.1" in t30  # model hover minutes, empty/loaded
    assert "20.5/7.8 at 36.5/66.5 kg" in t30
    bad = CliRunner().invoke(cli.main, ["drones", "--temp", "99"])
    assert bad.exit_code == 2 and "error: air temperature 99.0 °C is out of range" in bad.output

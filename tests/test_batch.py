"""agridrone batch: every field planned as `agridrone plan` plans it, bad fields as error
rows, --resume, --summary-only, and the same summary on a Dask LocalCluster."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys

import pytest
from click.testing import CliRunner

from agridrone.cli import main
from agridrone.examples import FIELD_DIR
from bench.scale_fields import scale_field

SAMPLES = ("lahore_rect_2ha", "sahiwal_L_with_obstacles")


def _district(path, extra: bool = True):
    features = []
    for name in SAMPLES:
        document = json.loads((FIELD_DIR / f"{name}.geojson").read_text())
        geometry = document["features"][0]["geometry"] if "features" in document else document
        features.append({"type": "Feature", "properties": {"parcel": name}, "geometry": geometry})
    if extra:
        features.append({"type": "Feature", "properties": {"parcel": "holes"},
                         "geometry": scale_field(3.0, 60, 2, seed=5)})
        features.append({"type": "Feature", "properties": {"parcel": "bowtie"}, "geometry": {
            "type": "Polygon",
            "coordinates": [[[74.0, 31.0], [74.001, 31.001], [74.001, 31.0], [74.0, 31.001], [74.0, 31.0]]]}})
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def _rows(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def _run(*args):
    result = CliRunner().invoke(main, ["batch", *map(str, args)], catch_exceptions=False)
    return result


def test_batch_rows_match_single_plans_and_a_bad_field_is_a_row(tmp_path):
    district = _district(tmp_path / "district.geojson")
    result = _run(district, "--id", "parcel", "-o", tmp_path / "out", "--jobs", "2")
    assert result.exit_code == 0, result.output
    rows = _rows(tmp_path / "out" / "summary.csv")
    assert [r["id"] for r in rows] == [*SAMPLES, "holes", "bowtie"]
    assert rows[-1]["error"].startswith(f"{district}#bowtie: ") and "self-intersection" in rows[-1]["error"]
    assert "\n" not in rows[-1]["error"] and rows[-1]["sorties"] == ""
    for row in rows[:-1]:
        assert row["error"] == ""
        plan = json.loads((tmp_path / "out" / "fields" / row["id"] / "plan.json").read_text())
        assert int(row["sorties"]) == len(plan["sorties"])
        assert float(row["liquid_l"]) == plan["totals"]["liquid_l"]
        assert float(row["dose_cv_pct"]) == plan["metrics"]["dose"]["cv_pct"]
    # the same field through `agridrone plan` gives the same files but for the input's name
    single = tmp_path / "single"
    (tmp_path / "one.geojson").write_text(json.dumps(
        json.loads(district.read_text())["features"][1]))
    assert CliRunner().invoke(main, ["plan", str(tmp_path / "one.geojson"), "-o", str(single)]).exit_code == 0
    batch_plan = json.loads((tmp_path / "out/fields/sahiwal_L_with_obstacles/plan.json").read_text())
    single_plan = json.loads((single / "plan.json").read_text())
    for document in (batch_plan, single_plan):
        document["inputs"].pop("field_file")
        document["field"].pop("name", None)
    assert batch_plan["sorties"] == single_plan["sorties"]
    assert batch_plan["metrics"] == single_plan["metrics"]
    assert (tmp_path / "out" / "summary.parquet").exists() == _has_pyarrow()


def _has_pyarrow() -> bool:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return False
    return True


def test_folder_batch_writes_the_files_plan_writes(tmp_path):
    folder = tmp_path / "fields"
    folder.mkdir()
    shutil.copy(FIELD_DIR / "lahore_rect_2ha.geojson", folder)
    (folder / "notes.txt").write_text("not a field")
    assert _run(folder, "-o", tmp_path / "out", "--jobs", "1").exit_code == 0
    single = tmp_path / "single"
    CliRunner().invoke(main, ["plan", str(folder / "lahore_rect_2ha.geojson"), "-o", str(single)])
    planned = tmp_path / "out" / "fields" / "lahore_rect_2ha"
    assert sorted(p.name for p in planned.iterdir()) == sorted(p.name for p in single.iterdir())
    for path in single.iterdir():
        assert (planned / path.name).read_bytes() == path.read_bytes(), path.name


def test_summary_only_and_resume(tmp_path):
    district = _district(tmp_path / "district.geojson")
    out = tmp_path / "out"
    assert _run(district, "--id", "parcel", "-o", out, "--summary-only", "--jobs", "1").exit_code == 0
    assert not (out / "fields").exists()
    first = _rows(out / "summary.csv")
    # a resumed batch keeps the good rows, plans only the failed one again
    result = _run(district, "--id", "parcel", "-o", out, "--summary-only", "--resume", "--jobs", "1")
    assert result.exit_code == 0
    again = _rows(out / "summary.csv")
    assert sorted(r["id"] for r in again) == sorted(r["id"] for r in first)
    assert {r["id"]: r for r in again} == {r["id"]: r for r in first}
    assert "3/4 fields" in result.output or "4/4 fields" in result.output


def test_summary_only_never_imports_matplotlib(tmp_path):
    district = _district(tmp_path / "district.geojson", extra=False)
    code = ("import sys; from agridrone.cli import main\n"
            f"sys.argv = ['agridrone', 'batch', {str(district)!r}, '-o', {str(tmp_path / 'o')!r}, "
            "'--summary-only', '--jobs', '1']\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "assert 'matplotlib' not in sys.modules, 'matplotlib imported'\n")
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)


def test_bad_fields_argument_is_one_error_line(tmp_path):
    result = subprocess.run([sys.executable, "-m", "agridrone", "batch", str(tmp_path / "nope"),
                             "-o", str(tmp_path / "o")], capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.strip().startswith("error: ") and len(result.stderr.strip().splitlines()) == 1


def test_dask_cluster_gives_the_local_summary(tmp_path):
    distributed = pytest.importorskip("dask.distributed")
    district = _district(tmp_path / "district.geojson")
    assert _run(district, "--id", "parcel", "-o", tmp_path / "local", "--summary-only",
                "--jobs", "2").exit_code == 0
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  dashboard_address=None) as cluster:
        result = _run(district, "--id", "parcel", "-o", tmp_path / "dask", "--summary-only",
                      "--dask", cluster.scheduler_address)
    assert result.exit_code == 0, result.output
    local = _rows(tmp_path / "local" / "summary.csv")
    remote = _rows(tmp_path / "dask" / "summary.csv")
    assert len(local) == 4
    for a, b in zip(local, remote, strict=True):
        assert a == b

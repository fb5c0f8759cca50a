"""summary.csv (and summary.parquet): one row per field of a batch, written as the fields
finish so that memory stays flat and an interrupted batch can be resumed."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from agridrone.outputs import write_bytes_atomic

COLUMNS = (
    "id", "area_ha", "sprayable_ha", "sorties", "lower_bound_sorties", "liquid_l", "energy_wh",
    "time_s", "coverage_pct", "overlap_pct", "dose_mean_l_ha", "dose_cv_pct",
    "dose_within_10_pct", "dose_within_20_pct", "dose_outside_field_l", "warnings", "error",
)
NUMERIC = COLUMNS[1:-2]


def summary_row(field_id: str, document: dict, warnings: int) -> dict:
    """The summary row of a planned field from its plan.json document: areas (ha), sorties
    and their lower bound, liquid (L), energy (Wh), time incl. swaps (s), coverage and
    overlap (%), dose mean (L/ha), CV (%), share within ±10 / ±20 % (%), liquid landing
    outside the field (L), the number of warnings."""
    metrics, totals, dose = document["metrics"], document["totals"], document["metrics"]["dose"]
    return {
        "id": field_id, "area_ha": metrics["area_ha"], "sprayable_ha": metrics["sprayable_ha"],
        "sorties": totals["sorties"], "lower_bound_sorties": document["lower_bound_sorties"],
        "liquid_l": totals["liquid_l"], "energy_wh": totals["energy_wh"],
        "time_s": totals["time_s"], "coverage_pct": metrics["coverage_pct"],
        "overlap_pct": metrics["overlap_pct"], "dose_mean_l_ha": dose["mean_l_ha"],
        "dose_cv_pct": dose["cv_pct"], "dose_within_10_pct": dose["within_10_pct"],
        "dose_within_20_pct": dose["within_20_pct"],
        "dose_outside_field_l": dose["outside_field_l"], "warnings": warnings, "error": "",
    }


def error_row(field_id: str, message: str) -> dict:
    """The row of a field that could not be planned: its id and the one-line error."""
    row = {column: "" for column in COLUMNS}
    row["id"] = field_id
    row["error"] = " ".join(str(message).split()) or "unknown error"
    return row


def done_ids(path: Path) -> set[str]:
    """Ids of the rows of an existing summary.csv planned without error (for --resume)."""
    if not path.exists():
        return set()
    with path.open(newline="", encoding="utf-8") as handle:
        return {row["id"] for row in csv.DictReader(handle) if not row.get("error")}


class SummaryWriter:
    """Rows appended to summary.csv as they come, flushed each time. With ``resume`` the
    rows of a previous run without error are kept (failed ones are planned again)."""

    def __init__(self, path: Path, resume: bool) -> None:
        kept: list[dict] = []
        if resume and path.exists():
            with path.open(newline="", encoding="utf-8") as handle:
                kept = [row for row in csv.DictReader(handle) if not row.get("error")]
        self.path = path
        self._handle = path.open("w", newline="", encoding="utf-8")
        self._writer = csv.DictWriter(self._handle, fieldnames=COLUMNS, lineterminator="\n")
        self._writer.writeheader()
        for row in kept:
            self._writer.writerow({c: row.get(c, "") for c in COLUMNS})
        self._handle.flush()

    def write(self, row: dict) -> None:
        """Append one row and flush it to disk."""
        self._writer.writerow(row)
        self._handle.flush()

    def close(self) -> None:
        """Close summary.csv."""
        self._handle.close()


def write_parquet(csv_path: Path) -> Path | None:
    """summary.parquet beside ``csv_path`` (numbers as float64, id and error as text), or
    None when pyarrow is not installed."""
    try:
        import pyarrow as pa
        import pyarrow.csv as pacsv
        import pyarrow.parquet as pq
    except ImportError:
        return None
    types = {c: pa.float64() for c in NUMERIC} | {"id": pa.string(), "error": pa.string(),
                                                  "warnings": pa.float64()}
    table = pacsv.read_csv(csv_path, convert_options=pacsv.ConvertOptions(
        column_types=types, strings_can_be_null=False))
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return write_bytes_atomic(csv_path.with_suffix(".parquet"), buffer.getvalue())

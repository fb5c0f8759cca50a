"""``agridrone batch``: plan many fields with the options of ``agridrone plan``, on a pool
of worker processes or a Dask cluster, into one folder per field and a summary table."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import click

from agridrone.batch.progress import Progress
from agridrone.batch.runner import run_dask, run_local
from agridrone.batch.sources import FieldSource, field_sources
from agridrone.batch.summary import SummaryWriter, done_ids, error_row, summary_row, write_parquet
from agridrone.cli.plan_cmd import OUTPUT_OPTIONS, STALE_PATTERNS, plan, plan_inputs, plan_outputs
from agridrone.errors import AgridroneError
from agridrone.outputs import remove_stale, write_files_atomically

FIELDS_FOLDER = "fields"
PLAN_ONLY = ("field_file", "outdir", "layer", "feature_id", "as_json")  # batch replaces these


@dataclass(frozen=True)
class Task:
    """One field to plan: where it comes from, the `plan` options, whether to make files."""

    source: FieldSource
    options: dict
    summary_only: bool
    label: str  # the FIELDS argument: features are recorded in plan.json as FIELDS#ID


def plan_one(task: Task) -> tuple[dict, dict[str, bytes] | None]:
    """Plan one field in a worker: its summary row and (unless summary-only) its files.
    Never raises for a bad field: the row carries the error on one line."""
    source = task.source
    if source.error is not None:
        return error_row(source.id, source.error), None
    label = source.path or f"{task.label}#{source.id}"
    path = label
    try:
        with tempfile.TemporaryDirectory(prefix="agridrone-batch-") as tmp:
            if source.path is None:
                path = str(Path(tmp) / f"{source.id}.geojson")
                Path(path).write_text(source.geojson, encoding="utf-8")
            from agridrone.planner import make_plan

            inputs = {k: v for k, v in task.options.items() if k not in OUTPUT_OPTIONS}
            outputs = {k: v for k, v in task.options.items() if k in OUTPUT_OPTIONS}
            planned = make_plan(plan_inputs(path, **inputs)[0])
            planned.document["inputs"]["field_file"] = label
            files = None
            if not task.summary_only:
                files = plan_outputs(planned, **outputs).files
        return summary_row(source.id, planned.document, len(planned.warnings)), files
    except AgridroneError as exc:
        return error_row(source.id, str(exc).replace(path, label)), None
    except Exception as exc:  # noqa: BLE001 - a bad field is a row, never a stop
        return error_row(source.id, f"{type(exc).__name__}: {exc}".replace(path, label)), None


def _batch(fields: str, outdir: Path, jobs: int | None, summary_only: bool, resume: bool,
           id_column: str | None, dask_address: str | None, **options) -> None:
    """Plan every field of FIELDS with the options of `agridrone plan` (see `agridrone
    plan --help` for them) and write one row per field to DIR/summary.csv (and
    summary.parquet when pyarrow is installed): id, area (ha), sorties and their lower
    bound, liquid (L), energy (Wh), time incl. battery swaps (s), coverage and overlap (%),
    dose mean (L/ha), CV and share within ±10/±20 % (%), warnings, error. A field that
    cannot be planned gets a row with its one-line error; the batch goes on.

    \b
    FIELDS: a GeoJSON FeatureCollection (one field per feature; --id names the property
    holding the field's id), a folder of field files (one field per file, id = file name),
    or any single field file `agridrone plan` reads.

    \b
    Writes into DIR:
      summary.csv, summary.parquet    one row per field, in input order
      fields/ID/                      the plan folder of each field (not with --summary-only)
    and shows progress with rate and ETA on stderr.

    \b
    Examples:
      agridrone batch district.geojson --id parcel_id -o out/ --drone agras-t40 --rate 20
      agridrone batch fields/ -o out/ --summary-only --jobs 8
      agridrone batch district.geojson -o out/ --dask tcp://10.0.0.5:8786
    """
    total, sources = field_sources(fields, id_column)
    outdir.mkdir(parents=True, exist_ok=True)
    summary_path = outdir / "summary.csv"
    skip = done_ids(summary_path) if resume else set()
    writer = SummaryWriter(summary_path, resume)
    progress = Progress(total)
    tasks = (Task(s, options, summary_only, str(fields)) for s in sources if s.id not in skip)
    for _ in range(len(skip)):
        progress.update(error=False, skipped=True)
    if dask_address is not None:
        results = run_dask(plan_one, tasks, dask_address)
    else:
        results = run_local(plan_one, tasks, jobs or os.cpu_count() or 1)
    try:
        for row, files in results:
            if files is not None:
                folder = outdir / FIELDS_FOLDER / row["id"]
                write_files_atomically(folder, files)
                remove_stale(folder, STALE_PATTERNS, keep=set(files))
            writer.write(row)
            progress.update(error=bool(row["error"]))
    finally:
        writer.close()
    progress.finish()
    parquet = write_parquet(summary_path)
    click.echo(f"wrote {summary_path}" + (f" and {parquet.name}" if parquet else "")
               + f"; {progress.done} fields, {progress.errors} errors")


batch = click.Command(
    "batch",
    callback=_batch,
    help=_batch.__doc__,
    params=[
        click.Argument(["fields"], metavar="FIELDS"),
        click.Option(["-o", "--out", "outdir"], required=True,
                     type=click.Path(file_okay=False, path_type=Path),
                     help="Folder for summary.csv and the per-field plan folders (created if missing)."),
        click.Option(["--jobs"], type=click.IntRange(min=1), default=None,
                     help="Worker processes [default: all cores]."),
        click.Option(["--summary-only"], is_flag=True,
                     help="Write only the summary (no plan folders, no pictures): fastest."),
        click.Option(["--resume"], is_flag=True,
                     help="Keep the rows of DIR/summary.csv planned without error and plan only the rest."),
        click.Option(["--id", "id_column"], default=None, metavar="PROPERTY",
                     help="Feature property holding each field's id [default: the feature id, else its number]."),
        click.Option(["--dask", "dask_address"], default=None, metavar="ADDRESS",
                     help="Run on a dask.distributed cluster (scheduler address, e.g. tcp://host:8786) "
                          "instead of local processes."),
        *[p for p in plan.params if p.name not in PLAN_ONLY],
    ],
)

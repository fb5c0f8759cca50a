"""ISO 11783-10 TASKDATA (ISOXML, the farm management systems' and tractor terminals'
exchange format), read with the ``isoxml`` package: a partfield's boundary polygons are the
field, its water, building, road, obstacle, buffer-zone and windbreak polygons are no-spray
zones. ``TASKDATA.XML`` or a zip holding it (at its root or in a TASKDATA folder)."""

from __future__ import annotations

import tempfile
import zipfile
from pathlib import Path

import numpy as np

from agridrone.errors import AgridroneError
from agridrone.field import RawPolygon
from agridrone.field_formats.select import no_layers, not_found

BOUNDARY_TYPES = {"1"}  # PartfieldBoundary
NO_SPRAY_TYPES = {"3", "4", "5", "6", "11", "12"}  # water, building, road, obstacle, buffer, windbreak
TASKDATA = "TASKDATA.XML"


def read_taskdata(path: Path, layer: str | None, feature_id: str | None) -> list[RawPolygon]:
    """The boundary and no-spray polygons of one partfield: the only one, or the one whose
    ID (``PFD1``) or designator is ``feature_id``."""
    no_layers(path, layer)
    task_data = _parse(path)
    partfields = list(task_data.partfields)
    if not partfields:
        raise AgridroneError(f"{path}: the TASKDATA holds no partfield (PFD), so no field boundary")
    labels = [f"{p.id} {p.designator!r}" for p in partfields]
    if feature_id is not None:
        partfields = [p for p in partfields if feature_id in (p.id, p.designator)]
        if not partfields:
            raise not_found(path, feature_id, labels, kind="partfield")
    if len(partfields) > 1:
        raise AgridroneError(f"{path}: {len(partfields)} partfields ({', '.join(labels)}); "
                             "pick one with --id")
    return _partfield_polygons(path, partfields[0], _converter(task_data))


def _partfield_polygons(path: Path, partfield: object, converter: object) -> list[RawPolygon]:
    found: list[RawPolygon] = []
    for number, polygon in enumerate(partfield.polygons, start=1):
        kind = polygon.type.value if polygon.type is not None else None
        if kind not in BOUNDARY_TYPES and kind not in NO_SPRAY_TYPES:
            continue
        try:
            shape = converter.to_shapely_polygon(polygon)
        except (ValueError, NotImplementedError, TypeError) as exc:
            message = " ".join(str(exc).split())
            raise AgridroneError(f"{path}: partfield {partfield.id}, polygon {number}: {message}") from None
        rings = [np.asarray(shape.exterior.coords, dtype=np.float64)[:, :2]]
        rings += [np.asarray(r.coords, dtype=np.float64)[:, :2] for r in shape.interiors]
        name = f" {polygon.designator!r}" if polygon.designator else ""
        role = "boundary" if kind in BOUNDARY_TYPES else polygon.type.name.lower()
        found.append(RawPolygon(rings, f"partfield {partfield.id} {role} {number}{name}",
                                no_spray=kind in NO_SPRAY_TYPES))
    if not any(not raw.no_spray for raw in found):
        raise AgridroneError(f"{path}: partfield {partfield.id} {partfield.designator!r} has no "
                             "boundary polygon (PLN of type 1)")
    return found


def _parse(path: Path) -> object:
    """The TASKDATA of a TASKDATA.XML (external XFR files beside it merged in) or a zip."""
    from isoxml.util.isoxml_io import isoxml_from_path, isoxml_from_text
    from xsdata.exceptions import ParserError

    errors = (ValueError, AssertionError, KeyError, TypeError, ParserError, OSError)
    try:
        if path.suffix.lower() == ".zip":
            with tempfile.TemporaryDirectory() as tmp, zipfile.ZipFile(path) as archive:
                member = next(n for n in archive.namelist() if Path(n).name.upper() == TASKDATA)
                folder = Path(member).parent.as_posix()
                for name in archive.namelist():
                    if Path(name).parent.as_posix() == folder and not name.endswith("/"):
                        target = Path(tmp) / Path(name).name
                        if Path(name).name.upper() == TASKDATA:
                            target = Path(tmp) / TASKDATA
                        target.write_bytes(archive.read(name))
                return isoxml_from_path(Path(tmp), read_bin_files=False)[0]
        if path.name == TASKDATA:
            return isoxml_from_path(path.parent, read_bin_files=False)[0]
        return isoxml_from_text(path.read_text(encoding="utf-8-sig"))
    except errors as exc:
        message = " ".join(str(exc).split()) or type(exc).__name__
        raise AgridroneError(f"{path}: not a readable ISOXML TASKDATA: {message}") from None


def _converter(task_data: object) -> object:
    from isoxml.converter.shapely_geom import ShapelyConverterV3, ShapelyConverterV4

    return ShapelyConverterV3() if ".v3." in type(task_data).__module__ else ShapelyConverterV4()

"""ISO 11783-10 TASKDATA (ISOXML) of a plan, for farm management systems and tractor
terminals: the partfield with its boundary and no-spray zones as polygons, the product and
a task that applies it at the plan's rate. Built and serialised with the ``isoxml`` package;
the zip holds ``TASKDATA/TASKDATA.XML`` (and the as-applied grid's binary, when written by
:mod:`missions.formats.isoxml_applied`), with fixed time stamps so the same plan gives the
same bytes."""

from __future__ import annotations

import io
import threading
import zipfile
from decimal import Decimal
from pathlib import Path

from shapely.geometry import shape

L_HA_TO_MM3_M2 = 100.0  # 1 L/ha = 1e6 mm³ / 1e4 m²
ZIP_DATE = (1980, 1, 1, 0, 0, 0)
SETPOINT_RATE_DDI = 1  # Setpoint Volume Per Area Application Rate [mm³/m²]
ACTUAL_RATE_DDI = 2  # Actual Volume Per Area Application Rate [mm³/m²]
FOLDER = "TASKDATA/"
_per_thread = threading.local()  # each thread's XML serialiser (:func:`_serializer`)


def field_name(plan: dict) -> str:
    """The field's name: the stem of the file it was planned from."""
    return Path(str(plan["inputs"]["field_file"]).split(":", 1)[-1]).stem or "field"


def rate_value(ddi: int, rate_l_ha: float) -> int:
    """A volume-per-area rate (L/ha) as the integer a process data variable of ``ddi``
    carries (its unit mm³/m² at its bit resolution)."""
    from isoxml.models.ddi_entities import DDEntity

    return round(rate_l_ha * L_HA_TO_MM3_M2 / DDEntity.from_id(ddi).bit_resolution)


def ddi_bytes(ddi: int) -> bytes:
    """A DDI as the two big-endian bytes ISOXML writes in hexadecimal."""
    from isoxml.models.ddi_entities import DDEntity

    return bytes(DDEntity.from_id(ddi))


def build_taskdata(plan: dict, *, status: str = "Planned") -> tuple[object, object]:
    """The ISOXML v4 task data of a plan and its one task (to which an as-applied grid may
    be added): customer-free, a partfield ``PFD1``, a product ``PDT1`` and a task ``TSK1``
    whose default treatment zone sets the plan's rate. status: a TaskStatus name."""
    import isoxml.models.base.v4 as iso

    name = field_name(plan)
    rate = float(plan["rate_l_ha"])
    polygons = [iso_polygon(iso, p, iso.PolygonType.PartfieldBoundary, name)
                for p in shape(plan["field"]).geoms]
    polygons += [iso_polygon(iso, p, iso.PolygonType.Obstacle, f"no-spray {i}")
                 for i, p in enumerate(shape(plan["no_spray"]).geoms, start=1)]
    partfield = iso.Partfield(id="PFD1", designator=name,
                              area=round(float(plan["metrics"]["area_ha"]) * 1e4),
                              polygons=polygons)
    product = iso.Product(id="PDT1", designator="spray liquid", quantity_ddi=ddi_bytes(SETPOINT_RATE_DDI))
    zone = iso.TreatmentZone(code=1, designator=f"{rate:g} L/ha", process_data_variables=[
        iso.ProcessDataVariable(process_data_ddi=ddi_bytes(SETPOINT_RATE_DDI),
                                process_data_value=rate_value(SETPOINT_RATE_DDI, rate),
                                product_id_ref="PDT1")])
    task = iso.Task(id="TSK1", designator=f"spray {name} at {rate:g} L/ha", partfield_id_ref="PFD1",
                    status=iso.TaskStatus[status], default_treatment_zone_code=1,
                    treatment_zones=[zone],
                    product_allocations=[iso.ProductAllocation(product_id_ref="PDT1")])
    task_data = iso.Iso11783TaskData(
        management_software_manufacturer="agridrone",
        management_software_version=str(plan.get("generator", "agridrone")).split()[-1],
        data_transfer_origin=iso.Iso11783TaskDataDataTransferOrigin.FMIS,
        partfields=[partfield], products=[product], tasks=[task])
    return task_data, task


def iso_polygon(iso, polygon, polygon_type, designator: str):
    """An ISOXML v4 polygon (module ``iso``) of a shapely polygon in degrees: its exterior and
    interior rings with points rounded to 1e-9 degree, as isoxml's ShapelyConverterV4 makes it
    (without importing that converter, which loads isoxml's v3 models too: 0.04 s a plan)."""
    def ring(coords, ring_type):
        return iso.LineString(type=ring_type, points=[
            iso.Point(type=iso.PointType.Other, north=round(Decimal(y), 9), east=round(Decimal(x), 9))
            for x, y in coords])

    return iso.Polygon(type=polygon_type, designator=designator, line_strings=[
        ring(polygon.exterior.coords, iso.LineStringType.PolygonExterior),
        *(ring(hole.coords, iso.LineStringType.PolygonInterior) for hole in polygon.interiors)])


def _serializer():
    """The XML serialiser of TASKDATA.XML, made once a thread (a Dask worker plans fields on
    several): its XmlContext keeps the binding metadata of every ISOXML class it has met,
    which a new serialiser would build again (TASKDATA.zip of a 2-20 ha field: 10-13 ms
    with a new one, 4 ms)."""
    serializer = getattr(_per_thread, "serializer", None)
    if serializer is None:
        # isoxml's own serialiser settings (isoxml.util.isoxml_io), without that module's
        # parser and v3 models (0.05 s a plan)
        from xsdata.formats.dataclass.serializers import XmlSerializer
        from xsdata.formats.dataclass.serializers.config import SerializerConfig

        serializer = _per_thread.serializer = XmlSerializer(
            config=SerializerConfig(xml_version="1.0", encoding="UTF-8", indent="    "))
    return serializer


def zip_taskdata(task_data: object, binaries: dict[str, bytes] | None = None) -> bytes:
    """``TASKDATA/TASKDATA.XML`` (and ``TASKDATA/NAME.bin`` for each binary) as zip bytes with
    fixed time stamps."""
    serializer = _serializer()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        entries = {"TASKDATA.XML": serializer.render(task_data).encode("utf-8")}
        entries.update({f"{name}.bin": data for name, data in sorted((binaries or {}).items())})
        for name, data in entries.items():
            info = zipfile.ZipInfo(FOLDER + name, ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return buffer.getvalue()


def render_isoxml_taskdata(plan: dict) -> bytes:
    """TASKDATA.zip of a plan.json dict: field, no-spray zones, product and the planned task."""
    task_data, _ = build_taskdata(plan)
    return zip_taskdata(task_data)

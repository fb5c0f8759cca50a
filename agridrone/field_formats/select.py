"""Picking one feature or one layer of a field file (``--id``, ``--layer``), with errors that
list what the file does hold."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from agridrone.errors import AgridroneError

NAME_KEYS = ("id", "ID", "Id", "name", "NAME", "Name")
LISTED = 12  # features named in a "not found" error


def feature_matches(feature_id: str, fid: object, properties: Mapping[str, object]) -> bool:
    """True when ``feature_id`` is the feature's own id (GeoJSON ``id``, OGR FID, ISOXML
    partfield ID) or the value of its id / name attribute."""
    if fid is not None and str(fid) == feature_id:
        return True
    return any(
        properties.get(key) is not None and str(properties[key]) == feature_id for key in NAME_KEYS
    )


def feature_label(fid: object, properties: Mapping[str, object]) -> str:
    """``"3 'North block'"``: a feature's id and, when it has one, its name."""
    name = next((properties[k] for k in ("name", "NAME", "Name") if properties.get(k)), None)
    return f"{fid} {str(name)!r}" if name is not None else str(fid)


def not_found(path: Path, feature_id: str, labels: list[str], kind: str = "feature") -> AgridroneError:
    """The error for an ``--id`` that matches nothing, listing the ids the file has."""
    shown = ", ".join(labels[:LISTED]) + (f", … ({len(labels)} in all)" if len(labels) > LISTED else "")
    return AgridroneError(f"{path}: no {kind} with id or name {feature_id!r} ({kind}s: {shown or 'none'})")


def pick_layer(path: Path, layer: str | None, layers: list[tuple[str, str]]) -> str:
    """The layer to read: ``layer`` when given (it must exist), else the only layer, else
    the only polygon layer. layers: (name, geometry type) pairs as the file lists them."""
    names = [name for name, _ in layers]
    if layer is not None:
        if layer not in names:
            raise AgridroneError(f"{path}: no layer {layer!r} (layers: {', '.join(names) or 'none'})")
        return layer
    if len(names) == 1:
        return names[0]
    polygonal = [name for name, kind in layers if kind and "POLYGON" in kind.upper()]
    if len(polygonal) == 1:
        return polygonal[0]
    raise AgridroneError(
        f"{path}: {len(names)} layers ({', '.join(names)}); pick one with --layer"
    )


def no_layers(path: Path, layer: str | None) -> None:
    """Refuse ``--layer`` for a format that has no layers."""
    if layer is not None:
        raise AgridroneError(f"{path}: a {path.suffix or 'plain'} file has no layers; drop --layer")

"""The simulated vehicle's parameter table, loaded from ``sim/params/*.parm``.

A ``.parm`` line is ``NAME VALUE  # TYPE`` (ArduPilot reads the first two tokens; TYPE is the
MAVLink parameter type the vehicle reports). Values are stored as ArduPilot stores them: integer
types are rounded and clipped to their range, whatever type the ground station sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

PARAM_DIR = Path(__file__).with_name("params")
COPTER_PARM = PARAM_DIR / "copter.parm"
SPRAYER_PARM = PARAM_DIR / "sprayer.parm"

TYPE_CODES = {"INT8": 2, "INT16": 4, "INT32": 6, "REAL32": 9}
_INT_RANGES = {2: (-128, 127), 4: (-32768, 32767), 6: (-(2**31), 2**31 - 1)}

# Parameters that exist only while their *_ENABLE parameter is non-zero (as AC_Sprayer's).
_ENABLE_GROUPS = {"SPRAY_ENABLE": "SPRAY_"}


@dataclass
class Param:
    """One parameter: its name, stored value and MAVLink type code (2, 4, 6 or 9)."""

    name: str
    value: float
    type_code: int


def read_parm(path: Path) -> list[tuple[str, float, str | None]]:
    """Read a ``.parm`` file into (name, value, type name or None) tuples, in file order."""
    rows: list[tuple[str, float, str | None]] = []
    for raw in Path(path).read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        body, _, comment = line.partition("#")
        tokens = body.replace(",", " ").split()
        type_name = comment.strip().upper() or None
        rows.append((tokens[0], float(tokens[1]), type_name))
    return rows


def _stored(value: float, type_code: int) -> float:
    """The value as the vehicle stores it for ``type_code`` (integers rounded and clipped)."""
    if type_code in _INT_RANGES:
        low, high = _INT_RANGES[type_code]
        return float(min(max(round(value), low), high))
    return value


class ParamStore:
    """The parameter table, with ArduPilot's visibility rules for *_ENABLE groups."""

    def __init__(self, files: tuple[Path, ...] = (COPTER_PARM,)) -> None:
        self._params: dict[str, Param] = {}
        for i, path in enumerate(files):
            for name, value, type_name in read_parm(path):
                if name in self._params:
                    self._params[name].value = _stored(value, self._params[name].type_code)
                elif i == 0 or type_name:
                    code = TYPE_CODES[type_name or "REAL32"]
                    self._params[name] = Param(name, _stored(value, code), code)

    def _hidden(self, name: str) -> bool:
        for enable, prefix in _ENABLE_GROUPS.items():
            if name.startswith(prefix) and name != enable and self._params[enable].value == 0:
                return True
        return False

    def visible(self) -> list[Param]:
        """Parameters the vehicle currently reports, in index order."""
        return [p for p in self._params.values() if not self._hidden(p.name)]

    @property
    def count(self) -> int:
        """``param_count`` as reported in every PARAM_VALUE."""
        return len(self.visible())

    def get(self, name: str) -> Param | None:
        """The visible parameter ``name``, or None if the vehicle would not know it."""
        param = self._params.get(name)
        if param is None or self._hidden(name):
            return None
        return param

    def value(self, name: str) -> float:
        """The stored value of ``name`` (hidden ones included; KeyError if it does not exist)."""
        return self._params[name].value

    def by_index(self, index: int) -> Param | None:
        """The visible parameter at ``index``, or None when out of range."""
        visible = self.visible()
        return visible[index] if 0 <= index < len(visible) else None

    def index_of(self, name: str) -> int:
        """The index of visible parameter ``name`` (ValueError if not visible)."""
        return [p.name for p in self.visible()].index(name)

    def set(self, name: str, value: float) -> Param | None:
        """Store ``value`` converted to the parameter's own type; None if ``name`` is unknown."""
        param = self.get(name)
        if param is None:
            return None
        param.value = _stored(value, param.type_code)
        return param

"""Battery packs as objects: id, health, state of charge and temperature through the day,
with every charge and flight interval recorded."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Interval:
    """What a pack did from ``start_s`` to ``end_s`` (s of the day): ``kind`` "charge" or
    "flight", state of charge (0..1) at both ends, and for flights the drone and sortie."""

    kind: str
    start_s: float
    end_s: float
    soc_start: float
    soc_end: float
    drone: int | None = None
    sortie: int | None = None


@dataclass
class Pack:
    """One battery pack. health: measured capacity / rated (0..1); soc: state of charge
    (0..1); temp_c: temperature (°C); where: "pool" (at the station, unplugged), "charger"
    or "drone"; cycles: charge cycles from the registry."""

    id: str
    health: float
    soc: float
    temp_c: float
    cycles: int = 0
    where: str = "pool"
    history: list[Interval] = field(default_factory=list)
    charge_from: tuple[float, float] | None = None  # (start s, soc) of the charge under way

    def plug(self, t_s: float) -> None:
        """Put the pack on a charger at ``t_s``."""
        self.where = "charger"
        self.charge_from = (t_s, self.soc)

    def unplug(self, t_s: float) -> None:
        """Take the pack off its charger at ``t_s``, recording the charge interval."""
        assert self.charge_from is not None
        start, soc0 = self.charge_from
        if t_s > start:
            self.history.append(Interval("charge", start, t_s, soc0, self.soc))
        self.charge_from = None
        self.where = "pool"

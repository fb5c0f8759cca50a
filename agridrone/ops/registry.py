"""The pack registry: a small SQLite database of battery packs (id, drone, rated and measured
capacity, charge cycles, energy drawn), read by ``agridrone ops`` so that a worn pack flies
shorter sorties. By default it lives in the user's data folder
(``$XDG_DATA_HOME/agridrone/packs.sqlite``, else ``~/.local/share/agridrone/packs.sqlite``)."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from agridrone.errors import AgridroneError

SCHEMA = """CREATE TABLE IF NOT EXISTS packs (
    id TEXT PRIMARY KEY,
    drone TEXT NOT NULL,
    rated_ah REAL NOT NULL CHECK (rated_ah > 0),
    capacity_ah REAL NOT NULL CHECK (capacity_ah > 0),
    cycles INTEGER NOT NULL DEFAULT 0 CHECK (cycles >= 0),
    energy_wh REAL NOT NULL DEFAULT 0
)"""
MIN_HEALTH = 0.5  # packs measured below this share of their rating are refused


def default_path() -> Path:
    """The registry's default file in the user's data folder."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "agridrone" / "packs.sqlite"


def _connect(path: Path, create: bool) -> sqlite3.Connection:
    if not create and not path.is_file():
        raise AgridroneError(f"no pack registry at {path}")
    try:
        if create:
            path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(str(path) if create else f"file:{path}?mode=ro", uri=not create)
        db.execute("SELECT 1 FROM sqlite_master").fetchall()
    except (sqlite3.Error, OSError) as exc:
        raise AgridroneError(f"pack registry {path}: {exc}") from None
    return db


def add_pack(path: Path, pack_id: str, drone: str, rated_ah: float, capacity_ah: float,
             cycles: int = 0) -> None:
    """Register (or replace) a pack: rated and measured capacity (Ah), cycles so far."""
    db = _connect(path, create=True)
    with db:
        db.execute(SCHEMA)
        db.execute("INSERT OR REPLACE INTO packs (id, drone, rated_ah, capacity_ah, cycles) "
                   "VALUES (?, ?, ?, ?, ?)", (pack_id, drone, rated_ah, capacity_ah, cycles))
    db.close()


def read_packs(path: Path, drone: str) -> list[tuple[str, float, int]]:
    """(id, health 0..1, cycles) of the registry's packs of ``drone``, by id; an empty list
    when the file does not exist."""
    if not path.is_file():
        return []
    db = _connect(path, create=False)
    try:
        rows = db.execute("SELECT id, rated_ah, capacity_ah, cycles FROM packs WHERE drone = ? "
                          "ORDER BY id", (drone,)).fetchall()
    except sqlite3.Error as exc:
        raise AgridroneError(f"pack registry {path}: {exc}") from None
    finally:
        db.close()
    out = []
    for pack_id, rated, capacity, cycles in rows:
        health = min(1.0, capacity / rated)
        if health < MIN_HEALTH:
            raise AgridroneError(f"pack {pack_id} in {path} holds {health:.0%} of its rating; "
                                 "retire it from the registry")
        out.append((str(pack_id), round(health, 4), int(cycles)))
    return out


def pool(path: Path, drone: str, count: int) -> list[tuple[str, float, int]]:
    """``count`` packs for the day: the registry's first ones, then new packs P1, P2, …
    (full health, no cycles) for the rest."""
    known = read_packs(path, drone)[:count]
    taken = {p[0] for p in known}
    fresh = (f"P{k}" for k in range(1, 10 * count + len(taken) + 2) if f"P{k}" not in taken)
    return known + [(next(fresh), 1.0, 0) for _ in range(count - len(known))]


def check_packs(path: Path, drone: str, pack_ids: list[str]) -> list[str]:
    """The ids of ``pack_ids`` the registry does not know yet (all of them when the file does
    not exist); AgridroneError when the file is not a registry or a pack belongs to another
    drone. Read-only: run it before flying so that bad input stops the run early."""
    if not path.exists():
        return sorted(set(pack_ids))
    db = _connect(path, create=False)
    try:
        rows = dict(db.execute("SELECT id, drone FROM packs").fetchall())
    except sqlite3.Error as exc:
        raise AgridroneError(f"pack registry {path}: {exc}") from None
    finally:
        db.close()
    for pack_id in pack_ids:
        if pack_id in rows and rows[pack_id] != drone:
            raise AgridroneError(f"pack {pack_id} in {path} belongs to drone {rows[pack_id]}, "
                                 f"not {drone}")
    return sorted(set(pack_ids) - set(rows))


def record_flights(path: Path, drone: str, rated_ah: float, flights: list) -> list[str]:
    """Add each flight (:class:`agridrone.ops.pack_wear.PackFlight`) to its pack in one
    transaction: a cycle, the energy drawn (Wh), the measured capacity by the rule of
    :mod:`agridrone.ops.pack_wear`. A pack the registry does not know is added first (``drone``,
    ``rated_ah`` rated and measured); returns the ids added. Nothing is written on error."""
    from agridrone.ops.pack_wear import updated_capacity

    db = _connect(path, create=True)
    added = []
    try:
        with db:
            db.execute(SCHEMA)
            for f in flights:
                row = db.execute("SELECT drone, capacity_ah FROM packs WHERE id = ?",
                                 (f.pack,)).fetchone()
                if row is None:
                    db.execute("INSERT INTO packs (id, drone, rated_ah, capacity_ah) "
                               "VALUES (?, ?, ?, ?)", (f.pack, drone, rated_ah, rated_ah))
                    added.append(f.pack)
                    row = (drone, rated_ah)
                if row[0] != drone:
                    raise AgridroneError(f"pack {f.pack} in {path} belongs to drone {row[0]}, "
                                         f"not {drone}")
                db.execute("UPDATE packs SET cycles = cycles + 1, energy_wh = energy_wh + ?, "
                           "capacity_ah = ? WHERE id = ?",
                           (round(f.energy_wh, 3),
                            round(updated_capacity(float(row[1]), f.capacity_ah()), 4), f.pack))
    except sqlite3.Error as exc:
        raise AgridroneError(f"pack registry {path}: {exc}") from None
    finally:
        db.close()
    return added


def read_rows(path: Path) -> list[tuple[str, str, float, float, int, float]]:
    """Every pack of the registry: (id, drone, rated Ah, measured Ah, cycles, energy Wh)."""
    db = _connect(path, create=False)
    try:
        return db.execute("SELECT id, drone, rated_ah, capacity_ah, cycles, energy_wh "
                          "FROM packs ORDER BY id").fetchall()
    except sqlite3.Error as exc:
        raise AgridroneError(f"pack registry {path}: {exc}") from None
    finally:
        db.close()

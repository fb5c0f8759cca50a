"""agridrone ops on sample fields: makespan against its lower bound, drone idle share and the
time planning and scheduling take, for 1-3 drones and 2-6 packs.

    python3 bench/ops_bench.py [FIELD ...]   (default: example:faisalabad_irregular, 20 ha,
                                             and plan_bench's 111 ha, 200-vertex field; 2-6
                                             packs and 12, "plenty", per field and drone count)
    python3 bench/ops_bench.py --moves       the 111 ha, 200-vertex field of plan_bench, one
                                             drone, station moving 0-3 times: sorties against
                                             the bound max(ceil(liquid/tank), ceil(energy/pack))
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from agridrone.ops import bounds  # noqa: E402
from agridrone.ops.day import OpsInputs, plan_day  # noqa: E402


def run(field: str, drones: int, packs: int, moves: int = 0) -> None:
    inputs = OpsInputs(
        fields=[field], exclude_files=[], drone="agras-t30", drones=drones,
        packs=[(f"P{i}", 1.0, 0) for i in range(1, packs + 1)], chargers=1, charger_kw=7.2,
        generator_kw=9.0, refill_l_min=20.0, stations_file=None, drive_speed_m_s=8.0,
        start_s=7 * 3600.0, separation_m=30.0, swap_time_s=60.0, rate_l_ha=15.0, speed_m_s=5.0,
        transit_speed_m_s=8.0, alt_m=3.0, temp_c=25.0, autopilot="ardupilot", first_sysid=1,
        charge_c_rate=4.0, charge_max_temp_c=45.0, moves=moves)
    t0 = time.perf_counter()
    day = plan_day(inputs)
    took = time.perf_counter() - t0
    fd = day.fields[0]
    span = fd.result.end_s - fd.result.start_s
    idle = fd.result.wait_pack_s / (drones * span)
    sorties = sum(len(p.planned.sorties.sorties) for p in fd.regions)
    bound = sum(p.lower_bound_sorties for p in fd.regions if p.stop == 1)
    one_pad = sum(p.one_pad_sorties for p in fd.regions if p.stop == 1)
    print(f"{Path(field).name:32s} drones {drones} packs {packs} moves<={moves}: makespan/bound "
          f"{span / fd.bound.makespan_s:5.2f}, idle for packs {idle:5.1%}, sorties {sorties} "
          f"(bound {bound}, one pad {one_pad}, {len(fd.result.drives)} moves), {took:6.1f} s, "
          f"bottleneck {bounds.bottleneck(fd.result, drones, day.crew)}")


if __name__ == "__main__":
    if sys.argv[1:] == ["--moves"]:
        import tempfile

        from plan_bench import big_field
        with tempfile.TemporaryDirectory() as tmp:
            big = str(big_field(Path(tmp) / "big_111ha.geojson", 111.0))
            for moves in (0, 3):
                run(big, 1, 4, moves)
            run(big, 3, 6, 3)
        sys.exit(0)
    import tempfile

    from plan_bench import big_field
    with tempfile.TemporaryDirectory() as tmp:
        fields = sys.argv[1:] or ["example:faisalabad_irregular",
                                  str(big_field(Path(tmp) / "big_111ha.geojson", 111.0))]
        for field in fields:
            for drones in (1, 2, 3):
                for packs in (2, 4, 6, 12):
                    run(field, drones, packs)

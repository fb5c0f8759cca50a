"""The simulator's parameter table behaves as ArduPilot's (transcript 02-params)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from sim.params import COPTER_PARM, SPRAYER_PARM, ParamStore, read_parm


def test_spray_enable_adds_the_spray_family_at_once():
    params = ParamStore()
    before = params.count
    assert params.get("SPRAY_PUMP_RATE") is None
    params.set("SPRAY_ENABLE", 1)
    assert params.count == before + 4
    assert params.get("SPRAY_PUMP_RATE").value == 10.0
    assert params.get("SPRAY_SPINNER").type_code == 4
    params.set("SPRAY_ENABLE", 0)
    assert params.count == before


def test_value_is_stored_in_the_parameters_own_type():
    params = ParamStore()
    stored = params.set("BATT_FS_LOW_ACT", 2.4)
    assert (stored.value, stored.type_code) == (2.0, 2)
    assert params.set("BATT_LOW_VOLT", 11.25).value == 11.25
    assert params.set("BATT_FS_LOW_ACT", 1000).value == 127  # INT8 clipped


def test_unknown_names_are_not_parameters():
    params = ParamStore()
    assert params.get("NO_SUCH_PARAM") is None
    assert params.set("NO_SUCH_PARAM", 1.0) is None


def test_index_order_starts_like_arducopter():
    params = ParamStore()
    assert [params.by_index(i).name for i in range(3)] == [
        "FORMAT_VERSION", "PILOT_THR_FILT", "PILOT_TKOFF_ALT"]
    assert params.by_index(params.count) is None


def test_sprayer_file_enables_pump_and_spinner_outputs():
    params = ParamStore((COPTER_PARM, SPRAYER_PARM))
    assert params.value("SPRAY_ENABLE") == 1
    assert params.value("SERVO9_FUNCTION") == 22
    assert params.value("SERVO10_FUNCTION") == 23


def test_parm_files_give_every_line_a_type():
    for path in (COPTER_PARM, SPRAYER_PARM):
        for name, _, type_name in read_parm(path):
            assert type_name in ("INT8", "INT16", "INT32", "REAL32"), name


@settings(max_examples=50, deadline=None)
@given(st.floats(min_value=-1e6, max_value=1e6, allow_nan=False))
def test_integer_parameters_hold_integers_in_range(value):
    stored = ParamStore().set("SERVO9_FUNCTION", value)
    assert stored.value == int(stored.value)
    assert -32768 <= stored.value <= 32767

"""One-line summaries of the sub-commands for `agridrone --help`, so that listing them imports
no sub-command (and none of numba, matplotlib, pymavlink): each is the first sentence of its
command's docstring, as click would shorten it; tests/test_cli_help.py checks they match.
A command missing here is imported to ask for its own."""

from __future__ import annotations

SUMMARIES = {
    'plan': (
        'Plan boustrophedon spray passes over FIELD, or over a bundled sample: FIELD = '
        "example:NAME (see 'agridrone examples')."
    ),
    'batch': (
        'Plan every field of FIELDS with the options of `agridrone plan` (see `agridrone '
        'plan --help` for them) and write one row per field to DIR/summary.csv (and '
        'summary.parquet when pyarrow is installed): id, area (ha), sorties and their '
        'lower bound, liquid (L), energy (Wh), time incl.'
    ),
    'warmup': (
        'Compile the numba kernels of `agridrone plan` once after install: ahead of time '
        'into one module (a plan that loads it never imports numba, 0.4-0.5 s faster) and '
        "into numba's cache, by planning a bundled sample field in memory."
    ),
    'show': (
        'Print the items of FILE (seq, command, frame, lat, lon, alt, params) and a '
        'summary: distance, spray legs and estimated duration.'
    ),
    'drones': (
        'List the drone presets (agridrone/data/drones/*.toml) with tank, battery, mass '
        'and hover time empty/loaded; pick one with ``--drone NAME`` or give a TOML file '
        'of your own.'
    ),
    'calibrate': (
        "Learn a drone's energy model from its own flight logs."
    ),
    'examples': (
        'List the bundled sample fields (Punjab, Pakistan) and where they are installed.'
    ),
    'upload': (
        'Load FILE (plan.json, .plan or .waypoints) into the vehicle and verify it by '
        'read-back.'
    ),
    'download': (
        "Read the vehicle's mission and write it to a .waypoints file (ArduPilot: line 0 "
        "is the vehicle's home), by MAVLink FTP or the pipelined item download "
        '(--transfer).'
    ),
    'clear': (
        "Delete the vehicle's mission (and with --fence / --rally its fence and rally "
        'points), checked by reading back a count of 0.'
    ),
    'params': (
        "Set the vehicle's parameters and read them back."
    ),
    'sim': (
        'Run a simulated ArduCopter (MAVLink 2, sysid 1) until Ctrl-C.'
    ),
    'simulate': (
        'Fly every sortie of PLAN (plan.json) end to end and report the as-applied '
        'result.'
    ),
    'resume': (
        'Write a new plan covering only what is left of PLAN after a sortie stopped '
        "early: the rest of that sortie's spraying from where it stopped, then every "
        'later sortie, split again into sorties with the same drone and options.'
    ),
    'ops': (
        'Schedule a day in the field: FIELD...'
    ),
    'signing': (
        'MAVLink 2 message signing: create a key, install it on the vehicle.'
    ),
}

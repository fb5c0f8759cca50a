"""`agridrone --help` lists every command with the summary click would give it, without
importing any command (and so none of numba, matplotlib or pymavlink)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.utils import make_default_short_help

from agridrone.cli import COMMANDS, main
from agridrone.cli.summaries import SUMMARIES

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("limit", [30, 45, 60, 74, 120, 10**6])
def test_summaries_are_what_click_makes_of_each_docstring(limit):
    ctx = click.Context(main)
    assert set(SUMMARIES) <= set(COMMANDS)  # a command without one is imported for its own
    for name in SUMMARIES:
        command = main.get_command(ctx, name)
        assert make_default_short_help(SUMMARIES[name], limit) == command.get_short_help_str(limit), name


def test_help_is_the_same_as_clicks_own_listing():
    ctx = click.Context(main, info_name="agridrone")
    ours, clicks = ctx.make_formatter(), ctx.make_formatter()
    main.format_commands(ctx, ours)
    click.Group.format_commands(main, ctx, clicks)
    assert ours.getvalue() == clicks.getvalue() and "plan " in ours.getvalue()


def test_help_imports_no_command():
    script = ("import sys\n"
              "from agridrone.cli import main\n"
              "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
              "heavy = sorted(m for m in ('numba', 'matplotlib', 'pymavlink', 'shapely', 'agridrone.cli.plan_cmd')"
              " if m in sys.modules)\n"
              "assert not heavy, heavy\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert "Commands:" in result.stdout and "simulate" in result.stdout

"""The ``agridrone`` command line: a thin layer that parses, calls and prints.

Each sub-command lives in its own module of this package and is registered here.
"""

from __future__ import annotations

import importlib
import sys
import warnings

import click

from agridrone import __version__
from agridrone.errors import AgridroneError

# sub-command name -> "module:attribute" of its click command, in the order --help lists them
COMMANDS = {
    "plan": "agridrone.cli.plan_cmd:plan",
    "batch": "agridrone.cli.batch_cmd:batch",
    "warmup": "agridrone.cli.warmup_cmd:warmup",
    "show": "agridrone.cli.show_cmd:show",
    "drones": "agridrone.cli.drones_cmd:drones",
    "calibrate": "agridrone.cli.calibrate_cmd:calibrate_cmd",
    "examples": "agridrone.cli.examples_cmd:examples",
    "upload": "agridrone.cli.upload_cmd:upload",
    "download": "agridrone.cli.upload_cmd:download",
    "clear": "agridrone.cli.upload_cmd:clear",
    "params": "agridrone.cli.upload_cmd:params",
    "sim": "agridrone.cli.sim_cmd:sim",
    "simulate": "agridrone.cli.simulate_cmd:simulate",
    "resume": "agridrone.cli.resume_cmd:resume",
    "ops": "agridrone.cli.ops_cmd:ops",
    "signing": "agridrone.cli.signing_cmd:signing",
}


class _Group(click.Group):
    """A click group whose every failure is one line on stderr and a non-zero exit:
    ``error: …`` with status 2 for bad input (AgridroneError and bad options), never a
    traceback. Sub-commands are imported only when used, so that ``agridrone plan``
    does not load the MAVLink side and the reverse."""

    def list_commands(self, ctx: click.Context) -> list[str]:  # noqa: D102 - click API
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:  # noqa: D102
        if name not in COMMANDS:
            return None
        module_name, attribute = COMMANDS[name].split(":")
        return getattr(importlib.import_module(module_name), attribute)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list of ``--help`` from :data:`agridrone.cli.summaries.SUMMARIES`,
        shortened as click would: listing the commands imports none of them."""
        from click.utils import make_default_short_help

        from agridrone.cli.summaries import SUMMARIES

        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = []
        for name in names:
            if name in SUMMARIES:
                rows.append((name, make_default_short_help(SUMMARIES[name], limit)))
            elif (command := self.get_command(ctx, name)) is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def main(self, *args, **kwargs):  # noqa: D102 - click API
        _quiet_library_warnings()
        try:
            return super().main(*args, standalone_mode=False, **kwargs)
        except AgridroneError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(2)
        except click.ClickException as exc:
            context = f" ({exc.ctx.command_path})" if getattr(exc, "ctx", None) else ""
            click.echo(f"error: {exc.format_message()}{context}", err=True)
            sys.exit(exc.exit_code)
        except click.Abort:
            click.echo("aborted", err=True)
            sys.exit(1)


def _quiet_library_warnings() -> None:
    """Keep libraries' own warnings out of the commands' output: shapely's RuntimeWarnings
    (numpy's "invalid value encountered" on degenerate geometry, which the planner checks
    itself) and matplotlib's missing-glyph warnings (agridrone.text_fonts draws such
    characters as "?")."""
    warnings.filterwarnings("ignore", category=RuntimeWarning, module=r"shapely(\.|$)")
    warnings.filterwarnings("ignore", message=r"Glyph \d+ .*missing from", category=UserWarning)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="agridrone")
def main() -> None:
    """Plan spray missions for agricultural drones and load them into ArduPilot or PX4.

    \b
    Typical flow:
      agridrone plan FIELD.geojson -o out/     plan passes, sorties, mission files
      agridrone upload out/plan.json --sortie 1 --connect tcp:127.0.0.1:5760
    """

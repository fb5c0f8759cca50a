"""``agridrone examples``: the sample fields bundled with agridrone."""

from __future__ import annotations

import click

from agridrone.examples import PREFIX, example_names, example_path


@click.command()
def examples() -> None:
    """List the bundled sample fields (Punjab, Pakistan) and where they are installed.

    \b
    Plan one without knowing its path:
      agridrone plan example:lahore_rect_2ha -o out
    The *_nospray sample is a no-spray layer for --exclude.
    """
    for name in example_names():
        click.echo(f"{PREFIX}{name:<32} {example_path(name)}")

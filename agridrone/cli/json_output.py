"""``--json`` for the commands: one JSON document on stdout and nothing else, the notes and
warnings on stderr, each once. The documents are described by
``agridrone/schema/cli-output.schema.json`` (one ``$defs`` entry per command) and
docs/json-output.md; they are printed as upload and download print theirs (indented by 2,
keys sorted)."""

from __future__ import annotations

import json
import math

import click

JSON_HELP = ("Print one JSON document on stdout (described in docs/json-output.md) instead of "
             "the report; notes and warnings still go to stderr.")


def json_option(command):
    """The ``--json`` flag (parameter ``as_json``)."""
    return click.option("--json", "as_json", is_flag=True, help=JSON_HELP)(command)


class Output:
    """Where a command's words go: report lines to stdout unless ``as_json``; notes and
    warnings to stderr, each distinct text once; the JSON document to stdout."""

    def __init__(self, as_json: bool) -> None:
        self.as_json = as_json
        self.warnings: list[str] = []

    def line(self, text: str) -> None:
        """A line of the human report (dropped under --json: the document carries it)."""
        if not self.as_json:
            click.echo(text)

    def warn(self, text: str, kind: str = "note") -> None:
        """``note: text`` (or ``warning: text``) on stderr, unless that text was said already."""
        if text not in self.warnings:
            self.warnings.append(text)
            click.echo(f"{kind}: {text}", err=True)

    def document(self, document: dict) -> None:
        """Print ``document`` (with the warnings said, under ``warnings``) when ``as_json``."""
        if self.as_json:
            click.echo(json.dumps(finite({**document, "warnings": self.warnings}), indent=2,
                                  sort_keys=True))


def finite(value):
    """``value`` with every NaN or infinite float replaced by None (JSON has no NaN)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [finite(item) for item in value]
    return value

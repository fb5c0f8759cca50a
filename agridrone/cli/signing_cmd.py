"""``agridrone signing keygen | setup``: MAVLink 2 message signing, so that only a ground
station holding the key can command the vehicle.

``keygen`` writes a new random key file (mode 0600); ``setup`` installs a key on the vehicle
with SETUP_SIGNING (creating the key file first when it is missing) and confirms it by a
HEARTBEAT signed with that key. Every command that talks to a vehicle then takes
``--key FILE``. The key itself is never printed.
"""

from __future__ import annotations

import time
from pathlib import Path

import click

from agridrone.errors import AgridroneError

KEY_OPTION = click.option("--key", "key_file", required=True,
                          type=click.Path(path_type=Path, dir_okay=False),
                          help="Signing key file (64 hex digits, mode 0600).")


@click.group("signing")
def signing() -> None:
    """MAVLink 2 message signing: create a key, install it on the vehicle.

    \b
    agridrone signing keygen --key vehicle.key
    agridrone signing setup --connect tcp:127.0.0.1:5760 --key vehicle.key
    agridrone upload out/plan.json --connect udp:0.0.0.0:14550 --key vehicle.key

    Once set up, ArduPilot signs what it sends and ignores unsigned messages on every link
    but its first one (USB on a flight controller, TCP 5760 on SITL), which it trusts.
    """


@signing.command("keygen")
@KEY_OPTION
def keygen(key_file: Path) -> None:
    """Write a new random 32-byte signing key to --key, readable only by you (0600)."""
    from firmware_bridge.signing import generate_key

    generate_key(key_file)
    click.echo(f"wrote a new signing key to {key_file} (mode 0600; keep it private)")


@signing.command("setup")
@click.option("--connect", "address", required=True,
              help="Vehicle address (as for upload), best its first link (USB).")
@KEY_OPTION
@click.option("--baud", type=click.IntRange(min=1), default=57600, show_default=True,
              help="Serial speed (bits/s); serial devices only.")
@click.option("--source-system", type=click.IntRange(1, 255), default=255, show_default=True,
              help="Our MAVLink system id.")
@click.option("--source-component", type=click.IntRange(0, 255), default=190,
              show_default=True, help="Our MAVLink component id.")
@click.option("--heartbeat-timeout", type=click.FloatRange(min=0.1), default=10.0,
              show_default=True, help="Seconds to wait for the vehicle's HEARTBEAT.")
def setup(address: str, key_file: Path, baud: int, source_system: int, source_component: int,
          heartbeat_timeout: float) -> None:
    """Install the key of --key on the vehicle (SETUP_SIGNING), creating the key file when it
    does not exist, and confirm that the vehicle now signs with it."""
    from firmware_bridge.link import connect
    from firmware_bridge.signing import generate_key, install_key, read_key

    if not key_file.exists():
        generate_key(key_file)
        click.echo(f"wrote a new signing key to {key_file} (mode 0600; keep it private)")
    key = read_key(key_file)

    def open_link(with_key: bytes | None):
        return connect(address, baud=baud, source_system=source_system,
                       source_component=source_component,
                       heartbeat_timeout_s=heartbeat_timeout, key=with_key)

    try:
        link = open_link(None)
    except AgridroneError as unsigned_error:
        try:
            open_link(key).close()
        except AgridroneError:
            raise unsigned_error from None
        click.echo(f"signing already set up: the vehicle on {address} signs with the key in "
                   f"{key_file} (nothing changed)")
        return
    try:
        install_key(link, key, time.time())
    finally:
        link.close()
    try:
        open_link(key).close()
    except AgridroneError as exc:
        raise AgridroneError(f"sent SETUP_SIGNING but the vehicle does not sign with the new "
                             f"key ({exc})") from None
    click.echo(f"signing set up: the vehicle on {address} signs with the key in {key_file}; "
               "give --key to every command that talks to it")

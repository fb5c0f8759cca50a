"""``agridrone sim``: run the simulated ArduCopter for a ground station or a developer."""

from __future__ import annotations

import time

import click

from agridrone.errors import AgridroneError


def _parse_home(text: str) -> tuple[float, float, float]:
    """Parse ``LAT,LON,ALT`` (degrees, degrees, metres AMSL)."""
    parts = text.split(",")
    try:
        lat, lon, alt = (float(p) for p in parts)
    except ValueError:
        raise AgridroneError(f"--home must be LAT,LON,ALT (degrees, degrees, metres), got {text!r}") from None
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0 and -500.0 <= alt <= 9000.0):
        raise AgridroneError(f"--home {text!r} is out of range (lat -90..90, lon -180..180, alt -500..9000 m)")
    return lat, lon, alt


def parse_wind(text: str) -> tuple[float, float]:
    """Parse ``SPEED,FROM_DEG`` (m/s, degrees the wind blows from)."""
    try:
        speed, from_deg = (float(p) for p in text.split(","))
    except ValueError:
        raise AgridroneError(f"--wind must be SPEED,FROM_DEG (m/s, degrees), got {text!r}") from None
    if not 0.0 <= speed <= 30.0:
        raise AgridroneError(f"--wind speed {speed:g} m/s is out of range 0..30")
    return speed, from_deg % 360.0


@click.command("sim")
@click.option("--port", type=click.IntRange(0, 65535), default=5760, show_default=True,
              help="Port to listen on (0 picks a free one).")
@click.option("--udp", is_flag=True, help="Listen on UDP instead of TCP.")
@click.option("--speedup", type=click.FloatRange(0.1, 1000.0), default=1.0, show_default=True,
              help="Simulated seconds per wall-clock second.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed for repeatable runs.")
@click.option("--home", "home_text", default="31.5204,74.3587,215.1", show_default=True,
              help="Home position LAT,LON,ALT (degrees, degrees, metres above sea level).")
@click.option("--wind", "wind_text", default="0,0", show_default=True,
              help="Steady wind SPEED,FROM_DEG (m/s, degrees); it costs battery, not track.")
def sim(port: int, udp: bool, speedup: float, seed: int, home_text: str, wind_text: str) -> None:
    """Run a simulated ArduCopter (MAVLink 2, sysid 1) until Ctrl-C.

    It behaves on the wire like ArduPilot SITL: connect a ground station or
    firmware_bridge to the printed address.
    """
    from sim.vehicle import SimVehicle

    home = _parse_home(home_text)
    wind = parse_wind(wind_text)
    vehicle = SimVehicle(port=port, transport="udp" if udp else "tcp", speedup=speedup,
                         seed=seed, home=home, wind=wind)
    try:
        bound = vehicle.start()
    except OSError as exc:
        raise AgridroneError(f"cannot listen on 127.0.0.1:{port}: {exc.strerror}") from None
    click.echo(f"simulated vehicle listening on {'udp' if udp else 'tcp'}:127.0.0.1:{bound} "
               f"(speedup {speedup:g}, seed {seed}); Ctrl-C stops it", nl=True)
    try:
        while True:
            time.sleep(0.5)
    except KeyboardInterrupt:
        click.echo("stopped")
    finally:
        vehicle.stop()

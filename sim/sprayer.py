"""ArduPilot's AC_Sprayer: pump output proportional to ground speed, with on and off delays.

While DO_SPRAYER has switched the sprayer on, spraying starts once ground speed has stayed at or
above SPRAY_SPEED_MIN (cm/s) for 100 ms and stops once it has stayed below for 1 s. The pump
output is SPRAY_PUMP_RATE % per m/s of ground speed (at least SPRAY_PUMP_MIN %), the spinner is
SPRAY_SPINNER µs. Outputs read 0 until the first DO_SPRAYER, SERVOn_MIN (1100 µs) when stopped.
"""

from __future__ import annotations

from sim.params import ParamStore

TURN_ON_DELAY_S = 0.1
SHUT_OFF_DELAY_S = 1.0
PUMP_FUNCTION = 22  # SERVOn_FUNCTION k_sprayer_pump
SPINNER_FUNCTION = 23  # SERVOn_FUNCTION k_sprayer_spinner
SERVO_CHANNELS = 16


class Sprayer:
    """Sprayer state; ``update`` once per physics step."""

    def __init__(self, params: ParamStore) -> None:
        self._params = params
        self.reset()

    def reset(self) -> None:
        """Back to power-on: never commanded, not running, outputs 0."""
        self.commanded = False
        self.running = False
        self.spraying = False
        self.pump_pct = 0.0
        self._over_s: float | None = None
        self._under_s: float | None = None

    def run(self, on: bool) -> None:
        """DO_SPRAYER: switch the sprayer on (it then sprays whenever fast enough) or off."""
        self.commanded = True
        self.running = on
        if not on:
            self._stop()

    def update(self, now_s: float, ground_speed_m_s: float, armed: bool) -> None:
        """Apply AC_Sprayer's speed gate and delays at ``now_s`` (seconds)."""
        if not self.running or not armed or self._params.value("SPRAY_ENABLE") == 0:
            self._stop()
            return
        speed_min_m_s = self._params.value("SPRAY_SPEED_MIN") / 100.0
        should_spray = self.spraying
        if ground_speed_m_s >= speed_min_m_s:
            self._under_s = None
            if not self.spraying:
                if self._over_s is None:
                    self._over_s = now_s
                elif now_s - self._over_s > TURN_ON_DELAY_S:
                    should_spray, self._over_s = True, None
        else:
            self._over_s = None
            if self.spraying:
                if self._under_s is None:
                    self._under_s = now_s
                elif now_s - self._under_s > SHUT_OFF_DELAY_S:
                    should_spray, self._under_s = False, None
        if should_spray:
            pct = ground_speed_m_s * self._params.value("SPRAY_PUMP_RATE")
            self.pump_pct = min(max(pct, self._params.value("SPRAY_PUMP_MIN")), 100.0)
            self.spraying = True
        else:
            self._stop()

    def _stop(self) -> None:
        self.spraying = False
        self.pump_pct = 0.0

    def outputs(self) -> dict[int, int]:
        """PWM (µs) per servo channel (1-based) whose SERVOn_FUNCTION is the pump or spinner."""
        out = {}
        for channel in range(1, SERVO_CHANNELS + 1):
            function = self._params.get(f"SERVO{channel}_FUNCTION")
            if function is None or function.value not in (PUMP_FUNCTION, SPINNER_FUNCTION):
                continue
            low, high = self._servo_range(channel)
            if not self.commanded:
                out[channel] = 0
            elif not self.spraying:
                out[channel] = low
            elif function.value == PUMP_FUNCTION:
                out[channel] = int(round(low + (high - low) * self.pump_pct / 100.0))
            else:
                out[channel] = int(self._params.value("SPRAY_SPINNER"))
        return out

    def _servo_range(self, channel: int) -> tuple[int, int]:
        low = self._params.get(f"SERVO{channel}_MIN")
        high = self._params.get(f"SERVO{channel}_MAX")
        return (int(low.value) if low else 1100, int(high.value) if high else 1900)

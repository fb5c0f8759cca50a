"""What a freshly booted ArduCopter SITL says and refuses while its sensors and EKF come up.

Times are simulated seconds since boot, as recorded from ArduCopter 4.7 SITL (13-arming, 15-reboot):
BOOT status for 3 s, EKF attitude at 4.45 s, GPS at 9.8 s, origin and home at 20 s, position
estimate ("is using GPS", ready to arm) at 41.4 s. ``scale`` stretches or shrinks the whole timeline
(tests and developers use a short one; 1.0 is SITL's). Pre-arm failures are reported as
"PreArm: ..." every 30 s from 0.46 s after boot; the recordings show them only once the GCS has
tried to arm (13-arming, 16-battery-failsafe), never in 01-connect or 15-reboot.
"""

from __future__ import annotations

from dataclasses import dataclass

BOOT_STATUS_S = 3.0
EKF_ATTITUDE_S = 4.45
GPS_FIX_S = 9.82
HOME_SET_S = 20.0
READY_S = 41.4
PREARM_PERIOD_S = 30.0
PREARM_FIRST_S = 0.46

# (time since boot, severity, text); home is set (HOME_POSITION sent) at HOME_SET_S.
BOOT_TEXTS: tuple[tuple[float, int, str], ...] = (
    (1.92, 6, "Barometer 1 calibration complete"),
    (1.92, 6, "Barometer 2 calibration complete"),
    (2.45, 6, "ArduPilot Ready"),
    (2.45, 6, "AHRS: DCM active"),
    (2.75, 6, "RC7: SaveWaypoint LOW"),
    (4.45, 6, "EKF3 IMU0 initialised"),
    (4.45, 6, "EKF3 IMU1 initialised"),
    (4.455, 6, "AHRS: EKF3 active"),
    (5.80, 6, "EKF3 IMU0 tilt alignment complete"),
    (5.80, 6, "EKF3 IMU1 tilt alignment complete"),
    (5.90, 6, "EKF3 IMU0 MAG0 initial yaw alignment complete"),
    (5.90, 6, "EKF3 IMU1 MAG0 initial yaw alignment complete"),
    (9.80, 6, "GPS 1: probing for u-blox at 230400 baud"),
    (9.82, 6, "GPS 1: detected u-blox"),
    (20.0, 6, "EKF3 IMU0 origin set"),
    (20.03, 6, "Field Elevation Set: {elevation}m"),
    (20.2, 6, "EKF3 IMU1 origin set"),
    (41.4, 6, "EKF3 IMU0 is using GPS"),
    (41.6, 6, "EKF3 IMU1 is using GPS"),
)


def _arm_reasons_at(t_s: float) -> tuple[str, ...]:
    if t_s < EKF_ATTITUDE_S:
        return ("Accels inconsistent", "EKF attitude is bad", "AHRS: not using configured AHRS type")
    if t_s < HOME_SET_S:
        return ("Gyros inconsistent", "AHRS: waiting for home")
    if t_s < READY_S:
        return ("Need Position Estimate",)
    return ()


@dataclass
class BootTimeline:
    """Boot progress of one vehicle run; ``scale`` multiplies every time of the timeline."""

    scale: float = 1.0
    elevation_m: float = 0.0
    _next_text: int = 0
    _next_prearm_s: float = PREARM_FIRST_S

    def booting(self, t_s: float) -> bool:
        """True while HEARTBEAT reports MAV_STATE_BOOT (seconds since boot)."""
        return t_s < BOOT_STATUS_S * self.scale

    def gps_fix(self, t_s: float) -> bool:
        """True once the GPS reports a fix."""
        return t_s >= GPS_FIX_S * self.scale

    def home_set(self, t_s: float) -> bool:
        """True once the EKF origin, and with it home, is set."""
        return t_s >= HOME_SET_S * self.scale

    def arm_reasons(self, t_s: float) -> tuple[str, ...]:
        """Pre-arm failures at ``t_s`` seconds since boot (empty once ready to arm)."""
        return _arm_reasons_at(t_s / self.scale) if self.scale > 0 else ()

    def due_texts(self, t_s: float) -> list[tuple[int, str]]:
        """Boot STATUSTEXTs (severity, text) that became due up to ``t_s``, each returned once."""
        out = []
        while (self._next_text < len(BOOT_TEXTS)
               and BOOT_TEXTS[self._next_text][0] * self.scale <= t_s):
            _, severity, text = BOOT_TEXTS[self._next_text]
            out.append((severity, text.format(elevation=round(self.elevation_m))))
            self._next_text += 1
        return out

    def prearm_due(self, t_s: float) -> bool:
        """True when the periodic (every 30 s) "PreArm: ..." report is due; advances the timer."""
        if self.scale <= 0 or t_s < self._next_prearm_s * self.scale:
            return False
        while self._next_prearm_s * self.scale <= t_s:
            self._next_prearm_s += PREARM_PERIOD_S
        return True

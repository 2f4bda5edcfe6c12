"""Peak resident memory of this process, per stage of a run.

Linux keeps the process's high-water mark (``VmHWM``) and lets the process reset it
(``/proc/self/clear_refs``, value 5), so a stage's own peak can be read exactly, without a
sampling thread. Elsewhere (macOS, restricted /proc) the process-wide peak
(``ru_maxrss``) is returned, which is an upper bound for the stage.
"""

from __future__ import annotations

import resource
import sys

_before_resets = 0.0  # the highest mark seen before any reset (a reset lowers ru_maxrss too)


def reset_peak() -> bool:
    """Start a new high-water mark; False where the OS does not allow it."""
    global _before_resets
    _before_resets = max(_before_resets, peak_rss_mib())
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def peak_rss_mib() -> float:
    """Peak resident memory since the last :func:`reset_peak` (else since start), in MiB."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return _ru_maxrss_mib()


def process_peak_rss_mib() -> float:
    """Peak resident memory of the whole process life, in MiB (resets included)."""
    return max(_ru_maxrss_mib(), _before_resets)


def current_rss_mib() -> float:
    """Resident memory now, in MiB (nan where /proc is unavailable)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def _ru_maxrss_mib() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024 ** 2 if sys.platform == "darwin" else peak / 1024  # bytes on macOS, KiB on Linux

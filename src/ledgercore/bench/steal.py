"""Time the host takes from this machine's virtual CPUs ("steal"), so that a ratio of two rates
measured seconds apart is not skewed by a neighbour that was busy during one of them.

On a virtual machine, the hypervisor may run other guests on the CPUs this one was given;
Linux counts those ticks as steal in /proc/stat. Over an interval, the CPU time this process
could have had is the wall time on each of its CPUs less what was stolen from them. Elsewhere
(no /proc/stat), nothing is counted as stolen and a span's available time is its wall time.

Example:
    >>> watch = Stopwatch()
    >>> span = watch.stop()
    >>> 0 <= span.stolen_seconds and span.available_seconds <= span.wall_seconds
    True
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

__all__ = ["Span", "Stopwatch", "stolen_seconds"]

_STEAL_FIELD = 8  # "cpuN user nice system idle iowait irq softirq steal ..."


def _cpus() -> set[int] | None:
    try:
        return set(os.sched_getaffinity(0))
    except AttributeError:
        return None


def stolen_seconds() -> float:
    """CPU-seconds stolen so far from the CPUs this process may run on (0.0 where the system
    does not say)."""
    cpus = _cpus()
    total_ticks = 0
    try:
        with open("/proc/stat") as file:
            for line in file:
                if not line.startswith("cpu") or line.startswith("cpu "):
                    continue
                fields = line.split()
                if cpus is not None and int(fields[0][3:]) not in cpus:
                    continue
                if len(fields) > _STEAL_FIELD:
                    total_ticks += int(fields[_STEAL_FIELD])
    except (OSError, ValueError):
        return 0.0
    return total_ticks / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Span:
    """One timed interval: its wall time, and the CPU-seconds stolen from this process's CPUs."""

    wall_seconds: float
    stolen_seconds: float
    cpu_count: int

    @property
    def stolen_share(self) -> float:
        """The share of the interval's CPU time that was stolen (0..1)."""
        if self.wall_seconds <= 0:
            return 0.0
        return min(1.0, self.stolen_seconds / (self.wall_seconds * self.cpu_count))

    @property
    def available_seconds(self) -> float:
        """Wall seconds less the stolen share: what the interval would have lasted on CPUs that
        were this machine's alone, if its work uses them all."""
        return self.wall_seconds * (1.0 - self.stolen_share)


class Stopwatch:
    """Started when made; `stop()` gives the Span since then."""

    def __init__(self) -> None:
        cpus = _cpus()
        self._cpu_count = len(cpus) if cpus else (os.cpu_count() or 1)
        self._stolen = stolen_seconds()
        self._started = time.perf_counter()

    def stop(self) -> Span:
        """The span from this stopwatch's start until now."""
        wall = time.perf_counter() - self._started
        stolen = max(0.0, stolen_seconds() - self._stolen)
        return Span(wall, stolen, self._cpu_count)

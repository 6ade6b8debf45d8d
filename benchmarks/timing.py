"""Timing helpers shared by the benchmark scripts: interleaved medians and the load average."""

from __future__ import annotations

import statistics
import time


def load() -> str:
    """The load averages over 1, 5 and 15 minutes."""
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def interleaved(methods: dict, repeat: int) -> dict:
    """Median seconds per method, the methods taking turns within each repetition."""
    times = {name: [] for name in methods}
    for _ in range(repeat):
        for name, fn in methods.items():
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    return {name: statistics.median(t) for name, t in times.items()}

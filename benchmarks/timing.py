"""Timing helpers shared by the benchmark scripts: interleaved medians and the load average."""

from __future__ import annotations

import resource
import statistics
import time


def load() -> str:
    """The load averages over 1, 5 and 15 minutes."""
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


class Timings(dict):
    """Median wall seconds per method; ``system``: the median system (kernel) seconds of each call, the
    whole process's (every thread), which is where mapping fresh memory shows."""

    system: dict


def interleaved(methods: dict, repeat: int) -> Timings:
    """Median seconds per method, the methods taking turns within each repetition."""
    times: dict = {name: [] for name in methods}
    kernel: dict = {name: [] for name in methods}
    for _ in range(repeat):
        for name, fn in methods.items():
            s0 = resource.getrusage(resource.RUSAGE_SELF).ru_stime
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
            kernel[name].append(resource.getrusage(resource.RUSAGE_SELF).ru_stime - s0)
    out = Timings({name: statistics.median(t) for name, t in times.items()})
    out.system = {name: statistics.median(s) for name, s in kernel.items()}
    return out

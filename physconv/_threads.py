"""How the compiled loops' threads behave: one thread for small work, all otherwise, and idle
threads that sleep instead of spinning.

A parallel region costs a few microseconds when the machine is quiet, but a
time slice of the scheduler (milliseconds) when another process holds the
other core: the region waits for its slowest thread. Below
:data:`SERIAL_BELOW` cells (or particles) per call the loops therefore run on
the calling thread alone, so a small run's time does not depend on how busy
the machine is. Measured on 2 cores: FTCS on 128² takes 13.2 µs per step on
one thread and 12.5 µs on two; on 64², 5.3 µs and 7.2 µs. The results are the
same bit for bit either way.

Between parallel regions the OpenMP runtime that numba uses keeps its idle
threads spinning by default (``OMP_WAIT_POLICY`` unset: about 300 000 spins,
milliseconds). When other processes hold the cores this is what makes a run
slow: a spinning thread burns the time slice its sibling needs, and the
scheduler treats both as busy, so each region waits a slice for its slowest
thread. :func:`wait_passively` (called when physconv is imported) asks idle
threads to sleep instead, unless the environment already says otherwise.
Measured on 2 cores with two other busy processes, Crank–Nicolson ADI on 256²
for 300 steps: 0.61-3.7 s spinning against 0.45 s sleeping (0.20 and 0.27 s
on a quiet machine); `python -m benchmarks --only load` measures every method.
It acts only if no OpenMP runtime has started in the process yet.
"""

from __future__ import annotations

import os
from contextlib import contextmanager

SERIAL_BELOW = 16_384


@contextmanager
def threads_for(work: int):
    """Run the compiled loops inside the block on one thread when ``work`` is below SERIAL_BELOW."""
    if work >= SERIAL_BELOW:
        yield
        return
    import numba

    before = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        yield
    finally:
        numba.set_num_threads(before)


def wait_passively() -> None:
    """Let idle OpenMP threads sleep (``OMP_WAIT_POLICY=PASSIVE``) unless the user chose a policy or a spin count."""
    if "OMP_WAIT_POLICY" not in os.environ and "GOMP_SPINCOUNT" not in os.environ:
        os.environ["OMP_WAIT_POLICY"] = "PASSIVE"

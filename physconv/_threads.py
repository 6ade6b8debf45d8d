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

Sleeping threads are not enough when each parallel region is short: a sleeping
thread that is woken for a region waits for a core that the other processes
hold, and the region waits for it. :class:`ThreadChoice` therefore measures
each chunk of compiled calls and runs the next on one thread when that was
faster lately. Measured on 2 cores, FTCS on 256² for 300 steps (30 regions of
about 0.3 ms): 11 ms on two threads and 13 ms on one when quiet, 42 ms and
25 ms beside two busy processes.
"""

from __future__ import annotations

import os
import time
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


PROBE_BELOW = 0.75  # try one thread when the threads kept fewer than this share of their cores busy
FIRST_GAP, MAX_GAP = 3, 48  # chunks between probes of the other choice: doubled each time it loses


class ThreadChoice:
    """All the loops' threads or one, chunk by chunk, whichever ran faster lately.

    Between chunks the choice is made from the last measured rate (steps per second) of each. A chunk
    on all ``t`` threads that kept fewer than ``PROBE_BELOW * t`` cores busy (the process's CPU time over
    the wall time) is followed by a chunk on one thread, to measure it; a machine whose cores are free
    keeps them busy and never pays for the probe. Once both rates are known the other choice is probed
    again after ``FIRST_GAP`` chunks, twice as many after each probe it loses (at most ``MAX_GAP``), so
    a change of load is noticed. The first chunk (it maps fresh memory) is not measured. Results do
    not depend on the number of threads (the loops' tests check this bit for bit).

    Parameters
    ----------
    work : int
        Updates per step; below :data:`SERIAL_BELOW` every chunk runs on one thread.
    """

    def __init__(self, work: int):
        import numba

        self.all = 1 if work < SERIAL_BELOW else numba.get_num_threads()
        self.rate: dict[int, float] = {}
        self.busy = 1.0  # the share of the threads' cores kept busy by the last chunk on all of them
        self.choice, self.gap, self.since, self.calls = self.all, FIRST_GAP, 0, 0

    def _next(self) -> int:
        if self.all == 1 or not self.rate:
            return self.all
        best = max(self.rate, key=self.rate.get)
        other = 1 if best == self.all else self.all
        if other == 1 and self.busy >= PROBE_BELOW:  # the threads keep their cores busy: keep them all
            return best
        return other if other not in self.rate or self.since >= self.gap else best

    @contextmanager
    def chunk(self, steps: int):
        """Run the block (``steps`` steps of compiled calls) on the chosen number of threads; measure it."""
        import numba

        threads = self._next()
        before = numba.get_num_threads()
        numba.set_num_threads(threads)
        w0, c0 = time.perf_counter(), time.process_time()
        try:
            yield threads
        finally:
            numba.set_num_threads(before)
        wall, cpu = time.perf_counter() - w0, time.process_time() - c0
        self.calls += 1
        if self.calls == 1 or wall <= 0 or self.all == 1:
            return
        probe = threads != self.choice
        self.rate[threads] = steps / wall
        if threads == self.all:
            self.busy = cpu / wall / threads
        best = max(self.rate, key=self.rate.get)
        if probe and len(self.rate) == 2:  # a repeated probe: wait longer next time if it lost
            self.gap = FIRST_GAP if best == threads else min(2 * self.gap, MAX_GAP)
        self.since = 0 if probe else self.since + 1
        self.choice = best


def wait_passively() -> None:
    """Let idle OpenMP threads sleep (``OMP_WAIT_POLICY=PASSIVE``) unless the user chose a policy or a spin count."""
    if "OMP_WAIT_POLICY" not in os.environ and "GOMP_SPINCOUNT" not in os.environ:
        os.environ["OMP_WAIT_POLICY"] = "PASSIVE"

"""How many threads the compiled loops use: one for small work, all otherwise.

A parallel region costs a few microseconds when the machine is quiet, but a
time slice of the scheduler (milliseconds) when another process holds the
other core: the region waits for its slowest thread. Below
:data:`SERIAL_BELOW` cells (or particles) per call the loops therefore run on
the calling thread alone, so a small run's time does not depend on how busy
the machine is. Measured on 2 cores: FTCS on 128² takes 13.2 µs per step on
one thread and 12.5 µs on two; on 64², 5.3 µs and 7.2 µs. The results are the
same bit for bit either way.
"""

from __future__ import annotations

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

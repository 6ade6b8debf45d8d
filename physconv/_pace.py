"""Chunks of compiled work sized by measured time, so that Ctrl-C is honoured within a fraction of a second.

The long loops (FTCS and kernel steps, implicit steps, walkers, counts) run as a series of compiled calls;
Python, and with it an interrupt, a progress bar and the next saved frame, runs between calls. A fixed
number of cell updates per call is the wrong unit: on a grid of a few cells the per-step overhead makes a
call of 10⁸ updates last seconds. :class:`Pace` measures each call and sizes the next to last about
:data:`TARGET_SECONDS`, growing at most fourfold from one call to the next (so a slow machine or a sudden
load never makes a call much longer than the target) and starting small.
"""

from __future__ import annotations

import time

TARGET_SECONDS = 0.1  # each compiled call lasts about this long: an interrupt waits at most about twice it
START_UPDATES = 1_000_000  # work (cell or particle updates) of the first call, before anything is measured
GROWTH = 4  # the next call does at most this many times the steps of the last


class Pace:
    """How many steps the next compiled call should take.

    Parameters
    ----------
    work : int
        Updates per step (cells, or particles); the first call takes ``START_UPDATES / work`` steps.
    multiple : int
        Calls take whole multiples of this many steps (fused steps per sweep), except the last.
    """

    def __init__(self, work: int, multiple: int = 1):
        self.multiple = max(int(multiple), 1)
        self.steps = self._round(max(1, START_UPDATES // max(int(work), 1)))
        self._start = None

    def _round(self, n: int) -> int:
        return max(self.multiple, n // self.multiple * self.multiple)

    def next(self, remaining: int) -> int:
        """Steps for the next call (at most ``remaining``); call :meth:`done` after it."""
        self._start = time.perf_counter()
        return int(min(self.steps, remaining))

    def done(self, n: int) -> None:
        """The call of ``n`` steps has returned: size the next from its duration."""
        seconds = time.perf_counter() - self._start
        if n < self.steps:  # a short last call before a saved frame says little about the rate
            return
        wanted = n * TARGET_SECONDS / seconds if seconds > 0 else n * GROWTH
        self.steps = self._round(int(min(wanted, n * GROWTH)))

"""Scratch arrays kept from one call of the stepping loops to the next, per thread.

A new array costs nothing until it is written: then the kernel maps and zeroes its pages, one fault
per page, and on a busy machine it may first have to gather free memory. For one call of
:func:`physconv.solvers.explicit.diffuse` on 256^3 cells (two buffers of 128 MiB) that took 20-50 ms
of kernel time on a quiet machine and up to 500 ms right after another program had used and freed a
few GiB, when 20 steps themselves compute in 140 ms. The solvers therefore take their second buffer
and their ring of fused levels from here and give them back when they return: a repeated call of the
same size touches only the pages of its result (measured: 29 → 13 ms of kernel time a call).

Each thread keeps at most :data:`KEEP` arrays (the most recently given back), so what stays in memory
after a run is its scratch: one buffer of the grid's size and the ring. :func:`release` lets
them go.

The result itself must be new memory; :func:`new` maps its pages at once, in order, from the calling
thread, rather than leaving the loops' threads to fault them in together as they first write: on 256^3
right after Devito's operators that cost 8-160 ms of kernel time a call, against a steady 12 ms.
"""

from __future__ import annotations

import functools
import glob
import resource
import threading

import numpy as np

KEEP = 3
MAP_AT_ONCE = 4 * 2**20  # bytes: from this size numpy asks the system for huge pages
_LOCAL = threading.local()


def _kept() -> list:
    if not hasattr(_LOCAL, "arrays"):
        _LOCAL.arrays = []
    return _LOCAL.arrays


def take(shape, dtype=np.float64) -> np.ndarray:
    """An array of ``shape`` and ``dtype`` with undefined values: a kept one if this thread has one, else new.

    The array is no longer kept: a nested call (from a callback, say) gets a different one.
    """
    shape, dtype = tuple(int(n) for n in np.atleast_1d(shape)), np.dtype(dtype)
    kept = _kept()
    for i in range(len(kept) - 1, -1, -1):  # the newest first
        if kept[i].shape == shape and kept[i].dtype == dtype:
            return kept.pop(i)
    return new(shape, dtype)


def new(shape, dtype=np.float64) -> np.ndarray:
    """A new array of ``shape`` and ``dtype`` with undefined values; from :data:`MAP_AT_ONCE` bytes up, its
    pages are mapped now, one write per page in order by this thread (not on a machine with several
    memory nodes, where the first thread to write a page decides where it lives)."""
    a = np.empty(shape, dtype)
    if a.nbytes >= MAP_AT_ONCE and _one_memory_node():
        a.reshape(-1)[:: max(1, resource.getpagesize() // a.itemsize)] = 0
    return a


@functools.cache
def _one_memory_node() -> bool:
    return len(glob.glob("/sys/devices/system/node/node[0-9]*")) <= 1


def give_back(a: np.ndarray) -> None:
    """Keep ``a`` (which nothing else may use any more) for this thread's next :func:`take` of its shape
    and dtype; the oldest kept array is let go beyond :data:`KEEP`."""
    kept = _kept()
    kept.append(a)
    del kept[:-KEEP]


def release() -> None:
    """Let go of this thread's kept arrays."""
    _kept().clear()


def held() -> tuple[np.ndarray, ...]:
    """The arrays this thread keeps, the oldest first."""
    return tuple(_kept())

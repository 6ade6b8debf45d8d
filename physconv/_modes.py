"""Every mode times the n-th power of its factor, ``out = c * G**n`` (private).

The exact propagator's only work between its two transforms. It runs in blocks
of :data:`BLOCK` modes, small enough that the factors, their logarithms and their
powers never leave the cache (no array of the size of the grid is built: on a
large grid the first touch of such an array costs as much as a transform), on
all cores through a pool of threads (numpy's ufuncs release the interpreter
lock; compiled parallel loops would leave their threads spinning while the
transforms that follow run).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

UNDERFLOW = -745.2  # exp of anything below is exactly 0 in float64 (the smallest subnormal is exp(-744.4))
BLOCK = 1 << 16  # modes per block: a few arrays of 512 KiB, in the cache
_pool: ThreadPoolExecutor | None = None


def log(G: np.ndarray) -> np.ndarray:
    """The part of ``G ** n`` that does not depend on ``n``: ``log G`` (complex) or ``log|G|`` (real),
    ``-inf`` (real part) where ``G = 0``."""
    with np.errstate(divide="ignore"):
        if np.iscomplexobj(G):
            return np.log(G)  # log 0 = -inf + 0j
        a = np.abs(G, dtype=float)
        return np.log(a, out=a)


def power_into(p: np.ndarray, log_g: np.ndarray, G: np.ndarray, n: int) -> np.ndarray:
    """``p = G ** n = sign(G)^n exp(n log|G|)`` (complex: ``exp(n log G)``) in place; ``p`` returned.

    What underflows is set to exactly 0 without evaluating it (values that round to 0 take
    the slow path of ``exp``).
    """
    re = p.real if np.iscomplexobj(p) else p
    np.multiply(log_g.real, n, out=re)  # by parts: (-inf + 0j) * n would make a NaN imaginary part
    if re is not p:
        np.multiply(log_g.imag, n, out=p.imag)
    if re.size and re.min() > UNDERFLOW:
        np.exp(p, out=p)
    elif re.size and re.max() <= UNDERFLOW:
        p[...] = 0
    else:
        live = re > UNDERFLOW
        with np.errstate(under="ignore"):
            np.exp(p, out=p, where=live)
        np.copyto(p, 0, where=np.logical_not(live, out=live))
    if re is p and n % 2:
        np.copysign(p, G, out=p)
    return p


def scale(out: np.ndarray, c: np.ndarray, factor, n: int) -> None:
    """``out = c * G**n`` block by block; ``out`` may be ``c``.

    Parameters
    ----------
    out, c : ndarray, 2-D, same shape ``(rows, cols)``
        The coefficients, their leading axes flattened.
    factor : callable
        ``factor(i0, i1, j0, j1)`` gives ``G[i0:i1, j0:j1]`` (a new or read-only array).
    n : int
    """
    rows, cols = c.shape
    per_row = max(1, BLOCK // max(cols, 1))
    width = min(cols, BLOCK)
    blocks = [(i0, min(rows, i0 + per_row), j0, min(cols, j0 + width))
              for i0 in range(0, rows, per_row) for j0 in range(0, cols, width)]

    def run(part):
        for i0, i1, j0, j1 in part:
            g = factor(i0, i1, j0, j1)
            p = power_into(np.empty(g.shape, complex if np.iscomplexobj(g) else float), log(g), g, n)
            np.multiply(c[i0:i1, j0:j1], p, out=out[i0:i1, j0:j1])

    threads = min(len(blocks), os.cpu_count() or 1)
    if threads < 2:
        run(blocks)
        return
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(os.cpu_count(), thread_name_prefix="physconv-modes")
    list(_pool.map(run, [blocks[t::threads] for t in range(threads)]))

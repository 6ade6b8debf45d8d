"""Every mode times the n-th power of its factor, ``out = c * G**n`` (private).

The exact propagator's only work between its two transforms. It runs in blocks
of :data:`BLOCK` modes, small enough that the factors, their logarithms and their
powers never leave the cache (no array of the size of the grid is built: on a
large grid the first touch of such an array costs as much as a transform), on
all cores through a pool of threads (numpy's ufuncs release the interpreter
lock; compiled parallel loops would leave their threads spinning while the
transforms that follow run). Each thread computes its blocks in one scratch array
kept between calls (:mod:`physconv.solvers.workspace`): new arrays for every block
were given back to the system as they were freed and faulted in again by the next
block, which tripled a block's cost (625 against 210 us for 65536 modes).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from .solvers import workspace

UNDERFLOW = -745.2  # exp of anything below is exactly 0 in float64 (the smallest subnormal is exp(-744.4))
BLOCK = 1 << 16  # modes per block: a few arrays of 512 KiB, in the cache
_pool: ThreadPoolExecutor | None = None


def log(G: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """The part of ``G ** n`` that does not depend on ``n``: ``log G`` (complex) or ``log|G|`` (real),
    ``-inf`` (real part) where ``G = 0``; into ``out`` (complex or float, ``G``'s shape) if given."""
    with np.errstate(divide="ignore"):
        if np.iscomplexobj(G):
            return np.log(G, out=out)  # log 0 = -inf + 0j
        a = np.abs(G, dtype=float) if out is None else np.abs(G, out=out)
        return np.log(a, out=a)


def power_into(p: np.ndarray, log_g: np.ndarray, G: np.ndarray, n: int) -> np.ndarray:
    """``p = G ** n = sign(G)^n exp(n log|G|)`` (complex: ``exp(n log G)``) in place; ``p`` returned.
    ``p`` may be ``log_g`` itself (it is read first, element by element).

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


def scale(out: np.ndarray, c: np.ndarray, factor, n: int, mirror: int = 1) -> None:
    """``out = c * G**n`` block by block; ``out`` may be ``c``.

    Parameters
    ----------
    out, c : ndarray, 2-D, same shape ``(rows, cols)``
        The coefficients, their leading axes flattened.
    factor : callable
        ``factor(i0, i1, j0, j1, out)`` gives ``G[i0:i1, j0:j1]``: a read-only array, or ``out`` (float,
        that block's shape, scratch) filled with it.
    n : int
    mirror : int
        The rows are ``mirror`` equal groups (the modes of a periodic first axis) and group ``g`` has
        exactly the factors of group ``(mirror - g) % mirror``: the powers are computed for groups
        ``0 ... mirror // 2`` only and used for their mirror images as well (half the work). 1: no such
        repetition.
    """
    rows, cols = c.shape
    if mirror < 1 or rows % mirror:
        raise ValueError(f"{rows} rows are not {mirror} equal groups")
    per_group = rows // mirror
    c3, out3 = c.reshape(mirror, per_group, cols), out.reshape(mirror, per_group, cols)
    kept = mirror // 2 + 1 if mirror > 1 else 1
    per_row = max(1, BLOCK // max(cols, 1))
    width = min(cols, BLOCK)
    if per_group >= per_row:  # blocks within one group
        spans = [(g, g + 1, r0, min(per_group, r0 + per_row)) for g in range(kept)
                 for r0 in range(0, per_group, per_row)]
    else:  # blocks of whole groups
        spans = [(g0, min(kept, g0 + per_row // per_group), 0, per_group)
                 for g0 in range(0, kept, per_row // per_group)]
    blocks = [span + (j0, min(cols, j0 + width)) for span in spans for j0 in range(0, cols, width)]

    def run(part):
        largest = max((g1 - g0) * (r1 - r0) * (j1 - j0) for g0, g1, r0, r1, j0, j1 in part)
        scratch = workspace.take(4 * largest)  # per block: its factors (float), its logarithms then powers
        try:
            for g0, g1, r0, r1, j0, j1 in part:
                i0, i1 = g0 * per_group + r0, (g1 - 1) * per_group + r1
                size = (i1 - i0) * (j1 - j0)
                g = factor(i0, i1, j0, j1, scratch[:size].reshape(i1 - i0, j1 - j0))
                kind = complex if np.iscomplexobj(g) else float
                work = scratch[2 * size:(4 if kind is complex else 3) * size].view(kind).reshape(g.shape)
                p = power_into(work, log(g, out=work), g, n).reshape(g1 - g0, r1 - r0, j1 - j0)
                np.multiply(c3[g0:g1, r0:r1, j0:j1], p, out=out3[g0:g1, r0:r1, j0:j1])
                m0, m1 = max(g0, 1), min(g1, (mirror + 1) // 2)  # groups g with a mirror image other than g
                if m1 > m0:
                    images = slice(mirror - m1 + 1, mirror - m0 + 1)
                    np.multiply(c3[images, r0:r1, j0:j1], p[m0 - g0:m1 - g0][::-1], out=out3[images, r0:r1, j0:j1])
        finally:
            workspace.give_back(scratch)

    threads = min(len(blocks), os.cpu_count() or 1)
    if threads < 2:
        run(blocks)
        return
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(os.cpu_count(), thread_name_prefix="physconv-modes")
    list(_pool.map(run, [blocks[t::threads] for t in range(threads)]))

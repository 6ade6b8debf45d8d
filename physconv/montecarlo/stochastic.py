"""Stochastic convolution: the measurement picture of a kernel.

Instead of sending mass out, each output cell *looks* at one neighbour,
chosen with the kernel's probabilities, and takes its value:

.. math:: v(x) = \\tilde u(x - D),\\qquad P(D = d) = k[d]

Its expectation is the convolution :math:`\\sum_d k[d]\\,\\tilde u(x - d)`
(with the boundary's padding :math:`\\tilde u`), and the mean of ``K``
independent looks converges to it at rate :math:`1/\\sqrt K`.
"""

from __future__ import annotations

import numbers
from typing import NamedTuple

import numpy as np

from .. import kernels as _k
from ..boundary import pad
from ..grid import all_finite, as_boundaries
from ._random import alias_table, key_of


class StochasticConvolution(NamedTuple):
    """Mean of the draws per cell and its standard error (sample std / sqrt(draws); NaN for one draw)."""

    mean: np.ndarray
    stderr: np.ndarray
    draws: int


def stochastic_convolve(field, kernel, *, boundary="periodic", boundary_value=None, draws: int = 100,
                        seed=0) -> StochasticConvolution:
    """Average of ``draws`` random looks per cell at a neighbour drawn from a probability kernel.

    Parameters
    ----------
    field : ndarray, 1-D, 2-D or 3-D
    kernel : probability kernel, same number of axes
    boundary : boundary spec, tuple of Boundary, or Grid
        What a look beyond the wall sees (the padding of :func:`physconv.convolve.fft_convolve`).
    draws : int
        K, the number of looks per cell.
    seed : int
        Same seed, same result, whatever the number of threads.

    Examples
    --------
    >>> r = stochastic_convolve(np.arange(5.0), [0.5, 0, 0.5], draws=4000, seed=1)
    >>> bool(np.all(np.abs(r.mean[1:-1] - np.arange(1.0, 4.0)) < 5 * r.stderr[1:-1]))
    True
    """
    u = np.asarray(field, dtype=float)
    if not all_finite(u):
        raise ValueError("field contains NaN or infinite values")
    k = _k.probability(kernel, u.ndim)
    if not isinstance(draws, numbers.Integral) or isinstance(draws, bool) or draws < 1:
        raise ValueError(f"draws must be a whole number >= 1, got {draws!r}")
    bcs = as_boundaries(boundary, u.ndim, boundary_value)
    radius = [(w - 1) // 2 for w in k.shape]
    lead = 3 - u.ndim
    padded = np.ascontiguousarray(pad(u, radius, bcs).reshape((1,) * lead + tuple(n + 2 * r for n, r in zip(u.shape, radius))))
    idx = np.argwhere(k > 0)
    offsets = np.zeros((len(idx), 3), dtype=np.int64)
    offsets[:, lead:] = idx - np.array(radius)
    prob, alias = alias_table(k[tuple(idx.T)])
    shape3 = (1,) * lead + u.shape
    mean, sq = np.empty(shape3), np.empty(shape3)
    from . import _loops

    _loops.stochastic_gather(padded, np.array((0,) * lead + tuple(radius), dtype=np.int64),
                             np.array(shape3, dtype=np.int64), offsets, prob, alias, key_of(seed), int(draws), mean, sq)
    if draws == 1:  # one look: no spread to estimate the error from
        return StochasticConvolution(mean.reshape(u.shape), np.full(u.shape, np.nan), 1)
    var = np.maximum(sq - mean**2, 0.0) * draws / (draws - 1)
    return StochasticConvolution(mean.reshape(u.shape), np.sqrt(var / draws).reshape(u.shape), int(draws))

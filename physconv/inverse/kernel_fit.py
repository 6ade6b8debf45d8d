"""A step kernel learned from consecutive frames: a one-layer linear convolutional network trained in
closed form, then read as a propagator.

Each pair of consecutive frames ``(A, B)`` gives, at every cell x far enough from closed walls (all cells
along periodic axes, which wrap),

.. math:: B(x) = \\sum_d k[d]\\, A(x - d) + e(x)

(mass at ``x`` moves to ``x + d`` with weight ``k[d]``, as :func:`physconv.solvers.explicit.propagate`),
a linear regression for the ``s^d`` weights. Both frames are noisy, so the least-squares normal matrix
``X^T X`` holds ``n sigma^2 I`` more than the noise-free one; it is taken out (the moment estimator for
errors in variables), with ``sigma^2`` estimated from the residuals, ``RSS / (n (1 + |k|^2))``, iterated.
The weights sum to one (an equality solved exactly) and are non-negative (``scipy.optimize.lsq_linear``
when the equality-constrained solution has a weight below zero beyond its standard error); ``ridge``
adds ``ridge * n * I`` for frames too smooth to tell the weights apart.
"""

from __future__ import annotations

import itertools
import warnings
from dataclasses import dataclass

import numpy as np

from .frames import Frames, InverseError

MAX_SIZE = 15
ROUNDING = 1e-8  # residuals below this share of the frames' square sum are recomputed directly
EDGE_SHARE = 0.05  # more of the weight than this on the outer ring of a kernel of 5 or more: too small for the frames
# (a 3-wide kernel cannot tell: a stable FTCS step may hold all its weight there)


@dataclass
class KernelFit:
    """The learned kernel, its standard errors, the noise level and the reading as a propagator."""

    kernel: np.ndarray
    stderr: np.ndarray
    sigma: float
    pairs: int
    cells: int
    constrained: bool
    reading: dict

    def to_dict(self) -> dict:
        r = self.reading
        return {"model": "kernel", "estimates": {"kernel": {"value": self.kernel.tolist(), "stderr": self.stderr.tolist()}},
                "d_eff": r["D_eff"], "drift": r["velocity"], "covariance": r["covariance"],
                "anisotropy": r["anisotropy"], "reading": r["reading"],
                "fit": {"noise_sigma": self.sigma, "pairs": self.pairs, "cells": self.cells,
                        "nonnegativity_active": self.constrained}}


def learn(frames: Frames, size: int = 3, ridge: float = 0.0) -> KernelFit:
    """The ``size``-wide kernel (odd) that moves each frame to the next; see the module."""
    if not isinstance(size, (int, np.integer)) or size < 1 or size % 2 == 0 or size > MAX_SIZE:
        raise InverseError(f"--size must be an odd number of cells from 1 to {MAX_SIZE}, got {size}")
    if not (np.isfinite(ridge) and ridge >= 0):
        raise InverseError(f"--ridge must be zero or positive, got {ridge}")
    dts = np.diff(frames.times)
    if not np.allclose(dts, dts[0], rtol=1e-9):
        raise InverseError(f"a step kernel needs frames evenly spaced in time; these are {dts.tolist()} apart")
    g = frames.grid
    r = size // 2
    closed = [b.kind != "periodic" for b in g.boundaries]
    for n, c in zip(g.shape, closed):
        if c and n <= 2 * r:
            raise InverseError(f"frames of {n} cells between closed walls leave no cell {r} away from both for a "
                               f"{size}-wide kernel")
    offsets = list(itertools.product(range(-r, r + 1), repeat=g.ndim))
    G = np.zeros((len(offsets),) * 2)
    b = np.zeros(len(offsets))
    yy = 0.0
    n = 0
    for A, B in zip(frames.data[:-1], frames.data[1:]):
        X, y = _design(A, B, offsets, r, closed)
        G += X.T @ X
        b += X.T @ y
        yy += y @ y
        n += y.size
    s2 = 0.0
    k = _solve(G, b, n, s2, ridge)
    for _ in range(20):
        rss = yy - 2 * b @ k + k @ G @ k
        new = max(rss / (n * (1 + k @ k)), 0.0)
        if abs(new - s2) <= 1e-6 * max(new, 1e-300):
            s2 = new
            break
        s2 = new
        k = _solve(G, b, n, s2, ridge)
    if s2 * n * (1 + k @ k) < ROUNDING * yy:
        # yy - 2 b.k + k.G.k cancels to rounding noise on (nearly) exact frames: the residuals themselves,
        # at the cost of a second pass over the frames
        s2 = _residual_ss(frames.data, k, offsets, r, closed) / (n * (1 + k @ k))
        k = _solve(G, b, n, s2, ridge)
    _check_definite(G, n, s2, ridge, size)
    cov = _covariance(G, n, s2, ridge, k)
    se = np.sqrt(np.maximum(np.diag(cov), 0.0))
    constrained = bool(np.any(k < -3 * se - 1e-12))
    if constrained:
        k = _nonnegative(_normal(G, n, s2, ridge), b)
        free = k > 0
        se = np.zeros_like(k)  # the weights held at zero are exact there; the others' within the active set
        se[free] = np.sqrt(np.maximum(np.diag(_covariance(G[np.ix_(free, free)], n, s2, ridge, k[free])), 0.0))
    shape = (size,) * g.ndim
    kernel = k.reshape(shape)
    inner = np.ones(shape, dtype=bool)
    inner[tuple(slice(1, -1) for _ in shape)] = False
    edge = float(np.abs(kernel[inner]).sum() / max(np.abs(kernel).sum(), 1e-300)) if size >= 5 else 0.0
    if edge > EDGE_SHARE:
        warnings.warn(f"the kernel's outermost ring holds {100 * edge:.0f} % of its weight: the frames are further "
                      f"apart than a {size}-wide kernel reaches; try a larger --size", stacklevel=2)
    from .. import kernels as K
    from ..insights.kernel import explain

    dt = float(dts[0])
    m = K.moments(np.clip(kernel, 0, None) / np.clip(kernel, 0, None).sum(), g.spacing, dt)
    info = explain(np.clip(kernel, 0, None), "sum", 1.0, g.spacing, dt)
    reading = {"D_eff": info["D_eff"], "velocity": m.velocity.tolist(), "covariance": info["covariance"],
               "anisotropy": info["anisotropy"], "reading": info["reading"]}
    return KernelFit(kernel, se.reshape(shape), float(np.sqrt(s2)), len(frames.data) - 1, n, constrained, reading)


def _design(A, B, offsets, r, closed):
    """Rows ``A(x - d)`` for every offset d, and ``B(x)``, over the cells used (see the module)."""
    core = tuple(slice(r, n - r) if c else slice(None) for n, c in zip(A.shape, closed))
    y = B[core].ravel()
    X = np.empty((y.size, len(offsets)))
    for j, d in enumerate(offsets):
        shifted = A
        for axis, (dd, c) in enumerate(zip(d, closed)):
            if not c and dd:
                shifted = np.roll(shifted, dd, axis=axis)
        idx = tuple(slice(r - dd, n - r - dd) if c else slice(None) for dd, n, c in zip(d, A.shape, closed))
        X[:, j] = shifted[idx].ravel()
    return X, y


def _residual_ss(data, k, offsets, r, closed) -> float:
    """The sum of squared residuals ``B - k * A`` over every pair of consecutive frames."""
    total = 0.0
    for A, B in zip(data[:-1], data[1:]):
        X, y = _design(A, B, offsets, r, closed)
        total += float(np.sum((X @ k - y) ** 2))
    return total


def _normal(G, n, s2, ridge):
    """The normal matrix with the noise taken out and the ridge added: ``G - n s2 I + n ridge I``."""
    return G + n * (ridge - s2) * np.eye(len(G))


def _sum_zero_basis(p):
    """An orthonormal basis (p, p - 1) of the weights summing to zero."""
    return np.linalg.svd(np.ones((1, p)))[2][1:].T


def _solve(G, b, n, s2, ridge):
    """The weights minimising ``k^T (G - n s2 I + n ridge I) k - 2 b^T k`` with ``sum k = 1`` (KKT)."""
    p = len(b)
    M = _normal(G, n, s2, ridge)
    K = np.block([[2 * M, np.ones((p, 1))], [np.ones((1, p)), np.zeros((1, 1))]])
    rhs = np.concatenate([2 * b, [1.0]])
    try:
        sol = np.linalg.solve(K, rhs)
    except np.linalg.LinAlgError:
        raise InverseError("the frames cannot tell the kernel's weights apart (too smooth or too few cells); "
                           "use a smaller --size or add --ridge") from None
    if not np.all(np.isfinite(sol)):
        raise InverseError("the kernel's normal equations are singular; use a smaller --size or add --ridge")
    return sol[:p]


def _check_definite(G, n, s2, ridge, size) -> None:
    """Refuse when the noise-corrected normal matrix is not positive definite on the weights summing to
    zero: the frames' own detail is then below their noise, and any kernel of that width fits as well."""
    p = len(G)
    N = _sum_zero_basis(p)
    ev = np.linalg.eigvalsh(N.T @ _normal(G, n, s2, ridge) @ N) if p > 1 else np.array([1.0])
    if ev.min() <= 1e-10 * max(ev.max(), 1e-300):
        raise InverseError(f"the frames are too smooth for what the kernel leaves unexplained to tell a {size}-wide "
                           "kernel's weights apart (the noise-corrected normal matrix is not positive definite): "
                           "the frames are too noisy, or further apart than the kernel reaches; try frames closer "
                           "in time, another --size, or --ridge")


def _covariance(G, n, s2, ridge, k):
    """``sigma^2 (1 + |k|^2) N (N^T M N)^-1 N^T``: the weights' covariance within the plane sum k = 1."""
    p = len(k)
    N = _sum_zero_basis(p)
    try:
        inner = np.linalg.inv(N.T @ _normal(G, n, s2, ridge) @ N)
    except np.linalg.LinAlgError:
        return np.full((p, p), np.inf)
    return s2 * (1 + k @ k) * (N @ inner @ N.T)


def _nonnegative(M, b):
    """Non-negative weights summing to one minimising ``k^T M k - 2 b^T k``: a bounded least-squares
    problem (``M = L L^T``) with the sum held by a heavily weighted row."""
    from scipy.optimize import lsq_linear

    p = len(b)
    w, V = np.linalg.eigh((M + M.T) / 2)
    w = np.maximum(w, w.max() * 1e-14)
    L = V * np.sqrt(w)
    c = (V.T @ b) / np.sqrt(w)
    heavy = 1e6 * np.sqrt(w.max())
    A = np.vstack([L.T, heavy * np.ones((1, p))])
    y = np.concatenate([c, [heavy]])
    return lsq_linear(A, y, bounds=(0.0, np.inf), method="bvls", tol=1e-14).x

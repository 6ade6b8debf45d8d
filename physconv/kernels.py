"""Kernels: small odd-sized arrays that move mass, and their properties.

Convention (true convolution): the centre element has offset 0 and

.. math:: u'[x] = \\sum_d k[d]\\, u[x - d],

so the mass at ``x - d`` jumps by ``d`` with probability ``k[d]``.
Cross-correlation is convolution with the flipped kernel. A *probability
kernel* is non-negative and sums to 1; propagating with it is one step of a
random walk, and ``n`` steps tend to a Gaussian (central limit theorem).
"""

from __future__ import annotations

import math
import numbers
from typing import NamedTuple

import numpy as np

from .errors import KernelError

PROBABILITY_TOL = 1e-12


def check(kernel, ndim: int | None = None, name: str = "kernel") -> np.ndarray:
    """Return ``kernel`` as a float64 array after checking it is odd-sized and finite.

    Raises
    ------
    KernelError
        For an empty or even-sized axis, non-finite values, or the wrong number of axes.
    """
    if isinstance(kernel, np.ndarray):
        if kernel.dtype.kind not in "iuf":
            raise KernelError(f"{name} must hold real numbers, got {kernel.dtype} values")
    else:
        kernel = _numbers(kernel)
    if not isinstance(kernel, np.ndarray) and any(not isinstance(v, numbers.Real) or isinstance(v, (bool, np.bool_)) for v in _leaves(kernel)):
        raise KernelError(f"{name} must be a (nested) list of real numbers (not true/false, text or complex)")
    try:
        k = np.array(kernel, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise KernelError(f"{name} must be a (nested) list of numbers of equal lengths ({exc})") from None
    if k.ndim == 0 or k.ndim > 3:
        raise KernelError(f"{name} must have 1, 2 or 3 axes, got {k.ndim}")
    if ndim is not None and k.ndim != ndim:
        raise KernelError(f"{name} has {k.ndim} axes but the field has {ndim}")
    if any(n % 2 == 0 for n in k.shape):
        raise KernelError(f"{name} must have an odd size along every axis (a centre), got shape {k.shape}")
    if not np.all(np.isfinite(k)):
        raise KernelError(f"{name} contains NaN or infinite values")
    with np.errstate(over="ignore"):
        if not np.isfinite(np.abs(k).sum() * max(k.size, 8)):  # sums, moments and softmax stay finite
            raise KernelError(f"{name}: its weights are too large to sum (largest {np.abs(k).max():.3g}); "
                              "scale them down")
    return k


def _numbers(nested):
    """Numeric strings (YAML 1.1 reads ``1e-3`` as text) turned into floats, in a nested list."""
    if isinstance(nested, (list, tuple)):
        return [_numbers(v) for v in nested]
    if isinstance(nested, str):
        try:
            return float(nested)
        except ValueError:
            return nested
    return nested


def _leaves(nested, depth: int = 4):
    """The non-list items of a nested list (at most ``depth`` levels; deeper lists count as leaves)."""
    if not isinstance(nested, (list, tuple)):
        return [nested]
    out, stack = [], [(nested, 0)]
    while stack:
        item, d = stack.pop()
        if isinstance(item, (list, tuple)) and d < depth:
            stack.extend((v, d + 1) for v in item)
        else:
            out.append(item)
    return out


def probability(kernel, ndim: int | None = None, name: str = "kernel") -> np.ndarray:
    """Check that ``kernel`` is a probability kernel (all >= 0, sum 1, both within 1e-12).

    Entries above ``-1e-12`` count as zero, so that round-off of a computed
    kernel (an FFT convolution power, say) is accepted.
    """
    k = check(kernel, ndim, name)
    if np.any(k < -PROBABILITY_TOL):
        raise KernelError(
            f"{name} is not a probability kernel: it has negative entries (min {k.min():.4g}); "
            "normalise it with softmax"
        )
    total = k.sum()
    if abs(total - 1.0) > PROBABILITY_TOL:
        raise KernelError(f"{name} is not a probability kernel: it sums to {total:.15g}, not 1; normalise it")
    return k


def is_symmetric(kernel, axis: int | None = None, rtol: float = 1e-13) -> bool:
    """True if flipping ``axis`` (every axis if None) changes no entry by more than ``rtol * max|k|``."""
    k = np.asarray(kernel, dtype=float)
    axes = range(k.ndim) if axis is None else [axis]
    tol = rtol * np.abs(k).max(initial=0.0)
    return all(np.abs(k - np.flip(k, a)).max(initial=0.0) <= tol for a in axes)


def clean(value: float, scale: float = 1.0) -> float:
    """``value`` with round-off below ``1e-12 * scale`` as 0, and no negative zero (for printing: ``6.1e-17`` -> 0)."""
    return 0.0 if abs(value) <= 1e-12 * scale else float(value) + 0.0


def offsets(kernel, axis: int) -> np.ndarray:
    """Offsets ``-r .. r`` of the kernel's elements along ``axis``."""
    r = (np.shape(kernel)[axis] - 1) // 2
    return np.arange(-r, r + 1)


def softmax(weights, temperature: float = 1.0) -> np.ndarray:
    """Turn any kernel into a probability kernel.

    .. math:: p[d] = \\frac{\\exp(w[d]/T)}{\\sum_{d'} \\exp(w[d']/T)}

    Every entry becomes positive and they sum to 1; a low temperature ``T``
    concentrates the mass on the largest weight.

    Examples
    --------
    >>> p = softmax(named('edge'))
    >>> round(float(p[1, 1]), 5), float(f'{p[0, 0]:.5g}')
    (0.99901, 0.00012329)
    """
    w = check(weights, name="weights")
    if not isinstance(temperature, numbers.Real) or not math.isfinite(temperature) or temperature <= 0:
        raise KernelError(f"temperature must be a positive number, got {temperature!r}")
    half = 0.5 * w  # halves keep every difference finite, even between weights of -1e308 and 1e308
    with np.errstate(over="ignore", under="ignore"):  # -inf: infinitely less likely than the largest, weight 0
        z = (half - half.max()) / (0.5 * temperature)
        e = np.exp(z)
    return e / e.sum()


def normalize_sum(weights) -> np.ndarray:
    """Divide a kernel by the sum of its entries (which must be positive, entries non-negative)."""
    w = check(weights, name="weights")
    if np.any(w < 0):
        raise KernelError("sum normalisation needs non-negative weights; use softmax for signed kernels")
    total = w.sum()
    if total <= 0:
        raise KernelError("sum normalisation needs a positive sum of weights")
    return w / total


NORMALIZATIONS = ("softmax", "sum", "none")


def normalize(weights, method: str | None = "softmax", temperature: float = 1.0) -> np.ndarray:
    """Make a probability kernel with ``'softmax'``, ``'sum'`` or ``'none'`` (already one).

    ``method=None`` chooses as :func:`as_probabilities` does.
    """
    if method is None:
        return as_probabilities(weights, None, temperature).kernel
    if method == "softmax":
        return softmax(weights, temperature)
    if method == "sum":
        return normalize_sum(weights)
    if method == "none":
        return probability(weights)
    raise KernelError(f"unknown normalisation {method!r}; valid: {', '.join(NORMALIZATIONS)}")


class Probabilities(NamedTuple):
    """A kernel turned into probabilities, how, and what to tell the user about it.

    Attributes
    ----------
    kernel : ndarray
        The probability kernel that runs.
    method : str
        ``'none'`` (the weights as given), ``'sum'`` or ``'softmax'``.
    warning : str or None
        One sentence when the weights were changed without being asked to.
    """

    kernel: np.ndarray
    method: str
    warning: str | None


def describe(method: str, temperature: float = 1.0) -> str:
    """How a normalisation made the probabilities, in words: ``'softmax at T = 3'``."""
    return {"softmax": f"softmax at T = {temperature:g}", "sum": "weights / their sum",
            "none": "as given"}.get(method, method)


def as_probabilities(weights, method: str | None = None, temperature: float = 1.0) -> Probabilities:
    """The probability kernel of ``weights``: as asked, or by the default rule when ``method`` is None.

    The default never changes a kernel that already is one:

    - weights that are probabilities (all >= 0 and summing to 1, within 1e-12) run as given;
    - non-negative weights with another positive sum are divided by their sum;
    - signed weights become probabilities by softmax at ``temperature``.

    The last two come with a ``warning`` that says what was done and how to choose.

    Examples
    --------
    >>> as_probabilities([0.25, 0.5, 0.25]).method
    'none'
    >>> r = as_probabilities([1, 2, 1])
    >>> r.method, r.kernel.tolist()
    ('sum', [0.25, 0.5, 0.25])
    """
    w = check(weights, name="weights")
    if method is not None:
        return Probabilities(normalize(w, method, temperature), method, None)
    if np.all(w >= -PROBABILITY_TOL) and abs(w.sum() - 1.0) <= PROBABILITY_TOL:
        return Probabilities(probability(w), "none", None)
    if np.all(w >= 0) and w.sum() > 0:
        return Probabilities(normalize_sum(w), "sum",
                             f"the kernel's weights sum to {w.sum():.6g}, not 1: divided by their sum")
    p = softmax(w, temperature)
    return Probabilities(p, "softmax", f"the kernel's weights are not probabilities (min {w.min():.4g}, sum "
                                       f"{w.sum():.6g}): turned into probabilities by softmax at temperature "
                                       f"{temperature:g}")


def ftcs(diffusivity: float, dt: float, spacing, ndim: int | None = None) -> np.ndarray:
    """The kernel of one forward-time centred-space step of the diffusion equation.

    .. math:: k = \\begin{cases} 1 - 2\\sum_a r_a & \\text{centre}\\\\
              r_a & \\pm 1 \\text{ along axis } a \\end{cases},\\qquad
              r_a = D\\,\\Delta t / \\Delta x_a^2

    It is a probability kernel exactly when ``sum(r_a) <= 1/2``.

    Parameters
    ----------
    diffusivity : float
        D in length^2 / time.
    dt : float
        Time step.
    spacing : float or sequence of float
        Cell size per axis (``ndim`` gives the number of axes for a scalar).
    """
    r = ftcs_numbers(diffusivity, dt, spacing, ndim)
    k = np.zeros((3,) * len(r))
    centre = (1,) * len(r)
    k[centre] = 1.0 - 2.0 * sum(r)
    for a, ra in enumerate(r):
        for s in (0, 2):
            idx = list(centre)
            idx[a] = s
            k[tuple(idx)] = ra
    return k


def ftcs_numbers(diffusivity: float, dt: float, spacing, ndim: int | None = None) -> tuple[float, ...]:
    """The mesh ratios ``r_a = D dt / d_a**2`` per axis (dimensionless)."""
    for name, v in (("diffusivity", diffusivity), ("dt", dt)):
        if not isinstance(v, numbers.Real) or not math.isfinite(v) or v < 0:
            raise KernelError(f"{name} must be a non-negative finite number, got {v!r}")
    d = (spacing,) * (ndim or 1) if np.ndim(spacing) == 0 else tuple(spacing)
    if any(not x > 0 for x in d):
        raise KernelError(f"spacing must be positive, got {spacing!r}")
    return tuple(float(diffusivity) * float(dt) / float(x) ** 2 for x in d)


def gaussian_weights(sigma: float, offsets: np.ndarray) -> np.ndarray:
    """Normalised samples of a 1-D Gaussian of std ``sigma`` (in cells) at integer ``offsets``.

    Normalised by the sum over *all* integers (so a truncated set sums to
    slightly less than 1), which keeps the heat kernel's mass exact on any
    lattice; ``sigma = 0`` is the identity.
    """
    m = np.asarray(offsets, dtype=float)
    if sigma == 0:
        return (m == 0).astype(float)
    # Sum over all integers by Poisson summation for wide kernels, directly otherwise.
    if sigma >= 3:
        total = sigma * math.sqrt(2 * math.pi) * (1 + 2 * sum(math.exp(-2 * (math.pi * sigma * j) ** 2) for j in (1, 2)))
    else:
        R = int(math.ceil(12 * sigma)) + 1
        total = float(np.exp(-0.5 * (np.arange(-R, R + 1) / sigma) ** 2).sum())
    return np.exp(-0.5 * (m / sigma) ** 2) / total


def gaussian(variance=None, *, diffusivity=None, time=None, spacing=1.0, ndim: int = 2, truncate: float = 4.0) -> np.ndarray:
    """The sampled Gaussian (heat) kernel.

    .. math:: k[d] \\propto \\prod_a \\exp\\!\\left(-\\frac{(d_a \\Delta x_a)^2}{2\\sigma^2}\\right),
              \\qquad \\sigma^2 = 2 D t

    Give either ``variance`` (length^2, per axis) or ``diffusivity`` and ``time``.
    The kernel reaches ``truncate`` standard deviations and is normalised to sum 1.
    """
    if variance is None:
        if diffusivity is None or time is None:
            raise KernelError("give the variance, or diffusivity and time")
        variance = 2.0 * float(diffusivity) * float(time)
    if not isinstance(variance, numbers.Real) or not math.isfinite(variance) or variance < 0:
        raise KernelError(f"variance must be a non-negative number, got {variance!r}")
    d = (spacing,) * ndim if np.ndim(spacing) == 0 else tuple(spacing)
    k = np.ones(())
    for da in d:
        s = math.sqrt(variance) / da
        r = int(math.ceil(truncate * s))
        k = np.multiply.outer(k, gaussian_weights(s, np.arange(-r, r + 1)))
    return k / k.sum()


_NAMED_2D = {
    "edge": [[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]],
    "sharpen": [[0, -1, 0], [-1, 5, -1], [0, -1, 0]],
}


def named(name: str, ndim: int = 2) -> np.ndarray:
    """A kernel by name: ``edge``, ``sharpen`` (2-D), ``box``, ``gaussian``, ``laplacian``, ``identity``.

    ``box`` and ``gaussian`` (binomial ``[1, 2, 1] / 4`` per axis) are
    probability kernels; the others are raw weights to be normalised (e.g.
    with :func:`softmax`).
    """
    if name in _NAMED_2D:
        if ndim != 2:
            raise KernelError(f"the {name!r} kernel is 2-D only")
        return np.array(_NAMED_2D[name], dtype=float)
    if ndim not in (1, 2, 3):
        raise KernelError(f"kernels have 1, 2 or 3 axes, not {ndim}")
    if name == "box":
        return np.full((3,) * ndim, 1.0 / 3**ndim)
    if name == "gaussian":
        k = np.ones(())
        for _ in range(ndim):
            k = np.multiply.outer(k, np.array([0.25, 0.5, 0.25]))
        return k
    if name == "laplacian":
        k = np.zeros((3,) * ndim)
        k[(1,) * ndim] = -2.0 * ndim
        for a in range(ndim):
            for s in (0, 2):
                idx = [1] * ndim
                idx[a] = s
                k[tuple(idx)] = 1.0
        return k
    if name == "identity":
        k = np.zeros((3,) * ndim)
        k[(1,) * ndim] = 1.0
        return k
    raise KernelError(f"unknown kernel {name!r}; valid: {', '.join(NAMES)}")


NAMES = ("edge", "sharpen", "box", "gaussian", "laplacian", "identity")


class Moments(NamedTuple):
    """Drift and spread of one step of a probability kernel.

    Attributes
    ----------
    mean : ndarray, shape (ndim,)
        Mean jump per step (length).
    covariance : ndarray, shape (ndim, ndim)
        Covariance of the jump per step (length^2).
    velocity : ndarray, shape (ndim,)
        Drift velocity ``mean / dt`` (length / time).
    diffusivity : ndarray, shape (ndim, ndim)
        Effective diffusivity ``covariance / (2 dt)`` (length^2 / time).
    """

    mean: np.ndarray
    covariance: np.ndarray
    velocity: np.ndarray
    diffusivity: np.ndarray


def moments(kernel, spacing=1.0, dt: float = 1.0) -> Moments:
    """Mean jump and covariance of a probability kernel, and the drift-diffusion they imply.

    After ``n`` steps the displacement has mean ``n * mean`` and covariance
    ``n * covariance`` exactly; by the central limit theorem its distribution
    tends to that Gaussian, the solution of drift-diffusion with velocity
    ``mean / dt`` and diffusivity :math:`D_{eff} = \\Sigma / (2 \\Delta t)`.
    """
    k = probability(kernel)
    d = (spacing,) * k.ndim if np.ndim(spacing) == 0 else tuple(spacing)
    if len(d) != k.ndim:
        raise KernelError(f"spacing has {len(d)} values but the kernel has {k.ndim} axes")
    grids = np.meshgrid(*[offsets(k, a) * d[a] for a in range(k.ndim)], indexing="ij")
    mean = np.array([np.sum(k * g) for g in grids])
    cov = np.array([[np.sum(k * (gi - mi) * (gj - mj)) for gj, mj in zip(grids, mean)] for gi, mi in zip(grids, mean)])
    return Moments(mean, cov, mean / dt, cov / (2.0 * dt))

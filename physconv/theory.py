"""What theory predicts for the difference between an approximation and the heat solution.

Every scheme here is diagonal in the boundaries' basis (:mod:`physconv.spectral`),
so its error against the heat solution is a multiplier per mode. For a mode of
angles :math:`\\theta_a` (wave number :math:`k_a = \\theta_a / \\Delta x_a`), after
:math:`n` steps of length :math:`\\Delta t` (time :math:`t = n\\Delta t`):

**Kernel steps** (``explicit``, ``spectral``; FTCS is the kernel ``r_a`` on each
neighbour). The log of a symmetric probability kernel's transfer function is its
cumulant series, :math:`\\log\\hat k(\\theta) = -\\tfrac12\\kappa_2(\\theta)
+ \\tfrac1{24}\\kappa_4(\\theta) - \\dots` with :math:`\\kappa_m` the cumulants
of the jump projected on :math:`\\theta`. The heat kernel keeps only
:math:`\\kappa_2`, so the leading error is the central limit theorem's first
correction (the modified equation of the scheme):

.. math:: \\hat e(\\theta, t) \\approx n\\,\\frac{\\kappa_4(\\theta)}{24}\\;
          \\hat H(\\theta, t)\\,\\hat u_0(\\theta)

For FTCS this is :math:`t\\,[D\\sum_a \\Delta x_a^2 k_a^4/12 - D^2\\Delta t\\,|k|^4/2]`
times the heat solution: the O(dx²) and O(dt) terms.

**Crank–Nicolson ADI** (``implicit``), amplification :math:`g(\\theta)` per
step against :math:`E(\\theta) = e^{-D|k|^2\\Delta t}`:

.. math:: \\hat e(\\theta, t) \\approx n\\,(g - E)\\,\\hat H(\\theta, t - \\Delta t)\\,\\hat u_0(\\theta)

the per-step error carried by the heat flow and summed over the steps.

Both are first order in the per-step error: where the measured difference is
far from them, the run is outside the regime in which the approximation
holds (a step at the stability limit, a grid too coarse for the field).
"""

from __future__ import annotations

import numpy as np

from . import spectral
from .boundary import wall_value
from .grid import Grid


def _thetas(grid: Grid) -> list[np.ndarray]:
    """Per axis, the mode angles as signed wave numbers times dx (periodic angles folded into (-pi, pi])."""
    out = []
    for n, b in zip(grid.shape, grid.boundaries):
        th = spectral.angles(n, b.kind)
        out.append(np.where(th > np.pi, th - 2 * np.pi, th) if b.kind == "periodic" else th)
    return out


def fourth_cumulant(kernel: np.ndarray, grid: Grid) -> np.ndarray:
    """:math:`\\kappa_4(\\theta) = E[(\\theta\\cdot d)^4] - 3 E[(\\theta\\cdot d)^2]^2` per mode, jumps ``d`` in cells.

    The kernel must have no drift (zero mean jump); its weights are the jump probabilities.
    """
    k = np.asarray(kernel, dtype=float)
    centre = (np.array(k.shape) - 1) // 2
    thetas = _thetas(grid)
    m2 = np.zeros(grid.shape)
    m4 = np.zeros(grid.shape)
    for idx in np.argwhere(k != 0):
        d = idx - centre
        phase = np.zeros(())
        for th, da in zip(thetas, d):
            phase = np.add.outer(phase, th * da)
        m2 += k[tuple(idx)] * phase**2
        m4 += k[tuple(idx)] * phase**4
    return m4 - 3.0 * m2**2


def kernel_error(u0, grid: Grid, kernel, diffusivity, dt: float, steps) -> np.ndarray:
    """Predicted ``kernel steps - heat solution`` at each of ``steps`` (frames along axis 0).

    Parameters
    ----------
    u0 : ndarray, shape grid.shape
    kernel : ndarray
        The step's probability kernel (symmetric, no drift).
    diffusivity : float or sequence of float
        The heat solution's D per axis (length^2 / time).
    dt : float
    steps : sequence of int
    """
    return kernel_error_at(u0, grid, kernel, diffusivity, dt)(steps)


def kernel_error_at(u0, grid: Grid, kernel, diffusivity, dt: float):
    """:func:`kernel_error` as a function of ``steps``, its set-up done once (for frame-by-frame use)."""
    c0 = spectral.forward(np.asarray(u0, dtype=float) - wall_value(grid.boundaries), grid.boundaries)
    k4 = fourth_cumulant(kernel, grid) / 24.0
    return lambda steps: _frames(c0, grid, steps,
                                 lambda n: n * k4 * spectral.heat_transfer(grid, 2.0 * _D(diffusivity) * n * dt))


def implicit_error(u0, grid: Grid, diffusivity: float, dt: float, steps) -> np.ndarray:
    """Predicted ``Crank-Nicolson ADI - heat solution`` at each of ``steps`` (frames along axis 0)."""
    return implicit_error_at(u0, grid, diffusivity, dt)(steps)


def implicit_error_at(u0, grid: Grid, diffusivity: float, dt: float):
    """:func:`implicit_error` as a function of ``steps``, its set-up done once."""
    from .solvers.implicit import amplification

    c0 = spectral.forward(np.asarray(u0, dtype=float) - wall_value(grid.boundaries), grid.boundaries)
    D = np.broadcast_to(_D(diffusivity), (grid.ndim,))
    exponent = np.zeros(())
    for th, h, Da in zip(_thetas(grid), grid.spacing, D):
        exponent = np.add.outer(exponent, -Da * dt * (th / h) ** 2)
    per_step = amplification(grid, diffusivity, dt) - np.exp(exponent)  # against exp(-D |k|^2 dt)
    return lambda steps: _frames(c0, grid, steps,
                                 lambda n: n * per_step * spectral.heat_transfer(grid, 2.0 * D * max(n - 1, 0) * dt))


def _D(diffusivity):
    return np.asarray(diffusivity, dtype=float)


def _frames(c0, grid, steps, multiplier) -> np.ndarray:
    steps = np.atleast_1d(np.asarray(steps))
    out = np.zeros((len(steps),) + grid.shape)
    for i, n in enumerate(steps):
        if n > 0:
            out[i] = spectral.inverse(c0 * spectral.half(multiplier(int(n)), grid.boundaries), grid.boundaries,
                                      grid.shape, overwrite=True)
    return out

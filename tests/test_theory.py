"""Theory's predicted errors: the modified equation of kernel steps and Crank-Nicolson's per-step error.

The predictions are checked against the measured difference of two independently computed
methods (the exact discrete propagator and the heat kernel), not against themselves.
"""

import numpy as np
import pytest

from physconv import kernels, spectral, theory
from physconv.grid import Grid
from physconv.solvers import implicit

WALLS = ["periodic", "reflecting", "absorbing"]


def _smooth(grid, seed=0):
    """A random field low-pass filtered by a heat kernel: smooth at the grid scale."""
    u = np.random.default_rng(seed).random(grid.shape)
    return spectral.heat(u, Grid(grid.shape, grid.spacing, "periodic"), diffusivity=1.0, time=4.0)


def _rel(a, b):
    return np.linalg.norm(a) / np.linalg.norm(b)


def test_fourth_cumulant_of_ftcs_is_the_modified_equation():
    """kappa_4 / 24 = r theta^4 / 12 - r^2 theta^4 / 2: the O(dx^2) and O(dt) terms of FTCS."""
    g = Grid((40,), 0.5, "periodic")
    r = 0.3
    theta = spectral.angles(40, "periodic")
    theta = np.where(theta > np.pi, theta - 2 * np.pi, theta)
    got = theory.fourth_cumulant(kernels.ftcs(r * 0.25, 1.0, g.spacing), g) / 24
    np.testing.assert_allclose(got, r * theta**4 / 12 - r**2 * theta**4 / 2, atol=1e-14)


@pytest.mark.parametrize("wall", WALLS)
@pytest.mark.parametrize("shape, spacing", [((64,), 0.5), ((48, 40), (1.0, 0.8))])
def test_ftcs_error_against_the_heat_solution_is_predicted(wall, shape, spacing):
    g = Grid(shape, spacing, wall)
    u0 = _smooth(g)
    # from 160 steps on the heat kernel spans several cells: the leading term is then accurate to a few %
    D, dt, steps = 0.3, 0.35 * min(g.spacing) ** 2 / (0.3 * 2 * g.ndim), np.array([160, 640])
    measured = spectral.diffuse(u0, g, diffusivity=D, dt=dt, steps=steps) - spectral.heat(u0, g, diffusivity=D,
                                                                                            time=steps * dt)
    predicted = theory.kernel_error(u0, g, kernels.ftcs(D, dt, g.spacing), D, dt, steps)
    for m, p in zip(measured, predicted):
        assert _rel(m - p, m) < 0.05


def test_softmax_kernel_error_is_predicted():
    """A kernel scenario: n steps of softmax(edge / 3) against the heat kernel of D_eff = diag(Sigma) / 2dt."""
    g = Grid((64, 64), 1.0, "periodic")
    u0 = _smooth(g, 3)
    k = kernels.softmax(kernels.named("edge"), 3.0)
    D = np.diag(kernels.moments(k, 1.0, 1.0).diffusivity)
    steps = np.array([80, 320])
    measured = spectral.propagate(u0, kernel=k, steps=steps) - spectral.heat(u0, g, diffusivity=D, time=steps * 1.0)
    predicted = theory.kernel_error(u0, g, k, D, 1.0, steps)
    for m, p in zip(measured, predicted):
        assert _rel(m - p, m) < 0.05


@pytest.mark.parametrize("wall", WALLS)
@pytest.mark.parametrize("shape", [(64,), (40, 48), (16, 18, 20)])
def test_crank_nicolson_error_against_the_heat_solution_is_predicted(wall, shape):
    g = Grid(shape, 1.0, wall)
    u0 = _smooth(g, 1)
    D, dt, steps = 0.4, 1.5, np.array([5, 20, 60])
    measured = implicit.exact(u0, g, diffusivity=D, dt=dt, steps=steps) - spectral.heat(u0, g, diffusivity=D,
                                                                                         time=steps * dt)
    predicted = theory.implicit_error(u0, g, D, dt, steps)
    for m, p in zip(measured, predicted):
        assert _rel(m - p, m) < 0.05


def test_prediction_is_second_order_in_dx():
    """Refining dx by 2 at fixed r cuts the predicted (and measured) error by 4."""
    errs = []
    for n in (32, 64):
        g = Grid((n,), 8.0 / n, "periodic")
        x = g.coords()["x"]
        u0 = 1 + np.sin(2 * np.pi * x / 8.0)
        dt = 0.3 * g.spacing[0] ** 2
        steps = int(round(2.0 / dt))
        errs.append(np.abs(theory.kernel_error(u0, g, kernels.ftcs(1.0, dt, g.spacing), 1.0, dt, [steps])).max())
    assert np.log2(errs[0] / errs[1]) == pytest.approx(2.0, abs=0.05)

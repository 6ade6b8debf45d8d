"""Crank–Nicolson ADI: its own amplification factor to round-off, stability, second-order convergence."""

import numpy as np
import pytest

from physconv import spectral
from physconv.grid import Grid
from physconv.solvers import explicit, implicit

CASES = [
    ((37,), (0.5,), "periodic", None),
    ((37, 53), (1.0, 0.6), "reflecting", None),
    ((16, 21), (1.0, 1.0), {"y": "periodic", "x": "absorbing"}, None),
    ((7, 9, 11), (1.0, 0.8, 1.3), "periodic", None),
    ((6, 8, 5), (1.0, 1.0, 1.0), ("dirichlet", "reflecting", "absorbing"), 0.0),
    ((5, 7, 6), (1.0, 0.9, 1.1), ("dirichlet", "dirichlet", "reflecting"), 0.3),  # wall terms on two axes
    ((3, 2), (1.0, 1.0), "periodic", None),  # axes too short for the Thomas sweep
]


@pytest.mark.parametrize("shape, spacing, boundary, value", CASES)
def test_each_mode_is_multiplied_by_the_amplification_factor(rng, shape, spacing, boundary, value):
    g = Grid(shape, spacing, boundary, value)
    u0 = rng.random(shape)
    D, dt, n = 0.8, 3.0, 25  # far beyond the explicit limit
    got = implicit.diffuse(u0, g, diffusivity=D, dt=dt, steps=n)
    expected = implicit.exact(u0, g, diffusivity=D, dt=dt, steps=n)  # walls with a value: the affine map
    assert np.abs(got - expected).max() <= 1e-12 * np.abs(u0).max()


@pytest.mark.parametrize("boundary", ["periodic", "reflecting", "absorbing", "dirichlet"])
def test_long_lines_are_solved_in_memory_proportional_to_their_length(rng, boundary):
    """300 000 cells: a dense system would need 670 GiB; the three diagonals need a few MB."""
    g = Grid((300_000,), (1.0,), boundary, 0.0 if boundary == "dirichlet" else None)
    u0 = rng.random(g.shape)
    got = implicit.diffuse(u0, g, diffusivity=1.0, dt=5.0, steps=3)
    expected = spectral.evolve(u0, implicit.amplification(g, 1.0, 5.0), g.boundaries, 3)
    assert np.abs(got - expected).max() <= 1e-12


def test_amplification_factor_is_crank_nicolson_in_1d_and_peaceman_rachford_in_2d():
    g1 = Grid((9,), boundary="reflecting")
    a = 0.5 * 2.0 * spectral.eigenvalues(9, "reflecting")
    np.testing.assert_allclose(implicit.amplification(g1, 1.0, 2.0), (1 + a) / (1 - a), atol=1e-15)
    g2 = Grid((5, 6), (1.0, 2.0), "periodic")
    ay = 0.5 * 1.5 * spectral.eigenvalues(5, "periodic")
    ax = 0.5 * 1.5 / 4 * spectral.eigenvalues(6, "periodic")
    pr = np.multiply.outer((1 + ay) / (1 - ay), (1 + ax) / (1 - ax))
    np.testing.assert_allclose(implicit.amplification(g2, 1.0, 1.5), pr, atol=1e-14)


@pytest.mark.parametrize("ndim", [1, 2, 3])
def test_unconditionally_stable(ndim):
    g = Grid((8,) * ndim, boundary="absorbing")
    assert np.all(np.abs(implicit.amplification(g, 1.0, 1e6)) <= 1.0)


def test_dirichlet_walls_with_a_value_follow_the_affine_map(rng):
    """u_n = g^n u0 + (1 + g + ... + g^(n-1)) h, h = one step from zero."""
    g = Grid((10, 12), (1.0, 0.7), {"y": "dirichlet", "x": "periodic"}, 0.6)
    u0 = rng.random(g.shape)
    h = implicit.diffuse(np.zeros(g.shape), g, diffusivity=0.5, dt=2.0, steps=1)
    got = implicit.diffuse(u0, g, diffusivity=0.5, dt=2.0, steps=30)
    expected = spectral.evolve(u0, implicit.amplification(g, 0.5, 2.0), g.boundaries, 30, source=h)
    assert np.abs(got - expected).max() <= 1e-12
    late = implicit.diffuse(u0, g, diffusivity=0.5, dt=50.0, steps=400)
    np.testing.assert_allclose(late, 0.6, atol=1e-10)  # the wall value is the steady state


@pytest.mark.parametrize("boundary", ["periodic", "reflecting"])
def test_mass_is_conserved(rng, boundary):
    g = Grid((9, 10, 11), boundary=boundary)
    u0 = rng.random(g.shape)
    u = implicit.diffuse(u0, g, diffusivity=1.0, dt=7.0, steps=30)
    assert abs(u.sum() - u0.sum()) <= 1e-12 * u0.sum()


def test_second_order_in_dt_and_dx_against_the_heat_solution():
    """dt proportional to dx (r grows as 1/dx): error O(dt^2 + dx^2) = O(dx^2), fitted order 2 +- 0.2."""
    errs, dxs = [], []
    T, D = 0.05, 1.0
    for n in (16, 32, 64, 128):
        g = Grid((n, n), 1.0 / n, "periodic")
        y, x = np.meshgrid(g.coords()["y"], g.coords()["x"], indexing="ij")
        u0 = 1 + np.exp(np.cos(2 * np.pi * x) + np.sin(2 * np.pi * y))
        steps = n // 4
        u = implicit.diffuse(u0, g, diffusivity=D, dt=T / steps, steps=steps)
        errs.append(np.abs(u - spectral.heat(u0, g, diffusivity=D, time=T)).max())
        dxs.append(1.0 / n)
    assert np.polyfit(np.log(dxs), np.log(errs), 1)[0] == pytest.approx(2.0, abs=0.2)


def test_saved_frames_match_separate_runs(rng):
    g = Grid((12, 10), boundary="reflecting")
    u0 = rng.random(g.shape)
    traj = implicit.diffuse(u0, g, diffusivity=0.3, dt=2.0, steps=10, save_every=4)
    assert traj.steps.tolist() == [0, 4, 8, 10]
    for n, f in zip(traj.steps, traj.frames):
        np.testing.assert_array_equal(f, implicit.diffuse(u0, g, diffusivity=0.3, dt=2.0, steps=int(n)))


def test_explicit_and_implicit_share_the_validation_of_bad_input():
    g = Grid((4,))
    for solver in (explicit.diffuse, implicit.diffuse):
        with pytest.raises(ValueError, match="steps"):
            solver(np.ones(4), g, diffusivity=0.1, dt=1.0, steps=-2)
        with pytest.raises(ValueError, match="shape"):
            solver(np.ones(5), g, diffusivity=0.1, dt=1.0, steps=1)


def test_one_dimensional_dirichlet_step_is_the_dense_crank_nicolson_system(rng):
    """(I - r/2 A) u' = (I + r/2 A) u + r b, with A and b from the ghost-cell rule u[-1] = 2c - u[0]."""
    from .reference import second_difference

    n, r, c = 11, 2.5, 0.8
    A, b = second_difference(n, "dirichlet", c)
    u0 = rng.random(n)
    u = u0
    for _ in range(5):
        u = np.linalg.solve(np.eye(n) - 0.5 * r * A, (np.eye(n) + 0.5 * r * A) @ u + r * b)
    got = implicit.diffuse(u0, Grid((n,), 1.0, "dirichlet", c), diffusivity=r, dt=1.0, steps=5)
    np.testing.assert_allclose(got, u, atol=1e-13)

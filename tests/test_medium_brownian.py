"""Brownian particles in a medium (DESIGN §11): the Itô drift ∇D is what makes them follow
du/dt = ∇·(D ∇u); they reflect off obstacles and drift with the flow."""

import numpy as np
import pytest

from physconv import medium
from physconv.grid import Grid
from physconv.medium.brownian import brownian


def _chi2_per_cell(counts, expected):
    return float((((counts - expected) ** 2) / expected).mean())


@pytest.mark.parametrize("ito, uniform", [(True, True), (False, False)])
def test_a_uniform_field_stays_uniform_only_with_the_ito_drift(ito, uniform):
    """du/dt = d/dx (D du/dx) keeps a uniform field; walkers without the drift dD/dx gather where D is small
    (their density tends to 1/D). Chi-square per cell of the binned counts against uniform: about 1 (its
    standard deviation sqrt(2/32) = 0.25: the bound 2 is four of them away) with the drift, far above without."""
    g = Grid((32,), 1.0, "periodic")
    x = np.arange(32) + 0.5
    D = 0.1 + 0.08 * np.sin(2 * np.pi * x / 32)
    n = 12_000
    run = brownian(medium.build(g, D), np.ones(32), 0.5, steps=1200, particles=n, seed=2, keep=[1200], ito=ito)
    chi2 = _chi2_per_cell(run.counts[0], np.full(32, n / 32))
    assert (chi2 < 2.0) == uniform, chi2
    if not uniform:
        assert np.corrcoef(run.counts[0], 1 / D)[0, 1] > 0.9


def test_brownian_particles_in_a_d_field_with_an_obstacle_follow_a_fine_semidiscrete_run():
    """Against the time-exact solution on a grid twice as fine (summed to the particles' cells): the counts'
    relative L2 error is within 1.5 times what binomial noise alone gives (the O(dx^2) and O(dt) terms are
    below the noise at this size), and no particle enters the obstacle."""
    shape = (20, 24)
    g = Grid(shape, 1.0, "reflecting")
    fine = Grid((40, 48), 0.5, "reflecting")

    def D_at(grid):
        y, x = np.meshgrid(*grid.coords().values(), indexing="ij")
        return 0.06 + 0.05 * np.exp(-((x - 14) ** 2 + (y - 8) ** 2) / 30)

    def solid_at(grid):
        y, x = np.meshgrid(*grid.coords().values(), indexing="ij")
        return (x > 16) & (x < 18) & (y > 4) & (y < 16)

    u0 = np.zeros(shape)
    u0[8:12, 6:10] = 1.0
    u0_fine = np.repeat(np.repeat(u0, 2, axis=0), 2, axis=1)
    n = 40_000
    m = medium.build(g, D_at(g), solid_at(g))
    run = brownian(m, u0, 0.25, steps=800, particles=n, seed=4, keep=[800])
    exact = medium.semidiscrete(medium.build(fine, D_at(fine), solid_at(fine)), u0_fine, 200.0)
    expected = exact.reshape(20, 2, 24, 2).sum(axis=(1, 3)) * 0.25 / u0.sum() * n
    counts = run.counts[0]
    assert counts[m.solid].sum() == 0
    noise = np.sqrt((expected * (1 - expected / n)).sum()) / np.linalg.norm(expected)
    rel = np.linalg.norm(counts - expected) / np.linalg.norm(expected)
    assert rel < 1.5 * noise, (rel, noise)


def test_brownian_particles_drift_with_the_velocity():
    g = Grid((64,), 1.0, "periodic")
    u0 = np.zeros(64)
    u0[10] = 1.0
    n = 20_000
    run = brownian(medium.build(g, 0.05, velocity=[0.3]), u0, 0.5, steps=200, particles=n, seed=1, keep=[200])
    x = np.arange(64) + 0.5
    mean = float((run.counts[0] * x).sum() / n)
    spread = np.sqrt(2 * 0.05 * 100 / n)  # standard error of the mean position
    assert abs(mean - (10.5 + 0.3 * 100)) < 4 * spread


def test_an_absorbing_obstacle_removes_brownian_particles_where_an_absorbing_wall_does():
    """Left of an absorbing solid cell, Brownian particles move as on a grid that ends there with an
    absorbing wall (removed past the wall's ghost-cell centre, here the solid cell's centre): a two-sample
    chi-square of the two runs' counts and removals (no path correction in either: the same process)
    passes at the 1e-3 level, and fails against a reflecting obstacle."""
    from scipy.stats import chi2_contingency

    from physconv import montecarlo as mc

    g = Grid((40,), 1.0, "absorbing")
    solid = np.zeros(40, dtype=bool)
    solid[30] = True
    u0 = np.zeros(40)
    u0[20:26] = 1.0
    n, steps = 40_000, 300
    small = Grid((30,), 1.0, "absorbing")
    ref = mc.brownian(u0[:30], small, diffusivity=0.1, dt=0.5, steps=steps, particles=n, seed=7, bridge=False,
                      jumps="steps")
    ref_counts = np.append(ref.counts[-1], n - ref.counts[-1].sum())

    def table(wall):
        run = brownian(medium.build(g, 0.1, solid, wall), u0, 0.5, steps=steps, particles=n, seed=8, keep=[steps])
        return np.append(run.counts[0][:30], n - run.counts[0][:30].sum())

    both = np.array([ref_counts, table("absorbing")])
    keep = both.sum(axis=0) > 0
    assert chi2_contingency(both[:, keep])[1] > 1e-3
    other = np.array([ref_counts, table("reflecting")])
    assert chi2_contingency(other[:, other.sum(axis=0) > 0])[1] < 1e-6

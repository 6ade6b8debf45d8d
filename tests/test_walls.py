"""One wall per boundary kind, in every method: checked against the plane-sheet series.

physconv puts reflecting and dirichlet walls on the outer faces and absorbing walls at
the ghost-cell centres, half a cell outside them (DESIGN §1). The closed-form series
solutions of a plane sheet (Crank, *The Mathematics of Diffusion*, ch. 4) are the
independent reference: the grid methods converge to the sheet of the documented length
at second order, and Brownian particles survive in it within binomial standard errors.
"""

import numpy as np
import pytest
from scipy.stats import norm

from physconv import montecarlo as mc, spectral
from physconv.grid import Grid
from physconv.solvers import explicit

from .reference import slab_cell_averages, slab_series, slab_survival

LENGTH, D, T = 16.0, 0.5, 6.0
SIZES = (32, 64, 128)


def bump(x):
    """A smooth, off-centre initial profile (small but not zero at the walls)."""
    return np.exp(-((x - 6.0) ** 2) / 8.0) + 0.3 * np.exp(-((x - 11.0) ** 2) / 2.0)


def sheet(kind, n):
    """The sheet each boundary kind models on an axis of n cells of size LENGTH / n."""
    h = LENGTH / n
    lo, hi = Grid((n,), h, kind, 0.0 if kind == "dirichlet" else None).wall_positions()[0]
    return lo, hi, "flux" if kind == "reflecting" else "zero"


def _explicit(grid, u0):
    dt_max = explicit.max_stable_dt(D, grid.spacing)
    steps = int(np.ceil(T / (0.8 * dt_max)))
    return explicit.diffuse(u0, grid, diffusivity=D, dt=T / steps, steps=steps)


def _gaussian(grid, u0):
    return spectral.heat(u0, grid, diffusivity=D, time=T)


def _errors(method, kind, sheet_of=sheet, sizes=SIZES):
    errs = []
    for n in sizes:
        g = Grid((n,), LENGTH / n, kind, 0.0 if kind == "dirichlet" else None)
        x = g.coords()["x"]
        lo, hi, series = sheet_of(kind, n)
        exact = slab_series(bump, lo, hi, x, T, D, series)
        errs.append(np.abs(method(g, bump(x)) - exact).max())
    return np.array(errs)


def _order(errs, sizes=SIZES):
    return -np.polyfit(np.log(sizes), np.log(errs), 1)[0]


def test_wall_positions_are_the_faces_or_the_ghost_cell_centres():
    g = Grid((10, 8), spacing=(0.5, 2.0), boundary={"y": "absorbing", "x": "reflecting"})
    assert g.wall_positions() == ((-0.25, 5.25), (0.0, 16.0))
    assert Grid(4, boundary="dirichlet", boundary_value=0.0).wall_positions() == ((0.0, 4.0),)
    assert Grid(4, boundary="periodic").wall_positions() == ((0.0, 4.0),)


@pytest.mark.parametrize("kind", ["absorbing", "reflecting", "dirichlet"])
def test_explicit_converges_to_the_sheet_at_second_order(kind):
    errs = _errors(_explicit, kind)
    assert _order(errs) == pytest.approx(2.0, abs=0.15)
    assert errs[-1] < 2e-4


@pytest.mark.parametrize("kind", ["absorbing", "reflecting", "dirichlet"])
def test_gaussian_converges_to_the_sheet_at_second_order(kind):
    """The heat kernel over the wall's images, summed on the lattice: a midpoint rule of the sheet's
    image integral, second order because the extended profile has a kink (or jump) at the wall."""
    sizes = (64, 128, 256)
    errs = _errors(_gaussian, kind, sizes=sizes)
    assert _order(errs, sizes) == pytest.approx(2.0, abs=0.15)
    assert errs[-1] < 1e-6


def test_absorbing_walls_are_not_on_the_faces():
    """Against the sheet between the faces, explicit and gaussian err at first order: the wall is elsewhere."""
    def faces(kind, n):
        return 0.0, LENGTH, "zero"

    for method in (_explicit, _gaussian):
        errs = _errors(method, "absorbing", faces)
        assert _order(errs) == pytest.approx(1.0, abs=0.15)
        assert errs[-1] > 30 * _errors(method, "absorbing")[-1]


def test_two_dimensional_product_of_sheets():
    """Absorbing in y, reflecting in x: the solution is the product of the two sheets' series."""
    errs = []
    for n in (64, 128):
        g = Grid((n, n // 2), (LENGTH / n, 2 * LENGTH / n), {"y": "absorbing", "x": "reflecting"})
        y, x = g.coords()["y"], g.coords()["x"]
        (ylo, yhi), (xlo, xhi) = g.wall_positions()
        fx = lambda s: 1.0 + np.cos(np.pi * s / LENGTH) ** 2  # noqa: E731
        u0 = np.outer(bump(y), fx(x))
        exact = np.outer(slab_series(bump, ylo, yhi, y, T, D, "zero"), slab_series(fx, xlo, xhi, x, T, D, "flux"))
        for method in (_explicit, _gaussian):
            errs.append(np.abs(method(g, u0) - exact).max())
    explicit_errs, gaussian_errs = errs[0::2], errs[1::2]
    assert np.log2(explicit_errs[0] / explicit_errs[1]) == pytest.approx(2.0, abs=0.15)
    assert np.log2(gaussian_errs[0] / gaussian_errs[1]) == pytest.approx(2.0, abs=0.2)


# --- Brownian particles in the same sheet ----------------------------------------------------------

ALPHA = 1e-6  # false-alarm probability of each survival test


@pytest.mark.parametrize("kind", ["absorbing", "dirichlet"])
def test_brownian_survival_matches_the_sheet_within_binomial_errors(kind):
    """Survivors ~ Binomial(N, S(t)) with S from the series of the documented sheet; two-sided, alpha = 1e-6
    split over the saved times."""
    n, h, dt, steps, N = 30, 1.0, 0.5, 240, 200_000
    g = Grid((n,), h, kind, 0.0 if kind == "dirichlet" else None)
    w = 1.0 + np.sin(np.arange(n) / 3.0) ** 2
    run = mc.brownian(w, g, diffusivity=D, dt=dt, steps=steps, particles=N, seed=21, save_every=80,
                      placement="random")
    lo, hi = g.wall_positions()[0]
    z = norm.isf(ALPHA / (2 * len(run.steps)))
    for s, alive in zip(run.steps[1:], run.surviving[1:]):
        S = slab_survival(w, h, lo, hi, s * dt, D)
        assert abs(alive - N * S) <= z * np.sqrt(N * S * (1 - S)), (s, alive, N * S)


def test_brownian_survival_rejects_the_other_wall_position():
    """The same run is far outside the binomial band of the sheet between the faces (power check)."""
    n, h, dt, steps, N = 30, 1.0, 0.5, 240, 200_000
    g = Grid((n,), h, "absorbing")
    w = 1.0 + np.sin(np.arange(n) / 3.0) ** 2
    run = mc.brownian(w, g, diffusivity=D, dt=dt, steps=steps, particles=N, seed=21, placement="random")
    S = slab_survival(w, h, 0.0, n * h, steps * dt, D)
    assert abs(run.surviving[-1] - N * S) > 10 * np.sqrt(N * S * (1 - S))


@pytest.mark.parametrize("kind", ["absorbing", "dirichlet"])
def test_brownian_expectation_is_the_cell_average_of_the_sheet(kind):
    """The closed-form transition matrices against the series averaged over each cell."""
    n, h, t = 12, 0.75, 3.0
    g = Grid((n,), h, kind, 0.0 if kind == "dirichlet" else None)
    lo, hi = g.wall_positions()[0]
    w = np.arange(1.0, n + 1)
    exact = slab_cell_averages(w, h, lo, hi, t, D)
    np.testing.assert_allclose(mc.expectation(w, g, diffusivity=D, time=t), exact, atol=1e-9)

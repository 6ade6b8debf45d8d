"""Media (DESIGN §11): the finite-volume operator of a medium with solid cells and a diffusivity per cell
and per axis, its explicit steps and its time-exact solution, against independent results."""

import numpy as np
import pytest

from physconv import medium
from physconv.grid import Grid
from physconv.solvers import explicit

WALLS = ["periodic", "reflecting", "absorbing", "dirichlet"]


def _grid(shape, wall, spacing=1.0):
    return Grid(shape, spacing, wall, 0.3 if wall == "dirichlet" else None)


@pytest.mark.parametrize("shape, spacing", [((30,), 1.0), ((20, 24), (1.0, 0.7)), ((6, 7, 8), (1.0, 0.7, 1.3))])
@pytest.mark.parametrize("wall", WALLS)
def test_a_uniform_medium_steps_as_the_ftcs_solver(shape, spacing, wall):
    g = _grid(shape, wall, spacing)
    u0 = np.random.default_rng(len(shape)).random(shape)
    D = 0.2 / len(shape)
    got = medium.explicit(medium.build(g, D), u0, 1.0, 25)
    np.testing.assert_allclose(got, explicit.diffuse(u0, g, diffusivity=D, dt=1.0, steps=25), rtol=0, atol=1e-13)


@pytest.mark.parametrize("wall", WALLS)
def test_a_diffusivity_per_axis_is_a_stretched_grid(wall):
    """D_a / h_a^2 is all a step sees: [Dy, Dx] on spacing h equals one D on spacing h_a sqrt(D / D_a)."""
    Dy, Dx, h = 0.05, 0.2, (1.0, 0.8)
    g = _grid((18, 22), wall, h)
    u0 = np.random.default_rng(3).random(g.shape)
    stretched = _grid((18, 22), wall, (h[0] * np.sqrt(1 / Dy), h[1] * np.sqrt(1 / Dx)))
    ref = explicit.diffuse(u0, stretched, diffusivity=1.0, dt=1.0, steps=30)
    np.testing.assert_allclose(medium.explicit(medium.build(g, [Dy, Dx]), u0, 1.0, 30), ref, rtol=0, atol=1e-13)


@pytest.mark.parametrize("wall", ["reflecting", "absorbing"])
@pytest.mark.parametrize("column", [40, 33])
def test_a_solid_column_that_cuts_the_grid_is_a_domain_wall(wall, column):
    """Left of a solid column the field is that of a grid ending there with a wall of the obstacle's kind,
    for explicit steps and for the time-exact solution (to round-off)."""
    g = _grid((48, 64), wall)
    solid = np.zeros(g.shape, dtype=bool)
    solid[:, column] = True
    u0 = np.random.default_rng(column).random(g.shape)
    u0[solid] = 0
    right = u0[:, column + 1:]
    m = medium.build(g, 0.2, solid, wall)
    small = medium.build(_grid((48, column), wall), 0.2)
    other = medium.build(_grid((48, 64 - column - 1), wall), 0.2)
    got = medium.explicit(m, u0, 1.0, 40)
    np.testing.assert_allclose(got[:, :column], explicit.diffuse(u0[:, :column], small.grid, diffusivity=0.2, dt=1.0,
                                                                 steps=40), rtol=0, atol=1e-13)
    np.testing.assert_allclose(got[:, column + 1:], explicit.diffuse(right, other.grid, diffusivity=0.2, dt=1.0,
                                                                     steps=40), rtol=0, atol=1e-13)
    assert np.all(got[:, column] == 0)
    exact = medium.semidiscrete(m, u0, 25.0)
    np.testing.assert_allclose(exact[:, :column], medium.semidiscrete(small, u0[:, :column], 25.0), rtol=0, atol=1e-12)


def test_mass_is_conserved_with_reflecting_obstacles_and_a_diffusivity_field():
    rng = np.random.default_rng(7)
    g = Grid((40, 36), 1.0, "reflecting")
    solid = rng.random(g.shape) < 0.25
    D = 10 ** rng.uniform(-2, -0.7, g.shape)
    m = medium.build(g, D, solid)
    u0 = np.where(solid, 0.0, rng.random(g.shape))
    u = medium.explicit(m, u0, medium.stable_dt(m), 200)
    assert abs(u.sum() - u0.sum()) <= 1e-13 * u0.sum()
    flat = np.where(solid, 0.0, 1.0)  # a uniform field is stationary: every face carries no flux
    np.testing.assert_allclose(medium.explicit(m, flat, medium.stable_dt(m), 50), flat, rtol=0, atol=1e-14)
    L, _ = medium.operator(m)
    assert abs(L - L.T).max() == 0  # symmetric: the harmonic mean is the same seen from either side
    P = np.eye(g.size) + medium.stable_dt(m) * L.toarray()
    assert P.min() >= -1e-15 and np.allclose(P.sum(axis=0), 1.0, rtol=0, atol=1e-13)  # column-stochastic


def test_two_layers_carry_the_flux_of_their_harmonic_mean():
    """Across the face between D1 and D2 the conductance is 2 D1 D2 / (D1 + D2) / h^2 (flux continuity)."""
    g = Grid((1, 6), 1.0, "reflecting")
    D = np.array([[0.1, 0.1, 0.1, 0.4, 0.4, 0.4]])
    L, _ = medium.operator(medium.build(g, D))
    assert L[2, 3] == pytest.approx(2 * 0.1 * 0.4 / 0.5) and L[1, 2] == pytest.approx(0.1) and L[3, 4] == pytest.approx(0.4)


@pytest.mark.parametrize("shape", [(32,), (16, 20)])
def test_the_time_exact_solution_on_a_periodic_grid_is_the_operators_exponential(shape):
    """Independent: on a periodic uniform grid L is diagonal in Fourier space, eigenvalues
    -sum_a 4 D_a / h_a^2 sin^2(pi k_a / n_a)."""
    D = [0.3, 0.1][: len(shape)]
    g = Grid(shape, 1.0, "periodic")
    u0 = np.random.default_rng(1).random(shape)
    lam = sum(-4 * d * np.sin(np.pi * np.fft.fftfreq(n)) ** 2 for d, n in zip(D, shape)) if len(shape) == 1 else \
        -4 * D[0] * np.sin(np.pi * np.fft.fftfreq(shape[0]))[:, None] ** 2 - 4 * D[1] * np.sin(
            np.pi * np.fft.fftfreq(shape[1]))[None, :] ** 2
    exact = np.fft.ifftn(np.fft.fftn(u0) * np.exp(7.5 * lam)).real
    np.testing.assert_allclose(medium.semidiscrete(medium.build(g, D), u0, 7.5), exact, rtol=0, atol=1e-12)


def test_explicit_steps_approach_the_time_exact_solution_at_first_order():
    rng = np.random.default_rng(2)
    g = Grid((24, 24), 1.0, "reflecting")
    solid = np.zeros(g.shape, dtype=bool)
    solid[8:16, 10] = True
    m = medium.build(g, 10 ** rng.uniform(-1.5, -0.7, g.shape), solid)
    u0 = np.where(solid, 0.0, rng.random(g.shape))
    T = 8.0
    exact = medium.semidiscrete(m, u0, T)
    dts = [T / 32, T / 64, T / 128]
    errors = [np.abs(medium.explicit(m, u0, dt, round(T / dt)) - exact).max() for dt in dts]
    order = np.polyfit(np.log(dts), np.log(errors), 1)[0]
    assert 0.9 < order < 1.1, (errors, order)


@pytest.mark.parametrize("args, says", [
    (dict(diffusivity=0.1, solid=np.zeros((5, 4), dtype=bool)), "solid mask must be booleans of the grid's shape"),
    (dict(diffusivity=0.1, solid=np.zeros((4, 5), dtype=int)), "solid mask must be booleans"),
    (dict(diffusivity=0.1, solid=np.ones((4, 5), dtype=bool)), "every cell is solid"),
    (dict(diffusivity=np.full((4, 5), -0.1)), "positive and finite"),
    (dict(diffusivity=np.where(np.eye(4, 5) > 0, np.nan, 0.1)), "positive and finite"),
    (dict(diffusivity=[0.1, 0.2, 0.3]), "one per axis"),
    (dict(diffusivity=0.1, wall="sticky"), "reflecting or absorbing"),
])
def test_bad_media_are_refused_in_one_sentence(args, says):
    with pytest.raises(medium.MediumError, match=says):
        medium.build(Grid((4, 5), 1.0, "reflecting"), **args)


def test_a_field_inside_solid_cells_and_an_unstable_dt_are_refused():
    g = Grid((4, 5), 1.0, "reflecting")
    solid = np.zeros(g.shape, dtype=bool)
    solid[1, 1] = True
    m = medium.build(g, 0.1, solid)
    with pytest.raises(medium.MediumError, match="inside solid cells"):
        medium.explicit(m, np.ones(g.shape), 1.0, 3)
    with pytest.raises(medium.MediumError, match=r"largest stable dt is 2\.5"):
        medium.explicit(m, np.where(solid, 0.0, 1.0), 2.6, 3)


@pytest.mark.parametrize("shape", [(50,), (26, 31), (7, 9, 11)])
@pytest.mark.parametrize("wall", WALLS)
@pytest.mark.parametrize("obstacle", ["reflecting", "absorbing"])
def test_the_compiled_step_is_the_sparse_matrix_step(shape, wall, obstacle):
    """The compiled finite-volume loop computes P u + dt b, in a medium with obstacles and a D field per
    axis, for every wall, 1-D to 3-D (to round-off: the sums are taken in another order)."""
    rng = np.random.default_rng(sum(shape))
    g = _grid(shape, wall)
    solid = rng.random(shape) < 0.15
    D = 10 ** rng.uniform(-2, -1, (len(shape),) + shape)
    m = medium.build(g, D, solid, obstacle)
    u0 = np.where(solid, 0.0, rng.random(shape))
    dt = medium.stable_dt(m)
    ref = medium.explicit_sparse(m, u0, dt, 30)
    np.testing.assert_allclose(medium.explicit(m, u0, dt, 30), ref, rtol=0, atol=1e-14 * np.abs(u0).max() * 30)
    run = medium.explicit(m, u0, dt, 30, save_every=10)
    assert list(run.steps) == [0, 10, 20, 30]
    np.testing.assert_array_equal(run.frames[-1], medium.explicit(m, u0, dt, 30))


@pytest.mark.parametrize("shape", [(40,), (18, 23), (6, 7, 9)])
@pytest.mark.parametrize("wall", WALLS)
def test_the_compiled_step_with_a_velocity_is_the_sparse_matrix_step(shape, wall):
    """Upwind faces: P u + dt b by the compiled loop, with a random velocity field, obstacles, every wall."""
    rng = np.random.default_rng(len(shape) + 10)
    g = _grid(shape, wall)
    solid = rng.random(shape) < 0.1
    v = rng.normal(0, 0.2, (len(shape),) + shape)
    m = medium.build(g, 0.1, solid, "absorbing", velocity=v)
    u0 = np.where(solid, 0.0, rng.random(shape))
    dt = medium.stable_dt(m)
    L, _ = medium.operator(m)
    P = np.eye(g.size) + dt * L.toarray()
    assert P.min() >= -1e-15  # the combined limit keeps every entry a probability
    ref = medium.explicit_sparse(m, u0, dt, 30)
    np.testing.assert_allclose(medium.explicit(m, u0, dt, 30), ref, rtol=0, atol=1e-14 * np.abs(u0).max() * 30)

"""Every method in a medium (DESIGN §11): what is the same mathematics agrees to round-off, walkers follow
P in expectation, approximations show the error theory predicts, and closed forms hold."""

import numpy as np
import pytest

from physconv import medium, stats
from physconv.grid import Grid
from physconv.medium import methods, walkers
from physconv.medium.methods import shifted_heat
from physconv.solvers import explicit

ALPHA = 1e-6  # false-alarm rate of each statistical check (fixed seeds: deterministic)


def _column_case(wall, shape=(20, 64), column=40):
    g = Grid(shape, 1.0, {"y": "periodic", "x": wall})
    solid = np.zeros(shape, dtype=bool)
    solid[:, column] = True
    u0 = np.where(solid, 0.0, np.random.default_rng(column).random(shape))
    small = medium.build(Grid((shape[0], column), 1.0, {"y": "periodic", "x": wall}), 0.2)
    return medium.build(g, 0.2, solid, wall), small, u0, column


@pytest.mark.parametrize("wall", ["reflecting", "absorbing"])
def test_a_solid_column_is_a_domain_wall_for_crank_nicolson_and_the_exact_power(wall):
    m, small, u0, column = _column_case(wall)
    keep = np.array([0, 7, 30])
    cn = medium.crank_nicolson(m, u0, 3.0, keep)  # any dt: far beyond the explicit limit of 1.25
    np.testing.assert_allclose(cn[:, :, :column], medium.crank_nicolson(small, u0[:, :column], 3.0, keep),
                               rtol=0, atol=1e-13)
    power = medium.power(m, u0, 1.0, keep)
    np.testing.assert_allclose(power[:, :, :column], medium.power(small, u0[:, :column], 1.0, keep), rtol=0, atol=1e-12)
    np.testing.assert_allclose(power[-1], medium.explicit(m, u0, 1.0, 30), rtol=0, atol=1e-12)


@pytest.mark.parametrize("wall, mode", [("reflecting", "counts"), ("absorbing", "particles"),
                                        pytest.param("reflecting", "particles", marks=pytest.mark.slow),
                                        pytest.param("absorbing", "counts", marks=pytest.mark.slow)])
def test_walkers_left_of_a_solid_column_follow_a_grid_that_ends_there(wall, mode):
    """Binomial check (Bonferroni over cells, chi-square, survivors) of the walkers left of the column
    against explicit steps on the small grid; the walkers right of it stay right of it."""
    m, small, u0, column = _column_case(wall, (12, 30), 18)
    u0[:, column + 1:] = 0.0
    n = 200_000
    run = walkers.lattice(m, u0, 1.0, steps=25, particles=n, seed=11, keep=[0, 25], mode=mode, placement="random")
    expected = explicit.diffuse(u0[:, :column], small.grid, diffusivity=0.2, dt=1.0, steps=25)
    counts = run.counts[-1]
    assert counts[:, column:].sum() == 0
    check = stats.check(counts[:, :column], expected / u0.sum() * n, n, ALPHA)
    assert check.passed, check


def test_two_layers_between_a_fixed_value_and_a_sink_settle_on_the_flux_continuous_line():
    """Steady state of two layers (D1 on the left, D2 on the right) between a dirichlet wall of value 1 at
    x = 0 and an absorbing solid column (zero at its centre): piecewise linear, its slope in each layer
    inversely proportional to D, the same flux through both; the finite volumes are exact for it."""
    n, h, a = 30, 0.5, 12  # the interface at the face x = a h
    g = Grid((1, n), h, {"y": "periodic", "x": "dirichlet"}, 1.0)
    D1, D2 = 0.05, 0.4
    D = np.where(np.arange(n) < a, D1, D2)[None, :]
    solid = np.zeros(g.shape, dtype=bool)
    solid[0, -1] = True
    m = medium.build(g, D, solid, "absorbing")
    L, b = medium.operator(m)
    fluid = ~solid.ravel()
    from scipy.sparse.linalg import spsolve

    steady = np.zeros(n)
    steady[fluid] = spsolve(L[fluid][:, fluid].tocsc(), -b[fluid])
    x = (np.arange(n) + 0.5) * h
    xa, end = a * h, (n - 0.5) * h
    flux = 1.0 / (xa / D1 + (end - xa) / D2)  # series resistances
    exact = np.where(x < xa, 1.0 - flux * x / D1, flux * (end - x) / D2)
    np.testing.assert_allclose(steady[:-1], exact[:-1], rtol=0, atol=1e-12)
    late = medium.semidiscrete(m, np.zeros(g.shape), 4000.0)
    np.testing.assert_allclose(late[0, :-1], exact[:-1], rtol=0, atol=1e-9)


def test_a_drift_between_periodic_walls_is_the_shifted_heat_kernel_plus_the_upwind_numerical_diffusion():
    """The upwind step's kernel has the drift's mean exactly and the variance of D + v h (1 - C) / 2
    (the modified equation's numerical diffusion): its n-th power is, up to O(h^2), the heat kernel of
    that D moved by v t."""
    g = Grid((256,), 1.0, "periodic")
    D, v = 0.05, 0.4
    m = medium.build(g, D, velocity=[v])
    dt = 0.5
    C = v * dt
    k = medium.step_kernel(m, dt)
    moments = __import__("physconv.kernels", fromlist=["moments"]).moments(k, 1.0, dt)
    assert moments.velocity[0] == pytest.approx(v, rel=1e-14)
    assert moments.diffusivity[0, 0] == pytest.approx(D + v * 1.0 * (1 - C) / 2, rel=1e-13)
    u0 = np.exp(-0.5 * ((np.arange(256) + 0.5 - 60) / 4.0) ** 2)
    steps = 200
    got = medium.explicit(m, u0, dt, steps)
    with_numerical = shifted_heat(u0, g, [D + v * (1 - C) / 2], [v], steps * dt)
    without = shifted_heat(u0, g, [D], [v], steps * dt)
    assert np.abs(got - with_numerical).max() < 0.05 * np.abs(got - without).max()


def test_explicit_equals_the_exact_power_in_a_maze_and_approaches_semidiscrete_at_first_order():
    rng = np.random.default_rng(4)
    g = Grid((40, 40), 1.0, "reflecting")
    solid = np.zeros(g.shape, dtype=bool)
    solid[::6, :] = True
    for row in range(0, 40, 6):  # one gap per wall, alternating sides: a maze
        gap = 2 if (row // 6) % 2 else 36
        solid[row, gap:gap + 2] = False
    D = 10 ** rng.uniform(-1.3, -0.7, g.shape)
    m = medium.build(g, D, solid, "absorbing")
    u0 = np.where(solid, 0.0, rng.random(g.shape))
    dt = medium.stable_dt(m)
    keep = np.array([0, 13, 120])
    power = medium.power(m, u0, dt, keep)
    run = medium.explicit(m, u0, dt, 120, save_every=13)
    np.testing.assert_allclose(power[1], run.frames[1], rtol=0, atol=1e-10 * u0.max())
    np.testing.assert_allclose(power[-1], run.frames[-1], rtol=0, atol=1e-10 * u0.max())
    T = 6.0
    exact = medium.semidiscrete(m, u0, T)
    dts = [T / 24, T / 48, T / 96]
    e_exp = [np.abs(medium.explicit(m, u0, d, round(T / d)) - exact).max() for d in dts]
    e_cn = [np.abs(medium.crank_nicolson(m, u0, d, [round(T / d)])[0] - exact).max() for d in dts]
    assert 0.9 < np.polyfit(np.log(dts), np.log(e_exp), 1)[0] < 1.1, e_exp
    assert 1.9 < np.polyfit(np.log(dts), np.log(e_cn), 1)[0] < 2.1, e_cn


def _media(g):
    rng = np.random.default_rng(5)
    solid = rng.random(g.shape) < 0.12
    layers = np.where(np.arange(g.shape[1]) < g.shape[1] // 2, 0.05, 0.2)[None, :] * np.ones(g.shape)
    y = (np.arange(g.shape[0]) + 0.5 - g.shape[0] / 2)[:, None] * np.ones(g.shape)
    shear = np.stack([np.zeros(g.shape), 0.02 * y])
    return {"obstacles": dict(diffusivity=0.15, solid=solid, wall="absorbing"),
            "layers": dict(diffusivity=layers),
            "drift": dict(diffusivity=0.1, solid=solid, velocity=shear)}


@pytest.mark.parametrize("case, mode", [("obstacles", "particles"), ("layers", "counts"), ("drift", "particles"),
                                        pytest.param("obstacles", "counts", marks=pytest.mark.slow),
                                        pytest.param("layers", "particles", marks=pytest.mark.slow),
                                        pytest.param("drift", "counts", marks=pytest.mark.slow)])
def test_walkers_follow_explicit_steps_in_every_cell(case, mode):
    g = Grid((16, 22), 1.0, {"y": "reflecting", "x": "absorbing"})
    m = medium.build(g, **_media(g)[case])
    u0 = np.zeros(g.shape)
    u0[6:10, 3:8] = 1.0
    u0[m.solid] = 0.0
    dt = 0.9 * medium.stable_dt(m)
    n = 300_000
    run = walkers.lattice(m, u0, dt, steps=40, particles=n, seed=3, keep=[0, 10, 40], mode=mode, placement="random")
    ref = medium.explicit(m, u0, dt, 40, save_every=10)
    for counts, field in zip(run.counts[1:], ref.frames[[1, 4]]):
        check = stats.check(counts, field / u0.sum() * n, n, ALPHA)
        assert check.passed, (case, mode, check)


def test_walkers_are_reproducible_and_their_check_can_fail():
    """Same seed, same counts; the same counts against a medium of another D are refused."""
    g = Grid((12, 14), 1.0, "reflecting")
    m = medium.build(g, **_media(g)["drift"])
    u0 = np.where(m.solid, 0.0, 1.0)
    a = walkers.lattice(m, u0, 1.0, steps=30, particles=50_000, seed=9, keep=[30])
    b = walkers.lattice(m, u0, 1.0, steps=30, particles=50_000, seed=9, keep=[30])
    np.testing.assert_array_equal(a.counts, b.counts)
    other = medium.build(g, 0.05, m.solid, velocity=m.velocity)
    wrong = medium.explicit(other, u0, 1.0, 30)
    assert not stats.check(a.counts[0], wrong / u0.sum() * 50_000, 50_000, ALPHA).passed


def test_a_vortex_keeps_a_uniform_field_and_every_step_conserves_mass():
    """Solid rotation is divergence-free face by face (v_x depends on y only, v_y on x only; the wrap faces
    included), so a uniform field stays uniform; with reflecting obstacles (no flow through them) the mass
    is kept to round-off and P is column-stochastic."""
    g = Grid((30, 34), 1.0, "periodic")
    from physconv.medium.keys import velocity

    class Vortex:
        kind, rate, centre, path = "vortex", 0.03, None, None

    v = velocity(Vortex, g, ".")
    m = medium.build(g, 0.1, velocity=v)
    flat = np.ones(g.shape)
    np.testing.assert_allclose(medium.explicit(m, flat, medium.stable_dt(m), 100), flat, rtol=0, atol=1e-13)
    solid = np.random.default_rng(1).random(g.shape) < 0.2
    m = medium.build(g, 0.1, solid, velocity=v)
    u0 = np.where(solid, 0.0, np.random.default_rng(2).random(g.shape))
    u = medium.explicit(m, u0, medium.stable_dt(m), 300)
    assert abs(u.sum() - u0.sum()) <= 1e-13 * u0.sum()
    L, _ = medium.operator(m)
    P = np.eye(g.size) + medium.stable_dt(m) * L.toarray()
    assert P.min() >= 0 and np.allclose(P.sum(axis=0), 1.0, rtol=0, atol=1e-13)


def test_the_combined_limit_of_diffusion_and_drift_is_named():
    g = Grid((10, 12), (1.0, 0.5), "periodic")
    m = medium.build(g, [0.1, 0.2], velocity=[0.3, -0.4])
    limit = 1 / (2 * 0.1 / 1 + 2 * 0.2 / 0.25 + 0.3 / 1 + 0.4 / 0.5)
    assert medium.stable_dt(m) == pytest.approx(limit, rel=1e-14)
    with pytest.raises(medium.MediumError, match=f"largest stable dt is {limit:.6g}"):
        medium.explicit(m, np.ones(g.shape), 1.01 * limit, 2)


def test_spectral_and_gaussian_say_why_they_cannot_describe_a_medium():
    g = Grid((10, 12), 1.0, "reflecting")
    assert "eigenvectors" in methods.why_not_spectral(medium.build(g, 0.1, velocity=[0.1, 0.0]))
    assert methods.why_not_spectral(medium.build(Grid((70, 70), 1.0, "reflecting"),
                                                 np.linspace(0.1, 0.2, 4900).reshape(70, 70))).count("4096")
    assert "depends on position" in methods.why_not_gaussian(medium.build(g, 0.1, np.eye(10, 12) > 0))
    assert "periodic" in methods.why_not_gaussian(medium.build(g, 0.1, velocity=[0.1, 0.0]))
    assert methods.why_not_gaussian(medium.build(g, [0.1, 0.3])) is None


def test_walkers_give_the_exact_lattice_d_eff_within_their_standard_error():
    """Uniform anisotropic medium: D_eff is D per axis; a random porous medium: D_eff < D, and the walkers'
    estimate is within 3 standard errors of the exact moment propagation (false alarm 0.3 % per axis)."""
    from physconv.medium.homogenise import effective_diffusivity, exact_msd

    g = Grid((40, 40), 1.0, "periodic")
    uniform = effective_diffusivity(medium.build(g, [0.05, 0.15]), 1.0, 300, 40_000, seed=4)
    assert np.all(np.abs(uniform.diffusivity - [0.05, 0.15]) < 3 * uniform.stderr), uniform
    solid = np.random.default_rng(3).random(g.shape) < 0.25
    m = medium.build(g, 0.2, solid)
    est = effective_diffusivity(m, 1.0, 600, 40_000, seed=5)
    marks = np.rint(est.times).astype(int)
    exact = exact_msd(m, 1.0, marks)
    i1 = int(np.argmin(np.abs(est.times - est.t1)))
    exact_D = (exact[:, -1] - exact[:, i1]) / (2 * (est.t2 - est.t1))
    assert np.all(exact_D < 0.2 * 0.8)  # obstacles slow the spreading
    assert np.all(np.abs(est.diffusivity - exact_D) < 3 * est.stderr), (est.diffusivity, exact_D, est.stderr)


def test_the_propagator_is_one_shifted_kernel_only_in_a_uniform_medium():
    """Columns of P^n: in a uniform periodic medium every column is the same kernel shifted; an obstacle
    bends them, and mass of each column stays 1 with reflecting walls."""
    from physconv.plot_medium import columns, sources

    g = Grid((24, 30), 1.0, "periodic")
    m = medium.build(g, 0.2)
    cells = sources(m)
    cols = columns(m, 1.0, 20, cells)
    ref = np.roll(cols[0], (-np.array(np.unravel_index(cells[0], g.shape))).tolist(), axis=(0, 1))
    for c, col in zip(cells, cols):
        shifted = np.roll(col, (-np.array(np.unravel_index(c, g.shape))).tolist(), axis=(0, 1))
        np.testing.assert_allclose(shifted, ref, rtol=0, atol=1e-15)
    solid = np.zeros(g.shape, bool)
    solid[8:16, 12] = True
    bent = columns(medium.build(g, 0.2, solid), 1.0, 20, sources(medium.build(g, 0.2, solid)))
    np.testing.assert_allclose(bent.sum(axis=(1, 2)), 1.0, rtol=0, atol=1e-13)
    shifts = [np.roll(col, (-np.array(np.unravel_index(c, g.shape))).tolist(), axis=(0, 1))
              for c, col in zip(sources(medium.build(g, 0.2, solid)), bent)]
    assert max(np.abs(s - ref).max() for s in shifts) > 1e-3


def _composite_slab(D1, D2, a, L, u0, t, modes=40):
    """Carslaw & Jaeger §12.8: two layers between walls held at 0. Eigenfunctions sin(k1 x)/sin(k1 a) and
    sin(k2 (L - x))/sin(k2 (L - a)) (k_i = sqrt(lambda / D_i)), continuous at x = a, with continuous flux
    where D1 k1 cos(k1 a) sin(k2 b) + D2 k2 sin(k1 a) cos(k2 b) = 0 (b = L - a); orthogonal with weight 1."""
    from scipy.integrate import simpson
    from scipy.optimize import brentq

    b = L - a

    def f(lam):
        k1, k2 = np.sqrt(lam / D1), np.sqrt(lam / D2)
        return D1 * k1 * np.cos(k1 * a) * np.sin(k2 * b) + D2 * k2 * np.sin(k1 * a) * np.cos(k2 * b)

    grid = np.linspace(1e-9, (modes * np.pi / L) ** 2 * max(D1, D2) * 1.5, 200_000)
    values = f(grid)
    roots = [brentq(f, grid[i], grid[i + 1], xtol=1e-15) for i in np.flatnonzero(np.sign(values[:-1]) !=
                                                                                  np.sign(values[1:]))][:modes]

    def X(lam, s):
        k1, k2 = np.sqrt(lam / D1), np.sqrt(lam / D2)
        return np.where(s < a, np.sin(k1 * s) / np.sin(k1 * a), np.sin(k2 * (L - s)) / np.sin(k2 * b))

    fine = np.linspace(0, L, 200_001)
    terms = []
    for lam in roots:
        Xf = X(lam, fine)
        terms.append((lam, simpson(u0(fine) * Xf, x=fine) / simpson(Xf * Xf, x=fine)))
    return lambda x: sum(c * X(lam, x) * np.exp(-lam * t) for lam, c in terms)


def test_two_layers_between_fixed_walls_follow_the_composite_slab_series_at_second_order():
    """The time-exact solution of the finite volumes against the Carslaw & Jaeger series: the error falls
    as h^2 (harmonic-mean faces at the interface, odd extension at the walls)."""
    D1, D2, a, L, t = 0.05, 0.3, 4.0, 10.0, 12.0

    def u0(s):
        return np.sin(np.pi * s / L) + 0.5 * np.sin(3 * np.pi * s / L)

    errors, hs = [], []
    series = _composite_slab(D1, D2, a, L, u0, t)
    for n in (20, 40, 80):
        h = L / n
        g = Grid((n,), h, "dirichlet", 0.0)
        x = (np.arange(n) + 0.5) * h
        m = medium.build(g, np.where(x < a, D1, D2))
        exact = series(x)
        errors.append(np.abs(medium.semidiscrete(m, u0(x), t) - exact).max())
        hs.append(h)
    order = np.polyfit(np.log(hs), np.log(errors), 1)[0]
    assert 1.85 < order < 2.15, (errors, order)

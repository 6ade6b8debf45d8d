"""Monte Carlo propagators tied to their exact expectations by statistics.

Every statistical test uses a fixed seed and states its false-alarm
probability: the chance that a correct implementation fails it for a random
seed. ``stats.check(..., alpha=ALPHA)`` splits ALPHA over its three parts.
"""

import numba
import numpy as np
import pytest
from scipy import stats as st

from physconv import kernels, spectral, stats
from physconv import montecarlo as mc
from physconv.convolve import fft_convolve
from physconv.errors import BoundaryError, KernelError
from physconv.grid import Grid
from physconv.solvers import explicit

ALPHA = 1e-6
WALLS = ["periodic", "reflecting", "absorbing"]
EDGE = kernels.softmax(kernels.named("edge"), temperature=2.0)


def _u0(shape, seed=0):
    return np.random.default_rng(seed).random(shape)


def assert_frames_consistent(counts, expected, particles, alpha=ALPHA):
    """stats.check on every frame with alpha split over the frames: the whole assertion alarms with <= alpha."""
    for c, e in zip(counts, expected):
        result = stats.check(c, e, particles, alpha=alpha / len(counts))
        assert result.passed, result


# --- placement -------------------------------------------------------------------------------------

def test_stratified_placement_gives_floor_or_ceil_of_the_expected_count():
    g = Grid((13, 11))
    u0 = _u0(g.shape)
    n = 100_003
    counts = mc.place(u0, g, n, seed=4)
    expected = n * u0 / u0.sum()
    assert counts.sum() == n
    assert np.all((counts == np.floor(expected)) | (counts == np.ceil(expected)))


def test_random_placement_is_multinomial():
    """Pearson chi-square of the placement against N p, alpha = 1e-6."""
    g = Grid((10, 10))
    u0 = _u0(g.shape)
    n = 100_000
    counts = mc.place(u0, g, n, seed=9, placement="random")
    assert counts.sum() == n
    assert stats.chi_square(counts, n * u0 / u0.sum(), n).p_value > ALPHA


# --- lattice particles and counts mode vs explicit -------------------------------------------------

@pytest.mark.parametrize("mode,jumps", [("particles", "auto"), ("particles", "steps"), ("counts", "steps")])
@pytest.mark.parametrize("wall", WALLS)
@pytest.mark.parametrize("kernel", ["ftcs", "softmax_edge"])
def test_lattice_walkers_match_the_explicit_solution(mode, jumps, wall, kernel):
    """Max |z| (Bonferroni), chi-square and survivors at every saved step; alpha = 1e-6 for the whole test.
    (``jumps='auto'`` jumps from frame to frame on periodic and reflecting walls.)"""
    g = Grid((24, 20), spacing=(1.0, 0.8), boundary=wall)
    u0 = _u0(g.shape, 1)
    kw = dict(diffusivity=0.15, dt=1.0) if kernel == "ftcs" else dict(kernel=EDGE)
    n = 400_000
    run = mc.lattice(u0, g, steps=30, particles=n, seed=21, save_every=10, mode=mode, jumps=jumps,
                     placement="random", **kw)
    k = kernels.ftcs(0.15, 1.0, g.spacing) if kernel == "ftcs" else EDGE
    exact = explicit.propagate(u0, g, kernel=k, steps=30, save_every=10).frames
    assert_frames_consistent(run.counts[1:], run.expected_counts(exact[1:]), n)


@pytest.mark.parametrize("wall", WALLS)
def test_particles_and_counts_mode_agree_in_distribution(wall):
    """Two-sample chi-square of the two modes' counts (same N, independent seeds), alpha = 1e-6."""
    g = Grid((16, 16), boundary=wall)
    u0 = _u0(g.shape, 2)
    kw = dict(steps=25, particles=300_000, kernel=EDGE, placement="random")
    a = mc.lattice(u0, g, seed=1, mode="particles", **kw).counts[-1]
    b = mc.lattice(u0, g, seed=2, mode="counts", **kw).counts[-1]
    # survivors differ for absorbing walls: compare cells plus a "removed" category
    lost_a, lost_b = kw["particles"] - a.sum(), kw["particles"] - b.sum()
    assert stats.two_sample(np.append(a, lost_a), np.append(b, lost_b)).p_value > ALPHA


def test_stratified_placement_passes_and_has_less_variance_than_random():
    """Stratified runs pass the (then conservative) check and have the smaller error.

    One FTCS step with r = 0.02 per axis: a particle stays with p = 0.92 and
    moves to each neighbour with 0.02. Given the start counts the summed
    variance is N (0.92 * 0.08 + 4 * 0.02 * 0.98) = 0.152 N against ~N for
    random placement, so the error ratio is sqrt(0.152) = 0.39. Each error
    norm over 400 cells fluctuates by ~3.5 %, the ratio by ~0.02: the band
    +-0.11 is 5.6 sigma. False alarm: 1e-6 split over the two checks, plus
    ~2e-8 for the band.
    """
    g = Grid((20, 20), boundary="reflecting")
    u0 = _u0(g.shape, 3)
    exact = explicit.diffuse(u0, g, diffusivity=0.02, dt=1.0, steps=1)
    errs = {}
    for placement in ("stratified", "random"):
        run = mc.lattice(u0, g, steps=1, particles=200_000, seed=5, diffusivity=0.02, dt=1.0, placement=placement)
        E = run.expected_counts(exact)
        assert stats.check(run.counts[-1], E, run.particles, ALPHA / 2).passed
        errs[placement] = stats.relative_l2(run.counts[-1], E)
    assert errs["stratified"] / errs["random"] == pytest.approx(0.39, abs=0.11)


@pytest.mark.parametrize("wall", ["periodic", "reflecting"])
@pytest.mark.parametrize("mode", ["particles", "counts"])
def test_no_particle_is_lost_or_created_with_conserving_walls(wall, mode):
    g = Grid((9, 12), boundary=wall)
    run = mc.lattice(_u0(g.shape), g, steps=40, particles=12345, seed=0, kernel=EDGE, save_every=7, mode=mode)
    assert np.all(run.alive == 12345)
    assert run.concentration[-1].sum() * g.cell_volume == pytest.approx(g.mass(_u0(g.shape)), rel=1e-12)


def test_absorbing_survivors_match_the_exact_mass():
    """Survivor count vs the explicit solution's mass: z-test, alpha = 1e-6."""
    g = Grid((12, 12), boundary="absorbing")
    u0 = _u0(g.shape)
    n = 10**6
    run = mc.lattice(u0, g, steps=60, particles=n, seed=8, diffusivity=0.2, dt=1.0, mode="counts")
    p = explicit.diffuse(u0, g, diffusivity=0.2, dt=1.0, steps=60).sum() / u0.sum()
    assert abs(run.alive[-1] - n * p) <= stats.bonferroni_z(1, ALPHA) * np.sqrt(n * p * (1 - p))
    assert run.alive[-1] < 0.7 * n  # and a good part has really left


def test_counts_mode_takes_a_trillion_particles():
    """10^12 particles cost what 10^6 do; the check stays calibrated (alpha = 1e-6)."""
    g = Grid((16, 16), boundary="reflecting")
    u0 = _u0(g.shape, 6)
    n = 10**12
    run = mc.lattice(u0, g, steps=20, particles=n, seed=3, kernel=EDGE, mode="counts", placement="random")
    exact = spectral.propagate(u0, g, kernel=EDGE, steps=20)
    assert run.alive[-1] == n
    assert stats.check(run.counts[-1], run.expected_counts(exact), n, ALPHA).passed


def test_relative_error_falls_like_one_over_sqrt_n():
    """Fitted slope of log(relative L2) vs log(N) over 10^4 .. 10^6 is -0.5 +- 0.1.

    With 400 cells the relative L2 error of one run fluctuates by about 4 %,
    so the fitted slope has a standard error near 0.015: the band is ~6 sigma
    (false alarm < 1e-6).
    """
    g = Grid((20, 20), boundary="periodic")
    u0 = _u0(g.shape, 4)
    exact = explicit.diffuse(u0, g, diffusivity=0.2, dt=1.0, steps=20)
    ns = np.array([10**4, 3 * 10**4, 10**5, 3 * 10**5, 10**6])
    errs = []
    for i, n in enumerate(ns):
        run = mc.lattice(u0, g, steps=20, particles=int(n), seed=100 + i, diffusivity=0.2, dt=1.0, placement="random")
        errs.append(stats.relative_l2(run.concentration[-1], exact))
        assert errs[-1] == pytest.approx(stats.expected_relative_l2(run.expected_counts(exact), int(n)), rel=0.25)
    slope = np.polyfit(np.log(ns), np.log(errs), 1)[0]
    assert slope == pytest.approx(-0.5, abs=0.1)


# --- Brownian particles ----------------------------------------------------------------------------

@pytest.mark.parametrize("n, kind", [(7, "periodic"), (8, "reflecting"), (9, "absorbing"), (6, "dirichlet")])
def test_brownian_transition_matrix_against_quadrature(n, kind):
    """Closed form vs brute force: average of the image-summed normal cdf over the source cell.

    Images mirror about the walls of Grid.wall_positions: the faces, or for absorbing
    walls the ghost-cell centres half a cell outside them.
    """
    from scipy.special import ndtr

    h, sigma = 0.5, 0.9
    P = mc.transition(n, h, kind, sigma)
    (lo, hi), = Grid((n,), h, kind, 0.0 if kind == "dirichlet" else None).wall_positions()
    period = hi - lo if kind == "periodic" else 2 * (hi - lo)
    ys = (np.arange(4000) + 0.5) / 4000  # midpoint rule inside the source cell
    for j in (0, n // 2, n - 1):
        y = (j + ys) * h
        for i in range(n):
            a, b = i * h, (i + 1) * h
            tot = 0.0
            for k in range(-6, 7):
                tot += np.mean(ndtr((b - y - k * period) / sigma) - ndtr((a - y - k * period) / sigma))
                if kind != "periodic":
                    sign = 1 if kind == "reflecting" else -1
                    image = 2 * lo - y  # the mirror image about the lower wall
                    tot += sign * np.mean(ndtr((b - image - k * period) / sigma) - ndtr((a - image - k * period) / sigma))
            assert P[i, j] == pytest.approx(tot, abs=2e-8)


@pytest.mark.parametrize("wall", WALLS)
def test_brownian_particles_match_the_cell_averaged_heat_solution(wall):
    """Check (Bonferroni z, chi-square, survivors) at every saved step, alpha = 1e-6 for the whole test."""
    g = Grid((20, 16), spacing=(1.0, 0.7), boundary=wall)
    u0 = _u0(g.shape, 7)
    n = 400_000
    run = mc.brownian(u0, g, diffusivity=0.3, dt=0.5, steps=30, particles=n, seed=13, save_every=10,
                      placement="random")
    exact = mc.expectation(u0, g, diffusivity=0.3, time=run.steps * 0.5)
    assert_frames_consistent(run.counts, run.expected_counts(exact), n)


def test_absorbing_walls_without_the_bridge_correction_fail_the_check():
    """Paths that cross and come back are missed: too many survivors, detected far beyond chance."""
    g = Grid((20, 16), spacing=(1.0, 0.7), boundary="absorbing")
    u0 = _u0(g.shape, 7)
    n = 400_000
    exact = mc.expectation(u0, g, diffusivity=0.3, time=15.0)
    run = mc.brownian(u0, g, diffusivity=0.3, dt=0.5, steps=30, particles=n, seed=13, placement="random",
                      bridge=False)
    result = stats.check(run.counts[-1], run.expected_counts(exact), n, alpha=ALPHA)
    assert not result.passed
    assert result.alive_z > 10  # the bias: survivors in excess


def test_brownian_expectation_approaches_the_point_sampled_heat_solution_as_dx_squared():
    """Cell averages vs point samples differ by O(dx^2 / sigma^2): fitted order 2 +- 0.2."""
    L, D, t = 8.0, 0.5, 2.0
    diffs, dxs = [], []
    for n in (16, 32, 64, 128):
        g = Grid((n,), L / n, "periodic")
        u0 = 1 + np.sin(2 * np.pi * g.coords()["x"] / L) ** 3
        diffs.append(np.abs(mc.expectation(u0, g, diffusivity=D, time=t) - spectral.heat(u0, g, diffusivity=D, time=t)).max())
        dxs.append(L / n)
    assert np.polyfit(np.log(dxs), np.log(diffs), 1)[0] == pytest.approx(2.0, abs=0.2)


# --- stochastic convolution ------------------------------------------------------------------------

@pytest.mark.parametrize("boundary, value", [("periodic", None), ("reflecting", None), ("absorbing", None),
                                             ("dirichlet", 0.5)])
def test_stochastic_convolution_is_unbiased(boundary, value):
    """Per-cell z of the mean against fft_convolve with a 3-sigma-clean Bonferroni bound, alpha = 1e-6.

    With 4000 draws the t-statistic is normal to well within the bound's margin.
    """
    u = _u0((15, 17), 9)
    k = kernels.softmax(np.random.default_rng(1).normal(size=(3, 5)))
    r = mc.stochastic_convolve(u, k, boundary=boundary, boundary_value=value, draws=4000, seed=3)
    z = (r.mean - fft_convolve(u, k, boundary, value)) / r.stderr
    assert np.abs(z).max() <= stats.bonferroni_z(u.size, ALPHA)


def test_stochastic_convolution_error_falls_like_one_over_sqrt_draws():
    """Fitted slope of relative L2 error vs K over 10 .. 10^4: -0.5 +- 0.1 (standard error ~0.01)."""
    u = _u0((40, 40), 10)
    k = kernels.softmax(kernels.named("edge"), temperature=4.0)
    ref = fft_convolve(u, k, "periodic")
    Ks = np.array([10, 100, 1000, 10000])
    errs = [stats.relative_l2(mc.stochastic_convolve(u, k, draws=int(K), seed=int(K)).mean, ref) for K in Ks]
    assert np.polyfit(np.log(Ks), np.log(errs), 1)[0] == pytest.approx(-0.5, abs=0.1)


# --- reproducibility -------------------------------------------------------------------------------

def _all_methods(seed):
    g = Grid((12, 10), boundary="reflecting")
    u0 = _u0(g.shape)
    return [
        mc.lattice(u0, g, steps=7, particles=50_000, seed=seed, kernel=EDGE).counts,
        mc.lattice(u0, g, steps=7, particles=50_000, seed=seed, kernel=EDGE, mode="counts").counts,
        mc.brownian(u0, g, diffusivity=0.2, dt=1.0, steps=7, particles=50_000, seed=seed).counts,
        mc.stochastic_convolve(u0, EDGE, boundary=g, draws=20, seed=seed).mean,
    ]


def test_same_seed_gives_identical_arrays_with_one_or_two_threads():
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = _all_methods(42)
        numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
        two = _all_methods(42)
    finally:
        numba.set_num_threads(before)
    for a, b in zip(one, two):
        np.testing.assert_array_equal(a, b)


def test_different_seeds_give_different_arrays():
    for a, b in zip(_all_methods(1), _all_methods(2)):
        assert not np.array_equal(a, b)


def test_saving_frames_does_not_change_the_random_path_of_stepping_walkers():
    """Step by step, a particle's n-th step uses its n-th random number whatever is saved. (Frame
    jumps draw one displacement per frame, so there the law at the last step is the same, the draws not.)"""
    g = Grid((10, 10), boundary="periodic")
    u0 = _u0(g.shape)
    kw = dict(steps=12, particles=20_000, seed=5, diffusivity=0.2, dt=1.0)
    for fn, extra in ((mc.lattice, dict(jumps="steps")), (mc.brownian, dict(jumps="steps"))):
        np.testing.assert_array_equal(fn(u0, g, **kw, **extra).counts[-1],
                                      fn(u0, g, save_every=5, **kw, **extra).counts[-1])


# --- bad input -------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "call, error, words",
    [
        (lambda: mc.lattice(np.ones(4), Grid(4, boundary="dirichlet", boundary_value=0.0), steps=1, particles=10,
                            diffusivity=0.1, dt=1.0), BoundaryError, "no rule for dirichlet"),
        (lambda: mc.brownian(np.ones(4), Grid(4, boundary="dirichlet", boundary_value=1.0), steps=1, particles=10,
                             diffusivity=0.1, dt=1.0), BoundaryError, "dirichlet"),
        (lambda: mc.lattice(-np.ones(4), Grid(4), steps=1, particles=10, diffusivity=0.1, dt=1.0), ValueError,
         "non-negative"),
        (lambda: mc.lattice(np.zeros(4), Grid(4), steps=1, particles=10, diffusivity=0.1, dt=1.0), ValueError,
         "positive mass"),
        (lambda: mc.lattice(np.ones(4), Grid(4), steps=1, particles=0, diffusivity=0.1, dt=1.0), ValueError,
         "particles"),
        (lambda: mc.lattice(np.ones(4), Grid(4), steps=1, particles=10, kernel=[0.5, 0.7, -0.2]), KernelError,
         "negative"),
        (lambda: mc.lattice(np.ones(4), Grid(4), steps=1, particles=10, diffusivity=0.1, dt=9.0), ValueError,
         "largest stable dt"),
        (lambda: mc.lattice(np.ones(4), Grid(4), steps=1, particles=10, diffusivity=0.1, dt=1.0, mode="fast"),
         ValueError, "mode"),
        (lambda: mc.lattice(np.ones(4), Grid(4), steps=1, particles=10, diffusivity=0.1, dt=1.0,
                            placement="grid"), ValueError, "placement"),
        (lambda: mc.stochastic_convolve(np.ones(4), [0.5, 0.5, 0.5]), KernelError, "sums to 1.5"),
        (lambda: mc.stochastic_convolve(np.ones(4), [0.25, 0.5, 0.25], draws=0), ValueError, "draws"),
    ],
)
def test_bad_input_is_refused(call, error, words):
    with pytest.raises(error, match=words):
        call()


@pytest.mark.slow
def test_relative_error_falls_like_one_over_sqrt_n_up_to_ten_million():
    """256^2 cells, N = 10^5 .. 10^7: fitted slope -0.5 +- 0.05 (standard error ~0.005, false alarm < 1e-6)."""
    g = Grid((256, 256), boundary="reflecting")
    u0 = _u0(g.shape, 12)
    exact = explicit.diffuse(u0, g, diffusivity=0.2, dt=1.0, steps=50)
    ns = np.array([10**5, 10**6, 10**7])
    errs = [stats.relative_l2(mc.lattice(u0, g, steps=50, particles=int(n), seed=int(n), diffusivity=0.2, dt=1.0,
                                         placement="random").concentration[-1], exact) for n in ns]
    assert np.polyfit(np.log(ns), np.log(errs), 1)[0] == pytest.approx(-0.5, abs=0.05)


def test_one_look_takes_one_neighbours_value():
    """K = 1: every output cell is exactly the value of the cell itself or one of its neighbours."""
    u = np.arange(1.0, 11.0) ** 2
    look = mc.stochastic_convolve(u, [0.25, 0.5, 0.25], boundary="periodic", draws=1, seed=3)
    neighbours = np.stack([np.roll(u, 1), u, np.roll(u, -1)])
    assert np.all(np.any(look.mean == neighbours, axis=0)) and np.all(np.isnan(look.stderr))


# --- frame jumps -----------------------------------------------------------------------------------

ASYMMETRIC = np.array([[0.0, 0.1, 0.0], [0.3, 0.2, 0.05], [0.0, 0.35, 0.0]])
MIXED = np.array([[0.0, 0.1, 0.05], [0.3, 0.2, 0.2], [0.0, 0.1, 0.05]])  # symmetric along y only


def test_jump_kernel_is_the_convolution_power_of_the_step_kernel():
    """Against repeated direct convolution (no transforms): total variation below 1e-12."""
    from scipy.signal import convolve

    from physconv.montecarlo.lattice import jump_kernel

    for k, steps in ((ASYMMETRIC, 23), (kernels.ftcs(0.1, 1.0, (1.0, 1.0, 1.0)), 9), (np.array([0.5, 0.2, 0.3]), 64)):
        direct = np.ones((1,) * k.ndim)
        for _ in range(steps):
            direct = convolve(direct, k, method="direct")
        power = jump_kernel(k, steps)
        assert power.shape == direct.shape
        assert 0.5 * np.abs(power - direct).sum() < 1e-12


def test_folding_a_free_walk_is_the_walled_walk():
    """Path by path: the walled walk is the folded free walk whose jumps are mirrored while it is in a
    mirrored copy of the box (so for a jump law symmetric along the axis, the two walks have one law)."""
    from physconv.montecarlo._loops import _fold, _wall

    rng = np.random.default_rng(3)
    for n in (1, 2, 7):
        for kind in (0, 1):
            free, walled = 0, 0
            for d in rng.integers(-n, n + 1, size=400):
                mirrored = kind == 1 and free % (2 * n) >= n
                free += -d if mirrored else d
                walled = _wall(walled + d, n, kind)
                assert _fold(free, n, kind) == walled


@pytest.mark.parametrize("bounds,kernel", [
    ("reflecting", None), ("periodic", ASYMMETRIC), ({"y": "reflecting", "x": "periodic"}, MIXED)])
def test_frame_jumps_apply_where_the_walk_folds(bounds, kernel):
    from physconv.montecarlo.lattice import frame_jumps_exact, step_kernel

    g = Grid((9, 5), boundary=bounds)
    k = step_kernel(g, kernel, 0.2, 1.0)
    assert frame_jumps_exact(g, k)
    assert not frame_jumps_exact(Grid((9, 5), boundary="absorbing"), k)
    if kernel is not None:  # a drift along a reflecting axis: the mirrored walker would drift the other way
        assert not frame_jumps_exact(Grid((9, 5), boundary="reflecting"), step_kernel(g, ASYMMETRIC))


@pytest.mark.parametrize("shape,bounds,kernel", [
    ((7,), "reflecting", None), ((5, 6), "periodic", ASYMMETRIC),
    ((9, 4), {"y": "reflecting", "x": "periodic"}, MIXED), ((4, 3, 5), "reflecting", None)])
def test_frame_jumps_give_the_exact_law_at_every_frame(shape, bounds, kernel, monkeypatch):
    """One particle start, multinomial counts at each frame against the exact transition row (walks far
    longer than the box, frames split into several jumps by a small table limit): chi-square, alpha = 1e-6."""
    import sys

    lat = sys.modules["physconv.montecarlo.lattice"]  # the module (the package exports the function)
    monkeypatch.setattr(lat, "MAX_JUMP_TABLE", 300)
    g = Grid(shape, boundary=bounds)
    u0 = np.zeros(shape)
    u0.flat[1] = 1.0
    kw = dict(diffusivity=0.1, dt=1.0) if kernel is None else dict(kernel=kernel)
    k = lat.step_kernel(g, kernel, kw.get("diffusivity"), kw.get("dt"))
    n = 200_000
    run = lat.lattice(u0, g, steps=39, particles=n, seed=4, save_every=13, **kw)
    assert list(run.steps) == [0, 13, 26, 39]
    for counts, step in zip(run.counts[1:], run.steps[1:]):
        exact = spectral.propagate(u0, g, kernel=k, steps=int(step))
        assert stats.chi_square(counts, n * exact / exact.sum(), n).p_value > ALPHA / 3


def test_frame_jumps_are_bit_identical_across_thread_counts():
    g = Grid((40, 30), boundary="reflecting")
    kw = dict(steps=100, particles=50_000, seed=11, diffusivity=0.2, dt=1.0, save_every=25)
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = mc.lattice(_u0(g.shape), g, **kw).counts
        numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
        two = mc.lattice(_u0(g.shape), g, **kw).counts
    finally:
        numba.set_num_threads(before)
    np.testing.assert_array_equal(one, two)


@pytest.mark.parametrize("bounds", ["periodic", "reflecting", {"y": "reflecting", "x": "periodic"}])
def test_brownian_frame_jumps_give_the_exact_law_at_every_frame(bounds):
    """One Gaussian jump per frame, spreading over many box lengths, against the cell-averaged heat
    solution with its images: chi-square at each frame, alpha = 1e-6 for the test."""
    g = Grid((6, 5), spacing=(1.0, 0.5), boundary=bounds)
    u0 = np.zeros(g.shape)
    u0[1, 3] = 1.0
    n = 200_000
    run = mc.brownian(u0, g, diffusivity=0.3, dt=0.5, steps=30, particles=n, seed=6, save_every=10,
                      placement="random")
    exact = mc.expectation(u0, g, diffusivity=0.3, time=0.5 * run.steps[1:])
    for counts, e in zip(run.counts[1:], exact):
        assert stats.chi_square(counts, n * e / e.sum(), n).p_value > ALPHA / 3
    assert np.all(run.alive == n)


@pytest.mark.parametrize("splits", [[1, 2, 3, 6], [5, 7], [2, 2, 2, 2, 2, 2], [11, 1]])
def test_a_walk_advanced_in_any_pieces_is_the_same_walk(splits):
    """Two steps share a random word (its halves): a piece that starts at an odd step takes the low half."""
    from physconv.montecarlo import _loops
    from physconv.montecarlo._random import alias_table, alias_thresholds

    rng = np.random.default_rng(8)
    pos0 = np.stack([rng.integers(0, 9, 3000), rng.integers(0, 7, 3000)]).astype(np.int32)
    offsets = np.array([[0, 0], [1, 0], [-1, 0], [0, 1], [0, -1]], dtype=np.int64)
    prob, alias = alias_table(np.array([0.4, 0.1, 0.2, 0.15, 0.15]))
    args = (np.uint64(77), offsets, alias_thresholds(prob), alias, np.array([9, 7]), np.array([1, 0]))
    whole = pos0.copy()
    _loops.lattice_walk(whole, 0, 12, *args)
    pieces, first = pos0.copy(), 0
    for n in splits:
        _loops.lattice_walk(pieces, first, n, *args)
        first += n
    np.testing.assert_array_equal(pieces, whole)
    assert not np.array_equal(whole, pos0)


def _isolated_sources(count, spacing=4, sources=4000):
    """A periodic 1-D count array with ``count`` in every ``spacing``-th cell (their moves never meet)."""
    c = np.zeros(spacing * sources, dtype=np.int64)
    c[::spacing] = count
    return c


def _one_count_step(counts, probs, seed=5, chunks=2, step=0):
    """One counts-mode step on a periodic 1-D grid (moves: stay, left, right), the cells cut into ``chunks``."""
    from physconv.montecarlo import _loops
    from physconv.montecarlo._random import binomial_tables
    from physconv.montecarlo.lattice import count_chain

    offsets, q = count_chain(np.array([[0], [-1], [1]], dtype=np.int64), np.asarray(probs, float))
    prob, alias = binomial_tables(q[:-1], 64)
    out = counts.copy()
    _loops.counts_step(out, np.uint64(seed), step, q, prob, alias, np.array([counts.size], dtype=np.int64), offsets,
                       np.array([0], dtype=np.int64), np.empty((chunks, counts.size), dtype=np.int64))
    return out


@pytest.mark.parametrize("count", [3, 5, 64, 65, 300])
def test_a_counts_step_splits_each_cell_by_the_multinomial(count):
    """Cells far apart, each holding ``count``: after one step the three cells around each source hold a
    multinomial draw (probabilities 0.5, 0.2, 0.3). Small counts: Pearson chi-square over every way of
    splitting the count; larger ones (table and BTRS draws): over the pooled left-move counts. alpha = 1e-6."""
    probs = (0.5, 0.2, 0.3)  # stay, left, right
    c = _isolated_sources(count)
    new = _one_count_step(c, probs, seed=count)
    assert new.sum() == c.sum()
    stay, right = new[::4], new[1::4]
    left = np.roll(new, 1)[::4]
    assert np.array_equal(stay + left + right, np.full(stay.size, count))
    if count <= 5:
        keys = left * (count + 1) + right
        O = np.bincount(keys, minlength=(count + 1) ** 2)
        ll, rr = np.divmod(np.arange((count + 1) ** 2), count + 1)
        ok = ll + rr <= count
        E = st.multinomial.pmf(np.stack([count - ll[ok] - rr[ok], ll[ok], rr[ok]], axis=1), count, probs) * stay.size
        O = O[ok]
    else:
        O = np.bincount(left, minlength=count + 1)
        E = st.binom.pmf(np.arange(count + 1), count, 0.2) * stay.size
    keep = E >= 5
    O, E = np.append(O[keep], O[~keep].sum()), np.append(E[keep], E[~keep].sum())
    if E[-1] < 5:
        O, E = np.append(O[:-2], O[-2:].sum()), np.append(E[:-2], E[-2:].sum())
    assert st.chi2.sf(np.sum((O - E) ** 2 / E), len(E) - 1) > ALPHA


def test_a_counts_step_does_not_depend_on_the_chunks_of_cells():
    rng = np.random.default_rng(2)
    c = rng.integers(0, 200, 9000) * rng.integers(0, 2, 9000) ** 3 * rng.integers(1, 10**6, 9000)
    runs = [_one_count_step(c, (0.4, 0.35, 0.25), chunks=k, step=3) for k in (1, 2, 3, 4, 7)]
    for r in runs[1:]:
        assert np.array_equal(r, runs[0])
    assert runs[0].sum() == c.sum()

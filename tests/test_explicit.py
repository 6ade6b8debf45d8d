"""Explicit solver: exact agreement with the spectral propagator, mass, stability and convergence."""

import numpy as np
import pytest

from physconv import kernels, spectral
from physconv.errors import KernelError, StabilityError
from physconv.grid import Grid
from physconv.solvers import explicit, implicit

from .reference import ftcs_numpy, scatter_step

GRIDS = [
    ((37,), (0.5,)),
    ((37, 53), (1.0, 0.6)),
    ((7, 9, 11), (1.0, 0.8, 1.3)),
]
BOUNDARIES = [
    ("periodic", None),
    ("reflecting", None),
    ("absorbing", None),
    ("dirichlet", 0.0),
    ("dirichlet", 0.75),
    ("mixed", 0.3),
]


def _boundary(name, ndim):
    if name != "mixed":
        return name
    return ["periodic", "reflecting", "dirichlet"][-ndim:] if ndim > 1 else ["dirichlet"]


@pytest.mark.parametrize("shape, spacing", GRIDS)
@pytest.mark.parametrize("name, value", BOUNDARIES)
def test_ftcs_agrees_with_the_spectral_propagator_to_round_off(rng, shape, spacing, name, value):
    g = Grid(shape, spacing, _boundary(name, len(shape)), value)
    u0 = rng.random(shape)
    D = 0.3
    dt = 0.95 * explicit.max_stable_dt(D, spacing)
    ue = explicit.diffuse(u0, g, diffusivity=D, dt=dt, steps=300)
    us = spectral.diffuse(u0, g, diffusivity=D, dt=dt, steps=300)
    assert np.abs(ue - us).max() <= 1e-10 * np.abs(u0).max()


@pytest.mark.parametrize("name, value", BOUNDARIES)
def test_one_ftcs_step_is_the_ghost_cell_formula(rng, name, value):
    g = Grid((6, 5, 4), (1.0, 0.5, 2.0), _boundary(name, 3), value)
    u0 = rng.random(g.shape)
    got = explicit.diffuse(u0, g, diffusivity=0.1, dt=0.2, steps=1)
    ref = ftcs_numpy(u0, g.spacing, _boundary(name, 3), 0.1, 0.2, value)
    np.testing.assert_allclose(got, ref, atol=1e-15)


@pytest.mark.parametrize("name, value", BOUNDARIES)
def test_kernel_path_with_the_ftcs_kernel_equals_the_ftcs_loop(rng, name, value):
    g = Grid((11, 13), (1.0, 0.5), _boundary(name, 2), value)
    u0 = rng.random(g.shape)
    k = kernels.ftcs(0.05, 0.5, g.spacing)
    np.testing.assert_allclose(
        explicit.propagate(u0, g, kernel=k, steps=40),
        explicit.diffuse(u0, g, diffusivity=0.05, dt=0.5, steps=40),
        atol=1e-13,
    )


SOFTMAX_KERNELS = {
    "edge": kernels.softmax(kernels.named("edge")),
    "edge_hot": kernels.softmax(kernels.named("edge"), temperature=4.0),
    "symmetric5x5": kernels.softmax(np.add.outer([0, 1, 2, 1, 0], [0, 1, 2, 1, 0]) / 2.0),
}


@pytest.mark.parametrize("kname", SOFTMAX_KERNELS)
@pytest.mark.parametrize("boundary, value", [("periodic", None), ("reflecting", None), ("dirichlet", 0.25),
                                             ({"y": "periodic", "x": "reflecting"}, None)])
def test_softmax_kernels_agree_with_the_spectral_propagator(rng, kname, boundary, value):
    k = SOFTMAX_KERNELS[kname]
    u0 = rng.random((37, 53))
    ue = explicit.propagate(u0, boundary, kernel=k, boundary_value=value, steps=60)
    us = spectral.propagate(u0, boundary, kernel=k, boundary_value=value, steps=60)
    assert np.abs(ue - us).max() <= 1e-10 * np.abs(u0).max()


def test_width_three_softmax_kernel_with_absorbing_walls_in_3d(rng):
    k = kernels.softmax(rng.normal(size=(3, 3, 3)) + rng.normal(size=(3, 3, 3))[::-1, ::-1, ::-1])
    k = (k + k[::-1] + k[:, ::-1] + k[:, :, ::-1] + k[::-1, ::-1] + k[::-1, :, ::-1] + k[:, ::-1, ::-1]
         + k[::-1, ::-1, ::-1]) / 8
    u0 = rng.random((6, 7, 8))
    ue = explicit.propagate(u0, "absorbing", kernel=k, steps=25)
    us = spectral.propagate(u0, "absorbing", kernel=k, steps=25)
    assert np.abs(ue - us).max() <= 1e-10 * np.abs(u0).max()


@pytest.mark.parametrize("boundary", ["periodic", "reflecting", "absorbing", {"y": "reflecting", "x": "absorbing"}])
def test_asymmetric_kernels_follow_the_particle_rule(rng, boundary):
    """Scatter each cell's mass by the kernel; bounce back off reflecting walls, remove at absorbing ones."""
    k = kernels.softmax(rng.normal(size=(3, 5)) * 2)
    u0 = rng.random((6, 7))
    ref = u0
    for _ in range(3):
        ref = scatter_step(ref, k, boundary)
    np.testing.assert_allclose(explicit.propagate(u0, boundary, kernel=k, steps=3), ref, atol=1e-14)


@pytest.mark.parametrize("shape, width", [((300,), 7), ((40, 33), 5), ((9, 12, 20), 3), ((6, 50), 11), ((40, 33), 3),
                                          ((300,), 3), ((5, 4), 3)])
def test_periodic_kernel_steps_are_the_sum_of_shifted_copies_to_the_last_bit(rng, shape, width):
    """u' = sum_d k[d] u(x - d), added offset by offset in the kernel's order: the vectorised rows and the
    rows beside the walls give exactly numpy's sum of rolled copies."""
    k = rng.random((width,) * len(shape))
    u = rng.random(shape)
    want = u
    for _ in range(3):
        acc = np.zeros(shape)
        for idx in np.ndindex(k.shape):
            acc = acc + k[idx] * np.roll(want, [i - width // 2 for i in idx], axis=tuple(range(len(shape))))
        want = acc
    assert np.array_equal(explicit.propagate(u, "periodic", kernel=k, steps=3), want)


def test_wide_kernels_bounce_correctly_in_1d(rng):
    k = kernels.softmax(rng.normal(size=11))  # reaches 5 cells on a 6-cell axis
    u0 = rng.random(6)
    np.testing.assert_allclose(explicit.propagate(u0, "reflecting", kernel=k, steps=1),
                               scatter_step(u0, k, "reflecting"), atol=1e-15)


@pytest.mark.parametrize("boundary", ["periodic", "reflecting", {"z": "periodic", "y": "reflecting", "x": "periodic"}])
@pytest.mark.parametrize("kind", ["ftcs", "skewed"])
def test_mass_is_conserved_to_round_off(rng, boundary, kind):
    g = Grid((8, 9, 10), (1.0, 0.5, 0.7), boundary)
    u0 = rng.random(g.shape)
    if kind == "ftcs":
        u = explicit.diffuse(u0, g, diffusivity=0.1, dt=explicit.max_stable_dt(0.1, g.spacing), steps=500)
    else:
        u = explicit.propagate(u0, g, kernel=kernels.softmax(rng.normal(size=(3, 5, 3))), steps=500)
    assert abs(g.mass(u) - g.mass(u0)) <= 1e-12 * g.mass(u0)


def test_unstable_dt_is_refused_naming_the_largest_stable_dt():
    g = Grid((10, 10), (1.0, 0.5))
    dt_max = 1.0 / (2 * 0.2 * (1 + 4))
    with pytest.raises(StabilityError, match=f"largest stable dt is {dt_max:.6g}"):
        explicit.diffuse(np.zeros(g.shape), g, diffusivity=0.2, dt=1.01 * dt_max, steps=1)
    explicit.diffuse(np.zeros(g.shape), g, diffusivity=0.2, dt=dt_max, steps=1)  # the limit itself is fine


def test_saved_frames_are_every_kth_step_and_the_last(rng):
    g = Grid((12, 10), boundary="reflecting")
    u0 = rng.random(g.shape)
    seen = []
    traj = explicit.diffuse(u0, g, diffusivity=0.2, dt=1.0, steps=23, save_every=5, callback=seen.append)
    assert traj.steps.tolist() == [0, 5, 10, 15, 20, 23]
    assert seen == [5, 10, 15, 20, 23]
    np.testing.assert_array_equal(traj.frames[0], u0)
    for n, f in zip(traj.steps, traj.frames):
        np.testing.assert_array_equal(f, explicit.diffuse(u0, g, diffusivity=0.2, dt=1.0, steps=int(n)))


def test_inputs_are_left_unmodified(rng):
    g = Grid((9, 9), boundary="periodic")
    u0 = rng.random(g.shape)
    k = kernels.softmax(kernels.named("edge"))
    before, kbefore = u0.copy(), k.copy()
    explicit.diffuse(u0, g, diffusivity=0.1, dt=1.0, steps=3)
    explicit.propagate(u0, "periodic", kernel=k, steps=3)
    spectral.diffuse(u0, g, diffusivity=0.1, dt=1.0, steps=3)
    np.testing.assert_array_equal(u0, before)
    np.testing.assert_array_equal(k, kbefore)


@pytest.mark.parametrize("shape", [(50,), (9, 9), (5, 6, 7), (20_000,), (200, 130), (40, 24, 24)])
@pytest.mark.parametrize("steps", [0, 1, 7, 40])
def test_the_first_step_reads_the_input_in_place_and_never_writes_it(rng, shape, steps):
    """Small grids (one step per call) and large ones (fused sweeps), explicit, kernel and implicit steps:
    the input is read where it lies, left as it was, and the result never shares its memory."""
    g = Grid(shape, boundary="reflecting")
    u0 = rng.random(shape)
    before = u0.copy()
    k = np.ones((3,) * len(shape)) / 3 ** len(shape)
    results = [explicit.diffuse(u0, g, diffusivity=0.1, dt=1.0, steps=steps),
               explicit.propagate(u0, "reflecting", kernel=k, steps=steps),
               implicit.diffuse(u0, g, diffusivity=0.1, dt=1.0, steps=steps),
               explicit.diffuse(u0, g, diffusivity=0.1, dt=1.0, steps=steps, save_every=3).frames[-1]]
    np.testing.assert_array_equal(u0, before)
    for got in results:
        assert not np.shares_memory(got, u0)
    if steps == 0:
        for got in results:
            np.testing.assert_array_equal(got, u0)
    if steps == 40:  # two calls of 20 steps: the same field as one of 40, whichever path ran
        half = explicit.diffuse(explicit.diffuse(u0, g, diffusivity=0.1, dt=1.0, steps=20), g, diffusivity=0.1,
                                dt=1.0, steps=20)
        assert np.array_equal(results[0], half)


@pytest.mark.parametrize(
    "call, error, words",
    [
        (lambda: explicit.propagate(np.ones(5), kernel=np.ones(4) / 4, steps=1), KernelError, "odd size"),
        (lambda: explicit.propagate(np.ones(3), "reflecting", kernel=np.ones(9) / 9, steps=1), KernelError,
         "reaches 4 cells"),
        (lambda: explicit.propagate([1.0, np.nan, 1.0], kernel=[0.5, 0, 0.5], steps=1), ValueError, "NaN"),
        (lambda: explicit.diffuse(np.ones(4), Grid(4), diffusivity=0.1, dt=1.0, steps=-1), ValueError, "steps"),
        (lambda: explicit.diffuse(np.ones(4), Grid(4), diffusivity=0.1, dt=1.0, steps=2, save_every=0), ValueError,
         "save_every"),
        (lambda: explicit.diffuse(np.ones(4), Grid(4), diffusivity=-0.1, dt=1.0, steps=2), KernelError, "diffusivity"),
    ],
)
def test_bad_input_is_refused(call, error, words):
    with pytest.raises(error, match=words):
        call()


# --- convergence to the continuous solution ------------------------------------------------------

def _convergence_order(make_grid, u0_of, T=1 / 64, D=1.0):
    """Fit log(error) against log(dx) for FTCS (r = 1/4 per axis-sum) vs the heat solution."""
    errs, dxs = [], []
    for n in (16, 32, 64, 128):
        g = make_grid(n)
        u0 = u0_of(g)
        dt = 0.25 / (D * sum(1 / d**2 for d in g.spacing))
        steps = round(T / dt)
        assert abs(steps * dt - T) < 1e-12
        ue = explicit.diffuse(u0, g, diffusivity=D, dt=dt, steps=steps)
        ug = spectral.heat(u0, g, diffusivity=D, time=T)
        errs.append(np.abs(ue - ug).max())
        dxs.append(g.spacing[-1])
    return np.polyfit(np.log(dxs), np.log(errs), 1)[0]


def _bump(g):
    c = g.coords()
    return 1 + np.exp(np.cos(2 * np.pi * c["x"]))


def test_ftcs_converges_to_the_heat_solution_at_second_order_in_1d():
    order = _convergence_order(lambda n: Grid((n,), 1.0 / n, "periodic"), _bump)
    assert 1.8 <= order <= 2.2


def test_ftcs_converges_at_second_order_in_2d_anisotropic_reflecting():
    def u0(g):
        y, x = np.meshgrid(g.coords()["y"], g.coords()["x"], indexing="ij")
        return np.cos(np.pi * x / 2) * np.cos(2 * np.pi * y) + 0.5 * np.cos(3 * np.pi * x / 2)

    order = _convergence_order(lambda n: Grid((n, 2 * n), (1.0 / n, 1.0 / n), "reflecting"), u0)
    assert 1.8 <= order <= 2.2


def test_ftcs_converges_at_second_order_with_dirichlet_walls():
    def u0(g):
        x = g.coords()["x"]
        return 1.0 + np.sin(np.pi * x) + 0.3 * np.sin(3 * np.pi * x)

    order = _convergence_order(lambda n: Grid((n,), 1.0 / n, "dirichlet", 1.0), u0)
    assert 1.8 <= order <= 2.2


@pytest.mark.parametrize("shape, serial", [((200,), True), ((64, 64), True), ((128, 256), False)])
def test_small_grids_run_on_one_thread_with_the_same_result(monkeypatch, shape, serial):
    """No parallel region per step for small grids (robust to a busy machine); bit-identical either way."""
    import numba

    from physconv.solvers import _loops

    seen = []

    def spying(original):
        def spy(*args):
            seen.append(numba.get_num_threads())
            return original(*args)
        return spy

    for name in ("ftcs_steps", "ftcs_blocked"):  # the one-step loop, or fused steps on large 2-D grids
        monkeypatch.setattr(_loops, name, spying(getattr(_loops, name)))
    g = Grid(shape, boundary="reflecting")
    u0 = np.random.default_rng(0).random(shape)
    got = explicit.diffuse(u0, g, diffusivity=0.2, dt=1.0, steps=7)
    assert seen and all((n == 1) == serial for n in seen)
    assert numba.get_num_threads() == numba.config.NUMBA_NUM_THREADS  # restored
    monkeypatch.undo()
    with_all = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        np.testing.assert_array_equal(got, explicit.diffuse(u0, g, diffusivity=0.2, dt=1.0, steps=7))
    finally:
        numba.set_num_threads(with_all)


WALLS = [("periodic", None), ("reflecting", None), ("absorbing", None), ("dirichlet", 0.7)]


def _fused_and_one_step(g, u, D, dt, steps, k, band):
    """The fused loop (k steps per call, bands of ``band`` planes) and the one-step loop, step by step."""
    from physconv.solvers import _loops
    from physconv.solvers.explicit import _ftcs_tables, banded

    r = kernels.ftcs_numbers(D, dt, g.spacing)
    r3, tables = _ftcs_tables(g.shape, g.boundaries, r)
    one = u.reshape(explicit._pad3(u.shape)).copy()
    for _ in range(steps):
        out = np.empty_like(one)
        _loops.ftcs_step(one, out, r3, *tables)
        one = out
    shape, r3, tables, periodic = banded(g, r)
    rows = (shape[0] * shape[1], shape[2])
    a, b = u.reshape(rows).copy(), np.empty(rows, dtype=u.dtype)
    ring = np.empty((-(-shape[0] // band) * k * 3 * shape[1], shape[2]), dtype=u.dtype)
    done = 0
    while done < steps:
        kk = min(k, steps - done)
        _loops.ftcs_blocked(a, b, shape[1], kk, band, ring, r3, *tables, periodic)
        a, b, done = b, a, done + kk
    return a.reshape(u.shape), one.reshape(u.shape)


@pytest.mark.parametrize("boundary, value", WALLS + [({"y": "absorbing", "x": "periodic"}, None),
                                                     ({"y": "periodic", "x": "dirichlet"}, -0.3),
                                                     ({"y": "dirichlet", "x": "reflecting"}, 2.0)])
@pytest.mark.parametrize("shape, k, band", [((130, 127), 8, 20), ((200, 64), 16, 37), ((96, 200), 5, 96),
                                            ((64, 64), 1, 16), ((17, 40), 8, 17)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_temporal_blocking_is_bit_identical_to_the_one_step_loop(boundary, value, shape, k, band, dtype):
    """k fused steps per sweep in bands with halos: the same numbers to the last bit, any k, any band, any wall,
    in float64 and with float32 storage (every level rounded as the one-step loop rounds every step); halos that
    wrap around a periodic axis by up to half of it (17 rows, k = 8)."""
    g = Grid(shape, spacing=(1.0, 0.8), boundary=boundary, boundary_value=value)
    u = np.random.default_rng(3).random(shape).astype(dtype)
    steps = 2 * k + 3
    fused, one = _fused_and_one_step(g, u, 0.2, 0.7, steps, k, band)
    assert np.array_equal(fused, one)
    if explicit.temporal_blocking(shape) is None:
        assert np.array_equal(explicit.diffuse(u, g, diffusivity=0.2, dt=0.7, steps=steps, dtype=dtype), one)


@pytest.mark.parametrize("boundary, value", WALLS + [({"y": "absorbing", "x": "periodic"}, None),
                                                     ({"y": "periodic", "x": "dirichlet"}, -0.3)])
@pytest.mark.parametrize("shape, kernel_shape, k, band", [((130, 127), (3, 3), 8, 20), ((200, 64), (3, 5), 16, 37),
                                                          ((96, 41), (3, 1), 5, 96), ((64, 9), (3, 7), 1, 16),
                                                          ((31, 200), (3, 3), 6, 4)])
def test_fused_kernel_steps_are_bit_identical_to_one_step_per_sweep(monkeypatch, boundary, value, shape, kernel_shape,
                                                                    k, band):
    """Kernels of three rows fused k steps per sweep in bands (rings of three rows per level): the same numbers
    to the last bit, any wall, any k and band (bands thinner than the halo too), asymmetric kernels."""
    kern = kernels.softmax(np.random.default_rng(6).normal(size=kernel_shape))
    u = np.random.default_rng(7).random(shape)
    kw = dict(kernel=kern, boundary_value=value, steps=3 * k + 2, save_every=k + 1)
    monkeypatch.setattr(explicit, "kernel_blocking", lambda s, ks: None)
    one = explicit.propagate(u, boundary, **kw)
    monkeypatch.setattr(explicit, "kernel_blocking", lambda s, ks: (k, band))
    fused = explicit.propagate(u, boundary, **kw)
    assert np.array_equal(fused.frames, one.frames)


def test_kernels_of_three_rows_on_large_planes_are_fused():
    assert explicit.kernel_blocking((1024, 1024), (3, 3)) is not None
    assert explicit.kernel_blocking((1024, 1024), (3, 7)) is not None
    assert explicit.kernel_blocking((1024, 1024), (5, 5)) is None  # compute-bound: no gain, more halo
    assert explicit.kernel_blocking((64, 64), (3, 3)) is None  # small: one thread, step by step
    assert explicit.kernel_blocking((64, 64, 64), (3, 3, 3)) is None


@pytest.mark.parametrize("boundary, value", WALLS + [({"z": "periodic", "y": "dirichlet", "x": "absorbing"}, 0.4),
                                                     ({"z": "dirichlet", "y": "reflecting", "x": "periodic"}, -1.0),
                                                     ({"z": "absorbing", "y": "periodic", "x": "reflecting"}, None)])
@pytest.mark.parametrize("shape, k, band", [((23, 17, 13), 3, 7), ((40, 9, 21), 8, 40), ((12, 12, 12), 2, 5)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_3d_temporal_blocking_is_bit_identical_to_the_one_step_loop(boundary, value, shape, k, band, dtype):
    """The same fused loop on 3-D grids, banded by planes: every wall on every axis, bands that do not divide."""
    g = Grid(shape, spacing=(0.9, 1.0, 1.2), boundary=boundary, boundary_value=value)
    u = np.random.default_rng(5).random(shape).astype(dtype)
    fused, one = _fused_and_one_step(g, u, 0.1, 0.8, 2 * k + 1, k, band)
    assert np.array_equal(fused, one)


@pytest.mark.parametrize("boundary, value", WALLS + [("dirichlet", -1.3)])
@pytest.mark.parametrize("n, k, band", [(1000, 7, 64), (257, 16, 40), (50, 3, 50), (9, 4, 4), (3000, 64, 4096)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_1d_temporal_blocking_is_bit_identical_to_the_one_step_loop(boundary, value, n, k, band, dtype):
    """1-D: bands stepped k times in their own windows; any band (also wider than the grid, or narrower
    than the halo), any wall, both dtypes."""
    from physconv.solvers import _loops
    from physconv.solvers.explicit import _ftcs_tables

    g = Grid((n,), spacing=0.9, boundary=boundary, boundary_value=value)
    u = np.random.default_rng(6).random(n).astype(dtype)
    r = kernels.ftcs_numbers(0.3, 0.8, g.spacing)
    r3, tables = _ftcs_tables(g.shape, g.boundaries, r)
    steps = 2 * k + 5
    one = u.reshape(1, 1, n).copy()
    for _ in range(steps):
        out = np.empty_like(one)
        _loops.ftcs_step(one, out, r3, *tables)
        one = out
    a, b = u.copy(), np.empty_like(u)
    scratch = np.empty((-(-n // band), 2, band + 2 * k), dtype=dtype)
    done = 0
    while done < steps:
        kk = min(k, steps - done)
        _loops.ftcs_blocked_1d(a, b, kk, band, scratch, r[0], *tables[4:], boundary == "periodic")
        a, b, done = b, a, done + kk
    assert np.array_equal(a, one.reshape(n))


@pytest.mark.parametrize("shape", [(300, 260), (40, 36, 30), (70_001,)])
def test_large_grids_fuse_steps_and_give_the_same_field(shape, monkeypatch):
    g = Grid(shape, boundary="reflecting")
    assert explicit.temporal_blocking(g.shape) is not None
    u = np.random.default_rng(4).random(g.shape)
    D = {1: 0.4, 2: 0.2, 3: 0.1}[len(shape)]
    fused = explicit.diffuse(u, g, diffusivity=D, dt=1.0, steps=37, save_every=10)
    np.testing.assert_array_equal(fused.frames[-1], explicit.diffuse(u, g, diffusivity=D, dt=1.0, steps=37))
    with monkeypatch.context() as m:
        m.setattr(explicit, "temporal_blocking", lambda *a: None)
        np.testing.assert_array_equal(fused.frames, explicit.diffuse(u, g, diffusivity=D, dt=1.0, steps=37,
                                                                     save_every=10).frames)
    np.testing.assert_allclose(fused.frames, spectral.diffuse(u, g, diffusivity=D, dt=1.0, steps=fused.steps),
                               atol=1e-12)


@pytest.mark.parametrize("shape, boundary, value, D", [
    ((300, 260), "reflecting", None, 0.2), ((500,), "dirichlet", 1.5, 0.2), ((500,), "dirichlet", -2.0, 0.5),
    ((24, 20, 18), "absorbing", None, 0.1), ((130, 140), {"y": "periodic", "x": "dirichlet"}, -0.4, 0.25)])
def test_float32_storage_stays_within_its_round_off_bound(shape, boundary, value, D):
    """|u32 - u64| <= (n + 1) 2**-24 (max|u0 - c| + |c|) at every saved step; float32 frames; the fused 2-D loop
    (300 x 260) included; D = 0.5 in 1-D makes the centre weight next to a dirichlet wall negative. The bound is
    not loose by orders: the difference exceeds 1e-3 of it."""
    g = Grid(shape, boundary=boundary, boundary_value=value)
    u = np.random.default_rng(5).random(shape) * 3.0
    f32 = explicit.diffuse(u, g, diffusivity=D, dt=1.0, steps=60, save_every=20, dtype="float32")
    f64 = explicit.diffuse(u, g, diffusivity=D, dt=1.0, steps=60, save_every=20)
    assert f32.frames.dtype == np.float32
    for n, a, b in zip(f32.steps, f32.frames, f64.frames):
        diff = np.abs(a.astype(float) - b).max()
        bound = explicit.float32_bound(u, int(n), value or 0.0)
        assert diff <= bound
        assert n == 0 or diff > 1e-3 * bound
    with pytest.raises(ValueError, match="dtype must be one of float64, float32"):
        explicit.diffuse(u, g, diffusivity=D, dt=1.0, steps=1, dtype="float16")

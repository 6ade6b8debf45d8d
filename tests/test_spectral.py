"""Spectral: the eigenbasis of each boundary, exact n-step propagators and the heat solution."""

import numpy as np
import pytest

from physconv import kernels, spectral
from physconv.boundary import resolve
from physconv.errors import KernelError
from physconv.grid import Grid

from .reference import ftcs_matrix, second_difference

KINDS = ["periodic", "reflecting", "absorbing", "dirichlet"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("n", [1, 2, 7, 16])
def test_eigenvalues_are_those_of_the_ghost_cell_second_difference(kind, n):
    A, _ = second_difference(n, kind)
    np.testing.assert_allclose(np.sort(spectral.eigenvalues(n, kind)), np.sort(np.linalg.eigvals(A).real), atol=1e-12)


@pytest.mark.parametrize("kind", KINDS)
def test_basis_vectors_are_eigenvectors(kind):
    n = 9
    bcs = resolve(kind, 1, 0.0 if kind == "dirichlet" else None)
    A, _ = second_difference(n, kind)
    lam = spectral.eigenvalues(n, kind)
    for k in range(n):
        c = np.zeros(n, dtype=complex if kind == "periodic" else float)
        c[k] = 1.0
        v = spectral.inverse(c, bcs, (n,)) if kind != "periodic" else np.fft.ifft(c) * np.sqrt(n)
        np.testing.assert_allclose(A @ v, lam[k] * v, atol=1e-12)


@pytest.mark.parametrize("boundary", ["periodic", "reflecting", "absorbing", ("dirichlet", "periodic", "reflecting")])
def test_transforms_are_orthonormal_and_invert(rng, boundary):
    bcs = resolve(boundary, 3, 0.0 if "dirichlet" in boundary else None)
    u = rng.random((4, 5, 6))
    c = spectral.forward(u, bcs)
    weight = np.ones(c.shape)  # periodic: the last periodic axis keeps modes 0..n//2; the others count twice
    periodic = [a for a, b in enumerate(bcs) if b.kind == "periodic"]
    if periodic:
        a, n = periodic[-1], u.shape[periodic[-1]]
        twice = np.full(c.shape[a], 2.0)
        twice[0] = 1.0
        if n % 2 == 0:
            twice[-1] = 1.0
        weight = weight * twice.reshape([-1 if i == a else 1 for i in range(u.ndim)])
    assert np.sum(weight * np.abs(c) ** 2) == pytest.approx(np.sum(u**2), rel=1e-12)  # Parseval
    np.testing.assert_allclose(spectral.inverse(c, bcs, u.shape), u, atol=1e-13)


@pytest.mark.parametrize(
    "boundary, value",
    [("periodic", None), ("reflecting", None), ("absorbing", None), ("dirichlet", 0.7),
     ({"y": "dirichlet", "x": "absorbing"}, -0.3), ({"y": "periodic", "x": "reflecting"}, None)],
)
def test_diffuse_equals_the_matrix_power_of_one_ftcs_step(rng, boundary, value):
    shape, spacing, D, dt, n = (5, 6), (1.0, 0.7), 0.3, 0.4, 23
    M, c = ftcs_matrix(shape, spacing, boundary, D, dt, value)
    g = Grid(shape, spacing, boundary, value)
    got = spectral.diffuse(_u0(shape), g,
                           diffusivity=D, dt=dt, steps=n)
    ref = _u0(shape).ravel()
    for _ in range(n):
        ref = M @ ref + c
    np.testing.assert_allclose(got, ref.reshape(shape), atol=1e-12)


def _u0(shape):
    return np.random.default_rng(3).random(shape)


def test_diffuse_is_exact_even_beyond_the_stability_limit():
    """The propagator is the exact discrete one, unstable or not: compare with the matrix power."""
    shape, D, dt, n = (8,), 1.0, 0.9, 15  # r = 0.9 > 1/2
    M, _ = ftcs_matrix(shape, (1.0,), "reflecting", D, dt)
    u0 = _u0(shape)
    got = spectral.diffuse(u0, Grid(shape, boundary="reflecting"), diffusivity=D, dt=dt, steps=n)
    np.testing.assert_allclose(got, np.linalg.matrix_power(M, n) @ u0, rtol=1e-9, atol=1e-9)


def test_many_steps_reach_the_steady_states():
    u0 = _u0((6, 7))
    kw = dict(diffusivity=0.2, dt=1.0, steps=10**6)
    refl = spectral.diffuse(u0, Grid((6, 7), boundary="reflecting"), **kw)
    np.testing.assert_allclose(refl, u0.mean(), rtol=1e-12)
    np.testing.assert_allclose(spectral.diffuse(u0, Grid((6, 7), boundary="absorbing"), **kw), 0, atol=1e-300)
    np.testing.assert_allclose(spectral.diffuse(u0, Grid((6, 7), boundary="dirichlet", boundary_value=2.5), **kw),
                               2.5, rtol=1e-12)


def test_a_list_of_steps_gives_the_same_frames_as_separate_calls():
    g = Grid((9, 4), boundary={"y": "dirichlet", "x": "periodic"}, boundary_value=1.0)
    u0 = _u0(g.shape)
    frames = spectral.diffuse(u0, g, diffusivity=0.1, dt=1.0, steps=[0, 3, 40])
    for f, n in zip(frames, [0, 3, 40]):
        np.testing.assert_allclose(f, spectral.diffuse(u0, g, diffusivity=0.1, dt=1.0, steps=n), atol=1e-15)
    np.testing.assert_allclose(frames[0], u0, atol=1e-15)


def test_kernel_propagation_of_the_ftcs_kernel_equals_diffuse():
    g = Grid((10, 12), spacing=(1.0, 0.6), boundary={"y": "absorbing", "x": "dirichlet"}, boundary_value=0.4)
    k = kernels.ftcs(0.1, 0.5, g.spacing)
    u0 = _u0(g.shape)
    np.testing.assert_allclose(spectral.propagate(u0, g, kernel=k, steps=30),
                               spectral.diffuse(u0, g, diffusivity=0.1, dt=0.5, steps=30), atol=1e-13)


@pytest.mark.parametrize(
    "boundary, kernel, words",
    [
        ("reflecting", np.array([0.2, 0.3, 0.5]), "symmetric along reflecting"),
        ("dirichlet", np.array([0.2, 0.3, 0.5]), "symmetric along dirichlet"),
        ("absorbing", np.ones(5) / 5, "width 3"),
        ("reflecting", np.ones(21) / 21, "reaches 10 cells"),
    ],
)
def test_kernels_beyond_the_exact_limits_are_refused(boundary, kernel, words):
    with pytest.raises(KernelError, match=words):
        spectral.propagate(np.ones(8), boundary, kernel=kernel, boundary_value=0.0 if boundary == "dirichlet" else None,
                           steps=2)


def test_asymmetric_kernels_are_fine_on_periodic_axes_mixed_with_reflecting(rng):
    """Symmetric along y (reflecting), skewed along x (periodic): still diagonal in DCT x DFT."""
    w = rng.random((3, 5))
    w = w + w[::-1]
    k = w / w.sum()
    u0 = rng.random((8, 11))
    from physconv.solvers import explicit

    got = spectral.propagate(u0, {"y": "reflecting", "x": "periodic"}, kernel=k, steps=17)
    ref = explicit.propagate(u0, {"y": "reflecting", "x": "periodic"}, kernel=k, steps=17)
    np.testing.assert_allclose(got, ref, atol=1e-12)


# --- heat solution -------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "kind, mode",
    [
        ("periodic", lambda x, L, dx: (np.cos(2 * np.pi * 3 * x / L), 2 * np.pi * 3 / L)),
        ("reflecting", lambda x, L, dx: (np.cos(np.pi * 2 * x / L), np.pi * 2 / L)),
        ("dirichlet", lambda x, L, dx: (np.sin(np.pi * 2 * x / L), np.pi * 2 / L)),
        ("absorbing", lambda x, L, dx: (np.sin(np.pi * 2 * (x + dx / 2) / (L + dx)), np.pi * 2 / (L + dx))),
    ],
)
def test_heat_decays_each_boundary_mode_like_the_continuous_equation(kind, mode):
    """A basis mode of wave number q decays as exp(-D q^2 t) (sigma >= 3 cells: aliases < 1e-30)."""
    n, dx, D, t = 64, 0.5, 0.7, 10.0
    g = Grid((n,), dx, kind, 0.0 if kind == "dirichlet" else None)
    x = g.coords()["x"]
    u0, q = mode(x, n * dx, dx)
    np.testing.assert_allclose(spectral.heat(u0, g, diffusivity=D, time=t), np.exp(-D * q**2 * t) * u0, atol=1e-13)


def test_heat_of_a_point_source_is_the_sampled_gaussian():
    g = Grid((201,), 1.0, "periodic")
    u0 = np.zeros(201)
    u0[100] = 1.0
    D, t = 0.5, 20.0
    x = np.arange(201) - 100
    expected = np.exp(-(x**2) / (4 * D * t)) / np.sqrt(4 * np.pi * D * t)
    np.testing.assert_allclose(spectral.heat(u0, g, diffusivity=D, time=t), expected, atol=1e-15)


@pytest.mark.parametrize("boundary", ["periodic", "reflecting", {"y": "periodic", "x": "reflecting"}])
def test_heat_conserves_mass(boundary):
    g = Grid((13, 17), spacing=(0.3, 1.1), boundary=boundary)
    u0 = _u0(g.shape)
    u = spectral.heat(u0, g, diffusivity=0.25, time=[0.01, 1.0, 100.0])
    np.testing.assert_allclose(u.sum(axis=(1, 2)), u0.sum(), rtol=1e-12)


def test_heat_at_time_zero_is_the_initial_field_and_dirichlet_tends_to_the_wall_value():
    g = Grid((7, 5), boundary="dirichlet", boundary_value=-1.5)
    u0 = _u0(g.shape)
    f0, flate = spectral.heat(u0, g, diffusivity=1.0, time=[0.0, 1e4])
    np.testing.assert_allclose(f0, u0, atol=1e-14)
    np.testing.assert_allclose(flate, -1.5, atol=1e-12)


def test_heat_refuses_absorbing_mixed_with_a_nonzero_wall_value():
    g = Grid((4, 4), boundary={"y": "absorbing", "x": "dirichlet"}, boundary_value=1.0)
    with pytest.raises(ValueError, match="absorbing"):
        spectral.heat(np.zeros(g.shape), g, diffusivity=1.0, time=1.0)


def test_heat_with_a_diffusivity_per_axis_decays_each_axis_at_its_own_rate():
    g = Grid((32, 24), spacing=(0.5, 1.0), boundary="periodic")
    y, x = np.meshgrid(g.coords()["y"], g.coords()["x"], indexing="ij")
    qy, qx = 2 * np.pi * 2 / 16.0, 2 * np.pi / 24.0
    u0 = np.cos(qy * y) * np.cos(qx * x)
    got = spectral.heat(u0, g, diffusivity=(0.3, 1.2), time=40.0)
    np.testing.assert_allclose(got, np.exp(-(0.3 * qy**2 + 1.2 * qx**2) * 40.0) * u0, atol=1e-13)


@pytest.mark.parametrize("n", [1, 2, 3, 10, 999, 10**6])
@pytest.mark.parametrize("complex_g", [False, True])
def test_power_is_the_correctly_rounded_power_to_the_accuracy_of_n_log_g(n, complex_g):
    """G**n = exp(n log G): relative error a few ulps of |n log G| against numpy's pow, and exactly 0 for 0."""
    rng = np.random.default_rng(n)
    G = np.concatenate([rng.uniform(-1, 1, 500), [0.0, 1.0, -1.0, 0.5, -0.5]])
    if complex_g:
        G = G * np.exp(1j * rng.uniform(0, 2 * np.pi, G.size))
    got = spectral.power(G, n)
    exact = np.power(np.abs(G), n) * np.exp(1j * n * np.angle(G)) if complex_g else np.power(G, n)
    with np.errstate(divide="ignore", invalid="ignore"):  # log 0
        size = np.abs(n * np.log(G.astype(complex)))  # |n log G|, the phase n arg G included
    live = np.abs(exact) > 1e-300
    err = np.abs(got[live] - exact[live]) / np.abs(exact[live])
    assert np.all(err <= 8 * np.finfo(float).eps * (1 + size[live])), err.max()
    assert np.all(np.abs(got[~live]) <= 1e-299)
    assert got[G == 0].tolist() == [0.0]


@pytest.mark.parametrize("block", [1, 7, 64, 513, 10**6])
@pytest.mark.parametrize("shape", [(1000,), (9, 40), (6, 5, 11)])
def test_blocks_of_modes_give_the_same_field_bit_for_bit(monkeypatch, block, shape):
    """Rows grouped, rows split, one block or one per mode, on any number of threads: the same numbers."""
    from physconv import _modes

    rng = np.random.default_rng(1)
    u0 = rng.random(shape)
    for wall in ("periodic", "reflecting", {"x": "absorbing"} if len(shape) == 1 else "absorbing"):
        g = Grid(shape, boundary=wall)
        G = rng.uniform(-1.1, 1.1, spectral.forward_shape(shape, g.boundaries))
        whole = [spectral.diffuse(u0, g, diffusivity=0.2, dt=1.0, steps=[0, 3, 700]),
                 spectral.evolve(u0, G, g.boundaries, [5, 2000])]
        monkeypatch.setattr(_modes, "BLOCK", block)
        blocked = [spectral.diffuse(u0, g, diffusivity=0.2, dt=1.0, steps=[0, 3, 700]),
                   spectral.evolve(u0, G, g.boundaries, [5, 2000])]
        monkeypatch.undo()
        for a, b in zip(whole, blocked):
            assert np.array_equal(a, b)


@pytest.mark.parametrize("n", [2, 3, 8, 9, 1000, 1023])
def test_periodic_modes_k_and_n_minus_k_have_the_same_eigenvalue_to_the_last_bit(n):
    lam = spectral.eigenvalues(n, "periodic")
    assert np.array_equal(lam[1:], lam[1:][::-1])
    np.testing.assert_allclose(lam, 2 * np.cos(2 * np.pi * np.arange(n) / n) - 2, atol=1e-13)


@pytest.mark.parametrize("block", [1, 5, 64, 10**6])
@pytest.mark.parametrize("groups, per_group, cols", [(1, 7, 9), (2, 3, 4), (7, 1, 13), (8, 3, 5), (9, 20, 3)])
@pytest.mark.parametrize("complex_g", [False, True])
def test_mirrored_groups_of_modes_get_the_powers_of_their_images(monkeypatch, block, groups, per_group, cols,
                                                                complex_g):
    """With factors repeating as group g = group (N - g) % N, computing the powers for half the groups and
    using them for the images gives the numbers of the whole computation bit for bit, and c * G**n."""
    from physconv import _modes

    rng = np.random.default_rng(groups * 100 + per_group)
    half = rng.uniform(-1.05, 1.05, (groups, per_group, cols))
    if complex_g:
        half = half * np.exp(1j * rng.uniform(0, 2 * np.pi, half.shape))
    g = np.arange(groups)
    G = half[np.minimum(g, (groups - g) % groups)].reshape(groups * per_group, cols)  # mirror-symmetric
    c = rng.normal(size=G.shape) + 1j * rng.normal(size=G.shape)
    monkeypatch.setattr(_modes, "BLOCK", block)
    for n in (1, 4, 999):
        whole, mirrored = np.empty_like(c), np.full_like(c, np.nan)
        _modes.scale(whole, c, lambda i0, i1, j0, j1, scratch: G[i0:i1, j0:j1], n)
        _modes.scale(mirrored, c, lambda i0, i1, j0, j1, scratch: G[i0:i1, j0:j1], n, mirror=groups)
        assert np.array_equal(whole, mirrored)
        np.testing.assert_allclose(mirrored, c * G.astype(complex) ** n, rtol=1e-11, atol=1e-300)


def _on_every_pool_thread(fn):
    """Run ``fn()`` once on each thread of the modes' pool (a barrier holds each one until all have a task)."""
    import os
    import threading

    from physconv import _modes

    if _modes._pool is None:
        return
    n = os.cpu_count() or 1
    barrier = threading.Barrier(n)
    list(_modes._pool.map(lambda _: (barrier.wait(), fn()), range(n)))


@pytest.mark.parametrize("block", [40, 10**6])  # many blocks on the pool's threads; one, on the calling thread
@pytest.mark.parametrize("complex_g", [False, True])
@pytest.mark.parametrize("mirror", [1, 4])
def test_the_scratch_of_the_modes_is_kept_between_calls_and_what_it_held_never_shows(monkeypatch, block,
                                                                                    complex_g, mirror):
    """Each thread computes its blocks in one scratch array taken from the workspace and given back: the
    next call uses that very array again, and whatever it holds (NaN here) does not change a bit."""
    from physconv import _modes
    from physconv.solvers import workspace

    rng = np.random.default_rng(7)
    half = rng.uniform(-1.05, 1.05, (3, 5, 16))
    if complex_g:
        half = half * np.exp(1j * rng.uniform(0, 2 * np.pi, half.shape))
    G = half[[0, 1, 2, 1]].reshape(20, 16) if mirror == 4 else half.reshape(15, 16)
    c = rng.normal(size=G.shape)
    monkeypatch.setattr(_modes, "BLOCK", block)

    def factor(i0, i1, j0, j1, scratch):  # as spectral.diffuse: computed into the scratch when real
        if complex_g:
            return G[i0:i1, j0:j1]
        scratch[...] = G[i0:i1, j0:j1]
        return scratch

    def poison():
        for a in workspace.held():
            a.fill(np.nan)
        return [id(a) for a in workspace.held()]

    workspace.release()
    first = np.empty_like(c, dtype=G.dtype)
    _modes.scale(first, c, factor, 7, mirror)
    kept = poison()
    _on_every_pool_thread(poison)
    again = np.full_like(first, np.nan)
    _modes.scale(again, c, factor, 7, mirror)
    assert np.array_equal(first, again)
    np.testing.assert_allclose(again, c * G.astype(complex) ** 7, rtol=1e-12, atol=1e-300)
    if block > G.size:  # one block, computed here: this thread's kept array was the one used
        assert [id(a) for a in workspace.held()] == kept and len(kept) == 1
        computed = G.size if mirror == 1 else 3 * 5 * 16  # mirrored: groups 0, 1, 2 only (3 is 1's image)
        assert workspace.held()[0].size == 4 * computed
    workspace.release()


def test_groups_that_do_not_divide_the_rows_are_refused():
    from physconv import _modes

    c = np.ones((6, 2))
    with pytest.raises(ValueError, match="equal groups"):
        _modes.scale(c, c, lambda i0, i1, j0, j1, scratch: c[i0:i1, j0:j1], 2, mirror=4)


@pytest.mark.parametrize("shape, wall", [((12, 10), "periodic"), ((7, 6, 5), "periodic"),
                                         ((9, 8), {"y": "periodic", "x": "reflecting"}),
                                         ((6, 7), {"y": "absorbing", "x": "periodic"})])
def test_diffuse_with_a_periodic_first_axis_halves_the_powers_and_changes_no_bit(monkeypatch, shape, wall):
    from physconv import _modes

    g = Grid(shape, boundary=wall)
    u0 = np.random.default_rng(3).random(shape)
    seen = []
    scale = _modes.scale
    monkeypatch.setattr(_modes, "scale", lambda *a, **k: seen.append(a[4]) or scale(*a, **k))
    mirrored = spectral.diffuse(u0, g, diffusivity=0.2, dt=1.0, steps=[2, 50])
    monkeypatch.setattr(spectral, "_mirror", lambda rows, grid: 1)
    plain = spectral.diffuse(u0, g, diffusivity=0.2, dt=1.0, steps=[2, 50])
    assert np.array_equal(mirrored, plain)
    periodic_first = g.boundaries[0].kind == "periodic" and g.ndim > 1 and g.boundaries[-1].kind == "periodic"
    assert seen[0] == (shape[0] if periodic_first else 1)

"""physconv.inverse.kernel_fit: a step kernel learned from frames (a one-layer linear CNN in closed form)
is the kernel that made them, and reads back as its propagator."""

import warnings

import numpy as np
import pytest

from physconv import kernels
from physconv.inverse import InverseError, make
from physconv.inverse.kernel_fit import learn
from physconv.solvers import explicit


def frames_of(kernel, u0, walls, steps, noise=0.0, rng=None):
    tr = explicit.propagate(u0, walls, kernel=kernel, steps=steps, save_every=1)
    data = tr.frames if not noise else tr.frames + noise * rng.standard_normal(tr.frames.shape)
    return make(data, np.arange(steps + 1, dtype=float), 1.0, walls)


@pytest.mark.parametrize("walls", ["reflecting", "periodic", "absorbing"])
def test_the_ftcs_kernel_is_learned_to_round_off_from_noise_free_frames(rng, walls):
    k = kernels.ftcs(0.17, 1.0, 1.0, 2)
    fit = learn(frames_of(k, rng.random((40, 52)), walls, 3), 3)
    assert np.abs(fit.kernel - k).max() < 1e-10
    assert np.allclose(fit.reading["D_eff"], [0.17, 0.17], atol=1e-10)
    assert np.abs(fit.reading["velocity"]).max() < 1e-10


def test_the_softmax_edge_kernel_is_learned_and_read_as_a_slow_propagator(rng):
    k = kernels.softmax(kernels.named("edge"))
    fit = learn(frames_of(k, rng.random((48, 40)), "reflecting", 4), 3)
    assert np.abs(fit.kernel - k).max() < 1e-10
    want = kernels.moments(k).diffusivity
    assert np.allclose(fit.reading["D_eff"], np.diag(want), rtol=1e-8)


def test_a_drifting_kernel_is_learned_with_its_drift(rng):
    k = np.array([[0.0, 0.1, 0.0], [0.05, 0.45, 0.3], [0.0, 0.1, 0.0]])
    fit = learn(frames_of(k, rng.random((36, 36)), "periodic", 3), 3)
    assert np.abs(fit.kernel - k).max() < 1e-10
    assert np.allclose(fit.reading["velocity"], kernels.moments(k).velocity, atol=1e-10)


def test_noisy_frames_give_the_kernel_within_its_standard_errors(rng):
    """Each weight within 3 standard errors (9 weights: a right answer fails this 2.4 % of the time; the
    seed is fixed)."""
    k = kernels.ftcs(0.2, 1.0, 1.0, 2)
    fit = learn(frames_of(k, rng.random((96, 80)), "reflecting", 6, noise=0.01, rng=rng), 3)
    z = (fit.kernel - k) / fit.stderr
    assert np.abs(z).max() < 3
    assert abs(fit.sigma - 0.01) < 0.05 * 0.01
    assert abs(fit.kernel.sum() - 1) < 1e-12


def test_noise_in_the_earlier_frame_does_not_shrink_the_kernel(rng):
    """Without the errors-in-variables correction the weights shrink towards the centre (the classic
    attenuation of least squares with a noisy regressor); with it the off-centre weights stay within 3
    standard errors. The uncorrected estimate misses by many of them on the same frames."""
    k = kernels.ftcs(0.2, 1.0, 1.0, 2)
    frames = frames_of(k, rng.random((96, 96)), "periodic", 6, noise=0.05, rng=rng)
    fit = learn(frames, 3)
    assert np.abs((fit.kernel - k) / fit.stderr).max() < 3
    from physconv.inverse import kernel_fit

    A, B = frames.data[:-1], frames.data[1:]
    offsets = [(i, j) for i in (-1, 0, 1) for j in (-1, 0, 1)]
    G = sum(kernel_fit._design(a, b, offsets, 1, [False, False])[0].T @ kernel_fit._design(a, b, offsets, 1, [False, False])[0]
            for a, b in zip(A, B))
    b = sum(kernel_fit._design(a, bb, offsets, 1, [False, False])[0].T @ kernel_fit._design(a, bb, offsets, 1, [False, False])[1]
            for a, bb in zip(A, B))
    naive = kernel_fit._solve(G, b, 1, 0.0, 0.0).reshape(3, 3)
    assert abs(naive[1, 0] - k[1, 0]) > 5 * fit.stderr[1, 0]


def test_a_wide_kernel_shows_an_empty_ring_around_a_narrow_step(rng):
    k = kernels.ftcs(0.2, 1.0, 1.0, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit = learn(frames_of(k, rng.random((60, 60)), "reflecting", 4, noise=0.001, rng=rng), 5)
    ring = np.ones((5, 5), bool)
    ring[1:4, 1:4] = False
    assert np.all(np.abs(fit.kernel[ring]) < 3 * fit.stderr[ring] + 1e-12)


def test_frames_further_apart_than_the_kernel_reaches_are_said_in_a_warning(rng):
    k = kernels.gaussian(variance=6.0, ndim=2)  # about 15 cells wide: a 5-wide kernel cannot hold it
    with pytest.warns(UserWarning, match="outermost ring"):
        learn(frames_of(k, rng.random((60, 60)), "periodic", 3, noise=0.001, rng=rng), 5)


@pytest.mark.parametrize("size, match", [(4, "odd"), (0, "odd"), (17, "odd number")])
def test_bad_sizes_are_refused(rng, size, match):
    with pytest.raises(InverseError, match=match):
        learn(make(rng.random((3, 20, 20)), [0, 1, 2]), size)


def test_uneven_frames_and_over_smooth_frames_are_refused(rng):
    with pytest.raises(InverseError, match="evenly spaced"):
        learn(make(rng.random((3, 20, 20)), [0, 1, 3]), 3)
    smooth = np.stack([np.add.outer(np.arange(30.0), np.arange(30.0))] * 2) + 0.1 * rng.standard_normal((2, 30, 30))
    with pytest.raises(InverseError, match="too smooth"):
        learn(make(smooth, [0, 1]), 5)

"""Kernels: FTCS, Gaussian, softmax, named kernels, moments and the central limit theorem."""

import math

import numpy as np
import pytest

from physconv import kernels, spectral
from physconv.errors import KernelError


def test_softmax_of_the_edge_detector_has_the_known_values():
    p = kernels.softmax(kernels.named("edge"))
    assert p[1, 1] == pytest.approx(0.99901, abs=5e-6)
    off = np.delete(p.ravel(), 4)
    np.testing.assert_allclose(off, 1.2329e-4, rtol=5e-5)
    # closed form: e^8 / (e^8 + 8 e^-1)
    assert p[1, 1] == pytest.approx(math.exp(8) / (math.exp(8) + 8 * math.exp(-1)), rel=1e-14)


@pytest.mark.parametrize("temperature", [0.1, 1.0, 7.5])
def test_softmax_is_a_probability_kernel_at_any_temperature(rng, temperature):
    p = kernels.softmax(rng.normal(size=(5, 3)) * 3, temperature)
    assert np.all(p > 0) and p.sum() == pytest.approx(1.0, abs=1e-15)
    kernels.probability(p)


def test_high_temperature_tends_to_uniform_and_low_to_the_argmax():
    w = np.array([1.0, 3.0, 2.0])
    np.testing.assert_allclose(kernels.softmax(w, 1e6), 1 / 3, atol=1e-6)
    np.testing.assert_allclose(kernels.softmax(w, 1e-3), [0, 1, 0], atol=1e-12)


@pytest.mark.parametrize("ndim", [1, 2, 3])
def test_ftcs_kernel_has_stay_and_mesh_ratio_neighbours(ndim):
    spacing = (1.0, 0.5, 2.0)[:ndim]
    k = kernels.ftcs(0.1, 0.2, spacing)
    r = [0.1 * 0.2 / d**2 for d in spacing]
    assert k[(1,) * ndim] == pytest.approx(1 - 2 * sum(r))
    for a in range(ndim):
        for s in (0, 2):
            idx = [1] * ndim
            idx[a] = s
            assert k[tuple(idx)] == pytest.approx(r[a])
    assert k.sum() == pytest.approx(1.0)


def test_ftcs_moments_give_back_the_diffusivity():
    m = kernels.moments(kernels.ftcs(0.3, 0.5, (1.0, 2.0)), spacing=(1.0, 2.0), dt=0.5)
    np.testing.assert_allclose(m.mean, 0, atol=1e-15)
    np.testing.assert_allclose(m.diffusivity, np.diag([0.3, 0.3]), rtol=1e-12)


def test_gaussian_kernel_has_the_heat_kernel_variance():
    k = kernels.gaussian(diffusivity=0.5, time=4.0, spacing=1.0, ndim=2, truncate=8.0)
    m = kernels.moments(k)
    np.testing.assert_allclose(np.diag(m.covariance), 2 * 0.5 * 4.0, rtol=1e-10)
    assert k.shape == (33, 33)


def test_gaussian_weights_are_normalised_over_all_integers_both_ways():
    # the direct sum (sigma < 3) and Poisson summation (sigma >= 3) give the same normaliser
    m = np.arange(-60, 61)
    for sigma in (2.999999, 3.0, 3.000001):
        assert kernels.gaussian_weights(sigma, m).sum() == pytest.approx(1.0, abs=1e-14)


def test_moments_of_a_skewed_kernel():
    k = np.array([0.5, 0.3, 0.2])
    m = kernels.moments(k, spacing=2.0, dt=4.0)
    assert m.mean[0] == pytest.approx(2.0 * (-0.5 + 0.2))
    var = 4.0 * (0.5 + 0.2 - (-0.3) ** 2)
    assert m.covariance[0, 0] == pytest.approx(var)
    assert m.velocity[0] == pytest.approx(-0.6 / 4.0)
    assert m.diffusivity[0, 0] == pytest.approx(var / 8.0)


def test_moments_add_up_under_convolution_powers(rng):
    """n steps: mean n*mu and covariance n*Sigma, exactly."""
    k = kernels.softmax(rng.normal(size=(3, 5)))
    m1 = kernels.moments(k)
    delta = np.zeros((41, 61))
    delta[20, 30] = 1.0
    p = spectral.propagate(delta, "periodic", kernel=k, steps=6)
    mn = kernels.moments(p)  # 41 x 61 is odd-sized with its centre at (20, 30)
    np.testing.assert_allclose(mn.mean, 6 * m1.mean, atol=1e-12)
    np.testing.assert_allclose(mn.covariance, 6 * m1.covariance, atol=1e-11)


@pytest.mark.parametrize("name, ndim", [("box", 1), ("box", 3), ("gaussian", 2), ("identity", 3)])
def test_named_probability_kernels_are_probability_kernels(name, ndim):
    kernels.probability(kernels.named(name, ndim))


def test_named_laplacian_and_sharpen_sum_as_expected():
    assert kernels.named("laplacian", 3).sum() == 0
    assert kernels.named("sharpen").sum() == 1


@pytest.mark.parametrize(
    "call, words",
    [
        (lambda: kernels.check(np.ones((2, 3))), "odd size"),
        (lambda: kernels.check(np.ones((3, 3)) * np.nan), "NaN"),
        (lambda: kernels.check(np.ones((3, 3)), ndim=1), "2 axes"),
        (lambda: kernels.check([["a"]]), "numbers"),
        (lambda: kernels.softmax(np.ones(3), 0.0), "temperature"),
        (lambda: kernels.softmax(np.ones(3), -1.0), "temperature"),
        (lambda: kernels.probability([-0.1, 1.0, 0.1]), "negative"),
        (lambda: kernels.probability([0.2, 0.2, 0.2]), "sums to 0.6"),
        (lambda: kernels.normalize_sum([-1.0, 2.0, 1.0]), "non-negative"),
        (lambda: kernels.normalize([1.0], "max"), "unknown normalisation"),
        (lambda: kernels.named("blur"), "unknown kernel 'blur'"),
        (lambda: kernels.named("edge", 3), "2-D only"),
        (lambda: kernels.gaussian(-1.0), "non-negative"),
        (lambda: kernels.ftcs(-1.0, 1.0, 1.0), "diffusivity"),
    ],
)
def test_bad_kernels_are_refused_with_a_clear_message(call, words):
    with pytest.raises(KernelError, match=words):
        call()


# --- central limit theorem -------------------------------------------------------------------

def _clt_errors(k, ns, size=2049):
    """Max |P_n - Gaussian(n mu, n sigma^2)| / max Gaussian, for the n-fold powers of a 1-D kernel."""
    m = kernels.moments(k)
    mu, var = m.mean[0], m.covariance[0, 0]
    delta = np.zeros(size)
    delta[size // 2] = 1.0
    powers = spectral.propagate(delta, "periodic", kernel=k, steps=list(ns))
    x = np.arange(size) - size // 2
    errs = []
    for n, p in zip(ns, powers):
        g = np.exp(-((x - n * mu) ** 2) / (2 * n * var)) / math.sqrt(2 * math.pi * n * var)
        errs.append(np.abs(p - g).max() / g.max())
    return np.array(errs)


def test_powers_are_the_repeated_convolution():
    k = np.array([0.5, 0.3, 0.2])
    direct = np.array([1.0])
    for _ in range(7):
        direct = np.convolve(direct, k)
    delta = np.zeros(31)
    delta[15] = 1.0
    p = spectral.propagate(delta, "periodic", kernel=k, steps=7)
    np.testing.assert_allclose(p[8:23], direct, atol=1e-15)


@pytest.mark.parametrize(
    "k, slope",
    [
        (np.array([0.5, 0.3, 0.2]), -0.5),  # skewed: error ~ n^-1/2 relative to the peak
        (np.array([0.25, 0.5, 0.25]), -1.0),  # symmetric: the skew term vanishes, error ~ 1/n
        (kernels.softmax(np.array([0.0, 2.0, 1.0, 0.5, -1.0])), -0.5),
    ],
)
def test_convolution_powers_tend_to_the_gaussian_at_the_clt_rate(k, slope):
    ns = 2 ** np.arange(5, 11)  # 32 .. 1024
    errs = _clt_errors(k, ns)
    fitted = np.polyfit(np.log(ns), np.log(errs), 1)[0]
    assert fitted == pytest.approx(slope, abs=0.1)
    assert np.all(np.diff(errs) < 0)


# --- the default rule: a kernel that is already a probability kernel runs as given ----------------

def _probability_kernels():
    rng = np.random.default_rng(7)
    out = [np.array([0.0, 0.3, 0.7]), np.array([[0, 0, 0], [0, 0.5, 0], [0, 0.5, 0]]),
           kernels.named("gaussian", 3)]
    for shape in ((5,), (3, 5), (3, 3, 3)):
        w = rng.random(shape) ** 3
        out.append(w / w.sum())
    return out


def _direct_moments(k):
    """Mean jump and covariance of a kernel by plain sums over its entries (cells, dt = 1)."""
    centre = (np.array(k.shape) - 1) // 2
    mean = np.zeros(k.ndim)
    for idx in np.ndindex(k.shape):
        mean += k[idx] * (np.array(idx) - centre)
    cov = np.zeros((k.ndim, k.ndim))
    for idx in np.ndindex(k.shape):
        d = np.array(idx) - centre - mean
        cov += k[idx] * np.outer(d, d)
    return mean, cov


@pytest.mark.parametrize("k", _probability_kernels(), ids=lambda k: f"{k.ndim}d-{k.size}")
def test_a_probability_kernel_is_used_as_given_and_read_by_its_moments(k):
    made = kernels.as_probabilities(k)
    assert made.method == "none" and made.warning is None
    np.testing.assert_array_equal(made.kernel, k)
    mean, cov = _direct_moments(k)
    m = kernels.moments(made.kernel, 1.0, 2.0)
    np.testing.assert_allclose(m.velocity, mean / 2.0, atol=1e-12)
    np.testing.assert_allclose(m.diffusivity, cov / 4.0, atol=1e-12)


@pytest.mark.parametrize("weights, method, words", [
    ([1.0, 3.0, 1.0], "sum", "sum to 5"), ([[0, 2], [0, 0]], None, None),
    ([-1.0, 4.0, -1.0], "softmax", "softmax at temperature 2.5"), ([0.0, 0.0, 0.0], "softmax", "softmax"),
])
def test_weights_that_are_not_probabilities_are_changed_only_with_a_warning(weights, method, words):
    if method is None:
        with pytest.raises(KernelError, match="odd size"):
            kernels.as_probabilities(weights)
        return
    made = kernels.as_probabilities(weights, None, 2.5)
    assert made.method == method and words in made.warning
    np.testing.assert_allclose(made.kernel, kernels.normalize(weights, method, 2.5), rtol=0, atol=0)
    asked = kernels.as_probabilities(weights, method, 2.5)
    assert asked.warning is None


def test_an_asked_normalisation_is_applied_even_to_a_probability_kernel():
    k = np.array([0.25, 0.5, 0.25])
    assert not np.allclose(kernels.as_probabilities(k, "softmax").kernel, k)
    with pytest.raises(KernelError, match="negative"):
        kernels.as_probabilities([-0.5, 2.0, -0.5], "none")

"""physconv.inverse.deblur: backward diffusion, regularised in the walls' basis, against scikit-image's
deconvolutions on the same blurred, noisy pictures; and the horizon of what the noise has taken."""

import numpy as np
import pytest
from skimage import data, metrics, restoration

from physconv import Grid, kernels, spectral
from physconv.inverse import InverseError
from physconv.inverse.deblur import _gcv, deblur, wavenumbers


def camera():
    """A non-square crop of scikit-image's camera picture, in [0, 1]."""
    return data.camera()[::2, ::2].astype(float)[:, 20:240] / 255.0


def blurred(img, Dt, sigma, rng, walls="reflecting"):
    g = Grid(img.shape, boundary=walls)
    return g, spectral.heat(img, g, diffusivity=1.0, time=Dt) + sigma * rng.standard_normal(img.shape)


def psnr(truth, x, mask=None):
    x = np.clip(x, 0, 1)
    if mask is None:
        return metrics.peak_signal_noise_ratio(truth, x, data_range=1.0)
    return 10 * np.log10(1.0 / np.mean((x[mask] - truth[mask]) ** 2))


@pytest.mark.parametrize("sigma", [0.005, 0.02])
def test_physconv_matches_or_beats_scikit_image_at_equal_noise(rng, sigma):
    """The same blurred, noisy picture to each: scikit-image's Wiener at its best balance of a grid (an
    oracle choice), its self-tuning Wiener, and Richardson–Lucy at its best iteration count."""
    img = camera()
    g, b = blurred(img, 1.5, sigma, rng)
    ours = psnr(img, deblur(b, g, 1.0, 1.5, "wiener").field)
    psf = kernels.gaussian(variance=3.0, ndim=2)
    wiener = max(psnr(img, restoration.wiener(b, psf, bal)) for bal in (1e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3))
    unsupervised = psnr(img, restoration.unsupervised_wiener(b, psf, rng=np.random.default_rng(0))[0])
    rl = max(psnr(img, restoration.richardson_lucy(np.clip(b, 0, None), psf, num_iter=n)) for n in (5, 10, 20, 40))
    assert ours >= max(wiener, unsupervised, rl)
    assert ours > psnr(img, b)  # and it restores something


def test_knowing_the_walls_wins_near_the_borders(rng):
    """A picture blurred with reflecting walls, restored assuming reflecting or periodic walls (the
    periodic-FFT inverse): within 12 cells of the border the right walls win by far."""
    img = camera()
    g, b = blurred(img, 1.5, 0.01, rng)
    border = np.zeros(img.shape, bool)
    border[:12], border[-12:], border[:, :12], border[:, -12:] = True, True, True, True
    right = psnr(img, deblur(b, g, 1.0, 1.5).field, border)
    periodic = psnr(img, deblur(b, Grid(img.shape, boundary="periodic"), 1.0, 1.5).field, border)
    assert right > periodic + 3.0


def test_the_noise_is_measured_on_the_modes_the_blur_wiped_out(rng):
    img = camera()
    for sigma in (0.004, 0.03):
        g, b = blurred(img, 3.0, sigma, rng)
        assert abs(deblur(b, g, 1.0, 3.0).sigma - sigma) < 0.05 * sigma


def test_the_horizon_is_where_the_blurred_signal_meets_the_noise(rng):
    """At the horizon the fitted signal power times g^2 equals sigma^2; more noise or a longer blur moves
    it to coarser scales."""
    img = camera()
    g, b = blurred(img, 1.5, 0.01, rng)
    r = deblur(b, g, 1.0, 1.5)
    A, beta = r.power_law
    k = r.horizon
    assert abs(np.log(A * k ** (-beta) * np.exp(-2 * 1.5 * k**2)) - np.log(r.sigma**2)) < 1e-8
    assert r.finest_scale == pytest.approx(np.pi / k)
    assert deblur(blurred(img, 1.5, 0.04, rng)[1], g, 1.0, 1.5).horizon < k
    assert deblur(blurred(img, 4.0, 0.01, rng)[1], g, 1.0, 4.0).horizon < k
    assert 1.5 < beta < 3.5  # natural pictures: power falling as |k|^-2 to |k|^-3


def test_tikhonov_lambda_is_the_minimum_of_generalised_cross_validation(rng):
    img = camera()
    g, b = blurred(img, 1.5, 0.01, rng)
    power = np.abs(spectral.forward(b, g.boundaries)) ** 2
    gk = np.exp(-1.5 * wavenumbers(g))
    lam = _gcv(power, gk)
    grid = np.geomspace(1e-6, 1e-1, 400)
    n = power.size
    v = [n * np.sum((l / (gk**2 + l)) ** 2 * power) / np.sum(l / (gk**2 + l)) ** 2 for l in grid]
    assert abs(np.log(lam) - np.log(grid[int(np.argmin(v))])) < np.log(grid[1] / grid[0]) * 2
    r = deblur(b, g, 1.0, 1.5, "tikhonov")
    assert r.regularisation == pytest.approx(lam) and psnr(img, r.field) > psnr(img, b)


@pytest.mark.parametrize("kw, match", [
    ({"time": 0.0}, "--time must be positive"), ({"time": -1.0}, "--time must be positive"),
    ({"diffusivity": 0.0}, "--diffusivity must be positive"), ({"method": "magic"}, "method must be"),
])
def test_bad_requests_are_refused(rng, kw, match):
    img = rng.random((20, 24))
    args = {"diffusivity": 1.0, "time": 1.0} | kw
    with pytest.raises(InverseError, match=match):
        deblur(img, Grid(img.shape, boundary="reflecting"), **args)


def test_a_constant_or_damaged_picture_is_refused():
    g = Grid((10, 10), boundary="reflecting")
    with pytest.raises(InverseError, match="constant"):
        deblur(np.ones((10, 10)), g, 1.0, 1.0)
    bad = np.ones((10, 10))
    bad[3, 3] = np.nan
    with pytest.raises(InverseError, match="non-finite"):
        deblur(bad, g, 1.0, 1.0)


def test_a_computed_blur_without_noise_is_restored_to_its_horizon_not_to_nan():
    """A blur computed in float64 holds no noise but its rounding: the noise level is never taken below that
    (else 0/0 in the modes the blur took to zero), and the restored picture is finite and nearer the original."""
    g = Grid((48, 64), boundary="reflecting")
    y, x = np.meshgrid(np.arange(48.0), np.arange(64.0), indexing="ij")
    u0 = 1.0 - 0.8 * np.exp(-((y - 24.0) ** 2 + (x - 31.5) ** 2) / (2 * 3.0**2))  # symmetric: many modes exactly 0
    blurred = spectral.heat(u0, g, diffusivity=0.5, time=6.0)
    res = deblur(blurred, g, 0.5, 6.0)
    assert np.all(np.isfinite(res.field)) and res.sigma == np.finfo(float).eps * np.abs(blurred).max()
    assert np.isfinite(res.horizon) and res.finest_scale > 0
    assert np.abs(res.field - u0).max() < 0.5 * np.abs(blurred - u0).max()
    with pytest.raises(InverseError, match="noise level must be positive"):
        deblur(blurred, g, 0.5, 6.0, sigma=0.0)

"""Inverse problems (DESIGN §12) against what a user would assemble from scipy, numpy and scikit-image: D from
two frames, a 5x5 kernel from ten frame pairs, deblurring. Each peer is checked to find the same answer first."""

from __future__ import annotations

import numpy as np
import scipy.ndimage as ndi
from scipy.optimize import minimize_scalar

from physconv import Grid, kernels, spectral
from physconv.inverse import fit, make
from physconv.inverse.deblur import deblur
from physconv.inverse.kernel_fit import learn
from physconv.solvers import explicit

from .timing import interleaved


def scipy_fit_d(u0, u1, t):
    """D by least squares in real space: ``gaussian_filter(u0, sqrt(2 D t))`` against u1 (mode reflect)."""
    res = minimize_scalar(lambda D: float(np.sum((ndi.gaussian_filter(u0, np.sqrt(2 * D * t), mode="reflect") - u1) ** 2)),
                          bounds=(1e-3, 2.0), method="bounded", options={"xatol": 1e-7})
    return res.x


def diffusivity(n: int, repeat: int, report):
    rng = np.random.default_rng(0)
    g = Grid((n, n), boundary="reflecting")
    u0 = ndi.gaussian_filter(rng.random((n, n)), 2.0) * 10
    D, t, s = 0.3, 4.0, 0.01
    a = u0 + s * rng.standard_normal(g.shape)
    b = spectral.heat(u0, g, diffusivity=D, time=t) + s * rng.standard_normal(g.shape)
    frames = make([a, b], [0, t], 1.0, "reflecting")
    ours = fit(frames)
    peer = scipy_fit_d(a, b, t)
    assert abs(ours.theta[0] - D) < 3 * ours.stderr[0], (ours.theta, ours.stderr)
    assert abs(peer - D) < 0.01 * D, peer
    methods = {"physconv fit": lambda: fit(frames), "scipy gaussian_filter + minimize_scalar": lambda: scipy_fit_d(a, b, t)}
    checks = {"physconv fit": f"D = {ours.theta[0]:.5f} +- {ours.stderr[0]:.1e} (true {D})",
              "scipy gaussian_filter + minimize_scalar": f"D = {peer:.5f}, no error bar"}
    report("fit D", f"2 x {n}^2", interleaved(methods, repeat), 1.0, "fits/s", reference="physconv fit", checks=checks)


def kernel(n: int, pairs: int, repeat: int, report):
    rng = np.random.default_rng(1)
    k = kernels.ftcs(0.2, 1.0, 1.0, 2)
    tr = explicit.propagate(rng.random((n, n)), "reflecting", kernel=k, steps=pairs, save_every=1)
    frames = make(tr.frames + 0.01 * rng.standard_normal(tr.frames.shape), np.arange(pairs + 1.0), 1.0, "reflecting")
    ours = learn(frames, 5)

    def numpy_ols():
        """Ordinary least squares on the stacked 25 shifted copies of every interior cell (numpy.linalg.lstsq)."""
        X, y = [], []
        for A, B in zip(frames.data[:-1], frames.data[1:]):
            X.append(np.stack([A[2 - i:n - 2 - i, 2 - j:n - 2 - j].ravel() for i in range(-2, 3) for j in range(-2, 3)], 1))
            y.append(B[2:-2, 2:-2].ravel())
        return np.linalg.lstsq(np.concatenate(X), np.concatenate(y), rcond=None)[0].reshape(5, 5)

    peer = numpy_ols()
    assert np.abs(ours.kernel[1:4, 1:4] - k).max() < 4 * ours.stderr.max()
    assert np.abs(peer[1:4, 1:4] - k).max() < 0.01
    methods = {"physconv learn 5x5": lambda: learn(frames, 5), "numpy lstsq on stacked shifts": numpy_ols}
    checks = {"physconv learn 5x5": f"max |k - FTCS| {np.abs(ours.kernel[1:4, 1:4] - k).max():.1e} (errors-in-variables "
              "corrected, sum one)",
              "numpy lstsq on stacked shifts": f"max |k - FTCS| {np.abs(peer[1:4, 1:4] - k).max():.1e} (no correction)"}
    report("learn kernel", f"{pairs} x {n}^2", interleaved(methods, repeat), 1.0, "fits/s",
           reference="physconv learn 5x5", checks=checks)


def deblurring(repeat: int, report):
    from skimage import data, metrics, restoration

    img = data.camera()[::2, ::2].astype(float)[:, 20:240] / 255.0
    g = Grid(img.shape, boundary="reflecting")
    b = spectral.heat(img, g, diffusivity=1.0, time=1.5) + 0.01 * np.random.default_rng(0).standard_normal(img.shape)
    psf = kernels.gaussian(variance=3.0, ndim=2)

    def psnr(x):
        return metrics.peak_signal_noise_ratio(img, np.clip(x, 0, 1), data_range=1.0)

    methods = {"physconv deblur (wiener)": lambda: deblur(b, g, 1.0, 1.5).field,
               "skimage wiener (balance 0.03)": lambda: restoration.wiener(b, psf, 0.03),
               "skimage unsupervised_wiener": lambda: restoration.unsupervised_wiener(b, psf, rng=np.random.default_rng(0))[0]}
    checks = {k: f"PSNR {psnr(f()):.2f} dB" for k, f in methods.items()}
    report("deblur", f"{img.shape[0]}x{img.shape[1]}", interleaved(methods, repeat), 1.0, "pictures/s",
           reference="physconv deblur (wiener)", checks=checks)

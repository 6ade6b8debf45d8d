"""Time-series models are convolutions.

A moving-average series MA(q) is white noise convolved with its coefficients,

.. math:: x_t = \\varepsilon_t + \\theta_1 \\varepsilon_{t-1} + \\dots + \\theta_q \\varepsilon_{t-q}
          = (\\theta * \\varepsilon)_t .

An autoregressive series AR(p), :math:`x_t = \\phi_1 x_{t-1} + \\dots + \\phi_p x_{t-p} + \\varepsilon_t`,
is white noise convolved with its impulse response ``h`` (the series that one
unit shock produces), which decays geometrically for a stationary model and is
truncated where it falls below 1e-12. Gaussian smoothing is a weighted moving
average. All of them assume white noise; whitening (PCA or ZCA, from the
eigenvectors of the covariance) turns correlated data into it.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from .. import kernels as _k
from ..convolve import fft_convolve

CUTOFF = 1e-12


def causal_convolve(noise, weights) -> np.ndarray:
    """``y_t = sum_{j >= 0} w_j e_{t-j}`` with zeros before the start, by FFT, same length as ``noise``."""
    from scipy.signal import fftconvolve

    return fftconvolve(np.asarray(noise, dtype=float), np.asarray(weights, dtype=float))[: len(noise)]


def ma(noise, theta) -> np.ndarray:
    """MA(q) series: the noise convolved with ``[1, theta_1, ..., theta_q]``."""
    return causal_convolve(noise, np.r_[1.0, np.asarray(theta, dtype=float)])


def impulse_response(phi, cutoff: float = CUTOFF, max_length: int = 1_000_000) -> np.ndarray:
    """``h`` of AR(p) with coefficients ``phi``: ``h_0 = 1``, ``h_t = sum_i phi_i h_{t-i}``, until it stays
    below ``cutoff`` (for ``p`` terms in a row)."""
    phi = np.asarray(phi, dtype=float)
    roots = np.roots(np.r_[1.0, -phi]) if len(phi) else np.array([])
    if np.any(np.abs(roots) >= 1):
        raise ValueError(f"AR coefficients {phi.tolist()} are not stationary (a root of 1 - sum phi z^-i "
                         "on or outside the unit circle): the impulse response does not decay")
    h = [1.0]
    p = len(phi)
    quiet = 0
    while quiet < max(p, 1) and len(h) < max_length:
        nxt = sum(phi[i] * h[-1 - i] for i in range(min(p, len(h))))
        h.append(nxt)
        quiet = quiet + 1 if abs(nxt) < cutoff else 0
    return np.array(h)


def ar(noise, phi) -> np.ndarray:
    """AR(p) series: the noise convolved with the truncated impulse response."""
    return causal_convolve(noise, impulse_response(phi))


def gaussian_smooth(series, sigma: float) -> np.ndarray:
    """A weighted moving average with Gaussian weights of std ``sigma`` samples (mirror at the ends)."""
    return fft_convolve(np.asarray(series, dtype=float), _k.gaussian(variance=sigma**2, ndim=1), "reflecting")


def whiten(data, method: str = "zca") -> np.ndarray:
    """Whitened copy of ``data`` (samples x features): zero mean, identity covariance.

    PCA: rotate onto the covariance's eigenvectors and scale each by 1/sqrt(eigenvalue).
    ZCA: the same, rotated back (the whitened data stays closest to the original).
    """
    x = np.asarray(data, dtype=float)
    x = x - x.mean(axis=0)
    lam, vec = np.linalg.eigh(np.cov(x, rowvar=False))
    if lam.min() <= 1e-12 * lam.max():
        raise ValueError("the covariance is singular: some feature is a combination of the others")
    w = vec / np.sqrt(lam)
    if method == "pca":
        return x @ w
    if method == "zca":
        return x @ w @ vec.T
    raise ValueError(f"method must be 'pca' or 'zca', got {method!r}")


def insight(seed: int = 0):
    """Numbers and figure for ``physconv insight arma``."""
    from scipy.signal import lfilter

    rng = np.random.default_rng(seed)
    e = rng.standard_normal(2000)
    theta, phi = [0.6, -0.3, 0.2], [0.75, -0.2]
    x_ma, x_ar = ma(e, theta), ar(e, phi)
    h = impulse_response(phi)
    smooth = gaussian_smooth(x_ar, 5.0)
    mix = np.array([[2.0, 0.0], [1.2, 0.5]])
    data = rng.standard_normal((5000, 2)) @ mix
    numbers = {
        "claim": "MA and AR series are white noise convolved with coefficients / impulse response",
        "ma_vs_lfilter": float(np.abs(x_ma - lfilter(np.r_[1.0, theta], [1.0], e)).max()),
        "ar_vs_lfilter": float(np.abs(x_ar - lfilter([1.0], np.r_[1.0, -np.array(phi)], e)).max()),
        "impulse_response_length": len(h),
        "whitened_covariance_error": {m: float(np.abs(np.cov(whiten(data, m), rowvar=False) - np.eye(2)).max())
                                      for m in ("pca", "zca")},
    }
    fig = Figure(figsize=(15, 6.5), layout="constrained")
    ax = fig.subplots(2, 3)
    t = np.arange(300)
    ax[0, 0].plot(t, e[:300], color="0.6", lw=0.7, label="white noise")
    ax[0, 0].plot(t, x_ma[:300], "C0", lw=1, label=f"MA(3), theta = {theta}")
    ax[0, 0].legend(fontsize=7)
    ax[0, 0].set_title("moving average = noise * [1, theta]", fontsize=9)
    ax[0, 1].plot(t, x_ar[:300], "C1", lw=1, label=f"AR(2), phi = {phi}")
    ax[0, 1].plot(t, smooth[:300], "k", lw=1.2, label="Gaussian smoothing, sigma = 5")
    ax[0, 1].legend(fontsize=7)
    ax[0, 1].set_title("autoregression = noise * impulse response", fontsize=9)
    ax[0, 2].stem(np.arange(min(len(h), 30)), h[:30])
    ax[0, 2].set_title(f"AR(2) impulse response ({len(h)} terms above 1e-12)", fontsize=9)
    ax[1, 0].semilogy(np.abs(h) + 1e-300, "C1")
    ax[1, 0].axhline(CUTOFF, color="k", ls=":")
    ax[1, 0].set_ylim(1e-14, 2)
    ax[1, 0].set_title("|h|: geometric decay, cut at 1e-12", fontsize=9)
    for a, d, title in ((ax[1, 1], data, "correlated data"), (ax[1, 2], whiten(data, "zca"), "ZCA-whitened")):
        a.plot(d[:1500, 0], d[:1500, 1], ".", ms=2, alpha=0.5)
        a.set_aspect("equal")
        a.set_xlim(-7, 7)
        a.set_ylim(-5, 5)
        a.set_title(title + f" (cov {np.round(np.cov(d, rowvar=False), 2).tolist()})", fontsize=9)
    fig.suptitle("time-series models are convolutions; whitening makes data the white noise they assume",
                 fontsize=10)
    return numbers, fig

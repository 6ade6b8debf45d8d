"""Deblurring as backward diffusion: the propagator inverted in the walls' basis, regularised, with
the horizon past which detail is gone.

A blur by diffusion for a time T multiplies each mode of the walls' basis by ``g = exp(-D T |kappa|^2)``
(:mod:`.modes`; the heat kernel with the walls' images). Dividing by g undoes it exactly but multiplies
the noise by ``1/g``, without bound. So each mode is restored by

- Wiener: ``g / (g^2 + sigma^2 / P(kappa))``, with the signal's power ``P = A |kappa|^-beta`` fitted to the
  modes well above the noise (natural images have beta near 2 to 3), the mean-square-optimal filter;
- Tikhonov: ``g / (g^2 + lambda)``, lambda by generalised cross-validation (Golub, Heath & Wahba 1979)
  or, given the noise, the discrepancy principle.

The noise ``sigma`` is measured on the modes the blur has wiped out (``g < 1e-3``: there the picture
holds only noise), or by ``skimage.restoration.estimate_sigma`` when the blur is too light to leave any.
The **horizon** is the wavenumber where the blurred signal's power ``g^2 P`` falls to the noise's
``sigma^2``: finer detail is below the noise for good, whatever the method; its half wavelength
``pi / kappa_h`` is the finest recoverable scale (in the frames' length unit).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import spectral
from ..grid import Grid
from .frames import InverseError
from .modes import axis_wavenumbers

METHODS = ("wiener", "tikhonov")


@dataclass
class Deblurred:
    """The restored field and how it was made."""

    field: np.ndarray
    method: str
    sigma: float
    regularisation: float
    horizon: float  # wavenumber (1/length); inf when every mode stays above the noise
    finest_scale: float  # pi / horizon (length)
    power_law: tuple  # (A, beta) of the fitted signal power
    kappa: np.ndarray  # per mode (forward shape): |kappa|
    transfer: np.ndarray
    power: np.ndarray  # |coefficient|^2 of the blurred picture per mode

    def to_dict(self) -> dict:
        return {"method": self.method, "noise_sigma": self.sigma, "regularisation": self.regularisation,
                "horizon_wavenumber": self.horizon, "finest_scale": self.finest_scale,
                "signal_power_law": {"amplitude": self.power_law[0], "exponent": self.power_law[1]}}


def wavenumbers(grid: Grid) -> np.ndarray:
    """``|kappa|^2`` on :func:`physconv.spectral.forward`'s modes (every mode, Nyquist included)."""
    shape = spectral.forward_shape(grid.shape, grid.boundaries)
    k2 = np.zeros(shape)
    for a, (n, h, b) in enumerate(zip(grid.shape, grid.spacing, grid.boundaries)):
        kap = axis_wavenumbers(n, h, b.kind, shape[a])[1]
        sh = [1] * len(shape)
        sh[a] = -1
        k2 = k2 + (kap**2).reshape(sh)
    return k2


ROUND_OFF = np.finfo(float).eps  # the least noise a float64 picture holds, relative to its largest value


def deblur(image, grid: Grid, diffusivity: float, time: float, method: str = "wiener",
           sigma: float | None = None, regularisation: float | None = None) -> Deblurred:
    """Undo a diffusion of ``diffusivity`` for ``time`` on ``image`` (``grid``'s shape and walls)."""
    u = np.asarray(image, dtype=float)
    if u.shape != grid.shape:
        raise InverseError(f"the picture has shape {u.shape}, the grid {grid.shape}")
    if not np.all(np.isfinite(u)):
        raise InverseError("the picture holds missing or non-finite values")
    if not (np.isfinite(time) and time > 0):
        raise InverseError(f"--time must be positive, got {time}")
    if not (np.isfinite(diffusivity) and diffusivity > 0):
        raise InverseError(f"--diffusivity must be positive, got {diffusivity}")
    if method not in METHODS:
        raise InverseError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    if np.ptp(u) == 0:
        raise InverseError("the picture is constant: there is nothing to deblur")
    bcs = grid.boundaries
    c = spectral.forward(u, bcs)
    k2 = wavenumbers(grid)
    g = np.exp(-diffusivity * time * k2)
    power = np.abs(c) ** 2
    if sigma is None:  # never below the picture's own rounding: computed frames hold that much noise
        sigma = max(_noise(u, power, g, np.iscomplexobj(c)), ROUND_OFF * float(np.abs(u).max()))
    elif not (np.isfinite(sigma) and sigma > 0):
        raise InverseError(f"the noise level must be positive (a picture holds at least its rounding), got {sigma}")
    law = _power_law(power, g, k2, sigma)
    if method == "wiener":
        prior = law[0] * np.where(k2 > 0, k2, np.inf) ** (-law[1] / 2)
        prior = np.where(k2 > 0, prior, np.inf)
        restore = g / (g**2 + sigma**2 / prior)
        reg = float("nan")
    else:
        reg = regularisation if regularisation is not None else _gcv(power, g)
        restore = g / (g**2 + reg)
    out = spectral.inverse(c * restore, bcs, grid.shape)
    horizon = _horizon(law, diffusivity * time, sigma, k2)
    return Deblurred(out, method, float(sigma), float(reg), horizon, float(np.pi / horizon) if horizon > 0 else np.inf,
                     law, np.sqrt(k2), g, power)


def _noise(u, power, g, complex_modes: bool) -> float:
    """The noise's standard deviation: on the modes the blur wiped out, else by scikit-image. The median
    of ``|c|^2 / sigma^2`` is 0.455 for real coefficients (chi-square, 1 degree of freedom) and ln 2 for
    complex ones (exponential)."""
    dead = g < 1e-3
    if dead.sum() >= 64:
        return float(np.sqrt(np.median(power[dead]) / (np.log(2) if complex_modes else 0.455)))
    from skimage.restoration import estimate_sigma

    return float(estimate_sigma(u))


def _power_law(power, g, k2, sigma) -> tuple:
    """``(A, beta)`` with ``P = A |kappa|^-beta``: a straight line in log-log through the mean unblurred
    power ``(mean |c|^2 - sigma^2) / g^2`` in 24 bins of log |kappa|, over the bins whose mean blurred
    power is at least 10x the noise's (bins, not modes: the many fine modes would otherwise outvote the
    coarse ones, and single modes picked for being above the noise are biased upwards)."""
    pos = k2 > 0
    logk = 0.5 * np.log(k2[pos])
    edges = np.linspace(logk.min(), logk.max() + 1e-12, 25)
    which = np.digitize(logk, edges) - 1
    n = np.bincount(which, minlength=24)
    mean_p = np.bincount(which, power[pos], minlength=24) / np.maximum(n, 1)
    mean_g2 = np.bincount(which, g[pos] ** 2, minlength=24) / np.maximum(n, 1)
    centre = np.bincount(which, logk, minlength=24) / np.maximum(n, 1)
    ok = (n > 0) & (mean_p > 10 * sigma**2) & (mean_g2 > 1e-24)
    if ok.sum() < 3:
        raise InverseError("the picture's power rises above its noise in too few scales: nothing can be restored")
    y = np.log(mean_p[ok] - sigma**2) - np.log(mean_g2[ok])
    slope, icpt = np.polyfit(centre[ok], y, 1)
    return float(np.exp(icpt)), float(-slope)


def _horizon(law, Dt, sigma, k2) -> float:
    """The wavenumber where ``g^2 P = sigma^2`` (the largest root below the grid's finest, else that)."""
    from scipy.optimize import brentq

    A, beta = law
    top = float(np.sqrt(k2.max()))

    def snr(k):
        return np.log(A) - beta * np.log(k) - 2 * Dt * k**2 - 2 * np.log(sigma)

    lo = float(np.sqrt(k2[k2 > 0].min()))
    if snr(top) > 0:
        return float("inf")
    if snr(lo) < 0:
        return lo
    return float(brentq(snr, lo, top))


def _gcv(power, g) -> float:
    """Tikhonov's lambda minimising ``V = N ||(1 - g^2/(g^2+l)) c||^2 / (N - sum g^2/(g^2+l))^2``."""
    from scipy.optimize import minimize_scalar

    n = power.size
    g2 = g**2

    def v(logl):
        lam = np.exp(logl)
        f = lam / (g2 + lam)
        return n * np.sum(f**2 * power) / np.sum(f) ** 2

    res = minimize_scalar(v, bounds=(np.log(1e-16), np.log(10.0)), method="bounded", options={"xatol": 1e-3})
    return float(np.exp(res.x))

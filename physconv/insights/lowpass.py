"""Low-pass filtering in the Fourier domain: the seed's circle, and diffusion as its soft version.

Keeping the Fourier coefficients inside a circle of radius ``R`` (cycles per
cell) and zeroing the rest compresses an image: the zeroed area over the
whole is the compression ratio. The reconstruction's quality is measured by
PSNR and SSIM (``skimage.metrics``).

Diffusion for a time ``t`` multiplies each coefficient by the *soft* mask

.. math:: \\hat u(k, t) = e^{-D t |k|^2}\\, \\hat u(k, 0), \\qquad |k| = 2\\pi f / \\Delta x

which is exactly what :func:`physconv.spectral.heat` computes on a periodic
field (to round-off once the heat kernel is a couple of cells wide). A hard
edge in the Fourier domain rings in the image (Gibbs); the Gaussian mask is a
positive kernel in the image domain, so the result never leaves the range of
the original (maximum principle). Diffusion itself (:func:`diffuse`) is
compared at equal kept energy: a narrow heat kernel is a sampled positive
Gaussian, whose transfer function is the mask up to the aliases of the
lattice (:func:`heat_mask`).
"""

from __future__ import annotations

import numpy as np
import xarray as xr
from matplotlib.figure import Figure
from matplotlib.patches import Circle

from .. import spectral
from ..grid import Grid


def _radius(shape) -> np.ndarray:
    """|f| of every FFT coefficient, cycles per cell."""
    fy = np.fft.fftfreq(shape[0])[:, None]
    fx = np.fft.fftfreq(shape[1])[None, :]
    return np.hypot(fx, fy)


def circle(image, radius: float) -> tuple[np.ndarray, float]:
    """Keep the coefficients with ``|f| <= radius``: ``(reconstruction, compression ratio)``.

    The compression ratio is the fraction of coefficients set to zero.
    """
    u = np.asarray(image, dtype=float)
    keep = _radius(u.shape) <= radius
    return np.fft.ifft2(np.fft.fft2(u) * keep).real, float(1.0 - keep.mean())


def soft_mask(shape, diffusivity: float, time: float, spacing: float = 1.0) -> np.ndarray:
    """``exp(-D t |k|^2)`` per FFT coefficient, ``|k| = 2 pi |f| / dx`` (radians per length)."""
    k = 2 * np.pi * _radius(shape) / spacing
    return np.exp(-diffusivity * time * k**2)


def diffuse_by_mask(image, diffusivity: float, time: float) -> np.ndarray:
    """The field multiplied by the soft mask in Fourier space (periodic walls, unit cells)."""
    u = np.asarray(image, dtype=float)
    return np.fft.ifft2(np.fft.fft2(u) * soft_mask(u.shape, diffusivity, time)).real


def heat_mask(shape, diffusivity: float, time: float) -> np.ndarray:
    """What diffusion multiplies each FFT coefficient by: the transfer function of :func:`spectral.heat`
    (a positive sampled Gaussian); equal to :func:`soft_mask` once the kernel spans a couple of cells."""
    return spectral.heat_transfer(Grid(tuple(shape), 1.0, "periodic"), 2.0 * diffusivity * time)


def diffuse(image, diffusivity: float, time: float) -> np.ndarray:
    """Diffusion of the image for ``time`` with periodic walls (:func:`physconv.spectral.heat`)."""
    u = np.asarray(image, dtype=float)
    return spectral.heat(u, Grid(u.shape, 1.0, "periodic"), diffusivity=diffusivity, time=time)


def kept_energy(image, mask: np.ndarray) -> float:
    """Fraction of the (mean-free) spectral energy a mask keeps: sum |F m|^2 / sum |F|^2."""
    F = np.fft.fft2(np.asarray(image, dtype=float) - np.mean(image))
    return float((np.abs(F * mask) ** 2).sum() / (np.abs(F) ** 2).sum())


def sweep(image, radii) -> xr.Dataset:
    """Compression ratio, PSNR (dB) and SSIM of the circle reconstruction for each radius."""
    from ._images import skimage

    metrics = skimage("metrics")
    peak_signal_noise_ratio, structural_similarity = metrics.peak_signal_noise_ratio, metrics.structural_similarity
    u = np.asarray(image, dtype=float)
    span = float(u.max() - u.min()) or 1.0
    rows = []
    for r in radii:
        rec, ratio = circle(u, r)
        rows.append((ratio, peak_signal_noise_ratio(u, rec, data_range=span),
                     structural_similarity(u, rec, data_range=span)))
    ratio, psnr, ssim = np.array(rows).T
    return xr.Dataset({"compression": ("radius", ratio, {"long_name": "zeroed coefficients / all"}),
                       "psnr": ("radius", psnr, {"units": "dB"}), "ssim": ("radius", ssim)},
                      coords={"radius": ("radius", np.asarray(radii, dtype=float), {"units": "cycles per cell"})})


def equal_energy_time(image, radius: float, diffusivity: float = 1.0) -> float:
    """The time at which diffusion keeps as much spectral energy as the circle of ``radius`` does."""
    from scipy.optimize import brentq

    u = np.asarray(image, dtype=float)
    target = kept_energy(u, _radius(u.shape) <= radius)
    return float(brentq(lambda t: kept_energy(u, heat_mask(u.shape, diffusivity, t)) - target, 1e-6, 1e6,
                        xtol=1e-10, rtol=1e-12))


def insight(image=None, radius: float = 0.08):
    """Numbers and figure for ``physconv insight lowpass``."""
    from ._images import picture

    u = picture(image, 128)
    radii = np.array([0.02, 0.04, 0.06, 0.08, 0.12, 0.16, 0.24, 0.32, 0.4, 0.5])
    table = sweep(u, radii)
    D, t_heat = 1.0, 5.0
    g = Grid(u.shape, 1.0, "periodic")
    heat_gap = float(np.abs(spectral.heat(u, g, diffusivity=D, time=t_heat) - diffuse_by_mask(u, D, t_heat)).max())
    hard, ratio = circle(u, radius)
    t = equal_energy_time(u, radius)
    soft = diffuse(u, 1.0, t)
    lo, hi = float(u.min()), float(u.max())
    numbers = {
        "image": "test pattern" if image is None else str(image),
        "table": [{"radius": float(r), "compression": float(c), "psnr_db": float(p), "ssim": float(s)}
                  for r, c, p, s in zip(radii, table.compression.values, table.psnr.values, table.ssim.values)],
        "heat_equals_soft_mask_max_difference": heat_gap,
        "equal_energy": {"radius": radius, "compression": ratio, "diffusion_time": t,
                         "hard_overshoot": float(max(hard.max() - hi, lo - hard.min())),
                         "soft_overshoot": float(max(soft.max() - hi, lo - soft.min()))},
        "claim": "diffusion is the soft low-pass mask exp(-D t |k|^2): no ringing, unlike the hard circle",
    }
    fig = Figure(figsize=(13, 7.5), layout="constrained")
    ax = fig.subplots(2, 4)
    ax[0, 0].imshow(u, origin="lower", cmap="gray")
    ax[0, 0].set_title("image", fontsize=9)
    from .spectrum import log_spectrum

    spec = log_spectrum(u, window=False)
    ax[0, 1].imshow(spec, origin="lower", cmap="magma", extent=(spec.kx[0], spec.kx[-1], spec.ky[0], spec.ky[-1]))
    ax[0, 1].add_patch(Circle((0, 0), radius, fill=False, color="c", lw=1.5))
    ax[0, 1].set_title(f"spectrum; kept: inside R = {radius:g} (zeroed {100 * ratio:.1f} %)", fontsize=9)
    ax[0, 1].set_xlabel("kx (cycles/cell)")
    ax[0, 2].plot(100 * table.compression, table.psnr, "o-", color="C0")
    ax[0, 2].set_xlabel("zeroed coefficients (%)")
    ax[0, 2].set_ylabel("PSNR (dB)", color="C0")
    twin = ax[0, 2].twinx()
    twin.plot(100 * table.compression, table.ssim, "s--", color="C1")
    twin.set_ylabel("SSIM", color="C1")
    ax[0, 2].set_title("quality against compression", fontsize=9)
    mask = np.fft.fftshift(heat_mask(u.shape, 1.0, t))
    ax[0, 3].imshow(mask, origin="lower", cmap="viridis", extent=(spec.kx[0], spec.kx[-1], spec.ky[0], spec.ky[-1]))
    ax[0, 3].set_title(f"diffusion's soft mask\nexp(-D t |k|²), D t = {t:.3g}", fontsize=9)
    for a, f, title in ((ax[1, 0], hard, f"hard circle R = {radius:g}"), (ax[1, 1], soft, "soft mask (diffusion)")):
        a.imshow(f, origin="lower", cmap="gray", vmin=lo, vmax=hi)
        a.set_title(f"{title}, same kept energy", fontsize=9)
    row = (3 * u.shape[0]) // 4  # through the square and the disc of the test pattern
    ax[1, 2].plot(u[row], "k-", lw=1, label="image")
    ax[1, 2].plot(hard[row], "C3-", lw=1, label="hard circle: rings")
    ax[1, 2].plot(soft[row], "C2-", lw=1, label="soft mask: never overshoots")
    ax[1, 2].axhline(hi, color="k", ls=":", lw=0.6)
    ax[1, 2].axhline(lo, color="k", ls=":", lw=0.6)
    ax[1, 2].legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=3, frameon=False)
    ax[1, 2].set_title(f"row y = {row}", fontsize=9)
    ax[1, 3].axis("off")
    ax[1, 3].text(0, 0.5, f"spectral.heat vs soft mask:\nmax |diff| = {heat_gap:.1e}\n\novershoot beyond the image's "
                          f"range:\nhard {numbers['equal_energy']['hard_overshoot']:.3f}, "
                          f"soft {numbers['equal_energy']['soft_overshoot']:.1e}", fontsize=10, va="center")
    fig.suptitle("low-pass filtering: the circle in the Fourier domain, and diffusion as the soft mask", fontsize=10)
    return numbers, fig

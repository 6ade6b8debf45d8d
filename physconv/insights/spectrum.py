"""Orientation lives in the spectrum.

The Fourier transform of an image sorts its variation by wave vector: stripes
that run one way put their power on a line through the origin at right angles
to them. The spectrum's second moments,

.. math:: M = \\frac{\\sum_k P(k)\\, k k^T}{\\sum_k P(k)}, \\qquad P = |\\hat u|^2,

have their principal axis along the direction in which the image varies
fastest, so rotating the image by θ rotates that axis by θ. By Parseval,
``M`` is the image's mean structure tensor (the mean of ``∇u ∇uᵀ``), which is
the independent check (``skimage.feature.structure_tensor``).

Angles are counter-clockwise from ``x`` with ``y`` up, in degrees, modulo 180.
"""

from __future__ import annotations

import numpy as np
import xarray as xr
from matplotlib.figure import Figure


def _window(shape) -> np.ndarray:
    """A 2-D Hann window: it tapers the image to zero at its edges, against the streaks that the
    implicit periodic extension of the FFT would otherwise add along the axes (edge leakage)."""
    return np.outer(np.hanning(shape[0]), np.hanning(shape[1]))


def log_spectrum(image, window: bool = True) -> xr.DataArray:
    """Centred log-magnitude spectrum ``log(1 + |F|)``, axes in cycles per cell (origin at the centre)."""
    u = np.asarray(image, dtype=float)
    u = u - u.mean()
    if window:
        u = u * _window(u.shape)
    F = np.fft.fftshift(np.fft.fft2(u))
    return xr.DataArray(np.log1p(np.abs(F)), dims=("ky", "kx"),
                        coords={"ky": np.fft.fftshift(np.fft.fftfreq(u.shape[0])),
                                "kx": np.fft.fftshift(np.fft.fftfreq(u.shape[1]))},
                        attrs={"long_name": "log(1 + |F|)", "units": "cycles per cell"})


def spectral_moments(image, window: bool = True) -> np.ndarray:
    """``[[Mxx, Mxy], [Mxy, Myy]]``: power-weighted second moments of the wave vector (cycles per cell)²."""
    u = np.asarray(image, dtype=float)
    u = u - u.mean()
    if window:
        u = u * _window(u.shape)
    P = np.abs(np.fft.fft2(u)) ** 2
    ky = np.fft.fftfreq(u.shape[0])[:, None]
    kx = np.fft.fftfreq(u.shape[1])[None, :]
    total = P.sum()
    return np.array([[(P * kx * kx).sum(), (P * kx * ky).sum()], [(P * kx * ky).sum(), (P * ky * ky).sum()]]) / total


def _axis(m) -> tuple[float, float]:
    """Angle of the principal axis (degrees, mod 180) and the anisotropy 1 - λmin/λmax of a 2 x 2 tensor."""
    angle = 0.5 * np.degrees(np.arctan2(2 * m[0, 1], m[0, 0] - m[1, 1]))
    lam = np.linalg.eigvalsh(m)
    return float(angle % 180.0), float(1 - lam[0] / lam[1]) if lam[1] > 0 else 0.0


def orientation(image, window: bool = True) -> float:
    """Direction (degrees, mod 180) in which ``image`` varies fastest: the spectrum's principal axis."""
    return _axis(spectral_moments(image, window))[0]


def structure_tensor_orientation(image, sigma: float = 1.0) -> float:
    """The same direction from the image domain: the mean structure tensor of scikit-image."""
    from ._images import skimage

    structure_tensor = skimage("feature").structure_tensor
    u = np.asarray(image, dtype=float)
    arr, arc, acc = structure_tensor(u * _window(u.shape), sigma=sigma, order="rc")  # r = y, c = x
    return _axis(np.array([[acc.mean(), arc.mean()], [arc.mean(), arr.mean()]]))[0]


def angle_difference(a: float, b: float) -> float:
    """``a - b`` for angles modulo 180, in (-90, 90]."""
    d = (a - b) % 180.0
    return d - 180.0 if d > 90.0 else d


MIN_SIDE = 8  # pixels on a picture's shorter side for its spectrum to have a direction


def picture_size_of(path) -> tuple[int, int]:
    from ..initial import picture_size

    return picture_size(path)


def insight(image=None, angle: float = 20.0, seed: int = 3):
    """Numbers and figure for ``physconv insight spectrum``: an oriented texture (or ``image``) turned by
    0°, 17°, 37°, 60° and 90°, its spectrum's principal axis, and the structure tensor's."""
    from ._images import oriented_scene, picture, rotated

    import warnings

    size = 256
    if image is not None and min(picture_size_of(image)) < MIN_SIDE:
        raise ValueError(f"{image}: a picture with a side of fewer than {MIN_SIDE} pixels has no spectrum to speak of")
    with warnings.catch_warnings(record=True) as said:  # said only if the picture is not refused
        warnings.simplefilter("always")
        big = oriented_scene((2 * size, 2 * size), angle, seed, short=2.0, long=8.0) if image is None else \
            picture(image, shortest=2 * size)
    if image is not None and np.ptp(big) <= 1e-6:
        raise ValueError(f"{image}: a constant picture has no orientation: its spectrum is one point")
    for w in said:
        warnings.warn(w.message, w.category, stacklevel=2)
    if image is not None:

        warnings.warn(f"{image}: each turn shows the central {size} x {size} cells of the picture resampled to "
                      f"{big.shape[1]} x {big.shape[0]} (a turned picture has no corners to show)", stacklevel=2)
    turns = (0.0, 17.0, 37.0, 60.0, 90.0)
    scenes = [rotated(big, t, size) for t in turns]
    rows = [{"rotation": t, "spectrum_angle": orientation(u), "structure_tensor_angle": structure_tensor_orientation(u),
             "anisotropy": _axis(spectral_moments(u))[1]} for t, u in zip(turns, scenes)]
    first = rows[0]["spectrum_angle"]
    numbers = {"image": "oriented texture" if image is None else str(image), "rows": rows,
               "max_rotation_error_deg": max(abs(angle_difference(r["spectrum_angle"] - first, r["rotation"]))
                                             for r in rows),
               "max_tensor_difference_deg": max(abs(angle_difference(r["spectrum_angle"], r["structure_tensor_angle"]))
                                                for r in rows),
               "claim": "rotating the image by θ rotates the spectrum's principal axis by θ"}
    fig = Figure(figsize=(3.0 * len(turns), 6.2), layout="constrained")
    axes = fig.subplots(2, len(turns), squeeze=False)
    for c, (t, r, u) in enumerate(zip(turns, rows, scenes)):
        axes[0, c].imshow(u, origin="lower", cmap="gray")
        axes[0, c].set_title(f"turned {t:g}°", fontsize=9)
        spec = log_spectrum(u)
        axes[1, c].imshow(spec, origin="lower", cmap="magma",
                          extent=(spec.kx[0], spec.kx[-1], spec.ky[0], spec.ky[-1]))
        a = np.deg2rad(r["spectrum_angle"])
        axes[1, c].plot([-0.45 * np.cos(a), 0.45 * np.cos(a)], [-0.45 * np.sin(a), 0.45 * np.sin(a)], "c-", lw=1)
        axes[1, c].set_title(f"axis {r['spectrum_angle']:.2f}° (tensor {r['structure_tensor_angle']:.2f}°)",
                             fontsize=8)
        axes[1, c].set_xlabel("kx (cycles/cell)")
    axes[1, 0].set_ylabel("ky (cycles/cell)")
    fig.suptitle("orientation lives in the spectrum: log(1 + |F|) and its principal axis (cyan) turn with the image",
                 fontsize=10)
    return numbers, fig

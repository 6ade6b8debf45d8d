"""Pictures the insights work on: the shipped test pattern, a user's file, synthetic oriented scenes.

Arrays follow physconv's convention: ``u[y, x]`` with ``y`` pointing up, so an
angle is measured counter-clockwise from the ``x`` axis.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


PATTERN = Path(__file__).resolve().parents[1] / "scenarios" / "test_pattern.png"


def picture(path=None, longest: int = 128, shortest: int | None = None) -> np.ndarray:
    """A grey-level picture in [0, 1], ``y`` up, with its own aspect ratio (default: the shipped test pattern).

    Resampled to ``longest`` cells on its longer side, or to ``shortest`` on its shorter side when that
    is given; a resampling is said in a warning (``warning:`` on the command line).
    """
    import warnings

    from ..initial import fitted_shape, picture_size, read_picture, resample_note

    p = Path(path) if path is not None else PATTERN
    size = picture_size(p)
    if shortest is not None:
        h, w = size
        shape = (shortest, max(1, round(w * shortest / h))) if h <= w else (max(1, round(h * shortest / w)), shortest)
    else:
        shape = fitted_shape(size, longest)
    note = resample_note(size, shape)
    if note and path is not None:
        warnings.warn(f"{p}: {note}", stacklevel=2)
    return read_picture(p, shape)


def grating(shape, angle_deg: float, period: float = 8.0) -> np.ndarray:
    """``cos(2 pi (x cos a + y sin a) / period)``: stripes whose wave vector points at ``angle``."""
    y, x = np.mgrid[: shape[0], : shape[1]].astype(float)
    a = np.deg2rad(angle_deg)
    return np.cos(2 * np.pi * (x * np.cos(a) + y * np.sin(a)) / period)


def oriented_scene(shape, angle_deg: float, seed: int = 0, short: float = 1.5, long: float = 6.0) -> np.ndarray:
    """Random texture streaked along a direction: white noise filtered with correlation length ``short``
    along the wave-vector direction ``angle`` and ``long`` across it (its spectrum spreads along ``angle``)."""
    rng = np.random.default_rng(seed)
    noise = np.fft.fft2(rng.standard_normal(shape))
    ky = np.fft.fftfreq(shape[0])[:, None] * 2 * np.pi
    kx = np.fft.fftfreq(shape[1])[None, :] * 2 * np.pi
    a = np.deg2rad(angle_deg)
    along = kx * np.cos(a) + ky * np.sin(a)
    across = -kx * np.sin(a) + ky * np.cos(a)
    return np.fft.ifft2(noise * np.exp(-0.5 * (short * along) ** 2 - 0.5 * (long * across) ** 2)).real


def rotated(image, angle_deg: float, size: int) -> np.ndarray:
    """``image`` turned counter-clockwise (y up) by ``angle`` about its centre, the central ``size`` x ``size``
    cut out (so that no corner from outside the picture shows)."""
    from scipy.ndimage import rotate

    turned = rotate(np.asarray(image, dtype=float), -angle_deg, reshape=False, order=3, mode="reflect")
    y0, x0 = (turned.shape[0] - size) // 2, (turned.shape[1] - size) // 2
    return turned[y0:y0 + size, x0:x0 + size]


def skimage(module: str):
    """Import ``skimage.<module>``, or say how to install it."""
    import importlib

    try:
        return importlib.import_module(f"skimage.{module}")
    except ImportError:
        raise ValueError("this insight uses scikit-image: pip install 'physconv[insights]'") from None

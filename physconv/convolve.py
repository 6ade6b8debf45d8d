"""Convolution of a field with a kernel, the boundary deciding what lies beyond the walls.

This is the image-processing reading of a kernel: each output cell is a
weighted sum of the (padded) input around it,

.. math:: u'[x] = \\sum_d k[d]\\, \\tilde u[x - d],

with :math:`\\tilde u` the field extended by :func:`physconv.boundary.pad`.
It equals ``scipy.ndimage.convolve`` with ``mode='wrap'`` (periodic),
``'reflect'`` (reflecting) and ``'constant'`` with ``cval=0`` (absorbing).
"""

from __future__ import annotations

import numpy as np
from scipy.signal import fftconvolve

from . import kernels as _k
from .boundary import pad
from .grid import as_boundaries


def fft_convolve(field, kernel, boundary="periodic", boundary_value=None) -> np.ndarray:
    """Convolve ``field`` with ``kernel`` by FFT, padding by the boundary's images.

    Parameters
    ----------
    field : ndarray, 1-D, 2-D or 3-D
    kernel : ndarray, odd-sized, same number of axes
    boundary : boundary spec, tuple of Boundary, or Grid
    boundary_value : float, optional
        Value on dirichlet walls.

    Returns
    -------
    ndarray, same shape as ``field``

    Examples
    --------
    >>> u = np.array([0.0, 0.0, 1.0, 0.0, 0.0])
    >>> fft_convolve(u, [0.25, 0.5, 0.25]).round(12).tolist()
    [0.0, 0.25, 0.5, 0.25, 0.0]
    """
    u = np.asarray(field, dtype=float)
    k = _k.check(kernel, u.ndim)
    bcs = as_boundaries(boundary, u.ndim, boundary_value)
    radius = [(w - 1) // 2 for w in k.shape]
    return fftconvolve(pad(u, radius, bcs), k, mode="valid")


def fft_correlate(field, kernel, boundary="periodic", boundary_value=None) -> np.ndarray:
    """Cross-correlation: :func:`fft_convolve` with the kernel flipped along every axis.

    .. math:: u'[x] = \\sum_d k[d]\\, \\tilde u[x + d]
    """
    k = _k.check(kernel, np.ndim(field))
    return fft_convolve(field, np.flip(k), boundary, boundary_value)

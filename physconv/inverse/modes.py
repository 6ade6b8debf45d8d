"""Frames in the walls' basis, as independent observations with white noise.

The orthonormal transforms of :mod:`physconv.spectral` (DCT/DST along closed axes, a real FFT along
periodic ones) turn white noise of variance sigma^2 per cell into white noise of the same variance per
coefficient. On periodic axes the coefficients are complex and come in conjugate pairs; one of each pair
is kept, scaled by sqrt 2 so that its real and imaginary parts each carry noise of variance sigma^2
(two real observations), and the self-conjugate ones are kept as real numbers. Nyquist modes of periodic
axes are dropped: a real field cannot show the phase a drift gives them.

Each kept mode has a continuous wavenumber per axis (1/length): ``theta / h`` for the angles of
:func:`physconv.spectral.angles` on closed axes (the walls' eigenfunctions sampled at the cell centres),
and the signed ``2 pi k / (n h)`` on periodic ones.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import spectral
from ..grid import Grid


@dataclass(frozen=True)
class Modes:
    """The kept modes of a grid: ``kappa`` (ndim, M) continuous wavenumbers, ``lam`` (ndim, M) the
    discrete second difference's eigenvalues ``4 sin^2(theta/2) / h^2`` (1/length^2), ``real`` (M,) True
    where the coefficient is real, and the index of each kept mode in :func:`physconv.spectral.forward`'s
    (flattened) output."""

    grid: Grid
    kappa: np.ndarray
    lam: np.ndarray
    real: np.ndarray
    index: np.ndarray
    complex_basis: bool

    @property
    def dof(self) -> np.ndarray:
        """Real observations per mode and frame: 1 (real) or 2 (complex)."""
        return np.where(self.real, 1, 2)

    def coefficients(self, frames: np.ndarray) -> np.ndarray:
        """``(T, M)``: each frame's kept coefficients (complex when the basis is), scaled as above."""
        out = np.empty((len(frames), self.index.size), dtype=complex if self.complex_basis else float)
        scale = np.where(self.real, 1.0, np.sqrt(2.0))
        for i, f in enumerate(frames):
            c = spectral.forward(f, self.grid.boundaries).ravel()[self.index]
            out[i] = (c.real if not self.complex_basis else np.where(self.real, c.real, c)) * scale
        return out

    def field(self, coefficients: np.ndarray) -> np.ndarray:
        """The real field whose kept coefficients are ``coefficients`` (the others zero): the inverse of
        :meth:`coefficients` on the span of the kept modes."""
        g = self.grid
        shape = spectral.forward_shape(g.shape, g.boundaries)
        full = np.zeros(int(np.prod(shape)), dtype=complex if self.complex_basis else float)
        full[self.index] = coefficients / np.where(self.real, 1.0, np.sqrt(2.0))
        return spectral.inverse(full.reshape(shape), g.boundaries, g.shape)


def axis_wavenumbers(n: int, h: float, kind: str, count: int):
    """``(signed index, kappa)`` of the first ``count`` modes of an ``n``-cell axis of cell size ``h``:
    on a periodic axis the signed ``k`` (``k - n`` above ``n / 2``) and ``2 pi k / (n h)``; on a closed one
    zeros and ``theta / h`` (:func:`physconv.spectral.angles`)."""
    k = np.arange(count)
    if kind == "periodic":
        s = np.where(k <= n // 2, k, k - n)
        return s, 2 * np.pi * s / (n * h)
    return np.zeros_like(k), spectral.angles(n, kind)[:count] / h


def of(grid: Grid) -> Modes:
    """The kept modes of ``grid`` (see the module)."""
    bcs = grid.boundaries
    shape = spectral.forward_shape(grid.shape, bcs)
    halved = spectral._halved_axis(bcs)
    kappas, lams, signed = [], [], []
    keep = np.ones(shape, dtype=bool)
    for a, (n, h, b) in enumerate(zip(grid.shape, grid.spacing, bcs)):
        theta = spectral.angles(n, b.kind)[: shape[a]]
        s, kap = axis_wavenumbers(n, h, b.kind, shape[a])
        if b.kind == "periodic":
            nyq = (n % 2 == 0) & (np.abs(s) == n // 2)
            keep &= _along(~nyq, a, len(shape))
        kappas.append(kap)
        lams.append(4 * np.sin(theta / 2) ** 2 / h**2)
        signed.append(s)
    real = np.ones(shape, dtype=bool)
    if halved is not None:
        others = [a for a, b in enumerate(bcs) if b.kind == "periodic" and a != halved]
        on_zero = _along(signed[halved] == 0, halved, len(shape))
        # on the plane k_h = 0, (k, 0) and (-k, 0) are a conjugate pair: keep the lexicographically positive
        first = np.zeros(shape, dtype=int)
        for a in others:
            sa = _along(signed[a], a, len(shape))
            first = np.where(first == 0, np.sign(sa) * np.ones(shape, dtype=int), first)
        keep &= ~(on_zero & (first < 0))
        real = on_zero & (first == 0)
    index = np.flatnonzero(keep)
    grids = np.meshgrid(*kappas, indexing="ij")
    lgrids = np.meshgrid(*lams, indexing="ij")
    return Modes(grid, np.array([g.ravel()[index] for g in grids]), np.array([g.ravel()[index] for g in lgrids]),
                 real.ravel()[index], index, halved is not None)


def _along(v, axis: int, ndim: int):
    """``v`` shaped to broadcast along ``axis`` of an ``ndim``-array."""
    shape = [1] * ndim
    shape[axis] = -1
    return np.asarray(v).reshape(shape)

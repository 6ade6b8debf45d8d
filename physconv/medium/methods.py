"""Each method of a run on a medium, from plain arrays (the runner composes them; DESIGN §11).

A uniform medium whose step is one kernel — no solid cell, one D per axis, one velocity, and walls
that are periodic wherever there is drift — runs the kernel paths of a uniform run (fast transforms,
blocked loops, alias-table walkers) with :func:`~physconv.medium.step_kernel`; any other medium runs
the finite-volume forms of :mod:`.stepping` and the walkers of :mod:`.walkers`.
"""

from __future__ import annotations

import numpy as np

from .model import Medium, MediumError
from .operator import step_kernel


def kernel_of(m: Medium, dt: float) -> np.ndarray | None:
    """The step's kernel when one kernel describes a step of ``m`` (see the module), else None."""
    periodic = all(b.kind == "periodic" for b in m.grid.boundaries)
    if m.uniform and (m.still or periodic):
        return step_kernel(m, dt)
    return None


def why_not_spectral(m: Medium) -> str | None:
    """Why ``spectral`` (the exact power P^n) cannot run on ``m``, or None when it can."""
    from .stepping import MAX_EIGEN_CELLS

    if kernel_of(m, 1.0) is not None:
        return None
    if not m.still:
        return ("with a velocity and walls that are not all periodic, P is not symmetric and not one kernel: its "
                "power is not computed (eigenvectors may be ill-conditioned); semidiscrete is the reference")
    fluid = int((~m.solid).sum())
    if fluid > MAX_EIGEN_CELLS:
        return (f"P^n of a non-uniform medium is computed by a dense eigendecomposition of its {fluid} fluid cells; "
                f"at most {MAX_EIGEN_CELLS} (memory n^2, time n^3); semidiscrete runs at any size")
    return None


def why_not_gaussian(m: Medium) -> str | None:
    """Why the heat kernel does not describe ``m``, or None (uniform D per axis; drift on periodic walls)."""
    if not m.uniform:
        d = m.diffusivity.reshape(m.grid.ndim, -1)
        what = "obstacles" if m.solid.any() else "a diffusivity field" if not np.all(d == d[:, :1]) else \
            "a velocity field"
        return (f"with {what} the propagator depends on position: no single heat kernel describes it "
                "(compare explicit with semidiscrete)")
    if not m.still and not all(b.kind == "periodic" for b in m.grid.boundaries):
        return "the shifted heat kernel of a drift is exact only between periodic walls"
    return None


def explicit(m, u0, dt, steps, keep, tick, out=None):
    from .stepping import explicit as steps_of

    every = int(keep[1] - keep[0]) if len(keep) > 1 else None
    result = steps_of(m, u0, dt, steps, save_every=every, callback=tick, out=out)
    return result.frames if every or out is not None else result[None]


def implicit(m, u0, dt, steps, keep, tick, out=None):
    from .stepping import adi

    return adi(m, u0, dt, keep, callback=tick, out=out)


def spectral(m, u0, dt, keep, out=None):
    from .stepping import power

    reason = why_not_spectral(m)
    if reason is not None:
        raise MediumError(f"spectral: {reason}")
    return power(m, u0, dt, keep, out=out)


def semidiscrete(m, u0, times, out=None):
    from .stepping import semidiscrete as exact

    frames = exact(m, u0, np.asarray(times, dtype=float))
    if out is None:
        return frames
    for i, f in enumerate(frames):
        out[i] = f
    return out


def gaussian(m, u0, times, out=None):
    """The heat kernel of the medium's D per axis, shifted by ``v t`` (periodic walls) when it drifts."""
    from .. import spectral as sp

    reason = why_not_gaussian(m)
    if reason is not None:
        raise MediumError(f"gaussian: {reason}")
    if m.still:
        return sp.heat(u0, m.grid, diffusivity=m.axis_diffusivity, time=times, out=out)
    frames = np.empty((len(times),) + m.grid.shape) if out is None else out
    for i, t in enumerate(times):
        frames[i] = shifted_heat(u0, m.grid, m.axis_diffusivity, m.drift, float(t)) if t > 0 else u0
    return frames


def shifted_heat(u0, grid, D, v, t: float) -> np.ndarray:
    """The periodic heat solution of ``du/dt = D_a d2u/dx_a^2 - v_a du/dx_a`` sampled at the cell centres:
    the continuous heat kernel moved by ``v t`` (any shift, whole cells or not), its samples normalised
    over the lattice as :func:`physconv.spectral.heat` does. Per axis, each Fourier mode of the lattice
    is multiplied by the Poisson sum ``sum_m exp(-D q^2 t - i v q t)``, ``q = k + 2 pi m / h``, over the
    aliases ``|m| <= 3``, divided by its value at ``k = 0``."""
    c = np.fft.fftn(np.asarray(u0, dtype=float))
    for a, (n, h, Da, va) in enumerate(zip(grid.shape, grid.spacing, D, v)):
        k = 2 * np.pi * np.fft.fftfreq(n, d=h)
        q = np.add.outer(k, 2 * np.pi * np.arange(-3, 4) / h)
        factor = np.exp(-Da * q**2 * t - 1j * va * q * t).sum(axis=1)
        shape = [1] * grid.ndim
        shape[a] = n
        c = c * (factor / factor[0].real).reshape(shape)
    return np.fft.ifftn(c).real

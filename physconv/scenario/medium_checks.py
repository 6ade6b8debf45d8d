"""Checks of a scenario that writes a medium (DESIGN §11): the medium built from its keys, a medium
that is in fact uniform, still and isotropic run on the plain path, and what each method needs."""

from __future__ import annotations

import numpy as np

from ..grid import Grid
from .checks import _KeyProblem


def medium_of(s, grid: Grid):
    """The scenario's medium (None on the plain path), its key errors as ``_KeyProblem``.

    A medium written with the keys but uniform, still and isotropic (a layer of one value, an obstacle
    mask with no solid cell, a zero velocity) becomes the plain scalar diffusivity, which runs the plain
    path bit for bit."""
    from ..medium.keys import KeyError_

    try:
        m = s.medium(grid)
    except KeyError_ as exc:
        raise _KeyProblem(exc.path, exc.message) from None
    if m is not None and m.plain:
        s.diffusivity, s.obstacles, s.velocity = float(m.diffusivity.flat[0]), None, None
        s._medium = None
        return None
    return m


STEPPING = {"explicit": "explicit steps with P", "spectral": "spectral is the exact power of P",
            "monte_carlo": "lattice walkers jump with P's probabilities"}


def check_medium(s, grid: Grid, m) -> None:
    """What the methods need of a medium; raises ``_KeyProblem(path, message)``."""
    from ..medium import stable_dt
    from ..medium.methods import why_not_gaussian, why_not_spectral

    if s.dtype != "float64":
        raise _KeyProblem(("dtype",), "float32 storage is for FTCS with a scalar diffusivity; a medium computes "
                                      "in float64")
    if s.chunks is not None:
        raise _KeyProblem(("chunks",), "chunks: runs FTCS of a scalar diffusivity over a dask array; a medium "
                                       "runs whole: leave chunks: out")
    need = [k for k in s.methods if k in STEPPING and (k != "monte_carlo" or s.monte_carlo.lattice)]
    limit = stable_dt(m)
    if need and s.time.dt > limit * (1 + 1e-12):
        what = "diffusion and advection" if not m.still else "diffusion"
        u = s.unit_system()
        raise _KeyProblem(("time", "dt"), f"dt = {u.text(s.time.dt, 'time', 'g')} is beyond the stable limit of {what} "
                                          f"in this medium for {', '.join(need)} ({'; '.join(STEPPING[k] for k in need)}); "
                                          f"the largest stable dt is {u.text(limit, 'time')}: use a dt up to it (or dt: "
                                          "auto), or "
                                          "keep implicit and semidiscrete, which take any dt")
    for method, reason in (("spectral", why_not_spectral(m)), ("gaussian", why_not_gaussian(m))):
        if method in s.methods and reason is not None:
            raise _KeyProblem(("methods",), f"{method}: {reason}; drop it from methods")
    if "monte_carlo" in s.methods and not s.monte_carlo.lattice and any(
            b.kind == "dirichlet" for b in grid.boundaries):
        raise _KeyProblem(("monte_carlo", "lattice"), "Brownian particles in a medium have no rule for dirichlet "
                                                      "walls; lattice walkers (lattice: true) have none either")
    try:
        u0 = s.initial_field(grid)
    except (ValueError, OSError):
        return  # reported by the initial field's own check
    inside = m.solid & (u0 != 0)
    if inside.any() and s.obstacles.clear:
        s._u0 = (grid, np.where(m.solid, 0.0, u0))
    elif inside.any():
        first = tuple(float(c[i]) for c, i in zip(grid.coords().values(), np.argwhere(inside)[0]))
        where = ", ".join(f"{d} = {v:g}" for d, v in zip(grid.dims, first))
        share = float(np.abs(u0[inside]).sum() / (np.abs(u0).sum() or 1.0))
        said = (f"{int(inside.sum())} cells inside obstacles hold {share:.3g} of the initial field (the first at "
                f"{where})")
        if share > MAX_SHARE_INSIDE:
            raise _KeyProblem(("initial",), f"{said}; solid cells hold nothing: move the initial field or the "
                                            f"obstacles (up to {MAX_SHARE_INSIDE:g} of it, a smooth field's tail, "
                                            "is removed with a warning)")
        s._u0 = (grid, np.where(m.solid, 0.0, u0))
        s._notes.append((("initial",), f"{said}; solid cells hold nothing: it is removed"))


MAX_SHARE_INSIDE = 0.01  # more of the initial field than this inside obstacles is refused, less removed

"""Each method of a run, as the runner calls it: ``(scenario, grid, u0, kernel, keep, tick, out)`` in, the
frames out (or written to ``out[i]`` as each is reached). A medium (DESIGN §11) runs its own forms
(:mod:`physconv.medium.methods`); everything else the plain solvers."""

from __future__ import annotations

# Each method returns its frames, or with ``out`` writes them there (``out[i] = frame``) as it goes.

def step_kernel(s, grid):
    """The kernel of one step: the scenario's, a uniform medium's (:func:`physconv.medium.methods.kernel_of`),
    or None (FTCS of a scalar D, or a medium's finite-volume step)."""
    m = s.medium(grid)
    if m is None:
        return s.step_kernel()
    from .medium.methods import kernel_of

    return kernel_of(m, s.time.dt)


def _explicit(s, grid, u0, kernel, keep, tick, out=None):
    from .solvers import explicit

    every = _every(keep)
    m = s.medium(grid)
    if m is not None and kernel is None:
        from .medium import methods

        return methods.explicit(m, u0, s.time.dt, s.time.steps, keep, tick, out)
    if s.chunks is not None:  # the same loop over a chunked dask array (the active dask scheduler)
        from . import distributed

        frames = distributed.diffuse(u0, grid, steps=s.time.steps, chunks=tuple(s.chunks), save_every=every,
                                     dtype=s.dtype, **_step_args(s, kernel))
        result = frames.compute()
        tick(s.time.steps)
        if out is not None:
            for i, f in enumerate(result):
                out[i] = f
        return result
    if kernel is None:
        result = explicit.diffuse(u0, grid, diffusivity=s.diffusivity, dt=s.time.dt, steps=s.time.steps,
                                  save_every=every, callback=tick, dtype=s.dtype, out=out)
    else:
        result = explicit.propagate(u0, grid, kernel=kernel, steps=s.time.steps, save_every=every,
                                    callback=tick, out=out)
    return result.frames if every or out is not None else result[None]


def _implicit(s, grid, u0, kernel, keep, tick, out=None):
    from .solvers import implicit

    every = _every(keep)
    m = s.medium(grid)
    if m is not None:
        from .medium import methods

        return methods.implicit(m, u0, s.time.dt, s.time.steps, keep, tick, out)
    result = implicit.diffuse(u0, grid, diffusivity=s.diffusivity, dt=s.time.dt, steps=s.time.steps,
                              save_every=every, callback=tick, out=out)
    return result.frames if every or out is not None else result[None]


def _spectral(s, grid, u0, kernel, keep, tick, out=None):
    from . import spectral

    m = s.medium(grid)
    if m is not None and kernel is None:
        from .medium import methods

        return methods.spectral(m, u0, s.time.dt, keep, out)
    if kernel is None:
        return spectral.diffuse(u0, grid, diffusivity=s.diffusivity, dt=s.time.dt, steps=keep, out=out)
    return spectral.propagate(u0, grid, kernel=kernel, steps=keep, out=out)


def _semidiscrete(s, grid, u0, kernel, keep, tick, out=None):
    from . import medium
    from .medium import methods

    m = s.medium(grid) or medium.build(grid, float(s.diffusivity))
    return methods.semidiscrete(m, u0, keep * s.time.dt, out)


def _gaussian(s, grid, u0, kernel, keep, tick, out=None):
    from . import spectral
    from .runner import effective_diffusivity

    m = s.medium(grid)
    if m is not None:
        from .medium import methods

        return methods.gaussian(m, u0, keep * s.time.dt, out)
    return spectral.heat(u0, grid, diffusivity=effective_diffusivity(s, grid, kernel), time=keep * s.time.dt,
                         out=out)


def _monte_carlo(s, grid, u0, kernel, keep, tick, out=None, seed=None):
    from . import montecarlo as mc

    m = s.monte_carlo
    every = _every(keep)
    common = dict(steps=s.time.steps, particles=m.particles, seed=m.seed if seed is None else seed, save_every=every,
                  placement=m.placement, callback=tick, out=out)
    med = s.medium(grid)
    if med is not None and not m.lattice:  # Brownian particles in the medium (any medium, uniform or not)
        from .medium import brownian

        run = brownian(med, u0, s.time.dt, steps=s.time.steps, particles=m.particles, keep=keep,
                       seed=common["seed"], placement=m.placement, callback=tick, out=out)
    elif med is not None and kernel is None:
        from .medium import walkers

        run = walkers.lattice(med, u0, s.time.dt, keep=keep, mode=m.mode,
                              **{k: v for k, v in common.items() if k not in ("save_every",)})
    elif m.lattice:
        run = mc.lattice(u0, grid, mode=m.mode, jumps=m.jumps, **_step_args(s, kernel), **common)
    else:
        run = mc.brownian(u0, grid, diffusivity=s.diffusivity, dt=s.time.dt, bridge=m.bridge, jumps=m.jumps, **common)
    return run.counts if out is not None else run.concentration


def _step_args(s, kernel) -> dict:
    """What defines one step: the kernel, or the diffusivity and dt (FTCS)."""
    return {"kernel": kernel} if kernel is not None else {"diffusivity": s.diffusivity, "dt": s.time.dt}


def _every(keep):
    """The save interval behind the saved steps (None: only the last step)."""
    return int(keep[1] - keep[0]) if len(keep) > 1 else None


_METHODS = {"explicit": _explicit, "implicit": _implicit, "spectral": _spectral, "semidiscrete": _semidiscrete,
            "gaussian": _gaussian,
            "monte_carlo": _monte_carlo}

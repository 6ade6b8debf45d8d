"""Checks of a scenario as a whole (a stable time step, kernel limits, walls that Monte Carlo can
handle, memory, the initial field), ``time.end`` and ``dt: auto`` resolved, and advice."""

from __future__ import annotations

import math
import os

import numpy as np

from .. import kernels as _k
from ..errors import BoundaryError, GridError, KernelError, StabilityError
from ..grid import Grid

from .schema import AUTO_DT_SAFETY, FLOAT32_RANGE, MAX_STEPS, MAX_VALUE, Scenario


def resolve_time(s: Scenario) -> list[tuple[tuple, str]]:
    """Fill ``time.dt`` and ``time.steps`` with numbers (``dt: auto``, ``end:``); return what to say about it.

    ``dt: auto`` is :data:`AUTO_DT_SAFETY` times the largest stable explicit step, lowered (with ``end``)
    so that a whole number of steps reaches ``end`` exactly. With a number for ``dt``, ``end / dt`` must
    be a whole number (within 1e-9 of a step): a final time is never moved without being asked.
    """
    t = s.time
    if t.steps is not None and t.end is not None:
        raise _KeyProblem(("time", "end"), "give time.steps or time.end, not both")
    if t.steps is None and t.end is None:
        raise _KeyProblem(("time", "steps"), "is required (or give time.end, the final time)")
    said = []
    if t.dt == "auto":
        from .medium_checks import medium_of

        m = medium_of(s, _grid(s)) if s.diffusivity is not None else None
        if s.diffusivity is None:
            raise _KeyProblem(("time", "dt"), "auto picks the largest stable step of diffusion; with a kernel "
                                              "dt only labels time: give a number")
        from ..solvers.explicit import max_stable_dt

        if m is not None:
            from ..medium import stable_dt

            limit = stable_dt(m)
        else:
            limit = max_stable_dt(s.diffusivity, _grid(s).spacing)
        if not math.isfinite(limit):
            raise _KeyProblem(("time", "dt"), "auto needs a positive diffusivity (with D = 0 every dt is stable)")
        dt = AUTO_DT_SAFETY * limit
        if t.end is not None:
            steps = math.ceil(t.end / dt * (1 - 1e-12))
            dt = t.end / steps if steps else dt
            t.steps = steps
        t.dt = dt
        u = s.unit_system()
        to_end = f", {t.steps} steps to t = {u.text(t.end, 'time', 'g')}" if t.end is not None else ""
        said.append((("time", "dt"), f"auto: dt = {u.text(dt, 'time')} ({dt / limit:.4g} x the largest stable explicit "
                                     f"step {u.text(limit, 'time')}){to_end}"))
    elif t.end is not None:
        n = t.end / t.dt
        if abs(n - round(n)) > 1e-9 * max(1.0, n) or round(n) > MAX_STEPS:
            lo, hi = math.floor(n), math.ceil(n)
            fits = ", ".join(f"dt = {t.end / k:.6g} ({k} steps)" for k in (hi, lo) if k > 0)
            raise _KeyProblem(("time", "end"), f"end = {t.end:g} is {n:.6g} steps of dt = {t.dt:g}, not a whole "
                                               f"number; use {fits}, or dt: auto")
        t.steps = int(round(n))
    return said


CENTRE_WARNING = 0.01  # warn when the step kernel keeps this much or less at its centre


def advice(s: Scenario) -> list[tuple[tuple, str]]:
    """Warnings ``(key path, message)`` for a valid scenario: a step at the stability limit.

    When the step's kernel keeps (almost) nothing at its centre, odd and even
    cells stop talking to each other: a point spreads as a checkerboard, and the
    explicit, spectral and lattice results are far from the heat solution.
    """
    out = []
    note = s.initial.note(s.make_grid(), s._base_dir)
    if note:
        out.append((("initial", "path"), note))
    made = s.kernel_probabilities()
    if made is not None and made.warning:
        out.append((("kernel",), f"{made.warning} (choose with normalize: none, sum or softmax)"))
    return out + list(s._notes) + _centre_advice(s)


def _centre_advice(s: Scenario) -> list[tuple[tuple, str]]:
    stepping = {"explicit", "spectral"} | ({"monte_carlo"} if s.monte_carlo.lattice else set())
    if not stepping & set(s.methods) or s.medium() is not None:
        return []
    grid = s.make_grid()
    kernel = s.step_kernel()
    if kernel is None:
        from ..solvers.explicit import max_stable_dt

        total = sum(_k.ftcs_numbers(s.diffusivity, s.time.dt, grid.spacing))
        if 1 - 2 * total > CENTRE_WARNING:
            return []
        limit = max_stable_dt(s.diffusivity, grid.spacing)
        return [(("time", "dt"), f"the explicit step keeps {1 - 2 * total:.3g} of each cell's salt at the centre "
                                 f"(sum of D dt/dx^2 = {total:.4g}, limit 1/2): odd and even cells decouple and a "
                                 f"point spreads as a checkerboard; dt = {limit / 2:.6g} keeps 1/2, and any dt "
                                 f"below {limit * (1 - CENTRE_WARNING):.6g} keeps more than 1 %")]
    centre = float(kernel[tuple((np.array(kernel.shape) - 1) // 2)])
    if centre > CENTRE_WARNING:
        return []
    return [(("kernel",), f"the step kernel keeps only {centre:.3g} at its centre: odd and even cells may "
                          "decouple (a checkerboard); a larger centre weight (with softmax: a higher temperature) avoids it")]


class _KeyProblem(Exception):
    def __init__(self, path, message):
        super().__init__(message)
        self.path, self.message = tuple(path), message


def _grid(s: Scenario) -> Grid:
    try:
        return s.make_grid()
    except GridError as exc:
        raise _KeyProblem(("grid",), str(exc)) from None
    except BoundaryError as exc:
        raise _KeyProblem(exc.key, str(exc)) from None


def check(s: Scenario, max_bytes: int | None = None) -> None:
    """Whole-scenario checks; raises ``_KeyProblem(path, message)``."""
    grid = _grid(s)
    try:
        kernel = s.step_kernel()
    except KernelError as exc:
        raise _KeyProblem(("kernel", "weights" if s.kernel.weights is not None else "name"), str(exc)) from None
    if kernel is None and s.diffusivity is None:
        raise _KeyProblem(("diffusivity",), "give a diffusivity (length^2 / time), or a kernel:")
    if kernel is not None and s.diffusivity is not None:
        raise _KeyProblem(("kernel",), "give a diffusivity or a kernel, not both (the kernel sets the diffusion)")
    from .medium_checks import check_medium, medium_of

    medium = medium_of(s, grid)
    if medium is not None:
        check_medium(s, grid, medium)
    _check_methods(s, grid, kernel, medium is not None)
    if s.dtype != "float64" and (kernel is not None or "explicit" not in s.methods):
        raise _KeyProblem(("dtype",), "float32 storage is for the explicit method with a diffusivity "
                                      "(FTCS); kernels and the other methods compute in float64")
    kinds = {b.kind for b in grid.boundaries}
    if s.dtype != "float64" and "absorbing" in kinds and "dirichlet" in kinds and s.boundary_value:
        raise _KeyProblem(("dtype",), "float32 storage has no round-off bound with absorbing walls beside "
                                      "dirichlet walls of non-zero value; use float64")
    if s.chunks is not None:
        if len(s.chunks) != grid.ndim:
            raise _KeyProblem(("chunks",), f"give one chunk length per axis ({grid.ndim}), got {len(s.chunks)}")
        reach = 1 if kernel is None else max((w - 1) // 2 for w in kernel.shape)
        small = [min(c, n % c or c) for c, n in zip(s.chunks, grid.shape)]
        if min(small) < reach:
            raise _KeyProblem(("chunks",), f"chunks of {small} cells (the last along each axis) are smaller than "
                                           f"the kernel's reach ({reach})")
        if "explicit" not in s.methods:
            raise _KeyProblem(("chunks",), "chunks: is for the explicit method (a chunked dask array); the "
                                           f"methods {', '.join(s.methods)} run whole; leave chunks: out")
        from .. import distributed

        reaches = [1] * grid.ndim if kernel is None else [(w - 1) // 2 for w in kernel.shape]
        periodic = [b.kind == "periodic" for b in grid.boundaries]
        tasks = distributed.task_count(grid.shape, s.chunks, reaches, s.saved_steps(), periodic)
        if tasks > distributed.MAX_TASKS or math.prod(-(-n // c) for n, c in zip(grid.shape, s.chunks)) \
                > distributed.MAX_CHUNKS:
            fit = distributed.chunks_that_fit(grid.shape, s.chunks, reaches, s.saved_steps(), periodic)
            hint = f"chunks of {fit} would fit" if fit else "even one chunk per axis has too many steps between frames"
            raise _KeyProblem(("chunks",), f"chunks of {list(s.chunks)} make a task graph of about {tasks:,} tasks "
                                           f"(chunks x exchanges), more than the {distributed.MAX_TASKS:,} (and "
                                           f"{distributed.MAX_CHUNKS:,} chunks) that run in bounded time and "
                                           f"memory; {hint}")
    limit = max_bytes if max_bytes is not None else _default_max_bytes()
    need = s.memory_estimate()
    if need > limit:
        particles = s.memory_estimate(particles_only=True)
        key = ("monte_carlo", "particles") if particles > need / 2 else (
            ("time", "save_every") if s.frame_count() > 100 else ("grid", "shape"))
        raise _KeyProblem(key, f"this run needs about {need / 2**30:.1f} GiB, more than the "
                               f"{limit / 2**30:.1f} GiB allowed; use fewer cells, frames (time.save_every) "
                               "or particles")
    try:
        u0 = s.initial_field(grid)
    except (ValueError, OSError) as exc:
        key = ("initial", "path") if getattr(s.initial, "path", None) else ("initial",)
        raise _KeyProblem(key, str(exc)) from None
    if not np.all(np.isfinite(u0)):
        raise _KeyProblem(("initial",), "the initial field contains NaN or infinite values")
    if np.abs(u0).max(initial=0.0) > MAX_VALUE:
        raise _KeyProblem(("initial",), f"the initial field reaches {np.abs(u0).max():.3g}; values up to "
                                        f"{MAX_VALUE:g} in size keep every method free of overflow")
    if s.dtype == "float32":
        peak = max(float(np.abs(u0).max(initial=0.0)), abs(s.boundary_value or 0.0))
        if peak > FLOAT32_RANGE[1] or 0 < peak < FLOAT32_RANGE[0]:
            raise _KeyProblem(("dtype",), f"float32 storage holds fields whose largest value is from "
                                          f"{FLOAT32_RANGE[0]:g} to {FLOAT32_RANGE[1]:g} in size (its round-off "
                                          f"bound needs normal float32 numbers); this one reaches {peak:.3g}: "
                                          "use float64")
    if "monte_carlo" in s.methods and np.any(u0 < 0):
        raise _KeyProblem(("initial",), f"monte_carlo needs a non-negative initial field (min {u0.min():.4g})")
    if "monte_carlo" in s.methods and not u0.sum() > 0:
        raise _KeyProblem(("initial",), "monte_carlo needs an initial field with some salt in it (all zero)")


def _check_methods(s: Scenario, grid: Grid, kernel, medium: bool = False) -> None:
    from .. import spectral
    from ..solvers.explicit import check_stable

    if len(set(s.methods)) != len(s.methods):
        raise _KeyProblem(("methods",), "each method may be named once")
    kinds = {b.kind for b in grid.boundaries}
    if kernel is None and not medium:
        try:
            check_stable(s.diffusivity, s.time.dt, grid.spacing)
        except StabilityError:
            need = [m for m in s.methods if m in _NEEDS_STABLE_STEP and (m != "monte_carlo" or s.monte_carlo.lattice)]
            if need:
                raise _KeyProblem(("time", "dt"), _unstable_message(s, grid, need)) from None
    if kernel is not None:
        for a, (w, n, b) in enumerate(zip(kernel.shape, grid.shape, grid.boundaries)):
            if b.kind != "periodic" and (w - 1) // 2 > n:
                raise _KeyProblem(("kernel",), f"the kernel reaches {(w - 1) // 2} cells along axis "
                                               f"{grid.dims[a]} but that axis has only {n} cells between "
                                               f"{b.kind} walls; use a smaller kernel or a larger grid")
    if "implicit" in s.methods and kernel is not None:
        raise _KeyProblem(("methods",), "implicit solves the diffusion equation: it takes a diffusivity, not a kernel")
    if "spectral" in s.methods and kernel is not None:
        try:
            spectral.check_kernel(kernel, grid.boundaries, grid.shape)
        except KernelError as exc:
            raise _KeyProblem(("kernel",), f"spectral: {exc}") from None
    if "gaussian" in s.methods:
        if wall_value_nonzero(grid) and "absorbing" in kinds:
            raise _KeyProblem(("boundary",), "gaussian cannot mix absorbing walls with a non-zero boundary_value")
        if kernel is not None:
            m = _k.moments(kernel, grid.spacing, s.time.dt)
            off = m.covariance - np.diag(np.diag(m.covariance))
            if np.abs(m.mean).max() > 1e-12 * max(grid.spacing) or np.abs(off).max() > 1e-12 * np.abs(m.covariance).max():
                raise _KeyProblem(("kernel",), "gaussian needs a kernel without drift and with a diagonal covariance "
                                               f"(this one drifts by {m.mean.round(6).tolist()} per step)")
    if "monte_carlo" in s.methods:
        if "dirichlet" in kinds and (s.monte_carlo.lattice or wall_value_nonzero(grid)):
            raise _KeyProblem(("methods",), "monte_carlo has no lattice rule for dirichlet walls; Brownian particles "
                                            "(monte_carlo.lattice: false) take dirichlet walls of value 0 (removed at "
                                            "the face); else drop monte_carlo or use periodic, reflecting or absorbing")
        if not s.monte_carlo.lattice and kernel is not None:
            raise _KeyProblem(("monte_carlo", "lattice"), "Brownian particles (lattice: false) need a diffusivity, "
                                                          "not a kernel")
        if s.monte_carlo.mode == "counts" and not s.monte_carlo.lattice:
            raise _KeyProblem(("monte_carlo", "mode"), "counts mode moves lattice walkers; set lattice: true")


_NEEDS_STABLE_STEP = {
    "explicit": "explicit takes FTCS steps",
    "spectral": "spectral is the exact power of the explicit step",
    "monte_carlo": "lattice walkers jump with the explicit step's weights as probabilities",
}


def _unstable_message(s: Scenario, grid: Grid, need: list[str]) -> str:
    """Why dt is too large for the asked-for methods ``need``, and the two ways out."""
    from ..solvers.explicit import max_stable_dt

    total = sum(_k.ftcs_numbers(s.diffusivity, s.time.dt, grid.spacing))
    limit = max_stable_dt(s.diffusivity, grid.spacing)
    free = [m for m in s.methods if m not in need]
    drop = f"drop {', '.join(need)}" + (f" ({', '.join(free)} {'takes' if len(free) == 1 else 'take'} any dt)"
                                        if free else "; implicit and gaussian take any dt")
    if "monte_carlo" in need:
        drop += "; Brownian particles (monte_carlo.lattice: false) take any dt too"
    u = s.unit_system()
    return (f"dt = {u.text(s.time.dt, 'time', 'g')} is unstable for {', '.join(need)} (sum of D dt/dx^2 = {total:.4g} "
            f"> 1/2: {'; '.join(_NEEDS_STABLE_STEP[m] for m in need)}); the largest stable dt is "
            f"{u.text(limit, 'time')}: "
            f"use a dt up to it, or {drop}")


def wall_value_nonzero(grid: Grid) -> bool:
    return any(b.kind == "dirichlet" and b.value != 0 for b in grid.boundaries)


def _default_max_bytes() -> int:
    try:
        return int(0.8 * os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not POSIX
        return 8 * 2**30



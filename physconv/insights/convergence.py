"""The approximations err as theory says: measured orders of convergence.

A scenario is run on grids refined by 2, 4, 8 … with ``dt`` refined by 4,
8², … so that ``D dt/dx²`` stays fixed and the same final time is reached.
The difference between each approximation and the heat solution must then
fall as ``dx²`` (``explicit`` and ``implicit`` against ``gaussian``: slope 2 on
log-log axes). Monte Carlo is refined in the particle number instead: its
relative error against its exact expectation falls as ``N^-1/2``.

Initial fields keep their physical shape under refinement (``random_cubes``
and ``checkerboard`` blocks grow with the refinement in cells); an ``array``
file has one fixed shape and cannot be refined.
"""

from __future__ import annotations

import numpy as np
import xarray as xr
from matplotlib.figure import Figure

from .. import metrics, runner, scenario as _scenario

THEORY = {"explicit-gaussian": 2.0, "implicit-gaussian": 2.0, "spectral-gaussian": 2.0, "monte_carlo": -0.5}


def refined(s: _scenario.Scenario, factor: int, overrides=(), methods=None) -> _scenario.Scenario:
    """The scenario on a grid ``factor`` times finer, with ``dt / factor²`` and ``steps * factor²``;
    only the last step is kept."""
    if s.kernel is not None:
        raise ValueError("convergence refines diffusivity scenarios (a kernel is defined in cells, not lengths)")
    if s.initial.kind == "array":
        raise ValueError("an initial 'array' has one fixed shape and cannot be refined; use another kind")
    spacing = np.broadcast_to(np.asarray(s.grid.spacing, dtype=float), (len(s.grid.shape),))
    steps = s.time.steps * factor**2
    extra = [f"grid.shape={[n * factor for n in s.grid.shape]}", f"grid.spacing={(spacing / factor).tolist()}",
             f"time.dt={s.time.dt / factor**2!r}", f"time.steps={steps}", "time.end=null",
             f"time.save_every={max(steps, 1)}"]
    if s.initial.kind == "random_cubes":
        extra.append(f"initial.cube={s.initial.cube * factor}")
    if s.initial.kind == "checkerboard":
        extra.append(f"initial.size={s.initial.size * factor}")
    if methods is not None:
        extra.append(f"methods=[{', '.join(methods)}]")
    return _scenario.load(s.source, [*overrides, *extra])


def orders(s: _scenario.Scenario, levels: int = 3, overrides=(), particles=None, say=None) -> xr.Dataset:
    """Errors per refinement level and the fitted orders (attributes ``order_<pair>``).

    Returns a Dataset with ``rel_l2`` on (pair, level) and ``dx`` on level; with Monte Carlo in the
    scenario also ``mc_rel_l2`` on ``particles`` (``particles``: the numbers to try, default the
    scenario's N times 1, 4, 16, …) and ``order_monte_carlo``. Every level is validated (its memory
    included) before the first runs; ``say`` gets a line as each run starts.
    """
    if not 2 <= levels <= 6:
        raise ValueError(f"levels must be 2 to 6, got {levels}")
    grid_methods = [m for m in s.methods if m in ("explicit", "implicit", "spectral", "gaussian")]
    if "gaussian" not in grid_methods or len(grid_methods) < 2:
        raise ValueError("convergence needs gaussian and at least one of explicit, implicit, spectral")
    if "explicit" in grid_methods and "spectral" in grid_methods:
        grid_methods.remove("spectral")  # the same numbers as explicit
    runs = []  # every level validated (and refused) before any runs
    for level in range(levels):
        try:
            runs.append(refined(s, 2**level, overrides, grid_methods))
        except _scenario.ScenarioError as exc:
            raise ValueError(f"level {level} of {levels} ({2**level} times finer) is refused before any level runs: "
                             f"{exc}") from None
    mc_runs = []
    if "monte_carlo" in s.methods:
        n0 = s.monte_carlo.particles
        ns = particles if particles is not None else [n0 * 4**j for j in range(levels)]
        mc_runs = [_scenario.load(s.source, [*overrides, "methods=[monte_carlo]", f"monte_carlo.particles={n}",
                                             f"time.save_every={max(s.time.steps, 1)}"]) for n in ns]
    total = len(runs) + len(mc_runs)
    errors, dx = {}, []
    for level, r in enumerate(runs):
        if say is not None:
            say(f"[{level + 1}/{total}] level {level}: {' x '.join(map(str, r.grid.shape))} cells, "
                f"{r.time.steps} steps")
        cmp = metrics.compare(runner.run(r, progress=False))
        dx.append(float(np.min(r.make_grid().spacing)))
        for i, pair in enumerate(cmp["pair"].values):
            if str(cmp["pair_kind"].values[i]) == "approx" and pair.endswith("-gaussian"):
                errors.setdefault(str(pair), []).append(float(cmp["rel_l2"][i, -1]))
    ds = xr.Dataset({"rel_l2": (("pair", "level"), np.array(list(errors.values()))),
                     "dx": ("level", np.array(dx))}, coords={"pair": list(errors), "level": np.arange(levels)})
    for pair, e in errors.items():
        ds.attrs[f"order_{pair}"] = float(np.polyfit(np.log(dx), np.log(e), 1)[0])
    if mc_runs:
        mc = []
        for j, (n, r) in enumerate(zip(ns, mc_runs)):
            if say is not None:
                say(f"[{len(runs) + j + 1}/{total}] monte_carlo with {n} particles")
            mc.append(float(metrics.compare(runner.run(r, progress=False))["mc_rel_l2"][-1]))
        ds["mc_rel_l2"] = ("particles", np.array(mc))
        ds = ds.assign_coords(particles=np.array(ns))
        ds.attrs["order_monte_carlo"] = float(np.polyfit(np.log(ns), np.log(mc), 1)[0])
    return ds


def insight(scenario_path="diffusion_1d", levels: int = 3, overrides=(), say=None):
    """Numbers and figure for ``physconv insight convergence SCENARIO`` (``say``: a line per run)."""
    s = _scenario.load(scenario_path, list(overrides))
    ds = orders(s, levels, overrides, say=say)
    numbers = {"scenario": s.name, "levels": levels, "dx": ds["dx"].values.tolist(),
               "errors": {str(p): ds["rel_l2"].sel(pair=p).values.tolist() for p in ds["pair"].values},
               "orders": {k[6:]: v for k, v in ds.attrs.items() if k.startswith("order_")},
               "theory": {k: v for k, v in THEORY.items() if f"order_{k}" in ds.attrs}}
    if "mc_rel_l2" in ds:
        numbers["particles"] = ds["particles"].values.tolist()
        numbers["mc_errors"] = ds["mc_rel_l2"].values.tolist()
    with_mc = "mc_rel_l2" in ds
    fig = Figure(figsize=(11 if with_mc else 6, 4.2), layout="constrained")
    ax = fig.subplots(1, 2 if with_mc else 1, squeeze=False)[0]
    dx = ds["dx"].values
    for i, pair in enumerate(ds["pair"].values):
        e = ds["rel_l2"].sel(pair=pair).values
        ax[0].loglog(dx, e, "o", color=f"C{i}", label=f"{pair}: measured order {ds.attrs[f'order_{pair}']:.3f}")
        ax[0].loglog(dx, e[-1] * (dx / dx[-1]) ** THEORY[str(pair)], "--", color=f"C{i}", lw=1,
                     label=f"theory: order {THEORY[str(pair)]:g}")
    ax[0].set_xlabel("dx (dt = r dx² / D, r = D dt/dx² fixed)")
    ax[0].set_ylabel("relative L2 difference at the last time")
    ax[0].legend(fontsize=7)
    ax[0].set_title("grid methods against the heat solution", fontsize=9)
    if with_mc:
        n, e = ds["particles"].values, ds["mc_rel_l2"].values
        ax[1].loglog(n, e, "s", color="C3", label=f"measured slope {ds.attrs['order_monte_carlo']:.3f}")
        ax[1].loglog(n, e[0] * (n / n[0]) ** -0.5, "k--", lw=1, label="theory: slope -1/2")
        ax[1].set_xlabel("particles N")
        ax[1].set_ylabel("relative L2 error against the exact expectation")
        ax[1].legend(fontsize=7)
        ax[1].set_title("Monte Carlo", fontsize=9)
    fig.suptitle(f"{s.name}: the approximations converge at the orders theory gives", fontsize=10)
    return numbers, fig

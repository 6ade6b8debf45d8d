"""physconv in a notebook: scenarios, results and comparisons that show themselves as HTML, and animations that
play inline.

A :class:`~physconv.scenario.Scenario` shows its keys; a result shows its methods, walls and comparison through
the ``physconv`` accessor, which this module registers on every :class:`xarray.Dataset`::

    ds = physconv.run("salt_aquarium")
    ds.physconv                      # the run, its walls and its verdicts, coloured
    ds.physconv.compare().frame      # the table as a pandas DataFrame
    ds.physconv.plot()               # the overview Figure ("snapshots", "errors", "profiles", ...)
    ds.physconv.animate()            # a GIF that plays in the notebook (.save(path) writes it)

Nothing here is needed outside a notebook: the command line prints the same tables as text.
"""

from __future__ import annotations

import base64
import io
import json

import numpy as np
import xarray as xr

from . import units as _units
from ._html import escape, fields


def _walls(text: str) -> str:
    try:
        return ", ".join(f"{k}: {v}" for k, v in json.loads(text).items())
    except (TypeError, ValueError):
        return str(text)


def scenario_rows(s) -> list[tuple[str, str]]:
    """``(key, value)`` rows that say what a scenario will run."""
    u = s.unit_system()
    grid = s.make_grid()
    rows = [("name", s.name)]
    if s.description:
        rows.append(("description", s.description))
    rows.append(("size", _units.span(s.grid.shape, s.grid.spacing, s.time.steps, s.time.dt, u)))
    if not u.dimensionless:
        rows.append(("units", f"length {u.label('length') or '1'}, time {u.label('time') or '1'}"))
    rows.append(("walls", ", ".join(f"{d}: {b.kind}" for d, b in zip(grid.dims, grid.boundaries))))
    if s.kernel is not None:
        rows.append(("kernel", s.kernel.name or f"weights {s.kernel_weights().shape}"))
    elif s.diffusivity is not None:
        d = s.diffusivity
        D = d if isinstance(d, (int, float, list)) else f"field ({d.kind})"
        rows.append(("diffusivity", f"{D} {u.label('diffusivity')}".rstrip()))
    for key in ("obstacles", "velocity"):
        value = getattr(s, key)
        if value is not None:
            rows.append((key, value if isinstance(value, list) else f"{value.kind}"))
    rows.append(("initial", s.initial.kind))
    rows.append(("time", f"dt {s.time.dt:g}, {s.time.steps} steps, {s.frame_count()} frames saved (every "
                         f"{s.save_every})"))
    rows.append(("methods", ", ".join(s.methods)))
    if "monte_carlo" in s.methods:
        m = s.monte_carlo
        rows.append(("monte_carlo", f"{m.particles:,} {'lattice walkers' if m.lattice else 'Brownian particles'}, "
                                    f"{m.mode}, seed {m.seed}"))
    rows += [("warning", w) for w in s.warnings]
    return rows


def scenario_html(s) -> str:
    return f'<div class="physconv-scenario"><b>physconv scenario</b>{fields(scenario_rows(s))}</div>'


def result_rows(ds: xr.Dataset) -> list[tuple[str, str]]:
    """``(key, value)`` rows that say what a result holds."""
    a = ds.attrs
    u = _units.of(ds)
    rows = [("name", a.get("title", "")), ("methods", ", ".join(json.loads(a.get("methods", "[]"))))]
    if "time" in ds.coords and ds.sizes.get("time"):
        spacing = [float(v) for v in np.atleast_1d(a.get("spacing", 1.0))]
        rows.append(("size", _units.span(ds["initial"].shape, spacing, int(a.get("steps", 0)),
                                         float(a.get("dt", 1.0)), u)))
        rows.append(("saved", f"{ds.sizes['time']} frames, up to t = {_units.time_text(ds, float(ds['time'][-1]))}"))
    if "boundary" in a:
        rows.append(("walls", _walls(a["boundary"])))
    if "diffusivity" in a:
        rows.append(("diffusivity", f"{a['diffusivity']:g} {u.label('diffusivity')}".rstrip()))
    if "medium" in a:
        rows.append(("medium", f"{a['medium']}, obstacle faces {a.get('obstacle_wall', '-')}"))
    rows.append(("software", a.get("software", "")))
    return rows


def result_html(ds: xr.Dataset, comparison=None) -> str:
    from .comparison import html

    head = f'<div class="physconv-result"><b>physconv result</b>{fields(result_rows(ds))}'
    table = html(comparison.dataset) if comparison is not None else ""
    return head + table + "</div>"


class Animation:
    """A GIF made by :func:`physconv.plot.animate`: a notebook plays it inline; :meth:`save` writes it."""

    def __init__(self, data: bytes):
        self.data = data

    def save(self, path) -> None:
        with open(path, "wb") as f:
            f.write(self.data)

    def _repr_html_(self) -> str:
        return f'<img src="data:image/gif;base64,{base64.b64encode(self.data).decode()}" alt="animation"/>'

    def __repr__(self) -> str:
        return f"<physconv Animation: GIF of {len(self.data):,} bytes>"


@xr.register_dataset_accessor("physconv")
class ResultView:
    """``ds.physconv``: a physconv result read as one (see the module). The comparison is computed once, on
    first use."""

    def __init__(self, ds: xr.Dataset):
        self._ds = ds
        self._cmp = None

    def compare(self):
        """The :class:`physconv.comparison.Comparison` of the result (printed: the table of ``physconv compare``)."""
        from .comparison import Comparison

        if self._cmp is None:
            self._cmp = Comparison.of(self._ds)
        return self._cmp

    def plot(self, kind: str = "overview", **kwargs):
        """A Figure: ``overview`` (default), ``snapshots``, ``differences`` (``a=``, ``b=``), ``errors``,
        ``profiles``, ``spacetime`` — the functions of :mod:`physconv.plot`, which take ``ax=`` for one panel."""
        from . import plot

        if kind not in ("overview", "snapshots", "differences", "errors", "profiles", "spacetime"):
            raise ValueError(f"kind {kind!r}: choose overview, snapshots, differences, errors, profiles, spacetime")
        if kind in ("overview", "errors") and "cmp" not in kwargs:
            kwargs["cmp"] = self.compare().dataset
        return getattr(plot, kind)(self._ds, **kwargs)

    def animate(self, path=None, **kwargs) -> Animation:
        """The methods side by side over time, as an :class:`Animation` (also written to ``path`` if given)."""
        from . import plot

        return plot.animate(self._ds, path, **kwargs)

    def _repr_html_(self) -> str:
        if "methods" not in self._ds.attrs:
            return f"<p>{escape('not a physconv result (no methods attribute)')}</p>"
        return result_html(self._ds, self.compare())

    def __repr__(self) -> str:
        if "methods" not in self._ds.attrs:
            return "not a physconv result (no methods attribute)"
        lines = [f"{k}: {v}" for k, v in result_rows(self._ds)]
        return "\n".join(lines + ["", str(self.compare())])


def gif_bytes(write) -> bytes:
    """Bytes of a GIF that ``write(file)`` writes."""
    buffer = io.BytesIO()
    write(buffer)
    return buffer.getvalue()

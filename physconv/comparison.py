"""The comparison of a result as something to compute with and to look at: a pandas DataFrame with one row per
pair (the rows of ``physconv compare``), and a :class:`Comparison` that prints as that table and shows in a
notebook as HTML with its verdicts coloured.

The numbers are those of :func:`physconv.metrics.compare`; the text cells of :func:`physconv.metrics.rows` are
these numbers formatted, so the DataFrame and the printed table say the same thing (tested).
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from . import metrics
from ._html import escape, table

COLUMNS = ("pair", "kind", "max_abs_diff_rel", "rel_l2_last", "predicted_rel_l2_last", "verdict", "max_abs_z",
           "z_bound", "min_chi2_p")
GOOD, NOTE, BAD = "#1a7f37", "#9a6700", "#cf222e"  # the verdict's colour: agreed / to read / failed


def frame(cmp: xr.Dataset):
    """The comparison as a :class:`pandas.DataFrame`, one row per pair in the order of :func:`metrics.rows`.

    Columns: ``pair``, ``kind`` (exact, approx, stat), ``max_abs_diff_rel`` (``max |a - b| / max |u0|`` over the
    saved times), ``rel_l2_last`` (||a - b|| / ||b|| at the last time; Monte Carlo: against its exact
    expectation), ``predicted_rel_l2_last`` (theory's, NaN where it has none), ``verdict``; for the Monte
    Carlo row ``max_abs_z``, ``z_bound`` and ``min_chi2_p`` (NaN on the other rows).
    """
    import pandas as pd

    text = metrics.rows(cmp)
    records = []
    names = [str(p) for p in cmp.coords.get("pair", xr.DataArray([])).values]
    for i, name in enumerate(names):
        records.append({"pair": name, "kind": str(cmp["pair_kind"].values[i]),
                        "max_abs_diff_rel": float(cmp["max_abs_diff"][i].max()) / cmp.attrs["scale"],
                        "rel_l2_last": float(cmp["rel_l2"][i, -1]),
                        "predicted_rel_l2_last": float(cmp["predicted_rel_l2"][i, -1]), "verdict": text[i][5]})
    if len(text) > len(names):  # the Monte Carlo row
        row = text[len(names)]
        later = slice(1, None) if cmp.sizes["time"] > 1 else slice(None)
        ps = cmp["mc_chi2_p"][later].values
        records.append({"pair": row[0], "kind": "stat", "max_abs_diff_rel": np.nan,
                        "rel_l2_last": float(cmp["mc_rel_l2"][-1]),
                        "predicted_rel_l2_last": float(cmp["mc_expected_rel_l2"][-1]), "verdict": row[5],
                        "max_abs_z": float(np.max(cmp["mc_max_abs_z"][later].values)),
                        "z_bound": float(np.min(cmp["mc_z_bound"][later].values)),
                        "min_chi2_p": float(np.nanmin(ps)) if np.isfinite(ps).any() else np.nan})
    return pd.DataFrame.from_records(records, columns=list(COLUMNS))


def mass_frame(cmp: xr.Dataset):
    """Mass drift ``(M(t) - M(0)) / M(0)`` per method at the last saved time, as a DataFrame indexed by method."""
    import pandas as pd

    return pd.DataFrame({"mass_drift_last": cmp["mass_drift"][:, -1].values},
                        index=pd.Index([str(m) for m in cmp["method"].values], name="method"))


def colour(verdict: str) -> str:
    """The colour a verdict is shown in: green when the pair agrees as it must, red when it does not, amber
    for what needs reading (smaller than predicted, no prediction, float32 round-off)."""
    v = verdict.lower()
    if v.startswith(("agree to round-off", "as predicted", "consistent")):
        return GOOD
    if v.startswith(("disagree", "larger than predicted", "inconsistent", "no verdict")):
        return BAD
    return NOTE


def html(cmp: xr.Dataset) -> str:
    """The comparison table as HTML (well-formed: it parses as XML), verdicts coloured by :func:`colour`."""
    body = metrics.rows(cmp)
    if not body:
        return "<p>no pair of methods to compare: run two or more of explicit, implicit, spectral, gaussian</p>"
    verdict = 'style="color:{};font-weight:bold;white-space:normal"'
    cells = [[escape(c) for c in r[:5]] + [f"<span {verdict.format(colour(r[5]))}>{escape(r[5])}</span>"]
             for r in body]
    mass = [[escape(str(m)), f"{float(cmp['mass_drift'][j, -1]):.3e}"] for j, m in enumerate(cmp["method"].values)]
    return (table(metrics.HEADER, cells, raw=True)
            + table(("method", "mass drift (last)"), mass, raw=True))


class Comparison:
    """:func:`physconv.metrics.compare`'s Dataset with ways to read it: ``print`` gives the table of
    ``physconv compare``, a notebook shows it as HTML, :attr:`frame` is a DataFrame and :attr:`dataset` the
    numbers per saved time."""

    def __init__(self, cmp: xr.Dataset):
        self.dataset = cmp

    @classmethod
    def of(cls, ds: xr.Dataset) -> Comparison:
        return cls(metrics.compare(ds))

    @property
    def frame(self):
        return frame(self.dataset)

    @property
    def ok(self) -> bool:
        """Every pair agrees as it must (every verdict green)."""
        return all(colour(r[5]) == GOOD for r in metrics.rows(self.dataset))

    def __str__(self) -> str:
        return metrics.table(self.dataset)

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        return f'<div class="physconv-comparison">{html(self.dataset)}</div>'


def compare(ds: xr.Dataset) -> Comparison:
    """The :class:`Comparison` of a result: ``physconv.compare(ds)`` prints as ``physconv compare``'s table, shows
    as HTML in a notebook and gives a DataFrame (``.frame``)."""
    return Comparison.of(ds)

"""Sweep and ensemble stores read back: their metadata checked, their done-marks and damaged variants
(:mod:`physconv.store_check`), and the table across the variants."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import xarray as xr

from .sweep_axes import SweepError

PAIR_VARS = ("max_abs_diff", "rel_l2", "predicted_max_abs_diff", "predicted_rel_l2")  # pair x frame
MC_VARS = ("mc_max_abs_z", "mc_z_bound", "mc_chi2_p", "mc_rel_l2", "mc_expected_rel_l2", "mc_alive_z")  # frame
COMPARE_VARS = PAIR_VARS + ("tolerance", "mass_drift") + MC_VARS
ATTRS_DTYPE = "<U1024"  # a variant's comparison settings (JSON text)
REDUCTION_VARS = ("mean", "std", "sem", "exact", "mean_rel_l2", "spread_rel_l2")  # physconv.ensemble.reduce



def compare_attrs(ds: xr.Dataset, index: tuple) -> dict:
    """The comparison settings stored with the variant at ``index`` (empty if none)."""
    if "compare_attrs" not in ds:
        return {}
    text = ds["compare_attrs"].values[tuple(index)]
    if not isinstance(text, str) or not text:  # not done (or masked out as not done)
        return {}
    return json.loads(text)


def is_store(path) -> bool:
    """Whether ``path`` is a sweep store (read from its attributes file, without opening it)."""
    attrs = Path(path) / ".zattrs"
    try:
        return attrs.is_file() and bool(json.loads(attrs.read_text()).get("physconv_sweep"))
    except (OSError, ValueError):
        return False


def open_sweep(path) -> xr.Dataset:
    """A sweep store as an xarray Dataset (lazy), its metadata checked: SweepError in one line naming
    what is damaged."""
    path = Path(path)
    if not is_store(path):
        raise SweepError(f"{path}: not a physconv sweep store")
    try:
        ds = xr.open_zarr(path, consolidated=False)
    except Exception as exc:  # noqa: BLE001 - zarr and xarray fail in many ways on damaged metadata
        from .store_check import metadata_problem

        what = metadata_problem(path) or f"{path}: {type(exc).__name__}: {' '.join(str(exc).split())[:150]}"
        raise SweepError(f"a damaged sweep store: {what}; remove it or choose another --out") from None
    try:
        axes = json.loads(ds.attrs["axes"])
        if not isinstance(axes, list) or not all(isinstance(a, list) and len(a) == 2 and isinstance(a[0], str)
                                                 and len(a[1]) == ds.sizes.get(a[0].replace(".", "_"), -1)
                                                 for a in axes):
            raise ValueError
    except (KeyError, TypeError, ValueError):
        raise SweepError(f"{path / '.zattrs'}: the attribute 'axes' (the swept keys and values) is damaged; "
                         "remove the store or choose another --out") from None
    if "done" not in ds:
        raise SweepError(f"{path / 'done'}: missing (the done-marks); remove the store or choose another --out")
    return ds


def done_state(path, shape) -> tuple[np.ndarray, dict]:
    """``(marks, damaged)``: the done-marks read chunk by chunk (a damaged one read as not done), and
    ``{index: phrase}`` of the damaged marks."""
    from . import store_check

    try:
        return store_check.done_marks(Path(path), tuple(shape))
    except store_check.DamagedStore as exc:
        raise SweepError(f"{exc}; remove the store or choose another --out") from None


def state(path, ds: xr.Dataset) -> tuple[np.ndarray, dict]:
    """``(marks, damaged)`` of a store opened by :func:`open_sweep`: every marked variant's chunks
    checked (:func:`physconv.store_check.damaged`); a damaged variant's mark is 0 in ``marks``."""
    from . import store_check

    dims = tuple(d for _, d in axes_of(ds))
    marks, bad = done_state(path, tuple(ds.sizes[d] for d in dims))
    finished = [tuple(i) for i in np.argwhere(marks != 0)]
    try:
        bad.update(store_check.damaged(Path(path), dims, finished, [str(m) for m in ds["method"].values]))
    except store_check.DamagedStore as exc:
        raise SweepError(f"{exc}; remove the store or choose another --out") from None
    for index in bad:
        marks[index] = 0
    return marks, bad


def kind_of(ds: xr.Dataset) -> str:
    """``'sweep'`` or ``'ensemble'``."""
    return "ensemble" if ds.attrs.get("kind") == "ensemble" else "sweep"


def axes_of(ds: xr.Dataset) -> list[tuple[str, str]]:
    """``(key, dim)`` of every swept key of a store."""
    return [(key, key.replace(".", "_")) for key, _ in json.loads(ds.attrs["axes"])]


def table(ds: xr.Dataset, marks: np.ndarray, damaged: dict | None = None) -> str:
    """One table across the variants of a sweep store: the variant's values, then each pair's row
    (``marks``, ``damaged``: from :func:`state`)."""
    from . import metrics

    damaged = damaged or {}
    axes = axes_of(ds)
    rows = []
    for index in itertools.product(*(range(ds.sizes[d]) for _, d in axes)):
        sel = {d: i for (_, d), i in zip(axes, index)}
        one = ds.isel(sel)
        label = " ".join(f"{key}={_coord(one[d])}" for key, d in axes) or ds.attrs.get("title", "")
        if tuple(index) in damaged:
            rows.append((label, f"(damaged: {damaged[tuple(index)]}; re-run the sweep)", "", "", "", "", ""))
            continue
        if marks[tuple(index)] == 0:
            rows.append((label, "(not done)", "", "", "", "", ""))
            continue
        cmp = _comparison(ds, one)
        rows += [(label,) + r for r in metrics.rows(cmp)]
    header = ("variant",) + metrics.HEADER
    return metrics.format_rows(header, rows, left=(0, 1, 2, 6))


def _coord(da) -> str:
    v = da.values.item()
    return f"{v:g}" if isinstance(v, float) else str(v)


def _comparison(ds, one) -> xr.Dataset:
    names = [n for n in COMPARE_VARS if n in one]
    cmp = one[names].rename(frame="time").load()
    cmp = cmp.assign_coords(time=("time", one["time"].values), step=("time", one["step"].values))
    cmp.attrs = json.loads(str(one["compare_attrs"].values)) if "compare_attrs" in one else {}
    cmp.attrs["scale"] = float(one["scale"])
    return cmp

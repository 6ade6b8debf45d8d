"""A sweep store written: its template (lazily NaN, one chunk per variant), its identity checked when
it is opened again, each variant's region and done-mark, and the token that lets workers write frames."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import xarray as xr

from . import identity as _identity
from .sweep_axes import SweepError, _text
from .sweep_read import (ATTRS_DTYPE, COMPARE_VARS, MC_VARS, PAIR_VARS, REDUCTION_VARS, done_state, is_store,
                         open_sweep)

if TYPE_CHECKING:
    from .sweep import Plan, Variant

TOKEN = "done/.physconv-token"  # in a store: a random text the client wrote, that a worker reads to know it
# sees the store (beside the done-marks' chunks, where listing the store's members does not look)

def _template(p: Plan) -> xr.Dataset:
    """The whole store, lazily NaN (dask), with its coordinates and attributes."""
    import dask.array as da

    first = p.variants[0].scenario
    grid = first.make_grid()
    keys = tuple(a.dim for a in p.axes)
    kshape = p.shape
    frames = first.frame_count()
    space = grid.dims
    per_variant = (1,) * len(keys)

    def nan(dims, shape, chunks, dtype=float):
        fill = np.nan if np.dtype(dtype).kind == "f" else 0
        return (keys + dims, da.full(kshape + shape, fill, dtype=dtype, chunks=per_variant + chunks))

    data = {m: nan(("frame",) + space, (frames,) + grid.shape, (1,) + grid.shape) for m in first.methods}
    data["initial"] = nan(space, grid.shape, grid.shape)
    data["time"] = nan(("frame",), (frames,), (frames,))
    data["step"] = nan(("frame",), (frames,), (frames,), np.int64)
    from . import metrics

    named = metrics.pair_names(first.methods, first.medium() is not None, not first.monte_carlo.lattice) \
        if p.compare else []
    pairs, kinds = [n for n, _ in named], [k for _, k in named]
    if pairs:
        for name in PAIR_VARS:
            data[name] = nan(("pair", "frame"), (len(pairs), frames), (len(pairs), frames))
        data["tolerance"] = nan(("pair",), (len(pairs),), (len(pairs),))
    if p.compare:
        data["mass_drift"] = nan(("method", "frame"), (len(first.methods), frames), (len(first.methods), frames))
    if "monte_carlo" in first.methods and p.compare:
        for name in MC_VARS:
            data[name] = nan(("frame",), (frames,), (frames,))
    data["scale"] = nan((), (), ())
    if p.compare:
        data["compare_attrs"] = (keys, da.full(kshape, "", dtype=ATTRS_DTYPE, chunks=per_variant))
    data["done"] = nan((), (), (), np.int64)
    coords = {a.dim: a.coordinate() for a in p.axes}
    coords.update({d: c for d, c in grid.coords().items()} if _same_spacing(p) else {})
    coords["method"] = list(first.methods)
    if pairs:
        coords["pair"], coords["pair_kind"] = pairs, ("pair", kinds)
    ds = xr.Dataset(data, coords=coords)
    ds.attrs = {"physconv_sweep": 1, "scenario": p.text, "source": str(p.source),
                "axes": json.dumps([[a.key, [_text(v) for v in a.values]] for a in p.axes]),
                "title": first.name, "kind": "sweep" if p.compare else "ensemble",
                "identity": json.dumps(p.identity)}
    return ds


def _same_spacing(p: Plan) -> bool:
    return len({tuple(v.scenario.make_grid().spacing) for v in p.variants}) == 1


def open_or_create(store: Path, p: Plan, create: bool = True, damaged: dict | None = None) -> np.ndarray:
    """The done-marks of the variants (0: not done), creating the store if it is not there (and ``create``);
    a damaged mark reads as 0 and goes into ``damaged`` (index -> what is damaged).

    Raises SweepError if ``store`` holds something else, or a sweep over other keys or values.
    """
    template = _template(p)
    if not store.exists():
        from .io import check_writable

        check_writable(store.parent)
        if create:
            template.to_zarr(store, compute=False, mode="w-", zarr_format=2, consolidated=False)
        return np.zeros(p.shape, dtype=np.int64)
    if not is_store(store):
        raise SweepError(f"{store}: exists and is not a physconv sweep store; choose another --out")
    old = open_sweep(store)
    extra = set(old.data_vars) - set(template.data_vars)  # an ensemble's reduction, written after its replicas
    if old.attrs.get("axes") != template.attrs["axes"] or set(template.data_vars) - set(old.data_vars) \
            or (extra and (p.compare or not extra <= set(REDUCTION_VARS))) \
            or any(old.sizes.get(d) != n for d, n in template.sizes.items()):
        raise SweepError(f"{store}: holds a sweep over other keys, values or methods; choose another --out "
                         "or remove it")
    try:
        before = json.loads(old.attrs["identity"])
        if not isinstance(before, dict):
            raise ValueError
    except (KeyError, TypeError, ValueError):
        raise SweepError(f"{store}: has no readable record of the scenario and files it holds (written by an older "
                         "physconv, or damaged); choose another --out or remove it") from None
    changed = _identity.difference(before, p.identity, str(old.attrs.get("scenario", "")), p.text)
    if changed:
        raise SweepError(f"{store}: holds the results of another input: {changed}; choose another --out or remove "
                         "it (a store never mixes results of different inputs)")
    marks, bad = done_state(store, p.shape)
    if damaged is not None:
        damaged.update(bad)
    return marks


def _revoke_token(store: Path) -> None:
    """Replace the store's token, so that no running task writes to it again (see :class:`_Region`)."""
    try:
        _write_token(store)
    except OSError:  # the store went away: nothing can write into it through a token either
        pass


def _write_token(store: Path) -> str:
    """A new random token in the store, for :func:`run_variant` to tell whether a worker sees the store."""
    import secrets

    token = secrets.token_hex(16)
    (store / TOKEN).write_text(token, encoding="utf-8")
    return token


def write_variant(store: Path, p: Plan, v: Variant, ds: xr.Dataset, cmp, frames_written: bool = False) -> None:
    """Write one variant's result and comparison to its region (its frames too, unless a worker wrote
    them already: ``frames_written``), then its done-mark."""
    region = {a.dim: slice(i, i + 1) for a, i in zip(p.axes, v.index)}
    def plain(da):
        return tuple("frame" if d == "time" else d for d in da.dims), da.values

    one = xr.Dataset({m: plain(ds[m]) for m in ([] if frames_written else v.scenario.methods)})
    one["initial"] = plain(ds["initial"])
    one["time"] = ("frame", ds["time"].values)
    one["step"] = ("frame", ds["step"].values.astype(np.int64))
    for name in COMPARE_VARS:
        if cmp is not None and name in cmp:
            one[name] = plain(cmp[name])
    one["scale"] = float(cmp.attrs["scale"]) if cmp is not None else np.nan
    if cmp is not None:  # the verdicts' settings are the variant's own (walls, dtype, walkers may be swept)
        one["compare_attrs"] = ((), np.array(_attrs_text(cmp), dtype=ATTRS_DTYPE))
    one = one.expand_dims({a.dim: 1 for a in p.axes})
    if "pair" in one.dims:
        one = one.transpose(*(a.dim for a in p.axes), "pair", ...)
    one.attrs = {}
    one.to_zarr(store, region={**region, **{d: slice(None) for d in one.dims if d not in region}}, mode="r+",
                zarr_format=2, consolidated=False)
    mark = xr.Dataset({"done": ((), np.int64(v.fingerprint))}).expand_dims({a.dim: 1 for a in p.axes})
    mark.to_zarr(store, region=region, mode="r+", zarr_format=2, consolidated=False)


def _attrs_text(cmp) -> str:
    """The comparison's settings (tolerance, alpha, walls conserving mass, Monte Carlo reference) as JSON."""
    text = json.dumps({k: (v.item() if isinstance(v, np.generic) else v) for k, v in cmp.attrs.items()
                       if k != "scale"}, allow_nan=False, default=str)
    if len(text) > int(ATTRS_DTYPE[2:]):
        raise SweepError(f"the comparison's settings take {len(text)} characters, more than a store holds")
    return text



"""Parameter sweeps and Monte Carlo ensembles on dask.distributed, resumable, in one Zarr store.

A sweep is the Cartesian product of the values given for some scenario keys
(:func:`parse_axis`); every variant is validated before anything runs
(:func:`plan`) and is one task. The store (:func:`create`) is an xarray
Dataset with one dimension per swept key, then ``frame`` (the saved steps)
and the grid's axes: one variable per method, the initial field, ``time`` and
``step`` per frame, and the comparison (:func:`physconv.metrics.compare`) of
every variant. A worker that sees the store (a local cluster, a shared disk)
writes each frame to its variant's region as it is reached; one that does not
sends the frames back with the rest. A variant is completed in its region as
soon as it comes back, then marked done with a hash of its scenario text (a
failed variant's frames are cleared), so an interrupted
sweep loses nothing finished, and the same command resumes it: variants whose
mark matches their text are skipped, and a changed scenario runs again.

An ensemble runs one scenario's Monte Carlo method ``R`` times with the seeds
``SeedSequence(seed).spawn(R)`` (replica ``r`` is exactly the single run with
seed ``spawn(R)[r]``), stores every replica, and reduces them to the mean,
standard deviation and standard error per cell (:func:`physconv.ensemble.reduce`).

The tasks run on a ``LocalCluster`` started here (:func:`physconv.cluster.connect`), or on any
running scheduler given by its address; workers need physconv installed and
must see any file the scenario names (image or array initials).
"""

from __future__ import annotations

import itertools
import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import xarray as xr
import yaml

from . import identity as _identity
from . import scenario as _scenario
from .errors import PhysconvError

MAX_VARIANTS = 100_000
PAIR_VARS = ("max_abs_diff", "rel_l2", "predicted_max_abs_diff", "predicted_rel_l2")  # pair x frame
MC_VARS = ("mc_max_abs_z", "mc_z_bound", "mc_chi2_p", "mc_rel_l2", "mc_expected_rel_l2", "mc_alive_z")  # frame
COMPARE_VARS = PAIR_VARS + ("tolerance", "mass_drift") + MC_VARS
ATTRS_DTYPE = "<U1024"  # a variant's comparison settings (JSON text)
REDUCTION_VARS = ("mean", "std", "sem", "exact", "mean_rel_l2", "spread_rel_l2")  # physconv.ensemble.reduce


class SweepError(PhysconvError):
    """A sweep that cannot be planned, or a store that holds something else."""


@dataclass(frozen=True)
class Axis:
    """One swept key: its path (``kernel.temperature``), its values and its dimension name."""

    key: str
    values: tuple

    @property
    def dim(self) -> str:
        return self.key.replace(".", "_")

    def coordinate(self) -> np.ndarray:
        """The values as a coordinate: numbers stay numbers, anything else becomes its YAML text."""
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in self.values):
            return np.array(self.values)
        return np.array([_text(v) for v in self.values], dtype=str)


def _text(value) -> str:
    return json.dumps(value) if not isinstance(value, str) else value


def parse_axis(item: str) -> Axis:
    """``KEY=V1,V2,...`` (YAML values; commas inside brackets belong to the value), or a range
    ``KEY=START:STOP:NUM`` (NUM values evenly spaced, both ends included) or ``KEY=START:STOP:NUM:log``
    (geometrically spaced). Whole-number ranges of whole-number ends stay whole numbers."""
    key, sep, spec = item.partition("=")
    key = key.strip()
    if not sep or not key or not spec.strip():
        raise SweepError(f"--set {item!r}: expected KEY=V1,V2,... or KEY=START:STOP:NUM[:log]")
    parts = spec.split(":")
    if len(parts) in (3, 4) and all(_number(p) is not None for p in parts[:3]):  # else text with colons
        return Axis(key, _range(item, *parts))
    values = tuple(_yaml_value(item, v) for v in _split_top_level(spec))
    _distinct(item, values)
    return Axis(key, values)


def _number(text: str):
    """``text`` as a number (YAML's, or Python's ``float``, which also reads ``1e-3``), or None."""
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    try:
        return float(str(text).strip())
    except ValueError:
        return None


def _distinct(item: str, values) -> None:
    """Refuse a value given twice, comparing values (``1`` and ``1.0``, ``0.1`` and ``1e-1`` are one)."""
    for i, a in enumerate(values):
        for b in values[:i]:
            if a == b or _text(a) == _text(b):
                same = "is given twice" if _text(a) == _text(b) else f"and {_text(a)} are the same value"
                raise SweepError(f"--set {item!r}: {_text(b)} {same}; each variant runs once")


def _range(item, start, stop, num, scale="linear"):
    a, b = (_number(v) for v in (start, stop))
    n = _number(num)
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in (a, b)):
        raise SweepError(f"--set {item!r}: a range needs numbers at both ends")
    if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= MAX_VARIANTS:
        raise SweepError(f"--set {item!r}: the number of values must be a whole number from 1 to {MAX_VARIANTS}")
    if scale.strip() == "log":
        if a <= 0 or b <= 0:
            raise SweepError(f"--set {item!r}: a log range needs positive ends")
        values = np.geomspace(a, b, n)
    elif scale.strip() == "linear":
        values = np.linspace(a, b, n)
    else:
        raise SweepError(f"--set {item!r}: the fourth part of a range is 'log' (or 'linear'), got {scale!r}")
    if isinstance(a, int) and isinstance(b, int) and np.allclose(values, np.rint(values), rtol=0, atol=1e-9):
        out = tuple(int(v) for v in np.rint(values))
        if len(set(out)) != len(out):
            raise SweepError(f"--set {item!r}: whole-number values repeat; use fewer values or a wider range")
        return out
    return tuple(float(f"{v:.15g}") for v in values)  # 0.08, not linspace's 0.08000000000000002


def _yaml_value(item, text):
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        raise SweepError(f"--set {item!r}: {text!r} is not a YAML value") from None


def _split_top_level(spec: str) -> list[str]:
    parts, depth, current = [], 0, ""
    for ch in spec:
        depth += ch in "[{"
        depth -= ch in "]}"
        if ch == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += ch
    parts.append(current)
    if any(not p.strip() for p in parts):
        raise SweepError(f"empty value in {spec!r}")
    return [p.strip() for p in parts]


@dataclass
class Variant:
    """One point of the sweep: its index along each axis, its overrides and its validated scenario."""

    index: tuple
    overrides: list
    scenario: _scenario.Scenario
    label: str = ""
    mc_seed: object = None  # an ensemble replica's SeedSequence
    tag: str = ""  # what else than the scenario text makes the variant (the replica and the ensemble size)
    fingerprint: int = 0  # its done-mark: its text under the store's identity (set by the plan)


@dataclass
class Plan:
    source: Path
    text: str
    axes: list
    variants: list
    layout: dict = field(default_factory=dict)
    compare: bool = True  # store each variant's comparison (sweeps; not ensemble replicas)
    identity: dict = field(default_factory=dict)  # what determines the values (physconv.identity)
    files: dict = field(default_factory=dict)  # {path: SHA-256} of every file a variant reads

    def __post_init__(self):
        self.identity, self.files = _identity.of_plan(self.text, self.common, [v.scenario for v in self.variants])
        for v in self.variants:
            v.fingerprint = _identity.variant_mark(v.scenario.text + v.tag, self.identity)

    @property
    def common(self) -> list:
        """The overrides every variant shares (those before its own swept values)."""
        return self.variants[0].overrides[:len(self.variants[0].overrides) - len(self.axes)] \
            if self.compare else self.variants[0].overrides

    @property
    def shape(self) -> tuple:
        return tuple(len(a.values) for a in self.axes)


def plan(source, axes: list[Axis], base_overrides=(), max_bytes: int | None = None, held: bool = True) -> Plan:
    """Validate every variant (the product of the axes' values) and check that all share one layout.

    ``max_bytes`` bounds a variant's memory: with ``held`` (workers that may not see the store, so send
    their frames back) all its frames, else (local workers, which write them to the store) its working
    arrays and one frame, as for a single run.

    Raises
    ------
    ScenarioError or SweepError
        One line naming the variant and the key.
    """
    path = _scenario.resolve(source)
    keys = [a.key for a in axes]
    if len(set(keys)) != len(keys):
        raise SweepError(f"--set {next(k for k in keys if keys.count(k) > 1)} is given twice")
    total = math.prod(len(a.values) for a in axes)
    if total > MAX_VARIANTS:
        raise SweepError(f"{total} variants; a sweep has at most {MAX_VARIANTS}")
    variants, layout = [], None
    for index in itertools.product(*(range(len(a.values)) for a in axes)):
        own = [f"{a.key}={_text(a.values[i])}" for a, i in zip(axes, index)]
        try:
            s = _scenario.load(path, list(base_overrides) + own, max_bytes=max_bytes)
            if held:
                _check_held(s, path, max_bytes)
        except PhysconvError as exc:
            raise type(exc)(f"variant {' '.join(own)}: {exc}") from None
        mine = _layout(s)
        if layout is None:
            layout = mine
        elif mine != layout:
            what = next(k for k in mine if mine[k] != layout[k])
            hint = (" (every variant saves the same number of frames: leave time.save_every out for about ten "
                    "each, or choose values whose steps / save_every agree)" if what == "frames" else "")
            raise SweepError(f"variant {' '.join(own)}: changes the result's {what} ({layout[what]} -> {mine[what]}); "
                             f"one store holds variants of one layout: sweep that key in separate runs{hint}")
        variants.append(Variant(index, list(base_overrides) + own, s, " ".join(own) or s.name))
    axes = [_typed(a, i, variants) for i, a in enumerate(axes)]
    if "time.dt" in keys and variants and variants[0].scenario.time.end is None:
        import warnings

        warnings.warn("sweeping time.dt with time.steps fixed: each variant ends at its own time (steps x dt); "
                      "give time.end instead of time.steps to keep the final time", stacklevel=2)
    return Plan(path, path.read_text(encoding="utf-8"), list(axes), variants, layout or {})


def _typed(axis: Axis, position: int, variants) -> Axis:
    """The axis with its values as the validated scenarios hold them: a number written as text that
    YAML 1.1 reads as a string (``1e-2``) becomes the number the scenario has; values equal as numbers
    are refused as given twice."""
    values = list(axis.values)
    for v in variants:
        i = v.index[position]
        if isinstance(values[i], str):
            held = _value_at(v.scenario.model_dump(mode="json"), axis.key)
            if isinstance(held, (int, float)) and not isinstance(held, bool) and _number(values[i]) == held:
                values[i] = held
    for i, a in enumerate(values):
        for j in range(i):
            if a == values[j] or _text(a) == _text(values[j]):
                raise SweepError(f"--set {axis.key}: {_text(axis.values[j])} and {_text(axis.values[i])} are the "
                                 f"same value ({_text(a)}) for {axis.key}; each variant runs once")
    return Axis(axis.key, tuple(values))


def _value_at(data, key: str):
    for part in key.split("."):
        if not isinstance(data, dict) or part not in data:
            return None
        data = data[part]
    return data


def _check_held(s, path, max_bytes) -> None:
    """A variant keeps all its frames in memory until its task returns them: refuse it if they do not fit."""
    limit = max_bytes if max_bytes is not None else _scenario._default_max_bytes()
    need = s.memory_estimate(held=True)
    if limit is not None and need > limit:
        raise SweepError(f"{path}: a variant holds its frames in memory and needs about {need / 2**30:.1f} GiB, "
                         f"more than the {limit / 2**30:.1f} GiB allowed; use fewer cells or frames "
                         "(time.save_every)")


def plan_ensemble(source, replicas: int, base_overrides=(), max_bytes: int | None = None,
                  held: bool = True) -> Plan:
    """``replicas`` runs of the scenario's Monte Carlo method, replica ``r`` with the seed
    ``SeedSequence(monte_carlo.seed).spawn(replicas)[r]`` (``max_bytes``, ``held``: as for :func:`plan`)."""
    if not isinstance(replicas, int) or not 2 <= replicas <= MAX_VARIANTS:
        raise SweepError(f"--replicas must be a whole number from 2 to {MAX_VARIANTS}")
    path = _scenario.resolve(source)
    base = _scenario.load(path, list(base_overrides), max_bytes=max_bytes)
    if "monte_carlo" not in base.methods:
        raise SweepError(f"{path}: methods: an ensemble needs monte_carlo among the methods")
    overrides = list(base_overrides) + ["methods=[monte_carlo]"]
    s = _scenario.load(path, overrides, max_bytes=max_bytes)
    if held:
        _check_held(s, path, max_bytes)
    seeds = np.random.SeedSequence(s.monte_carlo.seed).spawn(replicas)
    variants = [Variant((r,), overrides, s, f"replica {r}", seeds[r], f"\n# replica {r} of {replicas}")
                for r in range(replicas)]
    return Plan(path, path.read_text(encoding="utf-8"), [Axis("replica", tuple(range(replicas)))], variants,
                _layout(s), compare=False)


def _layout(s) -> dict:
    grid = s.make_grid()
    return {"grid shape": tuple(grid.shape), "frames": s.frame_count(), "methods": tuple(s.methods),
            "kernel shape": None if s.step_kernel() is None else s.step_kernel().shape}


# --- running -----------------------------------------------------------------------------------------

def run_variant(text: str, source: str, base_dir: str, overrides: list, threads: int | None = None,
                mc_seed=None, compare: bool = True, stream=None, files: dict | None = None):
    """Parse and run one variant where it lands (a worker); return ``(result, comparison, written)``.

    ``stream`` = ``(store, token, index)``: if this worker sees the store (its token file holds
    ``token``), each method's frames go to the variant's region of the store as they are reached
    (cleared again if the variant fails), the result returned holds the rest (initial field, times),
    and ``written`` is True. Otherwise, as on workers that do not share the client's disk, the frames
    come back in the result. ``files``: ``{path: SHA-256}`` of the files the scenario reads, as the store
    records them; a file this worker reads otherwise (changed since, or another machine's copy) is refused.
    """
    import numba

    from . import metrics, runner

    if threads:
        numba.set_num_threads(max(1, min(threads, numba.config.NUMBA_NUM_THREADS)))
    s = _scenario.parse(text, source=source, base_dir=base_dir, overrides=overrides)
    for key, path in _identity.input_files(s).items():
        want = (files or {}).get(str(path))
        if want is not None and _identity.file_digest(path) != want:
            raise SweepError(f"{key}: the file {path} changed after the sweep started (or differs on this worker); "
                             "nothing of this variant was written")
    regions = _regions(stream, s.methods) if stream is not None else None
    try:
        ds = runner.run(s, progress=False, mc_seed=mc_seed, store=regions)
        cmp = metrics.compare(ds) if compare else None
    except BaseException:
        for region in (regions or {}).values():
            region.clear()
        raise
    if regions is not None:
        ds = ds.drop_vars(s.methods)
    return ds, cmp, regions is not None


TOKEN = "done/.physconv-token"  # in a store: a random text the client wrote, that a worker reads to know it
# sees the store (beside the done-marks' chunks, where listing the store's members does not look)


def _regions(stream, methods) -> dict | None:
    """The variant's region of each method in the store, if this process sees the store, else None."""
    store, token, index = stream
    try:
        seen = (Path(store) / TOKEN).read_text(encoding="utf-8")
    except OSError:
        return None
    if seen != token:
        return None
    import zarr

    return {m: _Region(zarr.open_array(str(Path(store) / m), mode="r+", zarr_format=2), tuple(index),
                       Path(store) / TOKEN, token) for m in methods}


class _Region:
    """One variant's frames of one method in a sweep store: ``region[i] = frame`` writes frame i,
    ``region[key]`` reads (an array-like for dask).

    A frame is written only while the store's token is the one the task was given: a client that
    stops (Ctrl-C, SIGTERM, an error) revokes it, so a task still running on a remote worker writes
    nothing more, and a store removed after the command ends is not brought back by it.
    """

    def __init__(self, array, index: tuple, token_path: Path, token: str):
        self.array, self.index, self.token_path, self.token = array, index, token_path, token
        self.shape, self.dtype, self.ndim = array.shape[len(index):], np.dtype(array.dtype), array.ndim - len(index)

    def _valid(self) -> bool:
        try:
            return self.token_path.read_text(encoding="utf-8") == self.token
        except OSError:
            return False

    def __setitem__(self, i, frame):
        if not self._valid():
            raise SweepError("the sweep was stopped (its store's token was revoked or removed): this variant writes "
                             "nothing more")
        self.array[self.index + (i,)] = frame

    def __getitem__(self, key):
        return self.array[self.index + (key if isinstance(key, tuple) else (key,))]

    def clear(self) -> None:
        if self._valid():  # a revoked store is not written, not even to clear
            self.array[self.index] = np.nan


@dataclass
class Outcome:
    """What a sweep did: variants run now, skipped as done, and failed (label -> message)."""

    ran: list = field(default_factory=list)
    skipped: list = field(default_factory=list)
    failed: dict = field(default_factory=dict)


def pending(store: Path, p: Plan, create: bool = True, damaged: dict | None = None) -> tuple[list, list]:
    """``(to run, done)``: the variants whose done-mark in ``store`` does not (does) match their text and
    identity, a marked variant whose chunks are not whole (:mod:`physconv.store_check`) counted as not
    done and put in ``damaged`` (label -> what is damaged). Without ``create``, a missing store is only
    checked to be writable (nothing is written)."""
    bad_marks: dict = {}
    marks = open_or_create(Path(store), p, create, bad_marks)
    if damaged is not None:
        labels = {v.index: v.label for v in p.variants}
        damaged.update({labels[i]: what for i, what in bad_marks.items()})
    if marks.any():
        from . import store_check

        finished = [v.index for v in p.variants if marks[v.index] == v.fingerprint]
        try:
            broken = store_check.damaged(Path(store), tuple(a.dim for a in p.axes), finished,
                                         p.variants[0].scenario.methods)
        except store_check.DamagedStore as exc:
            raise SweepError(f"{exc}; the store cannot say what it holds: remove it or choose another --out") from None
        for v in p.variants:
            if v.index in broken:
                marks[v.index] = 0
                if damaged is not None:
                    damaged[v.label] = broken[v.index]
    todo = [v for v in p.variants if marks[v.index] != v.fingerprint]
    return todo, [v for v in p.variants if marks[v.index] == v.fingerprint]


def run(p: Plan, store: Path, client, say=print, threads: int | None = None, poll=None) -> Outcome:
    """Run the variants of ``p`` not yet done in ``store`` on ``client``; write each as it comes back.

    ``say`` gets one progress line per finished variant; ``poll()`` runs while waiting (it may raise
    to stop: finished variants are kept).
    """
    from distributed import wait

    store = Path(store)
    todo, skipped = pending(store, p)
    out = Outcome(skipped=[v.label for v in skipped])
    say(f"{len(p.variants)} variants: {len(out.skipped)} done before, {len(todo)} to run")
    start = time.perf_counter()
    token = _write_token(store)
    futures = {client.submit(run_variant, p.text, str(p.source), str(p.source.parent), v.overrides, threads,
                             v.mc_seed, p.compare, (str(store.resolve()), token, v.index), p.files,
                             pure=False): v
               for v in todo}
    waiting = set(futures)
    count = len(out.skipped)
    try:
        while waiting:
            try:
                finished, waiting = wait(list(waiting), timeout=0.5, return_when="FIRST_COMPLETED")
                waiting = set(waiting)
            except TimeoutError:  # none finished within the timeout
                finished = set()
            for fut in finished:
                v = futures.pop(fut)
                count += 1
                if fut.status == "error":
                    exc = fut.exception()
                    out.failed[v.label] = f"{type(exc).__name__}: {exc}" if not isinstance(exc, PhysconvError) else str(exc)
                    say(f"[{count}/{len(p.variants)}] {v.label}: FAILED: {out.failed[v.label]}")
                    continue
                ds, cmp, written = fut.result()
                write_variant(store, p, v, ds, cmp, frames_written=written)
                out.ran.append(v.label)
                say(f"[{count}/{len(p.variants)}] {v.label}: done, {time.perf_counter() - start:.1f} s since the start")
            if poll is not None:
                poll()
    finally:
        if waiting:  # stopped before every task came back: tasks still running write nothing more
            _revoke_token(store)
        for fut in futures:
            fut.cancel()
    return out


# --- the store -------------------------------------------------------------------------------------

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

    named = metrics.pair_names(first.methods) if p.compare else []
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

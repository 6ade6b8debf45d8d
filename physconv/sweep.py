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
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import identity as _identity
from . import scenario as _scenario
from .errors import PhysconvError
# the parts, re-exported: sweep.X is the API for sweeps (axes, the store written, the store read)
from .sweep_axes import MAX_VARIANTS, Axis, SweepError, _number, _text, parse_axis  # noqa: F401
from .sweep_read import (COMPARE_VARS, MC_VARS, PAIR_VARS, axes_of, compare_attrs, done_state,  # noqa: F401
                         is_store, kind_of, open_sweep, state, table, _coord)
from .sweep_store import TOKEN, _revoke_token, _template, _write_token, open_or_create, write_variant  # noqa: F401


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



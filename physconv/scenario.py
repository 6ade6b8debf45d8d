"""Scenario files: YAML in, a validated :class:`Scenario` out.

A scenario is read with ``yaml.safe_load``, checked key by key against the
pydantic models below, then checked as a whole (stable time step, kernel
limits, walls that Monte Carlo can handle, memory). Every error names the
file, the line and the key: ``scenario.yaml:7: time.dt: ...``.
"""

from __future__ import annotations

import difflib
import hashlib
import math
import os
import re
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError

from . import kernels as _k
from .errors import BoundaryError, GridError, KernelError, ScenarioError, StabilityError
from .grid import Grid
from .initial import KINDS, InitialSpec, Real

METHODS = ("explicit", "implicit", "spectral", "gaussian", "monte_carlo")
MAX_STEPS = 2**53  # counts stay exact in float64
MAX_FILE_BYTES = 2**20  # a scenario file is text of at most 1 MiB
MAX_NODES = 100_000  # values a scenario may hold once its YAML aliases are expanded
BASE_MEMORY = 320 * 2**20  # the interpreter and its libraries (numpy, numba, xarray, matplotlib), measured
PER_FRAME = 512  # steps, times, comparison rows and the file's index of one saved frame (bytes)
MAX_VALUE = 1e100  # largest |initial value|: sums and squares of fields stay finite
FLOAT32_RANGE = (1e-30, 1e30)  # largest |value| with float32 storage: far from overflow, and its round-off
# (2**-24 of it) far above float32's subnormals (below 1.2e-38), where the relative bound fails
Method = Literal["explicit", "implicit", "spectral", "gaussian", "monte_carlo"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class GridSpec(_Strict):
    """``grid:`` — number of cells per axis and the cell size."""

    shape: list[Annotated[int, Field(ge=1, le=2**31)]] = Field(..., min_length=1, max_length=3,
                                                               description="cells per axis: [n], [ny, nx] or [nz, ny, nx]")
    spacing: Real | list[Real] = Field(1.0, description="cell size per axis (length), or one for all")


AUTO_DT_SAFETY = 0.9  # dt: auto is this fraction of the largest stable explicit step


class TimeSpec(_Strict):
    """``time:`` — the time step, how long to run (``steps`` or ``end``) and how often to save."""

    dt: Annotated[Real, Field(gt=0)] | Literal["auto"] = Field(
        1.0, description=f"time step, or auto: {AUTO_DT_SAFETY} x the largest stable explicit step (said in a warning)")
    steps: int | None = Field(None, ge=0, le=MAX_STEPS, description="number of steps (or give end)")
    end: Real | None = Field(None, ge=0, description="final time; steps = end / dt, which must be a whole number "
                                                     "(with dt: auto, dt is chosen so that it is)")
    save_every: int | None = Field(None, ge=1, le=MAX_STEPS, description="keep every k-th step (default: about 10 frames)")


class MonteCarloSpec(_Strict):
    """``monte_carlo:`` — the particle method's settings."""

    particles: int = Field(1_000_000, ge=1, le=2**53)
    seed: int = Field(0, ge=0, le=2**63 - 1)
    mode: Literal["particles", "counts"] = "particles"
    jumps: Literal["auto", "steps"] = Field(
        "auto", description="particles jump from frame to frame where exact (periodic or reflecting walls; "
                            "for lattice walkers with a kernel symmetric along reflecting axes), or always step")
    lattice: bool = Field(True, description="lattice walkers (expectation: explicit) or Brownian particles")
    placement: Literal["stratified", "random"] = "stratified"
    bridge: bool = Field(True, description="Brownian particles: count paths that cross absorbing walls and return")


class KernelSpec(_Strict):
    """``kernel:`` — propagate with this kernel instead of diffusivity and dt."""

    weights: list[Any] | None = Field(None, description="nested list, odd size along every axis")
    name: Literal[_k.NAMES] | None = None
    normalize: Literal["softmax", "sum", "none"] | None = Field(
        None, description="how the weights become probabilities; absent: probabilities run as given, other "
                          "non-negative weights are divided by their sum, signed ones get softmax (with a warning); "
                          "a temperature alone asks for softmax")
    temperature: Real = Field(1.0, gt=0, description="softmax temperature")

    def method(self) -> str | None:
        """The normalisation asked for: ``normalize``, or softmax when only a temperature is given."""
        if self.normalize is None and "temperature" in self.model_fields_set:
            return "softmax"
        return self.normalize


class Scenario(_Strict):
    """A physconv scenario: one initial field, one set of walls, several methods."""

    name: str = Field(..., pattern=r"^[A-Za-z0-9_-]+$", max_length=100,
                      description="output file name: letters, digits, _ and - only (at most 100)")
    description: str = Field("", max_length=10_000, pattern=r"^[^\x00-\x08\x0b-\x1f\x7f]*$",
                             description="free text (no control characters but tab and newline)")
    grid: GridSpec
    boundary: str | dict[str, Any] = Field(
        "periodic", description="one rule for every axis (periodic, reflecting, absorbing, dirichlet), "
                                "or one per axis: {y: periodic, x: reflecting}")
    boundary_value: Real | None = None
    diffusivity: Real | None = Field(None, ge=0)
    initial: InitialSpec
    time: TimeSpec
    methods: list[Method] = Field(default_factory=lambda: ["explicit", "spectral", "gaussian"], min_length=1)
    monte_carlo: MonteCarloSpec = Field(default_factory=MonteCarloSpec)
    kernel: KernelSpec | None = None
    dtype: Literal["float64", "float32"] = Field(
        "float64", description="how 'explicit' stores the field between steps (float32: half the memory, "
                               "difference from float64 bounded by steps * 2**-24 * max|u0|)")
    chunks: list[Annotated[int, Field(ge=1, le=2**31)]] | None = Field(
        None, description="run 'explicit' over a chunked dask array, one chunk length per axis "
                          "(physconv.distributed)")

    _text: str = PrivateAttr("")
    _source: str = PrivateAttr("<scenario>")
    _base_dir: Path = PrivateAttr(Path("."))
    _u0: Any = PrivateAttr(None)  # (grid, initial field), kept from validation
    _given: Any = PrivateAttr(None)  # an initial field given as an array (load from a mapping)
    _warnings: list = PrivateAttr(default_factory=list)

    # --- what the scenario describes -----------------------------------------------------------

    @property
    def text(self) -> str:
        """The scenario as read (YAML), with any overrides applied."""
        return self._text

    @property
    def source(self) -> str:
        return self._source

    @property
    def warnings(self) -> list[str]:
        """One line per thing that is allowed but probably not meant (``file:line: key: ...``)."""
        return list(self._warnings)

    def make_grid(self) -> Grid:
        return Grid(tuple(self.grid.shape), self.grid.spacing, self.boundary, self.boundary_value)

    def initial_field(self, grid: Grid | None = None) -> np.ndarray:
        """The initial concentration on the scenario's grid (made once, then copied)."""
        grid = grid or self.make_grid()
        if self._u0 is None or self._u0[0] != grid:
            if self._given is not None:
                if self._given.shape != grid.shape:
                    raise ValueError(f"the initial array has shape {self._given.shape} but the grid is {grid.shape}")
                self._u0 = (grid, self._given)
            else:
                self._u0 = (grid, self.initial.make(grid, self._base_dir))
        return self._u0[1].copy()

    def step_kernel(self) -> np.ndarray | None:
        """The probability kernel of one step, or None for diffusion with ``diffusivity``."""
        p = self.kernel_probabilities()
        return None if p is None else p.kernel

    def kernel_probabilities(self) -> _k.Probabilities | None:
        """The step kernel with how it was made from the weights (:func:`physconv.kernels.as_probabilities`)."""
        if self.kernel is None:
            return None
        return _k.as_probabilities(self.kernel_weights(), self.kernel.method(), self.kernel.temperature)

    def kernel_weights(self) -> np.ndarray | None:
        """The kernel's weights as given (a named kernel's, or the listed ones), before normalisation."""
        if self.kernel is None:
            return None
        k = self.kernel
        weights = _k.named(k.name, len(self.grid.shape)) if k.name is not None else k.weights
        return _k.check(weights, len(self.grid.shape), "kernel weights")

    @property
    def save_every(self) -> int:
        """The save interval: ``time.save_every``, or about a tenth of the steps."""
        return self.time.save_every or max(1, math.ceil(self.time.steps / 10))

    def frame_count(self) -> int:
        """How many frames the run keeps (counted, not built)."""
        from .solvers.explicit import frame_count

        return frame_count(self.time.steps, self.save_every)

    def saved_steps(self) -> np.ndarray:
        from .solvers.explicit import saved_steps

        return saved_steps(self.time.steps, self.save_every)

    def memory_estimate(self, particles_only: bool = False, held: bool = False) -> int:
        """Bytes ``physconv run`` needs at its peak, the process as a whole.

        The libraries (about 300 MiB measured), the working arrays of a method or of the comparison
        of one saved time (at most 24 fields, two per method) and the particles: ``physconv run``
        writes each frame to the result file as it is reached, and keeps per saved frame only its
        step, time and comparison rows (:data:`PER_FRAME` bytes). ``held``: a run that keeps every
        frame in memory (``runner.run`` without ``store``, a sweep's variant), where the frames of
        every method and the comparison's temporaries (six frame sets at most) add up. Tested
        against the measured peak of real runs (``tests/test_hardening.py``): measured / estimated
        between 0.5 and 1.25.
        """
        cells = math.prod(self.grid.shape)
        frames = self.frame_count()
        total = 0
        if "monte_carlo" in self.methods and self.monte_carlo.mode == "particles":
            per_particle = 8 + 8 * len(self.grid.shape) + (4 if self.monte_carlo.lattice else 8) * len(self.grid.shape)
            total += per_particle * self.monte_carlo.particles
        if particles_only:
            return total
        if self.chunks is not None and "explicit" in self.methods:  # the graph, and its frames computed at once
            from .distributed import BYTES_PER_TASK, task_count

            kernel = self.step_kernel()
            reach = [1] * len(self.grid.shape) if kernel is None else [(w - 1) // 2 for w in kernel.shape]
            periodic = [b.kind == "periodic" for b in self.make_grid().boundaries]
            total += BYTES_PER_TASK * task_count(self.grid.shape, self.chunks, reach, self.saved_steps(), periodic)
            total += 0 if held else 8 * cells * frames
        if held:
            return total + BASE_MEMORY + 8 * cells * (frames * (len(self.methods) + 6) + 24)
        return total + BASE_MEMORY + 8 * cells * (2 * len(self.methods) + 24) + PER_FRAME * frames

    def file_size(self) -> int:
        """Bytes of the result file: a float64 frame per saved step and method (plus the initial field)."""
        return 8 * math.prod(self.grid.shape) * (self.frame_count() * len(self.methods) + 1)


# --- reading -----------------------------------------------------------------------------------


SHIPPED = Path(__file__).parent / "scenarios"


def shipped() -> list[str]:
    """Names of the scenarios shipped with physconv (``physconv run NAME``)."""
    return sorted(q.stem for q in SHIPPED.glob("*.yaml"))


def resolve(name) -> Path:
    """A scenario file from a path, or from the name of a shipped scenario (``'point_source'``)."""
    p = Path(name)
    text = str(name)
    if p.exists() or p.suffix in (".yaml", ".yml") or os.sep in text or "/" in text:
        return p
    if (SHIPPED / f"{text}.yaml").exists():
        return SHIPPED / f"{text}.yaml"
    raise ScenarioError(f"{text}: no such file, nor a shipped scenario{_nearest(text, shipped())} "
                        f"(shipped: {', '.join(shipped())})")


def load(path, overrides=(), max_bytes: int | None = None) -> Scenario:
    """Read and validate a scenario file, or a mapping of the same keys.

    Parameters
    ----------
    path : str, Path or mapping
        A YAML file, the name of a shipped scenario (see :func:`shipped`), or a dict of the
        scenario's keys, in which ``initial`` may be a numpy array of the grid's shape.
    overrides : sequence of str
        ``key.path=value`` items (value in YAML), applied before validation.
    max_bytes : int, optional
        Refuse runs needing more memory (default: 80 % of physical memory).

    Raises
    ------
    ScenarioError
        One line naming the file (``<dict>`` for a mapping), the line and the key.

    Examples
    --------
    >>> import numpy as np
    >>> s = load({"name": "box", "grid": {"shape": [8, 8]}, "diffusivity": 0.2,
    ...           "initial": np.eye(8), "time": {"dt": 1.0, "steps": 4}})
    >>> float(s.initial_field().trace()), s.time.steps
    (8.0, 4)
    """
    if isinstance(path, Mapping):
        return _load_mapping(path, overrides, max_bytes)
    path = resolve(path)
    try:
        info = path.stat()
        if stat.S_ISDIR(info.st_mode):
            raise ScenarioError(f"{path}: is a folder, not a scenario file")
        if not stat.S_ISREG(info.st_mode):
            raise ScenarioError(f"{path}: not a regular file (a scenario is a YAML text file)")
        if info.st_size > MAX_FILE_BYTES:
            raise ScenarioError(f"{path}: {info.st_size} bytes; a scenario file has at most {MAX_FILE_BYTES} "
                                "(1 MiB; put large data in an initial 'array' or 'image' file)")
        with open(path, "rb") as f:
            raw = f.read(MAX_FILE_BYTES + 1)
        text = raw.decode("utf-8")
    except FileNotFoundError:
        raise ScenarioError(f"{path}: no such file") from None
    except UnicodeDecodeError:
        raise ScenarioError(f"{path}: not a text file (UTF-8)") from None
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read ({exc.strerror})") from None
    if len(raw) > MAX_FILE_BYTES:
        raise ScenarioError(f"{path}: more than {MAX_FILE_BYTES} bytes; a scenario file has at most 1 MiB")
    return parse(text, source=str(path), base_dir=path.parent, overrides=overrides, max_bytes=max_bytes)


def _load_mapping(data: Mapping, overrides, max_bytes) -> Scenario:
    """A scenario from a mapping: written as YAML text (its record in results), an array initial kept aside."""
    data = dict(data)
    given = None
    if isinstance(data.get("initial"), np.ndarray):
        given = np.array(data["initial"], dtype=np.float64)
        digest = hashlib.sha256(np.ascontiguousarray(given).tobytes()).hexdigest()[:16]
        data["initial"] = {"kind": "array", "path": f"<array {'x'.join(map(str, given.shape))}, sha256 {digest}>"}
    try:
        text = yaml.safe_dump(_plain(data), sort_keys=False)
    except yaml.YAMLError as exc:
        raise ScenarioError(f"<dict>: holds a value that is not plain data ({' '.join(str(exc).split())[:200]})") from None
    return parse(text, source="<dict>", overrides=overrides, max_bytes=max_bytes, given=given)


def _plain(obj):
    """numpy numbers and arrays in a nested mapping turned into Python numbers and lists."""
    if isinstance(obj, Mapping):
        return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, (np.ndarray, np.generic)):
        return obj.tolist()
    return obj


def parse(text: str, source: str = "<scenario>", base_dir=".", overrides=(), max_bytes: int | None = None,
          given=None) -> Scenario:
    """Validate scenario text (see :func:`load`); ``given``: the initial field as an array."""
    data, lines = read_yaml(text, source)
    if not isinstance(data, dict):
        raise ScenarioError(f"{source}: a scenario is a mapping of keys (name:, grid:, ...), got {type(data).__name__}")
    for item in overrides:
        _apply_override(data, item, source)
    where = _Locator(source, lines if source != "<dict>" else {}, overrides)  # a dict's YAML has no lines of the user's
    _check_keys(data, Scenario, (), where)
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise ScenarioError(where(_key_path(err["loc"]), _pydantic_message(err))) from None
    scenario._text = text if not overrides else text + "".join(f"\n# --set {o}" for o in overrides)
    scenario._source = source
    scenario._base_dir = Path(base_dir)
    scenario._given = given
    try:
        timing = resolve_time(scenario)
        check(scenario, max_bytes)
    except _KeyProblem as exc:
        raise ScenarioError(where(exc.path, exc.message)) from None
    scenario._warnings = [where(path, message) for path, message in timing + advice(scenario)]
    return scenario


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
        if s.diffusivity is None:
            raise _KeyProblem(("time", "dt"), "auto picks the largest stable step of diffusion; with a kernel "
                                              "dt only labels time: give a number")
        from .solvers.explicit import max_stable_dt

        limit = max_stable_dt(s.diffusivity, _grid(s).spacing)
        if not math.isfinite(limit):
            raise _KeyProblem(("time", "dt"), "auto needs a positive diffusivity (with D = 0 every dt is stable)")
        dt = AUTO_DT_SAFETY * limit
        if t.end is not None:
            steps = math.ceil(t.end / dt * (1 - 1e-12))
            dt = t.end / steps if steps else dt
            t.steps = steps
        t.dt = dt
        said.append((("time", "dt"), f"auto: dt = {dt:.6g} ({dt / limit:.4g} x the largest stable explicit step "
                                     f"{limit:.6g}){f', {t.steps} steps to t = {t.end:g}' if t.end is not None else ''}"))
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
    return out + _centre_advice(s)


def _centre_advice(s: Scenario) -> list[tuple[tuple, str]]:
    stepping = {"explicit", "spectral"} | ({"monte_carlo"} if s.monte_carlo.lattice else set())
    if not stepping & set(s.methods):
        return []
    grid = s.make_grid()
    kernel = s.step_kernel()
    if kernel is None:
        from .solvers.explicit import max_stable_dt

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
    _check_methods(s, grid, kernel)
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
        from . import distributed

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


def _check_methods(s: Scenario, grid: Grid, kernel) -> None:
    from . import spectral
    from .solvers.explicit import check_stable

    if len(set(s.methods)) != len(s.methods):
        raise _KeyProblem(("methods",), "each method may be named once")
    kinds = {b.kind for b in grid.boundaries}
    if kernel is None:
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
    from .solvers.explicit import max_stable_dt

    total = sum(_k.ftcs_numbers(s.diffusivity, s.time.dt, grid.spacing))
    limit = max_stable_dt(s.diffusivity, grid.spacing)
    free = [m for m in s.methods if m not in need]
    drop = f"drop {', '.join(need)}" + (f" ({', '.join(free)} {'takes' if len(free) == 1 else 'take'} any dt)"
                                        if free else "; implicit and gaussian take any dt")
    if "monte_carlo" in need:
        drop += "; Brownian particles (monte_carlo.lattice: false) take any dt too"
    return (f"dt = {s.time.dt:g} is unstable for {', '.join(need)} (sum of D dt/dx^2 = {total:.4g} > 1/2: "
            f"{'; '.join(_NEEDS_STABLE_STEP[m] for m in need)}); the largest stable dt is {limit:.6g}: "
            f"use a dt up to it, or {drop}")


def wall_value_nonzero(grid: Grid) -> bool:
    return any(b.kind == "dirichlet" and b.value != 0 for b in grid.boundaries)


def _default_max_bytes() -> int:
    try:
        return int(0.8 * os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not POSIX
        return 8 * 2**30


# --- error locations and messages --------------------------------------------------------------


class _Locator:
    """Formats ``file:line: key.path: message``; a key given with ``--set`` is blamed on the override."""

    def __init__(self, source, lines, overrides):
        self.source, self.lines = source, lines
        self.overridden = {tuple(o.split("=", 1)[0].strip().split(".")): o.split("=", 1)[1]
                           for o in overrides if "=" in o}

    def __call__(self, path, message) -> str:
        path = tuple(path)
        for n in range(1, len(path) + 1):
            value = self.overridden.get(tuple(str(p) for p in path[:n]))
            if value is not None:
                if _looks_like_several(value):
                    message += (f"; several values are for physconv sweep (--set {_dotted(path[:n])}=V1,V2,... "
                                "or START:STOP:NUM)")
                return f"{self.source} (--set): {_dotted(path)}: {message}"
        for n in range(len(path), 0, -1):
            head = path[:n]
            if head in self.lines:
                return f"{self.source}:{self.lines[head]}: {_dotted(path)}: {message}"
        return f"{self.source}: {_dotted(path) or 'scenario'}: {message}"


def _looks_like_several(value: str) -> bool:
    """True for an override value written as a sweep's list (``a,b``) or range (``a:b[:n[:log]]``)."""
    text = value.strip()
    if text[:1] in "[{'\"":
        return False
    parts = text.split(":")
    numeric = all(re.fullmatch(r"[-+]?[0-9.]+(e[-+]?[0-9]+)?", p.strip(), re.I) for p in parts[:3])
    return "," in text or (2 <= len(parts) <= 4 and numeric)


def _dotted(path) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


_TYPE_TAGS = {"str", "int", "float", "bool", "list", "dict", "none"}


def _key_path(loc) -> tuple:
    """The scenario keys of a pydantic error location, without the names of union members and validators
    (``grid.spacing.function-before[_number(), float]`` -> ``grid.spacing``)."""
    out = []
    for i, p in enumerate(loc):
        if isinstance(p, int):
            out.append(p)
        elif ("[" in p or "(" in p or p.lower() in _TYPE_TAGS
              or (p in KINDS and tuple(out) == ("initial",))):  # the initial kind's model tag
            continue
        else:
            out.append(p)
    return tuple(out)


def _pydantic_message(err) -> str:
    msg = err["msg"]
    if err["type"] == "missing":
        return "is required"
    if err["type"] == "string_pattern_mismatch":
        return "must use letters, digits, _ and - only (it becomes the output file name)"
    if err["type"] == "literal_error":
        options = re.findall(r"'([^']*)'", err.get("ctx", {}).get("expected", ""))
        hint = _nearest(str(err.get("input")), options) if isinstance(err.get("input"), str) else ""
        return f"{err.get('input')!r} is not valid{hint}; " + msg.replace("Input should be", "must be")
    if err["type"] == "value_error":
        return msg.removeprefix("Value error, ")
    if err["type"] == "finite_number":
        return "must be a finite number (not inf or nan)"
    if err["type"] == "string_too_long":
        return f"is too long ({msg.split('at most')[-1].strip()})" if "at most" in msg else msg
    return msg[0].lower() + msg[1:] if msg else msg


def read_yaml(text: str, source: str = "<scenario>"):
    """Parse YAML safely in time and memory linear in the text: ``(data, key_lines)``.

    The text is composed once (``SafeLoader``); then, visiting every node once,
    duplicate keys are refused, and so is a document whose aliases expand to
    more than :data:`MAX_NODES` values or that nests too deeply. Only then are
    Python objects built (aliases share them) and the line of every key path
    recorded.
    """
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return None, {}
        _check_nodes(root, source)
        data = loader.construct_document(root)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f":{mark.line + 1}" if mark else ""
        raise ScenarioError(f"{source}{line}: not valid YAML: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise ScenarioError(f"{source}: not valid YAML: {' '.join(str(exc).split())}") from None
    except RecursionError:
        raise ScenarioError(f"{source}: nested too deeply (a scenario is a few levels of keys and lists)") from None
    finally:
        loader.dispose()
    return data, _key_lines(root)


def _check_nodes(root, source) -> None:
    """Duplicate keys and the expanded size, each node visited once (sizes memoised by node)."""
    size: dict[int, int] = {}
    stack = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if id(node) in size:
            continue
        kids = []
        if isinstance(node, yaml.MappingNode):
            kids = [n for pair in node.value for n in pair]
        elif isinstance(node, yaml.SequenceNode):
            kids = list(node.value)
        if not children_done:
            stack.append((node, True))
            stack.extend((k, False) for k in kids if id(k) not in size)
            continue
        if isinstance(node, yaml.MappingNode):
            seen = set()
            for key, _ in node.value:
                if isinstance(key, yaml.ScalarNode):
                    if key.value in seen:
                        raise ScenarioError(f"{source}:{key.start_mark.line + 1}: {key.value}: duplicate key "
                                            "(each key may appear once in a mapping)")
                    seen.add(key.value)
        size[id(node)] = 1 + sum(size[id(k)] for k in kids)
        if size[id(node)] > MAX_NODES:
            raise ScenarioError(f"{source}:{node.start_mark.line + 1}: the document expands to more than {MAX_NODES} "
                                "values (through YAML aliases); a scenario is small")


def _key_lines(root) -> dict[tuple, int]:
    """Line (1-based) of every mapping key and sequence item, by key path (from the composed nodes)."""
    out: dict[tuple, int] = {}

    def walk(node, path):
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                key = path + (k.value,)
                out[key] = k.start_mark.line + 1
                walk(v, key)
        elif isinstance(node, yaml.SequenceNode):
            for i, v in enumerate(node.value):
                out[path + (i,)] = v.start_mark.line + 1
                walk(v, path + (i,))

    walk(root, ())
    return out


def _check_keys(data, model, path, where) -> None:
    """Refuse unknown keys, suggesting the nearest valid one."""
    if not isinstance(data, dict):
        return
    if model is None:  # the initial: block, whose keys depend on its kind
        kind = data.get("kind")
        if kind not in KINDS:
            hint = _nearest(str(kind), KINDS)
            raise ScenarioError(where(path + ("kind",), f"unknown initial kind {kind!r}{hint}; "
                                                        f"valid: {', '.join(KINDS)}"))
        model = KINDS[kind]
    fields = model.model_fields
    for key in data:
        if key not in fields:
            raise ScenarioError(where(path + (key,), f"unknown key{_nearest(str(key), fields)}; "
                                                     f"valid here: {', '.join(fields)}"))
        sub = _submodel(fields[key].annotation)
        if key == "initial" and model is Scenario:
            _check_keys(data[key], None, path + (key,), where)
        elif sub is not None:
            _check_keys(data[key], sub, path + (key,), where)


def _submodel(annotation):
    for t in (annotation, *getattr(annotation, "__args__", ())):
        if isinstance(t, type) and issubclass(t, BaseModel):
            return t
    return None


def _nearest(word: str, options) -> str:
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _apply_override(data: dict, item: str, source: str) -> None:
    if "=" not in item:
        raise ScenarioError(f"{source}: --set {item!r}: write key.path=value")
    key, value = item.split("=", 1)
    parts = key.strip().split(".")
    if not all(re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", p) for p in parts):
        raise ScenarioError(f"{source}: --set {item!r}: bad key path {key!r}")
    try:
        parsed, _ = read_yaml(value, f"{source}: --set {key.strip()}")
    except ScenarioError as exc:
        raise ScenarioError(f"{exc} (in the value given with --set)") from None
    node = data
    for i, p in enumerate(parts[:-1]):
        if node.get(p) is None:
            node[p] = {}
        elif not isinstance(node[p], dict):
            head = ".".join(parts[:i + 1])
            raise ScenarioError(f"{source} (--set): {key.strip()}: {head} is {node[p]!r}, not a mapping of keys; "
                                f"write --set {head}=VALUE")
        node = node[p]
    node[parts[-1]] = parsed


def json_schema() -> dict:
    """The JSON schema of a scenario file."""
    return Scenario.model_json_schema()

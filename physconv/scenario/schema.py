"""The scenario's keys: pydantic models, each key typed and bounded, and what a valid scenario
describes (its grid, initial field, step kernel, saved steps, memory)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator

from .. import kernels as _k
from .. import units as _units
from ..grid import Grid
from ..initial import InitialSpec, Real
from .media import DiffusivityField, ObstaclesSpec, VelocityField

METHODS = ("explicit", "implicit", "spectral", "semidiscrete", "gaussian", "monte_carlo")
MAX_STEPS = 2**53  # counts stay exact in float64
MAX_FILE_BYTES = 2**20  # a scenario file is text of at most 1 MiB
MAX_NODES = 100_000  # values a scenario may hold once its YAML aliases are expanded
BASE_MEMORY = 320 * 2**20  # the interpreter and its libraries (numpy, numba, xarray, matplotlib), measured
PER_FRAME = 512  # steps, times, comparison rows and the file's index of one saved frame (bytes)
MAX_VALUE = 1e100  # largest |initial value|: sums and squares of fields stay finite
FLOAT32_RANGE = (1e-30, 1e30)  # largest |value| with float32 storage: far from overflow, and its round-off
# (2**-24 of it) far above float32's subnormals (below 1.2e-38), where the relative bound fails
Method = Literal["explicit", "implicit", "spectral", "semidiscrete", "gaussian", "monte_carlo"]


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


class UnitsSpec(_Strict):
    """``units:`` — what the scenario's numbers are in: cell size in ``length``, dt and end in ``time``, D in
    length²/time, a velocity in length/time (:mod:`physconv.units`; names read by pint)."""

    length: str = Field("1", description="a unit of length: m, mm, um, cm, ... (1: dimensionless)")
    time: str = Field("1", description="a unit of time: s, min, h, d, ... (1: dimensionless)")

    @field_validator("length")
    @classmethod
    def _length(cls, v):
        return v if v == "1" else _units.parse(v, _units.LENGTH)

    @field_validator("time")
    @classmethod
    def _time(cls, v):
        return v if v == "1" else _units.parse(v, _units.TIME)

    def system(self) -> _units.Units:
        return _units.Units(self.length, self.time)


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
    boundary_value: Real | None = Field(None, description="the concentration dirichlet walls hold (default 0)")
    diffusivity: Annotated[Real, Field(ge=0)] | list[Annotated[Real, Field(gt=0)]] | DiffusivityField | None = Field(
        None, description="D (length^2/time): a number, one per axis [Dy, Dx], or a field {kind: array | image | "
                          "layers}")
    obstacles: ObstaclesSpec | None = None
    velocity: list[Real] | VelocityField | None = Field(
        None, description="a constant drift [vy, vx] (length/time), or a field {kind: array | shear | vortex}")
    initial: InitialSpec = Field(..., description="the field at t = 0: {kind: random_cubes | two_halves | point | "
                                                  "gaussian | checkerboard | sine | image | array, ...}")
    time: TimeSpec
    methods: list[Method] = Field(default_factory=lambda: ["explicit", "spectral", "gaussian"], min_length=1,
                                  description="the methods to run side by side (default: explicit, spectral, "
                                              "gaussian); docs/methods.md says what each computes")
    monte_carlo: MonteCarloSpec = Field(default_factory=MonteCarloSpec)
    kernel: KernelSpec | None = None
    units: UnitsSpec | None = Field(None, description="physical units of the numbers: {length: mm, time: s}; "
                                                     "absent: dimensionless")
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
    _notes: list = PrivateAttr(default_factory=list)  # (key path, message) said by the whole-scenario checks
    _medium: Any = PrivateAttr(None)  # (grid, Medium or None), built once by medium()

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

    def _repr_html_(self) -> str:
        from ..notebook import scenario_html

        return scenario_html(self)

    def unit_system(self) -> _units.Units:
        """The scenario's :class:`physconv.units.Units` (dimensionless without ``units:``)."""
        return self.units.system() if self.units is not None else _units.Units()

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

    def medium(self, grid: Grid | None = None):
        """The :class:`physconv.medium.Medium` of the keys ``obstacles``, ``diffusivity`` and ``velocity``,
        or None when the scenario has a scalar diffusivity and neither obstacles nor velocity (the plain
        path); built once. Raises :class:`physconv.medium.keys.KeyError_` naming the key at fault."""
        from ..medium import keys

        grid = grid or self.make_grid()
        if self._medium is None or self._medium[0] != grid:
            self._medium = (grid, keys.medium(self, grid, self._base_dir))
        return self._medium[1]

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
        from ..solvers.explicit import frame_count

        return frame_count(self.time.steps, self.save_every)

    def saved_steps(self) -> np.ndarray:
        from ..solvers.explicit import saved_steps

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
            from ..distributed import BYTES_PER_TASK, task_count

            kernel = self.step_kernel()
            reach = [1] * len(self.grid.shape) if kernel is None else [(w - 1) // 2 for w in kernel.shape]
            periodic = [b.kind == "periodic" for b in self.make_grid().boundaries]
            total += BYTES_PER_TASK * task_count(self.grid.shape, self.chunks, reach, self.saved_steps(), periodic)
            total += 0 if held else 8 * cells * frames
        if "spectral" in self.methods and self.medium() is not None:  # P^n by a dense eigendecomposition
            from ..medium.methods import kernel_of

            m = self.medium()
            if kernel_of(m, 1.0) is None:
                total += 3 * 8 * int((~m.solid).sum()) ** 2  # P, its eigenvectors and LAPACK's work
        if held:
            return total + BASE_MEMORY + 8 * cells * (frames * (len(self.methods) + 6) + 24)
        return total + BASE_MEMORY + 8 * cells * (2 * len(self.methods) + 24) + PER_FRAME * frames

    def file_size(self) -> int:
        """Bytes of the result file: a float64 frame per saved step and method (plus the initial field)."""
        return 8 * math.prod(self.grid.shape) * (self.frame_count() * len(self.methods) + 1)



"""Boundaries: one rule that is at once a PDE condition, a padding and a particle rule.

A cell-centred axis of ``n`` cells has walls on its outer faces. Each boundary
kind says what lies beyond them (``a b c d`` are the cells, ``c`` a value)::

    periodic     d c b a | a b c d | a b c d   ... wrap:  u[-1] = u[n-1]
    reflecting   b a     | a b c d | d c       ... half-sample mirror: u[-1] = u[0]
    absorbing    0 0     | a b c d | 0 0       ... zeros: u[-1] = 0
    dirichlet    2c-b 2c-a | a b c d | 2c-d    ... odd about the face: u[-1] = 2c - u[0]

``neumann`` is an alias of ``reflecting``. Periodic and reflecting walls keep
the mass; absorbing walls remove what crosses them; dirichlet walls hold the
value ``c`` on the face.

Where each wall lies (the same in every method, particles included):

==========  ==============================================================
periodic    the faces ``0`` and ``n d`` are glued together
reflecting  on the faces ``0`` and ``n d`` (zero flux through the face)
absorbing   at the ghost-cell centres ``-d/2`` and ``n d + d/2``, half a
            cell outside the faces, where the ghost value 0 sits: a lattice
            walker is removed when it reaches the ghost cell, a Brownian
            particle when it crosses ``-d/2``; the slab is ``(n + 1) d`` long
dirichlet   on the faces (value ``c``); with ``c = 0`` it is the absorbing
            wall placed on the face, slab ``n d`` (Brownian particles are
            removed at the face)
==========  ==============================================================
"""

from __future__ import annotations

import difflib
import math
import numbers
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from .errors import BoundaryError

KINDS = ("periodic", "reflecting", "absorbing", "dirichlet")
ALIASES = {"neumann": "reflecting", "wrap": "periodic", "reflect": "reflecting"}
AXIS_NAMES = {1: ("x",), 2: ("y", "x"), 3: ("z", "y", "x")}


@dataclass(frozen=True)
class Boundary:
    """The boundary of one axis.

    Parameters
    ----------
    kind : {'periodic', 'reflecting', 'absorbing', 'dirichlet'}
        ``'neumann'`` is accepted as an alias of ``'reflecting'``.
    value : float, optional
        The value held on the walls; required for ``'dirichlet'``, forbidden otherwise.
    """

    kind: str
    value: float | None = None

    def __post_init__(self):
        if not isinstance(self.kind, str):
            raise BoundaryError(f"boundary must be a name, got {self.kind!r}; valid: {', '.join(KINDS)}")
        kind = ALIASES.get(self.kind.lower(), self.kind.lower())
        if kind not in KINDS:
            close = difflib.get_close_matches(self.kind.lower(), KINDS + tuple(ALIASES), n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise BoundaryError(
                f"unknown boundary {self.kind!r}{hint}; valid: {', '.join(KINDS)} (or neumann = reflecting)"
            )
        object.__setattr__(self, "kind", kind)
        if kind == "dirichlet":
            if self.value is None:
                raise BoundaryError("a dirichlet boundary needs a value (boundary_value: c)")
            if not isinstance(self.value, numbers.Real) or not math.isfinite(self.value):
                raise BoundaryError(f"dirichlet value must be a finite number, got {self.value!r}", ("boundary_value",))
            object.__setattr__(self, "value", float(self.value))
        elif self.value is not None:
            raise BoundaryError(f"a {kind} boundary takes no value (got {self.value!r}); only dirichlet does",
                                ("boundary_value",))

    @property
    def conserves_mass(self) -> bool:
        """True for periodic and reflecting walls."""
        return self.kind in ("periodic", "reflecting")

    @property
    def c(self) -> float:
        """The value on the wall (0 unless dirichlet)."""
        return self.value if self.kind == "dirichlet" else 0.0

    @property
    def wall_offset(self) -> float:
        """Where the wall condition holds, in cells outside the face (0.5 for absorbing, else 0)."""
        return 0.5 if self.kind == "absorbing" else 0.0

    def describe(self) -> str:
        """One line: what the wall is and where it lies."""
        return {
            "periodic": "periodic: the two faces are glued together",
            "reflecting": "reflecting: zero flux through the faces",
            "absorbing": "absorbing: value 0 at the ghost-cell centres, half a cell outside the faces",
            "dirichlet": f"dirichlet: value {self.c:g} on the faces",
        }[self.kind]

    def __str__(self):
        return f"dirichlet({self.value:g})" if self.kind == "dirichlet" else self.kind


def resolve(spec, ndim: int, value: float | None = None) -> tuple[Boundary, ...]:
    """Turn a boundary specification into one :class:`Boundary` per axis.

    Parameters
    ----------
    spec : str, Boundary, sequence or mapping
        One name for all axes (``'reflecting'``), one per axis in axis order
        (``['periodic', 'reflecting']``) or a mapping from axis names
        (``{'y': 'periodic', 'x': 'reflecting'}``; axes are ``x``, ``y, x`` or
        ``z, y, x``). Every axis must be named.
    ndim : int
        Number of spatial dimensions (1, 2 or 3).
    value : float, optional
        Value on the dirichlet walls; one value serves every dirichlet axis.

    Returns
    -------
    tuple of Boundary, length ndim

    Examples
    --------
    >>> [str(b) for b in resolve({'y': 'periodic', 'x': 'neumann'}, 2)]
    ['periodic', 'reflecting']
    """
    if ndim not in AXIS_NAMES:
        raise BoundaryError(f"boundaries exist for 1, 2 or 3 dimensions, not {ndim}")
    names = AXIS_NAMES[ndim]
    if isinstance(spec, (str, Boundary)):
        items = [spec] * ndim
    elif isinstance(spec, Mapping):
        unknown = [k for k in spec if k not in names]
        if unknown:
            raise BoundaryError(f"unknown axis {unknown[0]!r} in boundary; the axes are {', '.join(names)}")
        missing = [k for k in names if k not in spec]
        if missing:
            raise BoundaryError(f"boundary gives no rule for axis {missing[0]!r}; name every axis of {', '.join(names)}")
        items = [spec[k] for k in names]
    elif isinstance(spec, Sequence):
        if len(spec) != ndim:
            raise BoundaryError(f"boundary lists {len(spec)} axes but the grid has {ndim}")
        items = list(spec)
    else:
        raise BoundaryError(f"boundary must be a name, a list or a mapping of axis names, got {spec!r}")
    out = []
    for axis, item in zip(names, items):
        key = ("boundary", axis) if isinstance(spec, Mapping) else ("boundary",)
        if isinstance(item, Boundary):
            if item.kind == "dirichlet" and value is not None and item.value != value:
                raise BoundaryError("all dirichlet walls share one value", ("boundary_value",))
            out.append(item)
        elif isinstance(item, str):
            name = ALIASES.get(item.lower(), item.lower())
            try:
                out.append(Boundary(name if name in KINDS else item, value if name == "dirichlet" else None))
            except BoundaryError as exc:
                raise BoundaryError(str(exc), key if exc.key == ("boundary",) else exc.key) from None
        elif isinstance(item, Sequence) and len(item) == 2 and all(isinstance(v, str) for v in item):
            raise BoundaryError(f"one rule per axis, for both of its faces: {item[0]!r} and {item[1]!r} on the two "
                                f"faces of axis {axis} is not supported; give one of {', '.join(KINDS)}", key)
        else:
            raise BoundaryError(f"a boundary rule is a name, got {item!r}; valid: {', '.join(KINDS)}", key)
    values = {b.value for b in out if b.kind == "dirichlet"}
    if len(values) > 1:
        raise BoundaryError(f"all dirichlet walls share one value, got {sorted(values)}", ("boundary_value",))
    if value is not None and not values:
        raise BoundaryError("boundary_value is given but no axis has a dirichlet boundary", ("boundary_value",))
    return tuple(out)


def wall_value(bcs: Sequence[Boundary]) -> float:
    """The single value on the dirichlet walls (0 if there are none)."""
    return next((b.value for b in bcs if b.kind == "dirichlet"), 0.0)


def image_index(n: int, positions: np.ndarray, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """Where the value at (possibly outside) cell ``positions`` comes from.

    Returns ``(source, sign)``: the cell inside ``[0, n)`` whose value is seen
    at each position and the sign it is seen with (``-1`` for the odd
    extension of dirichlet walls). ``source`` is ``-1`` where the position sees
    nothing (outside an absorbing wall). Positions may lie up to ``n`` cells
    outside the walls (any distance for periodic).
    """
    p = np.asarray(positions, dtype=np.int64)
    sign = np.ones(p.shape)
    if kind == "periodic":
        return p % n, sign
    if kind == "absorbing":
        return np.where((p >= 0) & (p < n), p, -1), sign
    if np.any(p < -n) or np.any(p >= 2 * n):
        raise BoundaryError(f"a {kind} wall mirrors at most {n} cells (the axis length)")
    low, high = p < 0, p >= n
    src = np.where(low, -1 - p, np.where(high, 2 * n - 1 - p, p))
    if kind == "dirichlet":
        sign[low | high] = -1.0
    return src, sign


def pad(field: np.ndarray, width, bcs: Sequence[Boundary]) -> np.ndarray:
    """Extend ``field`` by ``width`` cells on each side of each axis with its boundary's images.

    The extension is ``c (1 - S) + S u[source]`` where ``S`` is the product of
    the per-axis signs and ``c`` the dirichlet value; a position outside an
    absorbing wall is 0 (also in corners shared with other walls).

    Parameters
    ----------
    field : ndarray, shape (n0, ..., n_{d-1})
    width : int or sequence of int
        Cells added on both sides of each axis.
    bcs : sequence of Boundary
    """
    u = np.asarray(field, dtype=float)
    widths = np.broadcast_to(np.asarray(width, dtype=np.int64), (u.ndim,))
    sources, signs, valid = [], [], []
    for n, w, b in zip(u.shape, widths, bcs):
        src, sgn = image_index(n, np.arange(-w, n + w), b.kind)
        valid.append(src >= 0)
        sources.append(np.maximum(src, 0))
        signs.append(sgn)
    S = _outer(signs)
    c = wall_value(bcs)
    out = S * u[np.ix_(*sources)]
    if c != 0.0:
        out += c * (1.0 - S)
    return out * _outer(valid)


def _outer(vectors):
    """Outer product of 1-D vectors, as floats."""
    out = np.ones(())
    for v in vectors:
        out = np.multiply.outer(out, np.asarray(v, dtype=float))
    return out

"""A :class:`~physconv.medium.Medium` from a scenario's keys ``obstacles``, ``diffusivity`` and ``velocity``
(DESIGN §11): files read, shapes drawn, layers and named flows evaluated at the cell centres."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..grid import Grid
from ..initial import picture_size, resample_note
from .model import Medium, MediumError, build


class KeyError_(MediumError):
    """A medium key that cannot be made into arrays; ``path`` names the key."""

    def __init__(self, path, message):
        super().__init__(message)
        self.path, self.message = tuple(path), message


def declared(s) -> bool:
    """True when the scenario writes a medium: obstacles, a velocity, or a diffusivity that is not a number."""
    return s.obstacles is not None or s.velocity is not None or isinstance(s.diffusivity, (list, dict)) \
        or hasattr(s.diffusivity, "kind")


def medium(s, grid: Grid, base_dir: Path) -> Medium | None:
    """The medium the scenario ``s`` writes, or None when it writes none (see :func:`declared`)."""
    if not declared(s):
        return None
    if s.diffusivity is None:
        raise KeyError_(("diffusivity",), "a medium (obstacles, velocity) needs a diffusivity (length^2 / time), "
                                          "not a kernel")
    solid = None if s.obstacles is None else obstacle_mask(s.obstacles, grid, base_dir)
    D = diffusivity(s.diffusivity, grid, base_dir)
    for key, spec in (("obstacles", s.obstacles), ("diffusivity", s.diffusivity)):
        if getattr(spec, "kind", None) == "image":  # a picture resampled to the grid is said
            note = _read((key,), lambda: resample_note(picture_size(_file(spec.path, base_dir, (key,))), grid.shape))
            if note:
                s._notes.append(((key, "path"), note))
    v = None if s.velocity is None else velocity(s.velocity, grid, base_dir)
    if solid is not None and solid.all():
        raise KeyError_(("obstacles",), f"every cell of the {'x'.join(map(str, grid.shape))} grid is solid: there "
                                        "is no fluid to diffuse in")
    try:
        return build(grid, D, solid, s.obstacles.wall if s.obstacles is not None else "reflecting", v)
    except MediumError as exc:
        raise KeyError_(("diffusivity",), str(exc)) from None


def _file(path: str | None, base_dir: Path, key: tuple) -> Path:
    if path is None:
        raise KeyError_(key + ("path",), "give the file (path:)")
    p = Path(path).expanduser()
    p = p if p.is_absolute() else Path(base_dir) / p
    if not p.is_file():
        raise KeyError_(key + ("path",), f"file not found: {p}")
    return p


def _read(key, call):
    try:
        return call()
    except (ValueError, OSError) as exc:
        raise KeyError_(key + ("path",), str(exc)) from None


def obstacle_mask(spec, grid: Grid, base_dir: Path) -> np.ndarray:
    """True where a cell is solid: from a ``.npy`` (booleans, or integers 0 and 1), an image (brightness
    below ``threshold``), or shapes (cells whose centre lies inside a rectangle or a disc)."""
    from ..initial import read_array, read_picture

    key = ("obstacles",)
    if spec.kind == "array":
        path = _file(spec.path, base_dir, key)
        a = _read(key, lambda: read_array(path, grid.shape, "obstacles are booleans (true = solid) or 0 and 1",
                                          kinds="biu", name="the grid"))
        if not np.isin(a, (0, 1)).all():
            raise KeyError_(key + ("path",), f"{path} holds values other than 0 and 1 (true = solid)")
        return a.astype(bool)
    if spec.kind == "image":
        if grid.ndim != 2:
            raise KeyError_(key + ("kind",), "an image of obstacles needs a 2-D grid")
        path = _file(spec.path, base_dir, key)
        return _read(key, lambda: read_picture(path, grid.shape)) < spec.threshold
    if not spec.shapes:
        raise KeyError_(key + ("shapes",), "give at least one shape: {kind: rectangle, lower: [...], upper: [...]} "
                                           "or {kind: disc, centre: [...], radius: r}")
    centres = np.meshgrid(*grid.coords().values(), indexing="ij")
    solid = np.zeros(grid.shape, dtype=bool)
    for i, shape in enumerate(spec.shapes):
        points = [shape.lower, shape.upper] if shape.kind == "rectangle" else [shape.centre]
        if any(len(p) != grid.ndim for p in points):
            raise KeyError_(key + ("shapes", i), f"give {grid.ndim} coordinates per point ({', '.join(grid.dims)})")
        if shape.kind == "rectangle":
            inside = np.ones(grid.shape, dtype=bool)
            for c, lo, hi in zip(centres, shape.lower, shape.upper):
                inside &= (c >= lo) & (c <= hi)
        else:
            inside = sum((c - p) ** 2 for c, p in zip(centres, shape.centre)) <= shape.radius**2
        if not inside.any():
            raise KeyError_(key + ("shapes", i), f"this {shape.kind} covers no cell centre of the grid")
        solid |= inside
    return solid


def diffusivity(value, grid: Grid, base_dir: Path) -> np.ndarray | float:
    """D as :func:`~physconv.medium.build` takes it: a number, one per axis, or a field of the grid's shape."""
    from ..initial import read_array, read_picture

    key = ("diffusivity",)
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, list):
        if len(value) != grid.ndim:
            raise KeyError_(key, f"give one diffusivity per axis ({', '.join(grid.dims)}): {grid.ndim} numbers, "
                                 f"got {len(value)}")
        return np.array(value, dtype=float)
    if value.kind == "array":
        path = _file(value.path, base_dir, key)
        D = _read(key, lambda: read_array(path, grid.shape, "a diffusivity is real numbers", name="the grid"))
        bad = ~np.isfinite(D) | (D <= 0)
        if bad.any():
            first = tuple(int(i) for i in np.argwhere(bad)[0])
            raise KeyError_(key + ("path",), f"{path}: the diffusivity must be positive and finite in every cell; "
                                             f"{int(bad.sum())} cells are not (the first at index {first}: "
                                             f"{D[first]!r})")
        return D
    if value.kind == "image":
        if grid.ndim != 2:
            raise KeyError_(key + ("kind",), "a diffusivity image needs a 2-D grid")
        if value.range is None:
            raise KeyError_(key + ("range",), "give [D of black, D of white] (length^2 / time)")
        path = _file(value.path, base_dir, key)
        lo, hi = value.range
        return lo + (hi - lo) * _read(key, lambda: read_picture(path, grid.shape))
    return _layers(value, grid)


def _layers(value, grid: Grid) -> np.ndarray:
    key = ("diffusivity",)
    for name in ("axis", "edges", "values"):
        if getattr(value, name) is None:
            raise KeyError_(key + (name,), "layers need axis, edges and values")
    if value.axis not in grid.dims:
        raise KeyError_(key + ("axis",), f"{value.axis!r} is not an axis of the grid ({', '.join(grid.dims)})")
    a = grid.dims.index(value.axis)
    edges = np.array(value.edges, dtype=float)
    if not np.all(np.diff(edges) > 0):
        raise KeyError_(key + ("edges",), "edges must increase")
    if len(value.values) != len(edges) - 1:
        raise KeyError_(key + ("values",), f"{len(edges)} edges bound {len(edges) - 1} layers: give that many "
                                           f"values, got {len(value.values)}")
    centres = grid.coords()[value.axis]
    if centres[0] < edges[0] or centres[-1] > edges[-1]:
        raise KeyError_(key + ("edges",), f"the layers span {edges[0]:g} to {edges[-1]:g} along {value.axis} but the "
                                          f"cell centres run from {centres[0]:g} to {centres[-1]:g}")
    layer = np.clip(np.searchsorted(edges, centres, side="right") - 1, 0, len(value.values) - 1)
    line = np.array(value.values, dtype=float)[layer]
    shape = [1] * grid.ndim
    shape[a] = -1
    return np.broadcast_to(line.reshape(shape), grid.shape).copy()


def velocity(value, grid: Grid, base_dir: Path) -> np.ndarray:
    """The velocity at every cell centre, ``(ndim, *grid.shape)`` (length/time)."""
    from ..initial import read_array

    key = ("velocity",)
    nd = grid.ndim
    if isinstance(value, list):
        if len(value) != nd:
            raise KeyError_(key, f"give one velocity component per axis ({', '.join(grid.dims)}): {nd} numbers, "
                                 f"got {len(value)}")
        return np.broadcast_to(np.array(value, dtype=float).reshape((nd,) + (1,) * nd), (nd,) + grid.shape).copy()
    if value.kind == "array":
        path = _file(value.path, base_dir, key)
        v = _read(key, lambda: read_array(path, (nd,) + grid.shape, "a velocity is real numbers"))
        if not np.all(np.isfinite(v)):
            raise KeyError_(key + ("path",), f"{path}: the velocity must be finite in every cell")
        return v
    if nd < 2:
        raise KeyError_(key + ("kind",), f"a {value.kind} flow needs a grid of 2 or 3 axes")
    if value.rate is None:
        raise KeyError_(key + ("rate",), f"a {value.kind} flow needs its rate (1/time)")
    coords = grid.coords()
    middle = [length / 2 for length in grid.lengths]
    want = 1 if value.kind == "shear" else 2
    centre = middle[-want:] if value.centre is None else list(value.centre)
    if len(centre) != want:
        raise KeyError_(key + ("centre",), f"a {value.kind} flow's centre is {want} coordinate(s): "
                                           f"{'[y]' if want == 1 else '[y, x]'}")
    y, x = np.meshgrid(coords["y"], coords["x"], indexing="ij")
    v = np.zeros((nd,) + grid.shape)
    if value.kind == "shear":  # along x, growing across y
        v[-1] = value.rate * (y - centre[0])
    else:  # solid rotation in the y-x plane, counter-clockwise for a positive rate
        v[-1] = -value.rate * (y - centre[0])
        v[-2] = value.rate * (x - centre[1])
    return v

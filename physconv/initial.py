"""Initial concentration fields, by kind.

Each kind is a small pydantic model (its keys are the scenario's
``initial:`` keys) with a ``make(grid, base_dir)`` method returning a float64
array of the grid's shape. All random kinds take a ``seed``.

========== =================================================================
kind       field
========== =================================================================
random_cubes  blocks of ``cube`` cells with uniform random concentration in [low, high)
two_halves salt water on one half of an axis, fresh water on the other
point      all the mass in the cell holding ``position`` (default: the centre)
gaussian   a Gaussian blob of std ``width`` (length units) on a background
checkerboard  alternating blocks of ``size`` cells, ``low`` and ``high``
sine       ``mean + amplitude * prod cos(pi m_a x_a / L_a)`` (smooth, for convergence)
image      a grayscale PNG/JPEG scaled to [0, 1], resampled to the grid (2-D)
array      a .npy file of exactly the grid's shape
========== =================================================================
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Literal, Union

import numpy as np
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from .grid import Grid


def _number(v):
    """YAML 1.1 reads ``1e-3`` as a string: accept such numeric strings as floats; refuse inf and nan."""
    if isinstance(v, str):
        try:
            v = float(v)
        except ValueError:
            return v
    if isinstance(v, float) and not math.isfinite(v):
        raise ValueError("must be a finite number (not inf or nan)")
    return v


MAX_IMAGE_PIXELS = 50_000_000  # larger pictures are refused before they are decoded
Real = Annotated[float, BeforeValidator(_number), Field(allow_inf_nan=False)]  # finite numbers only


class _Kind(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    def note(self, grid: Grid, base_dir: Path) -> str | None:
        """One sentence when the field is not made exactly as written (a picture resampled), else None."""
        return None


class RandomCubes(_Kind):
    """``initial: {kind: random_cubes}`` — the salt aquarium: cubes of ``cube`` cells per side, each of one
    concentration drawn uniformly from [low, high] (seeded)."""

    kind: Literal["random_cubes"]
    seed: int = Field(0, ge=0, le=2**63 - 1)
    cube: int = Field(1, ge=1, le=2**31, description="cells per side of a cube of equal concentration")
    low: Real = 0.0
    high: Real = 1.0

    def make(self, grid: Grid, base_dir: Path) -> np.ndarray:
        rng = np.random.default_rng(self.seed)
        blocks = tuple(math.ceil(n / self.cube) for n in grid.shape)
        field = self.low + (self.high - self.low) * rng.random(blocks)
        for a in range(grid.ndim):
            field = np.repeat(field, self.cube, axis=a)
        return field[tuple(slice(0, n) for n in grid.shape)].copy()


class TwoHalves(_Kind):
    """``initial: {kind: two_halves}`` — ``left`` in the lower half along ``axis``, ``right`` in the upper half
    (a barrier pulled out at t = 0)."""

    kind: Literal["two_halves"]
    axis: Literal["x", "y", "z"] = "x"
    left: Real = 1.0
    right: Real = 0.0

    def make(self, grid: Grid, base_dir: Path) -> np.ndarray:
        a = _axis(grid, self.axis)
        n = grid.shape[a]
        profile = np.where(np.arange(n) < n // 2, self.left, self.right).astype(float)
        return np.broadcast_to(_along(profile, a, grid.ndim), grid.shape).copy()


class Point(_Kind):
    """``initial: {kind: point}`` — all the salt, ``mass``, in the one cell that holds ``position``."""

    kind: Literal["point"]
    position: list[Real] | None = Field(None, description="physical coordinates, axis order; default: centre")
    mass: Real = 1.0

    def make(self, grid: Grid, base_dir: Path) -> np.ndarray:
        pos = [L / 2 for L in grid.lengths] if self.position is None else self.position
        if len(pos) != grid.ndim:
            raise ValueError(f"position has {len(pos)} coordinates but the grid has {grid.ndim} axes")
        idx = []
        for p, L, d, n in zip(pos, grid.lengths, grid.spacing, grid.shape):
            if not 0 <= p <= L:
                raise ValueError(f"position {p} lies outside the box [0, {L}]")
            idx.append(min(int(p / d), n - 1))
        u = np.zeros(grid.shape)
        u[tuple(idx)] = self.mass / grid.cell_volume
        return u


class Gaussian(_Kind):
    """``initial: {kind: gaussian}`` — ``background + amplitude exp(-|x - center|² / (2 width²))``."""

    kind: Literal["gaussian"]
    center: list[Real] | None = Field(None, description="physical coordinates, axis order; default: centre")
    width: Real = Field(..., gt=0, description="standard deviation (length)")
    amplitude: Real = 1.0
    background: Real = 0.0

    def make(self, grid: Grid, base_dir: Path) -> np.ndarray:
        centre = [L / 2 for L in grid.lengths] if self.center is None else self.center
        if len(centre) != grid.ndim:
            raise ValueError(f"center has {len(centre)} coordinates but the grid has {grid.ndim} axes")
        if self.width < 1e-3 * min(grid.spacing):
            raise ValueError(f"width {self.width:g} is far below the cell size {min(grid.spacing):g}: the blob "
                             "falls between cell centres; use kind: point for all the salt in one cell")
        r2 = sum(_along(((c - x0) / self.width) ** 2, a, grid.ndim)
                 for a, (c, x0) in enumerate(zip(grid.coords().values(), centre)))
        return np.broadcast_to(self.background + self.amplitude * np.exp(-0.5 * r2), grid.shape).copy()


class Checkerboard(_Kind):
    """``initial: {kind: checkerboard}`` — alternating blocks of ``size`` cells, ``low`` and ``high``."""

    kind: Literal["checkerboard"]
    size: int = Field(8, ge=1, le=2**31)
    low: Real = 0.0
    high: Real = 1.0

    def make(self, grid: Grid, base_dir: Path) -> np.ndarray:
        parity = sum(_along(np.arange(n) // self.size, a, grid.ndim) for a, n in enumerate(grid.shape)) % 2
        return np.broadcast_to(np.where(parity == 1, self.high, self.low), grid.shape).astype(float)


class Sine(_Kind):
    """``initial: {kind: sine}`` — ``mean + amplitude Π cos(π m_a x_a / L_a)``: ``modes`` half-wavelengths per
    axis (one eigenfunction of reflecting walls)."""

    kind: Literal["sine"]
    modes: list[int] = Field(default_factory=lambda: [1], description="half-wavelengths per axis")
    amplitude: Real = 1.0
    mean: Real = 1.0

    def make(self, grid: Grid, base_dir: Path) -> np.ndarray:
        modes = self.modes * grid.ndim if len(self.modes) == 1 else self.modes
        if len(modes) != grid.ndim:
            raise ValueError(f"modes has {len(self.modes)} entries but the grid has {grid.ndim} axes")
        f = 1.0
        for a, (m, x, L) in enumerate(zip(modes, grid.coords().values(), grid.lengths)):
            f = f * _along(np.cos(np.pi * m * x / L), a, grid.ndim)
        return np.broadcast_to(self.mean + self.amplitude * f, grid.shape).copy()


class Image(_Kind):
    """A grey-level picture (PNG/JPEG), brightness 0..1, resampled to the grid.

    Axis ``y`` points up, as in every physconv figure: the picture's top row
    becomes the last row of the field (largest ``y``), so the picture is drawn
    the right way up. A picture of another size than the grid is resampled only
    when its aspect ratio is the grid's (within a cell; :meth:`note` says so);
    one that would be stretched is refused with the grid shape that fits it.
    """

    kind: Literal["image"]
    path: str
    invert: bool = False

    def make(self, grid: Grid, base_dir: Path) -> np.ndarray:
        if grid.ndim != 2:
            raise ValueError("an image initial field needs a 2-D grid")
        a = read_picture(_resolve(self.path, base_dir), grid.shape)
        return 1.0 - a if self.invert else a

    def note(self, grid: Grid, base_dir: Path) -> str | None:
        """One sentence when the picture is resampled to the grid, else None."""
        return resample_note(picture_size(_resolve(self.path, base_dir)), grid.shape)


def picture_size(path) -> tuple[int, int]:
    """``(rows, columns)`` of a picture, from its header (nothing decoded)."""
    from PIL import Image as PILImage, UnidentifiedImageError

    try:
        with PILImage.open(path) as im:
            return im.height, im.width
    except UnidentifiedImageError:
        raise ValueError(f"{path} is not a PNG/JPEG image") from None
    except (OSError, SyntaxError) as exc:
        raise ValueError(f"{path} is a damaged or unreadable image ({' '.join(str(exc).split())})") from None


def fitted_shape(size, longest: int) -> tuple[int, int]:
    """The grid shape of a picture of ``size = (rows, columns)`` with ``longest`` cells on its longer side."""
    h, w = size
    scale = longest / max(h, w)
    return max(1, round(h * scale)), max(1, round(w * scale))


def resample_note(size, shape) -> str | None:
    """None when a picture of ``size`` is the grid ``shape``; a sentence when it is resampled keeping its
    aspect ratio (within one cell); ``ValueError`` when resampling would stretch it."""
    (h, w), (ny, nx) = size, shape
    if (h, w) == (ny, nx):
        return None
    if abs(w * ny / h - nx) > 1 and abs(h * nx / w - ny) > 1:
        fit = (ny, max(1, round(w * ny / h)))
        raise ValueError(f"the picture is {w} x {h} pixels (width x height) but the grid is {nx} x {ny} cells: "
                         f"resampling would stretch it by {(nx / w) / (ny / h):.3g} along x; use grid.shape "
                         f"{list(fit)} (its aspect ratio), or crop the picture to the grid's")
    return f"the picture of {w} x {h} pixels is resampled to the grid's {nx} x {ny} cells (aspect ratio kept)"


def _grey(im):
    """``(image, full)``: a picture's grey levels and the value that stands for full brightness. 8-bit
    and colour pictures: their grey level (mode ``L``) over 255; 16-bit ones over 65535; 32-bit integer
    and float pictures scaled from their own darkest to their brightest value (mode ``F``; converting
    those to 8 bits clipped them to black)."""
    from PIL import Image as PILImage

    if not (im.mode in ("F", "I") or im.mode.startswith("I;")):
        return im.convert("L"), 255.0
    a = np.asarray(im, dtype=np.float64)
    if im.mode.startswith("I;16"):
        return PILImage.fromarray(a.astype(np.float32), mode="F"), 65535.0
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{getattr(im, 'filename', 'the picture')} holds NaN or infinite values")
    lo, hi = float(a.min()), float(a.max())
    a = (a - lo) / (hi - lo) if hi > lo else np.zeros_like(a)
    return PILImage.fromarray(a.astype(np.float32), mode="F"), 1.0


def read_picture(path, shape) -> np.ndarray:
    """A picture's brightness in [0, 1] on a grid of ``shape``, ``y`` up (its top row last).

    Refused: pictures above :data:`MAX_IMAGE_PIXELS`, damaged or truncated files
    (a PNG whose data stops early included), and a resampling that would stretch.
    """
    from PIL import Image as PILImage, UnidentifiedImageError

    from ._png import missing

    try:
        with PILImage.open(path) as im:
            if im.width * im.height > MAX_IMAGE_PIXELS:
                raise ValueError(f"{path} is {im.width} x {im.height} pixels; at most {MAX_IMAGE_PIXELS} "
                                 "pixels are read")
            short = missing(path) if im.format == "PNG" else None
            if short:
                raise ValueError(f"{path} is a damaged image: {short}")
            resample_note((im.height, im.width), shape)
            im.load()  # a truncated or damaged file fails here, not padded with black
            im, full = _grey(im)
            if (im.height, im.width) != tuple(shape):
                im = im.resize((shape[1], shape[0]), PILImage.Resampling.BILINEAR)
            return np.flipud(np.asarray(im, dtype=float)) / full  # image rows run downwards, y runs up
    except UnidentifiedImageError:
        raise ValueError(f"{path} is not a PNG/JPEG image") from None
    except (OSError, SyntaxError, PILImage.DecompressionBombError) as exc:
        raise ValueError(f"{path} is a damaged or unreadable image ({' '.join(str(exc).split())})") from None


class Array(_Kind):
    """``initial: {kind: array}`` — a ``.npy`` file of the grid's shape (a path relative to the scenario file)."""

    kind: Literal["array"]
    path: str

    def make(self, grid: Grid, base_dir: Path) -> np.ndarray:
        return read_array(_resolve(self.path, base_dir), grid.shape, "an initial field is real numbers", name="the grid")


def read_array(path, shape, what: str, kinds: str = "iuf", name: str | None = None) -> np.ndarray:
    """A ``.npy`` file's array of ``shape`` whose dtype kind is one of ``kinds`` (``what`` says why), as
    float (bool for ``kinds == 'b'``); the header is checked before any data is read."""
    with open(path, "rb") as f:
        try:
            version = np.lib.format.read_magic(f)
            read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
            found, fortran, dtype = read(f)
        except ValueError:
            raise ValueError(f"{path} is not a .npy array file (an .npz archive or another format?)") from None
        if tuple(found) != tuple(shape):
            need = f"the grid is {tuple(shape)}" if name == "the grid" else f"{tuple(shape)} is needed"
            raise ValueError(f"{path} holds shape {tuple(found)} but {need}")
        if dtype.kind not in kinds or dtype.names is not None:
            raise ValueError(f"{path} holds {dtype} values; {what}")
        f.seek(0)
        try:
            a = np.load(f, allow_pickle=False)
        except (ValueError, EOFError, OSError) as exc:
            raise ValueError(f"{path} is a damaged .npy file ({' '.join(str(exc).split())})") from None
    return np.asarray(a, dtype=bool if kinds == "b" else float)


KINDS = {m.model_fields["kind"].annotation.__args__[0]: m
         for m in (RandomCubes, TwoHalves, Point, Gaussian, Checkerboard, Sine, Image, Array)}

InitialSpec = Annotated[Union[tuple(KINDS.values())], Field(discriminator="kind")]


def _resolve(path: str, base_dir: Path) -> Path:
    p = Path(path).expanduser()
    p = p if p.is_absolute() else Path(base_dir) / p
    if not p.is_file():
        raise ValueError(f"file not found: {p}")
    return p


def _axis(grid: Grid, name: str) -> int:
    if name not in grid.dims:
        raise ValueError(f"axis {name!r} is not one of the grid's axes {', '.join(grid.dims)}")
    return grid.dims.index(name)


def _along(v: np.ndarray, axis: int, ndim: int) -> np.ndarray:
    """Reshape a 1-D array to broadcast along ``axis`` of an ``ndim``-D array."""
    shape = [1] * ndim
    shape[axis] = -1
    return np.reshape(v, shape)

"""Exact propagators in the eigenbasis of each boundary.

Every boundary of :mod:`physconv.boundary` has a basis in which the 1-D
second difference (and every kernel it allows) is diagonal:

==========  ========  ======================  ===============================
boundary    basis     angle of mode k         eigenvalue of second difference
==========  ========  ======================  ===============================
periodic    DFT       2 pi k / n              -4 sin^2(pi k / n)
reflecting  DCT-II    pi k / n                -4 sin^2(pi k / 2n)
absorbing   DST-I     pi (k+1) / (n+1)        -4 sin^2(pi (k+1) / 2(n+1))
dirichlet   DST-II    pi (k+1) / n            -4 sin^2(pi (k+1) / 2n)
==========  ========  ======================  ===============================

So ``n`` steps of a kernel are one forward transform, a multiplication by the
``n``-th power of the kernel's transfer function and one inverse transform:
exact to round-off, at a cost independent of ``n``.
"""

from __future__ import annotations

import numbers
from typing import Sequence

import numpy as np
import scipy.fft as sfft

from . import _modes
from . import kernels as _k
from .boundary import Boundary, wall_value
from .errors import KernelError
from .grid import Grid, as_boundaries

_REAL = {"reflecting": ("dct", 2), "absorbing": ("dst", 1), "dirichlet": ("dst", 2)}
WORKERS = -1  # scipy.fft threads: all cores (the results do not depend on it)


def angles(n: int, kind: str) -> np.ndarray:
    """Angle ``theta_k`` of each mode of an ``n``-cell axis with boundary ``kind``."""
    k = np.arange(n)
    return {
        "periodic": 2 * np.pi * k / n,
        "reflecting": np.pi * k / n,
        "absorbing": np.pi * (k + 1) / (n + 1),
        "dirichlet": np.pi * (k + 1) / n,
    }[kind]


def eigenvalues(n: int, kind: str) -> np.ndarray:
    """Eigenvalues ``-4 sin^2(theta_k / 2)`` of the 1-D second difference with boundary ``kind``.

    Periodic: the modes ``k`` and ``n - k`` get the same value to the last bit (computed from the
    smaller of the two), as they have in exact arithmetic.
    """
    theta = angles(n, kind)
    if kind == "periodic":
        theta = np.minimum(theta, theta[(n - np.arange(n)) % n])
    return -4.0 * np.sin(theta / 2) ** 2


def _real_transforms(c, bcs, prefix: str, overwrite: bool):
    """The DCT/DST of ``c`` along every non-periodic axis, one call per transform type.

    ``overwrite``: ``c`` is a scratch array the transforms may reuse (fewer fresh arrays: on a
    large grid their first touch costs as much as a transform).
    """
    groups: dict[tuple[str, int], list[int]] = {}
    for axis, b in enumerate(bcs):
        if b.kind in _REAL:
            groups.setdefault(_REAL[b.kind], []).append(axis)
    for (name, t), axes in groups.items():
        c = getattr(sfft, prefix + name + "n")(c, type=t, axes=axes, norm="ortho", workers=WORKERS,
                                                overwrite_x=overwrite)
        overwrite = True
    return c


def forward(u: np.ndarray, bcs: Sequence[Boundary]) -> np.ndarray:
    """Coefficients of ``u`` in the product basis of its boundaries (orthonormal transforms).

    Periodic axes use the real-input transform: along the last periodic axis only the modes
    ``0 .. n // 2`` are kept (the others are their complex conjugates); multiply by :func:`half`
    of a full-shape transfer function, and give :func:`inverse` the field's shape.
    """
    c = _real_transforms(np.asarray(u, dtype=float), bcs, "", overwrite=False)
    periodic = [a for a, b in enumerate(bcs) if b.kind == "periodic"]
    return sfft.rfftn(c, axes=periodic, norm="ortho", workers=WORKERS) if periodic else c


def inverse(c: np.ndarray, bcs: Sequence[Boundary], shape, overwrite: bool = False) -> np.ndarray:
    """The real field of shape ``shape`` whose coefficients are ``c`` (inverse of :func:`forward`);
    with ``overwrite``, ``c`` may be destroyed."""
    periodic = [a for a, b in enumerate(bcs) if b.kind == "periodic"]
    if periodic:
        c, overwrite = sfft.irfftn(c, s=[shape[a] for a in periodic], axes=periodic, norm="ortho",
                                   workers=WORKERS), True
    return _real_transforms(np.asarray(c, dtype=float), bcs, "i", overwrite)


def _halved_axis(bcs: Sequence[Boundary]) -> int | None:
    """The axis whose modes :func:`forward` keeps only up to ``n // 2`` (the last periodic one), or None."""
    return max((a for a, b in enumerate(bcs) if b.kind == "periodic"), default=None)


def half(transfer: np.ndarray, bcs: Sequence[Boundary], shape=None) -> np.ndarray:
    """A transfer function on the modes :func:`forward` keeps: the last periodic axis cut to ``n // 2 + 1``
    (``n``: that axis of ``shape``, the field's shape; default the transfer's own, i.e. a full one).

    Exact for the transfer functions of real kernels and schemes, whose values at opposite
    frequencies are complex conjugates.
    """
    a = _halved_axis(bcs)
    if a is None or np.ndim(transfer) == 0:
        return transfer
    n = (np.shape(transfer) if shape is None else shape)[a]
    index = [slice(None)] * np.ndim(transfer)
    index[a] = slice(0, n // 2 + 1)
    return transfer[tuple(index)]


def forward_shape(shape, bcs) -> tuple:
    """Shape of :func:`forward`'s coefficients for a field of ``shape``."""
    a = _halved_axis(bcs)
    return tuple(n // 2 + 1 if i == a else n for i, n in enumerate(shape))


def _ftcs_terms(grid: Grid, diffusivity: float, dt: float, kept: bool) -> list:
    """``r_a lambda_a`` per axis (on the modes :func:`forward` keeps, with ``kept``)."""
    r = _k.ftcs_numbers(diffusivity, dt, grid.spacing)
    last = _halved_axis(grid.boundaries) if kept else None
    return [ra * (eigenvalues(n, b.kind)[: n // 2 + 1] if a == last else eigenvalues(n, b.kind))
            for a, (ra, n, b) in enumerate(zip(r, grid.shape, grid.boundaries))]


def _outer_sum(terms) -> np.ndarray:
    """``((0 + t0) + t1) + ...`` over the outer product of the axes of ``terms``."""
    m = np.zeros(())
    for t in terms:
        m = np.add.outer(m, t)
    return m


def ftcs_transfer(grid: Grid, diffusivity: float, dt: float, kept: bool = False) -> np.ndarray:
    """Amplification factor of one FTCS step per mode: ``1 + sum_a r_a lambda_a``; with ``kept``, only
    on the modes :func:`forward` keeps (see :func:`half`)."""
    return 1.0 + _outer_sum(_ftcs_terms(grid, diffusivity, dt, kept))


def _ftcs_sum(grid: Grid, diffusivity: float, dt: float):
    """:func:`ftcs_transfer` on the kept modes as ``1 + (rows[i] + cols[j])`` over the flat leading axes ``i``
    and the last axis ``j`` (the same sums in the same order)."""
    terms = _ftcs_terms(grid, diffusivity, dt, kept=True)
    return np.ravel(_outer_sum(terms[:-1])), np.ascontiguousarray(terms[-1])


def check_kernel(kernel, bcs: Sequence[Boundary], shape) -> np.ndarray:
    """Check that ``kernel`` is exactly diagonal in the basis of ``bcs``; return it as an array.

    Periodic axes take any kernel; reflecting and dirichlet axes kernels
    symmetric under flipping that axis (up to ``2 n + 1`` wide); absorbing axes
    symmetric kernels of width 3.
    """
    k = _k.check(kernel, len(bcs))
    for a, (b, n, w) in enumerate(zip(bcs, shape, k.shape)):
        r = (w - 1) // 2
        if b.kind == "periodic":
            continue
        if not _k.is_symmetric(k, a):
            raise KernelError(
                f"the exact propagator needs a kernel symmetric along {b.kind} axis {a}; "
                "use periodic walls or the explicit solver for asymmetric kernels"
            )
        if b.kind == "absorbing" and w > 3:
            raise KernelError(f"the exact propagator with absorbing walls takes kernels of width 3, got {w} along axis {a}")
        if r > n:
            raise KernelError(f"kernel reaches {r} cells but axis {a} has only {n}")
    return k


def kernel_transfer(kernel: np.ndarray, bcs: Sequence[Boundary], shape) -> np.ndarray:
    """Transfer function of a kernel per mode (its eigenvalue in the boundaries' basis).

    .. math:: \\hat k(\\theta) = \\sum_d k[d] \\prod_{a\\,\\mathrm{periodic}} e^{-i\\theta_a d_a}
              \\prod_{a\\,\\mathrm{other}} \\cos(\\theta_a d_a)
    """
    m = np.asarray(kernel, dtype=float)
    for a, (b, n) in enumerate(zip(bcs, shape)):
        phase = np.multiply.outer(_k.offsets(kernel, a), angles(n, b.kind))
        factor = np.exp(-1j * phase) if b.kind == "periodic" else np.cos(phase)
        m = np.tensordot(m, factor, axes=([0], [0]))  # contracts axis a, appends its modes last
    return m


UNDERFLOW = _modes.UNDERFLOW


def power(transfer: np.ndarray, n: int) -> np.ndarray:
    """``transfer ** n`` at a cost independent of ``n``: ``sign^n * exp(n log|G|)``.

    Modes that decay below the smallest float become exactly 0 (no slow
    subnormal arithmetic); complex factors (periodic axes, asymmetric kernels)
    use the complex logarithm. Agrees with repeated multiplication to a few
    units in the last place of ``n log|G|``.
    """
    G = np.asarray(transfer)
    p = np.empty(G.shape, complex if np.iscomplexobj(G) else float)
    return _modes.power_into(p, _modes.log(G), G, n)


def _geometric(mu: np.ndarray, n: int) -> np.ndarray:
    """``sum_{m<n} mu**m`` accurately, also near ``mu = 1``."""
    s = 1.0 - mu
    near = np.abs(s) < 0.5
    safe_s = np.where(s == 0, 1.0, s)
    with np.errstate(divide="ignore", invalid="ignore"):
        close = -np.expm1(n * np.log1p(-np.where(near, s, 0.0))) / safe_s
        far = (1.0 - mu**n) / safe_s
    return np.where(s == 0, float(n), np.where(near, close, far))


def evolve(u0, transfer, bcs, steps, source=None, out=None):
    """Apply any scheme that is diagonal in the boundaries' basis, ``steps`` times, in one shot.

    .. math:: u_n = G^n u_0 + (1 + G + \\dots + G^{n-1})\\, h

    Parameters
    ----------
    u0 : ndarray
    transfer : ndarray, shape u0.shape
        The factor ``G`` of each mode (e.g. :func:`ftcs_transfer`, :func:`kernel_transfer`,
        :func:`physconv.solvers.implicit.amplification`).
    bcs : sequence of Boundary
    steps : int or sequence of int
    source : ndarray, optional
        ``h``, what one step adds to a zero field (dirichlet walls of non-zero value).
    out : array-like, optional
        Where the frames go, ``out[i] = frame`` as each is reached (e.g. a variable of an open
        result file, so that a long run does not hold its frames in memory); shape
        ``(n_saved, *shape)``. It is returned in place of a new array.
    """
    G = np.asarray(half(transfer, bcs, np.shape(u0)))  # a no-op for a transfer built on the kept modes
    kept = forward_shape(np.shape(u0), bcs)
    G2 = np.broadcast_to(G, kept).reshape(-1, kept[-1])
    source = None if source is None else (source, G)
    return _evolve(u0, bcs, steps, lambda i0, i1, j0, j1, scratch: G2[i0:i1, j0:j1], source, out)


def _evolve(u0, bcs, steps, factor, source, out, mirror=1):
    """:func:`evolve` given ``factor(i0, i1, j0, j1, scratch)``, the block ``G[i0:i1, j0:j1]`` of the transfer
    on the coefficients with their leading axes flattened (see :func:`physconv._modes.scale`), and ``source``
    = ``(h, G)`` or None; ``mirror`` as in :func:`physconv._modes.scale`."""
    single = isinstance(steps, numbers.Integral)
    step_list = np.atleast_1d(np.asarray(steps))
    if step_list.dtype.kind not in "iu" or np.any(step_list < 0):
        raise ValueError(f"steps must be non-negative whole numbers, got {steps!r}")
    shape = np.shape(u0)
    c0 = np.ascontiguousarray(forward(u0, bcs))
    cb = forward(source[0], bcs) if source is not None else None
    frames = None if single and out is None else np.empty((len(step_list),) + shape) if out is None else out
    c = None
    for i, n in enumerate(step_list):
        if n == 0:  # exactly the initial field, not its round trip through the transforms
            field = np.array(u0, dtype=float)
        else:
            # the last frame scales the coefficients in place; the others into one scratch array
            c = c0 if i == len(step_list) - 1 else np.empty_like(c0) if c is None else c
            _modes.scale(_rows(c), _rows(c0), factor, int(n), mirror)
            if cb is not None:
                c += cb * _geometric(source[1], int(n))
            field = inverse(c, bcs, shape, overwrite=True)
        if frames is None:
            return field
        frames[i] = field
    return frames


def _rows(a: np.ndarray) -> np.ndarray:
    """``a`` with its leading axes flattened, ``(rows, last)``; a view of a C-contiguous array (the blocks are
    written through it)."""
    v = a.reshape(-1, a.shape[-1])
    if not np.shares_memory(v, a):
        raise ValueError("expected a C-contiguous array")
    return v


def _wall_source(kernel, bcs, shape):
    """What one step adds from dirichlet walls with value c != 0 (None if nothing)."""
    if wall_value(bcs) == 0.0:
        return None
    from .convolve import fft_convolve

    return fft_convolve(np.zeros(shape), kernel, bcs)


def diffuse(u0, grid: Grid, *, diffusivity: float, dt: float, steps, out=None):
    """Exact result of ``steps`` FTCS steps, in one shot.

    .. math:: \\hat u_n = \\Big(1 + \\sum_a r_a \\lambda_a\\Big)^n \\hat u_0, \\qquad r_a = D\\Delta t/\\Delta x_a^2

    With dirichlet walls of value ``c`` the affine part is summed exactly as a
    geometric series.

    Parameters
    ----------
    u0 : ndarray, shape grid.shape
    grid : Grid
    diffusivity : float
        D (length^2 / time).
    dt : float
        Time step (any: stable or not, this is the exact discrete propagator).
    steps : int or sequence of int
        One step count (returns a field) or several (returns frames along axis 0).
    out : array-like, optional
        Frames written there as computed (see :func:`evolve`).

    Examples
    --------
    >>> g = Grid((8,), boundary='reflecting')
    >>> u = diffuse(np.eye(8)[0], g, diffusivity=0.25, dt=1.0, steps=1000)
    >>> bool(np.allclose(u, 1 / 8))
    True
    """
    u = grid.check_field(u0)
    rows, cols = _ftcs_sum(grid, diffusivity, dt)
    h = _wall_source(_k.ftcs(diffusivity, dt, grid.spacing), grid.boundaries, grid.shape)
    source = None if h is None else (h, ftcs_transfer(grid, diffusivity, dt, kept=True))

    def factor(i0, i1, j0, j1, scratch):  # 1 + (rows + cols): the sums of ftcs_transfer, in its order
        g = np.add.outer(rows[i0:i1], cols[j0:j1], out=scratch)
        g += 1.0
        return g

    return _evolve(u, grid.boundaries, steps, factor, source, out, _mirror(rows, grid))


def _mirror(rows: np.ndarray, grid: Grid) -> int:
    """The number of mirrored row groups of :func:`_ftcs_sum`'s ``rows`` (see :func:`physconv._modes.scale`):
    the first axis's length when it is periodic, not the halved axis, and its modes ``k`` and ``n - k`` have
    bit for bit the same row terms; else 1."""
    n = grid.shape[0]
    if grid.ndim < 2 or grid.boundaries[0].kind != "periodic" or _halved_axis(grid.boundaries) == 0:
        return 1
    groups = rows.reshape(n, -1)
    return n if np.array_equal(groups[1:], groups[:0:-1]) else 1


def propagate(u0, grid="periodic", *, kernel, steps, boundary_value=None, out=None):
    """The ``steps``-th convolution power of ``kernel`` applied to ``u0``, in one shot.

    .. math:: u_n = k^{*n} * u_0 \\quad\\Longleftrightarrow\\quad \\hat u_n = \\hat k^n \\hat u_0

    Periodic axes take any kernel; reflecting and dirichlet axes kernels
    symmetric along that axis; absorbing axes symmetric kernels of width 3.

    Parameters
    ----------
    u0 : ndarray
    grid : Grid, or a boundary spec (default: periodic), as for :func:`diffuse`
    kernel : ndarray, odd-sized, same number of axes as ``u0``
    steps : int or sequence of int
    """
    u = np.asarray(u0, dtype=float)
    bcs = as_boundaries(grid, u.ndim, boundary_value)
    k = check_kernel(kernel, bcs, u.shape)
    return evolve(u, kernel_transfer(k, bcs, u.shape), bcs, steps, _wall_source(k, bcs, u.shape), out)


def heat_transfer(grid: Grid, variance) -> np.ndarray:
    """Transfer function of the sampled, image-summed Gaussian of ``variance`` (one, or one per axis)."""
    m = np.ones(())
    for n, d, b, v in zip(grid.shape, grid.spacing, grid.boundaries, np.broadcast_to(variance, (grid.ndim,))):
        sigma = np.sqrt(v) / d
        theta = angles(n, b.kind)
        m = np.multiply.outer(m, _gaussian_cos(sigma, theta))
    return m


def _gaussian_cos(sigma: float, theta: np.ndarray) -> np.ndarray:
    """``sum_m g(m) cos(theta m)`` over all integers m, g the normalised sampled Gaussian."""
    if sigma == 0:
        return np.ones_like(theta)
    if sigma >= 3:  # Poisson summation: a few aliases of exp(-sigma^2 theta^2 / 2)
        j = np.arange(-3, 4)
        num = np.exp(-0.5 * sigma**2 * np.add.outer(theta, 2 * np.pi * j) ** 2).sum(axis=1)
        den = np.exp(-0.5 * sigma**2 * (2 * np.pi * j) ** 2).sum()
        return num / den
    m = np.arange(-int(np.ceil(12 * sigma)) - 1, int(np.ceil(12 * sigma)) + 2)
    g = _k.gaussian_weights(sigma, m)
    return np.cos(np.multiply.outer(theta, m)) @ g


def heat(u0, grid: Grid, *, diffusivity: float, time, out=None):
    """Convolution of ``u0`` with the Gaussian heat kernel of variance ``2 D t``, over the boundary's images.

    .. math:: u(x, t) = \\sum_{y} G_{2Dt}(x - y)\\, \\tilde u_0(y)

    where :math:`\\tilde u_0` is the initial field extended by the images of
    its boundaries (periodic copies, mirror images, odd images) and the sampled
    Gaussian is normalised over the whole lattice. It is the continuous-space
    solution sampled at cell centres, evaluated exactly through the boundary's
    basis. Dirichlet walls of value ``c`` use ``c + heat(u0 - c)``, which is
    exact when no axis is absorbing.

    Parameters
    ----------
    diffusivity : float or sequence of float
        D (length^2 / time), one for all axes or one per axis.
    time : float or sequence of float
        One time (returns a field) or several (frames along axis 0).
    out : array-like, optional
        Frames written there as computed (see :func:`evolve`).
    """
    u = grid.check_field(u0)
    D = np.asarray(diffusivity, dtype=float)
    if D.shape not in ((), (grid.ndim,)) or np.any(D < 0) or not np.all(np.isfinite(D)):
        raise ValueError(f"diffusivity must be a non-negative number or one per axis, got {diffusivity!r}")
    c = wall_value(grid.boundaries)
    if c != 0.0 and any(b.kind == "absorbing" for b in grid.boundaries):
        raise ValueError("the heat solution cannot mix absorbing walls with dirichlet walls of non-zero value")
    single = np.ndim(time) == 0
    times = np.atleast_1d(np.asarray(time, dtype=float))
    if np.any(times < 0) or not np.all(np.isfinite(times)):
        raise ValueError(f"time must be non-negative and finite, got {time!r}")
    c0 = forward(u - c, grid.boundaries)
    frames = np.empty((len(times),) + grid.shape) if out is None else out
    for i, t in enumerate(times):
        if t == 0:
            frames[i] = u
            continue
        frames[i] = c + inverse(c0 * half(heat_transfer(grid, 2.0 * D * t), grid.boundaries), grid.boundaries,
                                grid.shape, overwrite=True)
    return frames[0] if single and out is None else frames

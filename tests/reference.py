"""Independent, slow, obviously-correct references used by the tests."""

import functools

import numpy as np

from physconv.boundary import resolve


def second_difference(n, kind, value=0.0):
    """1-D second difference (n x n) and its constant part from the ghost-cell rule of DESIGN §1."""
    A = -2.0 * np.eye(n) + np.eye(n, k=1) + np.eye(n, k=-1)
    b = np.zeros(n)
    if kind == "periodic":
        A[0, -1] += 1.0
        A[-1, 0] += 1.0
    elif kind == "reflecting":  # u[-1] = u[0]
        A[0, 0] += 1.0
        A[-1, -1] += 1.0
    elif kind == "dirichlet":  # u[-1] = 2c - u[0]
        A[0, 0] -= 1.0
        A[-1, -1] -= 1.0
        b[0] = b[-1] = 2.0 * value
    # absorbing: u[-1] = 0 adds nothing
    if n == 1 and kind == "periodic":
        A[:] = 0.0
    return A, b


def ftcs_matrix(shape, spacing, boundary, diffusivity, dt, value=None):
    """One FTCS step as a dense affine map u -> M u + c on the flattened field."""
    bcs = resolve(boundary, len(shape), value)
    size = int(np.prod(shape))
    M = np.eye(size)
    c = np.zeros(size)
    for a, (n, d, bc) in enumerate(zip(shape, spacing, bcs)):
        A, b = second_difference(n, bc.kind, bc.c)
        r = diffusivity * dt / d**2
        M += r * _kron([A if i == a else np.eye(m) for i, m in enumerate(shape)])
        c += r * _kron([b if i == a else np.ones(m) for i, m in enumerate(shape)])
    return M, c


def _kron(factors):
    """Kronecker product of matrices or vectors, first factor slowest (C order)."""
    return functools.reduce(np.kron, factors)


def ftcs_numpy(u, spacing, boundary, diffusivity, dt, value=None):
    """One FTCS step with numpy ghost cells (periodic, reflecting, absorbing, dirichlet)."""
    bcs = resolve(boundary, u.ndim, value)
    out = u.copy()
    for a, (d, bc) in enumerate(zip(spacing, bcs)):
        v = np.moveaxis(u, a, 0)
        lo, hi = {
            "periodic": (v[-1:], v[:1]),
            "reflecting": (v[:1], v[-1:]),
            "absorbing": (0 * v[:1], 0 * v[-1:]),
            "dirichlet": (2 * bc.c - v[:1], 2 * bc.c - v[-1:]),
        }[bc.kind]
        g = np.concatenate([lo, v, hi])
        lap = g[:-2] - 2 * g[1:-1] + g[2:]
        out += diffusivity * dt / d**2 * np.moveaxis(lap, 0, a)
    return out


def scatter_step(u, kernel, boundary):
    """One particle-rule step: every cell sends k[d] of its mass to cell + d, bounced or removed at walls."""
    bcs = resolve(boundary, u.ndim)
    out = np.zeros_like(u)
    radius = [(w - 1) // 2 for w in kernel.shape]
    for src in np.ndindex(u.shape):
        for kidx in np.ndindex(kernel.shape):
            dest = []
            for a, (s, j, r, bc) in enumerate(zip(src, kidx, radius, bcs)):
                n = u.shape[a]
                p = s + j - r
                if bc.kind == "periodic":
                    p %= n
                elif bc.kind == "reflecting":
                    p = -1 - p if p < 0 else (2 * n - 1 - p if p >= n else p)
                elif not 0 <= p < n:
                    p = None
                dest.append(p)
            if None not in dest:
                out[tuple(dest)] += kernel[kidx] * u[src]
    return out


def slab_series(f, low, high, x, time, diffusivity, kind, terms=400, quadrature=40_000):
    """Closed-form solution of the heat equation in a plane sheet ``low < x < high`` (Crank, ch. 4).

    ``kind='zero'``: u = 0 on both faces,
    u = sum_m B_m sin(m pi (x - low) / L) exp(-D m^2 pi^2 t / L^2), B_m = (2/L) int f sin(...).
    ``kind='flux'``: no flux through the faces, the cosine series with the mean as m = 0 term.
    The coefficients of the initial profile ``f`` (a function of position) are integrals by the
    midpoint rule on ``quadrature`` points.
    """
    L = high - low
    y = low + (np.arange(quadrature) + 0.5) * L / quadrature
    fy = f(y)
    m = np.arange(0 if kind == "flux" else 1, terms + 1)
    basis = np.sin if kind == "zero" else np.cos
    coef = 2.0 / L * (basis(np.outer(m, y - low) * np.pi / L) @ fy) * (L / quadrature)
    if kind == "flux":
        coef[0] /= 2.0
    decay = np.exp(-diffusivity * (m * np.pi / L) ** 2 * time)
    return basis(np.outer(np.asarray(x) - low, m) * np.pi / L) @ (coef * decay)


def slab_cell_averages(values, spacing, low, high, time, diffusivity, terms=4000):
    """Cell averages at ``time`` of the zero-on-both-faces sheet solution whose initial profile is
    ``values[j]`` on cell ``[j d, (j + 1) d]`` (and 0 elsewhere). Every integral is in closed form:
    the average of sin(k (x - low)) over a cell is (cos(k a) - cos(k b)) / (k d), a, b its ends - low."""
    L = high - low
    v = np.asarray(values, dtype=float)
    edges = np.arange(len(v) + 1) * spacing - low
    k = (np.arange(1, terms + 1) * np.pi / L)[:, None]
    cell_avg = (np.cos(k * edges[:-1]) - np.cos(k * edges[1:])) / (k * spacing)  # (terms, cells)
    B = 2.0 / L * (cell_avg * spacing) @ v
    return (B * np.exp(-diffusivity * k[:, 0] ** 2 * time)) @ cell_avg


def slab_survival(weights, spacing, low, high, time, diffusivity, terms=2000):
    """Fraction of Brownian particles still inside the sheet ``low < x < high`` (zero on both faces).

    Particles start uniformly inside cell ``j`` (``[j d, (j + 1) d]``) with probability
    ``weights[j] / sum(weights)``. Every integral is in closed form:
    S(t) = sum_m B_m exp(-D m^2 pi^2 t / L^2) (L / (m pi)) (1 - cos m pi).
    """
    L = high - low
    w = np.asarray(weights, dtype=float) / np.sum(weights)
    edges = np.arange(len(w) + 1) * spacing - low
    m = np.arange(1, terms + 1)[:, None]
    k = m * np.pi / L
    B = 2.0 / L * ((np.cos(k * edges[:-1]) - np.cos(k * edges[1:])) / k @ (w / spacing))
    decay = np.exp(-diffusivity * k[:, 0] ** 2 * time)
    return float(np.sum(B * decay * (1 - np.cos(m[:, 0] * np.pi)) / k[:, 0]))

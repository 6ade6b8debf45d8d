"""Media (DESIGN §11) against the uniform loop, Devito with variable-coefficient Functions and a numpy walk;
semidiscrete against implicit at equal accuracy. Each peer is checked to compute the same thing first."""

from __future__ import annotations

import time

import numpy as np

from physconv import Grid, medium, stats
from physconv.medium import walkers
from physconv.solvers import explicit

from . import peers
from .timing import interleaved


def porous_medium(n: int, seed: int = 0):
    """A reflecting n x n box with a log-uniform D field (0.05 to 0.2) and 10 % solid cells."""
    rng = np.random.default_rng(seed)
    g = Grid((n, n), boundary="reflecting")
    solid = rng.random((n, n)) < 0.1
    D = 10 ** rng.uniform(np.log10(0.05), np.log10(0.2), (n, n))
    m = medium.build(g, D, solid)
    u0 = np.where(solid, 0.0, rng.random((n, n)))
    return m, u0


class DevitoMedium:
    """Devito's generated C/OpenMP for the same step: ``u' = c u + the four neighbours times their weights``,
    each weight a Devito ``Function`` (variable coefficients), float64, autotuned once outside the timing."""

    def __init__(self, m, dt: float):
        import os

        os.environ.setdefault("DEVITO_LANGUAGE", "openmp")
        os.environ.setdefault("DEVITO_LOGGING", "ERROR")
        from devito import Eq, Function, Grid as DGrid, Operator, TimeFunction

        c, w, _ = medium.weights(m, dt)
        ny, nx = m.grid.shape
        grid = DGrid(shape=(ny, nx), extent=(ny - 1.0, nx - 1.0), dtype=np.float64)
        y, x = grid.dimensions
        self.u = TimeFunction(name="u", grid=grid, space_order=1)
        names = ("c", "fy", "ry", "fx", "rx")
        fields = dict(zip(names, (c[0], w[2][0], w[3][0], w[4][0], w[5][0])))
        fn = {}
        for k, v in fields.items():
            fn[k] = Function(name=k, grid=grid, space_order=1)
            fn[k].data[:] = v
        # the weight from the cell below into this one is stored at the cell below (f), from above here (r)
        fy_below = Function(name="fyb", grid=grid, space_order=1)
        fy_below.data[1:, :] = fields["fy"][:-1, :]
        fx_left = Function(name="fxl", grid=grid, space_order=1)
        fx_left.data[:, 1:] = fields["fx"][:, :-1]
        t = self.u.dimensions[0]
        u = self.u
        rhs = (fn["c"] * u[t, y, x] + fy_below * u[t, y - 1, x] + fn["ry"] * u[t, y + 1, x]
               + fx_left * u[t, y, x - 1] + fn["rx"] * u[t, y, x + 1])
        self.op = Operator([Eq(u.forward, rhs)], opt=("advanced", {"blocklevels": 1}))
        self.tuned = False

    def __call__(self, u0, steps: int):
        for _ in range(1 if self.tuned else 2):
            self.u.data[:] = 0.0
            self.u.data[0, :] = u0
            self.op.apply(time_M=steps - 1, **({} if self.tuned else {"autotune": "aggressive"}))
            self.tuned = True
        return np.array(self.u.data[steps % 2])


def explicit_step(n: int, steps: int, repeat: int, report):
    """The finite-volume step of a non-uniform medium (D field + obstacles) against the uniform FTCS loop
    on the same grid (what a scalar D costs) and Devito with Functions for the weights."""
    m, u0 = porous_medium(n)
    dt = 0.9 * medium.stable_dt(m)
    g = m.grid
    ours = medium.explicit(m, u0, dt, steps)
    ref = medium.explicit_sparse(m, u0, dt, min(steps, 20))
    err = float(np.abs(medium.explicit(m, u0, dt, min(steps, 20)) - ref).max())
    assert err < 1e-13, err
    methods = {"physconv medium": lambda: medium.explicit(m, u0, dt, steps),
               "physconv uniform FTCS (scalar D)": lambda: explicit.diffuse(u0, g, diffusivity=peers.D, dt=peers.DT,
                                                                            steps=steps)}
    checks = {"physconv medium": f"= sparse P u ({err:.0e})", "physconv uniform FTCS (scalar D)": "another problem: the "
              "uniform loop's cost"}
    if peers.have("devito"):
        op = DevitoMedium(m, dt)
        derr = float(np.abs(op(u0, steps) - ours).max())
        assert derr < 1e-12, derr
        methods["Devito variable-coefficient Functions"] = lambda: op(u0, steps)
        checks["Devito variable-coefficient Functions"] = f"same field ({derr:.0e}), autotuned"
    else:
        print("Devito is not installed (pip install -e '.[bench]'): its medium row is skipped")
    report("medium explicit", f"{n}^2 x{steps}", interleaved(methods, repeat), n * n * steps, "cell-steps/s",
           reference="physconv medium", checks=checks)


def numpy_medium_walk(pos, steps, dest, cum, rng):
    """The same rule in numpy: each step a uniform per walker, its outcome the count of the cell's
    cumulative probabilities below it, the walker moved to that destination."""
    pos = pos.copy()
    for _ in range(steps):
        live = pos >= 0
        p = pos[live]
        u = rng.random(p.size)
        j = (u[:, None] >= cum[p]).sum(axis=1)
        pos[live] = dest[p, j]
    return pos


def walks(particles: int, steps: int, repeat: int, report):
    """Walkers with P's probabilities in a medium against a numpy walk with the same rules, both checked
    against explicit steps (binomial check, alpha 1e-6)."""
    m, u0 = porous_medium(256, seed=1)
    dt = 0.9 * medium.stable_dt(m)
    dest, prob = walkers.transitions(m, dt)
    cum = np.cumsum(prob, axis=1)
    last = prob.shape[1] - 1 - np.argmax(prob[:, ::-1] > 0, axis=1)
    cum[np.arange(cum.shape[1]) >= last[:, None]] = np.inf
    from physconv.montecarlo import place

    counts0 = place(u0, m.grid, particles, 0)
    start = np.repeat(np.arange(m.grid.size), counts0.ravel())
    rng = np.random.default_rng(5)
    methods = {"physconv medium walkers": lambda: walkers.lattice(m, u0, dt, steps=steps, particles=particles,
                                                                   seed=1, keep=[steps]).counts[0],
               "numpy walk (same rules)": lambda: np.bincount(
                   (p := numpy_medium_walk(start, steps, dest, cum, rng))[p >= 0], minlength=m.grid.size).reshape(
                   m.grid.shape)}
    expected = medium.explicit(m, u0, dt, steps) * particles / u0.sum()
    checks = {}
    for name, fn in methods.items():
        check = stats.check(fn(), expected, particles, 1e-6)
        assert check.passed, (name, check)
        checks[name] = f"consistent with explicit (max|z| {check.max_abs_z:.1f})"
    report("medium walkers", f"{particles:.0e} x{steps}", interleaved(methods, repeat), particles * steps,
           "particle-steps/s", reference="physconv medium walkers", checks=checks)


def semidiscrete_vs_implicit(n: int, T: float):
    """Time to the answer at equal accuracy: semidiscrete (e^{TL} u0, double precision) against implicit
    (ADI) with dt halved until its largest difference from semidiscrete is below 1e-4 and 1e-6 of max|u0|."""
    m, u0 = porous_medium(n, seed=2)
    t0 = time.perf_counter()
    exact = medium.semidiscrete(m, u0, T)
    t_sd = time.perf_counter() - t0
    print(f"{'semidiscrete vs implicit':<22}{f'{n}^2 t={T:g}':<14}semidiscrete (expm_multiply)        "
          f"{t_sd:>9.3f} s  (double precision)", flush=True)
    rows = []
    for target in (1e-4, 1e-6):
        k = 4
        while True:
            t0 = time.perf_counter()
            got = medium.adi(m, u0, T / k, [k])[0]
            took = time.perf_counter() - t0
            err = float(np.abs(got - exact).max()) / float(np.abs(u0).max())
            if err < target or k > 2**16:
                break
            k *= 2
        rows.append({"task": "semidiscrete vs implicit", "size": f"{n}^2 t={T:g}", "target": target, "steps": k,
                     "implicit_s": took, "semidiscrete_s": t_sd, "error": err})
        print(f"{'':<22}{'':<14}implicit (ADI) to {target:.0e}: {k} steps {took:>9.3f} s  (error {err:.1e}; "
              f"semidiscrete/implicit time {t_sd / took:.2f})", flush=True)
    return rows

"""Chunks of compiled work are sized by measured time; results never depend on where the chunks fall."""

import numpy as np
import pytest

from physconv import _pace, montecarlo as mc
from physconv.grid import Grid
from physconv.solvers import explicit, implicit


class FakeClock:
    """A perf_counter that the test moves on by hand (the seconds each pretend call took)."""

    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


@pytest.mark.parametrize("per_step, work", [(2e-8, 5), (1e-3, 10**6), (5e-6, 4096), (0.5, 10)])
def test_calls_settle_near_the_target_duration_and_grow_at_most_fourfold(monkeypatch, per_step, work):
    clock = FakeClock()
    monkeypatch.setattr(_pace.time, "perf_counter", clock)
    pace = _pace.Pace(work)
    sizes, remaining = [], 10**15
    for _ in range(40):
        n = pace.next(remaining)
        clock.now += n * per_step
        pace.done(n)
        sizes.append(n)
    assert sizes[0] == max(1, _pace.START_UPDATES // work)
    assert all(b <= _pace.GROWTH * a for a, b in zip(sizes, sizes[1:]))
    settled = sizes[-1] * per_step
    assert settled <= _pace.TARGET_SECONDS * 1.000001 or sizes[-1] == 1
    assert settled >= _pace.TARGET_SECONDS / 2 or sizes[-1] == 1


def test_fused_steps_come_in_whole_sweeps(monkeypatch):
    clock = FakeClock()
    monkeypatch.setattr(_pace.time, "perf_counter", clock)
    pace = _pace.Pace(1000, multiple=8)
    for _ in range(10):
        n = pace.next(10**9)
        assert n % 8 == 0
        clock.now += n * 3.7e-5
        pace.done(n)


def _tiny_chunks(monkeypatch):
    monkeypatch.setattr(_pace, "START_UPDATES", 7)
    monkeypatch.setattr(_pace, "TARGET_SECONDS", 1e-9)  # every call as short as it can be: many chunks


@pytest.mark.parametrize("shape, boundary", [((37,), "reflecting"), ((12, 9), "periodic"), ((5, 6, 4), "absorbing")])
def test_steps_are_the_same_to_the_last_bit_however_they_are_chunked(monkeypatch, shape, boundary):
    g = Grid(shape, boundary=boundary)
    u0 = np.random.default_rng(2).random(shape)
    k = np.full((3,) * len(shape), 1.0 / 3 ** len(shape))
    runs = []
    for tiny in (False, True):
        if tiny:
            _tiny_chunks(monkeypatch)
        runs.append((explicit.diffuse(u0, g, diffusivity=0.1, dt=1.0, steps=61, save_every=20).frames,
                     implicit.diffuse(u0, g, diffusivity=0.3, dt=1.5, steps=23, save_every=7).frames,
                     explicit.propagate(u0, g, kernel=k, steps=45, save_every=15).frames))
    for a, b in zip(*runs):
        assert np.array_equal(a, b)


@pytest.mark.parametrize("mode, jumps", [("particles", "steps"), ("counts", "steps"), ("particles", "auto")])
def test_walkers_are_the_same_to_the_last_bit_however_they_are_chunked(monkeypatch, mode, jumps):
    g = Grid((11, 13), boundary="reflecting")
    u0 = np.random.default_rng(3).random(g.shape)
    runs = []
    for tiny in (False, True):
        if tiny:
            _tiny_chunks(monkeypatch)
        runs.append(mc.lattice(u0, g, steps=40, particles=5000, seed=9, diffusivity=0.2, dt=1.0, mode=mode,
                               jumps=jumps, save_every=10).counts)
    assert np.array_equal(*runs)

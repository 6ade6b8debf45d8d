"""Scratch arrays kept between solver calls: reused, never shared with a result, per thread, bounded."""

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from physconv.grid import Grid
from physconv.solvers import explicit, implicit, workspace


@pytest.fixture(autouse=True)
def empty_workspace():
    workspace.release()
    yield
    workspace.release()


def test_an_array_given_back_is_taken_again_for_its_shape_and_dtype_only():
    a = workspace.take((4, 5))
    workspace.give_back(a)
    assert workspace.take((4, 6)) is not a
    assert workspace.take((4, 5), np.float32) is not a
    assert workspace.take((4, 5)) is a
    assert workspace.take((4, 5)) is not a  # taken: no longer kept


def test_at_most_keep_arrays_are_kept_the_newest():
    arrays = [np.empty(3) for _ in range(workspace.KEEP + 2)]
    for a in arrays:
        workspace.give_back(a)
    assert [id(a) for a in workspace.held()] == [id(a) for a in arrays[-workspace.KEEP:]]
    assert workspace.take(3) is arrays[-1]
    workspace.release()
    assert workspace.held() == ()


def test_each_thread_keeps_its_own_arrays():
    a = workspace.take(7)
    workspace.give_back(a)
    with ThreadPoolExecutor(1) as pool:
        other = pool.submit(lambda: (workspace.held(), workspace.take(7))).result()
    assert other[0] == () and other[1] is not a
    assert workspace.held() == (a,)


def _runs():
    """Solver calls on every path that uses kept arrays: one-step and fused loops (1-D, 2-D, 3-D),
    kernel steps (one by one and fused), implicit steps, saved frames."""
    k2 = np.full((3, 3), 1 / 9)
    return {
        "explicit 1-D fused": lambda u: explicit.diffuse(u, Grid(u.shape, boundary="absorbing"), diffusivity=0.2,
                                                         dt=1.0, steps=70),
        "explicit 2-D small": lambda u: explicit.diffuse(u, Grid(u.shape, boundary="periodic"), diffusivity=0.2,
                                                         dt=1.0, steps=5),
        "explicit 2-D fused": lambda u: explicit.diffuse(u, Grid(u.shape, boundary="reflecting"), diffusivity=0.2,
                                                         dt=1.0, steps=19),
        "explicit 3-D fused": lambda u: explicit.diffuse(u, Grid(u.shape, boundary="dirichlet", boundary_value=0.5),
                                                         diffusivity=0.1, dt=1.0, steps=9),
        "explicit float32 fused": lambda u: explicit.diffuse(u, Grid(u.shape, boundary="absorbing"), diffusivity=0.2,
                                                             dt=1.0, steps=17, dtype="float32"),
        "explicit saved frames": lambda u: explicit.diffuse(u, Grid(u.shape, boundary="reflecting"),
                                                            diffusivity=0.2, dt=1.0, steps=11, save_every=4).frames,
        "kernel fused": lambda u: explicit.propagate(u, "periodic", kernel=k2, steps=9),
        "kernel one by one": lambda u: explicit.propagate(u, "reflecting", kernel=np.full((5, 5), 1 / 25), steps=3),
        "implicit 2-D": lambda u: implicit.diffuse(u, Grid(u.shape, boundary="reflecting"), diffusivity=0.3,
                                                   dt=2.0, steps=4),
    }


SHAPES = {"explicit 1-D fused": (30_000,), "explicit 2-D small": (12, 10), "explicit 3-D fused": (40, 24, 24)}


@pytest.mark.parametrize("name", list(_runs()))
def test_a_second_call_reuses_the_scratch_and_ignores_what_it_held(rng, name):
    """Whatever the kept arrays hold (NaN here) the next call gives the same field; its result is not a kept
    array, and the first result is left as it was."""
    run = _runs()[name]
    u0 = rng.random(SHAPES.get(name, (200, 130)))
    first = run(u0)
    kept = workspace.held()
    assert kept, "the call kept nothing"
    before = first.copy()
    for a in kept:
        a[...] = np.nan
    second = run(u0)
    assert np.array_equal(second, first)
    np.testing.assert_array_equal(first, before)
    for a in workspace.held():
        assert not np.shares_memory(a, second) and not np.shares_memory(a, first)
    for a in kept:  # used again: written over (as scratch) or returned
        assert np.shares_memory(a, second) or not np.isnan(a).all(), "a kept array was not used again"


def test_calls_in_threads_give_the_fields_of_calls_in_turn(rng):
    runs = _runs()
    inputs = {name: rng.random(SHAPES.get(name, (200, 130))) for name in runs}
    alone = {name: run(inputs[name]) for name, run in runs.items()}
    with ThreadPoolExecutor(4) as pool:
        futures = [(name, pool.submit(runs[name], inputs[name])) for name in list(runs) * 3]
        for name, f in futures:
            assert np.array_equal(f.result(), alone[name]), name


def test_what_stays_kept_after_a_call_is_its_scratch_only(rng):
    """One buffer of the grid's size and the fused levels' ring (three planes per level and band), nothing else."""
    u0 = rng.random((64, 64, 64))
    explicit.diffuse(u0, Grid(u0.shape, boundary="reflecting"), diffusivity=0.1, dt=1.0, steps=10)
    k, band = explicit.temporal_blocking(u0.shape)
    ring = -(-64 // band) * k * 3 * 64 * 64 * 8
    assert sorted(a.nbytes for a in workspace.held()) == sorted([u0.nbytes, ring])


def _faults_while(fn) -> int:
    import resource

    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    fn()
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before


@pytest.mark.parametrize("make", [workspace.new, workspace.take])
def test_a_large_new_array_has_its_pages_mapped_before_it_is_written(monkeypatch, make):
    """Writing all of a 64 MiB array from new() (or a take() with nothing kept) faults in no page: they were
    mapped when it was made. The same write into np.empty faults in every page (or huge page)."""
    monkeypatch.setattr(workspace, "_one_memory_node", lambda: True)
    shape = (2**23,)  # 64 MiB of float64
    plain = np.empty(shape)
    fresh = _faults_while(lambda: plain.fill(1.0))
    del plain
    a = make(shape)
    assert a.shape == shape and a.dtype == np.float64
    assert _faults_while(lambda: a.fill(1.0)) <= 2 < 16 <= fresh


def test_small_arrays_and_several_memory_nodes_are_left_to_the_first_write(monkeypatch):
    """Below MAP_AT_ONCE nothing is written; with several memory nodes neither: the threads that first write
    a page decide where it lives."""
    written = []
    monkeypatch.setattr(workspace, "np", type("np", (), {"empty": staticmethod(
        lambda shape, dtype: written.append(shape) or np.full(shape, np.nan, dtype))}))
    assert np.isnan(workspace.new(workspace.MAP_AT_ONCE // 8 - 1)).all()
    monkeypatch.setattr(workspace, "_one_memory_node", lambda: False)
    assert np.isnan(workspace.new(workspace.MAP_AT_ONCE // 8)).all()
    assert len(written) == 2


def test_the_explicit_result_is_a_new_array_mapped_at_once(rng, monkeypatch):
    """The buffer that becomes the result comes from workspace.new (the scratch too, on a first call)."""
    made = []
    new = workspace.new
    monkeypatch.setattr(workspace, "new", lambda shape, dtype=np.float64: made.append(new(shape, dtype)) or made[-1])
    g = Grid((300, 200), boundary="reflecting")
    out = explicit.diffuse(rng.random(g.shape), g, diffusivity=0.2, dt=1.0, steps=3)
    assert sum(np.shares_memory(out, m) for m in made) == 1

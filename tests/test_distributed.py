"""Chunked grids (physconv.distributed): the halo exchange equals the single-array solver."""

import numpy as np
import pytest

from physconv import Grid, distributed, kernels
from physconv.solvers import explicit

WALLS = ["periodic", "reflecting", "absorbing", "dirichlet"]
CASES = [((41,), (9,)), ((37, 29), (10, 7)), ((13, 11, 9), (5, 4, 3))]  # chunks do not divide the grid


def _grid(shape, wall):
    return Grid(shape, boundary=wall, boundary_value=0.3 if wall == "dirichlet" else None)


def _slow_3d_periodic(shape, chunks, wall):
    """The 3-D periodic case (4.5 s: a wrap on every axis of every chunk) runs with the slow tests; 3-D is
    checked at the other walls and periodic wraps in 1-D and 2-D by default."""
    marks = pytest.mark.slow if len(shape) == 3 and wall == "periodic" else ()
    return pytest.param(shape, chunks, wall, marks=marks)


@pytest.mark.parametrize("shape,chunks,wall", [_slow_3d_periodic(shape, chunks, wall) for wall in WALLS
                                                for shape, chunks in CASES])
def test_ftcs_over_chunks_is_the_single_array_solver(shape, chunks, wall):
    g = _grid(shape, wall)
    u0 = np.random.default_rng(len(shape)).random(shape)
    out = distributed.diffuse(u0, g, steps=23, chunks=chunks, diffusivity=0.1, dt=1.0, save_every=10).compute()
    ref = explicit.diffuse(u0, g, diffusivity=0.1, dt=1.0, steps=23, save_every=10).frames
    assert out.shape == ref.shape == (4,) + shape
    np.testing.assert_array_equal(out, ref)  # to the last bit: every cell sees the same terms in the same order


@pytest.mark.parametrize("wall", WALLS)
def test_kernels_over_chunks_are_the_single_array_propagation(wall):
    """A kernel that reaches two cells: halos of 2 n cells for n steps per exchange."""
    g = _grid((33, 26), wall)
    k = kernels.softmax(np.add.outer(np.arange(5.0), -np.abs(np.arange(5.0) - 2)) / 3)  # asymmetric along y
    u0 = np.random.default_rng(1).random(g.shape)
    out = distributed.diffuse(u0, g, steps=19, chunks=(9, 10), kernel=k, halo_steps=3).compute()[-1]
    ref = explicit.propagate(u0, g, kernel=k, steps=19)
    if wall == "dirichlet":  # the ghost cells' constant is summed in another order: n steps, n * 2**-52 at most
        assert np.abs(out - ref).max() <= 19 * 2.0**-52 * max(np.abs(u0).max(), 0.3)
    else:  # to the last bit
        np.testing.assert_array_equal(out, ref)


def test_mixed_walls_and_a_single_chunk_along_a_periodic_axis():
    g = Grid((30, 17), boundary={"y": "absorbing", "x": "periodic"})
    u0 = np.random.default_rng(2).random(g.shape)
    out = distributed.diffuse(u0, g, steps=40, chunks=(7, 17), diffusivity=0.2, dt=1.0).compute()[-1]
    np.testing.assert_array_equal(out, explicit.diffuse(u0, g, diffusivity=0.2, dt=1.0, steps=40))


def test_frames_stream_to_a_zarr_store(tmp_path):
    import zarr

    g = Grid((24, 20), boundary="reflecting")
    u0 = np.random.default_rng(3).random(g.shape)
    out = distributed.diffuse(u0, g, steps=12, chunks=(8, 10), diffusivity=0.2, dt=1.0, save_every=4,
                              store=tmp_path / "frames.zarr")
    stored = zarr.open_group(str(tmp_path / "frames.zarr"), mode="r")["u"]
    assert stored.shape == (4, 24, 20) and stored.chunks == (1, 8, 10)
    ref = explicit.diffuse(u0, g, diffusivity=0.2, dt=1.0, steps=12, save_every=4).frames
    np.testing.assert_array_equal(np.asarray(stored), ref)
    np.testing.assert_array_equal(out.compute(), ref)


def test_bad_chunks_and_halos_are_refused():
    g = Grid((20, 20), boundary="reflecting")
    u0 = np.ones(g.shape)
    k = kernels.softmax(np.zeros((7, 7)))
    with pytest.raises(ValueError, match="smaller than the kernel's reach"):
        distributed.diffuse(u0, g, steps=3, chunks=(2, 10), kernel=k)
    with pytest.raises(ValueError, match="halo_steps must be from 1 to 5"):
        distributed.diffuse(u0, g, steps=3, chunks=(5, 10), diffusivity=0.2, dt=1.0, halo_steps=6)
    with pytest.raises(ValueError, match="give diffusivity and dt"):
        distributed.diffuse(u0, g, steps=3, chunks=5)


@pytest.mark.parametrize("shape,chunks,wall", [_slow_3d_periodic(shape, chunks, wall) for shape, chunks in CASES
                                                for wall in ("periodic", "dirichlet")]  # a wrap, a wall's constant
                         + [pytest.param((130, 140), (64, 50), "periodic", marks=pytest.mark.slow)])  # fused loop
def test_float32_storage_over_chunks_is_the_single_array_float32_run(shape, chunks, wall):
    """Every value of a float32 step is computed in float64 and rounded once, at a periodic wall as inside
    (the neighbours' sum was a float32 sum inside and a float64 one at the ends: 1 ulp apart)."""
    g = _grid(shape, wall)
    u0 = np.random.default_rng(4).random(g.shape)
    D = 0.4 / len(shape)
    out = distributed.diffuse(u0, g, steps=30, chunks=chunks, diffusivity=D, dt=1.0, dtype="float32").compute()
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out[-1], explicit.diffuse(u0, g, diffusivity=D, dt=1.0, steps=30, dtype="float32"))


# --- the task graph is bounded before anything runs ----------------------------------------------------

@pytest.mark.parametrize("walls", ["reflecting", "periodic"])
@pytest.mark.parametrize("shape, chunks, steps, every, kernel", [
    ((64, 64), (8, 8), 40, 10, None), ((64, 48), (16, 5), 30, None, None), ((90,), (7,), 50, 25, None),
    ((20, 20, 20), (5, 10, 20), 12, 4, None), ((40, 30), (9, 9), 21, 7, "box5"), ((30, 40), (30, 40), 9, 3, None),
])
def test_the_task_count_bounds_the_graph_it_predicts(shape, chunks, steps, every, kernel, walls):
    """The estimate is within a quarter of the graph's size, for reflecting and periodic walls alike."""
    from physconv import kernels
    from physconv.solvers.explicit import saved_steps

    g = Grid(shape, 1.0, walls)
    k = np.full((5, 5), 1 / 25) if kernel else None
    reach = [1] * len(shape) if k is None else [2, 2]
    args = dict(kernel=k) if k is not None else dict(diffusivity=0.1, dt=1.0)
    out = distributed.diffuse(np.ones(shape), g, steps=steps, chunks=chunks, save_every=every, **args)
    actual = len(out.__dask_graph__())
    estimate = distributed.task_count(shape, chunks, reach, saved_steps(steps, every), [walls == "periodic"] * len(shape))
    assert 0.75 * actual <= estimate <= 1.25 * actual, (actual, estimate)
    del kernels


@pytest.mark.parametrize("chunks", [pytest.param([1, 1], marks=pytest.mark.slow), [3, 2], [8, 8]])
def test_chunks_with_too_many_tasks_are_refused_in_validate_with_chunks_that_fit(tmp_path, chunks):
    import re

    from physconv import scenario

    with pytest.raises(scenario.ScenarioError, match=r"chunks: chunks of .* make a task graph of about") as info:
        scenario.load("salt_aquarium", [f"chunks={chunks}", "methods=[explicit]"], max_bytes=2**40)
    fit = re.search(r"chunks of (\[\d+, \d+\]) would fit", str(info.value)).group(1)
    s = scenario.load("salt_aquarium", [f"chunks={fit}", "methods=[explicit]"], max_bytes=2**40)
    assert s.chunks == [int(v) for v in fit.strip("[]").split(",")]
    smaller = [max(1, c // 2) for c in s.chunks]
    with pytest.raises(scenario.ScenarioError, match="task graph"):  # the suggestion is not far above the smallest
        scenario.load("salt_aquarium", [f"chunks={smaller}", "methods=[explicit]"], max_bytes=2**40)


def test_the_memory_estimate_counts_the_graph_and_chunks_need_explicit():
    from physconv import scenario

    whole = scenario.load("salt_aquarium", ["methods=[explicit]"]).memory_estimate()
    chunked = scenario.load("salt_aquarium", ["methods=[explicit]", "chunks=[32,32]"]).memory_estimate()
    tasks = distributed.task_count((256, 256), [32, 32], [1, 1], scenario.load("salt_aquarium").saved_steps())
    assert chunked - whole >= distributed.BYTES_PER_TASK * tasks
    with pytest.raises(scenario.ScenarioError, match="chunks: is for the explicit method"):
        scenario.load("salt_aquarium", ["methods=[spectral, gaussian]", "chunks=[32,32]"])

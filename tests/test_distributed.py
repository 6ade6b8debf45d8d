"""Chunked grids (physconv.distributed): the halo exchange equals the single-array solver."""

import numpy as np
import pytest

from physconv import Grid, distributed, kernels
from physconv.solvers import explicit

WALLS = ["periodic", "reflecting", "absorbing", "dirichlet"]
CASES = [((41,), (9,)), ((37, 29), (10, 7)), ((13, 11, 9), (5, 4, 3))]  # chunks do not divide the grid


def _grid(shape, wall):
    return Grid(shape, boundary=wall, boundary_value=0.3 if wall == "dirichlet" else None)


@pytest.mark.parametrize("shape,chunks", CASES)
@pytest.mark.parametrize("wall", WALLS)
def test_ftcs_over_chunks_is_the_single_array_solver(shape, chunks, wall):
    g = _grid(shape, wall)
    u0 = np.random.default_rng(len(shape)).random(shape)
    out = distributed.diffuse(u0, g, steps=23, chunks=chunks, diffusivity=0.1, dt=1.0, save_every=10).compute()
    ref = explicit.diffuse(u0, g, diffusivity=0.1, dt=1.0, steps=23, save_every=10).frames
    assert out.shape == ref.shape == (4,) + shape
    np.testing.assert_allclose(out, ref, rtol=0, atol=1e-12)


@pytest.mark.parametrize("wall", WALLS)
def test_kernels_over_chunks_are_the_single_array_propagation(wall):
    """A kernel that reaches two cells: halos of 2 n cells for n steps per exchange."""
    g = _grid((33, 26), wall)
    k = kernels.softmax(np.add.outer(np.arange(5.0), -np.abs(np.arange(5.0) - 2)) / 3)  # asymmetric along y
    u0 = np.random.default_rng(1).random(g.shape)
    out = distributed.diffuse(u0, g, steps=19, chunks=(9, 10), kernel=k, halo_steps=3).compute()[-1]
    np.testing.assert_allclose(out, explicit.propagate(u0, g, kernel=k, steps=19), rtol=0, atol=1e-12)


def test_mixed_walls_and_a_single_chunk_along_a_periodic_axis():
    g = Grid((30, 17), boundary={"y": "absorbing", "x": "periodic"})
    u0 = np.random.default_rng(2).random(g.shape)
    out = distributed.diffuse(u0, g, steps=40, chunks=(7, 17), diffusivity=0.2, dt=1.0).compute()[-1]
    np.testing.assert_allclose(out, explicit.diffuse(u0, g, diffusivity=0.2, dt=1.0, steps=40), rtol=0, atol=1e-12)


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


def test_float32_storage_over_chunks_is_the_single_array_float32_run():
    g = Grid((40, 33), boundary="reflecting")
    u0 = np.random.default_rng(4).random(g.shape)
    out = distributed.diffuse(u0, g, steps=30, chunks=(9, 11), diffusivity=0.2, dt=1.0, dtype="float32").compute()
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out[-1], explicit.diffuse(u0, g, diffusivity=0.2, dt=1.0, steps=30, dtype="float32"))

"""Initial fields: each kind's shape, values and reproducibility."""

import numpy as np
import pytest
from PIL import Image

from physconv.grid import Grid
from physconv.initial import KINDS


def make(spec, grid, base="."):
    return KINDS[spec["kind"]].model_validate(spec).make(grid, base)


def test_random_cubes_are_blocks_of_equal_values_and_reproducible():
    g = Grid((10, 12))
    a = make({"kind": "random_cubes", "seed": 3, "cube": 4, "low": 2.0, "high": 5.0}, g)
    b = make({"kind": "random_cubes", "seed": 3, "cube": 4, "low": 2.0, "high": 5.0}, g)
    np.testing.assert_array_equal(a, b)
    assert a.shape == (10, 12) and 2.0 <= a.min() and a.max() < 5.0
    assert np.all(a[:4, :4] == a[0, 0]) and np.all(a[8:, 8:] == a[8, 8])
    assert not np.array_equal(a, make({"kind": "random_cubes", "seed": 4, "cube": 4}, g))


def test_two_halves_splits_the_chosen_axis():
    u = make({"kind": "two_halves", "axis": "y", "left": 3.0, "right": 1.0}, Grid((6, 4)))
    assert np.all(u[:3] == 3.0) and np.all(u[3:] == 1.0)


def test_point_puts_the_mass_in_one_cell():
    g = Grid((5, 7), spacing=(0.5, 2.0))
    u = make({"kind": "point", "mass": 3.0, "position": [0.1, 13.9]}, g)
    assert u[0, 6] * g.cell_volume == pytest.approx(3.0) and np.count_nonzero(u) == 1
    centre = make({"kind": "point"}, g)
    assert centre[2, 3] > 0


def test_gaussian_blob_peaks_at_its_centre():
    g = Grid((21, 21))
    u = make({"kind": "gaussian", "center": [10.5, 5.5], "width": 2.0, "amplitude": 2.0, "background": 0.5}, g)
    assert np.unravel_index(u.argmax(), u.shape) == (10, 5)
    assert u.max() == pytest.approx(2.5) and u.min() == pytest.approx(0.5, abs=1e-6)


def test_checkerboard_and_sine():
    u = make({"kind": "checkerboard", "size": 2, "low": 0.0, "high": 1.0}, Grid((4, 4)))
    np.testing.assert_array_equal(u, [[0, 0, 1, 1], [0, 0, 1, 1], [1, 1, 0, 0], [1, 1, 0, 0]])
    s = make({"kind": "sine", "modes": [1], "amplitude": 1.0, "mean": 1.0}, Grid((8,)))
    np.testing.assert_allclose(s, 1 + np.cos(np.pi * (np.arange(8) + 0.5) / 8))


def test_image_is_grayscale_in_unit_range_and_resampled(tmp_path):
    img = np.zeros((40, 60), dtype=np.uint8)
    img[:, 30:] = 255
    Image.fromarray(img).save(tmp_path / "pic.png")
    u = make({"kind": "image", "path": "pic.png"}, Grid((20, 30)), tmp_path)
    assert u.shape == (20, 30) and u.min() == 0.0 and u.max() == 1.0
    assert u[:, :14].max() == 0.0 and u[:, 16:].min() == 1.0


def test_array_must_match_the_grid(tmp_path):
    np.save(tmp_path / "a.npy", np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(make({"kind": "array", "path": "a.npy"}, Grid((2, 3)), tmp_path),
                                  np.arange(6.0).reshape(2, 3))
    with pytest.raises(ValueError, match=r"shape \(2, 3\) but the grid is \(3, 2\)"):
        make({"kind": "array", "path": "a.npy"}, Grid((3, 2)), tmp_path)


@pytest.mark.parametrize(
    "spec, grid, words",
    [
        ({"kind": "image", "path": "missing.png"}, Grid((4, 4)), "file not found"),
        ({"kind": "point", "position": [99.0]}, Grid((4,)), "outside the box"),
        ({"kind": "point", "position": [1.0, 1.0]}, Grid((4,)), "2 coordinates"),
        ({"kind": "two_halves", "axis": "z"}, Grid((4, 4)), "not one of the grid's axes"),
        ({"kind": "image", "path": "x.png"}, Grid((4,)), "2-D grid"),
    ],
)
def test_bad_initial_fields_are_refused(tmp_path, spec, grid, words):
    with pytest.raises(ValueError, match=words):
        make(spec, grid, tmp_path)


def test_a_file_that_is_not_an_image_is_refused(tmp_path):
    (tmp_path / "x.png").write_text("not a picture")
    with pytest.raises(ValueError, match="not a PNG/JPEG"):
        make({"kind": "image", "path": "x.png"}, Grid((4, 4)), tmp_path)


def _png_rows(tmp_path, rows, cols, keep_rows, name="short.png"):
    """A well-formed PNG whose compressed data ends cleanly after ``keep_rows`` of its ``rows`` rows."""
    import struct
    import zlib

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    pixels = (np.arange(rows * cols).reshape(rows, cols) % 200 + 30).astype(np.uint8)
    raw = b"".join(b"\x00" + pixels[r].tobytes() for r in range(keep_rows))
    header = struct.pack(">IIBBBBB", cols, rows, 8, 0, 0, 0, 0)
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
    (tmp_path / name).write_bytes(data)
    return pixels


@pytest.mark.parametrize("rows, cols, keep", [(24, 36, 10), (17, 17, 16), (30, 20, 0)])
def test_a_png_whose_data_stops_early_is_refused(tmp_path, rows, cols, keep):
    _png_rows(tmp_path, rows, cols, keep)
    with pytest.raises(ValueError, match="pixel data stops early"):
        make({"kind": "image", "path": "short.png"}, Grid((rows, cols)), tmp_path)
    pixels = _png_rows(tmp_path, rows, cols, rows, "whole.png")  # the same writer, every row: read exactly
    u = make({"kind": "image", "path": "whole.png"}, Grid((rows, cols)), tmp_path)
    np.testing.assert_array_equal(u, np.flipud(pixels) / 255.0)


@pytest.mark.parametrize("size, grid", [((40, 60), (40, 40)), ((50, 20), (20, 50)), ((64, 64), (32, 48))])
def test_a_picture_that_resampling_would_stretch_is_refused_with_the_shape_that_fits(tmp_path, size, grid):
    Image.fromarray(np.zeros(size, dtype=np.uint8)).save(tmp_path / "p.png")
    h, w = size
    with pytest.raises(ValueError, match=rf"would stretch it .*grid.shape \[{grid[0]}, {round(w * grid[0] / h)}\]"):
        make({"kind": "image", "path": "p.png"}, Grid(grid), tmp_path)


@pytest.mark.parametrize("size, grid, said", [((40, 60), (20, 30), True), ((33, 50), (20, 30), True),
                                              ((20, 30), (20, 30), False)])
def test_a_picture_of_the_grids_aspect_is_resampled_and_that_is_said(tmp_path, size, grid, said):
    from physconv.initial import Image as ImageKind

    Image.fromarray(np.full(size, 128, dtype=np.uint8)).save(tmp_path / "p.png")
    spec = ImageKind(kind="image", path="p.png")
    note = spec.note(Grid(grid), tmp_path)
    assert (note is not None) == said
    if said:
        assert f"{size[1]} x {size[0]} pixels" in note and f"{grid[1]} x {grid[0]} cells" in note
    assert spec.make(Grid(grid), tmp_path).shape == grid


@pytest.mark.parametrize("size", [(200, 320), (90, 30), (64, 64)])
def test_insight_pictures_keep_the_pictures_aspect(tmp_path, size):
    import warnings

    from physconv.insights._images import picture

    Image.fromarray(np.zeros(size, dtype=np.uint8)).save(tmp_path / "p.png")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        u = picture(tmp_path / "p.png", 128)
    assert max(u.shape) == 128 and abs(u.shape[1] / u.shape[0] - size[1] / size[0]) < 2 / min(u.shape)
    assert len(caught) == 1 and "aspect ratio kept" in str(caught[0].message)

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

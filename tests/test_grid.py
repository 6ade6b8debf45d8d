"""Grid: shapes, spacing, cell-centre coordinates and errors."""

import numpy as np
import pytest

from physconv.errors import BoundaryError, GridError
from physconv.grid import Grid, all_finite


def test_cell_centres_lie_half_a_cell_inside_the_walls():
    g = Grid((4, 3), spacing=(0.5, 2.0))
    c = g.coords()
    np.testing.assert_allclose(c["y"], [0.25, 0.75, 1.25, 1.75])
    np.testing.assert_allclose(c["x"], [1.0, 3.0, 5.0])
    assert g.lengths == (2.0, 6.0)
    assert g.cell_volume == 1.0


@pytest.mark.parametrize("shape, dims", [(5, ("x",)), ((4, 5), ("y", "x")), ((2, 3, 4), ("z", "y", "x"))])
def test_dims_follow_the_number_of_axes(shape, dims):
    g = Grid(shape, spacing=0.1)
    assert g.dims == dims
    assert g.spacing == (0.1,) * len(dims)


def test_integer_spacing_and_numpy_integers_are_accepted():
    g = Grid((np.int64(3), 4), spacing=2)
    assert g.shape == (3, 4) and g.spacing == (2.0, 2.0)


def test_mass_is_sum_times_cell_volume():
    g = Grid((2, 2), spacing=(0.5, 3.0))
    assert g.mass(np.ones((2, 2))) == pytest.approx(6.0)


@pytest.mark.parametrize(
    "kwargs, error, words",
    [
        ({"shape": (0, 4)}, GridError, "positive whole"),
        ({"shape": (2.5,)}, GridError, "positive whole"),
        ({"shape": (1, 2, 3, 4)}, GridError, "1, 2 or 3"),
        ({"shape": (4, 4), "spacing": 0}, GridError, "positive"),
        ({"shape": (4, 4), "spacing": (1.0, -1.0)}, GridError, "positive"),
        ({"shape": (4, 4), "spacing": float("nan")}, GridError, "finite"),
        ({"shape": (4, 4), "spacing": (1.0,)}, GridError, "1 values"),
        ({"shape": (4,), "boundary": "sticky"}, BoundaryError, "unknown boundary 'sticky'"),
        ({"shape": (4,), "boundary": "dirichlet"}, BoundaryError, "needs a value"),
    ],
)
def test_bad_grids_are_refused_with_a_clear_message(kwargs, error, words):
    with pytest.raises(error, match=words):
        Grid(**kwargs)


def test_check_field_refuses_wrong_shape_and_nan():
    g = Grid((3, 3))
    with pytest.raises(GridError, match=r"shape \(3, 4\)"):
        g.check_field(np.zeros((3, 4)))
    with pytest.raises(GridError, match="NaN"):
        g.check_field(np.full((3, 3), np.nan))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("where", [(0, 0), (2, 1), (4, 3)])
def test_one_non_finite_value_anywhere_is_found(bad, where):
    u = np.random.default_rng(0).normal(size=(5, 4))
    assert all_finite(u) and all_finite(np.zeros((0, 3)))
    assert all_finite(np.full((5, 4), 1e308))  # finite values whose sum overflows
    u[where] = bad
    assert not all_finite(u)
    with pytest.raises(GridError, match="NaN or infinite"):
        Grid((5, 4)).check_field(u)


def test_grids_are_equal_when_their_walls_are():
    assert Grid((3, 4), boundary="neumann") == Grid((3, 4), boundary={"y": "reflecting", "x": "reflecting"})
    assert Grid((3, 4), boundary="periodic") != Grid((3, 4), boundary="reflecting")

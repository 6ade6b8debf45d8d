"""Boundaries: parsing, and the padding each one implies."""

import numpy as np
import pytest
import scipy.ndimage as ndi

from physconv.boundary import Boundary, image_index, pad, resolve
from physconv.errors import BoundaryError


def test_one_name_serves_every_axis_and_neumann_is_reflecting():
    assert [b.kind for b in resolve("neumann", 3)] == ["reflecting"] * 3


def test_per_axis_mapping_is_read_in_axis_order():
    bcs = resolve({"x": "reflecting", "y": "periodic"}, 2)
    assert [b.kind for b in bcs] == ["periodic", "reflecting"]


def test_dirichlet_takes_the_shared_value():
    bcs = resolve(["dirichlet", "periodic"], 2, value=0.5)
    assert bcs[0].value == 0.5 and bcs[1].value is None


@pytest.mark.parametrize(
    "spec, ndim, value, words",
    [
        ("sticky", 1, None, "unknown boundary"),
        ({"y": "periodic"}, 2, None, "axis 'x'"),
        ({"w": "periodic", "x": "periodic"}, 2, None, "unknown axis 'w'"),
        (["periodic"], 2, None, "lists 1 axes"),
        ("dirichlet", 2, None, "needs a value"),
        ("periodic", 2, 1.0, "no axis has a dirichlet"),
        ("dirichlet", 1, float("inf"), "finite"),
        (3, 1, None, "must be a name"),
    ],
)
def test_bad_boundaries_are_refused(spec, ndim, value, words):
    with pytest.raises(BoundaryError, match=words):
        resolve(spec, ndim, value)


def test_value_on_a_non_dirichlet_boundary_is_refused():
    with pytest.raises(BoundaryError, match="takes no value"):
        Boundary("reflecting", 1.0)


@pytest.mark.parametrize("kind, mode", [("periodic", "wrap"), ("reflecting", "symmetric"), ("absorbing", "constant")])
def test_padding_matches_numpy_pad(rng, kind, mode):
    u = rng.random((5, 7))
    np.testing.assert_array_equal(pad(u, 3, resolve(kind, 2)), np.pad(u, 3, mode=mode))


def test_dirichlet_padding_is_odd_about_the_face_shifted_by_the_value():
    u = np.array([1.0, 2.0, 4.0])
    got = pad(u, 2, resolve("dirichlet", 1, value=0.5))
    # u[-1-m] = 2c - u[m]
    np.testing.assert_allclose(got, [1 - 2, 1 - 1, 1, 2, 4, 1 - 4, 1 - 2])


def test_dirichlet_corner_is_the_product_of_the_odd_extensions():
    u = np.array([[3.0]])
    got = pad(u, 1, resolve("dirichlet", 2, value=1.0))
    # edge: 2c - u; corner: odd twice = u
    np.testing.assert_allclose(got, [[3, -1, 3], [-1, 3, -1], [3, -1, 3]])


def test_image_index_refuses_more_than_one_mirror():
    with pytest.raises(BoundaryError, match="at most 4"):
        image_index(4, np.array([-5]), "reflecting")


def test_reflecting_padding_is_what_ndimage_calls_reflect(rng):
    u = rng.random(6)
    k = np.ones(5) / 5
    padded = pad(u, 2, resolve("reflecting", 1))
    np.testing.assert_allclose(np.convolve(padded, k, mode="valid"), ndi.convolve(u, k, mode="reflect"), atol=1e-15)

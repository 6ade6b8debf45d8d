"""Properties that hold for every field, kernel and boundary (hypothesis)."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from physconv import kernels, spectral
from physconv.convolve import fft_convolve
from physconv.solvers import explicit

WALLS = st.sampled_from(["periodic", "reflecting", "absorbing"])
finite = st.floats(-10, 10, allow_nan=False, allow_infinity=False)


@st.composite
def field_and_kernel(draw, dims=(1, 2)):
    ndim = draw(st.sampled_from(dims))
    shape = tuple(draw(st.integers(3, 9)) for _ in range(ndim))
    kshape = tuple(draw(st.sampled_from([1, 3, 5])) for _ in range(ndim))
    u = draw(arrays(np.float64, shape, elements=st.floats(0, 100, allow_nan=False)))
    w = draw(arrays(np.float64, kshape, elements=finite))
    t = draw(st.floats(0.2, 5.0))
    return u, kernels.softmax(w, t)


@settings(max_examples=60, deadline=None)
@given(field_and_kernel(), field_and_kernel(), finite, finite, WALLS)
def test_propagation_is_linear(fk1, fk2, a, b, wall):
    u, k = fk1
    v = fk2[0]
    if v.shape != u.shape:
        v = np.resize(v, u.shape)
    lhs = explicit.propagate(a * u + b * v, wall, kernel=k, steps=3)
    rhs = a * explicit.propagate(u, wall, kernel=k, steps=3) + b * explicit.propagate(v, wall, kernel=k, steps=3)
    scale = 1 + np.abs(a * u).max() + np.abs(b * v).max()
    assert np.abs(lhs - rhs).max() <= 1e-12 * scale


@settings(max_examples=60, deadline=None)
@given(field_and_kernel(), WALLS, st.integers(0, 6))
def test_probability_kernels_keep_fields_non_negative_and_never_create_mass(fk, wall, steps):
    u, k = fk
    out = explicit.propagate(u, wall, kernel=k, steps=steps)
    assert out.min() >= -1e-12 * (1 + u.max())
    assert out.sum() <= u.sum() * (1 + 1e-12) + 1e-12
    if wall != "absorbing":  # periodic and reflecting walls keep every particle
        assert abs(out.sum() - u.sum()) <= 1e-12 * (1 + u.sum())


@settings(max_examples=40, deadline=None)
@given(field_and_kernel(dims=(1, 2, 3)), st.integers(0, 8))
def test_periodic_spectral_power_equals_repeated_fft_convolution(fk, steps):
    u, k = fk
    ref = u
    for _ in range(steps):
        ref = fft_convolve(ref, k, "periodic")
    got = spectral.propagate(u, "periodic", kernel=k, steps=steps)
    assert np.abs(got - ref).max() <= 1e-11 * (1 + np.abs(u).max())

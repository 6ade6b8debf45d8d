"""FFT convolution with boundary padding equals scipy.ndimage.convolve in the matching mode."""

import numpy as np
import pytest
import scipy.ndimage as ndi

from physconv import kernels
from physconv.convolve import fft_convolve, fft_correlate
from physconv.errors import KernelError

MODES = [("periodic", "wrap"), ("reflecting", "reflect"), ("absorbing", "constant")]


@pytest.mark.parametrize("boundary, mode", MODES)
@pytest.mark.parametrize("shape, kshape", [((41,), (7,)), ((37, 53), (5, 3)), ((9, 10, 11), (3, 5, 3))])
def test_fft_convolve_matches_ndimage(rng, boundary, mode, shape, kshape):
    u = rng.random(shape)
    k = rng.normal(size=kshape)  # signed, asymmetric: tests orientation as well as padding
    np.testing.assert_allclose(fft_convolve(u, k, boundary), ndi.convolve(u, k, mode=mode, cval=0.0), atol=1e-12, rtol=0)


@pytest.mark.parametrize("boundary, mode", MODES)
def test_fft_correlate_matches_ndimage(rng, boundary, mode):
    u = rng.random((20, 30))
    k = rng.normal(size=(3, 7))
    np.testing.assert_allclose(fft_correlate(u, k, boundary), ndi.correlate(u, k, mode=mode), atol=1e-12, rtol=0)


def test_fft_convolve_with_dirichlet_walls_uses_the_shifted_odd_extension(rng):
    c = 0.4
    u = rng.random((12, 15))
    k = rng.normal(size=(5, 3))
    # reference: odd extension of u - c about each face, built with numpy, then a direct convolution
    ext = np.pad(u - c, ((2, 2), (1, 1)), mode="symmetric")
    sign_y = np.r_[-np.ones(2), np.ones(12), -np.ones(2)]
    sign_x = np.r_[-1.0, np.ones(15), -1.0]
    ext = ext * np.outer(sign_y, sign_x) + c
    ref = ndi.convolve(ext, k, mode="constant")[2:-2, 1:-1]
    np.testing.assert_allclose(fft_convolve(u, k, "dirichlet", boundary_value=c), ref, atol=1e-12, rtol=0)


def test_mixed_boundaries_apply_per_axis(rng):
    u = rng.random((16, 21))
    k = rng.normal(size=(3, 5))
    ref = ndi.convolve(np.pad(u, ((1, 1), (0, 0)), mode="wrap"), k, mode="reflect")[1:-1]
    np.testing.assert_allclose(fft_convolve(u, k, {"y": "periodic", "x": "reflecting"}), ref, atol=1e-12, rtol=0)


def test_a_probability_kernel_keeps_a_constant_field_constant():
    u = np.full((8, 9), 3.0)
    for b in ("periodic", "reflecting"):
        np.testing.assert_allclose(fft_convolve(u, kernels.softmax(kernels.named("edge")), b), 3.0, rtol=1e-14)


def test_kernel_and_field_dimensions_must_match():
    with pytest.raises(KernelError, match="2 axes but the field has 1"):
        fft_convolve(np.ones(5), np.ones((3, 3)))

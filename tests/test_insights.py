"""Each of the article's claims, checked against a library physconv does not contain."""

import json

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from physconv import cli, kernels, spectral  # noqa: E402
from physconv.grid import Grid  # noqa: E402
from physconv.insights import arma, convergence, correlate, edge, kernel, lowpass, measurement, spectrum  # noqa: E402
from physconv.insights._images import grating, oriented_scene, picture, rotated  # noqa: E402

TURNS = (0.0, 17.0, 37.0, 60.0, 90.0)


# --- spectrum: orientation lives in the spectrum ------------------------------------------------

@pytest.mark.parametrize("scene", ["grating", "texture"])
def test_rotating_the_image_rotates_the_spectrum_axis(scene):
    big = grating((512, 512), 20.0, 12.0) if scene == "grating" else oriented_scene((512, 512), 20.0, 3, 2.0, 8.0)
    base = spectrum.orientation(rotated(big, 0.0, 256))
    for t in TURNS:
        u = rotated(big, t, 256)
        assert abs(spectrum.angle_difference(spectrum.orientation(u) - base, t)) < 1.0, t
        assert abs(spectrum.angle_difference(spectrum.orientation(u), spectrum.structure_tensor_orientation(u))) < 1.0


def test_a_grating_puts_its_axis_on_its_wave_vector():
    for angle in (0.0, 33.0, 118.0):
        assert abs(spectrum.angle_difference(spectrum.orientation(grating((256, 256), angle, 16.0)), angle)) < 0.5


def test_log_spectrum_is_centred_in_cycles_per_cell():
    s = spectrum.log_spectrum(grating((64, 64), 0.0, 8.0), window=False)
    assert float(s.kx[32]) == 0.0 and float(s.ky[0]) == -0.5
    iy, ix = np.unravel_index(int(np.argmax(s.values)), s.shape)
    assert abs(float(s.kx[ix])) == pytest.approx(1 / 8) and float(s.ky[iy]) == 0.0


# --- lowpass: the circle, and diffusion as the soft mask ----------------------------------------

@pytest.mark.parametrize("D, t", [(1.0, 2.0), (0.3, 20.0), (2.0, 7.5)])
def test_heat_on_a_periodic_field_is_the_soft_mask(D, t):
    """spectral.heat (image-summed sampled Gaussian) = exp(-D t |k|^2) in Fourier space, to 1e-10."""
    u = np.random.default_rng(0).random((48, 64))
    got = spectral.heat(u, Grid(u.shape, 1.0, "periodic"), diffusivity=D, time=t)
    np.testing.assert_allclose(got, lowpass.diffuse_by_mask(u, D, t), atol=1e-10)


def test_circle_compression_and_quality():
    u = picture(None, 128)
    _, ratio = lowpass.circle(u, 0.1)
    assert ratio == pytest.approx(1 - np.pi * 0.1**2, abs=2e-3)  # the unit square of frequencies, minus the disc
    table = lowpass.sweep(u, [0.05, 0.1, 0.2, 0.3])
    assert np.all(np.diff(table.psnr.values) > 0) and np.all(np.diff(table.compression.values) < 0)
    from skimage.metrics import peak_signal_noise_ratio

    rec, _ = lowpass.circle(u, 0.2)
    assert table.psnr.values[2] == pytest.approx(peak_signal_noise_ratio(u, rec, data_range=1.0))


def test_at_equal_energy_the_hard_circle_rings_and_the_soft_mask_does_not():
    u = picture(None, 128)
    for radius in (0.06, 0.12):
        hard, _ = lowpass.circle(u, radius)
        t = lowpass.equal_energy_time(u, radius)
        soft = lowpass.diffuse(u, 1.0, t)
        mask = lowpass._radius(u.shape) <= radius
        assert lowpass.kept_energy(u, lowpass.heat_mask(u.shape, 1.0, t)) == pytest.approx(lowpass.kept_energy(u, mask))
        assert hard.max() - u.max() > 0.05 and u.min() - hard.min() > 0.05  # Gibbs overshoot on both sides
        assert soft.max() - u.max() < 1e-12 and u.min() - soft.min() < 1e-12  # a positive kernel: maximum principle


# --- correlate: a flipped convolution; template matching ----------------------------------------

@pytest.mark.parametrize("shape, tshape", [((40, 50), (7, 5)), ((33, 64), (9, 9)), ((101,), (15,))])
def test_fft_correlate_is_scipy_signal_correlate(shape, tshape):
    from scipy.signal import correlate as scipy_correlate

    rng = np.random.default_rng(1)
    u, t = rng.standard_normal(shape), rng.standard_normal(tshape)
    np.testing.assert_allclose(correlate.correlate(u, t), scipy_correlate(u, t, mode="same"), atol=1e-10)


@pytest.mark.parametrize("position", [(40, 50), (90, 120), (8, 80), (64, 7), (120, 152)])
def test_template_matching_finds_the_planted_template_at_its_pixel(position):
    scene, t = correlate.planted_scene(positions=(position,), seed=2)
    assert correlate.match(scene, t) == position
    assert np.unravel_index(np.argmax(correlate.normalized(scene, t)), scene.shape) == position


def test_ncc_is_skimage_match_template_away_from_the_borders():
    from skimage.feature import match_template

    scene, t = correlate.planted_scene(seed=3)
    ours = correlate.normalized(scene, t)
    theirs = match_template(scene, t, pad_input=True)
    h = t.shape[0] // 2
    np.testing.assert_allclose(ours[h:-h, h:-h], theirs[h:-h, h:-h], atol=1e-8)


def test_linear_and_circular_correlation_differ_only_near_the_borders():
    scene, t = correlate.planted_scene(seed=4)
    gap = np.abs(correlate.correlate(scene, t, "absorbing") - correlate.correlate(scene, t, "periodic"))
    h = t.shape[0] // 2
    assert gap[h:-h, h:-h].max() < 1e-10
    assert gap[:h].max() > 1 and gap[:, -h:].max() > 1


# --- edge: the edge detector is one diffusion step ----------------------------------------------

@pytest.mark.parametrize("T", [0.7, 1.0, 3.0, 20.0])
@pytest.mark.parametrize("boundary", ["periodic", "reflecting", "absorbing"])
def test_edge_response_is_what_one_step_moves_away(T, boundary):
    u = np.random.default_rng(5).random((30, 40))
    assert edge.identity_gap(u, T, boundary) < 1e-12 * max(1.0, 1 / float(edge.propagator(T)[0, 0])) * 10


def test_effective_diffusivity_of_the_softmax_edge_kernel():
    assert float(edge.propagator(1.0)[1, 1]) == pytest.approx(0.99901, abs=5e-6)
    for T in (1.0, 3.0, 10.0):
        p = float(edge.propagator(T)[0, 0])
        assert edge.effective_diffusivity(T) == pytest.approx(3 * p, rel=1e-12)  # 6 of 8 neighbours at 1 cell
    assert edge.effective_diffusivity(1e6) == pytest.approx(1 / 3, rel=1e-5)


# --- measurement: error ~ 1/sqrt(K) -------------------------------------------------------------

def test_mean_of_k_looks_converges_at_rate_one_over_root_k():
    """With 16384 pixels per K the RMS errors scatter by well under 1 %: the slope's tolerance of 0.05 is more
    than ten of its standard deviations (false-alarm probability below 1e-20) for this fixed seed."""
    u = picture(None, 128)
    _, exact, rms = measurement.rms_errors(u, kernels.gaussian(variance=4.0), seed=11)
    assert measurement.slope(measurement.DRAWS, rms) == pytest.approx(-0.5, abs=0.05)
    from scipy.ndimage import convolve

    np.testing.assert_allclose(exact, convolve(u, kernels.gaussian(variance=4.0), mode="reflect"), atol=1e-12)


# --- arma: time-series models are convolutions --------------------------------------------------

def test_ma_and_ar_series_are_lfilter():
    from scipy.signal import lfilter

    e = np.random.default_rng(6).standard_normal(3000)
    for theta in ([0.5], [0.6, -0.3, 0.2]):
        np.testing.assert_allclose(arma.ma(e, theta), lfilter(np.r_[1.0, theta], [1.0], e), atol=1e-10)
    for phi in ([0.9], [0.75, -0.2], [0.5, 0.3, -0.1]):
        np.testing.assert_allclose(arma.ar(e, phi), lfilter([1.0], np.r_[1.0, -np.array(phi)], e), atol=1e-10)


def test_impulse_responses_are_statsmodels():
    from statsmodels.tsa.arima_process import ArmaProcess

    for phi in ([0.9], [0.75, -0.2], [1.2, -0.5]):
        h = arma.impulse_response(phi)
        theirs = ArmaProcess(ar=np.r_[1.0, -np.array(phi)], ma=[1.0]).impulse_response(len(h))
        np.testing.assert_allclose(h, theirs, atol=1e-12)
        assert np.all(np.abs(h[-len(phi):]) < arma.CUTOFF)
    with pytest.raises(ValueError, match="not stationary"):
        arma.impulse_response([1.1])


def test_gaussian_smoothing_is_gaussian_filter1d():
    from scipy.ndimage import gaussian_filter1d

    x = np.random.default_rng(7).standard_normal(500)
    for sigma in (1.5, 5.0):
        np.testing.assert_allclose(arma.gaussian_smooth(x, sigma), gaussian_filter1d(x, sigma, mode="reflect",
                                                                                     truncate=4.0), atol=1e-12)


@pytest.mark.parametrize("method", ["pca", "zca"])
def test_whitened_covariance_is_the_identity(method):
    data = np.random.default_rng(8).standard_normal((4000, 3)) @ np.array([[2, 0, 0], [1, 0.5, 0], [0.3, 0.2, 3.0]])
    np.testing.assert_allclose(np.cov(arma.whiten(data, method), rowvar=False), np.eye(3), atol=1e-8)


# --- convergence: measured orders ---------------------------------------------------------------

def test_convergence_orders_match_theory():
    numbers, _ = convergence.insight("diffusion_1d", 3, ["grid.shape=[50]", "grid.spacing=0.2",
                                                         "time.steps=400", "monte_carlo.particles=1000000"])
    assert numbers["orders"]["explicit-gaussian"] == pytest.approx(2.0, abs=0.1)
    assert numbers["orders"]["implicit-gaussian"] == pytest.approx(2.0, abs=0.1)
    assert numbers["orders"]["monte_carlo"] == pytest.approx(-0.5, abs=0.1)


def test_convergence_refuses_what_cannot_be_refined():
    from physconv import scenario

    with pytest.raises(ValueError, match="kernel"):
        convergence.refined(scenario.load("softmax_edge_detector"), 2)


# --- kernel: what does this kernel do? -----------------------------------------------------------

def test_kernel_frequency_response_is_the_fft_of_the_padded_kernel():
    w = kernels.named("sharpen")
    padded = np.zeros((64, 64))
    padded[:3, :3] = w
    fft = np.abs(np.fft.fft2(np.roll(padded, (-1, -1), axis=(0, 1))))
    s, g = kernel.response(w, [0.0, 1.0], samples=33)  # along x, 0..pi: FFT bins 0..32
    np.testing.assert_allclose(g, fft[0, :33], atol=1e-12)


@pytest.mark.parametrize("spec, normalize, kind, weights_kind", [
    ("edge", "softmax", "low-pass", "high-pass"), ("box", "sum", "low-pass", "low-pass"),
    ("[[0,-1,0],[-1,5,-1],[0,-1,0]]", "softmax", "low-pass", "high-pass"), ("[1, 2, 1]", "sum", "low-pass", "low-pass"),
])
def test_kernel_reading(spec, normalize, kind, weights_kind):
    info = kernel.explain(kernel.parse(spec), normalize, 3.0)
    assert kernel.explain(kernel.parse("edge"), "softmax", 1.0)["frequency_response"]["probabilities"]["kind"] == \
        "all-pass"  # T = 1: the centre keeps 0.99901, hardly anything moves
    assert info["frequency_response"]["probabilities"]["kind"] == kind
    assert info["frequency_response"]["weights"]["kind"] == weights_kind
    assert np.sum(info["probabilities"]) == pytest.approx(1.0)
    assert f"{info['D_eff'][0]:.4g}" in info["reading"]


def test_a_drifting_kernel_is_read_as_anisotropic_with_drift():
    info = kernel.explain([[0, 0, 0], [0, 1, 1], [0, 0, 0]], "sum")
    assert info["drift"] == [0.0, 0.5] and info["anisotropy"] > 0.5 and "drift" in info["reading"]


# --- the command line ---------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["spectrum", "lowpass", "correlate", "edge", "measurement", "arma"])
def test_insight_commands_print_json_and_draw(tmp_path, capsys, name):
    from PIL import Image

    out = tmp_path / f"{name}.png"
    assert cli.main(["insight", name, "--json", "--out", str(out)]) == 0
    numbers = json.loads(capsys.readouterr().out)
    assert "claim" in numbers
    pixels = np.asarray(Image.open(out).convert("L"), dtype=float)
    assert pixels.var() > 100


def test_kernel_command(tmp_path, capsys):
    assert cli.main(["kernel", "edge", "--temperature", "3", "--out", str(tmp_path / "k.png")]) == 0
    out = capsys.readouterr().out
    assert "0.71516" in out and "low-pass" in out and "high-pass" in out and (tmp_path / "k.png").exists()
    assert cli.main(["kernel", "[[1, 2, 1]]", "--normalize", "sum", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["D_eff"] == [0.0, 0.25]


@pytest.mark.parametrize("argv, words", [
    (["kernel", "[[1, 2], [3, 4]]"], "odd size"), (["kernel", "nonsense"], "neither a named kernel"),
    (["kernel", "[1, true, 1]"], "real numbers"), (["kernel", "edge", "--temperature", "nan"], "--temperature"),
    (["insight", "spectrum", "salt_aquarium"], "takes no scenario"), (["insight", "arma", "--image", "x.png"],
                                                                       "takes no --image"),
    (["insight", "spectrum", "--image", "missing.png"], "no such picture"),
    (["insight", "convergence", "softmax_edge_detector"], "kernel"),
    (["insight", "edge", "--out", "x.xyz"], "must end in"),
])
def test_bad_insight_and_kernel_input(tmp_path, capsys, monkeypatch, argv, words):
    monkeypatch.chdir(tmp_path)
    assert cli.main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and words in err[0]


@pytest.mark.parametrize("spec, ndim", [("identity", 2), ("gaussian", 2), ("box", 2), ("[0.2, 0.5, 0.3]", 1),
                                        ("[[0,0,0],[0,0.25,0.75],[0,0,0]]", 2)])
def test_kernel_command_reads_a_probability_kernel_as_given(capsys, spec, ndim):
    assert cli.main(["kernel", spec, "--json"]) == 0
    captured = capsys.readouterr()
    info = json.loads(captured.out)
    w = kernels.named(spec, ndim) if spec.isalpha() else np.array(json.loads(spec), dtype=float)
    m = kernels.moments(w)
    assert captured.err == "" and info["normalize"] == "none" and info["warning"] is None
    np.testing.assert_allclose(info["D_eff"], np.diag(m.diffusivity), atol=1e-12)
    np.testing.assert_allclose(info["drift"], m.mean, atol=1e-12)


def test_kernel_command_says_when_it_turns_weights_into_probabilities(capsys):
    assert cli.main(["kernel", "sharpen"]) == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("warning: sharpen:") and "softmax at temperature 1" in err[0]
    assert cli.main(["kernel", "sharpen", "--temperature", "2", "--json"]) == 0
    captured = capsys.readouterr()
    assert captured.err == "" and json.loads(captured.out)["normalize"] == "softmax"

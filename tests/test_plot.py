"""Plots render to PNG files with real content (pixel variance), from the Dataset alone."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402

from physconv import kernels, plot, plot_kernel, runner, scenario  # noqa: E402
from physconv.convolve import fft_convolve  # noqa: E402

from .test_scenario import BASE  # noqa: E402


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    d = tmp_path_factory.mktemp("p")
    out = {}
    for name, over in {"2d": [], "1d": ["grid.shape=[30]", "methods=[explicit, spectral, gaussian]"],
                       "3d": ["grid.shape=[6, 7, 8]", "time.dt=0.5", "methods=[explicit, spectral]"]}.items():
        p = d / f"{name}.yaml"
        p.write_text(BASE)
        out[name] = runner.run(scenario.load(p, over), progress=False)
    return out


def variance_of(fig_or_ax, path):
    fig = getattr(fig_or_ax, "figure", fig_or_ax)
    fig.savefig(path, dpi=60)
    pixels = np.asarray(Image.open(path).convert("L"), dtype=float)
    return pixels.var()


@pytest.mark.parametrize("dim", ["1d", "2d", "3d"])
def test_every_plot_has_content(tmp_path, results, dim):
    ds = results[dim]
    figures = [plot.snapshots(ds), plot.differences(ds, "explicit", "spectral"), plot.errors(ds),
               plot.profiles(ds), plot.overview(ds)]
    if dim == "1d":
        figures.append(plot.spacetime(ds))
    for i, f in enumerate(figures):
        assert variance_of(f, tmp_path / f"{i}.png") > 100, i


def test_kernel_picture_has_content(tmp_path):
    w = kernels.named("edge")
    fig = plot_kernel.kernel_figure(w, kernels.softmax(w, 2.0), steps=50)
    assert variance_of(fig, tmp_path / "k.png") > 100


@pytest.mark.parametrize("dim", ["1d", "2d", "3d"])
def test_kernel_picture_works_for_diffusivity_scenarios(tmp_path, results, dim):
    """The FTCS step is a kernel too: its picture is drawn for every scenario."""
    assert variance_of(plot_kernel.scenario_kernel_figure(results[dim]), tmp_path / "k.png") > 100


def test_n_step_kernel_is_the_convolution_power_and_tends_to_the_heat_kernel():
    """The picture's numbers: the power is repeated convolution; its distance to the heat kernel falls ~ 1/n."""
    k = kernels.softmax(kernels.named("edge"), 3.0)
    power, heat, variance = plot_kernel.n_step_kernel(k, 5)
    direct = np.zeros_like(power)
    direct[power.shape[0] // 2, power.shape[1] // 2] = 1.0
    for _ in range(5):
        direct = fft_convolve(direct, k, "periodic")
    np.testing.assert_allclose(power, direct, atol=1e-15)
    np.testing.assert_allclose(variance, 2 * np.diag(kernels.moments(k).diffusivity) * 5)
    gaps = [np.abs(np.subtract(*plot_kernel.n_step_kernel(k, n)[:2])).max() / plot_kernel.n_step_kernel(k, n)[1].max()
            for n in (50, 200)]
    assert gaps[1] < gaps[0] / 3


@pytest.mark.parametrize("scale, norms", [("linear", 1), ("log", 1), ("per-frame", 3)])
def test_colour_scales(results, scale, norms):
    ds = results["2d"]
    fig = plot.snapshots(ds, scale=scale)
    images = [im for ax in fig.axes for im in ax.images]
    assert len(images) == 4 * ds.sizes["time"]  # four methods x three saved times
    assert len({(im.norm.vmin, im.norm.vmax) for im in images}) == norms
    colourbars = len(fig.axes) - 4 * ds.sizes["time"]
    assert colourbars == norms  # a colour bar for every scale used


def _panel_pixels(fig, ax, path=None):
    """The rendered pixels (grey levels) inside one axes."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    pixels = np.asarray(canvas.buffer_rgba(), dtype=float)[..., :3].mean(axis=-1)
    x0, y0, x1, y1 = ax.get_window_extent().extents
    h = pixels.shape[0]
    return pixels[int(h - y1) + 2:int(h - y0) - 2, int(x0) + 2:int(x1) - 2]


def test_images_are_drawn_the_right_way_up(tmp_path):
    """A picture with one bright pixel near its top-left corner: stored at the largest y, drawn top left."""
    pic = np.zeros((24, 32), dtype=np.uint8)
    pic[2, 3] = 255
    Image.fromarray(pic).save(tmp_path / "pic.png")
    (tmp_path / "s.yaml").write_text(BASE.replace("{kind: random_cubes, seed: 1}", "{kind: image, path: pic.png}"))
    ds = runner.run(scenario.load(tmp_path / "s.yaml", ["grid.shape=[24, 32]", "methods=[spectral]"]),
                    progress=False)
    u0 = ds["initial"].values
    assert np.unravel_index(np.argmax(u0), u0.shape) == (21, 3)  # y up: image row 2 is the third row from the top
    fig = plot.snapshots(ds, times=[0], scale="linear")
    panel = _panel_pixels(fig, fig.axes[0], tmp_path / "f.png")
    iy, ix = np.unravel_index(np.argmax(panel), panel.shape)
    assert iy < panel.shape[0] / 4 and ix < panel.shape[1] / 4  # top left of the drawn panel


def test_a_point_source_stays_visible(tmp_path):
    """Default scale: every later panel shows the spreading Gaussian (pixel variance well above a flat panel)."""
    (tmp_path / "s.yaml").write_text(BASE.replace("{kind: random_cubes, seed: 1}", "{kind: point, mass: 1000.0}"))
    ds = runner.run(scenario.load(tmp_path / "s.yaml", ["grid.shape=[41, 41]", "time.steps=60",
                                                        "time.save_every=20", "methods=[explicit, gaussian]"]),
                    progress=False)
    fig = plot.snapshots(ds)
    n = ds.sizes["time"]
    for k, ax in enumerate(fig.axes[:2 * n]):  # rows: methods, columns: times
        if k % n:  # every panel after t = 0
            assert _panel_pixels(fig, ax).var() > 200, k
    profile = plot.profiles(ds).axes[0]
    assert profile.get_ylim()[1] < 1000 / 10  # the t = 0 spike does not flatten the spreading curves


def test_evenly_spaced_times():
    import xarray as xr

    t = np.array([0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95.0])
    assert plot.pick_times(xr.Dataset(coords={"time": t})) == [0, 3, 6, 10]


def test_animation_has_one_frame_per_saved_time(tmp_path, results):
    path = tmp_path / "a.gif"
    plot.animate(results["2d"], path)
    with Image.open(path) as im:
        assert im.n_frames == results["2d"].sizes["time"]


def test_animation_colours_are_the_maps_own_in_every_frame(tmp_path, results):
    """One palette of the colour map's colours for all frames: a ramp of the map keeps its steps (Pillow's
    per-frame palette of an RGBA frame kept 31 of 512 and was 15 units off), and every frame of an
    animation uses the same palette."""
    from matplotlib import colormaps

    from physconv import _gif

    ramp = np.round(255 * colormaps["viridis"](np.linspace(0, 1, 512))[:, :3]).astype(np.uint8)
    grey = np.repeat(np.linspace(0, 255, 512).round().astype(np.uint8)[:, None], 3, axis=1)
    picture = np.concatenate([np.broadcast_to(ramp, (20, 512, 3)), np.broadcast_to(grey, (20, 512, 3))])
    _gif.write([picture, picture[:, ::-1]], tmp_path / "ramp.gif", fps=4)
    with Image.open(tmp_path / "ramp.gif") as im:
        back = np.asarray(im.convert("RGB")).astype(int)
    assert len({tuple(c) for c in back[5]}) >= 100
    assert np.abs(back - picture).max() <= 8
    path = tmp_path / "a.gif"
    plot.animate(results["2d"], path)
    with Image.open(path) as im:
        first = im.getpalette()
        for i in range(1, im.n_frames):  # a frame without a palette of its own uses the file's
            im.seek(i)
            assert im.getpalette() in (None, first)


def test_spacetime_refuses_2d_results(results):
    with pytest.raises(ValueError, match="1-D"):
        plot.spacetime(results["2d"])


def test_block_mean_keeps_small_fields_and_averages_large_ones():
    from physconv.plot import block_mean

    rng = np.random.default_rng(0)
    small = rng.random((40, 30))
    assert block_mean(small, 64) is small
    big = rng.random((1030, 70))
    out = block_mean(big, 512)  # blocks of 3 rows (the last of 1): 344 rows; columns kept
    assert out.shape == (344, 70)
    np.testing.assert_allclose(out[0], big[:3].mean(axis=0), rtol=1e-14)
    np.testing.assert_allclose(out[-1], big[-1], rtol=1e-14)
    np.testing.assert_allclose((out[:-1] * 3).sum() + out[-1].sum(), big.sum(), rtol=1e-12)  # mass kept


def test_profiles_of_many_saved_times_get_a_colour_bar_instead_of_a_legend(tmp_path):
    """A legend of dozens of times would cover the panel: beyond LEGEND_CURVES the times are a colour bar."""
    import matplotlib

    matplotlib.use("Agg")
    from physconv import plot, runner, scenario

    few = runner.run(scenario.load("diffusion_1d", ["methods=[explicit]", "time.save_every=400"]), progress=False)
    many = runner.run(scenario.load("diffusion_1d", ["methods=[explicit]", "time.save_every=50"]), progress=False)
    ax = plot.profiles(few).axes[0]
    assert ax.get_legend() is not None and len(ax.figure.axes) == 1
    ax = plot.profiles(many).axes[0]
    assert many.sizes["time"] > plot.LEGEND_CURVES
    assert ax.get_legend() is None and len(ax.figure.axes) == 2  # the panel and its colour bar
    assert len(ax.lines) == many.sizes["time"]


def test_rows_of_maps_follow_the_fields_aspect_ratio():
    """A long thin field gets short rows (no empty bands between them); a square one keeps 2.4 inches."""
    from physconv import plot, runner, scenario

    wide = runner.run(scenario.load("barrier_removal", ["monte_carlo.particles=1000", "time.steps=20",
                                                        "methods=[explicit]"]), progress=False)
    square = runner.run(scenario.load("salt_aquarium", ["grid.shape=[32, 32]", "methods=[explicit]",
                                                        "time.steps=20"]), progress=False)
    assert plot.row_height(square) == pytest.approx(2.4)
    assert plot.row_height(wide) == pytest.approx(max(0.65, 2.25 * 64 / 256) + 0.15)  # 4:1, at the floor
    assert plot.snapshots(wide).get_figheight() < plot.snapshots(square).get_figheight()


@pytest.mark.parametrize("limits, ticks, labels", [
    ((1e-15, 1e-2), [1e-14, 1e-10, 1e-2, 1.0, 10.0], ["10⁻¹⁴", "10⁻¹⁰", "10⁻²", "10⁰", "10¹"]),
    ((0.1235, 0.1275), [0.124, 0.125, 0.127], ["1.24×10⁻¹", "1.25×10⁻¹", "1.27×10⁻¹"]),  # minor ticks labelled
])
def test_log_axes_are_labelled_in_plain_text_with_the_default_numbers(limits, ticks, labels):
    ax = plot.Figure().subplots()
    plot.log_axis(ax)
    ax.set_ylim(*limits)
    for formatter in (ax.yaxis.get_major_formatter(), ax.yaxis.get_minor_formatter()):
        formatter.set_locs(ticks)
        assert [formatter(t) for t in ticks] == labels


# --- colour scales that hold on real data --------------------------------------------------------

@pytest.fixture(scope="module")
def sparse(tmp_path_factory):
    """About two particles per cell: the Monte Carlo map is mostly noise."""
    p = tmp_path_factory.mktemp("mc") / "s.yaml"
    p.write_text(BASE)
    over = ["grid.shape=[40, 48]", "monte_carlo.particles=4000", "methods=[explicit, gaussian, monte_carlo]"]
    return runner.run(scenario.load(p, over), progress=False)


def _limits(fig):
    images = [a.get_images()[0] for a in fig.axes if a.get_images()]
    return {(im.norm.vmin, im.norm.vmax) for im in images}


def test_monte_carlo_noise_never_sets_the_colour_scale(sparse):
    fig = plot.snapshots(sparse, scale="linear")
    shown = plot.pick_times(sparse)
    calm = np.concatenate([sparse[m].isel(time=shown).values.ravel() for m in ("explicit", "gaussian")])
    assert _limits(fig) == {(calm.min(), calm.max())}
    assert float(sparse["monte_carlo"].isel(time=shown).max()) > calm.max() * 1.5  # the noise is larger
    assert "monte_carlo clipped" in fig._suptitle.get_text()


def test_noisy_maps_alone_are_scaled_by_their_percentiles(sparse):
    fig = plot.snapshots(sparse, methods=["monte_carlo"], scale="linear")
    frames = sparse["monte_carlo"].isel(time=plot.pick_times(sparse)).values
    assert _limits(fig) == {tuple(np.percentile(frames, plot.ROBUST))}
    assert "percentiles" in fig._suptitle.get_text()


def test_a_log_scale_reaches_the_smallest_value_shown(results):
    ds = results["2d"]
    fig = plot.snapshots(ds, scale="log")
    calm = [m for m in plot.methods_of(ds) if m not in plot.NOISY]
    shown = ds[calm].isel(time=plot.pick_times(ds)).to_array().values
    (lo, hi), = _limits(fig)
    assert hi == pytest.approx(shown.max()) and lo == pytest.approx(max(shown[shown > 0].min(), hi * plot.LOG_FLOOR))


def test_differences_skip_the_start_where_every_pair_agrees(results):
    ds = results["2d"]
    fig = plot.differences(ds, "explicit", "gaussian")
    titles = [a.get_title() for a in fig.axes if a.get_images()]
    assert titles and "t = 0" not in titles


def test_monte_carlo_error_axis_is_logarithmic_only_over_a_decade(sparse):
    ax = plot.monte_carlo_errors(sparse).axes[0]
    values = np.concatenate([line.get_ydata() for line in ax.get_lines()])
    assert ax.get_yscale() == ("log" if values.max() > 10 * values.min() else "linear")


def test_kernel_maps_read_like_the_printed_matrix():
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    k = np.array([[0.0, -1e-17, 0.0], [0.0, 0.5, 0.0], [0.0, 0.5, 6.1e-17]])
    plot_kernel.annotated(ax, k, "k")
    im = ax.get_images()[0]
    assert im.origin == "upper"
    labels = [t.get_text() for t in ax.texts]
    assert labels == ["0", "0", "0", "0", "0.5", "0", "0", "0.5", "0"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["-1", "0", "+1"]
    plt.close(fig)

"""Plots render to PNG files with real content (pixel variance), from the Dataset alone."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402

from physconv import kernels, plot, runner, scenario  # noqa: E402

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
    assert variance_of(plot.kernel_picture(kernels.named("edge"), 2.0), tmp_path / "k.png") > 100


def test_snapshot_panels_share_one_colour_scale(results):
    ds = results["2d"]
    fig = plot.snapshots(ds)
    panels = fig.axes[:-1]  # the last axes is the colour bar
    assert len(panels) == 4 * ds.sizes["time"]  # four methods x three saved times
    limits = {(m.norm.vmin, m.norm.vmax) for ax in panels for m in ax.collections}
    assert len(limits) == 1


def test_animation_has_one_frame_per_saved_time(tmp_path, results):
    path = tmp_path / "a.gif"
    plot.animate(results["2d"], path)
    with Image.open(path) as im:
        assert im.n_frames == results["2d"].sizes["time"]


def test_spacetime_refuses_2d_results(results):
    with pytest.raises(ValueError, match="1-D"):
        plot.spacetime(results["2d"])

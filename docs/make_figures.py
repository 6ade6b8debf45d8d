"""Draw every figure of docs/insights.md, docs/media.md and docs/inverse.md from the code (never by hand):
python docs/make_figures.py"""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

from physconv.insights import get, kernel  # noqa: E402

OUT = Path(__file__).resolve().parent / "figures"


def main() -> None:
    OUT.mkdir(exist_ok=True)
    for name in ("spectrum", "lowpass", "correlate", "edge", "measurement", "arma", "convergence"):
        module = get(name)
        numbers, fig = module.insight() if name != "convergence" else module.insight("diffusion_1d", 3)
        fig.savefig(OUT / f"{name}.png", dpi=72)
        print(f"{name}: {OUT / f'{name}.png'}")
    kernel.figure(kernel.parse("edge"), "softmax", 3.0).savefig(OUT / "kernel.png", dpi=72)
    print(f"kernel: {OUT / 'kernel.png'}")
    media()
    inverse()


def inverse() -> None:
    """docs/inverse.md: D from the salt aquarium's particle frames; the FTCS and softmax-edge kernels learned
    from frames of their scenarios; the camera picture deblurred with its horizon."""
    import numpy as np
    from skimage import data

    from physconv import Grid, inverse as inv, runner, scenario, spectral
    from physconv.inverse import deblur, figures, kernel_fit

    ds = runner.run("salt_aquarium", progress=False)
    path = OUT / "salt_aquarium.nc"
    from physconv import io

    io.write(ds, path)
    for var in ("explicit", "gaussian", "monte_carlo"):
        for prop in ("continuous", "steps"):
            r = inv.fit(inv.load([path], var=var), propagator=prop, step_dt=float(ds.attrs["dt"]))
            print(f"salt_aquarium {var} {prop}: D = {r.theta[0]:.7g} +- {r.stderr[0]:.2g}; {r.verdict}")
    frames = inv.load([path], var="monte_carlo")
    r = inv.fit(frames, propagator="steps", step_dt=1.0)
    figures.fit_figure(frames, r).savefig(OUT / "inverse_fit.png", dpi=72)
    path.unlink()
    from physconv import kernels

    truth = {"salt_aquarium": (kernels.ftcs(0.2, 1.0, 1.0, 2), "the scenario's FTCS step"),
             "softmax_edge_detector": (kernels.softmax(kernels.named("edge"), 3.0), "the scenario's softmax edge kernel")}
    for name, file in (("salt_aquarium", "inverse_kernel_ftcs.png"), ("softmax_edge_detector", "inverse_kernel_edge.png")):
        s = scenario.load(name, ["time.steps=8", "time.save_every=1"])
        ds = runner.run(s, progress=False)
        frames = inv.make(ds["explicit"].values, ds["time"].values, 1.0, s.boundary, source=f"{name}:explicit")
        k = kernel_fit.learn(frames, 5)
        print(f"{name}: learned kernel, largest difference from the true one "
              f"{np.abs(k.kernel[1:4, 1:4] - truth[name][0]).max():.1e}\n{k.reading['reading']}")
        figures.fit_figure(frames, k, *truth[name]).savefig(OUT / file, dpi=72)
    img = data.camera()[::2, ::2].astype(float)[:, 20:240] / 255.0
    g = Grid(img.shape, boundary="reflecting")
    blurred = spectral.heat(img, g, diffusivity=1.0, time=1.5) + 0.01 * np.random.default_rng(0).standard_normal(img.shape)
    res = deblur.deblur(blurred, g, 1.0, 1.5)
    print(f"deblur: {res.to_dict()}")
    figures.deblur_figure(blurred, res, g).savefig(OUT / "inverse_deblur.png", dpi=72)
    print(f"inverse figures: {OUT}")


def media() -> None:
    """The shipped porous and maze scenarios run, then drawn as docs/media.md shows them."""
    from physconv import plot, plot_medium, runner

    porous = runner.run("porous", progress=False)
    plot_medium.propagator(porous).savefig(OUT / "media_propagator.png", dpi=72)
    fig, est, exact = plot_medium.homogenised(porous)
    fig.savefig(OUT / "media_homogenised.png", dpi=72)
    print(f"porous: D_eff = {est.diffusivity} +- {est.stderr} (exact lattice {exact})")
    plot.overview(runner.run("maze", progress=False)).savefig(OUT / "media_maze.png", dpi=60)
    print(f"media figures: {OUT}")


if __name__ == "__main__":
    main()

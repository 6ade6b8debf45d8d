"""Draw every figure of docs/insights.md and docs/media.md from the code (never by hand):
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

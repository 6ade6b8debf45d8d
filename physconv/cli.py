"""The ``physconv`` command line: parses arguments, calls the library, prints."""

from __future__ import annotations

import sys

import click

from . import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="physconv")
def main():
    """physconv: diffusion is convolution, checked numerically."""


@main.command()
@click.option("--size", default=128, show_default=True, help="Cells per side of the aquarium.")
@click.option("--steps", default=200, show_default=True, help="Time steps.")
@click.option("--diffusivity", default=0.2, show_default=True, help="D (cells^2 per time unit).")
@click.option("--boundary", default="reflecting", show_default=True,
              type=click.Choice(["periodic", "reflecting", "absorbing"]), help="Walls of the aquarium.")
def check(size, steps, diffusivity, boundary):
    """Diffuse a random salt aquarium three ways and print how far apart they are."""
    import numpy as np

    from . import spectral
    from .grid import Grid
    from .solvers import explicit

    grid = Grid((size, size), boundary=boundary)
    rng = np.random.default_rng(7)
    u0 = np.kron(rng.random((size // 8 + 1, size // 8 + 1)), np.ones((8, 8)))[:size, :size]
    dt = 1.0
    ue = explicit.diffuse(u0, grid, diffusivity=diffusivity, dt=dt, steps=steps)
    us = spectral.diffuse(u0, grid, diffusivity=diffusivity, dt=dt, steps=steps)
    ug = spectral.heat(u0, grid, diffusivity=diffusivity, time=steps * dt)
    scale = np.abs(u0).max()
    click.echo(f"{size}x{size} cells, {boundary} walls, D = {diffusivity}, {steps} steps of dt = {dt}")
    click.echo(f"{'pair':<22}{'max |diff| / max|u0|':>22}")
    click.echo(f"{'explicit vs spectral':<22}{np.abs(ue - us).max() / scale:>22.3e}")
    click.echo(f"{'explicit vs gaussian':<22}{np.abs(ue - ug).max() / scale:>22.3e}")
    click.echo(f"{'mass drift (explicit)':<22}{(ue.sum() - u0.sum()) / u0.sum():>22.3e}")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

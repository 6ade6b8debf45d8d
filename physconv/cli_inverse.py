"""``physconv fit`` and ``physconv deblur``: the inverse problems on the command line (DESIGN §12).
Parsing and printing only; the work is in :mod:`physconv.inverse`."""

from __future__ import annotations

import json
import math
from pathlib import Path

import click

from .cli import _Failure, _atomic, _check_figure_path, _finite, _json_safe, _save_figure, cli

_BOUNDARY_HELP = "Walls: a name (reflecting, periodic, absorbing, dirichlet) or one per axis, e.g. y=periodic,x=reflecting " \
                 "(default: the result's; reflecting for frames, said in a warning line)."


def _spacing(ctx, param, value):
    if value is None:
        return None
    try:
        parts = [float(v) for v in value.split(",")]
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a number or numbers separated by commas", ctx=ctx, param=param)
    if not all(p > 0 and p < float("inf") for p in parts):
        raise click.BadParameter(f"{value!r}: cell sizes must be positive and finite", ctx=ctx, param=param)
    return parts[0] if len(parts) == 1 else tuple(parts)


def _boundary(ctx, param, value):
    if value is None:
        return None
    if "=" in value:
        try:
            return dict(item.split("=", 1) for item in value.split(","))
        except ValueError:
            raise click.BadParameter(f"{value!r}: write AXIS=WALL pairs separated by commas", ctx=ctx, param=param)
    return value.split(",") if "," in value else value


def _units_option(ctx, param, value):
    """``--units mm,s``: a unit of length and one of time, checked by pint."""
    if value is None:
        return None
    from .units import LENGTH, TIME, Units, UnitsError, parse

    parts = [p.strip() for p in value.split(",")]
    if len(parts) != 2:
        raise click.BadParameter(f"{value!r}: give a length and a time, such as mm,s")
    try:
        return Units(parse(parts[0], LENGTH), parse(parts[1], TIME))
    except UnitsError as exc:
        raise click.BadParameter(str(exc)) from None


_data = click.argument("data", nargs=-1, required=True, type=click.Path())
_dt = click.option("--dt", type=float, callback=_finite, help="Time between consecutive frames (frames from files).")
_spacing_opt = click.option("--spacing", callback=_spacing, metavar="H[,H...]", help="Cell size per axis (default: the "
                            "result's; 1 for frames, said in a warning line).")
_boundary_opt = click.option("--boundary", callback=_boundary, metavar="WALLS", help=_BOUNDARY_HELP)


@cli.command(short_help="Estimate D, a tensor, a drift, a decay or the step kernel from frames, with errors.")
@_data
@click.option("--var", help="The result's variable to fit (default: its first method).")
@click.option("--model", default="diffusivity", show_default=True, metavar="M[,M...]",
              help="diffusivity | tensor, and drift, decay (combinable with commas), or kernel.")
@click.option("--size", type=int, default=3, show_default=True, help="Width of a learned kernel (odd).")
@click.option("--ridge", type=float, default=0.0, show_default=True, callback=_finite,
              help="Ridge added to a learned kernel's normal equations (times the cell count).")
@click.option("--propagator", type=click.Choice(["continuous", "steps"]), default="continuous", show_default=True,
              help="continuous: exp(-t k.D.k), for data from any process; steps: the FTCS step's transfer.")
@click.option("--step-dt", type=float, callback=_finite, help="Time of one step, with --propagator steps.")
@click.option("--noise", type=click.Choice(["gaussian", "poisson", "walk"]), default=None,
              help="gaussian: white, independent frames; poisson: independent counts; walk: the frames of one "
                   "particle walk (default for monte_carlo results, else gaussian).")
@click.option("--bootstrap", type=click.IntRange(0, 10_000), default=0, show_default=True,
              help="Parametric bootstrap replicas for a second standard error.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the bootstrap.")
@_dt
@_spacing_opt
@_boundary_opt
@click.option("--units", "units_", callback=_units_option, metavar="LENGTH,TIME",
              help="What --spacing and --dt are in (mm,s): D is then in mm²/s (default: a result's own units).")
@click.option("--out", "out_file", type=click.Path(dir_okay=False), help="Figure file (default: no figure).")
@click.option("--json", "as_json", is_flag=True, help="Print the estimates as one JSON object.")
def fit(data, var, model, size, ridge, propagator, step_dt, noise, bootstrap, seed, dt, spacing, boundary,
        units_, out_file, as_json):
    """Fit a propagator to DATA: a physconv result, a netCDF/Zarr file with a time dimension, or two or
    more frames (.npy or pictures) with --dt. Prints each estimate with its standard error and the
    Cramér–Rao bound, and a verdict on whether the model fits at all."""
    from . import inverse
    from .inverse import kernel_fit

    if dt is not None and not dt > 0:
        raise _Failure(f"--dt must be a positive time between frames, got {dt}")
    if out_file:
        _check_figure_path(Path(out_file))
    frames = inverse.load(data, var=var, dt=dt, spacing=spacing, boundary=boundary, noise=noise)
    if units_ is not None:
        import dataclasses

        frames = dataclasses.replace(frames, units=units_)
    names = [m.strip() for m in model.split(",") if m.strip()]
    if "kernel" in names:
        if len(names) > 1:
            raise _Failure("--model kernel is fitted alone (it holds D, drift and anisotropy in its weights)")
        res = kernel_fit.learn(frames, size, ridge)
        _print_kernel(res, as_json)
    else:
        res = inverse.fit(frames, names, propagator, step_dt, bootstrap, seed)
        _print_fit(res, frames, as_json)
    if out_file:
        from .inverse import figures

        _save_figure(lambda: figures.fit_figure(frames, res), Path(out_file))
        click.echo(f"picture: {out_file}", err=as_json)


def _print_fit(res, frames, as_json: bool) -> None:
    d = res.to_dict()
    if as_json:
        click.echo(json.dumps(_json_safe(d), allow_nan=False))
        return
    click.echo(f"{frames.source}: {res.frames} frames, {res.modes} modes, model {d['model']}, noise {frames.noise}")
    unit = res.units.dimensionless is False
    click.echo(f"{'parameter':<14}{'estimate':>14}{'stderr':>12}{'CRB':>12}{'sandwich':>12}"
               + ("  bootstrap" if res.bootstrap is not None else "") + ("  unit" if unit else ""))
    robust = res.extra["robust_stderr"]
    for i, name in enumerate(res.names):
        line = f"{name:<14}{res.theta[i]:>14.6g}{res.stderr[i]:>12.3g}{res.crb[i]:>12.3g}{robust[i]:>12.3g}"
        if res.bootstrap is not None:
            line += f"{res.bootstrap[i]:>11.3g}"
        if unit:
            line += f"  {res.unit(name)}"
        click.echo(line)
    t = res.extra.get("tensor")
    if t:
        text = f"principal D {', '.join(f'{v:.6g} ± {s:.2g}' for v, s in zip(t['principal'], t['principal_stderr']))}"
        text += f" {res.unit('diffusivity')}".rstrip()
        if "angle_deg" in t:
            text += f"; first axis at {t['angle_deg']:.3f}° ± {t['angle_stderr_deg']:.2g}° from x"
        click.echo(text)
    if len(res.names) > 1:
        click.echo("correlation: " + "; ".join(f"{a}-{b} {res.correlation[i, j]:+.3f}" for i, a in enumerate(res.names)
                                               for j, b in enumerate(res.names) if j > i))
    chi2 = f"{res.reduced_chi2:.4g}" if math.isfinite(res.reduced_chi2) else "undefined (no noise in the weakest modes)"
    click.echo(f"noise sigma {res.sigma:.4g}; reduced chi-square {chi2}"
               + (f"; lengths in {res.units.label('length')}, times in {res.units.label('time')}" if unit else ""))
    click.echo(f"fit: {res.verdict}")


def _print_kernel(res, as_json: bool) -> None:
    d = res.to_dict()
    if as_json:
        click.echo(json.dumps(_json_safe(d), allow_nan=False))
        return
    import numpy as np

    click.echo(f"learned {'x'.join(map(str, res.kernel.shape))} kernel from {res.pairs} frame pairs, {res.cells} cells:")
    click.echo(np.array2string(res.kernel, precision=6, suppress_small=True, max_line_width=100))
    click.echo("standard errors:")
    click.echo(np.array2string(res.stderr, precision=2, max_line_width=100))
    click.echo(f"noise sigma {res.sigma:.4g}; sum {res.kernel.sum():.12g}; non-negativity "
               f"{'active' if res.constrained else 'not needed'}")
    click.echo(f"as a propagator: {res.reading['reading']}")


@cli.command(short_help="Undo a diffusion blur, regularised, and report the horizon of what is lost.")
@_data
@click.option("--time", "time_", type=float, callback=_finite, help="How long the picture diffused (default: "
              "fitted from the frames, the last one restored to the first one's time).")
@click.option("--diffusivity", type=float, callback=_finite, help="D of the blur (default: fitted from frames; with "
              "a single picture, 1, so that --time is D·t, said in a warning line).")
@click.option("--method", type=click.Choice(["wiener", "tikhonov"]), default="wiener", show_default=True)
@click.option("--sigma", type=float, callback=_finite, help="Noise level (default: measured on the modes the "
              "blur wiped out).")
@click.option("--var", help="The result's variable (default: its first method).")
@_dt
@_spacing_opt
@_boundary_opt
@click.option("--out", "out_file", type=click.Path(dir_okay=False), required=True,
              help="The restored picture: .png (grey levels) or .npy.")
@click.option("--figure", "figure_file", type=click.Path(dir_okay=False), help="A figure: blurred, restored, and "
              "the spectrum with its horizon.")
@click.option("--json", "as_json", is_flag=True, help="Print the numbers as JSON.")
def deblur(data, time_, diffusivity, method, sigma, var, dt, spacing, boundary, out_file, figure_file, as_json):
    """Restore DATA (a picture, a .npy field, or frames/a result whose last frame is restored) by inverting
    diffusion in the walls' basis."""
    import warnings

    import numpy as np

    from . import inverse
    from .grid import Grid
    from .inverse import deblur as D

    out = Path(out_file)
    if out.suffix.lower() not in (".png", ".npy"):
        raise _Failure(f"{out}: --out must end in .png or .npy")
    if figure_file:
        _check_figure_path(Path(figure_file))
    for name, v in (("--time", time_), ("--diffusivity", diffusivity), ("--sigma", sigma)):
        if v is not None and not v > 0:
            raise _Failure(f"{name} must be positive, got {v}")
    from .inverse.frames import is_dataset, read_frame

    if len(data) == 1 and not is_dataset(data[0]):
        p = Path(data[0])
        if not p.exists():
            raise _Failure(f"{p}: no such file")
        image = read_frame(p)
        if time_ is None:
            raise _Failure("--time is needed to deblur a single picture (or give frames to fit it from)")
        if diffusivity is None:
            warnings.warn("--diffusivity not given: D = 1, so --time is the blur's D·t (length²)", stacklevel=1)
            diffusivity = 1.0
        if boundary is None:
            warnings.warn("--boundary not given: reflecting walls (no flux through the picture's edges)", stacklevel=1)
        grid = Grid(image.shape, spacing=1.0 if spacing is None else spacing, boundary=boundary or "reflecting")
        length = ""
    else:
        frames = inverse.load(data, var=var, dt=dt, spacing=spacing, boundary=boundary)
        image, grid = frames.data[-1], frames.grid
        length = frames.units.label("length")
        if time_ is None:
            time_ = float(frames.intervals[-1])
        if diffusivity is None:
            diffusivity = float(inverse.fit(frames, "diffusivity").theta[0])
            click.echo(f"fitted D = {frames.units.text(diffusivity, 'diffusivity')} from {len(frames.data)} frames",
                       err=as_json)
    res = D.deblur(image, grid, diffusivity, time_, method, sigma)
    if out.suffix.lower() == ".npy":
        _atomic(out, lambda tmp: np.save(tmp, res.field))
    else:
        _write_png(out, res.field, image)
    if as_json:
        click.echo(json.dumps(_json_safe(res.to_dict()), allow_nan=False))
    else:
        click.echo(f"{method}: noise sigma {res.sigma:.4g}" + (f", lambda {res.regularisation:.3g} (GCV)"
                   if method == "tikhonov" and sigma is None else ""))
        if math.isfinite(res.horizon):
            click.echo(f"horizon: wavenumber {res.horizon:.4g} per {length or 'length unit'}; finer than "
                       f"{res.finest_scale:.4g} {length or 'length units'} is below the noise and lost")
        else:
            click.echo("horizon: none: the picture holds no noise, so every scale is restored (to round-off)")
    click.echo(f"restored: {out}", err=as_json)
    if figure_file:
        from .inverse import figures

        _save_figure(lambda: figures.deblur_figure(image, res, grid), Path(figure_file))
        click.echo(f"picture: {figure_file}", err=as_json)


def _write_png(path: Path, field, blurred) -> None:
    """Grey levels from 0 to 1 (the blurred picture's range when it leaves that), y up as read."""
    import warnings

    import numpy as np
    from PIL import Image

    lo, hi = (0.0, 1.0) if blurred.min() >= 0 and blurred.max() <= 1 else (float(blurred.min()), float(blurred.max()))
    scaled = (field - lo) / (hi - lo)
    out = np.clip(scaled, 0, 1)
    share = float(np.mean(out != scaled))
    if share > 0:
        warnings.warn(f"{100 * share:.2g} % of the restored values lie outside the picture's range "
                      f"[{lo:.4g}, {hi:.4g}] and are clipped in the PNG (the .npy keeps them)", stacklevel=2)
    img = Image.fromarray(np.flipud(np.round(out * 255)).astype(np.uint8), mode="L")
    _atomic(path, lambda tmp: img.save(tmp, format="PNG"))

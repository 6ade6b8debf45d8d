"""The ``physconv`` command line: parses arguments, calls the library, prints.

Bad input of any kind ends in one line ``error: ...`` on stderr and exit
status 2, with no traceback and no result file.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

import click

from . import __version__
from .errors import PhysconvError

class _Failure(Exception):
    def __init__(self, message, status=2):
        super().__init__(message)
        self.status = status


def main(argv=None) -> int:
    """Entry point: run the click group and turn every failure into one line."""
    try:
        cli.main(args=argv, prog_name="physconv", standalone_mode=False)
        return 0
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:  # usage errors, bad option values, missing arguments
        _error(exc.format_message())
        return 2
    except (click.Abort, KeyboardInterrupt):
        _error("interrupted; no result was written")
        return 130
    except (PhysconvError, _Failure) as exc:
        _error(str(exc))
        return getattr(exc, "status", 2)
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        _error(f"{where}{exc.strerror or exc}")
        return 2
    except Exception as exc:  # a defect, not bad input: still one line, but say so
        if os.environ.get("PHYSCONV_DEBUG"):
            raise
        _error(f"unexpected failure ({type(exc).__name__}: {exc}); set PHYSCONV_DEBUG=1 for details and report it")
        return 1


def _error(message: str) -> None:
    click.echo("error: " + " ".join(str(message).split()), err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="physconv")
def cli():
    """physconv: diffusion is convolution, checked numerically.

    A scenario (YAML) names a grid, walls, a diffusivity or a kernel, an initial
    field and the methods to compare. `physconv run` advances the field by each
    method, writes one result file, prints how far apart the methods are and
    draws them side by side.

    \b
    Start with:
      physconv list                       shipped scenarios, initial kinds, kernels
      physconv run salt_aquarium          run a shipped scenario (or a path to a .yaml)
      physconv plot outputs/salt_aquarium.nc --out picture.png
    """


_set_option = click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE",
                           help="Override a scenario key, e.g. --set grid.shape=[64,64] (repeatable).")


def _load(scenario, overrides, max_memory=None):
    from .scenario import load

    limit = None if max_memory is None else int(max_memory * 2**30)
    s = load(scenario, overrides, max_bytes=limit)
    for line in s.warnings:
        click.echo("warning: " + line, err=True)
    return s


@cli.command(short_help="Run a scenario; write its result, table and picture.")
@click.argument("scenario")
@click.option("--out", "out_dir", default="outputs", show_default=True, type=click.Path(file_okay=False),
              help="Folder for the result and its picture.")
@click.option("--format", "fmt", type=click.Choice(["netcdf", "zarr"]), default="netcdf", show_default=True)
@_set_option
@click.option("--plot/--no-plot", default=True, show_default=True, help="Also draw the result (PNG).")
@click.option("--quiet", is_flag=True, help="No progress bar and no table.")
@click.option("--max-memory", type=float, metavar="GIB", help="Refuse runs needing more memory (default: 80% of RAM).")
def run(scenario, out_dir, fmt, overrides, plot, quiet, max_memory):
    """Run SCENARIO (a .yaml file or a shipped name), write DIR/<name>.nc, print the comparison."""
    from . import io, metrics, runner

    s = _load(scenario, overrides, max_memory)
    out = io.check_writable(out_dir)
    target = io.result_path(out, s.name, fmt)
    ds = runner.run(s, progress=None if not quiet else False)
    io.write(ds, target, fmt)
    cmp = metrics.compare(ds) if plot or not quiet else None
    if not quiet:
        click.echo(f"{s.name}: {' x '.join(map(str, s.grid.shape))} cells, {s.time.steps} steps, "
                   f"methods: {', '.join(s.methods)}")
        click.echo(metrics.table(cmp))
    click.echo(f"result: {target}")
    if plot:
        picture = out / f"{s.name}.png"
        _save_figure(lambda: _plot_module().overview(ds, cmp), picture)
        click.echo(f"picture: {picture}")


@cli.command()
@click.argument("scenario")
@_set_option
def validate(scenario, overrides):
    """Check SCENARIO without running it."""
    s = _load(scenario, overrides)
    mib = s.memory_estimate() / 2**20
    click.echo(f"{s.source}: valid ({s.name}: {' x '.join(map(str, s.grid.shape))} cells, {s.time.steps} steps, "
               f"{s.frame_count()} frames, methods {', '.join(s.methods)}; about {mib:.0f} MiB)")


@cli.command()
@click.argument("result", type=click.Path())
@click.option("--json", "as_json", is_flag=True, help="Print the comparison as JSON.")
def compare(result, as_json):
    """Print how far apart the methods in RESULT are."""
    from . import io, metrics

    cmp = metrics.compare(io.open_result(result))
    if as_json:
        click.echo(json.dumps(cmp.to_dict(data="list"), default=str))
    else:
        click.echo(metrics.table(cmp))


PLOTS = ("overview", "snapshots", "differences", "errors", "profiles", "spacetime", "kernel")
_scale_option = click.option("--scale", type=click.Choice(["auto", "linear", "per-frame", "log"]), default="auto",
                             show_default=True, help="Colour scale of the maps: auto picks per-frame when the "
                                                     "field's peak changes more than 10x (a point source).")


@cli.command(short_help="Draw a result (snapshots, differences, errors, profiles, kernel, ...).")
@click.argument("result", type=click.Path())
@click.option("--out", "out_file", type=click.Path(dir_okay=False), help="PNG file (default: next to RESULT).")
@click.option("--kind", type=click.Choice(PLOTS), default="overview", show_default=True)
@click.option("--pair", metavar="A-B", help="Methods to subtract for --kind differences (default: the first pair).")
@_scale_option
def plot(result, out_file, kind, pair, scale):
    """Draw RESULT: snapshots, differences, errors over time, profiles, space-time, or the step kernel
    and its n-step convolution power beside the heat kernel."""
    from . import io, metrics

    ds = io.open_result(result)
    P = _plot_module()
    out = Path(out_file) if out_file else Path(result).with_name(f"{Path(result).stem}-{kind}.png")

    def make():
        if kind == "overview":
            return P.overview(ds, scale=scale)
        if kind == "snapshots":
            return P.snapshots(ds, scale=scale)
        if kind == "differences":
            methods = metrics.methods_of(ds)
            a, b = pair.split("-", 1) if pair else next(((p[0], p[1]) for p in metrics.pairs(methods)), (None, None))
            if a not in ds or b not in ds:
                raise _Failure(f"{result}: --pair needs two methods of the result ({', '.join(methods)})")
            return P.differences(ds, a, b)
        if kind == "errors":
            return P.errors(ds).figure
        if kind == "profiles":
            return P.profiles(ds).figure
        if kind == "spacetime":
            if ds["initial"].ndim != 1:
                raise _Failure(f"{result}: a space-time picture needs a 1-D result")
            return P.spacetime(ds).figure
        from .plot_kernel import scenario_kernel_figure

        return scenario_kernel_figure(ds)

    _save_figure(make, out)
    click.echo(f"picture: {out}")


@cli.command()
@click.argument("result", type=click.Path())
@click.option("--out", "out_file", type=click.Path(dir_okay=False), help="GIF file (default: next to RESULT).")
@click.option("--fps", default=4, show_default=True, type=click.IntRange(1, 60))
@_scale_option
def animate(result, out_file, fps, scale):
    """Make a GIF of the methods in RESULT side by side over time."""
    from . import io

    ds = io.open_result(result)
    out = Path(out_file) if out_file else Path(result).with_suffix(".gif")
    _atomic(out, lambda tmp: _plot_module().animate(ds, tmp, fps=fps, scale=scale))
    click.echo(f"animation: {out}")


@cli.command(name="list", short_help="Shipped scenarios, initial-field kinds, named kernels.")
def list_():
    """List the shipped scenarios, the initial-field kinds and the named kernels."""
    import yaml

    from .initial import KINDS
    from .kernels import NAMES

    from .scenario import SHIPPED

    click.echo("shipped scenarios (physconv run NAME):")
    for p in sorted(SHIPPED.glob("*.yaml")):
        desc = (yaml.safe_load(p.read_text()) or {}).get("description", "")
        click.echo(f"  {p.stem:<24}{desc}")
    click.echo("initial kinds: " + ", ".join(KINDS))
    click.echo("named kernels: " + ", ".join(NAMES))
    click.echo("methods: explicit, implicit, spectral, gaussian, monte_carlo")


@cli.command()
def schema():
    """Print the JSON schema of scenario files."""
    from .scenario import json_schema

    click.echo(json.dumps(json_schema(), indent=2))


def _plot_module():
    import matplotlib

    matplotlib.use("Agg")
    from . import plot as P

    return P


def _save_figure(make, path: Path) -> None:
    _atomic(path, lambda tmp: make().savefig(tmp, dpi=100, format=path.suffix.lstrip(".") or "png"))


def _atomic(path: Path, write) -> None:
    """Write a file through a temporary name in the same folder (created if needed), then rename it into
    place with the mode a new file gets (``0666`` less the umask), as the result files have."""
    from .io import check_writable

    path = Path(path)
    check_writable(path.parent)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.tmp-", suffix=path.suffix)
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

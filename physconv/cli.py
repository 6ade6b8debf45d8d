"""The ``physconv`` command line: parses arguments, calls the library, prints.

Bad input of any kind ends in one line ``error: ...`` on stderr and exit
status 2, with no traceback and no result file.
"""

from __future__ import annotations

import gc
import json
import math
import os
import shutil
import signal
import sys
import tempfile
import threading
import warnings
from pathlib import Path

import click

from . import __version__
from .errors import PhysconvError

class _Failure(Exception):
    def __init__(self, message, status=2):
        super().__init__(message)
        self.status = status


LOAD_WHOLE_BELOW = 256 * 2**20  # results up to this size are read back at once for the table and picture
_WRITTEN: list[str] = []  # files this command has put in place, for the message after an interrupt


def main(argv=None) -> int:
    """Entry point: run the click group and turn every failure into one line.

    SIGTERM is handled like Ctrl-C (clean-up runs, nothing half-written stays),
    with exit status 143 instead of 130. Python warnings are printed as one
    line each, ``warning: ...``.
    """
    from . import _interrupt  # the handlers first: a Ctrl-C while the libraries load is an interrupt too
    from ._interrupt import Terminated

    _WRITTEN.clear()
    _interrupt.clear()
    previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    if threading.current_thread() is threading.main_thread():
        for s in previous:
            signal.signal(s, _interrupt.handler)
    previous_hook = sys.unraisablehook
    sys.unraisablehook = _unraisable
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("default")
            # a file left open by code an interrupt cut short (an import reading its .pyc) is no news to a user
            warnings.simplefilter("ignore", ResourceWarning)
            warnings.showwarning = _warning_line
            cli.main(args=argv, prog_name="physconv", standalone_mode=False)
        return 0
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.exceptions.NoArgsIsHelpError as exc:  # `physconv` or a group alone: its help, as --help prints it
        click.echo(exc.ctx.get_help())
        return 0
    except click.ClickException as exc:  # usage errors, bad option values, missing arguments
        _error(exc.format_message())
        return 2
    except (click.Abort, KeyboardInterrupt) as exc:
        terminated = isinstance(exc, Terminated) or isinstance(exc.__context__, Terminated)  # click wraps it
        done = f"written before it: {', '.join(_WRITTEN)}" if _WRITTEN else "nothing was written"
        _error(f"{'terminated' if terminated else 'interrupted'}; {done}")
        return 143 if terminated else 130
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
    finally:
        sys.unraisablehook = previous_hook
        if threading.current_thread() is threading.main_thread():
            for s, h in previous.items():
                signal.signal(s, h)


def _unraisable(info) -> None:
    """An exception raised where it cannot propagate (a C library's callback): an interrupt is already
    recorded and honoured at the next chunk; anything else becomes one warning line."""
    if isinstance(info.exc_value, KeyboardInterrupt):
        return
    _warning_line(f"ignored in {getattr(info.object, '__qualname__', info.object)!s}: "
                  f"{type(info.exc_value).__name__}: {info.exc_value}", None, "", 0)


def entry() -> None:
    """The ``physconv`` command: :func:`main`, then exit with its status.

    After an interrupt (130) or SIGTERM (143) the streams are flushed and the process exits at once with
    that status: the clean-up has run, and nothing left at interpreter shutdown (a library that printed
    the interrupt, or a second signal) can turn the exit into death by signal.
    """
    _SETTLE[0] = True
    gc.set_threshold(*GC_THRESHOLDS)
    code = main()
    gc.freeze()  # the interpreter's last collections would walk every object the libraries made (0.5 s)
    if code in (130, 143):
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        os._exit(code)
    sys.exit(code)


_SEEN_WARNINGS: set = set()


def _warning_line(message, category, filename, lineno, file=None, line=None) -> None:
    text = " ".join(str(message).split())
    if text not in _SEEN_WARNINGS:
        _SEEN_WARNINGS.add(text)
        click.echo(f"warning: {text}", err=True)


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


def _finite(ctx, param, value):
    if value is not None and not math.isfinite(value):
        raise click.BadParameter(f"{value} is not a finite number", ctx=ctx, param=param)
    return value


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
@click.option("--max-memory", type=click.FloatRange(0, 1e6, min_open=True), metavar="GIB", callback=_finite, help="Refuse runs needing more memory (default: 80% of RAM).")
def run(scenario, out_dir, fmt, overrides, plot, quiet, max_memory):
    """Run SCENARIO (a .yaml file or a shipped name), write DIR/<name>.nc, print the comparison."""
    from . import io, metrics, runner

    s = _load(scenario, overrides, max_memory)
    _settle()
    out = io.check_writable(out_dir)
    target = io.result_path(out, s.name, fmt)
    picture = out / f"{s.name}.png"
    io.check_replaceable(target)  # everything this run will write is checked before it computes
    size, free = s.file_size(), shutil.disk_usage(out).free
    if size > free:
        raise _Failure(f"{s.source}: time.save_every: the result needs about {size / 2**30:.1f} GiB but "
                       f"{out} has {free / 2**30:.1f} GiB free; save fewer frames or write elsewhere (--out)")
    if plot:
        _check_figure_path(picture)
    whole = size <= LOAD_WHOLE_BELOW
    with io.staged(target) as tmp:  # frames go to the file as they are reached; renamed into place at the end
        with runner.run(s, progress=None if not quiet else False, store=tmp) as written:
            ds = written.load() if whole else None  # a small result is read back at once, before the rename
    _WRITTEN.append(str(target))
    with ds if whole else io.open_result(target, lazy=True) as ds:  # else a frame at a time as it is used
        cmp = metrics.compare(ds) if plot or not quiet else None
        if not quiet:
            click.echo(f"{s.name}: {_span(s)}, methods: {', '.join(s.methods)}")
            click.echo(metrics.table(cmp))
        click.echo(f"result: {target}")
        if plot:
            _save_figure(lambda: _plot_module().overview(ds, cmp), picture)
            click.echo(f"picture: {picture}")


def _span(s) -> str:
    from .units import span

    return span(s.grid.shape, s.grid.spacing, s.time.steps, s.time.dt, s.unit_system())


@cli.command()
@click.argument("scenario")
@_set_option
def validate(scenario, overrides):
    """Check SCENARIO without running it."""
    s = _load(scenario, overrides)
    mib = s.memory_estimate() / 2**20
    click.echo(f"{s.source}: valid ({s.name}: {_span(s)}, {s.frame_count()} frames, methods {', '.join(s.methods)}; "
               f"about {mib:.0f} MiB)")


@cli.command()
@click.argument("result", type=click.Path())
@click.option("--json", "as_json", is_flag=True, help="Print the comparison as JSON.")
def compare(result, as_json):
    """Print how far apart the methods in RESULT are."""
    from . import io, metrics

    from . import sweep

    if sweep.is_store(result):
        store, marks, damaged = _open_store(result)
        if sweep.kind_of(store) == "ensemble":
            from . import ensemble

            _check_reduced(result, store)
            click.echo(json.dumps(_json_safe(ensemble.summary(store)), allow_nan=False) if as_json
                       else ensemble.table(store))
        elif as_json:  # the comparison of every variant, not the fields
            import xarray as xr

            keep = [v for v in sweep.COMPARE_VARS + ("time", "step", "scale") if v in store]
            dims = tuple(d for _, d in sweep.axes_of(store))
            good = xr.DataArray(marks != 0, dims=dims)  # damaged or unfinished variants: null, never values
            out = store[keep].where(good).load()
            out["done"] = (dims, marks)
            click.echo(json.dumps(_json_safe(out.to_dict(data="list")), default=str, allow_nan=False))
        else:
            click.echo(sweep.table(store, marks, damaged))
        return
    cmp = metrics.compare(io.open_result(result))
    if as_json:
        click.echo(json.dumps(_json_safe(cmp.to_dict(data="list")), default=str, allow_nan=False))
    else:
        click.echo(metrics.table(cmp))


def _open_store(result):
    """A sweep or ensemble store with its done-marks and damaged variants (a warning line names them)."""
    from . import sweep

    store = sweep.open_sweep(result)
    marks, damaged = sweep.state(result, store)
    if damaged:
        index, what = next(iter(damaged.items()))
        label = " ".join(f"{key}={sweep._coord(store[d][i])}" for (key, d), i in zip(sweep.axes_of(store), index))
        click.echo(f"warning: {result}: {len(damaged)} finished variant(s) damaged, shown as not done (first: "
                   f"{label}: {what}); re-running the sweep redoes exactly those", err=True)
    return store, marks, damaged


def _check_reduced(result, store) -> None:
    from . import ensemble

    if not ensemble.is_reduced(store):
        raise _Failure(f"{result}: the ensemble's replicas are not all done (re-run the same "
                       "`physconv sweep ... --replicas R` command to finish and reduce them)")


def _report_ensemble(r: dict) -> None:
    from . import ensemble

    pairs = ", ".join(f"R={n}: {e:.3e} ({p:.3e})" for n, e, p in zip(r["used"], r["rel_l2"], r["spread"]))
    click.echo(f"ensemble mean vs exact expectation (relative L2, last frame; in brackets what the replicas' "
               f"spread predicts, spread/sqrt(R)): {pairs}")
    click.echo(ensemble.slope_line(r["slope"]))


@cli.command(short_help="Run every combination of some keys' values (or Monte Carlo replicas) on Dask.")
@click.argument("scenario")
@click.option("--set", "axes", multiple=True, metavar="KEY=V1,V2,...",
              help="Sweep KEY over the values (YAML); or KEY=START:STOP:NUM (evenly spaced, ends included), "
                   "KEY=START:STOP:NUM:log (geometric). Repeat for more keys: every combination runs.")
@click.option("--replicas", type=click.IntRange(2, 100_000), help="Run the Monte Carlo method R times "
              "(SeedSequence(seed).spawn(R)) and reduce to mean, std and standard error per cell.")
@click.option("--out", "out_path", type=click.Path(), help="Zarr store (default: outputs/<name>-sweep.zarr "
              "or outputs/<name>-ensemble.zarr). Re-running the same command resumes it.")
@click.option("--workers", type=click.IntRange(1, 4096), help="Processes of the local cluster (default: one per core).")
@click.option("--scheduler", metavar="ADDRESS", help="Use a running dask scheduler, e.g. tcp://10.0.0.5:8786.")
@click.option("--timeout", type=click.FloatRange(0.1, 86400), default=30, show_default=True, metavar="SECONDS",
              help="With --scheduler: how long to wait for it to answer and to have a worker.")
@click.option("--max-memory", type=click.FloatRange(0, 1e6, min_open=True), metavar="GIB", callback=_finite,
              help="Refuse variants needing more memory than this each (default: 80% of RAM, shared among the "
                   "local workers).")
def sweep(scenario, axes, replicas, out_path, workers, scheduler, timeout, max_memory):
    """Run SCENARIO for every combination of the --set values, one task per variant, on a local Dask
    cluster or the scheduler at --scheduler; write them to one Zarr store with one dimension per key.

    \b
    Example:
      physconv sweep diffusion_1d --set diffusivity=0.001,0.002 --set time.dt=0.25,0.5
      physconv sweep salt_aquarium --replicas 16 --set monte_carlo.particles=100000
      physconv compare outputs/diffusion_1d-sweep.zarr
    """
    from . import cluster, ensemble
    from . import sweep as sw
    from ._interrupt import check

    if workers and scheduler is not None:
        raise _Failure("give --workers (a local cluster) or --scheduler (a running one), not both")
    if scheduler is not None:
        scheduler = cluster.scheduler_address(scheduler)
    n = workers or (os.cpu_count() or 1)
    if max_memory is not None:
        limit = int(max_memory * 2**30)
    else:  # a local cluster shares the machine's memory among its workers; a remote one: as for run
        from .scenario import _default_max_bytes

        limit = _default_max_bytes() if not scheduler else None  # per variant, checked per worker below
    if out_path:  # refused before the variants are validated (that can take minutes)
        if Path(out_path).exists() and not sw.is_store(out_path):
            raise _Failure(f"{out_path}: exists and is not a physconv sweep store; choose another --out")
        if not Path(out_path).exists():
            from .io import check_writable

            check_writable(Path(out_path).parent)
    parsed = [sw.parse_axis(a) for a in axes]
    count = replicas or math.prod(len(a.values) for a in parsed)
    if count > sw.MAX_VARIANTS:
        raise _Failure(f"{count} variants; a sweep has at most {sw.MAX_VARIANTS}")
    if count >= 1000:
        click.echo(f"validating {count} variants", err=True)
    if replicas:
        fixed = [a for a in parsed if len(a.values) > 1]
        if fixed:
            raise _Failure(f"--set {fixed[0].key}: an ensemble takes single values only (one scenario, R replicas)")
        p = sw.plan_ensemble(scenario, replicas, [f"{a.key}={sw._text(a.values[0])}" for a in parsed], limit,
                             held=bool(scheduler))
    else:
        if not parsed:
            raise _Failure("give at least one --set KEY=V1,V2,... to sweep (or --replicas R)")
        p = sw.plan(scenario, parsed, max_bytes=limit, held=bool(scheduler))  # local workers write to the store
    if max_memory is None and not scheduler and limit is not None:  # the machine's memory shared by the workers
        need = max(v.scenario.memory_estimate(held=False) for v in p.variants[:1000])
        if need * n > limit:
            fit = max(1, limit // need)
            raise _Failure(f"--workers {n}: the local workers share {limit / 2**30:.1f} GiB ({limit / n / 2**30:.2f} "
                           f"GiB each) and a variant needs about {need / 2**30:.2f} GiB; use --workers {fit} or fewer"
                           if workers else f"a variant needs about {need / 2**30:.2f} GiB and {n} local workers (one "
                           f"per core) share {limit / 2**30:.1f} GiB; use --workers {fit}")
    name = p.variants[0].scenario.name
    store = Path(out_path) if out_path else Path("outputs") / f"{name}-{'ensemble' if replicas else 'sweep'}.zarr"
    damaged: dict = {}
    todo, done = sw.pending(store, p, create=False, damaged=damaged)  # refuses another input before a cluster starts
    if damaged:
        label, what = next(iter(damaged.items()))
        click.echo(f"warning: {store}: {len(damaged)} finished variant(s) damaged, run again (first: {label}: {what})",
                   err=True)
    local = not scheduler
    if not todo:
        click.echo(f"result: {store} (all {len(done)} variants were done before)")
        if replicas:
            _report_ensemble(ensemble.reduce(store, p))
        return
    say = lambda line: click.echo(line, err=True)  # noqa: E731
    say(f"{'starting a local cluster of ' + str(n) + ' workers' if local else 'connecting to ' + scheduler}")
    client = cluster.connect(n if local else None, scheduler, timeout, say)
    _WRITTEN.append(f"{store} (finished variants; the same command resumes)")
    try:
        threads = max(1, (os.cpu_count() or 1) // n) if local else None
        outcome = sw.run(p, store, client, say=say, threads=threads, poll=check)
    finally:
        cluster.close(client, local, hurry=sys.exc_info()[0] is not None)
    click.echo(f"result: {store} ({len(outcome.ran)} run now, {len(outcome.skipped)} done before, "
               f"{len(outcome.failed)} failed)")
    if replicas and not outcome.failed:
        _report_ensemble(ensemble.reduce(store, p))
    if outcome.failed:
        for label, message in outcome.failed.items():
            click.echo(f"error: variant {label}: {message}", err=True)
        raise _Failure(f"{len(outcome.failed)} of {len(p.variants)} variants failed; the others are in {store}; "
                       "re-run the same command to retry only those", status=1)


PLOTS = ("overview", "snapshots", "differences", "errors", "profiles", "spacetime", "kernel", "propagator",
         "homogenised")
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
    """Draw RESULT: snapshots, differences, errors over time, profiles, space-time, the step kernel
    and its n-step convolution power beside the heat kernel, the n-step propagator from several cells
    (propagator: where one kernel ends), or a medium's large-scale diffusivity (homogenised: D_eff)."""
    from . import io, metrics, sweep

    if sweep.is_store(result):
        _plot_store(result, out_file, kind)
        return
    ds = io.open_result(result)
    P = _plot_module()
    out = Path(out_file) if out_file else Path(result).with_name(f"{Path(result).stem}-{kind}.png")
    _check_figure_path(out)

    def make():
        if kind == "overview":
            return P.overview(ds, scale=scale)
        if kind == "snapshots":
            return P.snapshots(ds, scale=scale)
        if kind == "differences":
            methods = metrics.methods_of(ds)
            a, b = pair.split("-", 1) if pair and "-" in pair else (
                next(((p[0], p[1]) for p in metrics.pairs(methods)), (None, None)) if not pair else (pair, None))
            if a not in methods or b not in methods:
                raise _Failure(f"{result}: --pair takes two methods of the result as A-B "
                               f"({', '.join(methods)}), got {pair or 'no pair'}")
            return P.differences(ds, a, b)
        if kind == "errors":
            return P.errors(ds)
        if kind == "profiles":
            return P.profiles(ds)
        if kind == "spacetime":
            if ds["initial"].ndim != 1:
                raise _Failure(f"{result}: a space-time picture needs a 1-D result")
            return P.spacetime(ds)
        if kind in ("propagator", "homogenised") and "diffusivity" not in ds.attrs and "medium" not in ds.attrs:
            raise _Failure(f"{result}: a kernel's result has one propagator, the kernel's n-step power: "
                           "--kind kernel draws it")
        if kind == "propagator":
            from .plot_medium import propagator

            return propagator(ds)
        if kind == "homogenised":
            return _homogenised(ds, result)
        from .plot_kernel import scenario_kernel_figure

        return scenario_kernel_figure(ds)

    _save_figure(make, out)
    click.echo(f"picture: {out}")


def _homogenised(ds, result):
    """The D_eff figure, its numbers said on stdout."""
    from .medium import MediumError
    from .plot_medium import _list, _pm, homogenised

    try:
        fig, est, exact = homogenised(ds)
    except MediumError as exc:
        raise _Failure(f"{result}: {exc}") from None
    D = ds["diffusivity_field"].values[:, ds["solid"].values == 0].mean(axis=1) if "diffusivity_field" in ds \
        else [float(ds.attrs["diffusivity"])] * ds["initial"].ndim
    click.echo(f"D_eff per axis = {_pm(est.diffusivity, est.stderr)} (walkers, standard errors; exact lattice "
               f"{_list(exact)}); D of the fluid = {_list(D)}")
    return fig


def _plot_store(result, out_file, kind) -> None:
    """The one picture of a sweep store (each pair's error against the swept values) or of an ensemble
    store (mean, standard error and the error against R)."""
    from . import plot_stores, sweep

    store, marks, _ = _open_store(result)
    what = sweep.kind_of(store)
    if what == "sweep":  # damaged or unfinished variants are drawn as gaps, never as values
        import xarray as xr

        store = store.where(xr.DataArray(marks != 0, dims=tuple(d for _, d in sweep.axes_of(store))))
    if kind != "overview":
        raise _Failure(f"{result}: a {what} store has one picture (--kind overview), not --kind {kind}")
    if what == "ensemble":
        _check_reduced(result, store)
    out = Path(out_file) if out_file else Path(result).with_name(f"{Path(result).stem}-{what}.png")
    _check_figure_path(out)
    missing = int((marks == 0).sum())
    _save_figure(lambda: plot_stores.ensemble(store) if what == "ensemble" else plot_stores.sweep(store, missing), out)
    click.echo(f"picture: {out}")


@cli.command()
@click.argument("result", type=click.Path())
@click.option("--out", "out_file", type=click.Path(dir_okay=False), help="GIF file (default: next to RESULT).")
@click.option("--fps", default=4, show_default=True, type=click.IntRange(1, 60))
@_scale_option
def animate(result, out_file, fps, scale):
    """Make a GIF of the methods in RESULT side by side over time."""
    from . import io, sweep

    if sweep.is_store(result):
        raise _Failure(f"{result}: a {sweep.kind_of(sweep.open_sweep(result))} store; `physconv plot {result}` "
                       "draws it (animate takes the result of one `physconv run`)")
    ds = io.open_result(result)
    out = Path(out_file) if out_file else Path(result).with_suffix(".gif")
    _check_figure_path(out, (".gif",))
    _atomic(out, lambda tmp: _plot_module().animate(ds, tmp, fps=fps, scale=scale))
    click.echo(f"animation: {out}")


@cli.command(short_help="Run one of the article's experiments: its numbers, its figure.")
@click.argument("name", type=click.Choice(["spectrum", "lowpass", "correlate", "edge", "measurement", "arma",
                                           "convergence"]))
@click.argument("scenario", required=False)
@click.option("--out", "out_file", type=click.Path(dir_okay=False), help="Figure file (default: insight-NAME.png).")
@click.option("--json", "as_json", is_flag=True, help="Print the numbers as JSON.")
@click.option("--image", type=click.Path(dir_okay=False), help="A picture of your own (spectrum, lowpass, edge, "
                                                               "measurement).")
@click.option("--levels", type=click.IntRange(2, 6), default=3, show_default=True,
              help="Refinement levels (convergence).")
@_set_option
def insight(name, scenario, out_file, as_json, image, levels, overrides):
    """Run the experiment NAME; print its key numbers and draw its figure.

    \b
      spectrum     orientation lives in the spectrum
      lowpass      the circle in the Fourier domain; diffusion as the soft mask
      correlate    cross-correlation is a flipped convolution; template matching
      edge         the edge detector is one step of diffusion
      measurement  one random neighbour per pixel, averaged: error ~ 1/sqrt(K)
      arma         moving-average and autoregressive series are convolutions
      convergence  SCENARIO refined: measured orders against theory
    """
    from .insights import get

    if (scenario is not None or overrides) and name != "convergence":
        raise _Failure(f"insight {name} takes no scenario (only convergence does)")
    if image is not None and name not in ("spectrum", "lowpass", "edge", "measurement"):
        raise _Failure(f"insight {name} takes no --image")
    if image is not None and not Path(image).exists():
        raise _Failure(f"{image}: no such picture")
    if image is not None and not Path(image).is_file():
        raise _Failure(f"{image}: not a regular file (a folder, a pipe or a device); give a picture file")
    out = Path(out_file) if out_file else Path(f"insight-{name}.png")
    _check_figure_path(out)
    module = get(name)
    try:
        if name == "convergence":
            numbers, fig = module.insight(scenario or "diffusion_1d", levels, overrides,
                                          say=lambda line: click.echo(line, err=True))
        elif image is not None:
            numbers, fig = module.insight(image=image)
        else:
            numbers, fig = module.insight()
    except ValueError as exc:
        raise _Failure(f"{name}: {exc}") from None
    _print_numbers(numbers, as_json)
    _save_figure(lambda: fig, out)
    click.echo(f"picture: {out}", err=as_json)


@cli.command(short_help="What does this kernel do? Read any kernel as a propagator and as a filter.")
@click.argument("spec")
@click.option("--normalize", type=click.Choice(["softmax", "sum", "none"]), default=None,
              help="How the weights become probabilities. Default: probabilities as given, other non-negative "
                   "weights divided by their sum, signed weights by softmax (said in a warning line); "
                   "--temperature alone asks for softmax.")
@click.option("--temperature", type=click.FloatRange(0, 1e300, min_open=True), default=None,
              callback=_finite, help="Softmax temperature (default 1).")
@click.option("--out", "out_file", type=click.Path(dir_okay=False), help="Figure file (default: no figure).")
@click.option("--json", "as_json", is_flag=True, help="Print everything as JSON.")
def kernel(spec, normalize, temperature, out_file, as_json):
    """Explain SPEC, a named kernel (edge, sharpen, box, ...) or a nested list such as
    "[[0,-1,0],[-1,5,-1],[0,-1,0]]": probabilities, drift, covariance, D_eff, isotropy, frequency response."""
    from . import kernels
    from .insights import kernel as K

    w = K.parse(spec)
    if normalize is None and temperature is not None:
        normalize = "softmax"
    temperature = 1.0 if temperature is None else temperature
    if out_file:
        _check_figure_path(Path(out_file))
    info = K.explain(w, normalize, temperature)
    normalize = info["normalize"]
    if info["warning"]:
        click.echo(f"warning: {spec}: {info['warning']} (choose with --normalize none, sum or softmax)", err=True)
    if as_json:
        click.echo(json.dumps(_json_safe(info), allow_nan=False))
    else:
        import numpy as np

        p = np.asarray(info["probabilities"])
        click.echo(f"probabilities ({kernels.describe(normalize, temperature)}):")
        click.echo(np.array2string(p, precision=5, suppress_small=False, max_line_width=100))
        click.echo(f"drift {np.round(info['drift'], 6).tolist()}  covariance {np.round(info['covariance'], 6).tolist()}")
        click.echo(f"D_eff per axis {np.round(info['D_eff'], 6).tolist()}  anisotropy {100 * info['anisotropy']:.2f} %")
        for label, f in info["frequency_response"].items():
            nyq = ", ".join(f"{k} {v:.4g}" for k, v in f["gain_at_nyquist"].items())
            click.echo(f"{label}: {f['kind']}; gain {f['gain_at_zero']:.4g} at k = 0; at Nyquist: {nyq}")
        click.echo(info["reading"])
    if out_file:
        _save_figure(lambda: K.figure(w, normalize, temperature), Path(out_file))
        click.echo(f"picture: {out_file}", err=as_json)


def _print_numbers(numbers: dict, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(_json_safe(numbers), allow_nan=False, default=float))
        return
    for key, value in numbers.items():
        if isinstance(value, list) and value and isinstance(value[0], dict):
            click.echo(f"{key}:")
            for row in value:
                click.echo("  " + "  ".join(f"{k} {_fmt(v)}" for k, v in row.items()))
        elif isinstance(value, dict):
            click.echo(f"{key}: " + ", ".join(f"{k} {_fmt(v)}" for k, v in value.items()))
        else:
            click.echo(f"{key}: {_fmt(value)}")


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.6g}"
    if isinstance(v, list):
        return "[" + ", ".join(_fmt(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k} {_fmt(x)}" for k, x in v.items()) + "}"
    return str(v)


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

    _settle()
    return P


_SETTLE: list[bool] = [False]  # set by :func:`entry`: the process ends with the command
# The command's collector runs after 100 000 new objects, not Python's 700: importing the libraries and
# drawing a picture made 500 young and 3 full collections (0.13 s); a young generation this size holds
# about 10 MB.
GC_THRESHOLDS = (100_000, 20, 100)


def _settle() -> None:
    """In the ``physconv`` command, take the objects made so far (modules, mostly, just imported) out of
    the garbage collector's walks: each full collection would walk them all again (0.3 s over a small
    run); and let xarray answer whether an array is a dask array without importing dask until one can
    exist (:mod:`physconv._lazy_dask`, 0.2-0.3 s). Not when :func:`main` is called from a longer-lived
    program, whose garbage would stay and whose libraries are its own."""
    if _SETTLE[0]:
        from . import _lazy_dask

        _lazy_dask.defer()
        gc.freeze()


FIGURE_SUFFIXES = (".png", ".pdf", ".svg", ".jpg", ".jpeg", ".webp", ".tif", ".tiff", ".eps", ".ps")


def _check_figure_path(path: Path, suffixes=FIGURE_SUFFIXES) -> None:
    """Refuse, before any work, a picture name of an unknown kind or one that a folder holds."""
    path = Path(path)
    if path.suffix.lower() not in suffixes:
        raise _Failure(f"{path}: the picture's name must end in {', '.join(suffixes)}")
    if path.is_dir() or (path.exists() and not path.is_file()):
        raise _Failure(f"{path}: something other than a file is in the way; it is left as it is")
    from .io import check_writable

    check_writable(path.parent)


def _json_safe(value):
    """NaN and infinities become null (JSON has no such numbers)."""
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


PNG_COMPRESSION = 3  # zlib level: half the encoding time of the default 6, files about 10 % larger


def _save_figure(make, path: Path) -> None:
    kind = path.suffix.lstrip(".").lower() or "png"
    extra = {"pil_kwargs": {"compress_level": PNG_COMPRESSION}} if kind == "png" else {}
    _atomic(path, lambda tmp: make().savefig(tmp, dpi=100, format=kind, **extra))


def _atomic(path: Path, write) -> None:
    """Write a file through a temporary name in the same folder (created if needed), then rename it into
    place with the mode a new file gets (``0666`` less the umask), as the result files have."""
    from .io import check_writable

    path = Path(path)
    check_writable(path.parent)
    from .io import remove_stale

    remove_stale(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.tmp-{os.getpid()}-", suffix=path.suffix)
    os.close(fd)
    try:
        from .io import deferred_signals

        write(tmp)
        with deferred_signals() as caught:
            if not caught:
                os.chmod(tmp, 0o666 & ~_umask())
                os.replace(tmp, path)
                _WRITTEN.append(str(path))
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


from . import cli_inverse  # noqa: E402,F401  (registers fit and deblur on the group)

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

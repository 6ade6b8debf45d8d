"""Sweeps and ensembles on dask.distributed: one resumable store, the same numbers as runs one by one."""

import contextlib
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from physconv import cli, cluster, ensemble, runner, scenario, sweep
from physconv.montecarlo import lattice

from .test_scenario import BASE

SWEEP_BASE = BASE.replace("particles: 1000", "particles: 3000")


def _write(tmp_path, text=SWEEP_BASE):
    p = tmp_path / "tiny.yaml"
    p.write_text(text)
    return p


# --- what the command line accepts -------------------------------------------------------------------

@pytest.mark.parametrize("item,values", [
    ("diffusivity=0.1,0.2", (0.1, 0.2)),
    ("boundary=periodic, reflecting", ("periodic", "reflecting")),
    ("chunks=[4,5],[6,5]", ([4, 5], [6, 5])),
    ("time.steps=10:40:4", (10, 20, 30, 40)),
    ("kernel.temperature=1:100:3:log", (1, 10, 100)),
    ("diffusivity=0.1:0.2:3", (0.1, 0.15000000000000002, 0.2)),
    ("diffusivity=0.01:1:3:log", (0.01, 0.1, 1.0)),
])
def test_axes_take_lists_and_ranges(item, values):
    axis = sweep.parse_axis(item)
    assert axis.key == item.split("=")[0]
    assert axis.values == pytest.approx(values) if not isinstance(values[0], (str, list)) else axis.values == values


@pytest.mark.parametrize("item,message", [
    ("diffusivity", "expected KEY=V1,V2"), ("=1,2", "expected KEY"), ("diffusivity=0.1,,0.2", "empty value"),
    ("diffusivity=0.1,0.1", "given twice"),
    ("diffusivity=0:1:0", "from 1 to"), ("diffusivity=0:1:3:log", "positive ends"),
    ("time.steps=5:5:3", "whole-number values repeat"), ("diffusivity=0:1:3:cubic", "'log'")])
def test_bad_axes_are_named(item, message):
    with pytest.raises(sweep.SweepError, match=message):
        sweep.parse_axis(item)


def test_every_variant_is_validated_before_anything_runs(tmp_path):
    path = _write(tmp_path)
    with pytest.raises(scenario.ScenarioError, match=r"variant diffusivity=a:b:3: .*diffusivity"):
        sweep.plan(path, [sweep.parse_axis("diffusivity=a:b:3")])  # text with colons is a value, not a range
    with pytest.raises(scenario.ScenarioError, match=r"variant diffusivity=0.9: .*time.dt.*unstable"):
        sweep.plan(path, [sweep.parse_axis("diffusivity=0.1,0.9")])
    with pytest.raises(sweep.SweepError, match=r"variant grid.shape=\[8, 8\]: changes the result's grid shape"):
        sweep.plan(path, [sweep.parse_axis("grid.shape=[12,10],[8,8]")])
    assert cli.main(["sweep", str(path), "--set", "diffusivity=0.1,0.9", "--out", str(tmp_path / "s.zarr")]) == 2
    assert not (tmp_path / "s.zarr").exists()


# --- results ---------------------------------------------------------------------------------------

def test_a_sweep_equals_its_variants_run_one_by_one(tmp_path, client, capsys):
    path = _write(tmp_path)
    p = sweep.plan(path, [sweep.parse_axis("diffusivity=0.1,0.2"), sweep.parse_axis("monte_carlo.seed=3,5")])
    out = sweep.run(p, tmp_path / "s.zarr", client, say=lambda line: None)
    assert len(out.ran) == 4 and not out.failed
    store = sweep.open_sweep(tmp_path / "s.zarr")
    assert dict(store.sizes)["diffusivity"] == 2 and dict(store.sizes)["monte_carlo_seed"] == 2
    for D in (0.1, 0.2):
        for seed in (3, 5):
            alone = runner.run(scenario.load(path, [f"diffusivity={D}", f"monte_carlo.seed={seed}"]), progress=False)
            one = store.sel(diffusivity=D, monte_carlo_seed=seed)
            for m in alone.attrs["methods"].strip("[]").replace('"', "").split(", "):
                np.testing.assert_array_equal(one[m].values, alone[m].values)
            np.testing.assert_array_equal(one["time"].values, alone["time"].values)
    table = sweep.table(store, *sweep.state(tmp_path / "s.zarr", store))
    assert table.count("agree to round-off") == 4 and "diffusivity=0.2 monte_carlo.seed=5" in table
    import json

    assert cli.main(["compare", str(tmp_path / "s.zarr"), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert "rel_l2" in data["data_vars"] and "explicit" not in data["data_vars"]
    assert np.array(data["data_vars"]["rel_l2"]["data"]).shape == (2, 2, 2, 3)  # 2 x 2 variants, 2 pairs, 3 frames
    _the_picture_draws_each_pairs_last_error_against_the_first_key(store, tmp_path, capsys)


def _the_picture_draws_each_pairs_last_error_against_the_first_key(store, tmp_path, capsys):
    from physconv import plot_stores

    fig = plot_stores.sweep(store)
    panels = [ax for ax in fig.axes if ax.get_visible()]
    assert len(panels) == store.sizes["pair"] + 1  # and one for Monte Carlo against its expectation
    for i, ax in enumerate(panels[:-1]):
        measured = [line for line in ax.get_lines() if line.get_marker() == "o" and line.get_alpha() is None]
        theory = [line for line in ax.get_lines() if line.get_alpha() == 0.3]  # wide and pale, a marker per value
        assert all(line.get_marker() == "o" for line in theory)
        assert len(measured) == store.sizes["monte_carlo_seed"]  # one line per value of the other key
        for j, line in enumerate(measured):
            np.testing.assert_array_equal(line.get_xdata(), store["diffusivity"].values)
            want = store["rel_l2"].isel(pair=i, monte_carlo_seed=j, frame=-1).values
            np.testing.assert_allclose(line.get_ydata(), np.maximum(want, plot_stores.FLOOR))
    png = tmp_path / "sweep.png"
    assert cli.main(["plot", str(tmp_path / "s.zarr"), "--out", str(png)]) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert cli.main(["plot", str(tmp_path / "s.zarr"), "--kind", "errors"]) == 2
    assert cli.main(["animate", str(tmp_path / "s.zarr")]) == 2
    err = capsys.readouterr().err
    assert "a sweep store has one picture" in err and "animate takes the result of one" in err


@pytest.mark.parametrize("sees_store", [True, False])
def test_workers_that_see_the_store_write_the_frames_themselves(tmp_path, client, monkeypatch, sees_store):
    """Frames go from the worker to the store as they are reached (nothing but the comparison comes back);
    a worker that does not see the store (another machine) sends them back instead: the same store."""
    path = _write(tmp_path)
    p = sweep.plan(path, [sweep.parse_axis("diffusivity=0.1,0.2")])
    if not sees_store:
        monkeypatch.setattr(sweep, "_regions", lambda stream, methods: None)
    written = []
    write = sweep.write_variant
    monkeypatch.setattr(sweep, "write_variant", lambda *a, frames_written=False, **kw: (
        written.append((frames_written, set(a[3].data_vars))), write(*a, frames_written=frames_written, **kw)))
    assert not sweep.run(p, tmp_path / "s.zarr", client, say=lambda line: None).failed
    methods = set(p.variants[0].scenario.methods)
    assert [w for w, _ in written] == [sees_store] * 2
    assert all((names & methods == set()) == sees_store for _, names in written)
    store = sweep.open_sweep(tmp_path / "s.zarr")
    for D in (0.1, 0.2):
        alone = runner.run(scenario.load(path, [f"diffusivity={D}"]), progress=False)
        for m in methods:
            np.testing.assert_array_equal(store[m].sel(diffusivity=D).values, alone[m].values)


def _overflowing(method, diffusivity, calls=None):
    """``method`` whose frames overflow for the variant of ``diffusivity`` (an injected run-time failure);
    frames written through ``out`` as the methods stream them to the store."""
    def run(s, grid, u0, kernel, keep, tick, out=None, **kw):
        if calls is not None:
            calls.append(float(s.diffusivity))
        frames = method(s, grid, u0, kernel, keep, tick, **kw)
        frames = frames * np.inf if s.diffusivity == diffusivity else frames
        if out is None:
            return frames
        for i, f in enumerate(frames):
            out[i] = f
        return out

    return run


def test_a_failing_variant_is_reported_and_a_rerun_runs_only_what_is_missing(tmp_path, client, monkeypatch):
    """A variant that passes validation and overflows at run time (injected) fails alone; the next run of
    the same sweep runs exactly that variant (counted task executions)."""
    path = _write(tmp_path)
    axes = [sweep.parse_axis("diffusivity=0.05,0.1,0.15,0.2")]
    calls = []
    spectral = runner._METHODS["spectral"]

    monkeypatch.setitem(runner._METHODS, "spectral", _overflowing(spectral, 0.15, calls))
    store = tmp_path / "s.zarr"
    first = sweep.run(sweep.plan(path, axes), store, client, say=lambda line: None)
    assert sorted(first.ran) == ["diffusivity=0.05", "diffusivity=0.1", "diffusivity=0.2"]
    assert list(first.failed) == ["diffusivity=0.15"]
    assert "spectral: NaN or overflow" in first.failed["diffusivity=0.15"]
    assert sorted(calls) == [0.05, 0.1, 0.15, 0.2]
    assert np.isnan(sweep.open_sweep(store)["explicit"].sel(diffusivity=0.15)).all()

    calls.clear()
    monkeypatch.setitem(runner._METHODS, "spectral", lambda *a, **kw: (calls.append(a[0].diffusivity), spectral(*a, **kw))[1])
    second = sweep.run(sweep.plan(path, axes), store, client, say=lambda line: None)
    assert calls == [0.15] and second.ran == ["diffusivity=0.15"] and len(second.skipped) == 3
    done = sweep.open_sweep(store)
    assert np.isfinite(done["explicit"].values).all() and (done["done"].values != 0).all()

    calls.clear()  # a changed scenario is never mixed with the old results: refused before anything runs
    path.write_text(SWEEP_BASE.replace("random_cubes, seed: 1}", "random_cubes, seed: 9}"))
    with pytest.raises(sweep.SweepError, match="another input: the scenario's text changed .line .*seed: 9"):
        sweep.run(sweep.plan(path, axes), store, client, say=lambda line: None)
    assert calls == []


def test_a_store_of_another_sweep_is_refused(tmp_path):
    path = _write(tmp_path)
    store = tmp_path / "s.zarr"
    sweep.pending(store, sweep.plan(path, [sweep.parse_axis("diffusivity=0.1,0.2")]))
    with pytest.raises(sweep.SweepError, match="other keys, values or methods"):
        sweep.pending(store, sweep.plan(path, [sweep.parse_axis("diffusivity=0.1,0.15")]))
    (tmp_path / "plain.zarr").mkdir()
    with pytest.raises(sweep.SweepError, match="not a physconv sweep store"):
        sweep.pending(tmp_path / "plain.zarr", sweep.plan(path, [sweep.parse_axis("diffusivity=0.1,0.2")]))


# --- ensembles -------------------------------------------------------------------------------------

def test_each_replica_is_the_single_run_with_its_spawned_seed(tmp_path, client):
    path = _write(tmp_path)
    p = sweep.plan_ensemble(path, 4)
    sweep.run(p, tmp_path / "e.zarr", client, say=lambda line: None)
    store = xr.open_zarr(tmp_path / "e.zarr", consolidated=False)
    s = scenario.load(path)
    grid = s.make_grid()
    seeds = np.random.SeedSequence(s.monte_carlo.seed).spawn(4)
    for r in (0, 3):
        alone = lattice(s.initial_field(grid), grid, steps=s.time.steps, particles=s.monte_carlo.particles,
                        seed=seeds[r], diffusivity=s.diffusivity, dt=s.time.dt, save_every=s.time.save_every)
        np.testing.assert_array_equal(store["monte_carlo"].isel(replica=r).values, alone.concentration)
    assert not np.array_equal(store["monte_carlo"].isel(replica=0), store["monte_carlo"].isel(replica=1))


def test_the_ensemble_mean_converges_like_one_over_root_r(tmp_path, client):
    """32 replicas of 2000 particles on 12 x 10 cells: the mean's relative L2 error against the exact
    expectation over R' = 1, 2, ..., 32 has slope -1/2. Each error is a norm over 120 cells, whose
    relative spread is about 1/sqrt(2 * 120) = 0.065, i.e. 0.065 in log; over the 5 decades-of-two of
    the fit the slope's standard error is about 0.03, so +-0.2 is ~6.5 sigma (false alarm < 1e-9)."""
    path = _write(tmp_path, SWEEP_BASE.replace("particles: 3000", "particles: 2000"))
    p = sweep.plan_ensemble(path, 32)
    sweep.run(p, tmp_path / "e.zarr", client, say=lambda line: None)
    r = ensemble.reduce(tmp_path / "e.zarr", p)
    assert r["used"] == [1, 2, 4, 8, 16, 32]
    assert r["slope"] == pytest.approx(-0.5, abs=0.2)
    store = xr.open_zarr(tmp_path / "e.zarr", consolidated=False)
    np.testing.assert_allclose(store["sem"].values, store["std"].values / np.sqrt(32))
    np.testing.assert_allclose(store["mean"].values, store["monte_carlo"].mean("replica").values, rtol=1e-12)
    z = (store["mean"] - store["exact"]).values[1:] / np.where(store["sem"].values[1:] > 0, store["sem"].values[1:], 1)
    assert np.abs(z).max() < 8  # 2400 cells: |z| above 8 with probability < 1e-10 per cell for t-like tails
    _the_ensemble_reads_back(tmp_path / "e.zarr", store, r, tmp_path)


@pytest.mark.parametrize("replicas", [2, 3])
def test_a_small_ensemble_writes_valid_json_and_says_when_no_slope_is_fitted(tmp_path, client, replicas):
    """Two replicas give two values of R' (1, 2): no slope, and no NaN in the attributes (JSON has none)."""
    import json

    p = sweep.plan_ensemble(_write(tmp_path), replicas)
    sweep.run(p, tmp_path / "e.zarr", client, say=lambda line: None)
    r = ensemble.reduce(tmp_path / "e.zarr", p)
    attrs = json.loads((tmp_path / "e.zarr" / ".zattrs").read_text(), parse_constant=lambda c: pytest.fail(c))
    assert ("error_slope" in attrs) == (replicas >= ensemble.MIN_FIT) == (r["slope"] is not None)
    out = __import__("click.testing", fromlist=["CliRunner"]).CliRunner().invoke(cli.cli, ["compare", str(tmp_path / "e.zarr")])
    assert out.exit_code == 0 and "nan" not in out.output
    assert ("no slope of log(error)" in out.output) == (replicas < ensemble.MIN_FIT)


def _the_ensemble_reads_back(path, store, r, tmp_path):
    """The reduction keeps the store's identity; the spread's prediction is computed independently here;
    the table, the JSON and the picture show the numbers of the reduction."""
    import json

    assert sweep.is_store(path) and sweep.kind_of(store) == "ensemble"
    exact = store["exact"].values[-1]
    spread = np.sqrt((store["monte_carlo"].values[:, -1].std(axis=0, ddof=1) ** 2).sum()) / np.linalg.norm(exact)
    np.testing.assert_allclose(r["spread"], spread / np.sqrt(r["used"]), rtol=1e-10)
    # each measured error is a norm over 120 cells (relative spread ~0.065, 0.09 with the spread's own noise):
    # within a factor 1.7 of its prediction is over 6 sigma
    assert all(1 / 1.7 < e / p < 1.7 for e, p in zip(r["rel_l2"], r["spread"]))
    runner_ = __import__("click.testing", fromlist=["CliRunner"]).CliRunner()
    out = runner_.invoke(cli.cli, ["compare", str(path)])
    assert out.exit_code == 0
    for n, e in zip(r["used"], r["rel_l2"]):
        assert f"{n}  " in out.output and f"{e:.3e}" in out.output
    assert f"{r['slope']:.3f}" in out.output
    data = json.loads(runner_.invoke(cli.cli, ["compare", str(path), "--json"]).output)
    assert data["mean_rel_l2"] == pytest.approx(r["rel_l2"]) and data["replicas"] == 32
    from physconv import plot_stores

    fig = plot_stores.ensemble(store)
    lines = fig.axes[-1].get_lines()
    np.testing.assert_allclose(lines[0].get_ydata(), r["rel_l2"])
    np.testing.assert_allclose(lines[1].get_ydata(), r["spread"])
    png = tmp_path / "ensemble.png"
    assert runner_.invoke(cli.cli, ["plot", str(path), "--out", str(png)]).exit_code == 0 and png.stat().st_size


# --- a real cluster, started as users start one -------------------------------------------------------

def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def _remote_cluster(workers: int = 2):
    """`dask scheduler` and `dask worker` processes on 127.0.0.1, as a user starts them; their address."""
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    dask = [sys.executable, "-m", "distributed.cli.dask_scheduler"]
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).parents[1]))
    procs = [subprocess.Popen(dask + ["--host", "127.0.0.1", "--port", str(port), "--no-dashboard"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    try:
        procs.append(subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", address, "--nworkers",
                                       str(workers), "--nthreads", "1", "--no-dashboard"], env=env,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        from distributed import Client

        with Client(address, timeout="30s") as c:
            c.wait_for_workers(workers, timeout=60)
        yield address
    finally:
        for proc in reversed(procs):
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


@pytest.mark.slow  # a real scheduler and two workers: 14 s (tests/test_cluster.py starts a real scheduler by default)
def test_a_sweep_runs_on_a_scheduler_given_by_its_address(tmp_path):
    """`dask scheduler` and `dask worker` processes on 127.0.0.1, then the command line with --scheduler."""
    with _remote_cluster() as address:
        path = _write(tmp_path)
        store = tmp_path / "remote.zarr"
        status = cli.main(["sweep", str(path), "--set", "diffusivity=0.1,0.2", "--set", "monte_carlo.seed=1,2",
                           "--scheduler", address, "--out", str(store)])
        assert status == 0
        ds = sweep.open_sweep(store)
        assert (ds["done"].values != 0).all()
        alone = runner.run(scenario.load(path, ["diffusivity=0.2", "monte_carlo.seed=2"]), progress=False)
        np.testing.assert_array_equal(ds["monte_carlo"].sel(diffusivity=0.2, monte_carlo_seed=2).values,
                                      alone["monte_carlo"].values)


@pytest.mark.slow
@pytest.mark.parametrize("sig, status", [("SIGINT", 130), ("SIGTERM", 143)])
def test_a_stopped_sweep_leaves_no_writer_on_a_remote_cluster(tmp_path, sig, status):
    """Ctrl-C or SIGTERM while remote workers stream frames: one line, and the tasks still running write
    nothing more: a store removed right after the command ends stays removed."""
    import shutil
    import signal

    long = SWEEP_BASE.replace("steps: 10", "steps: 400000000").replace("save_every: 5", "save_every: 500000")
    path = _write(tmp_path, long.replace("methods: [explicit, spectral, gaussian, monte_carlo]", "methods: [explicit]"))
    store = tmp_path / "s.zarr"
    with _remote_cluster() as address:
        proc = subprocess.Popen([sys.executable, "-m", "physconv", "sweep", str(path), "--set", "diffusivity=0.1,0.2",
                                 "--scheduler", address, "--out", str(store)], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, start_new_session=True)
        deadline = time.monotonic() + 60
        while not list((store / "explicit").glob("[0-9]*")):  # the workers are writing frames
            assert time.monotonic() < deadline and proc.poll() is None, proc.communicate()
            time.sleep(0.05)
        os.kill(proc.pid, getattr(signal, sig))
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == status
        lines = [line for line in err.splitlines() if line.strip()]
        assert lines[-1].startswith("error: ") and "Traceback" not in err and len(lines) <= 3, err
        def chunks():
            return {(p.name, p.stat().st_mtime_ns) for p in (store / "explicit").glob("[0-9]*")}

        before = chunks()
        time.sleep(3)  # a frame comes every fraction of a second: a writer left behind would add or rewrite chunks
        assert chunks() == before
        shutil.rmtree(store)
        time.sleep(1)
        assert not store.exists(), sorted(p.name for p in store.rglob("*"))


def test_the_command_line_reports_failures_with_status_one(tmp_path, monkeypatch, capsys):
    """Through `physconv sweep` with an in-process cluster (so that the injected overflow reaches it)."""
    from distributed import Client, LocalCluster

    def local(workers=None, scheduler=None, *rest):
        return Client(LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address="127.0.0.1:0"))

    monkeypatch.setattr(cluster, "connect", local)
    spectral = runner._METHODS["spectral"]
    monkeypatch.setitem(runner._METHODS, "spectral", _overflowing(spectral, 0.2))
    path = _write(tmp_path)
    store = tmp_path / "s.zarr"
    assert cli.main(["sweep", str(path), "--set", "diffusivity=0.1,0.2", "--out", str(store)]) == 1
    err = capsys.readouterr().err
    assert "error: variant diffusivity=0.2: spectral: NaN or overflow" in err
    assert "1 of 2 variants failed" in err
    assert cli.main(["compare", str(store)]) == 0
    out = capsys.readouterr().out
    assert "diffusivity=0.1" in out and "diffusivity=0.2  (not done)" in out
    assert cli.main(["plot", str(store), "--out", str(tmp_path / "partial.png")]) == 0  # the missing variant a gap
    time.sleep(0)  # the clusters are closed by the command


def test_an_unreachable_scheduler_is_one_line_and_writes_nothing(tmp_path, monkeypatch, capsys):
    def unreachable(workers=None, scheduler=None, *rest):
        raise sweep.SweepError(f"cannot reach the dask scheduler at {scheduler} (refused)")

    monkeypatch.setattr(cluster, "connect", unreachable)
    store = tmp_path / "s.zarr"
    args = ["sweep", str(_write(tmp_path)), "--set", "diffusivity=0.1,0.2", "--out", str(store)]
    assert cli.main(args + ["--scheduler", "tcp://127.0.0.1:9"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == "error: cannot reach the dask scheduler at tcp://127.0.0.1:9 (refused)"
    assert not store.exists()
    assert cli.main(args + ["--scheduler", "tcp://127.0.0.1:9", "--workers", "2"]) == 2


def test_local_workers_share_the_memory_limit(tmp_path, monkeypatch, capsys):
    """Each of N local workers gets 1/N of the default limit: a variant that fits the machine but not a
    worker's share is refused before anything starts."""
    monkeypatch.setattr(scenario, "_default_max_bytes", lambda: 4 * 2**30)
    store = tmp_path / "s.zarr"
    args = ["sweep", str(_write(tmp_path)), "--set", "diffusivity=0.1,0.2", "--out", str(store)]
    assert cli.main(args + ["--workers", "16"]) == 2
    assert "error: --workers 16: the local workers share 4.0 GiB" in capsys.readouterr().err and not store.exists()


def test_local_workers_are_checked_for_one_frame_remote_ones_for_all(tmp_path):
    """Local workers write their frames to the store, so a variant needs what a single run needs; workers
    that may send their frames back need room for all of them: the same limit refuses only the latter."""
    path = _write(tmp_path)
    axes = [sweep.parse_axis("diffusivity=0.1,0.2")]
    over = ["time.steps=2000", "time.save_every=1"]
    s = scenario.load(path, over)
    streamed, held = s.memory_estimate(), s.memory_estimate(held=True)
    assert held > streamed
    limit = (streamed + held) // 2
    assert len(sweep.plan(path, axes, over, max_bytes=limit, held=False).variants) == 2
    with pytest.raises(sweep.SweepError, match="holds its frames in memory"):
        sweep.plan(path, axes, over, max_bytes=limit, held=True)
    assert len(sweep.plan_ensemble(path, 3, over, max_bytes=limit, held=False).variants) == 3
    with pytest.raises(sweep.SweepError, match="holds its frames in memory"):
        sweep.plan_ensemble(path, 3, over, max_bytes=limit, held=True)


@pytest.mark.parametrize("item, values", [
    ("diffusivity=0.02:0.2:10", [round(0.02 * k, 12) for k in range(1, 11)]),
    ("time.dt=0.1:0.7:7", [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]),
    ("diffusivity=0.001:1:4:log", [0.001, 0.01, 0.1, 1.0]),
])
def test_range_values_are_the_decimal_numbers_they_stand_for(item, values):
    axis = sweep.parse_axis(item)
    assert list(axis.values) == values
    assert all(len(repr(v)) <= 6 for v in axis.values)


@pytest.mark.parametrize("signals, status, word", [
    (("SIGINT",), 130, "interrupted"),
    pytest.param(("SIGINT", "SIGINT"), 130, "interrupted", marks=pytest.mark.slow),
    pytest.param(("SIGTERM",), 143, "terminated", marks=pytest.mark.slow)])
def test_ctrl_c_in_a_terminal_stops_a_sweep_with_one_line(tmp_path, signals, status, word):
    """A terminal sends SIGINT to the whole process group, the cluster's workers included: they leave it
    to the command, which ends them and prints its one line (each worker used to print a traceback; a
    second Ctrl-C or a SIGTERM added the resource tracker's warnings)."""
    import signal

    long = SWEEP_BASE.replace("steps: 10", "steps: 100000000000").replace("save_every: 5", "save_every: 100000000000")
    path = _write(tmp_path, long.replace("methods: [explicit, spectral, gaussian, monte_carlo]", "methods: [explicit]"))
    store = tmp_path / "s.zarr"
    proc = subprocess.Popen([sys.executable, "-m", "physconv", "sweep", str(path), "--set", "diffusivity=0.1,0.2",
                             "--workers", "2", "--out", str(store)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
    lines = []
    while not (lines and lines[-1].startswith("2 variants:")):  # the workers are up and have their tasks
        lines.append(proc.stderr.readline())
        assert lines[-1], "".join(lines)
    time.sleep(1.0)
    for name in signals:
        os.killpg(proc.pid, getattr(signal, name))
        time.sleep(0.1)
    _, rest = proc.communicate(timeout=60)
    assert proc.returncode == status, rest
    assert rest.strip().splitlines() == [f"error: {word}; written before it: {store} (finished variants; "
                                         "the same command resumes)"]
    assert not sweep.open_sweep(store)["done"].values.any()  # nothing half-done is marked done


def test_a_local_cluster_listens_on_the_loopback_only(tmp_path):
    """Every listening socket of the command's process tree during a sweep (scheduler, workers, nannies,
    web pages) is on 127.0.0.1: nothing of a local sweep is reachable from another machine."""
    import signal

    import psutil

    long = SWEEP_BASE.replace("steps: 10", "steps: 100000000000").replace("save_every: 5", "save_every: 100000000000")
    path = _write(tmp_path, long.replace("methods: [explicit, spectral, gaussian, monte_carlo]", "methods: [explicit]"))
    proc = subprocess.Popen([sys.executable, "-m", "physconv", "sweep", str(path), "--set", "diffusivity=0.1,0.15,0.2",
                             "--workers", "3", "--out", str(tmp_path / "s.zarr")], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        lines = []
        while not (lines and lines[-1].startswith("3 variants:")):
            lines.append(proc.stderr.readline())
            assert lines[-1], "".join(lines)
        tree = [psutil.Process(proc.pid)] + psutil.Process(proc.pid).children(recursive=True)
        listening = {(p.pid, s.laddr.ip, s.laddr.port) for p in tree for s in p.net_connections(kind="inet")
                     if s.status == psutil.CONN_LISTEN}
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        proc.communicate(timeout=60)
    assert len({pid for pid, _, _ in listening}) >= 4  # the command and its three workers' processes
    assert {ip for _, ip, _ in listening} == {"127.0.0.1"}, listening


# --- values typed as the scenario types them --------------------------------------------------------------

@pytest.mark.parametrize("item, values", [
    ("diffusivity=3e-2,7e-2", (0.03, 0.07)),          # YAML 1.1 reads 3e-2 as text
    ("diffusivity=5E-2,0.1", (0.05, 0.1)),
    ("diffusivity=1e-2:1e-1:3:log", (0.01, 0.031622776601683794, 0.1)),
    ("monte_carlo.seed=4,5", (4, 5)),
])
def test_swept_numbers_are_numbers_in_the_store(tmp_path, item, values):
    p = sweep.plan(_write(tmp_path), [sweep.parse_axis(item)])
    got = p.axes[0].values
    assert all(isinstance(v, (int, float)) for v in got)
    np.testing.assert_allclose(got, values, rtol=1e-12)
    coord = p.axes[0].coordinate()
    assert coord.dtype.kind in "if"
    assert [v.scenario.model_dump()[item.split("=")[0].split(".")[0]] for v in p.variants][0] is not None


@pytest.mark.parametrize("item", ["diffusivity=0.1,1e-1", "diffusivity=2e-2,0.02", "monte_carlo.seed=3,3.0",
                                  "diffusivity=0.05,5.0e-2"])
def test_values_equal_as_numbers_are_one_value(tmp_path, item):
    with pytest.raises(sweep.SweepError, match="same value|given twice"):
        sweep.plan(_write(tmp_path), [sweep.parse_axis(item)])


@pytest.mark.parametrize("item, values", [("description=x:y:z", ("x:y:z",)), ("description=a:b:c:d,e", ("a:b:c:d", "e")),
                                          ("name=t1:t2:3", ("t1:t2:3",))])
def test_text_with_colons_is_a_value_not_a_range(item, values):
    assert sweep.parse_axis(item).values == values


def test_each_variant_keeps_its_own_comparison_settings(tmp_path, client):
    """Lattice and Brownian walkers have different Monte Carlo references, float32 storage another
    round-off bound: each variant's rows read as the same run alone would (they came from the first)."""
    from physconv import metrics

    path = _write(tmp_path)
    p = sweep.plan(path, [sweep.parse_axis("monte_carlo.lattice=true,false"), sweep.parse_axis("dtype=float64,float32")])
    sweep.run(p, tmp_path / "s.zarr", client, say=lambda line: None)
    store = sweep.open_sweep(tmp_path / "s.zarr")
    table = sweep.table(store, *sweep.state(tmp_path / "s.zarr", store))
    for lattice in (True, False):
        for dtype in ("float64", "float32"):
            alone = metrics.compare(runner.run(scenario.load(path, [f"monte_carlo.lattice={str(lattice).lower()}",
                                                                      f"dtype={dtype}"]), progress=False))
            label = f"monte_carlo.lattice={str(lattice).lower()} dtype={dtype}"
            rows = [line for line in table.splitlines() if line.startswith(label + " ")]
            assert rows, (label, table)
            for row in metrics.rows(alone):
                assert any(row[0] in r and row[5].split(" (")[0] in r for r in rows), (row, rows)
    refs = {sweep.compare_attrs(store, (i, 0))["mc_reference"] for i in range(2)}
    assert len(refs) == 2


def test_a_reduced_ensemble_store_is_resumed_by_the_same_command(tmp_path, client):
    """The reduction's variables do not make the store 'another sweep': the same plan finds every replica
    done, a damaged replica is redone alone, and the reduction is written again."""
    p = sweep.plan_ensemble(_write(tmp_path), 5)
    store = tmp_path / "e.zarr"
    sweep.run(p, store, client, say=lambda line: None)
    first = ensemble.reduce(store, p)
    todo, done = sweep.pending(store, sweep.plan_ensemble(_write(tmp_path), 5))
    assert todo == [] and len(done) == 5
    (store / "monte_carlo" / "3.1.0.0").unlink()
    found = {}
    todo, _ = sweep.pending(store, p, damaged=found)
    assert [v.label for v in todo] == ["replica 3"] and list(found) == ["replica 3"]
    sweep.run(p, store, client, say=lambda line: None)
    again = ensemble.reduce(store, p)
    np.testing.assert_array_equal(again["rel_l2"], first["rel_l2"])  # the same seeds: the same replicas


@pytest.mark.slow
def test_a_worker_killed_mid_sweep_leaves_every_variant_computed_and_marked_once(tmp_path):
    """SIGKILL to a worker process while variants run: its nanny restarts it, the scheduler reruns its task,
    and the sweep ends with every variant done, equal to the variant run alone."""
    import signal

    import psutil

    slow = SWEEP_BASE.replace("steps: 10", "steps: 3000000").replace("save_every: 5", "save_every: 1000000")
    path = _write(tmp_path, slow.replace("methods: [explicit, spectral, gaussian, monte_carlo]", "methods: [explicit]"))
    store = tmp_path / "s.zarr"
    values = "diffusivity=0.05,0.1,0.15,0.2"
    with _remote_cluster() as address:
        proc = subprocess.Popen([sys.executable, "-m", "physconv", "sweep", str(path), "--set", values, "--scheduler",
                                 address, "--out", str(store)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)
        deadline = time.monotonic() + 60
        while not list((store / "explicit").glob("[0-9]*")):  # variants are running
            assert time.monotonic() < deadline and proc.poll() is None, proc.communicate()
            time.sleep(0.05)
        cli_ = next(p for p in psutil.process_iter(["cmdline"])
                    if "distributed.cli.dask_worker" in " ".join(p.info["cmdline"] or []) and address in p.info["cmdline"])
        victims = [c for c in cli_.children(recursive=True) if "resource_tracker" not in " ".join(c.cmdline())]
        assert len(victims) >= 2  # the two worker processes the nannies started
        os.kill(victims[0].pid, signal.SIGKILL)
        out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    ds = sweep.open_sweep(store)
    marks, damaged = sweep.state(store, ds)
    assert not damaged and (marks != 0).all()
    for D in (0.05, 0.1, 0.15, 0.2):
        alone = runner.run(scenario.load(path, [f"diffusivity={D}"]), progress=False)
        np.testing.assert_array_equal(ds["explicit"].sel(diffusivity=D).values, alone["explicit"].values)

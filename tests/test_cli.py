"""The command line: shipped scenarios end to end, and one-line errors with exit 2 and no files."""

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from physconv import cli, io, metrics
from physconv.grid import Grid
from physconv.solvers import implicit

from .test_scenario import BASE

REDUCED = {  # each shipped scenario at a size that runs in a second or two
    "aquarium_rocks": ["grid.shape=[32, 32]", "time.steps=20", "time.save_every=10", "monte_carlo.particles=50000"],
    "layered_slab": ["grid.shape=[40]", "grid.spacing=1.5", "time.steps=40", "time.save_every=20"],
    "river_plume": ["grid.shape=[16, 48]", "time.steps=20", "time.save_every=10", "initial.position=[8, 10]",
                    "monte_carlo.particles=100000"],
    "maze": ["time.steps=200", "time.save_every=100", "monte_carlo.particles=100000"],
    "porous": ["time.steps=40", "time.save_every=20", "monte_carlo.particles=50000"],
    "salt_aquarium": ["grid.shape=[24, 20]", "time.steps=20", "time.save_every=5", "monte_carlo.particles=200000"],
    "barrier_removal": ["grid.shape=[8, 32]", "time.steps=40", "time.save_every=10"],
    "point_source": ["grid.shape=[15, 15]", "time.steps=20", "time.save_every=5", "monte_carlo.particles=200000"],
    "softmax_edge_detector": ["grid.shape=[16, 16]", "time.steps=12", "time.save_every=4",
                              "monte_carlo.particles=200000"],
    "gaussian_blur": ["grid.shape=[32, 32]", "time.steps=8", "time.save_every=4"],
    "absorbing_walls": ["grid.shape=[20, 20]", "time.steps=30", "time.save_every=10", "initial.center=[10.0, 8.0]",
                        "initial.width=3.0", "monte_carlo.particles=200000"],
    "diffusion_1d": ["grid.shape=[40]", "time.steps=100", "time.save_every=25", "initial.center=[1.0]",
                     "initial.width=0.3"],
    "diffusion_3d": ["grid.shape=[8, 8, 6]", "time.steps=10", "time.save_every=5", "monte_carlo.particles=200000"],
    "salt_in_water": ["grid.shape=[20, 24]", "time.end=300", "time.save_every=100", "monte_carlo.particles=100000"],
}


def run_cli(*args):
    return cli.main([str(a) for a in args])


@pytest.mark.parametrize("name", sorted(REDUCED))
def test_shipped_scenario_runs_end_to_end(tmp_path, capsys, name):
    sets = [x for s in REDUCED[name] for x in ("--set", s)]
    assert run_cli("run", name, "--out", tmp_path, "--quiet", "--no-plot", *sets) == 0
    captured = capsys.readouterr()
    assert f"result: {tmp_path / name}.nc" in captured.out
    said = [line for line in captured.err.splitlines() if line.startswith("warning:")]
    # shipped scenarios step well inside the stability limit; only a reduced picture's resampling is said
    assert all("resampled to the grid" in line for line in said) and len(said) <= (name in ("gaussian_blur",
                                                                                        "aquarium_rocks"))
    ds = io.open_result(tmp_path / f"{name}.nc")
    methods = metrics.methods_of(ds)
    grid = metrics.grid_of(ds)
    # DESIGN §5 layout
    assert ds["explicit"].dims == ("time",) + grid.dims
    assert {"time", "step", *grid.dims} <= set(ds.coords)
    assert ds["step"].dims == ("time",)
    for key in ("scenario", "boundary", "walls", "dt", "cfl", "versions", "created", "software"):
        assert key in ds.attrs
    walls = json.loads(ds.attrs["walls"])
    assert [tuple(walls[d]["positions"]) for d in grid.dims] == list(grid.wall_positions())
    for m in methods:
        assert ds[m].attrs["units"] and ds[m].attrs["long_name"]
        if m != "monte_carlo":
            np.testing.assert_array_equal(ds[m].isel(time=0), ds["initial"])
        else:  # stratified placement: every cell within one particle of the exact amount
            one = float(ds.attrs["mass_initial"]) / int(ds.attrs["mc_particles"]) / grid.cell_volume
            assert float(np.abs(ds[m].isel(time=0) - ds["initial"]).max()) <= one * (1 + 1e-9)
    # DESIGN §3 agreements
    scale = float(np.abs(ds["initial"]).max()) or 1.0  # as metrics.compare: an empty start is held to 1e-10
    if "spectral" in methods:
        assert float(np.abs(ds["explicit"] - ds["spectral"]).max()) <= 1e-10 * scale
    if "implicit" in methods and "medium" not in ds.attrs:  # a medium's implicit: tests/test_medium_methods.py
        g = implicit.amplification(grid, float(ds.attrs["diffusivity"]), float(ds.attrs["dt"]))
        from physconv import spectral

        exact = spectral.evolve(ds["initial"].values, g, grid.boundaries, ds["step"].values)
        assert float(np.abs(ds["implicit"] - exact).max()) <= 1e-10 * scale
    if "gaussian" in methods:
        assert float(np.abs(ds["explicit"] - ds["gaussian"]).max()) <= 0.1 * scale
    if "monte_carlo" in methods:  # against its exact expectation; alpha = 1e-6 for all frames together
        from .test_montecarlo import assert_frames_consistent

        _, exact = metrics.monte_carlo_reference(ds, grid)
        one = float(ds.attrs["mass_initial"]) / int(ds.attrs["mc_particles"]) / grid.cell_volume
        counts = np.rint(ds["monte_carlo"].values[1:] / one)
        assert_frames_consistent(counts, exact[1:] / one, int(ds.attrs["mc_particles"]))


def test_run_prints_the_table_and_draws_the_picture(tmp_path, capsys):
    assert run_cli("run", "salt_aquarium", "--out", tmp_path, *sum((["--set", s] for s in REDUCED["salt_aquarium"]),
                                                                   [])) == 0
    out = capsys.readouterr().out
    assert "explicit-spectral" in out and "agree to round-off" in out and "consistent" in out
    assert (tmp_path / "salt_aquarium.png").stat().st_size > 10_000


def test_zarr_output(tmp_path, capsys):
    sets = sum((["--set", s] for s in REDUCED["gaussian_blur"]), [])
    assert run_cli("run", "gaussian_blur", "--out", tmp_path, "--format", "zarr", "--quiet", "--no-plot", *sets) == 0
    assert (tmp_path / "gaussian_blur.zarr").is_dir()
    assert run_cli("compare", tmp_path / "gaussian_blur.zarr") == 0
    assert "explicit-spectral" in capsys.readouterr().out


def test_validate_list_schema_and_version(capsys):
    assert run_cli("validate", "point_source") == 0
    assert "valid" in capsys.readouterr().out
    assert run_cli("list") == 0
    listing = capsys.readouterr().out
    assert "salt_aquarium" in listing and "random_cubes" in listing and "edge" in listing
    assert run_cli("schema") == 0
    assert '"properties"' in capsys.readouterr().out
    assert run_cli("--version") == 0
    assert run_cli("--help") == 0
    assert "physconv run salt_aquarium" in capsys.readouterr().out


@pytest.mark.slow  # every kind and an animation through the command: 10 s (each kind's content: tests/test_plot.py)
def test_plot_and_animate_commands(tmp_path, capsys):
    sets = sum((["--set", s] for s in REDUCED["softmax_edge_detector"]), [])
    run_cli("run", "softmax_edge_detector", "--out", tmp_path, "--quiet", "--no-plot", *sets)
    result = tmp_path / "softmax_edge_detector.nc"
    for kind in ("overview", "snapshots", "differences", "errors", "profiles", "kernel"):
        png = tmp_path / f"{kind}.png"
        assert run_cli("plot", result, "--kind", kind, "--out", png) == 0, kind
        assert png.stat().st_size > 5_000
    assert run_cli("animate", result, "--out", tmp_path / "a.gif") == 0
    assert (tmp_path / "a.gif").stat().st_size > 5_000
    capsys.readouterr()
    assert run_cli("plot", result, "--kind", "spacetime", "--out", tmp_path / "st.png") == 2
    assert "1-D" in capsys.readouterr().err


# --- errors: one line, exit 2, no result -----------------------------------------------------------

def bad_file(tmp_path, text):
    p = tmp_path / "bad.yaml"
    p.write_text(text)
    return p


ERRORS = [
    ("missing file", lambda t: ["run", t / "absent.yaml"], "absent.yaml: no such file"),
    ("not yaml", lambda t: ["run", bad_file(t, "name: [oops")], "not valid YAML"),
    ("python tag", lambda t: ["run", bad_file(t, "!!python/object/apply:os.system ['touch pwned']")],
     "not valid YAML"),
    ("unknown key", lambda t: ["run", bad_file(t, BASE.replace("boundary:", "boundry:"))],
     "did you mean 'boundary'"),
    ("wrong type", lambda t: ["run", bad_file(t, BASE.replace("steps: 10", "steps: ten"))], "time.steps"),
    ("negative diffusivity", lambda t: ["run", bad_file(t, BASE.replace("0.2", "-1"))], "diffusivity"),
    ("unstable dt", lambda t: ["run", bad_file(t, BASE.replace("dt: 1.0", "dt: 9.0"))], "largest stable dt"),
    ("unknown method", lambda t: ["run", bad_file(t, BASE.replace("spectral,", "fourier,"))], "methods[1]"),
    ("dirichlet with monte_carlo",
     lambda t: ["run", bad_file(t, BASE.replace("boundary: reflecting", "boundary: dirichlet\nboundary_value: 0"))],
     "monte_carlo has no lattice rule for dirichlet"),
    ("even kernel", lambda t: ["run", bad_file(t, BASE.replace("diffusivity: 0.2",
                                                                "kernel: {weights: [[1, 2], [3, 4]]}"))],
     "odd size"),
    ("name with slash", lambda t: ["run", bad_file(t, BASE.replace("name: tiny", "name: ../../etc"))], "name:"),
    ("unwritable output", lambda t: ["run", bad_file(t, BASE), "--out", _file(t) / "sub"], "cannot write"),
    ("too large", lambda t: ["run", bad_file(t, BASE.replace("[12, 10]", "[100000, 100000]"))], "GiB"),
    ("unknown shipped name", lambda t: ["run", "salt_aquarum"], "shipped: "),
    ("bad option", lambda t: ["run", bad_file(t, BASE), "--format", "hdf4"], "hdf4"),
    ("missing argument", lambda t: ["run"], "SCENARIO"),
    ("unknown command", lambda t: ["frobnicate"], "frobnicate"),
    ("not a result", lambda t: ["compare", bad_file(t, BASE)], "not a physconv result"),
    ("absent result", lambda t: ["plot", t / "none.nc"], "no such result"),
]


def _file(tmp_path):
    f = tmp_path / "plain_file"
    f.write_text("")
    return f


@pytest.mark.parametrize("label, argv, words", ERRORS, ids=[e[0] for e in ERRORS])
def test_bad_input_gives_one_line_exit_2_and_no_file(tmp_path, capsys, label, argv, words, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out_dir = tmp_path / "outputs"
    args = argv(tmp_path)
    if args[0] == "run" and "--out" not in args and len(args) > 1:
        args += ["--out", out_dir]
    assert run_cli(*args) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert words in err
    assert "Traceback" not in err
    assert not list(out_dir.glob("*")) if out_dir.exists() else True
    assert not (tmp_path / "pwned").exists()


def test_interrupted_run_leaves_no_result(tmp_path, capsys, monkeypatch):
    from physconv import runner

    def interrupted(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(runner, "run", interrupted)
    assert run_cli("run", "point_source", "--out", tmp_path, "--set", "grid.shape=[9, 9]") == 130
    assert "interrupted" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_rerun_overwrites_cleanly(tmp_path, capsys):
    sets = ["--set", "grid.shape=[9, 9]", "--set", "time.steps=4", "--quiet", "--no-plot"]
    for steps in ("4", "6"):
        assert run_cli("run", "gaussian_blur", "--out", tmp_path, *sets, "--set", f"time.steps={steps}") == 0
    ds = io.open_result(tmp_path / "gaussian_blur.nc")
    assert int(ds["step"][-1]) == 6
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gaussian_blur.nc"]


def test_console_script_prints_one_line_without_traceback(tmp_path):
    bad = tmp_path / "s.yaml"
    bad.write_text(textwrap.dedent(BASE).replace("steps: 10", "steps: -3"))
    proc = subprocess.run([sys.executable, "-m", "physconv", "run", str(bad), "--out", str(tmp_path / "o")],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.startswith(f"error: {bad}:8: time.steps:")
    assert proc.stderr.count("\n") == 1
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())


def test_main_called_from_a_program_leaves_its_garbage_collector_alone(tmp_path, capsys):
    """Only the ``physconv`` command, which ends with the run, takes objects out of the collector's walks;
    a program calling :func:`cli.main` keeps collecting its garbage."""
    import gc

    before, thresholds = gc.get_freeze_count(), gc.get_threshold()
    sets = sum((["--set", s] for s in REDUCED["gaussian_blur"]), [])
    assert run_cli("run", "gaussian_blur", "--out", tmp_path, *sets) == 0
    assert gc.get_freeze_count() == before
    assert gc.get_threshold() == thresholds


def test_the_command_collects_garbage_less_often(tmp_path):
    argv = ["physconv", "run", "gaussian_blur", "--out", str(tmp_path), "--quiet", "--no-plot",
            *sum((["--set", s] for s in REDUCED["gaussian_blur"]), [])]
    code = (f"import atexit, gc, sys; atexit.register(lambda: print(gc.get_threshold())); sys.argv = {argv!r}; "
            "from physconv.cli import entry; entry()")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1] == str(cli.GC_THRESHOLDS)
    assert cli.GC_THRESHOLDS[0] > gc_default_threshold()


def gc_default_threshold() -> int:
    proc = subprocess.run([sys.executable, "-c", "import gc; print(gc.get_threshold()[0])"], capture_output=True,
                          text=True, check=True)
    return int(proc.stdout)


def test_console_script_run_writes_a_whole_result_and_picture(tmp_path):
    sets = sum((["--set", s] for s in REDUCED["diffusion_1d"]), [])
    proc = subprocess.run([sys.executable, "-m", "physconv", "run", "diffusion_1d", "--out", str(tmp_path), *sets],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    ds = io.open_result(tmp_path / "diffusion_1d.nc")
    assert np.isfinite(ds["explicit"].values).all() and ds.sizes["time"] >= 2
    assert (tmp_path / "diffusion_1d.png").read_bytes()[-8:] == b"IEND\xaeB`\x82"  # a complete PNG


def test_grid_of_rebuilds_the_walls():
    import xarray as xr

    ds = xr.Dataset({"initial": (("y", "x"), np.zeros((3, 4)))},
                    attrs={"boundary": '{"y": "dirichlet", "x": "periodic"}', "spacing": [1.0, 2.0],
                           "boundary_value": 2.0})
    g = metrics.grid_of(ds)
    assert g == Grid((3, 4), (1.0, 2.0), ["dirichlet", "periodic"], 2.0)


def test_dirichlet_results_can_be_compared_and_plotted(tmp_path, capsys):
    sets = ["--set", "grid.shape=[16, 16]", "--set", "time.steps=8", "--set", "boundary=dirichlet",
            "--set", "boundary_value=0.5", "--quiet"]
    assert run_cli("run", "gaussian_blur", "--out", tmp_path, *sets) == 0
    assert run_cli("compare", tmp_path / "gaussian_blur.nc") == 0
    assert "agree to round-off" in capsys.readouterr().out


@pytest.mark.slow
def test_full_size_salt_aquarium(tmp_path, capsys):
    """The README's run command at full size: every DESIGN §3 agreement holds (MC alpha = 1e-6 per frame)."""
    assert run_cli("run", "salt_aquarium", "--out", tmp_path) == 0
    out = capsys.readouterr().out
    assert "agree to round-off" in out and "consistent" in out and "DISAGREE" not in out
    ds = io.open_result(tmp_path / "salt_aquarium.nc")
    assert ds["explicit"].shape == (11, 256, 256)
    assert (tmp_path / "salt_aquarium.png").stat().st_size > 100_000


@pytest.mark.parametrize("dt, spacing, warns", [(1.25, 1.0, True), (1.24, 1.0, True), (1.0, 1.0, False),
                                                (0.31, 0.5, True), (0.2, 0.5, False)])
def test_a_step_at_the_stability_limit_warns_in_validate_and_run(tmp_path, capsys, dt, spacing, warns):
    """sum of D dt / dx^2 >= 0.495 (centre weight <= 1 %): one warning line naming the file, line and key."""
    p = tmp_path / "s.yaml"
    p.write_text(BASE.replace("dt: 1.0", f"dt: {dt}").replace("spacing: 1.0", f"spacing: {spacing}"))
    for argv in (["validate", p], ["run", p, "--out", tmp_path, "--quiet", "--no-plot"]):
        assert run_cli(*argv) == 0
        err = capsys.readouterr().err
        lines = [line for line in err.splitlines() if line.startswith("warning:")]
        if warns:
            assert len(lines) == 1 and f"{p}:7: time.dt:" in lines[0] and "checkerboard" in lines[0]
            limit = 1 / (2 * 0.2 * 2 / spacing**2)
            assert f"dt = {limit / 2:.6g} keeps 1/2" in lines[0]
        else:
            assert not lines


@pytest.mark.slow  # a run, a plot and an animation: 12 s (writing results and pictures: the console-script test)
def test_figures_get_the_result_files_mode_and_their_folders_are_made(tmp_path, capsys):
    import os
    import stat

    sets = sum((["--set", s] for s in REDUCED["salt_aquarium"]), [])
    old = os.umask(0o022)
    try:
        assert run_cli("run", "salt_aquarium", "--out", tmp_path, "--quiet", *sets) == 0
        result = tmp_path / "salt_aquarium.nc"
        mode = stat.S_IMODE(result.stat().st_mode)
        assert stat.S_IMODE((tmp_path / "salt_aquarium.png").stat().st_mode) == mode == 0o644
        for kind, scale in (("snapshots", "log"),):  # every kind's content: tests/test_plot.py
            png = tmp_path / "new" / "deeper" / f"{kind}.png"
            assert run_cli("plot", result, "--kind", kind, "--scale", scale, "--out", png) == 0
            assert stat.S_IMODE(png.stat().st_mode) == mode
        gif = tmp_path / "gifs" / "a.gif"
        assert run_cli("animate", result, "--out", gif, "--scale", "linear") == 0
        assert stat.S_IMODE(gif.stat().st_mode) == mode
    finally:
        os.umask(old)


def test_no_arguments_print_the_help_as_help_does(capsys):
    assert run_cli("--help") == 0
    helped = capsys.readouterr().out
    assert cli.main([]) == 0
    bare = capsys.readouterr()
    assert bare.out == helped and bare.err == ""
    assert len(bare.out.splitlines()) > 10 and max(len(line) for line in bare.out.splitlines()) <= 100


def test_every_shipped_scenario_has_a_reduced_run():
    from physconv import scenario

    assert set(REDUCED) == set(scenario.shipped())

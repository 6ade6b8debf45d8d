"""Runner and comparison: one Dataset per scenario, NaN caught with its step, the table's verdicts."""

import re

import numpy as np
import pytest

from physconv import kernels, metrics, runner, scenario

from .test_scenario import BASE


def load(tmp_path, text=BASE, overrides=()):
    p = tmp_path / "s.yaml"
    p.write_text(text)
    return scenario.load(p, overrides)


def test_every_method_fills_one_variable_on_the_saved_times(tmp_path):
    s = load(tmp_path, overrides=["methods=[explicit, implicit, spectral, gaussian, monte_carlo]"])
    ds = runner.run(s, progress=False)
    for m in s.methods:
        assert ds[m].shape == (3, 12, 10)
    np.testing.assert_array_equal(ds["step"], [0, 5, 10])
    np.testing.assert_array_equal(ds["time"], [0.0, 5.0, 10.0])
    np.testing.assert_allclose(ds.attrs["cfl"], [0.2, 0.2])


def test_kernel_scenarios_store_the_kernel_and_its_effective_diffusivity(tmp_path):
    s = load(tmp_path, BASE.replace("diffusivity: 0.2\n", "kernel: {name: edge, temperature: 3.0}\n"))
    ds = runner.run(s, progress=False)
    k = ds["kernel"].values
    assert k.shape == (3, 3) and k.sum() == pytest.approx(1.0)
    d_eff = (k[:, 0].sum() + k[:, 2].sum()) / 2.0  # variance per step / (2 dt) along x
    np.testing.assert_allclose(ds.attrs["diffusivity_per_axis"], [d_eff, d_eff], rtol=1e-12)


def test_nan_or_overflow_is_reported_with_the_step(tmp_path, monkeypatch):
    s = load(tmp_path)

    def blows_up(s, grid, u0, kernel, keep, tick, out=None):
        frames = np.ones((len(keep),) + grid.shape)
        frames[2:] = np.inf
        for i, f in enumerate(frames if out is not None else ()):
            out[i] = f
        return frames

    monkeypatch.setitem(runner._METHODS, "spectral", blows_up)
    with pytest.raises(runner.RunError, match=r"spectral: NaN or overflow by step 10 \(after step 5\)"):
        runner.run(s, progress=False)
    with pytest.raises(runner.RunError, match=r"spectral: NaN or overflow by step 10 \(after step 5\)"):
        runner.run(s, progress=False, store=tmp_path / "streamed.nc")  # caught as the frame is written


def test_progress_bar_counts_the_steps(tmp_path, capsys):
    runner.run(load(tmp_path), progress=True)
    assert "tiny" in capsys.readouterr().err


def test_comparison_verdicts(tmp_path):
    ds = runner.run(load(tmp_path), progress=False)
    cmp = metrics.compare(ds)
    assert list(cmp["pair"].values) == ["explicit-spectral", "explicit-gaussian"]
    assert float(cmp["max_abs_diff"][0].max()) <= 1e-10 * cmp.attrs["scale"]
    np.testing.assert_allclose(cmp["mass_drift"].sel(method="explicit"), 0, atol=1e-14)
    text = metrics.table(cmp)
    assert "agree to round-off" in text and "consistent" in text

    broken = ds.copy()
    broken["spectral"] = ds["spectral"] * (1 + 1e-6)
    assert "DISAGREE" in metrics.table(metrics.compare(broken))
    biased = ds.copy()
    biased["monte_carlo"] = ds["monte_carlo"] * 1.3
    assert "INCONSISTENT" in metrics.table(metrics.compare(biased))


def test_brownian_reference_is_the_cell_averaged_heat_solution(tmp_path):
    """The Brownian frames are consistent with it: alpha = 1e-6 over the two later frames."""
    from .test_montecarlo import assert_frames_consistent

    s = load(tmp_path, overrides=["monte_carlo.lattice=false", "monte_carlo.particles=100000"])
    ds = runner.run(s, progress=False)
    assert metrics.compare(ds).attrs["mc_reference"] == "cell-averaged heat"
    grid = metrics.grid_of(ds)
    _, exact = metrics.monte_carlo_reference(ds, grid)
    one = float(ds.attrs["mass_initial"]) / 100000 / grid.cell_volume
    assert_frames_consistent(np.rint(ds["monte_carlo"].values[1:] / one), exact[1:] / one, 100000)


def test_pairs_follow_design_section_3():
    assert metrics.pairs(["explicit", "spectral", "gaussian", "implicit"]) == [
        ("explicit", "spectral", "exact"), ("explicit", "gaussian", "approx"), ("implicit", "gaussian", "approx"),
        ("implicit", "spectral", "approx")]
    assert metrics.pairs(["spectral", "gaussian"]) == [("spectral", "gaussian", "approx")]


def test_verdicts_are_held_against_theory(tmp_path):
    """A healthy run reads 'as predicted'; a step at the stability limit (checkerboard) and a grid too
    coarse for the field read 'larger than predicted', never as a plain approximation."""
    healthy = runner.run(load(tmp_path, overrides=["methods=[explicit, implicit, spectral, gaussian]"]),
                         progress=False)
    text = metrics.table(metrics.compare(healthy))
    assert text.count("as predicted (") == 3 and "larger than predicted" not in text

    s = load(tmp_path, overrides=["methods=[explicit, spectral, gaussian]", "initial={kind: point, mass: 1.0}",
                                  "diffusivity=0.25", "grid.shape=[25, 25]", "boundary=periodic"])
    cmp = metrics.compare(runner.run(s, progress=False))
    i = list(cmp["pair"].values).index("explicit-gaussian")
    assert metrics.prediction_factor(cmp, i) > 10
    assert "larger than predicted" in metrics.verdict(cmp, i)

    coarse = load(tmp_path, overrides=["methods=[explicit, gaussian]", "initial={kind: point, mass: 1.0}",
                                       "time={dt: 1.0, steps: 2, save_every: 1}"])
    cmp = metrics.compare(runner.run(coarse, progress=False))
    assert "larger than predicted" in metrics.verdict(cmp, 0)


def test_brownian_particles_take_dirichlet_walls_of_value_zero(tmp_path):
    """A zero on the face: Brownian particles removed there match the dirichlet-0 expectation (alpha = 1e-6)."""
    from .test_montecarlo import assert_frames_consistent

    s = load(tmp_path, overrides=["boundary=dirichlet", "boundary_value=0", "monte_carlo.lattice=false",
                                  "monte_carlo.particles=100000"])
    ds = runner.run(s, progress=False)
    grid = metrics.grid_of(ds)
    _, exact = metrics.monte_carlo_reference(ds, grid)
    one = float(ds.attrs["mass_initial"]) / 100000 / grid.cell_volume
    assert_frames_consistent(np.rint(ds["monte_carlo"].values[1:] / one), exact[1:] / one, 100000)
    assert metrics.grid_of(ds).wall_positions() == ((0.0, 12.0), (0.0, 10.0))


def test_progress_lines_when_stderr_is_not_a_terminal(tmp_path, capsys, monkeypatch):
    """A run whose stderr is a file or a pipe is never silent: a line per method as it starts and ends."""
    runner.run(load(tmp_path), progress=None)
    err = capsys.readouterr().err.splitlines()
    for m in ("explicit", "spectral", "gaussian", "monte_carlo"):
        assert f"tiny: {m} started" in err
        assert any(line.startswith(f"tiny: {m} done in ") and line.endswith(" s") for line in err)
    runner.run(load(tmp_path), progress=False)
    assert capsys.readouterr().err == ""
    monkeypatch.setattr(runner, "compiled_code_is_cold", lambda: True)
    runner.run(load(tmp_path), progress=None)
    assert "building the compiled loops once" in capsys.readouterr().err


def test_table_columns_never_run_into_each_other(tmp_path):
    """The longest pair name (Brownian: 'monte_carlo-cell-averaged heat') still leaves the columns aligned."""
    s = load(tmp_path, overrides=["monte_carlo.lattice=false", "monte_carlo.particles=20000",
                                  "methods=[explicit, implicit, spectral, gaussian, monte_carlo]"])
    lines = metrics.table(metrics.compare(runner.run(s, progress=False))).splitlines()
    header = lines[0]
    rows = [line for line in lines[1:] if line and line[0].isalpha() and "-" in line.split()[0]]
    assert any(r.startswith("monte_carlo-cell-averaged heat ") for r in rows)
    for column in ("kind", "verdict"):
        start = header.index(column)
        assert all(r[start - 2:start] == "  " and r[start] != " " for r in rows), column


@pytest.mark.parametrize("kernel", [False, True])
def test_chunks_run_explicit_over_a_dask_array_with_the_same_numbers(tmp_path, kernel):
    text = BASE.replace("diffusivity: 0.2\n", "kernel: {name: edge, temperature: 3.0}\n") if kernel else BASE
    plain = runner.run(load(tmp_path, text, ["methods=[explicit]"]), progress=False)
    chunked = runner.run(load(tmp_path, text, ["methods=[explicit]", "chunks=[5, 4]"]), progress=False)
    np.testing.assert_array_equal(chunked["explicit"], plain["explicit"])


@pytest.mark.parametrize("chunks,message", [("[5]", "one chunk length per axis"), ("[0, 4]", "greater than or equal to 1"),
                                             ("[11, 4]", r"chunks of \[1, 2\] cells .* smaller than the kernel's reach \(2\)")])
def test_bad_chunks_are_named(tmp_path, chunks, message):
    wide = "kernel: {weights: [[0, 0, 1, 0, 0], [0, 0, 1, 0, 0], [1, 1, 1, 1, 1], [0, 0, 1, 0, 0], [0, 0, 1, 0, 0]]}\n"
    with pytest.raises(scenario.ScenarioError, match=rf"chunks.*{message}"):
        load(tmp_path, BASE.replace("diffusivity: 0.2\n", wide), overrides=[f"chunks={chunks}"])


def test_float32_storage_of_explicit_is_judged_against_its_bound(tmp_path):
    s = load(tmp_path, overrides=["dtype=float32", "methods=[explicit, spectral, monte_carlo]"])
    ds = runner.run(s, progress=False)
    assert ds.attrs["explicit_dtype"] == "float32"
    cmp = metrics.compare(ds)
    i = list(cmp["pair"].values).index("explicit-spectral")
    worst = float(cmp["max_abs_diff"][i].max()) / cmp.attrs["scale"]
    assert 1e-10 < worst <= float(cmp["tolerance"][i])  # float32 round-off, not float64's
    assert metrics.verdict(cmp, i).startswith("agree to float32 round-off (bound ")
    plain = runner.run(load(tmp_path, overrides=["methods=[explicit]"]), progress=False)
    assert np.abs(ds["explicit"] - plain["explicit"]).max() <= float(cmp["tolerance"][i]) * cmp.attrs["scale"]


@pytest.mark.parametrize("overrides,message", [
    (["dtype=float32", "diffusivity=null", "kernel={name: edge}", "methods=[explicit, spectral]"], "for the explicit"),
    (["dtype=float32", "methods=[spectral, gaussian]"], "for the explicit"),
    (["dtype=float32", "boundary={y: absorbing, x: dirichlet}", "boundary_value=0.5", "methods=[explicit]"],
     "no round-off bound"),
    (["dtype=float16"], "dtype")])
def test_float32_is_refused_where_it_has_no_meaning(tmp_path, overrides, message):
    with pytest.raises(scenario.ScenarioError, match=message):
        load(tmp_path, overrides=overrides)


@pytest.mark.parametrize("name, overrides, suffix", [  # each scenario once, the two formats taking turns
    ("salt_aquarium", ["grid.shape=[40, 36]", "monte_carlo.particles=20000", "time.steps=60", "time.save_every=25"],
     ".nc"),
    ("point_source", ["monte_carlo.particles=20000"], ".zarr"),
    ("diffusion_1d", ["monte_carlo.particles=100000", "time.save_every=null"], ".nc"),
    ("diffusion_3d", [], ".zarr"),
    ("softmax_edge_detector", ["grid.shape=[30, 30]"], ".nc"),
    ("absorbing_walls", ["monte_carlo.particles=20000"], ".zarr"),
    ("barrier_removal", ["monte_carlo.particles=20000", "monte_carlo.mode=counts"], ".nc"),
    pytest.param("diffusion_3d", [], ".nc", marks=pytest.mark.slow),
    pytest.param("barrier_removal", ["monte_carlo.particles=20000", "monte_carlo.mode=counts"], ".zarr",
                 marks=pytest.mark.slow),
])
def test_frames_streamed_to_a_file_are_the_frames_held_in_memory(tmp_path, name, overrides, suffix):
    """With ``store=`` every method writes each frame to the file as it is reached: reading the file gives the
    in-memory result bit for bit (every method, coordinates and attributes but the creation time)."""
    s = scenario.load(name, overrides)
    held = runner.run(s, progress=False)
    with runner.run(s, progress=False, store=tmp_path / f"r{suffix}") as streamed:
        assert set(streamed.data_vars) == set(held.data_vars) and set(streamed.coords) == set(held.coords)
        for v in list(held.data_vars) + list(held.coords):
            assert np.array_equal(streamed[v].values, held[v].values), v
        assert set(streamed.attrs) == set(held.attrs)
        for k in set(held.attrs) - {"created"}:  # netCDF keeps a one-element array attribute as a number
            a, b = np.atleast_1d(streamed.attrs[k]), np.atleast_1d(held.attrs[k])
            assert a.tolist() == b.tolist(), k
        cmp_streamed, cmp_held = metrics.compare(streamed), metrics.compare(held)
        assert metrics.table(cmp_streamed) == metrics.table(cmp_held)


@pytest.mark.slow  # a 1024^2 run measured for memory: 18 s
def test_a_run_written_as_it_goes_does_not_hold_its_frames(tmp_path):
    """Peak memory of ``physconv run`` on 1024^2 cells with 41 saved frames of 3 methods (123 frames = 1 GiB if
    held) grows over a 16^2 run of the same scenario by less than 20 frames: the working buffers of one method
    (or of the comparison of one saved time) and one frame per method. Measured: 12.7 frames."""
    import subprocess
    import sys
    import textwrap

    def peak(n):
        p = tmp_path / f"m{n}.yaml"
        p.write_text(textwrap.dedent(f"""\
            name: m{n}
            description: memory check
            grid: {{shape: [{n}, {n}], spacing: 1.0}}
            boundary: reflecting
            diffusivity: 0.2
            initial: {{kind: random_cubes, seed: 7, cube: 8}}
            time: {{dt: 1.0, steps: 80, save_every: 2}}
            methods: [explicit, spectral, gaussian]
            """))
        code = ("import resource, sys; from physconv import cli; "
                "rc = cli.main(['run', sys.argv[1], '--quiet', '--out', sys.argv[2]]); "
                "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024, rc)")
        out = subprocess.run([sys.executable, "-c", code, str(p), str(tmp_path / "out")], capture_output=True,
                             text=True, check=True).stdout.split()
        assert out[-1] == "0"
        return int(out[-2])

    frame = 1024 * 1024 * 8
    grown = (peak(1024) - peak(16)) / frame
    assert grown < 20, f"peak memory grew by {grown:.1f} frames"


def test_frames_given_to_targets_are_read_back_one_frame_at_a_time_without_dask(tmp_path):
    """runner.run(store={method: target}) writes each frame there and reads a frame back only when it is
    indexed, with no dask graph (a sweep's worker compares them inside a dask task)."""
    s = load(tmp_path)
    alone = runner.run(s, progress=False)

    class Target:
        def __init__(self, shape):
            self.data, self.reads = np.full(shape, np.nan), 0
            self.shape, self.dtype = shape, self.data.dtype

        def __setitem__(self, i, frame):
            self.data[i] = frame

        def __getitem__(self, key):
            self.reads += 1
            return self.data[key]

    shape = alone[s.methods[0]].shape
    targets = {m: Target(shape) for m in s.methods}
    ds = runner.run(s, progress=False, store=targets)
    for m in s.methods:
        assert ds[m].chunks is None and targets[m].reads == 0
        np.testing.assert_array_equal(ds[m].isel(time=1).values, alone[m].isel(time=1).values)
        assert targets[m].reads == 1
        np.testing.assert_array_equal(ds[m].values, alone[m].values)


def _kernel_text(weights, shape, steps):
    return (f"name: k\ngrid: {{shape: {list(shape)}}}\nboundary: periodic\ninitial: {{kind: point}}\n"
            f"kernel: {{weights: {np.asarray(weights).tolist()}}}\n"
            f"time: {{dt: 0.5, steps: {steps}, save_every: {steps}}}\nmethods: [explicit, spectral]\n")


@pytest.mark.parametrize("weights, shape", [
    ([0.1, 0.0, 0.9], (41,)),
    ([[0, 0, 0], [0, 0.5, 0], [0, 0.5, 0]], (40, 24)),
    ([[0.05, 0.1, 0.05], [0.1, 0.3, 0.2], [0.0, 0.1, 0.1]], (31, 33)),
    (np.eye(3)[None, :, :] * np.array([0.2, 0.3, 0.5])[:, None, None] / 3, (21, 21, 21)),
], ids=["1d", "2d-shift", "2d-skewed", "3d"])
def test_a_given_probability_kernel_moves_the_mass_by_its_own_moments(tmp_path, weights, shape):
    """No normalize: key: the weights run as given, and n steps move the centre of mass by n mean jumps
    and spread it by n covariances (exact for a walk that has not reached the periodic seam)."""
    k = np.asarray(weights, dtype=float)
    steps = 8
    s = load(tmp_path, _kernel_text(k, shape, steps))
    assert not any("probabilities" in w for w in s.warnings)
    ds = runner.run(s, progress=False)
    np.testing.assert_array_equal(ds["kernel"].values, k)
    assert ds.attrs["kernel_normalize"] == "none"
    m = kernels.moments(k, 1.0, 0.5)
    for name in ("explicit", "spectral"):
        u0, u = ds["initial"].values, ds[name].isel(time=-1).values
        coords = np.meshgrid(*[ds[d].values for d in ds["initial"].dims], indexing="ij")
        mean0 = np.array([(c * u0).sum() for c in coords]) / u0.sum()
        mean = np.array([(c * u).sum() for c in coords]) / u.sum()
        cov = np.array([[((a - mean[i]) * (b - mean[j]) * u).sum() for j, b in enumerate(coords)]
                        for i, a in enumerate(coords)]) / u.sum()
        np.testing.assert_allclose(mean - mean0, steps * m.mean, atol=1e-12)
        np.testing.assert_allclose(cov, steps * m.covariance, atol=1e-12)
        np.testing.assert_allclose(cov / (2 * steps * 0.5), m.diffusivity, atol=1e-12)


def test_signed_kernel_weights_get_softmax_with_a_warning_naming_the_temperature(tmp_path):
    text = _kernel_text([[-1, -1, -1], [-1, 6, -1], [-1, -1, -1]], (16, 16), 2)
    s = load(tmp_path, text)
    assert len(s.warnings) == 1 and "softmax at temperature 1" in s.warnings[0] and ":5: kernel:" in s.warnings[0]
    asked = load(tmp_path, text.replace("]]}", "]], normalize: softmax}"))
    assert asked.warnings == []
    np.testing.assert_array_equal(asked.step_kernel(), s.step_kernel())
    warm = load(tmp_path, text.replace("]]}", "]], temperature: 4}"))
    assert warm.warnings == [] and runner.run(warm, progress=False).attrs["kernel_normalize"] == "softmax"
    np.testing.assert_allclose(warm.step_kernel(), kernels.softmax(warm.kernel_weights(), 4.0), rtol=0, atol=0)


def test_a_scenario_from_a_dict_with_an_array_initial_runs_like_the_same_file(tmp_path):
    u0 = np.random.default_rng(3).random((9, 14))
    np.save(tmp_path / "u0.npy", u0)
    keys = {"name": "nb", "grid": {"shape": [9, 14], "spacing": np.float64(0.5)}, "boundary": "reflecting",
            "diffusivity": 0.05, "time": {"dt": 0.5, "steps": np.int64(12), "save_every": 4},
            "methods": ["explicit", "spectral"]}
    from_dict = runner.run({**keys, "initial": u0}, progress=False)
    p = tmp_path / "s.yaml"
    import yaml

    p.write_text(yaml.safe_dump({**keys, "grid": {"shape": [9, 14], "spacing": 0.5},
                                 "time": {"dt": 0.5, "steps": 12, "save_every": 4},
                                 "initial": {"kind": "array", "path": "u0.npy"}}))
    from_file = runner.run(scenario.load(p), progress=False)
    for m in ("explicit", "spectral", "initial"):
        np.testing.assert_array_equal(from_dict[m].values, from_file[m].values)
    assert "sha256" in from_dict.attrs["scenario"]


@pytest.mark.parametrize("keys, words", [
    ({"initial": np.ones((3, 3))}, "shape (3, 3) but the grid is (9, 14)"),
    ({"diffusivity": "fast"}, "<dict>: diffusivity:"),
    ({"grid": {"shape": [9, 14]}, "initial": np.ones((9, 14)), "colour": "red"}, "<dict>: colour: unknown key"),
])
def test_a_bad_dict_is_refused_at_its_key(keys, words):
    base = {"name": "nb", "grid": {"shape": [9, 14]}, "diffusivity": 0.05, "initial": np.ones((9, 14)),
            "time": {"dt": 0.5, "steps": 2}}
    with pytest.raises(scenario.ScenarioError, match=re.escape(words)):
        scenario.load({**base, **keys})


@pytest.mark.parametrize("particles, words", [(4, "exact binomial test per cell only"), (120, "min chi2 p"),
                                              (7, "exact binomial test per cell only")])
def test_a_monte_carlo_verdict_never_shows_nan(tmp_path, particles, words):
    s = load(tmp_path, overrides=[f"monte_carlo.particles={particles}", "methods=[explicit, monte_carlo]"])
    rows = metrics.rows(metrics.compare(runner.run(s, progress=False)))
    verdict = rows[-1][-1]
    assert "nan" not in " ".join(rows[-1]).lower() and words in verdict and verdict.startswith("consistent")

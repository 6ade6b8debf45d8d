"""A medium in a scenario (DESIGN §11): the keys, the plain path kept bit for bit, the comparison table's
new pairs, and bad input refused in one line naming the file, the line and the key."""

import numpy as np
import pytest

from physconv import cli, metrics, runner
from physconv.scenario import ScenarioError, load, parse

BASE = """\
name: med
grid: {shape: [14, 18], spacing: 1.0}
boundary: reflecting
diffusivity: 0.2
initial: {kind: gaussian, center: [7, 5], width: 2}
time: {dt: 1.0, steps: 20, save_every: 10}
methods: [explicit, spectral, implicit, gaussian]
"""


def _scenario(tmp_path, text, **files):
    for name, array in files.items():
        np.save(tmp_path / name, array)
    path = tmp_path / "s.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("written", [
    "diffusivity: [0.2, 0.2]",
    "diffusivity: {kind: layers, axis: x, edges: [0, 9, 18], values: [0.2, 0.2]}",
    "diffusivity: 0.2\nvelocity: [0.0, 0.0]",
    "diffusivity: 0.2\nobstacles: {kind: array, path: none.npy}",
])
def test_a_medium_that_is_uniform_still_and_isotropic_runs_the_plain_path_bit_for_bit(tmp_path, written):
    plain = runner.run(load(_scenario(tmp_path, BASE)), progress=False)
    text = BASE.replace("diffusivity: 0.2", written)
    s = load(_scenario(tmp_path, text, **{"none.npy": np.zeros((14, 18), dtype=bool)}))
    assert s.medium() is None and s.diffusivity == 0.2
    got = runner.run(s, progress=False)
    for m in ("explicit", "spectral", "implicit", "gaussian"):
        np.testing.assert_array_equal(got[m].values, plain[m].values)


def test_an_anisotropic_uniform_medium_runs_the_kernel_paths_and_the_anisotropic_heat_kernel(tmp_path):
    text = BASE.replace("diffusivity: 0.2", "diffusivity: [0.05, 0.2]").replace("steps: 20", "steps: 60").replace(
        "[14, 18]", "[30, 40]").replace("center: [7, 5]", "center: [15, 20]")
    ds = runner.run(load(_scenario(tmp_path, text)), progress=False)
    cmp = metrics.compare(ds)
    verdicts = {str(p): metrics.verdict(cmp, i) for i, p in enumerate(cmp["pair"].values)}
    assert verdicts["explicit-spectral"] == "agree to round-off"
    assert verdicts["explicit-gaussian"].startswith("as predicted")
    assert "implicit-gaussian" not in verdicts  # Crank-Nicolson of the operator is held against semidiscrete
    spread = [float((ds["explicit"][-1] * (c - float((ds["explicit"][-1] * c).sum() / ds["explicit"][-1].sum())) ** 2)
                    .sum() / ds["explicit"][-1].sum()) for c in (ds["y"], ds["x"])]
    assert spread[1] - 4 > 3 * (spread[0] - 4)  # from the initial variance 4: four times wider along x, where D is


def test_a_drift_between_periodic_walls_is_as_predicted_against_the_shifted_heat_kernel(tmp_path):
    text = BASE.replace("boundary: reflecting", "boundary: periodic").replace(
        "diffusivity: 0.2", "diffusivity: 0.1\nvelocity: [0.1, 0.3]").replace("[14, 18]", "[32, 48]").replace(
        "steps: 20", "steps: 80").replace("methods: [explicit, spectral, implicit, gaussian]",
                                          "methods: [explicit, spectral, semidiscrete, gaussian]")
    ds = runner.run(load(_scenario(tmp_path, text)), progress=False)
    cmp = metrics.compare(ds)
    verdicts = {str(p): metrics.verdict(cmp, i) for i, p in enumerate(cmp["pair"].values)}
    assert verdicts["explicit-spectral"] == "agree to round-off"
    assert verdicts["explicit-gaussian"].startswith("as predicted"), verdicts
    assert verdicts["explicit-semidiscrete"].startswith("as predicted"), verdicts


def test_a_non_uniform_medium_holds_explicit_and_implicit_against_semidiscrete(tmp_path):
    text = BASE.replace("diffusivity: 0.2", "diffusivity: {kind: layers, axis: x, edges: [0, 9, 18], values: "
                                            "[0.05, 0.2]}\nobstacles: {kind: shapes, shapes: [{kind: rectangle, "
                                            "lower: [0, 11], upper: [8, 12]}], wall: absorbing}").replace(
        "methods: [explicit, spectral, implicit, gaussian]", "methods: [explicit, spectral, implicit, semidiscrete]")
    ds = runner.run(load(_scenario(tmp_path, text)), progress=False)
    assert ds["solid"].values.sum() == 8 and ds["diffusivity_field"].shape == (2, 14, 18)
    cmp = metrics.compare(ds)
    verdicts = {str(p): metrics.verdict(cmp, i) for i, p in enumerate(cmp["pair"].values)}
    assert verdicts == {"explicit-spectral": "agree to round-off",
                        "explicit-semidiscrete": verdicts["explicit-semidiscrete"],
                        "implicit-semidiscrete": verdicts["implicit-semidiscrete"]}
    assert verdicts["explicit-semidiscrete"].startswith("as predicted")
    assert verdicts["implicit-semidiscrete"].startswith("as predicted")


def test_semidiscrete_on_the_plain_path_is_paired_with_explicit_and_adi(tmp_path):
    text = BASE.replace("methods: [explicit, spectral, implicit, gaussian]", "methods: [explicit, implicit, semidiscrete]")
    cmp = metrics.compare(runner.run(load(_scenario(tmp_path, text)), progress=False))
    verdicts = {str(p): metrics.verdict(cmp, i) for i, p in enumerate(cmp["pair"].values)}
    assert verdicts["explicit-semidiscrete"].startswith("as predicted"), verdicts
    assert verdicts["implicit-semidiscrete"].startswith("as predicted"), verdicts


def test_a_little_of_a_smooth_initial_field_inside_obstacles_is_removed_with_a_warning(tmp_path):
    text = BASE + "obstacles: {kind: shapes, shapes: [{kind: disc, centre: [7, 14], radius: 2}]}\n"
    s = load(_scenario(tmp_path, text.replace("methods: [explicit, spectral, implicit, gaussian]",
                                              "methods: [explicit, semidiscrete]")))
    assert any("inside obstacles" in w and "removed" in w for w in s.warnings)
    assert np.all(s.initial_field()[s.medium().solid] == 0)


MEDIUM_ERRORS = [
    ("mask of the wrong shape", "obstacles: {kind: array, path: m.npy}", {"m.npy": np.zeros((18, 14), bool)},
     "s.yaml:5: obstacles.path: ", "holds shape (18, 14) but the grid is (14, 18)"),
    ("every cell solid", "obstacles: {kind: array, path: m.npy}", {"m.npy": np.ones((14, 18), bool)},
     "s.yaml:5: obstacles:", "every cell"),
    ("mask not 0 and 1", "obstacles: {kind: array, path: m.npy}", {"m.npy": np.full((14, 18), 2)},
     "obstacles.path", "other than 0 and 1"),
    ("initial inside obstacles", "obstacles: {kind: shapes, shapes: [{kind: disc, centre: [7, 5], radius: 3}]}", {},
     "s.yaml:6: initial:", "inside obstacles"),
    ("D <= 0 in a field", "diffusivity: {kind: array, path: d.npy}", {"d.npy": np.where(np.eye(14, 18) > 0, -1.0, 0.1)},
     "diffusivity.path", "positive and finite"),
    ("NaN in a field", "diffusivity: {kind: array, path: d.npy}", {"d.npy": np.where(np.eye(14, 18) > 0, np.nan, 0.1)},
     "diffusivity.path", "positive and finite"),
    ("velocity of the wrong shape", "velocity: {kind: array, path: v.npy}", {"v.npy": np.zeros((14, 18))},
     "velocity.path", "(2, 14, 18) is needed"),
    ("dt beyond the combined limit", "velocity: [0.0, 0.5]", {}, "s.yaml:7: time.dt:", "largest stable dt is 0.769231"),
    ("layers that miss cells", "diffusivity: {kind: layers, axis: x, edges: [0, 9], values: [0.1]}", {},
     "diffusivity.edges", "cell centres run"),
    ("layers count", "diffusivity: {kind: layers, axis: x, edges: [0, 9, 18], values: [0.1]}", {},
     "diffusivity.values", "give that many"),
    ("per-axis count", "diffusivity: [0.1, 0.2, 0.3]", {}, "s.yaml:4: diffusivity:", "one diffusivity per axis"),
    ("unknown medium key", "obstacles: {kind: shapes, shape: []}", {}, "obstacles.shape", "did you mean"),
    ("gaussian in a field", "diffusivity: {kind: layers, axis: y, edges: [0, 7, 14], values: [0.1, 0.2]}", {},
     "methods:", "depends on position"),
    ("shape in no cell", "obstacles: {kind: shapes, shapes: [{kind: disc, centre: [-50, -50], radius: 1}]}", {},
     "obstacles.shapes[0]", "covers no cell"),
]


@pytest.mark.parametrize("label, line, files, where, words", MEDIUM_ERRORS, ids=[e[0] for e in MEDIUM_ERRORS])
def test_bad_media_give_one_line_naming_the_key_exit_2_and_no_file(tmp_path, capsys, label, line, files, where,
                                                                   words):
    key = line.split(":")[0]
    base = BASE if label == "gaussian in a field" else BASE.replace("implicit, gaussian", "implicit")
    text = base.replace("diffusivity: 0.2", line) if key == "diffusivity" else \
        base.replace("diffusivity: 0.2", "diffusivity: 0.2\n" + line)
    path = _scenario(tmp_path, text, **files)
    out = tmp_path / "out"
    assert cli.main(["run", str(path), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err, err
    assert where in err and words in err, err
    assert not out.exists() or not list(out.iterdir())


def test_a_kernel_with_medium_keys_is_refused():
    text = BASE.replace("diffusivity: 0.2", "kernel: {name: box}\nvelocity: [0.1, 0.0]")
    with pytest.raises(ScenarioError, match="needs a diffusivity"):
        parse(text)


def test_the_propagator_and_homogenised_pictures_are_drawn_and_d_eff_is_said(tmp_path, capsys):
    text = BASE.replace("boundary: reflecting", "boundary: periodic").replace(
        "diffusivity: 0.2", "diffusivity: 0.2\nobstacles: {kind: shapes, shapes: [{kind: disc, centre: [4, 12], "
                            "radius: 2.5}], clear: true}").replace(
        "methods: [explicit, spectral, implicit, gaussian]", "methods: [explicit, semidiscrete]")
    path = _scenario(tmp_path, text)
    assert cli.main(["run", str(path), "--out", str(tmp_path), "--quiet", "--no-plot"]) == 0
    capsys.readouterr()
    result = tmp_path / "med.nc"
    for kind in ("propagator", "homogenised"):
        assert cli.main(["plot", str(result), "--kind", kind]) == 0
        assert (tmp_path / f"med-{kind}.png").stat().st_size > 10_000
    out = capsys.readouterr().out
    assert "D_eff per axis = [" in out and "exact lattice" in out
    shown = [float(v.split(" ± ")[0]) for v in out.split("D_eff per axis = [")[1].split("]")[0].split(", ")]
    assert all(v < 0.2 for v in shown)  # a disc in the way slows the spreading


def test_absorbing_walls_in_a_medium_add_the_survival_panel(tmp_path):
    from physconv import plot

    text = BASE.replace("boundary: reflecting", "boundary: absorbing").replace(
        "diffusivity: 0.2", "diffusivity: [0.1, 0.2]").replace(
        "methods: [explicit, spectral, implicit, gaussian]", "methods: [explicit, semidiscrete]")
    ds = runner.run(load(_scenario(tmp_path, text)), progress=False)
    titles = [ax.get_title() for ax in plot.overview(ds).axes]
    assert any(t.startswith("survival") for t in titles)
    plain = runner.run(load(_scenario(tmp_path, BASE.replace("boundary: reflecting", "boundary: absorbing"))),
                       progress=False)
    assert not any(ax.get_title().startswith("survival") for ax in plot.overview(plain).axes)


def test_brownian_particles_run_in_a_medium_and_are_held_against_semidiscrete(tmp_path):
    """Brownian particles in a smooth D field with a reflecting obstacle: the table holds them against
    semidiscrete as an approximation; their difference is the binomial noise (within 1.5 times its
    expected size). (Across a sharp layer boundary they are first order in dx: D between cell centres is
    interpolated, so its jump is spread over a cell.)"""
    y, x = np.meshgrid(np.arange(14) + 0.5, np.arange(18) + 0.5, indexing="ij")
    D = 0.06 + 0.05 * np.exp(-((x - 9) ** 2 + (y - 7) ** 2) / 20)
    text = BASE.replace("diffusivity: 0.2", "diffusivity: {kind: array, path: D.npy}\nobstacles: {kind: shapes, "
                                            "shapes: [{kind: rectangle, lower: [3, 13], upper: [11, 14]}], "
                                            "clear: true}").replace(
        "methods: [explicit, spectral, implicit, gaussian]", "methods: [explicit, semidiscrete, monte_carlo]").replace(
        "width: 2", "width: 3") + "monte_carlo: {particles: 100000, lattice: false, seed: 3}\n"
    ds = runner.run(load(_scenario(tmp_path, text.replace("dt: 1.0", "dt: 0.5"), **{"D.npy": D})), progress=False)
    cmp = metrics.compare(ds)
    names = [str(p) for p in cmp["pair"].values]
    assert "monte_carlo-semidiscrete" in names and "mc_max_abs_z" not in cmp
    i = names.index("monte_carlo-semidiscrete")
    assert metrics.verdict(cmp, i) == "approximation (no prediction)"
    n = 100_000
    expected = ds["semidiscrete"][-1].values / ds["initial"].values.sum() * n
    counts = ds["monte_carlo"][-1].values / ds["initial"].values.sum() * n
    noise = np.sqrt((expected * (1 - expected / n)).sum()) / np.linalg.norm(expected)
    assert np.linalg.norm(counts - expected) / np.linalg.norm(expected) < 1.5 * noise


def test_a_kernels_result_is_pointed_to_its_kernel_picture(tmp_path, capsys):
    text = BASE.replace("diffusivity: 0.2", "kernel: {name: box}").replace(
        "methods: [explicit, spectral, implicit, gaussian]", "methods: [explicit]")
    assert cli.main(["run", str(_scenario(tmp_path, text)), "--out", str(tmp_path), "--quiet", "--no-plot"]) == 0
    capsys.readouterr()
    for kind in ("propagator", "homogenised"):
        assert cli.main(["plot", str(tmp_path / "med.nc"), "--kind", kind]) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: ") and "--kind kernel" in err and err.count("\n") == 1
        assert not (tmp_path / f"med-{kind}.png").exists()


def test_a_medium_that_walls_fill_draws_its_mass_not_a_share_above_one(tmp_path):
    """Dirichlet walls bring salt into an empty layered slab: the panel draws the mass (it starts at 0),
    not a survival share that would leave its axis."""
    from physconv import plot

    text = BASE.replace("boundary: reflecting", "boundary: dirichlet\nboundary_value: 1.0").replace(
        "diffusivity: 0.2", "diffusivity: [0.1, 0.2]").replace(
        "initial: {kind: gaussian, center: [7, 5], width: 2}", "initial: {kind: two_halves, axis: x, left: 0.0, "
                                                                "right: 0.0}").replace(
        "methods: [explicit, spectral, implicit, gaussian]", "methods: [explicit, semidiscrete]")
    ds = runner.run(load(_scenario(tmp_path, text)), progress=False)
    ax = next(a for a in plot.overview(ds).axes if "salt" in a.get_title())
    assert ax.get_title() == "the salt in the domain (walls add it)"
    assert ax.get_ylim()[1] >= float(metrics.compare(ds)["mass"].max())

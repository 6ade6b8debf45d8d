"""Physical units (DESIGN §13): numbers read in the scenario's units, CF attributes, labels, fits; bad units are
one-line errors at the key; one physical scenario in two systems of units is one result."""

import json

import numpy as np
import pytest

from physconv import cli, runner, scenario, units
from physconv.inverse import frames
from physconv.inverse.fit import fit as fit_frames

MM_S = {"name": "tank_mm_s", "units": {"length": "mm", "time": "s"}, "grid": {"shape": [24, 30], "spacing": 0.25},
        "boundary": {"y": "reflecting", "x": "periodic"}, "diffusivity": 2.0e-3,
        "initial": {"kind": "random_cubes", "seed": 3, "cube": 6},
        "time": {"dt": 6.0, "steps": 300, "save_every": 60},
        "methods": ["explicit", "implicit", "spectral", "gaussian"]}


MEDIUM_MM_S = {"name": "pond_mm_s", "units": {"length": "mm", "time": "s"}, "grid": {"shape": [20, 24], "spacing": 0.5},
               "boundary": {"y": "reflecting", "x": "periodic"},
               "diffusivity": {"kind": "layers", "axis": "x", "edges": [0.0, 5.0, 12.0], "values": [1.0e-3, 3.0e-3]},
               "velocity": [0.0, 2.0e-3],
               "obstacles": {"kind": "shapes", "clear": True, "shapes": [{"kind": "disc", "centre": [5.0, 6.0],
                                                                          "radius": 1.6}]},
               "initial": {"kind": "gaussian", "center": [5.0, 3.0], "width": 1.5},
               "time": {"dt": 10.0, "steps": 200, "save_every": 50}, "methods": ["explicit", "semidiscrete"]}


def in_m_h(d: dict) -> dict:
    """The same physical scenario stated in metres and hours: every length, time, D and velocity converted."""
    L, T = 1e-3, 1 / 3600  # one mm in m, one s in h
    out = json.loads(json.dumps(d))
    out.update(name=d["name"].replace("mm_s", "m_h"), units={"length": "m", "time": "h"})
    out["grid"]["spacing"] = d["grid"]["spacing"] * L
    out["time"]["dt"] = d["time"]["dt"] * T
    D = d["diffusivity"]
    if isinstance(D, dict):
        out["diffusivity"].update(edges=[e * L for e in D["edges"]], values=[v * L**2 / T for v in D["values"]])
    else:
        out["diffusivity"] = D * L**2 / T
    if "velocity" in d:
        out["velocity"] = [v * L / T for v in d["velocity"]]
    for shape in out.get("obstacles", {}).get("shapes", []):
        shape.update(centre=[c * L for c in shape["centre"]], radius=shape["radius"] * L)
    if "center" in out["initial"]:
        out["initial"].update(center=[c * L for c in d["initial"]["center"]], width=d["initial"]["width"] * L)
    return out


@pytest.fixture(scope="module")
def pair():
    return runner.run(MM_S, progress=False), runner.run(in_m_h(MM_S), progress=False)


@pytest.mark.parametrize("scenario_mm_s", [MM_S, MEDIUM_MM_S], ids=["uniform", "medium"])
def test_one_physical_scenario_in_two_systems_of_units_is_one_result(scenario_mm_s, pair):
    a, b = pair if scenario_mm_s is MM_S else (runner.run(scenario_mm_s, progress=False),
                                                runner.run(in_m_h(scenario_mm_s), progress=False))
    if scenario_mm_s is MEDIUM_MM_S:  # the medium's fields carry their units, converted by the same factors
        assert a["diffusivity_field"].attrs["units"] == "mm2 s-1" and b["velocity_field"].attrs["units"] == "m h-1"
        np.testing.assert_array_equal(a["solid"].values, b["solid"].values)
        np.testing.assert_allclose(b["velocity_field"].values * 1e3 / 3600, a["velocity_field"].values, rtol=1e-13)
        np.testing.assert_allclose(b["diffusivity_field"].values * 1e6 / 3600, a["diffusivity_field"].values,
                                   rtol=1e-13)
    for m in scenario_mm_s["methods"]:
        scale = float(np.abs(a[m]).max())
        assert float(np.abs(a[m].values - b[m].values).max()) <= 1e-12 * scale, m  # values: the coords differ
    np.testing.assert_allclose(b["x"].values * 1e3, a["x"].values, rtol=1e-13)  # m -> mm
    np.testing.assert_allclose(b["time"].values * 3600, a["time"].values, rtol=1e-13)  # h -> s
    np.testing.assert_allclose(np.asarray(b.attrs["spacing"]) * 1e3, np.asarray(a.attrs["spacing"]), rtol=1e-13)
    # D dt/dx² has no unit
    np.testing.assert_allclose(np.asarray(b.attrs["cfl"]), np.asarray(a.attrs["cfl"]), rtol=1e-12)


def test_cf_units_attributes_follow_the_scenario(pair):
    a, b = pair
    assert (a["x"].attrs["units"], a["y"].attrs["units"], a["time"].attrs["units"]) == ("mm", "mm", "s")
    assert (b["x"].attrs["units"], b["time"].attrs["units"]) == ("m", "h")
    assert a.attrs["diffusivity_units"] == "mm2 s-1" and b.attrs["diffusivity_units"] == "m2 h-1"
    assert (a.attrs["length_units"], a.attrs["time_units"]) == ("mm", "s")
    # CF units convert by the same factor pint gives: D in m2/h back to mm2/s
    D = b.attrs["diffusivity"] * units.factor("m", "mm") ** 2 / units.factor("h", "s")
    assert D == pytest.approx(a.attrs["diffusivity"], rel=1e-13)


def test_without_units_everything_stays_dimensionless():
    d = {k: v for k, v in MM_S.items() if k != "units"}
    ds = runner.run(d, progress=False)
    assert ds["x"].attrs["units"] == "1" and ds["time"].attrs["units"] == "1"
    assert "length_units" not in ds.attrs and "diffusivity_units" not in ds.attrs
    assert units.time_text(ds, 1800.0) == "1800"


@pytest.mark.parametrize("given, symbol", [("millimeter", "mm"), ("um", "µm"), ("micrometer", "µm"),
                                           ("cm", "cm"), ("m", "m"), ("angstrom", "Å")])
def test_length_names_pint_knows(given, symbol):
    assert units.parse(given, units.LENGTH) == symbol


@pytest.mark.parametrize("key, value, says", [
    ("length", "kg", "'kg' is a mass, not a length"),
    ("length", "s", "'s' is a time, not a length"),
    ("time", "mm", "'mm' is a length, not a time"),
    ("time", "m/s", "not a time"),
    ("length", "furlongz", "is not a unit name pint knows"),
    ("time", "", "must be a unit name"),
    ("length", "m**", "is not a unit name pint knows"),
])
def test_bad_units_are_one_line_errors_at_the_key(tmp_path, capsys, key, value, says):
    path = tmp_path / "bad.yaml"
    d = dict(MM_S, units={"length": "mm", "time": "s", key: value})
    path.write_text(json.dumps(d))
    assert cli.main(["run", str(path), "--out", str(tmp_path), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"error: {path}:") and f"units.{key}: " in err[0] and says in err[0]
    assert not list(tmp_path.glob("*.nc"))


def test_units_must_be_a_mapping_of_known_keys(tmp_path):
    for bad, says in [({"length": "mm", "mass": "kg"}, "units.mass: unknown key"), ("mm", "units: ")]:
        with pytest.raises(scenario.ScenarioError, match=says):
            scenario.load(dict(MM_S, units=bad))


@pytest.mark.parametrize("stored, t_max, shown", [("s", 7200.0, "h"), ("s", 90.0, "min"), ("s", 30.0, "s"),
                                                  ("s", 3 * 86400.0, "d"), ("h", 0.5, "h"), ("min", 600.0, "h"),
                                                  ("ms", 500.0, "ms")])
def test_time_is_shown_in_the_largest_unit_the_run_fills(stored, t_max, shown):
    name, f = units.Units("mm", stored).shown_time(t_max)
    assert name == shown
    assert t_max * f == pytest.approx(t_max * units.factor(stored, shown), rel=1e-14)
    assert name == stored or t_max * f >= 1


def test_pictures_and_summaries_state_the_units(pair):
    import matplotlib

    matplotlib.use("Agg")
    from physconv import plot

    a, _ = pair  # 1800 s: shown in minutes
    fig = plot.overview(a)
    texts = [t.get_text() for ax in fig.axes for t in (ax.xaxis.label, ax.yaxis.label, ax.title)]
    assert "x [mm]" in texts and "time [min]" in texts
    assert any(t.startswith("t = 30 min") for t in texts)
    s = scenario.load(MM_S)
    assert units.span(s.grid.shape, s.grid.spacing, s.time.steps, s.time.dt, s.unit_system()) == \
        "24 x 30 cells of 0.25 mm (6 x 7.5 mm), 300 steps of 6 s (to t = 30 min)"


def test_fit_reads_the_result_in_its_units(tmp_path, pair):
    a, b = pair
    for ds, unit in [(a, "mm²/s"), (b, "m²/h")]:
        path = tmp_path / f"{ds.attrs['title']}.nc"
        ds.to_netcdf(path, engine="h5netcdf")
        f = frames.load([path], var="explicit")
        res = fit_frames(f, propagator="steps", step_dt=float(ds.attrs["dt"]))
        assert res.unit("diffusivity") == unit and res.to_dict()["units"] == {"diffusivity": unit}
        assert res.theta[0] == pytest.approx(ds.attrs["diffusivity"], rel=1e-10)


def test_fit_takes_the_units_of_frames_from_files(tmp_path, capsys):
    from physconv import Grid, spectral

    g = Grid((30, 36), boundary="reflecting")
    u0 = np.random.default_rng(5).random(g.shape)
    np.save(tmp_path / "a.npy", u0)
    np.save(tmp_path / "b.npy", spectral.heat(u0, g, diffusivity=0.25, time=4.0))
    args = ["fit", str(tmp_path / "a.npy"), str(tmp_path / "b.npy"), "--dt", "4", "--spacing", "1",
            "--boundary", "reflecting"]
    assert cli.main(args + ["--units", "um,min", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["units"] == {"diffusivity": "µm²/min"} and d["estimates"]["diffusivity"]["value"] == pytest.approx(0.25)
    assert cli.main(args + ["--units", "um,kg"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--units" in err[0] and "'kg' is a mass, not a time" in err[0]


def test_messages_about_the_time_step_state_its_unit():
    with pytest.raises(scenario.ScenarioError, match=r"time.dt: dt = 60 s is unstable .* the largest stable dt is "
                                                     r"7\.8125 s:"):
        scenario.load(dict(MM_S, time=dict(MM_S["time"], dt=60.0)))
    s = scenario.load(dict(MM_S, time={"dt": "auto", "end": 1800.0}))
    assert any("x the largest stable explicit step 7.8125 s), 256 steps to t = 1800 s" in w for w in s.warnings)
    d = {k: v for k, v in MM_S.items() if k != "units"}  # dimensionless: the numbers alone, as before
    with pytest.raises(scenario.ScenarioError, match=r"dt = 60 is unstable .* the largest stable dt is 7\.8125:"):
        scenario.load(dict(d, time=dict(MM_S["time"], dt=60.0)))

"""physconv fit and physconv deblur: DESIGN §12's JSON, tables and figures; one-line errors, exit 2, no file."""

import json

import numpy as np
import pytest
from PIL import Image

from physconv import Grid, cli, spectral

from .test_cli import REDUCED


def run_cli(*args):
    return cli.main([str(a) for a in args])


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    out = tmp_path_factory.mktemp("fit")
    sets = [x for s in REDUCED["salt_aquarium"] for x in ("--set", s)]
    assert run_cli("run", "salt_aquarium", "--out", out, "--quiet", "--no-plot", *sets) == 0
    return out / "salt_aquarium.nc"


def test_fit_prints_design_json_for_each_method(result, capsys):
    assert run_cli("fit", result, "--var", "explicit", "--propagator", "steps", "--step-dt", "1", "--json") == 0
    d = json.loads(capsys.readouterr().out)
    assert set(d) >= {"model", "estimates", "correlation", "fit"}
    est = d["estimates"]["diffusivity"]
    assert set(est) >= {"value", "stderr", "crb"} and abs(est["value"] - 0.2) < 1e-12
    assert d["fit"]["verdict"].startswith("exact to round-off")
    assert run_cli("fit", result, "--var", "gaussian", "--json") == 0
    # the gaussian method is the sampled heat kernel, normalised on the lattice: its transfer differs from the
    # continuous exp(-D t k^2) only near the Nyquist modes (their aliases), a part in 10^8 of D here
    assert abs(json.loads(capsys.readouterr().out)["estimates"]["diffusivity"]["value"] - 0.2) < 2e-8
    assert run_cli("fit", result, "--var", "monte_carlo", "--propagator", "steps", "--step-dt", "1", "--json") == 0
    d = json.loads(capsys.readouterr().out)
    est = d["estimates"]["diffusivity"]
    assert abs(est["value"] - 0.2) < 3 * est["stderr"]


def test_fit_prints_a_table_and_draws_its_figure(result, tmp_path, capsys):
    fig = tmp_path / "fit.png"
    assert run_cli("fit", result, "--var", "gaussian", "--out", fig) == 0
    out = capsys.readouterr().out
    assert "diffusivity" in out and "CRB" in out and "fit: " in out
    with Image.open(fig) as im:
        assert im.width > 800


def test_fit_learns_a_kernel_and_reads_it(capsys, tmp_path):
    sets = [x for s in REDUCED["salt_aquarium"] + ["time.save_every=1"] for x in ("--set", s)]
    assert run_cli("run", "salt_aquarium", "--out", tmp_path, "--quiet", "--no-plot", *sets) == 0
    result = tmp_path / "salt_aquarium.nc"
    capsys.readouterr()
    assert run_cli("fit", result, "--var", "explicit", "--model", "kernel", "--json", "--out", tmp_path / "k.png") == 0
    d = json.loads(capsys.readouterr().out)
    assert set(d) >= {"estimates", "d_eff", "drift"}
    k = np.asarray(d["estimates"]["kernel"]["value"])
    assert k.shape == (3, 3) and abs(k[1, 1] - 0.2) < 1e-10  # the scenario's FTCS step: D dt / h^2 = 0.2
    assert np.allclose(d["d_eff"], [0.2, 0.2], atol=1e-10)
    assert (tmp_path / "k.png").is_file()


def test_fit_reads_npy_frames_with_their_step_and_says_what_it_assumed(tmp_path, capsys, rng):
    g = Grid((30, 26), boundary="periodic")
    u0 = rng.random(g.shape)
    paths = []
    for i, t in enumerate((0.0, 2.0, 4.0)):
        p = tmp_path / f"f{i}.npy"
        np.save(p, spectral.heat(u0, g, diffusivity=0.3, time=t) + 0.001 * rng.standard_normal(g.shape))
        paths.append(p)
    assert run_cli("fit", *paths, "--dt", 2, "--boundary", "periodic", "--spacing", "1", "--json") == 0
    cap = capsys.readouterr()
    d = json.loads(cap.out)
    assert abs(d["estimates"]["diffusivity"]["value"] - 0.3) < 3 * d["estimates"]["diffusivity"]["stderr"]
    assert run_cli("fit", *paths, "--dt", 2) == 0
    err = capsys.readouterr().err
    assert "warning: --spacing not given" in err and "warning: --boundary not given" in err


@pytest.mark.parametrize("case", ["shapes", "single", "nan", "dt0", "dtneg", "constant", "drift", "var", "suffix",
                                  "kernelmix", "missing"])
def test_fit_refuses_bad_input_in_one_line_without_a_file(tmp_path, capsys, rng, result, case):
    a, b = tmp_path / "a.npy", tmp_path / "b.npy"
    np.save(a, rng.random((12, 10)))
    np.save(b, rng.random((12, 10)))
    fig = tmp_path / "fig.png"
    args = {
        "shapes": [a, tmp_path / "c.npy", "--dt", 1],
        "single": [a, "--dt", 1],
        "nan": [a, tmp_path / "n.npy", "--dt", 1],
        "dt0": [a, b, "--dt", 0],
        "dtneg": [a, b, "--dt", -2],
        "constant": [tmp_path / "k1.npy", tmp_path / "k2.npy", "--dt", 1],
        "drift": [a, b, "--dt", 1, "--boundary", "reflecting", "--model", "drift"],
        "var": [result, "--var", "nothing"],
        "suffix": [a, b, "--dt", 1, "--out", tmp_path / "fig.txt"],
        "kernelmix": [a, b, "--dt", 1, "--model", "kernel,drift"],
        "missing": [tmp_path / "absent.npy", b, "--dt", 1],
    }[case]
    np.save(tmp_path / "c.npy", rng.random((12, 11)))
    n = rng.random((12, 10))
    n[2, 3] = np.nan
    np.save(tmp_path / "n.npy", n)
    np.save(tmp_path / "k1.npy", np.ones((12, 10)))
    np.save(tmp_path / "k2.npy", np.ones((12, 10)))
    code = run_cli("fit", *args, "--out", fig) if case != "suffix" else run_cli("fit", *args)
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len([line for line in err if line.startswith("error:")]) == 1 and "Traceback" not in "\n".join(err)
    assert not fig.exists() and not (tmp_path / "fig.txt").exists()


def test_deblur_restores_a_picture_and_a_field(tmp_path, capsys, rng):
    img = np.outer(np.linspace(0, 1, 40), np.ones(56))
    img[10:30, 20:36] = 0.9
    g = Grid(img.shape, boundary="reflecting")
    b = spectral.heat(img, g, diffusivity=1.0, time=1.0) + 0.003 * rng.standard_normal(img.shape)
    np.save(tmp_path / "b.npy", b)
    assert run_cli("deblur", tmp_path / "b.npy", "--time", 1, "--diffusivity", 1, "--boundary", "reflecting",
                   "--out", tmp_path / "s.npy", "--json", "--figure", tmp_path / "d.png") == 0
    d = json.loads(capsys.readouterr().out)
    assert {"horizon_wavenumber", "finest_scale", "noise_sigma"} <= set(d)
    restored = np.load(tmp_path / "s.npy")
    assert np.abs(restored - img).mean() < np.abs(b - img).mean()
    Image.fromarray(np.flipud(np.clip(b, 0, 1) * 255).astype(np.uint8)).save(tmp_path / "b.png")
    assert run_cli("deblur", tmp_path / "b.png", "--time", 1, "--out", tmp_path / "s.png") == 0
    cap = capsys.readouterr()
    assert "horizon" in cap.out and "warning: --diffusivity not given" in cap.err
    with Image.open(tmp_path / "s.png") as im:
        assert im.size == (56, 40)


@pytest.mark.parametrize("extra, match", [([], "--time is needed"), (["--time", 1, "--sigma", -1], "--sigma must be positive")])
def test_deblur_refuses_in_one_line(tmp_path, capsys, rng, extra, match):
    np.save(tmp_path / "b.npy", rng.random((16, 16)))
    assert run_cli("deblur", tmp_path / "b.npy", "--out", tmp_path / "s.npy", *extra) == 2
    err = capsys.readouterr().err
    assert match in err and not (tmp_path / "s.npy").exists()
    assert run_cli("deblur", tmp_path / "b.npy", "--time", 1, "--out", tmp_path / "s.tif") == 2
    assert "--out must end in .png or .npy" in capsys.readouterr().err

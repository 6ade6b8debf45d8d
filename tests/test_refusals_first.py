"""Cheap refusals come before expensive work: destinations, counts and the largest level are checked
before any variant is validated or any level computed."""

import pytest

from physconv import cli, runner, sweep
from physconv.insights import convergence

from .test_sweep import _write


def _blocked(tmp_path):
    (tmp_path / "afile").write_text("a file, not a folder")
    return tmp_path / "afile"


def _never(*args, **kwargs):
    raise AssertionError("expensive work started before a cheap refusal")


@pytest.mark.parametrize("out", ["inside", "plain"])
def test_a_sweep_destination_is_refused_before_its_variants_are_validated(tmp_path, capsys, monkeypatch, out):
    monkeypatch.setattr(sweep, "plan", _never)
    target = _blocked(tmp_path) / "s.zarr" if out == "inside" else _blocked(tmp_path)
    status = cli.main(["sweep", str(_write(tmp_path)), "--set", "diffusivity=0.01:0.2:90000", "--out", str(target)])
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2 and len(err) == 1 and err[0].startswith("error: ")


@pytest.mark.parametrize("axes", [["diffusivity=0.01:0.2:400", "time.steps=1:400:400"],
                                  ["diffusivity=0.01:0.2:100001"]])
def test_too_many_variants_are_refused_at_once(tmp_path, capsys, monkeypatch, axes):
    monkeypatch.setattr(sweep, "plan", _never)
    args = ["sweep", str(_write(tmp_path))] + [x for a in axes for x in ("--set", a)]
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    assert f"a sweep has at most {sweep.MAX_VARIANTS}" in err or f"from 1 to {sweep.MAX_VARIANTS}" in err


def test_a_convergence_level_too_large_is_refused_before_any_level_runs(capsys, monkeypatch):
    monkeypatch.setattr(runner, "run", _never)
    assert cli.main(["insight", "convergence", "diffusion_3d", "--levels", "6"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "times finer) is refused before any level runs" in err[0] and "GiB" in err[0]


def test_convergence_says_each_run_as_it_starts(capsys):
    numbers, _ = convergence.insight("diffusion_1d", 2, ["time.steps=20"], say=print)
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("[1/") and "level 0" in out[0] and any("level 1" in line for line in out)
    assert numbers["levels"] == 2


@pytest.mark.parametrize("command", [["insight", "edge"], ["insight", "convergence"], ["kernel", "edge"],
                                     ["kernel", "[[0, 0.25, 0], [0.25, 0, 0.25], [0, 0.25, 0]]"]])
def test_a_picture_that_cannot_be_written_is_refused_before_any_analysis(tmp_path, capsys, monkeypatch, command):
    monkeypatch.setattr(runner, "run", _never)
    from physconv.insights import edge, kernel

    monkeypatch.setattr(edge, "insight", _never)
    monkeypatch.setattr(kernel, "explain", _never)
    assert cli.main(command + ["--out", str(_blocked(tmp_path) / "x.png")]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and len(captured.err.strip().splitlines()) == 1

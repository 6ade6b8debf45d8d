"""A store read back is checked, not trusted: damage is one line naming what is damaged, never a result or a
verdict, and re-running the sweep redoes exactly the damaged variants."""

import json

import numpy as np
import pytest

from physconv import cli, runner, store_check, sweep

from .test_sweep import SWEEP_BASE, _write

AXIS = "diffusivity=0.05,0.1,0.15"


@pytest.fixture
def finished(tmp_path, client):
    """A finished sweep of three variants, and a counter of the variants a re-run computes."""
    path = _write(tmp_path, SWEEP_BASE.replace("methods: [explicit, spectral, gaussian, monte_carlo]",
                                               "methods: [explicit, spectral, gaussian]"))
    store = tmp_path / "s.zarr"
    sweep.run(sweep.plan(path, [sweep.parse_axis(AXIS)]), store, client, say=lambda line: None)
    return path, store


def _rerun(path, store, client, monkeypatch):
    calls = []
    spectral = runner._METHODS["spectral"]
    monkeypatch.setitem(runner._METHODS, "spectral",
                        lambda s, *a, **kw: (calls.append(float(s.diffusivity)), spectral(s, *a, **kw))[1])
    found = {}
    p = sweep.plan(path, [sweep.parse_axis(AXIS)])
    todo, _ = sweep.pending(store, p, damaged=found)
    sweep.run(p, store, client, say=lambda line: None)
    return sorted(calls), found


def _garbage(path):
    path.write_bytes(b"\x00garbage" * 3)


def _truncate(path):
    path.write_bytes(path.read_bytes()[:-5])


@pytest.mark.parametrize("chunk, spoil", [
    ("explicit/1.2.0.0", lambda p: p.unlink()),          # a frame's chunk deleted
    ("gaussian/1.0.0.0", _garbage),                       # a frame's chunk overwritten
    ("spectral/1.1.0.0", _truncate),                      # a frame's chunk cut short
    ("initial/1.0.0", lambda p: p.unlink()),
    ("time/1.0", _garbage),
    ("done/1", _garbage),                               # the done-mark itself
])
def test_a_damaged_variant_is_named_and_a_rerun_redoes_exactly_it(finished, client, monkeypatch, capsys, chunk,
                                                                   spoil):
    path, store = finished
    spoil(store / chunk)
    assert cli.main(["compare", str(store)]) == 0
    captured = capsys.readouterr()
    assert f"warning: {store}: 1 finished variant(s) damaged" in captured.err and chunk.split("/")[0] in captured.err
    damaged_rows = [line for line in captured.out.splitlines() if line.startswith("diffusivity=0.1 ")]
    assert len(damaged_rows) == 1 and "(damaged: " in damaged_rows[0] and "agree" not in damaged_rows[0]
    assert captured.out.count("agree to round-off") == 2
    calls, found = _rerun(path, store, client, monkeypatch)
    assert calls == [0.1] and list(found) == ["diffusivity=0.1"]
    marks, damaged = sweep.state(store, sweep.open_sweep(store))
    assert not damaged and (marks != 0).all()


def test_a_deleted_comparison_chunk_gives_no_verdict(finished, capsys):
    """Difference chunks may be absent by right (an all-NaN chunk is not written): the row says so."""
    _, store = finished
    (store / "max_abs_diff" / "2.0.0").unlink()
    assert cli.main(["compare", str(store)]) == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("diffusivity=0.15 ")]
    assert rows and all("NO VERDICT" in r for r in rows if "exact" in r)
    assert not any("agree" in r for r in rows if "exact" in r)


@pytest.mark.parametrize("spoil, says", [
    (lambda s: (s / "done" / ".zarray").write_text((s / "done" / ".zarray").read_text().replace("<i8", "<f4")),
     r"done/.zarray: shape \(3,\) and dtype float32, where the sweep has \(3,\) and int64"),
    (lambda s: (s / "done" / ".zarray").write_text("{oops"), r"done/.zarray: unreadable"),
    (lambda s: __import__("shutil").rmtree(s / "done"), r"done: missing"),
    (lambda s: (s / ".zattrs").write_text((s / ".zattrs").read_text().replace('"axes": "[', '"axes": "{[')),
     r".zattrs: the attribute 'axes' \(the swept keys and values\) is damaged"),
    (lambda s: (s / "explicit" / ".zarray").write_text("[]"), r"a damaged sweep store: .*explicit/.zarray: not a JSON object"),
])
def test_damaged_metadata_is_one_line_naming_the_file(finished, capsys, spoil, says):
    path, store = finished
    spoil(store)
    for command in (["compare", str(store)], ["plot", str(store)],
                    ["sweep", str(path), "--set", AXIS, "--out", str(store)]):
        assert cli.main(command) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("error: ") and __import__("re").search(says, err[0]), err


def test_chunks_are_checked_by_decoding_them_with_the_arrays_codec(finished):
    _, store = finished
    arrays = store_check.arrays(store, ("diffusivity",))
    assert {"explicit", "spectral", "gaussian", "initial", "time", "step", "done"} <= set(arrays)
    assert all(arrays[m].damage((i,), True) is None for m in ("explicit", "initial") for i in range(3))
    meta = json.loads((store / "explicit" / ".zarray").read_text())
    frame = np.frombuffer(arrays["explicit"].codec.decode((store / "explicit" / "0.0.0.0").read_bytes()), "<f8")
    assert frame.size == np.prod(meta["chunks"]) and np.isfinite(frame).all()


def test_the_sweep_command_says_which_finished_variants_it_runs_again(finished, monkeypatch, capsys):
    from distributed import Client, LocalCluster

    from physconv import cluster

    path, store = finished
    (store / "gaussian" / "2.1.0.0").unlink()
    monkeypatch.setattr(cluster, "connect", lambda *a, **kw: Client(LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, dashboard_address="127.0.0.1:0")))
    assert cli.main(["sweep", str(path), "--set", AXIS, "--out", str(store)]) == 0
    err = capsys.readouterr().err
    assert f"warning: {store}: 1 finished variant(s) damaged, run again (first: diffusivity=0.15: gaussian/2.1.0.0" in err
    assert "3 variants: 2 done before, 1 to run" in err

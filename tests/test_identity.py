"""A store knows what it holds: the scenario's text, every file it reads, the physconv version; a store
never mixes results of different inputs, and says in one line what changed."""

import hashlib

import numpy as np
import pytest

from physconv import identity, scenario, sweep

from .test_scenario import BASE

ARRAY_SCENARIO = BASE.replace("initial: {kind: random_cubes, seed: 1}", "initial: {kind: array, path: field.npy}")


def _files(tmp_path, text=ARRAY_SCENARIO, seed=0):
    np.save(tmp_path / "field.npy", np.random.default_rng(seed).random((12, 10)))
    path = tmp_path / "s.yaml"
    path.write_text(text)
    return path


def test_the_files_a_scenario_reads_are_found_by_their_keys(tmp_path):
    path = _files(tmp_path)
    s = scenario.load(path)
    assert identity.input_files(s) == {"initial.path": tmp_path / "field.npy"}
    assert identity.input_files(scenario.load(_files(tmp_path, BASE))) == {}


def test_a_file_digest_is_sha256_of_its_bytes_read_in_blocks(tmp_path, monkeypatch):
    monkeypatch.setattr(identity, "CHUNK", 7)
    data = bytes(range(256)) * 3
    (tmp_path / "b").write_bytes(data)
    assert identity.file_digest(tmp_path / "b") == hashlib.sha256(data).hexdigest()


def test_a_plan_records_text_overrides_files_and_version(tmp_path):
    path = _files(tmp_path)
    p = sweep.plan(path, [sweep.parse_axis("diffusivity=0.1,0.2")], base_overrides=["time.steps=6"])
    assert p.identity["scenario_sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert p.identity["overrides"] == ["time.steps=6"]
    digest = hashlib.sha256((tmp_path / "field.npy").read_bytes()).hexdigest()
    assert p.identity["files"] == {"initial.path": [digest]}
    assert p.files == {str(tmp_path / "field.npy"): digest}
    assert p.identity["physconv"] == identity.__version__
    assert len({v.fingerprint for v in p.variants}) == 2 and all(v.fingerprint > 0 for v in p.variants)


@pytest.mark.parametrize("change, says", [
    (lambda d: np.save(d / "field.npy", np.random.default_rng(5).random((12, 10))),
     r"initial.path: the file it names changed"),
    (lambda d: (d / "s.yaml").write_text(ARRAY_SCENARIO.replace("seed: 2", "seed: 7")),
     r"the scenario's text changed \(line 11: 'monte_carlo: \{particles: 1000, seed: 2\}' -> "
     r"'monte_carlo: \{particles: 1000, seed: 7\}'\)"),
    (lambda d: (d / "s.yaml").write_text(ARRAY_SCENARIO.replace("name: tiny", "name: other")),
     r"the scenario's text changed \(line 1: 'name: tiny' -> 'name: other'\)"),
    (lambda d: (d / "s.yaml").write_text(ARRAY_SCENARIO + "# a comment\n"),
     r"the scenario's text changed \(line 12: '\(nothing\)' -> '# a comment'\)"),
])
def test_a_store_refuses_another_input_and_names_the_change(tmp_path, change, says):
    path = _files(tmp_path)
    axes = [sweep.parse_axis("diffusivity=0.1,0.2")]
    store = tmp_path / "s.zarr"
    sweep.pending(store, sweep.plan(path, axes))
    change(tmp_path)
    with pytest.raises(sweep.SweepError, match="holds the results of another input: " + says):
        sweep.pending(store, sweep.plan(path, axes))


def test_other_overrides_or_another_version_are_refused_too(tmp_path, monkeypatch):
    path = _files(tmp_path)
    axes = [sweep.parse_axis("diffusivity=0.1,0.2")]
    store = tmp_path / "s.zarr"
    sweep.pending(store, sweep.plan(path, axes, base_overrides=["time.steps=6"]))
    with pytest.raises(sweep.SweepError, match=r"the --set values changed \(time.steps=6 -> time.steps=8\)"):
        sweep.pending(store, sweep.plan(path, axes, base_overrides=["time.steps=8"]))
    monkeypatch.setattr(identity, "__version__", "99.0")
    with pytest.raises(sweep.SweepError, match=r"written by physconv .* this is 99.0"):
        sweep.pending(store, sweep.plan(path, axes, base_overrides=["time.steps=6"]))


def test_the_same_input_moved_elsewhere_is_the_same_store(tmp_path):
    """Files are compared by content under their key: a scenario copied with its file is the same input."""
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    axes = [sweep.parse_axis("diffusivity=0.1,0.2")]
    one = sweep.plan(_files(a), axes)
    two = sweep.plan(_files(b), axes)
    assert identity.difference(one.identity, two.identity) is None
    np.save(b / "field.npy", np.ones((12, 10)))
    assert identity.difference(one.identity, sweep.plan(b / "s.yaml", axes).identity).startswith("initial.path")


def test_a_store_without_a_readable_record_is_refused(tmp_path):
    import zarr

    path = _files(tmp_path)
    axes = [sweep.parse_axis("diffusivity=0.1,0.2")]
    store = tmp_path / "s.zarr"
    sweep.pending(store, sweep.plan(path, axes))
    group = zarr.open_group(str(store), mode="r+", zarr_format=2)
    for bad in ("{not json", "[1, 2]"):
        group.attrs["identity"] = bad
        with pytest.raises(sweep.SweepError, match="no readable record of the scenario and files"):
            sweep.pending(store, sweep.plan(path, axes))
    del group.attrs["identity"]
    with pytest.raises(sweep.SweepError, match="no readable record"):
        sweep.pending(store, sweep.plan(path, axes))


def test_a_worker_refuses_a_file_that_changed_after_the_plan(tmp_path):
    path = _files(tmp_path)
    p = sweep.plan(path, [sweep.parse_axis("diffusivity=0.1,0.2")])
    v = p.variants[0]
    np.save(tmp_path / "field.npy", np.full((12, 10), 0.5))
    with pytest.raises(sweep.SweepError, match="initial.path: the file .*field.npy changed after the sweep started"):
        sweep.run_variant(p.text, str(p.source), str(p.source.parent), v.overrides, files=p.files)

"""Bad input of every kind: one `error:` line naming file, line and key, exit 2, nothing written.

One row per cause, each with more than one value. Rows that could take the machine (alias bombs,
endless files, huge step counts) run in a subprocess whose time and peak memory are bounded.
Signals are real SIGINT / SIGTERM sent to a running `physconv`.
"""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from physconv import cli, io

from .test_scenario import BASE

ALIAS_BOMB = "".join(f"{c}: &{c} [{', '.join([f'*{p}'] * 9)}]\n" for p, c in zip("abcdefghi", "bcdefghij"))
ALIAS_BOMB = "a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1]\n" + ALIAS_BOMB
MAP_BOMB = "a: &a {x: 1, y: 1, z: 1, w: 1}\n" + "".join(
    f"{c}: &{c} {{x: *{p}, y: *{p}, z: *{p}, w: *{p}}}\n" for p, c in zip("abcdefghijkl", "bcdefghijklm"))


def _one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ") and "Traceback" not in err
    return lines[0]


def _write(tmp_path, text, name="bad.yaml"):
    p = tmp_path / name
    p.write_text(textwrap.dedent(text))
    return p


def _pic(tmp_path, name, data: bytes):
    (tmp_path / name).write_bytes(data)


def _png_header(w, h):
    import struct
    import zlib

    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\0" * 100)) + chunk(b"IEND", b""))


def _npy(tmp_path, name, array=None, header_shape=None, npz=False):
    p = tmp_path / name
    if header_shape is not None:
        with open(p, "wb") as f:
            np.lib.format.write_array_header_1_0(f, {"descr": "<f8", "fortran_order": False, "shape": header_shape})
            f.write(b"\0" * 64)
    elif npz:
        with open(p, "wb") as f:
            np.savez(f, a=array)
    else:
        with open(p, "wb") as f:
            np.save(f, array)


def _truncated_png(tmp_path, name):
    from PIL import Image

    Image.fromarray((np.arange(64 * 64).reshape(64, 64) % 251).astype(np.uint8)).save(tmp_path / "whole.png")
    data = (tmp_path / "whole.png").read_bytes()
    (tmp_path / name).write_bytes(data[: len(data) // 2])


def _edit(old, new):
    return BASE.replace(old, new)


def _initial(spec):
    return _edit("{kind: random_cubes, seed: 1}", spec)


# (label, text, extra argv, prepare(tmp_path) or None, words that must be in the line)
ROWS = [
    # 1. frames counted before anything is allocated
    ("steps 1e9 save every step", _edit("steps: 10", "steps: 1000000000").replace("save_every: 5", "save_every: 1"),
     [], None, ["time.save_every", "GiB"]),
    ("steps 1e12 save every 3", _edit("steps: 10", "steps: 1000000000000").replace("save_every: 5", "save_every: 3"),
     [], None, ["time.save_every", "GiB"]),
    # 3. regular files of at most 1 MiB
    ("2 MB description", BASE + "# " + "x" * 2_100_000 + "\n", [], None, ["1 MiB"]),
    # 7. every number finite; spectral is held to the FTCS limit
    ("diffusivity inf, Brownian", _edit("diffusivity: 0.2", "diffusivity: .inf").replace(
        "seed: 2}", "seed: 2, lattice: false}"), [], None,
     [":4: diffusivity:", "finite"]),
    ("dt nan", _edit("dt: 1.0", "dt: .nan"), [], None, [":7: time.dt:", "finite"]),
    ("dt 3 with spectral only", _edit("dt: 1.0", "dt: 3.0").replace(
        "methods: [explicit, spectral, gaussian, monte_carlo]", "methods: [spectral, gaussian]"), [], None,
     [":7: time.dt:", "largest stable dt"]),
    ("dt 1.4 with spectral only", _edit("dt: 1.0", "dt: 1.4").replace(
        "methods: [explicit, spectral, gaussian, monte_carlo]", "methods: [spectral]"), [], None,
     [":7: time.dt:", "unstable"]),
    # 9. integers in range, fields with salt, readable data files
    ("seed -1", _edit("{particles: 1000, seed: 2}", "{particles: 1000, seed: -1}"), [], None,
     ["monte_carlo.seed", "greater than or equal to 0"]),
    ("seed 2**70", _edit("{particles: 1000, seed: 2}", "{particles: 1000, seed: 1180591620717411303424}"), [], None,
     ["monte_carlo.seed", "less than or equal"]),
    ("all-zero field with monte_carlo", _initial("{kind: checkerboard, low: 0.0, high: 0.0}"), [], None,
     [":5: initial:", "all zero"]),
    ("cube 1e18", _initial("{kind: random_cubes, cube: 1000000000000000000}"), [], None, ["initial.cube"]),
    ("npz named npy", _initial("{kind: array, path: a.npy}"), [], lambda t: _npy(t, "a.npy", np.ones((12, 10)), npz=True),
     ["initial.path", ".npz"]),
    ("structured npy", _initial("{kind: array, path: a.npy}"), [],
     lambda t: _npy(t, "a.npy", np.zeros((12, 10), dtype=[("a", "f8")])), ["initial.path", "real numbers"]),
    ("complex npy", _initial("{kind: array, path: a.npy}"), [], lambda t: _npy(t, "a.npy", np.ones((12, 10)) * 1j),
     ["initial.path", "complex"]),
    ("npy header of 1e10 values", _initial("{kind: array, path: a.npy}"), [],
     lambda t: _npy(t, "a.npy", header_shape=(100_000, 100_000)), ["initial.path", "(100000, 100000)"]),
    ("PNG header 100000 x 100000", _initial("{kind: image, path: p.png}"), [],
     lambda t: _pic(t, "p.png", _png_header(100_000, 100_000)), ["initial.path", "pixels"]),
    ("PNG missing rows", _initial("{kind: image, path: p.png}"), [], lambda t: _truncated_png(t, "p.png"),
     ["initial.path", "damaged"]),
    ("NUL in description", BASE + 'description: "a\\0b"\n', [], None, ["description"]),
    ("bell in description", BASE + 'description: "a\\ab"\n', [], None, ["description"]),
    ("steps 1e30", _edit("steps: 10", "steps: 1000000000000000000000000000000"), [], None, ["time.steps"]),
    ("max-memory nan", BASE, ["--max-memory", "nan"], None, ["--max-memory"]),
    ("max-memory inf", BASE, ["--max-memory", "inf"], None, ["--max-memory"]),
    ("max-memory -1", BASE, ["--max-memory", "-1"], None, ["--max-memory"]),
    # 11. what can be known before computing is checked by validate
    ("35 x 35 kernel on a 12 x 10 reflecting grid", _edit("diffusivity: 0.2", "kernel: {weights: " + json.dumps(
        np.ones((35, 35)).tolist()) + "}"), [], None, [":4: kernel:", "reaches 17 cells"]),
    ("5 x 5 kernel on a 1 x 1 grid", _edit("diffusivity: 0.2", "kernel: {weights: " + json.dumps(
        np.ones((5, 5)).tolist()) + "}").replace("shape: [12, 10]", "shape: [1, 1]"), [], None, ["kernel:", "reaches 2"]),
    ("a 250-character name", _edit("name: tiny", "name: " + "n" * 250), [], None, [":1: name:", "too long"]),
    # 13. nonsense refused
    ("duplicate key", BASE + "diffusivity: 0.3\n", [], None, [":12: diffusivity:", "duplicate"]),
    ("duplicate nested key", _edit("dt: 1.0", "dt: 1.0\n  dt: 2.0"), [], None, [":8: dt:", "duplicate"]),
    ("boolean kernel weights", _edit("diffusivity: 0.2", "kernel: {weights: [[true, 1, 0], [1, 1, 1], [0, 1, 1]]}"),
     [], None, ["kernel.weights", "true/false"]),
    # 14. the right key in the message
    ("spacing inf", _edit("spacing: 1.0", "spacing: .inf"), [], None, [":2: grid.spacing: must be a finite"]),
    ("spacing list with inf", _edit("spacing: 1.0", "spacing: [1.0, .inf]"), [], None, ["grid.spacing"]),
    ("boundary a number", _edit("boundary: reflecting", "boundary: 3"), [], None, [":3: boundary: "]),
    ("temperature inf", _edit("diffusivity: 0.2", "kernel: {name: edge, temperature: .inf}"), [], None,
     [":4: kernel.temperature:"]),
    ("too many particles", _edit("{particles: 1000, seed: 2}", "{particles: 9000000000000000}"), [], None,
     ["monte_carlo.particles:", "GiB"]),
]


CASES = [(c, *row) for row in ROWS for c in ("validate", "run") if c == "run" or not row[2]]  # options: run only


@pytest.mark.parametrize("command, label, text, extra, prepare, words", CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_bad_scenario(tmp_path, capsys, command, label, text, extra, prepare, words):
    """Everything run refuses, validate refuses first: exit 2, one line naming file, line and key, no file."""
    if prepare:
        prepare(tmp_path)
    path = _write(tmp_path, text)
    out = tmp_path / "out"
    argv = [command, path, *extra] + (["--out", out] if command == "run" else [])
    assert cli.main([str(a) for a in argv]) == 2
    line = _one_error_line(capsys.readouterr().err)
    if ":" in words[0] and words[0].startswith(":"):
        assert line.startswith(f"error: {path}{words[0]}"), line
    for w in words:
        assert w in line, (w, line)
    assert not out.exists() or not any(out.iterdir())


def test_a_set_problem_is_named_as_the_override(tmp_path, capsys):
    path = _write(tmp_path, BASE)
    for override in ("time={dt: 9.0, steps: 10}", "time.dt=9.0"):
        assert cli.main(["validate", str(path), "--set", override]) == 2
        line = _one_error_line(capsys.readouterr().err)
        assert line.startswith(f"error: {path} (--set): time.dt:"), line


# --- bounded time and memory: subprocesses ---------------------------------------------------------

_LAUNCH = ("import atexit, sys\n"
           "report = sys.argv[1]\n"
           "def peak():\n"
           "    with open('/proc/self/status') as f, open(report, 'w') as out:\n"
           "        out.write(next(line for line in f if line.startswith('VmHWM')))\n"
           "atexit.register(peak)\n"
           "sys.argv = ['physconv'] + sys.argv[2:]\n"
           "from physconv.cli import main\n"
           "sys.exit(main())\n")


def _bounded(argv, cwd, seconds=20):
    """Run physconv in a subprocess; return (status, stderr, wall seconds, its own peak RSS in MiB).

    The peak is the child's VmHWM, read by the child itself as it exits (``ru_maxrss`` of a child
    on Linux starts from the parent's size at fork and would count the test process too).
    """
    report = Path(cwd) / "peak.txt"
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", _LAUNCH, str(report), *map(str, argv)], cwd=cwd,
                          capture_output=True, text=True, timeout=seconds)
    wall = time.perf_counter() - start
    peak_kib = int(report.read_text().split()[1])
    return proc.returncode, proc.stderr, wall, peak_kib / 1024


@pytest.mark.parametrize("label, text", [("alias bomb (lists)", ALIAS_BOMB), ("alias bomb (mappings)", MAP_BOMB),
                                         ("alias bomb under a valid key", BASE + "description: &d x\n" +
                                          "initial: " + "[" * 1 + "]" * 1 + "\n")])
def test_yaml_bombs_are_refused_fast_in_little_memory(tmp_path, label, text):
    path = _write(tmp_path, text)
    status, err, wall, peak = _bounded(["validate", path], tmp_path)
    assert status == 2
    _one_error_line(err)
    assert wall < 5 and peak < 200, (wall, peak)  # the interpreter's start-up included


@pytest.mark.parametrize("source", ["/dev/zero", "fifo"])
def test_endless_or_special_files_are_refused_before_reading(tmp_path, source):
    if source == "fifo":
        source = tmp_path / "pipe.yaml"
        os.mkfifo(source)
    status, err, wall, peak = _bounded(["validate", source], tmp_path)
    assert status == 2 and "not a regular file" in _one_error_line(err)
    assert wall < 5 and peak < 200


def test_a_deeply_nested_file_is_refused(tmp_path):
    path = _write(tmp_path, "a: " + "[" * 20000 + "]" * 20000 + "\n")
    status, err, wall, peak = _bounded(["validate", path], tmp_path)
    assert status == 2 and "nested too deeply" in _one_error_line(err)


# --- the user's files are never lost -------------------------------------------------------------

@pytest.mark.parametrize("fmt, suffix", [("netcdf", ".nc"), ("zarr", ".zarr")])
def test_a_folder_of_the_users_is_never_replaced(tmp_path, capsys, fmt, suffix):
    path = _write(tmp_path, BASE)
    keep = tmp_path / "out" / f"tiny{suffix}" / "inner"
    keep.mkdir(parents=True)
    (keep / "precious.txt").write_text("mine")
    assert cli.main(["run", str(path), "--out", str(tmp_path / "out"), "--format", fmt, "--quiet"]) == 2
    assert "did not write" in _one_error_line(capsys.readouterr().err)
    assert (keep / "precious.txt").read_text() == "mine"


def test_a_zarr_store_physconv_wrote_is_replaced(tmp_path, capsys):
    path = _write(tmp_path, BASE)
    for _ in range(2):
        assert cli.main(["run", str(path), "--out", str(tmp_path), "--format", "zarr", "--quiet", "--no-plot"]) == 0
    assert io.open_result(tmp_path / "tiny.zarr")["explicit"].shape == (3, 12, 10)


@pytest.mark.parametrize("blocker", ["tiny.png", "tiny.png/deeper"])
def test_runs_that_cannot_write_everything_write_nothing(tmp_path, capsys, blocker):
    path = _write(tmp_path, BASE)
    (tmp_path / "out" / blocker).mkdir(parents=True)
    assert cli.main(["run", str(path), "--out", str(tmp_path / "out")]) == 2
    assert "tiny.png" in _one_error_line(capsys.readouterr().err)
    assert not (tmp_path / "out" / "tiny.nc").exists()


# --- results from elsewhere, damaged results, picture options -----------------------------------

@pytest.fixture
def result(tmp_path, capsys):
    path = _write(tmp_path, BASE)
    assert cli.main(["run", str(path), "--out", str(tmp_path), "--quiet", "--no-plot"]) == 0
    capsys.readouterr()
    return tmp_path / "tiny.nc"


@pytest.mark.parametrize("make", [
    lambda p: xr.Dataset({"u": ("x", np.arange(3.0))}).to_netcdf(p, engine="h5netcdf"),
    lambda p: io.open_result(Path(str(p).replace("foreign.nc", "tiny.nc"))).drop_attrs().to_netcdf(p, engine="h5netcdf"),
    lambda p: p.write_bytes(b"not netcdf at all"),
])
@pytest.mark.parametrize("command", [["compare"], ["plot"], ["animate"], ["compare", "--json"]])
def test_foreign_or_broken_result_files_are_refused(tmp_path, capsys, result, make, command):
    foreign = tmp_path / "foreign.nc"
    make(foreign)
    assert cli.main([command[0], str(foreign), *command[1:]]) == 2
    assert "not a physconv result" in _one_error_line(capsys.readouterr().err)


def test_a_zarr_result_with_lost_chunks_is_reported_as_damaged(tmp_path, capsys):
    path = _write(tmp_path, BASE)
    assert cli.main(["run", str(path), "--out", str(tmp_path), "--format", "zarr", "--quiet", "--no-plot"]) == 0
    capsys.readouterr()
    chunks = [p for p in (tmp_path / "tiny.zarr" / "spectral").rglob("*") if p.is_file() and not p.name.startswith(
        (".z", "zarr.json"))]
    assert chunks
    for c in chunks:
        c.unlink()
    assert cli.main(["compare", str(tmp_path / "tiny.zarr")]) == 2
    assert "damaged" in _one_error_line(capsys.readouterr().err)


@pytest.mark.parametrize("argv, words", [
    (["--kind", "differences", "--pair", "foo"], "--pair"),
    (["--kind", "differences", "--pair", "explicit-foo"], "--pair"),
    (["--out", "x.xyz"], "must end in"),
    (["--out", "picture"], "must end in"),
])
def test_bad_plot_options(tmp_path, capsys, result, argv, words):
    argv = [a if a not in ("x.xyz", "picture") else str(tmp_path / a) for a in argv]
    assert cli.main(["plot", str(result), *argv]) == 2
    assert words in _one_error_line(capsys.readouterr().err)
    assert not list(tmp_path.glob("x.xyz*")) and not list(tmp_path.glob(".x.xyz*"))


def test_animation_must_be_a_gif(tmp_path, capsys, result):
    assert cli.main(["animate", str(result), "--out", str(tmp_path / "a.png")]) == 2
    assert ".gif" in _one_error_line(capsys.readouterr().err)


def test_compare_json_is_strict_json(result, capsys):
    assert cli.main(["compare", str(result), "--json"]) == 0

    def refuse(name):
        raise ValueError(f"bare {name} in the JSON")

    data = json.loads(capsys.readouterr().out, parse_constant=refuse)
    assert "rel_l2" in data["data_vars"]


def test_few_particles_on_many_cells_are_judged_by_the_exact_test(tmp_path, capsys):
    """With 60 particles on 256 cells the chi-square is undefined: the verdict rests on the exact per-cell test."""
    path = _write(tmp_path, _edit("shape: [12, 10]", "shape: [16, 16]").replace("particles: 1000", "particles: 60"))
    assert cli.main(["run", str(path), "--out", str(tmp_path), "--no-plot"]) == 0
    out = capsys.readouterr().out
    assert "monte_carlo" in out and "INCONSISTENT" not in out and "consistent" in out


def test_successful_runs_print_no_python_warnings(tmp_path, capsys):
    path = _write(tmp_path, _edit("diffusivity: 0.2", "kernel: {weights: [[1e300, 1, 1], [1, 1e300, 1], [1, 1, 1]]}"
                                  ).replace("methods: [explicit, spectral, gaussian, monte_carlo]",
                                            "methods: [explicit, spectral]"))
    cli.main(["run", str(path), "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert "Warning" not in err and all(line.startswith(("warning: ", "error: ", "tiny: ")) for line in
                                        err.splitlines() if line.strip())


def test_files_left_open_by_interrupted_code_are_not_reported(monkeypatch, capsys):
    """An interrupt that cuts an import short leaves its .pyc open: a ResourceWarning that is no news to a user."""
    import warnings

    from physconv import scenario

    load = scenario.load

    def leaky(*args, **kwargs):
        warnings.warn("unclosed file <_io.BufferedReader name='x.pyc'>", ResourceWarning, stacklevel=1)
        warnings.warn("a real warning", UserWarning, stacklevel=1)
        return load(*args, **kwargs)

    monkeypatch.setattr(scenario, "load", leaky)
    assert cli.main(["validate", "point_source"]) == 0
    err = capsys.readouterr().err
    assert "unclosed" not in err and "warning: a real warning" in err


# --- signals: real SIGINT / SIGTERM to a running physconv ---------------------------------------

LONG = textwrap.dedent("""\
    name: long
    grid: {shape: [96, 96], spacing: 1.0}
    boundary: reflecting
    diffusivity: 0.2
    initial: {kind: random_cubes, seed: 1, cube: 8}
    time: {dt: 1.0, steps: 100000000000, save_every: 100000000000}
    methods: [explicit]
    """)


@pytest.mark.parametrize("sig, status", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
@pytest.mark.parametrize("moment", [0.2, 1.5])
def test_a_signal_while_computing_stops_at_once_and_keeps_the_old_result(tmp_path, sig, status, moment):
    """The signal is sent ``moment`` seconds after the run reports that it computes (not after launch: a
    loaded machine may still be importing then)."""
    path = _write(tmp_path, LONG, "long.yaml")
    out = tmp_path / "out"
    out.mkdir()
    old = out / "long.nc"
    old.write_bytes(b"the old result")
    proc = subprocess.Popen([sys.executable, "-m", "physconv", "run", str(path), "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first = proc.stderr.readline()  # "long: explicit started": the compiled loop is running
    assert first.strip() == "long: explicit started", first
    time.sleep(moment)
    sent = time.perf_counter()
    proc.send_signal(sig)
    _, rest = proc.communicate(timeout=30)
    err = first + rest
    assert proc.returncode == status, err
    assert time.perf_counter() - sent < 5  # honoured within the compiled chunk, not at the next frame
    progress = [line for line in err.splitlines() if line.startswith("long: ")]  # stderr is not a terminal
    assert progress == ["long: explicit started"]
    assert _one_error_line("\n".join(line for line in err.splitlines() if line not in progress)).endswith(
        "nothing was written")
    assert old.read_bytes() == b"the old result"
    assert sorted(p.name for p in out.iterdir()) == ["long.nc"]


@pytest.mark.parametrize("sig, exc", [(signal.SIGINT, KeyboardInterrupt), (signal.SIGTERM, io.Terminated)])
def test_a_signal_during_the_write_keeps_the_old_result_and_leaves_no_temporary(tmp_path, monkeypatch, sig, exc):
    """The signal arrives while the file is being written: the write ends, the new file is discarded."""
    ds = xr.Dataset({"u": ("x", np.arange(4.0))}, attrs={"software": "physconv test"})
    target = tmp_path / "r.nc"
    target.write_bytes(b"old")
    original = xr.Dataset.dump_to_store

    def interrupted_write(self, *args, **kwargs):
        os.kill(os.getpid(), sig)  # delivered now, in the middle of the write
        return original(self, *args, **kwargs)

    monkeypatch.setattr(xr.Dataset, "dump_to_store", interrupted_write)
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        with pytest.raises(exc):
            io.write(ds, target)
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["r.nc"]


def test_stale_temporaries_of_a_killed_process_are_removed(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / f".r.nc.tmp-{dead.pid}-abcd1234"
    stale.mkdir()
    (stale / "r.nc").write_bytes(b"partial")
    alive = tmp_path / f".r.nc.tmp-{os.getpid()}-abcd1234"
    alive.mkdir()
    io.write(xr.Dataset({"u": ("x", np.arange(3.0))}), tmp_path / "r.nc")
    assert not stale.exists() and alive.exists()


# --- concurrency ---------------------------------------------------------------------------------

def _writer(args):
    path, seed = args
    ds = xr.Dataset({"u": ("x", np.full(1000, float(seed)))}, attrs={"software": "physconv test"})
    for _ in range(15):
        io.write(ds, path, "zarr")
    return True


def test_concurrent_zarr_writes_to_one_name_all_succeed(tmp_path):
    import multiprocessing

    target = tmp_path / "same.zarr"
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        assert all(pool.map(_writer, [(target, s) for s in range(4)]))
    final = xr.open_zarr(target, consolidated=False).load()
    assert float(final["u"][0]) in {0.0, 1.0, 2.0, 3.0} and np.all(final["u"] == final["u"][0])
    assert [p.name for p in tmp_path.iterdir()] == ["same.zarr"]


# --- the memory estimate against the measured peak -----------------------------------------------

@pytest.mark.parametrize("shape, every, methods, particles", [
    ([64, 64], 20, "[explicit]", 0),
    pytest.param([384, 384], 5, "[explicit, spectral, gaussian]", 0, marks=pytest.mark.slow),  # 6 s
    pytest.param([192, 192], 2, "[explicit, implicit, spectral, gaussian, monte_carlo]", 2_000_000,
                 marks=pytest.mark.slow),  # 11 s
])
def test_memory_estimate_matches_the_measured_peak(tmp_path, shape, every, methods, particles):
    """The whole run (computing, comparing, plotting, writing): measured peak / estimate in [0.5, 1.25]."""
    from physconv import scenario

    text = (f"name: m\ngrid: {{shape: {shape}}}\ndiffusivity: 0.2\ninitial: {{kind: random_cubes, cube: 8}}\n"
            f"time: {{steps: 100, save_every: {every}}}\nmethods: {methods}\n"
            + (f"monte_carlo: {{particles: {particles}}}\n" if particles else ""))
    path = _write(tmp_path, text, "m.yaml")
    estimate = scenario.load(path).memory_estimate() / 2**20
    status, err, wall, peak = _bounded(["run", path, "--out", tmp_path / "out"], tmp_path, seconds=300)
    assert status == 0, err
    assert 0.5 <= peak / estimate <= 1.25, (peak, estimate)


def test_an_interrupt_while_drawing_says_the_result_was_written(tmp_path, capsys, monkeypatch):
    from physconv import plot

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(plot, "overview", interrupted)
    path = _write(tmp_path, BASE)
    assert cli.main(["run", str(path), "--out", str(tmp_path / "out")]) == 130
    err = capsys.readouterr().err.splitlines()
    assert err[-1] == f"error: interrupted; written before it: {tmp_path / 'out' / 'tiny.nc'}"
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["tiny.nc"]


@pytest.mark.parametrize("delay", [0.1, 0.3, 0.6])
def test_ctrl_c_while_numba_compiles_is_not_lost(tmp_path, delay):
    """With an empty compile cache the signal lands inside the compiler, where a C library's callback swallows
    the exception; the recorded request is honoured at the next chunk: exit 130, one line."""
    path = _write(tmp_path, LONG, "long.yaml")
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "cold-cache"))
    proc = subprocess.Popen([sys.executable, "-m", "physconv", "run", str(path), "--out", str(tmp_path / "out")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    first = proc.stderr.readline()
    assert first.strip() == "long: explicit started", first
    time.sleep(delay)
    proc.send_signal(signal.SIGINT)
    _, rest = proc.communicate(timeout=60)
    assert proc.returncode == 130, rest
    assert _one_error_line(rest) == "error: interrupted; nothing was written"


@pytest.mark.parametrize("free_mib", [0, 1])
def test_a_result_larger_than_the_free_disk_is_refused_before_running(tmp_path, capsys, monkeypatch, free_mib):
    """The frames go to the file as they are made: a file that cannot fit is refused first, naming the key."""
    import collections
    import shutil

    path = _write(tmp_path, BASE.replace("save_every: 5", "save_every: 1"))
    usage = collections.namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda p: usage(2**40, 2**40, free_mib * 2**20 // 64))
    assert cli.main(["run", str(path), "--out", str(tmp_path / "out"), "--quiet"]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert "time.save_every" in line and "GiB free" in line and str(path) in line
    assert not any((tmp_path / "out").iterdir())

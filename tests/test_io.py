"""Result files: identical round trips, atomic writes, clean overwrites."""

import pytest
import xarray as xr

from physconv import io, runner, scenario
from physconv.io import ResultError

from .test_scenario import BASE


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    p = tmp_path_factory.mktemp("s") / "s.yaml"
    p.write_text(BASE)
    return runner.run(scenario.load(p), progress=False)


@pytest.mark.parametrize("suffix", [".nc", ".zarr"])
def test_round_trip_is_identical(tmp_path, result, suffix):
    path = io.write(result, tmp_path / f"r{suffix}")
    back = io.open_result(path)
    xr.testing.assert_identical(back, result)
    assert back.attrs["scenario"] == BASE


@pytest.mark.parametrize("suffix", [".nc", ".zarr"])
def test_a_failed_write_leaves_nothing_behind(tmp_path, result, suffix, monkeypatch):
    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(xr.Dataset, "to_zarr" if suffix == ".zarr" else "dump_to_store", broken)
    with pytest.raises(ResultError, match="No space left"):
        io.write(result, tmp_path / f"r{suffix}")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("suffix", [".nc", ".zarr"])
def test_an_interrupted_write_keeps_the_old_result(tmp_path, result, suffix, monkeypatch):
    path = io.write(result, tmp_path / f"r{suffix}")

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(xr.Dataset, "to_zarr" if suffix == ".zarr" else "dump_to_store", interrupted)
    with pytest.raises(KeyboardInterrupt):
        io.write(result.isel(time=[0]), path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]
    assert io.open_result(path).sizes["time"] == result.sizes["time"]


@pytest.mark.parametrize("suffix", [".nc", ".zarr"])
def test_overwrite_replaces_the_old_result(tmp_path, result, suffix):
    path = io.write(result, tmp_path / f"r{suffix}")
    io.write(result.isel(time=[0, 1]), path)
    assert io.open_result(path).sizes["time"] == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]


def test_reading_something_else_is_a_clear_error(tmp_path):
    (tmp_path / "x.nc").write_text("hello")
    with pytest.raises(ResultError, match="not a physconv result"):
        io.open_result(tmp_path / "x.nc")
    with pytest.raises(ResultError, match="no such result"):
        io.open_result(tmp_path / "y.nc")


def test_unwritable_folder_is_refused_before_any_work(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(ResultError, match="cannot write"):
        io.check_writable(blocker / "out")


def test_result_path_and_format():
    assert io.result_path("out", "a").name == "a.nc"
    assert io.result_path("out", "a", "zarr").name == "a.zarr"
    with pytest.raises(ResultError, match="unknown format"):
        io.result_path("out", "a", "hdf4")


def test_writing_netcdf_does_not_import_dask_distributed(tmp_path):
    """A plain run never starts dask's distributed machinery (its import alone costs a third of a second)."""
    import subprocess
    import sys

    code = ("import sys, numpy as np, xarray as xr; from physconv import io; "
            f"io.write(xr.Dataset({{'u': ('x', np.arange(3.0))}}), {str(tmp_path / 'r.nc')!r}); "
            "print('distributed' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
    assert xr.open_dataset(tmp_path / "r.nc", engine="h5netcdf")["u"].values.tolist() == [0.0, 1.0, 2.0]

"""Result files: netCDF (default) or Zarr, written atomically.

A result is first written next to its destination under a hidden temporary
name, then renamed into place; an error or Ctrl-C on the way removes the
temporary file, so a failed run never leaves a result (or half of one).
Re-running replaces the old result in one step.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import xarray as xr

from .errors import PhysconvError

FORMATS = {"netcdf": ".nc", "zarr": ".zarr"}


class ResultError(PhysconvError):
    """A result file cannot be written or read."""


def result_path(out_dir, name: str, fmt: str = "netcdf") -> Path:
    """``out_dir/<name>.nc`` (or ``.zarr``)."""
    if fmt not in FORMATS:
        raise ResultError(f"unknown format {fmt!r}; valid: {', '.join(FORMATS)}")
    return Path(out_dir) / f"{name}{FORMATS[fmt]}"


def check_writable(out_dir) -> Path:
    """Create ``out_dir`` if needed and make sure files can be written there (before any work)."""
    d = Path(out_dir)
    try:
        d.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=d, prefix=".physconv-probe-"):
            pass
    except OSError as exc:
        raise ResultError(f"{d}: cannot write results there ({exc.strerror or exc})") from None
    return d


def write(ds: xr.Dataset, path, fmt: str | None = None) -> Path:
    """Write ``ds`` to ``path`` atomically; the format follows the suffix unless given."""
    path = Path(path)
    fmt = fmt or ("zarr" if path.suffix == ".zarr" else "netcdf")
    check_writable(path.parent)
    tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.tmp-"))
    target = tmp / path.name
    try:
        if fmt == "zarr":
            ds.to_zarr(target, mode="w", consolidated=False)
        else:
            ds.to_netcdf(target, engine="h5netcdf", invalid_netcdf=False)
        _replace(target, path)
    except OSError as exc:
        raise ResultError(f"{path}: cannot write the result ({exc.strerror or exc})") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return path


def _replace(new: Path, path: Path) -> None:
    """Move ``new`` to ``path``, replacing a file or a folder that is there."""
    if path.is_dir() and not path.is_symlink():
        old = path.with_name(f".{path.name}.old-{os.getpid()}")
        os.replace(path, old)
        try:
            os.replace(new, path)
        except OSError:
            os.replace(old, path)
            raise
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(new, path)


def open_result(path) -> xr.Dataset:
    """Read a result written by :func:`write` (netCDF or Zarr) fully into memory."""
    path = Path(path)
    if not path.exists():
        raise ResultError(f"{path}: no such result")
    try:
        if path.is_dir():
            with xr.open_zarr(path, consolidated=False) as ds:
                return ds.load()
        with xr.open_dataset(path, engine="h5netcdf") as ds:
            return ds.load()
    except (OSError, ValueError, KeyError) as exc:
        raise ResultError(f"{path}: not a physconv result ({exc})") from None

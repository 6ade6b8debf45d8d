"""Result files: netCDF (default) or Zarr, written atomically.

A result is first written next to its destination under a hidden temporary
name (``.<name>.tmp-<pid>-<random>``), then renamed into place. Ctrl-C
(SIGINT) or SIGTERM during the write is held back until the write has ended;
the new file is then discarded, the old result stays as it was, and the
interrupt goes on. An error on the way removes the temporary file too, and
temporary files left by a process that was killed outright are removed by
the next write of the same name. Only a regular file, or a Zarr store that
physconv wrote, is ever replaced: a folder of the user's is left alone.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import stat
import threading
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import xarray as xr

from ._interrupt import Terminated  # noqa: F401 (part of this module's interface)
from ._interrupt import exception as interrupt_exception
from .errors import PhysconvError
from .grid import all_finite
from . import notebook as _notebook  # noqa: F401  (registers ds.physconv, the notebook view of a result)

FORMATS = {"netcdf": ".nc", "zarr": ".zarr"}
REQUIRED_ATTRS = ("methods", "boundary", "spacing", "dt", "mass_initial")


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
        probe = d / f".physconv-probe-{os.getpid()}-{secrets.token_hex(4)}"
        probe.touch()
        probe.unlink()
    except OSError as exc:
        raise ResultError(f"{d}: cannot write results there ({exc.strerror or exc})") from None
    return d


def check_replaceable(path) -> None:
    """Refuse, before any work, a destination that physconv may not replace."""
    path = Path(path)
    for _ in range(1000):  # another writer may be swapping its store in: decide on a folder that held still
        try:
            before = os.lstat(path)
        except FileNotFoundError:
            return
        if stat.S_ISREG(before.st_mode) or stat.S_ISLNK(before.st_mode):
            return
        if not stat.S_ISDIR(before.st_mode):
            raise ResultError(f"{path}: not a regular file; it is left as it is (write elsewhere with --out)")
        ours = _is_physconv_store(path)
        try:
            after = os.lstat(path)
        except FileNotFoundError:
            return
        if (after.st_ino, after.st_dev) != (before.st_ino, before.st_dev):
            continue  # swapped while we read it: look again
        if ours:
            return
        raise ResultError(f"{path}: a folder physconv did not write is in the way; it is left as it is "
                          "(move it, or write elsewhere with --out)")
    raise ResultError(f"{path}: other writers keep replacing it; try again")


def write(ds: xr.Dataset, path, fmt: str | None = None) -> Path:
    """Write ``ds`` to ``path`` atomically; the format follows the suffix unless given."""
    path = Path(path)
    fmt = fmt or ("zarr" if path.suffix == ".zarr" else "netcdf")
    with staged(path) as target:
        with deferred_signals():  # an interrupt during the write is raised after it: nothing is renamed
            if fmt == "zarr":
                ds.to_zarr(target, mode="w", consolidated=False)
            else:
                _to_netcdf(ds, target)
    return path


@contextmanager
def staged(path):
    """Yield a temporary path beside ``path`` to write the result to; when the block ends normally it is
    renamed into place (Ctrl-C held back during the rename); after an error or an interrupt nothing of
    it is left, and what was at ``path`` stays as it was."""
    path = Path(path)
    check_writable(path.parent)
    check_replaceable(path)
    remove_stale(path)
    tmp = path.parent / f".{path.name}.tmp-{os.getpid()}-{secrets.token_hex(4)}"
    tmp.mkdir()
    target = tmp / path.name
    try:
        try:
            yield target
            with deferred_signals() as caught:
                if not caught:
                    _replace(target, path)
        except OSError as exc:
            raise ResultError(f"{path}: cannot write the result ({exc.strerror or exc})") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


class FrameFile:
    """A result file filled a frame at a time: netCDF (``.nc``) or Zarr (``.zarr``, by the suffix).

    The small variables, coordinates and attributes of ``template`` are written at once; each name in
    ``frames`` (``{name: (dims, shape, attrs)}``) becomes a float64 variable stored one frame per chunk,
    missing (NaN) until written with ``file[name][i] = frame``. Reading it back gives the Dataset that
    holds the same values in memory.
    """

    def __init__(self, target, template: xr.Dataset, frames: dict):
        self.path = Path(target)
        self.zarr = self.path.suffix == ".zarr"
        self.variables = {}
        if self.zarr:
            import zarr

            template.to_zarr(self.path, mode="w", consolidated=False)
            self._file = zarr.open_group(str(self.path), mode="a")
            v3 = self._file.metadata.zarr_format == 3
            for name, (dims, shape, attrs) in frames.items():
                extra = {"dimension_names": list(dims)} if v3 else {}
                arr = self._file.create_array(name, shape=shape, chunks=(1,) + tuple(shape[1:]), dtype="f8",
                                              fill_value=np.nan, **extra)
                arr.attrs.update(attrs if v3 else {**attrs, "_ARRAY_DIMENSIONS": list(dims)})
                self.variables[name] = arr
        else:
            import h5netcdf

            _to_netcdf(template, self.path)
            self._file = h5netcdf.File(self.path, "a")
            for name, (dims, shape, attrs) in frames.items():
                var = self._file.create_variable(name, dims, "f8", chunks=(1,) + tuple(shape[1:]),
                                                 fillvalue=np.nan)
                var.attrs.update(attrs)
                self.variables[name] = var

    def __getitem__(self, name):
        return self.variables[name]

    def close(self) -> None:
        if not self.zarr:
            self._file.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _to_netcdf(ds: xr.Dataset, target: Path) -> None:
    """``ds.to_netcdf(target, engine='h5netcdf')`` for in-memory data, with the HDF5 lock given: left to
    choose one, xarray asks dask which scheduler runs and so imports dask.distributed (0.3 s a run)."""
    from xarray.backends import H5NetCDFStore
    from xarray.backends.locks import HDF5_LOCK

    store = H5NetCDFStore.open(str(target), mode="w", lock=HDF5_LOCK, invalid_netcdf=False)
    try:
        ds.dump_to_store(store)
    finally:
        store.close()


@contextmanager
def deferred_signals():
    """Hold SIGINT and SIGTERM back inside the block; raise them (KeyboardInterrupt, Terminated) after it.

    Yields the list of signals caught, so that the block can skip what must not happen after one.
    Outside the main thread signals cannot be caught, and the block runs as it is.
    """
    caught: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield caught
        return
    previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    for s in previous:
        signal.signal(s, lambda signum, frame: caught.append(signum))
    try:
        yield caught
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    if caught:
        raise interrupt_exception(caught[0])


def remove_stale(path) -> list[Path]:
    """Remove temporary files of earlier writes of ``path`` whose process is gone; return them."""
    path = Path(path)
    removed = []
    for p in path.parent.glob(f".{path.name}.*-*-*"):
        kind, _, rest = p.name[len(path.name) + 2:].partition("-")
        pid = rest.split("-")[0]
        if kind in ("tmp", "old") and pid.isdigit() and not _alive(int(pid)):
            if p.is_dir():
                shutil.rmtree(p, ignore_errors=True)
            else:
                p.unlink(missing_ok=True)
            removed.append(p)
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _is_physconv_store(path: Path) -> bool:
    """A Zarr store whose attributes say physconv wrote it."""
    for name in ("zarr.json", ".zattrs"):
        meta = path / name
        if meta.is_file():
            try:
                attrs = json.loads(meta.read_text())
            except (OSError, ValueError):
                return False
            attrs = attrs.get("attributes", attrs)
            return str(attrs.get("software", "")).startswith("physconv")
    return False


def _replace(new: Path, path: Path, attempts: int = 100) -> None:
    """Move ``new`` to ``path``; a store already there is moved aside first. Safe when several
    processes replace the same name at once: each rename is atomic, and a lost race is retried."""
    if not new.is_dir():
        os.replace(new, path)
        return
    for _ in range(attempts):
        try:
            os.rename(new, path)  # succeeds only where nothing (or an empty folder) is in the way
            return
        except OSError:
            old = path.with_name(f".{path.name}.old-{os.getpid()}-{secrets.token_hex(4)}")
            try:
                os.rename(path, old)
            except FileNotFoundError:
                continue  # another writer moved it first
            except OSError:
                if path.exists() and not path.is_dir():
                    os.replace(new, path)  # a file: replaced in one step
                    return
                continue
            shutil.rmtree(old, ignore_errors=True)
    raise ResultError(f"{path}: could not be replaced (other writers kept it busy)")


def open_result(path, lazy: bool = False) -> xr.Dataset:
    """Read a result written by :func:`write` or :class:`FrameFile` (netCDF or Zarr) fully into memory,
    checking it is whole; or, ``lazy``, open it to be read a frame at a time as it is used (the
    values are then not checked; close the Dataset when done)."""
    path = Path(path)
    if not path.exists():
        raise ResultError(f"{path}: no such result")
    try:
        if path.is_dir():
            ds = xr.open_dataset(path, engine="zarr", chunks=None, consolidated=False)
        else:
            ds = xr.open_dataset(path, engine="h5netcdf")
        if not lazy:
            with ds:
                ds = ds.load()
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ResultError(f"{path}: not a physconv result ({' '.join(str(exc).split())})") from None
    missing = [a for a in REQUIRED_ATTRS if a not in ds.attrs]
    if missing or "initial" not in ds or "time" not in ds.coords or "step" not in ds.coords:
        what = f"attribute {missing[0]!r}" if missing else "the initial field or the time coordinates"
        raise ResultError(f"{path}: not a physconv result (no {what})")
    try:
        methods = json.loads(ds.attrs["methods"])
        json.loads(ds.attrs["boundary"])
    except (TypeError, ValueError):
        raise ResultError(f"{path}: not a physconv result (unreadable attributes)") from None
    if not isinstance(methods, list) or not methods or any(m not in ds for m in methods):
        raise ResultError(f"{path}: damaged result (the methods it lists are not all in it)")
    if lazy:
        return ds
    for name in ["initial", *methods]:
        if not all_finite(ds[name].values):
            raise ResultError(f"{path}: damaged result ({name} has missing or non-finite values: lost chunks?)")
    return ds

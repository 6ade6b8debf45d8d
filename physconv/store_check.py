"""Reading a sweep store back without trusting it: which variants are really there.

A variant of a store (:mod:`physconv.sweep`) counts as done when its done-mark matches and every chunk
it owns is whole: in each array that has the swept dimensions first, the files of the variant's chunks
exist, decode with the array's codec to the chunk's size, and (in the fields, the times and the done
marks) hold no NaN, which is what a cleared or never-written region reads as. Anything else is
*damage*, reported per variant in one phrase (``explicit/0.2.0: missing``), so that a re-run redoes
exactly those variants and a reader never shows them as results. The store's own metadata (attributes,
an array's ``.zarray``) is checked too: damage there is one line naming the file.

Stores are Zarr version 2 directories written by physconv (chunk files named ``i.j.k``).
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np

from .errors import PhysconvError

WHOLE = ("time", "step", "initial", "done")  # besides the methods' frames: arrays a finished variant fills


class DamagedStore(PhysconvError):
    """A store whose metadata cannot be read: it cannot say what it holds."""


def read_json(path: Path, what: str) -> dict:
    """A JSON object from a store's metadata file, or DamagedStore naming it."""
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DamagedStore(f"{path}: missing ({what})") from None
    except (OSError, ValueError) as exc:
        raise DamagedStore(f"{path}: unreadable ({what}: {type(exc).__name__})") from None
    if not isinstance(value, dict):
        raise DamagedStore(f"{path}: not a JSON object ({what})")
    return value


def metadata_problem(store: Path) -> str | None:
    """The first of a store's metadata files that is not a readable JSON object, in a phrase, or None."""
    for meta in [store / ".zgroup", store / ".zattrs"] + sorted(store.glob("*/.z*")):
        try:
            read_json(meta, "metadata")
        except DamagedStore as exc:
            return str(exc)
    return None


class _Array:
    """One array of the store: its metadata, checked, and a reader of single chunks."""

    def __init__(self, store: Path, name: str, dims: list, nkeys: int):
        meta = read_json(store / name / ".zarray", f"the metadata of {name}")
        try:
            self.shape, self.chunks = tuple(meta["shape"]), tuple(meta["chunks"])
            self.dtype = np.dtype(meta["dtype"])
            if len(self.shape) != len(dims) or len(self.chunks) != len(dims) or meta.get("zarr_format") != 2:
                raise ValueError("dimensions")
            if any(c != 1 for c in self.chunks[:nkeys]):
                raise ValueError("a variant's chunks")
            from numcodecs import get_codec

            self.codec = get_codec(meta["compressor"]) if meta.get("compressor") else None
            self.sep = meta.get("dimension_separator", ".")
            self.blosc = self.codec is not None and self.codec.codec_id == "blosc"  # its header gives its length
        except (KeyError, TypeError, ValueError) as exc:
            raise DamagedStore(f"{store / name / '.zarray'}: not the metadata physconv wrote ({exc})") from None
        self.path, self.name, self.nkeys = store / name, name, nkeys
        self.grid = [range(-(-n // c)) for n, c in zip(self.shape[nkeys:], self.chunks[nkeys:])]
        self.floats = self.dtype.kind == "f"

    def chunk_bytes(self, rest) -> int:
        """Bytes of a decoded chunk (zarr version 2 stores edge chunks whole)."""
        return int(np.prod(self.chunks[self.nkeys:], dtype=np.int64)) * self.dtype.itemsize

    def damage(self, index: tuple, strict: bool) -> str | None:
        """What is wrong with the variant's chunks of this array, or None. ``strict``: arrays a finished
        variant fills with numbers (a missing chunk or a NaN is damage); zarr leaves out a chunk that
        equals the fill value (NaN), so in the other arrays a missing chunk reads as the NaN it was."""
        for rest in itertools.product(*self.grid):
            key = self.sep.join(map(str, tuple(index) + rest))
            try:
                raw = (self.path / key).read_bytes()
            except FileNotFoundError:
                if strict:
                    return f"{self.name}/{key}: missing"
                continue
            except OSError as exc:
                return f"{self.name}/{key}: unreadable ({exc.strerror})"
            if self.blosc and (len(raw) < 16 or int.from_bytes(raw[12:16], "little") != len(raw)):
                return f"{self.name}/{key}: {len(raw)} bytes where its header says otherwise (cut short or overwritten)"
            try:
                data = self.codec.decode(raw) if self.codec is not None else raw
                data = np.frombuffer(memoryview(data).cast("B"), dtype=np.uint8)
            except Exception as exc:  # noqa: BLE001 - any codec's failure means the same: damaged bytes
                return f"{self.name}/{key}: does not decode ({type(exc).__name__})"
            if data.size != self.chunk_bytes(rest):
                return f"{self.name}/{key}: {data.size} bytes where {self.chunk_bytes(rest)} belong"
            if strict and self.floats and np.isnan(data.view(self.dtype)).any():
                return f"{self.name}/{key}: holds NaN (never written, or cleared)"
        return None


def arrays(store: Path, keys: tuple) -> dict:
    """Every array of ``store`` whose dimensions start with the swept ``keys``, checked (:class:`_Array`)."""
    out = {}
    for meta in sorted(store.glob("*/.zattrs")):
        dims = read_json(meta, f"the attributes of {meta.parent.name}").get("_ARRAY_DIMENSIONS")
        if meta.parent.name not in keys and isinstance(dims, list) and tuple(dims[:len(keys)]) == tuple(keys):
            out[meta.parent.name] = _Array(store, meta.parent.name, dims, len(keys))
    return out


def damaged(store: Path, keys: tuple, indices, methods) -> dict:
    """``{index: phrase}`` for the variants (``indices``, tuples along ``keys``) whose chunks are not whole
    (in the arrays of ``methods`` and :data:`WHOLE`: present, decodable, no NaN; elsewhere: decodable)."""
    found = arrays(Path(store), tuple(keys))
    for name in tuple(methods) + WHOLE:
        if name not in found:
            raise DamagedStore(f"{Path(store) / name}: missing (the array of {name})")
    strict = set(methods) | set(WHOLE)
    out = {}
    for index in indices:
        for name, array in found.items():
            problem = array.damage(tuple(index), name in strict)
            if problem:
                out[tuple(index)] = problem
                break
    return out


def done_marks(store: Path, shape: tuple) -> tuple[np.ndarray, dict]:
    """The done-marks, chunk by chunk: ``(marks, damaged)``, a damaged chunk's mark read as 0 (not done)."""
    array = _Array(Path(store), "done", list(range(len(shape))), len(shape))
    if array.shape != tuple(shape) or array.dtype != np.dtype("<i8"):
        raise DamagedStore(f"{Path(store) / 'done' / '.zarray'}: shape {array.shape} and dtype {array.dtype}, "
                           f"where the sweep has {tuple(shape)} and int64")
    marks, bad = np.zeros(shape, dtype=np.int64), {}
    for index in itertools.product(*(range(n) for n in shape)):
        problem = array.damage(index, True)
        if problem is None:
            raw = (array.path / array.sep.join(map(str, index))).read_bytes()
            marks[index] = np.frombuffer(array.codec.decode(raw) if array.codec else raw, dtype="<i8")[0]
        elif "missing" not in problem:  # a chunk never written is a variant not done, not damage
            bad[index] = problem
    return marks, bad

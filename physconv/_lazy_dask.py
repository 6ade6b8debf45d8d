"""Keep xarray from importing dask (and pint, which imports dask) before any of their objects exists (0.2-0.3 s
of a small run's start, 0.4 s more with pint).

xarray asks "is this a dask array?" of every array it wraps, and to answer it imports ``dask.array``
(its first ``Variable``) and ``dask.base`` (its ``is_dask_collection``), even when no dask object has
been made. :func:`defer` answers the same questions without the import while the answer cannot depend
on it, and hands over to xarray's own code as soon as it can:

* the type of dask arrays is reported as ``dask.array.core.Array`` once that module is loaded, and as no
  type before: no instance of a class can exist before the class does;
* ``is_dask_collection(x)`` is False for objects without ``__dask_graph__``, which is dask's own first
  test; every other object goes to dask's function.

Both answers are the ones xarray would give, for every object. When xarray's internals differ from the
ones known here, nothing is changed.
"""

from __future__ import annotations

import sys

_DONE: list[bool] = []


def defer() -> bool:
    """Install the deferred dask checks in xarray, once; True when they are in place."""
    if _DONE:
        return _DONE[0]
    _DONE.append(False)
    if "dask.array" in sys.modules:  # nothing to save
        return False
    try:
        from xarray.namedarray import pycompat, utils
    except ImportError:
        return False
    cache = getattr(pycompat, "_cached_duck_array_modules", None)
    module_type = getattr(pycompat, "DuckArrayModule", None)
    real_check = getattr(utils, "is_dask_collection", None)
    if not isinstance(cache, dict) or "dask" in cache or module_type is None or not callable(real_check):
        return False
    cache["dask"] = _DeferredModule(module_type, "dask", "dask.array.core", "Array")
    if "pint" not in cache and "pint" not in sys.modules:  # pint (physconv's units) would import dask too
        cache["pint"] = _DeferredModule(module_type, "pint", "pint", "Quantity")

    def is_dask_collection(x) -> bool:
        if isinstance(x, type) or not hasattr(x, "__dask_graph__"):
            return False
        return real_check(x)

    utils.is_dask_collection = is_dask_collection
    _DONE[0] = True
    return True


class _DeferredModule:
    """xarray's record of a duck-array module (dask, pint), read without importing the module until something
    else than its array type is asked for (the version, the module itself): the type is the class
    ``holder.name`` once ``holder`` is loaded, and no type before."""

    def __init__(self, module_type, module: str, holder: str, name: str):
        self._module_type, self._module, self._holder, self._name = module_type, module, holder, name
        self._loaded = None

    @property
    def type(self) -> tuple:
        array = getattr(sys.modules.get(self._holder), self._name, None)
        return () if array is None else (array,)

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        if self._loaded is None:
            self._loaded = self._module_type(self._module)
        return getattr(self._loaded, name)

"""physconv._lazy_dask: xarray's dask checks without importing dask, with the same answers.

Each test runs in a fresh interpreter: whether dask is imported is a property of the process.
"""

import subprocess
import sys
import textwrap

from tests.test_cli import REDUCED


def _python(code: str) -> str:
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def test_the_command_runs_and_draws_without_importing_dask(tmp_path):
    sets = sum((["--set", s] for s in REDUCED["diffusion_1d"]), [])
    argv = ["physconv", "run", "diffusion_1d", "--out", str(tmp_path), "--quiet", *sets]
    out = _python(f"""
        import atexit, sys
        atexit.register(lambda: print("dask imported:", any(m == "dask" or m.startswith("dask.") for m in sys.modules)))
        sys.argv = {argv!r}
        from physconv.cli import entry
        entry()
    """)
    assert out.splitlines()[-1] == "dask imported: False"
    assert (tmp_path / "diffusion_1d.png").read_bytes()[-8:] == b"IEND\xaeB`\x82"


def test_numpy_backed_objects_are_built_and_checked_without_dask():
    out = _python("""
        import sys
        import numpy as np, xarray as xr
        from physconv import _lazy_dask
        assert _lazy_dask.defer() is True
        assert _lazy_dask.defer() is True   # once
        from xarray.namedarray.utils import is_duck_dask_array, is_dask_collection
        ds = xr.Dataset({"u": (("t", "x"), np.arange(6.0).reshape(2, 3))}, coords={"x": [0.0, 1.0, 2.0]})
        total = float((ds["u"] * 2).sum())
        print(total, is_duck_dask_array(ds["u"].data), is_dask_collection(np.zeros(2)), is_dask_collection(np.ndarray),
              "dask" in sys.modules)
    """)
    assert out == "30.0 False False False False"


def test_dask_objects_made_after_it_are_still_dask_objects_to_xarray():
    out = _python("""
        import numpy as np, xarray as xr
        from physconv import _lazy_dask
        assert _lazy_dask.defer() is True
        xr.DataArray(np.zeros(3))   # xarray's check of a numpy array, before dask exists
        import dask, dask.array as da
        from xarray.namedarray.utils import is_duck_dask_array, is_dask_collection
        from xarray.namedarray.pycompat import array_type, mod_version
        lazy = xr.DataArray(da.arange(8.0, chunks=4), dims="x")
        chunked = xr.Dataset({"u": ("x", np.arange(8.0))}).chunk(x=2)

        class Graphless:   # has the attribute, but no graph: dask's own rule says no
            def __dask_graph__(self):
                return None

        print(lazy.chunks, is_duck_dask_array(lazy.data), chunked["u"].chunks, float(chunked["u"].sum().compute()),
              array_type("dask") == (da.Array,), mod_version("dask") > mod_version("pint"),
              is_dask_collection(dask.delayed(sum)([1, 2])), is_dask_collection(Graphless()))
    """)
    assert out == "((4, 4),) True ((2, 2, 2, 2),) 28.0 True True True False"


def test_nothing_is_changed_when_dask_arrays_are_already_in_use():
    out = _python("""
        import dask.array, xarray
        from xarray.namedarray import utils
        before = utils.is_dask_collection
        from physconv import _lazy_dask
        print(_lazy_dask.defer(), utils.is_dask_collection is before)
    """)
    assert out == "False True"


def test_a_pint_quantity_made_after_it_is_still_a_pint_array_to_xarray():
    out = _python("""
        import sys
        import numpy as np, xarray as xr
        from physconv import _lazy_dask
        _lazy_dask.defer()
        xr.Dataset({"u": ("x", np.arange(3.0))}, coords={"x": [0.0, 1.0, 2.0]})
        before = "pint" in sys.modules
        import pint
        from xarray.namedarray.pycompat import array_type
        q = pint.UnitRegistry().Quantity(np.arange(3.0), "mm")
        print(before, isinstance(q, array_type("pint")), isinstance(np.zeros(2), array_type("pint")))
    """)
    assert out == "False True False"

"""physconv: diffusion is convolution.

The same initial field advanced by finite differences, an exact spectral
propagator, FFT convolution with a kernel and random walkers, side by side.
Submodules load on first use, so ``import physconv`` stays fast.
"""

from importlib import import_module

from ._threads import wait_passively

wait_passively()  # before numba's threads start: idle threads sleep, so a busy machine does not stall every step

__version__ = "0.1.0"

_SUBMODULES = ("boundary", "comparison", "convolve", "errors", "grid", "initial", "io", "kernels", "metrics",
               "montecarlo", "notebook", "plot", "runner", "scenario", "spectral", "solvers", "stats", "units")
_NAMES = {"Grid": "grid", "Boundary": "boundary", "fft_convolve": "convolve", "open_result": "io", "load": "scenario",
          "run": "runner", "compare": "comparison"}


def __getattr__(name):
    if name in _SUBMODULES:
        return import_module(f".{name}", __name__)
    if name in _NAMES:
        return getattr(import_module(f".{_NAMES[name]}", __name__), name)
    raise AttributeError(f"module 'physconv' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(_SUBMODULES) + list(_NAMES))

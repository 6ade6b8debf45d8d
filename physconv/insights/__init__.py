"""The article's other experiments, one module each (DESIGN §8).

Each module has a function API (numbers or xarray out), an ``insight(...)``
function returning ``(numbers, figure)`` for ``physconv insight NAME``, and a
claim tested against a library physconv does not contain:

===========  =====================================================================
spectrum     orientation lives in the spectrum (skimage structure tensor)
lowpass      the seed's circle: compression vs PSNR/SSIM; diffusion is the soft mask
correlate    cross-correlation is a flipped convolution; template matching
edge         the edge detector is one step of diffusion
measurement  one random neighbour per pixel, averaged: error ~ 1/sqrt(K)
arma         moving-average and autoregressive series are convolutions
convergence  each approximation errs at the order theory gives
===========  =====================================================================

Modules are imported on first use, so ``import physconv`` stays fast.
"""

NAMES = ("spectrum", "lowpass", "correlate", "edge", "measurement", "arma", "convergence")


def get(name: str):
    """The module of insight ``name``."""
    import importlib

    if name not in NAMES:
        raise ValueError(f"unknown insight {name!r}; valid: {', '.join(NAMES)}")
    return importlib.import_module(f"{__name__}.{name}")

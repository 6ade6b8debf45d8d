"""Inverse problems (DESIGN §12): what propagator moved these frames, with honest uncertainties; a step
kernel learned from frames; deblurring as backward diffusion, with its horizon.

Examples
--------
>>> import numpy as np
>>> from physconv import Grid, inverse, spectral
>>> g = Grid((32, 40), boundary="reflecting")
>>> u0 = np.random.default_rng(0).random(g.shape)
>>> frames = inverse.make([u0, spectral.heat(u0, g, diffusivity=0.3, time=8.0)], [0.0, 8.0], 1.0, "reflecting")
>>> round(float(inverse.fit(frames).theta[0]), 9)
0.3
"""

from .fit import FALSE_ALARM, FitResult, fit
from .frames import Frames, InverseError, load, make

__all__ = ["FALSE_ALARM", "FitResult", "Frames", "InverseError", "fit", "load", "make"]

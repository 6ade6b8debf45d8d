"""Inverse problems (DESIGN §12): what propagator moved these frames, with honest uncertainties; a step
kernel learned from frames; deblurring as backward diffusion, with its horizon.

>>> from physconv import inverse                                       # doctest: +SKIP
>>> frames = inverse.load(["t0.npy", "t1.npy"], dt=5.0, spacing=1.0, boundary="reflecting")
>>> inverse.fit(frames, "diffusivity").to_dict()["estimates"]["diffusivity"]
"""

from .fit import FALSE_ALARM, FitResult, fit
from .frames import Frames, InverseError, load, make

__all__ = ["FALSE_ALARM", "FitResult", "Frames", "InverseError", "fit", "load", "make"]

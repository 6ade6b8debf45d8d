"""
What is D in my data, and how sure is it?
=========================================

Frames of a field blurred by diffusion, with camera noise on every frame. ``physconv fit`` (here
``physconv.inverse.fit``) finds D with its standard error from the frames alone: each of the walls'
modes decays as ``exp(-D k² t)``, and the noise on every frame is accounted for.
"""

import numpy as np

from physconv import Grid, spectral
from physconv import inverse
from physconv.inverse import figures

rng = np.random.default_rng(4)
grid = Grid((96, 128), spacing=1.0, boundary="reflecting")
u0 = rng.random((12, 16)).repeat(8, axis=0).repeat(8, axis=1)  # 8-cell squares
D_true, times = 0.35, np.array([0.0, 5.0, 10.0, 20.0, 40.0])
clean = np.stack([spectral.heat(u0, grid, diffusivity=D_true, time=t) for t in times])
noisy = clean + 0.02 * rng.standard_normal(clean.shape)

observed = inverse.make(noisy, times, 1.0, "reflecting", source="noisy frames")
res = inverse.fit(observed)
print(f"D = {res.theta[0]:.4f} ± {res.stderr[0]:.4f} (true {D_true}); {res.verdict}")
assert abs(res.theta[0] - D_true) < 4 * res.stderr[0]
fig = figures.fit_figure(observed, res)

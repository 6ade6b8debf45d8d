"""
A kernel's convolution power becomes the heat kernel
====================================================

One explicit step of diffusion with ``r = D dt / dx² = 0.2`` per axis is a 3 x 3 kernel of
probabilities. n steps are its n-th convolution power, which by the central limit theorem tends to a
Gaussian of variance ``2 D t`` per axis: the heat kernel, the Gaussian blur of image processing. The
gap shrinks like ``1/n``, the first correction of the central limit theorem for a lattice walk.
"""

import matplotlib.pyplot as plt
import numpy as np

from physconv import kernels
from physconv.plot_kernel import n_step_kernel

D, dt = 0.2, 1.0
step = kernels.ftcs(D, dt, 1.0, 2)
print("one step:\n", np.round(step, 3))

fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
gaps = []
counts = [1, 2, 4, 8, 16, 32, 64]
for n in counts:
    power, heat, variance = n_step_kernel(step, n)  # k*n and the heat kernel of variance 2 D t per axis
    c = power.shape[0] // 2
    x = np.arange(power.shape[0]) - c
    gaps.append(np.abs(power - heat).max() / power.max())
    if n in (1, 4, 16, 64):
        (line,) = left.plot(x, power[c], marker="o", ms=3, label=f"n = {n}")
        left.plot(x, heat[c], color=line.get_color(), ls="--", lw=1)
left.set_xlim(-10, 10)
left.set_xlabel("x (cells)")
left.set_ylabel("weight through the centre row")
left.set_title("k*n (dots) and the heat kernel of variance 2Dt (dashed)")
left.legend()
right.loglog(counts, gaps, marker="o", label="max |k*n - heat| / max k*n")
right.loglog(counts, gaps[0] * np.array(counts, float) ** -1.0, ls=":", color="gray", label="1/n")
right.set_xlabel("steps n")
right.set_title("the gap closes like 1/n")
right.legend()

# %%
# The measured order of the gap between the last two powers:
order = np.log(gaps[-2] / gaps[-1]) / np.log(2)
print(f"order {order:.2f}")
assert 0.8 < order < 1.2

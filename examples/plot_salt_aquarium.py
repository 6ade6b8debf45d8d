"""
Five methods, one aquarium
==========================

The salt aquarium: 32 x 32 cubes of water of random salt concentration, the barriers between them
lifted at t = 0. The same field is advanced by explicit steps, Crank–Nicolson, the exact n-step
propagator, FFT convolution with the heat kernel and four million random walkers. The table holds
every pair to its own standard: round-off for methods that compute the same discrete process, the
error theory predicts for approximations, binomial noise for the walkers.
"""

import physconv

s = physconv.load("salt_aquarium")
ds = physconv.run(s, progress=False)
cmp = physconv.compare(ds)
print(cmp)

# %%
# Every verdict is what theory says it should be:
assert cmp.ok
fig = ds.physconv.plot(cmp=cmp.dataset)

# %%
# The same table as a DataFrame, for code:
cmp.frame[["pair", "kind", "rel_l2_last", "predicted_rel_l2_last", "verdict"]]

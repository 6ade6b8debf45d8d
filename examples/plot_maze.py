"""
Where one kernel ends: salt in a maze
=====================================

In a maze the walls of the corridors are obstacles: no single kernel describes a step any more, because
a step near a wall differs from a step in open water. physconv's finite-volume steps, the exact
propagator of the maze's own operator (``semidiscrete``) and walkers with the step's probabilities still
agree, each to its own standard; the survival curve is the salt still inside the maze, whose only exit
opens onto an absorbing wall.
"""

import physconv
from physconv import plot_medium

s = physconv.load("maze")
ds = physconv.run(s, progress=False)
cmp = physconv.compare(ds)
print(cmp)
fig = ds.physconv.plot(cmp=cmp.dataset)

# %%
# The n-step propagator from several cells, beside the open tank's Gaussian: the columns of P^n bend
# round the walls.
propagators = plot_medium.propagator(ds)

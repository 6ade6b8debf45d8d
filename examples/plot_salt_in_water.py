"""
Salt in water, in millimetres and hours
=======================================

A 1 cm aquarium of water in 2 mm cubes of random salt concentration. Common salt diffuses in water at
D ≈ 1.5·10⁻⁹ m²/s = 1.5·10⁻³ mm²/s, so the scenario says ``units: {length: mm, time: s}`` and every number
is in those units. The coordinates carry CF ``units`` attributes, the axes read in mm, and the times
read in hours: a 1 cm tank evens out over hours, not seconds.
"""

import physconv
from physconv import inverse

s = physconv.load("salt_in_water", ["monte_carlo.particles=400000",
                                    "methods=[explicit, spectral, gaussian, monte_carlo]"])
print(physconv.units.span(s.grid.shape, s.grid.spacing, s.time.steps, s.time.dt, s.unit_system()))
ds = physconv.run(s, progress=False)
print(ds["x"].attrs["units"], ds["time"].attrs["units"], ds.attrs["diffusivity_units"])
fig = ds.physconv.plot()

# %%
# What D do the walkers' frames say, in the units of the result? (``physconv fit`` does the same.)
observed = inverse.make(ds["monte_carlo"].values, ds["time"].values, s.grid.spacing, s.boundary, noise="walk",
                       units=s.unit_system())
res = inverse.fit(observed, propagator="steps", step_dt=s.time.dt)
D, err = res.theta[0], res.stderr[0]
print(f"D = {D:.4g} ± {err:.1g} {res.unit('diffusivity')}  (the scenario's: {s.diffusivity:g})")
print(f"  = {D * 1e-6:.3g} m²/s")
assert abs(D - s.diffusivity) < 4 * err

"""
Any kernel read as a propagator
===============================

An image-processing kernel, normalised by softmax, is a probability kernel: used as a step, it moves salt.
``physconv kernel`` reads it: its drift, its diffusion tensor, whether it is a stable step, and what its
convolution powers become.
"""

from physconv.insights import kernel

spec = kernel.parse("edge")
print(spec)
fig = kernel.figure(spec, "softmax", 3.0)

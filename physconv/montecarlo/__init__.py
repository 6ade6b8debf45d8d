"""Monte Carlo propagators: lattice walkers, counts mode, Brownian particles, stochastic convolution.

A kernel is a propagator: the probability of where one particle of salt (or
of pixel intensity) goes in one step. One particle moves at random; many move
"deterministically", and their binned average is the convolution.
"""

from .brownian import brownian, expectation, transition
from .lattice import ParticleRun, lattice, place
from .stochastic import StochasticConvolution, stochastic_convolve

__all__ = ["ParticleRun", "StochasticConvolution", "brownian", "expectation", "lattice", "place",
           "stochastic_convolve", "transition"]

"""Time-stepping solvers: ``explicit`` (Numba FTCS and kernel steps), ``implicit`` (Crank–Nicolson by alternating directions); their
scratch memory is kept between calls, and new results are mapped at once, by ``workspace``."""

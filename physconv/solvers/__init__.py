"""Time-stepping solvers: ``explicit`` (Numba FTCS and kernel steps)."""

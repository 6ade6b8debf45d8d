"""Exception types raised by physconv.

Every error is a :class:`ValueError` subclass whose message names the bad
value, the valid options and how to fix it, so that the command line can turn
it into a single ``error: ...`` line.
"""


class PhysconvError(ValueError):
    """Base class of every input error raised by physconv."""


class GridError(PhysconvError):
    """A grid shape or spacing is invalid."""


class BoundaryError(PhysconvError):
    """A boundary name, axis or value is invalid.

    ``key`` is the scenario key at fault: ``("boundary",)``, ``("boundary", axis)`` or ``("boundary_value",)``.
    """

    def __init__(self, message, key=("boundary",)):
        super().__init__(message)
        self.key = tuple(key)


class KernelError(PhysconvError):
    """A kernel has the wrong size, non-finite values or is not a probability kernel."""


class StabilityError(PhysconvError):
    """An explicit time step is larger than the stability (CFL) limit allows."""


class ScenarioError(PhysconvError):
    """A scenario file or one of its keys is invalid."""

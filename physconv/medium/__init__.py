"""Media where one kernel no longer describes a step: solid cells, a diffusivity per cell and per
axis, a velocity (DESIGN §11).

A medium is validated once into plain arrays (:mod:`.model`); :mod:`.operator` builds its space-
discretised equation ``du/dt = L u + b`` from face fluxes; :mod:`.stepping` advances a field by each
method; :mod:`.keys` makes a medium from a scenario's keys.
"""

from . import walkers  # noqa: F401
from .brownian import brownian  # noqa: F401
from .model import OBSTACLE_WALLS, Medium, MediumError, build, field  # noqa: F401
from .operator import faces, operator, stable_dt, step_kernel, weights  # noqa: F401
from .stepping import (MAX_EIGEN_CELLS, adi, check_dt, crank_nicolson, explicit, explicit_sparse,  # noqa: F401
                       power, semidiscrete)

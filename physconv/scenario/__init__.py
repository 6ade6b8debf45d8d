"""Scenario files: YAML in, a validated :class:`Scenario` out.

A scenario is read with ``yaml.safe_load`` (:mod:`.reading`: limits, every key's line, overrides),
checked key by key against the pydantic models (:mod:`.schema`), then checked as a whole
(:mod:`.checks`: stable time step, kernel limits, walls that Monte Carlo can handle, memory). Every
error names the file, the line and the key: ``scenario.yaml:7: time.dt: ...``.
"""

from ..errors import ScenarioError  # noqa: F401
from .checks import (CENTRE_WARNING, _default_max_bytes, _KeyProblem, advice,  # noqa: F401
                     check, resolve_time, wall_value_nonzero)
from .reading import (SHIPPED, _apply_override, _check_keys, _Locator, _nearest, json_schema, load,  # noqa: F401
                      parse, read_yaml, resolve, shipped)
from .schema import (AUTO_DT_SAFETY, BASE_MEMORY, FLOAT32_RANGE, MAX_FILE_BYTES, MAX_NODES, MAX_STEPS, MAX_VALUE,  # noqa: F401
                     METHODS, PER_FRAME, GridSpec, KernelSpec, Method, MonteCarloSpec, Scenario, TimeSpec)

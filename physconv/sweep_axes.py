"""The swept keys of a sweep: ``KEY=V1,V2,...`` lists and ``START:STOP:NUM[:log]`` ranges, parsed into
values that compare as values."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import numpy as np
import yaml

from .errors import PhysconvError

MAX_VARIANTS = 100_000


class SweepError(PhysconvError):
    """A sweep that cannot be planned, or a store that holds something else."""


@dataclass(frozen=True)
class Axis:
    """One swept key: its path (``kernel.temperature``), its values and its dimension name."""

    key: str
    values: tuple

    @property
    def dim(self) -> str:
        return self.key.replace(".", "_")

    def coordinate(self) -> np.ndarray:
        """The values as a coordinate: numbers stay numbers, anything else becomes its YAML text."""
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in self.values):
            return np.array(self.values)
        return np.array([_text(v) for v in self.values], dtype=str)


def _text(value) -> str:
    return json.dumps(value) if not isinstance(value, str) else value


def parse_axis(item: str) -> Axis:
    """``KEY=V1,V2,...`` (YAML values; commas inside brackets belong to the value), or a range
    ``KEY=START:STOP:NUM`` (NUM values evenly spaced, both ends included) or ``KEY=START:STOP:NUM:log``
    (geometrically spaced). Whole-number ranges of whole-number ends stay whole numbers."""
    key, sep, spec = item.partition("=")
    key = key.strip()
    if not sep or not key or not spec.strip():
        raise SweepError(f"--set {item!r}: expected KEY=V1,V2,... or KEY=START:STOP:NUM[:log]")
    parts = spec.split(":")
    if len(parts) in (3, 4) and all(_number(p) is not None for p in parts[:3]):  # else text with colons
        return Axis(key, _range(item, *parts))
    values = tuple(_yaml_value(item, v) for v in _split_top_level(spec))
    _distinct(item, values)
    return Axis(key, values)


def _number(text: str):
    """``text`` as a number (YAML's, or Python's ``float``, which also reads ``1e-3``), or None."""
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    try:
        return float(str(text).strip())
    except ValueError:
        return None


def _distinct(item: str, values) -> None:
    """Refuse a value given twice, comparing values (``1`` and ``1.0``, ``0.1`` and ``1e-1`` are one)."""
    for i, a in enumerate(values):
        for b in values[:i]:
            if a == b or _text(a) == _text(b):
                same = "is given twice" if _text(a) == _text(b) else f"and {_text(a)} are the same value"
                raise SweepError(f"--set {item!r}: {_text(b)} {same}; each variant runs once")


def _range(item, start, stop, num, scale="linear"):
    a, b = (_number(v) for v in (start, stop))
    n = _number(num)
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in (a, b)):
        raise SweepError(f"--set {item!r}: a range needs numbers at both ends")
    if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= MAX_VARIANTS:
        raise SweepError(f"--set {item!r}: the number of values must be a whole number from 1 to {MAX_VARIANTS}")
    if scale.strip() == "log":
        if a <= 0 or b <= 0:
            raise SweepError(f"--set {item!r}: a log range needs positive ends")
        values = np.geomspace(a, b, n)
    elif scale.strip() == "linear":
        values = np.linspace(a, b, n)
    else:
        raise SweepError(f"--set {item!r}: the fourth part of a range is 'log' (or 'linear'), got {scale!r}")
    if isinstance(a, int) and isinstance(b, int) and np.allclose(values, np.rint(values), rtol=0, atol=1e-9):
        out = tuple(int(v) for v in np.rint(values))
        if len(set(out)) != len(out):
            raise SweepError(f"--set {item!r}: whole-number values repeat; use fewer values or a wider range")
        return out
    return tuple(float(f"{v:.15g}") for v in values)  # 0.08, not linspace's 0.08000000000000002


def _yaml_value(item, text):
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        raise SweepError(f"--set {item!r}: {text!r} is not a YAML value") from None


def _split_top_level(spec: str) -> list[str]:
    parts, depth, current = [], 0, ""
    for ch in spec:
        depth += ch in "[{"
        depth -= ch in "]}"
        if ch == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += ch
    parts.append(current)
    if any(not p.strip() for p in parts):
        raise SweepError(f"empty value in {spec!r}")
    return [p.strip() for p in parts]



"""Physical units: what a scenario's numbers mean, and how a result shows its times and lengths.

A scenario with ``units: {length: mm, time: s}`` states its numbers in those units: the cell size
and obstacle coordinates in mm, ``dt`` and ``end`` in s, the diffusivity in mm²/s, a velocity in
mm/s. The methods compute exactly as without units (a unit changes no number); the result carries
CF ``units`` attributes on its coordinates and fields, and the pictures, tables and fits state their
quantities in them. Time is *shown* in the largest of s, min, h, d at which the run lasts at least
one unit (a day-long run of 10-second steps reads in hours), and stored as given.

Unit names are read by pint (https://pint.readthedocs.io), which is imported only when a scenario or
result has units. Without ``units`` everything is dimensionless, as the cell size and D are then.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

LENGTH, TIME = "[length]", "[time]"
SHOWN_TIMES = ("s", "min", "h", "d")  # the units time may be shown in, smallest first
ATTRS = ("length_units", "time_units")  # the result's attributes that record the scenario's units


class UnitsError(ValueError):
    """A unit name that pint does not know, or a unit of the wrong kind (``length: kg``)."""


@functools.cache
def registry():
    """The one pint registry (built on first use: about 0.4 s)."""
    import pint

    return pint.UnitRegistry()


def parse(name: str, dimension: str) -> str:
    """The unit ``name`` checked to be a ``dimension`` (``"[length]"`` or ``"[time]"``), as its short symbol.

    >>> parse("millimeter", "[length]"), parse("hour", "[time]")
    ('mm', 'h')

    Raises
    ------
    UnitsError
        When pint does not know the name or it measures something else.
    """
    import pint

    if not isinstance(name, str) or not name.strip():
        raise UnitsError(f"must be a unit name such as {'mm' if dimension == LENGTH else 's'}")
    try:
        unit = registry().Unit(name.strip())
    except (pint.UndefinedUnitError, pint.errors.DefinitionSyntaxError, AttributeError, TypeError, ValueError,
            AssertionError):  # pint's parser raises several kinds on text that is no unit
        raise UnitsError(f"{name!r} is not a unit name pint knows (for example "
                         f"{'m, mm, um, cm' if dimension == LENGTH else 's, min, h, d'})") from None
    kind = str(unit.dimensionality)
    if kind != dimension:
        what = {"[mass]": "a mass", "[time]": "a time", "[length]": "a length", "": "dimensionless"}.get(kind, kind)
        raise UnitsError(f"{name!r} is {what}, not {'a length' if dimension == LENGTH else 'a time'}")
    return f"{unit:~}".replace(" ", "")


@functools.cache
def factor(source: str, target: str) -> float:
    """The number by which a value in unit ``source`` is multiplied to be in ``target`` (``factor("h", "s")`` is
    3600)."""
    return float(registry().Quantity(1.0, source).to(target).magnitude)


@dataclass(frozen=True)
class Units:
    """A scenario's or a result's units: ``length`` and ``time`` short symbols, ``"1"`` when dimensionless."""

    length: str = "1"
    time: str = "1"

    @property
    def dimensionless(self) -> bool:
        return self.length == "1" and self.time == "1"

    def cf(self, quantity: str) -> str:
        """The CF / UDUNITS string of ``quantity``: length, time, diffusivity (length²/time), velocity, rate."""
        L, T = _cf_symbol(self.length), _cf_symbol(self.time)
        power = {"length": ((L, 1),), "time": ((T, 1),), "diffusivity": ((L, 2), (T, -1)),
                 "velocity": ((L, 1), (T, -1)), "rate": ((T, -1),)}[quantity]
        parts = [s + ("" if p == 1 else str(p)) for s, p in power if s != "1"]
        return " ".join(parts) or "1"

    def label(self, quantity: str) -> str:
        """How a quantity's unit reads on an axis or in a table (``mm²/s``), or ``""`` when dimensionless."""
        L, T = self.length, self.time
        text = {"length": L, "time": T, "diffusivity": f"{L}²/{T}", "velocity": f"{L}/{T}", "rate": f"1/{T}"}[quantity]
        text = text.replace("1²/", "1/").replace("/1", "")
        return "" if text in ("1", "1²", "") else text

    def text(self, value: float, quantity: str, fmt: str = ".6g") -> str:
        """A number with its unit, for messages: ``"0.00416667 s"``, or ``"0.00416667"`` when dimensionless."""
        unit = self.label(quantity)
        return f"{value:{fmt}}" + (f" {unit}" if unit else "")

    def shown_time(self, t_max: float) -> tuple[str, float]:
        """The unit times are shown in, and the factor from the stored unit: the largest of :data:`SHOWN_TIMES`
        (not smaller than the stored unit) in which ``t_max`` is at least 1; the stored unit otherwise.

        >>> Units("mm", "s").shown_time(7200.0)
        ('h', 0.0002777777777777778)
        """
        if self.time == "1":
            return "1", 1.0
        own = factor(self.time, "s")
        best = (self.time, 1.0)
        for name in SHOWN_TIMES:
            f = factor(self.time, name)
            if factor(name, "s") > own * (1 + 1e-12) and t_max * f >= 1.0:
                best = (name, f)
        return best

    def attrs(self) -> dict:
        """The result's global attributes that record these units (none when dimensionless)."""
        return {} if self.dimensionless else {"length_units": self.length, "time_units": self.time}


def _cf_symbol(symbol: str) -> str:
    return symbol.replace("µ", "u")


def of(ds) -> Units:
    """The units a result records (:meth:`Units.attrs`), or dimensionless ones."""
    attrs = getattr(ds, "attrs", ds) or {}
    return Units(str(attrs.get("length_units", "1")), str(attrs.get("time_units", "1")))


def with_unit(name: str, unit: str) -> str:
    """``"x [mm]"``, or ``"x"`` when ``unit`` is empty or dimensionless."""
    return name if unit in ("", "1") else f"{name} [{unit}]"


def time_text(ds, t: float, digits: str = "g") -> str:
    """A saved time as the pictures show it: ``"3.2 h"`` in a result with units, ``"500"`` without."""
    u = of(ds)
    if u.time == "1":
        return format(t, digits)
    shown, f = u.shown_time(float(ds["time"].values.max()) if "time" in ds.coords and ds.sizes.get("time") else t)
    return f"{format(t * f, '.4g' if digits == 'g' else digits)} {shown}"


def time_axis(ds):
    """``(times in the unit shown, axis label)`` of a result's saved times."""
    t = ds["time"].values
    u = of(ds)
    if u.time == "1":
        return t, "time"
    shown, f = u.shown_time(float(t.max()) if t.size else 0.0)
    return t * f, with_unit("time", shown)


def span(shape, spacing, steps: int, dt: float, units: Units) -> str:
    """A scenario's size in words: ``100 x 100 cells, 9600 steps``, and with units ``100 x 100 cells of
    0.1 mm (10 x 10 mm), 9600 steps of 1.5 s (to t = 4 h)``."""
    cells = " x ".join(map(str, shape))
    if units.dimensionless:
        return f"{cells} cells, {steps} steps"
    h = [float(v) for v in (spacing if isinstance(spacing, (list, tuple)) else [spacing] * len(shape))]
    L = units.label("length") or "(dimensionless)"
    cell = " x ".join(f"{v:g}" for v in dict.fromkeys(h))
    box = " x ".join(f"{n * v:.4g}" for n, v in zip(shape, h))
    shown, f = units.shown_time(steps * dt)
    T = units.label("time") or "(dimensionless)"
    return (f"{cells} cells of {cell} {L} ({box} {L}), {steps} steps of {dt:g} {T} "
            f"(to t = {steps * dt * f:.4g} {shown})")

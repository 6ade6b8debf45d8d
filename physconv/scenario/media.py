"""The medium's keys (DESIGN §11): ``obstacles``, a ``diffusivity`` per axis or per cell, ``velocity``."""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field

from ..initial import Real


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class Rectangle(_Strict):
    """A box of solid cells: every cell whose centre lies in ``[lower, upper]`` (physical coordinates)."""

    kind: Literal["rectangle"]
    lower: list[Real] = Field(..., min_length=1, max_length=3, description="lowest corner, one coordinate per axis")
    upper: list[Real] = Field(..., min_length=1, max_length=3, description="highest corner, one coordinate per axis")


class Disc(_Strict):
    """A disc (a ball in 3-D) of solid cells: every cell whose centre is within ``radius`` of ``centre``."""

    kind: Literal["disc"]
    centre: list[Real] = Field(..., min_length=1, max_length=3, description="one coordinate per axis")
    radius: Annotated[Real, Field(gt=0)]


Shape = Annotated[Union[Rectangle, Disc], Field(discriminator="kind")]


class ObstaclesSpec(_Strict):
    """``obstacles:`` — solid cells, whose faces are walls of kind ``wall``."""

    kind: Literal["array", "image", "shapes"] = Field(..., description="array: a .npy of booleans (true = solid); "
                                                      "image: dark pixels are solid; shapes: rectangles and discs")
    path: str | None = Field(None, description="array or image: the file")
    threshold: Annotated[Real, Field(gt=0, lt=1)] = Field(0.5, description="image: brightness below this is solid")
    shapes: list[Shape] | None = Field(None, max_length=10_000, description="shapes: the list")
    wall: Literal["reflecting", "absorbing"] = Field("reflecting", description="the rule on the obstacles' faces")
    clear: bool = Field(False, description="true: the initial field inside obstacles is set to zero (the rock "
                                           "displaces the water); false: more than 1 % of it there is refused, "
                                           "less removed with a warning")


class DiffusivityField(_Strict):
    """``diffusivity: {kind: ...}`` — a diffusivity per cell (length²/time)."""

    kind: Literal["array", "image", "layers"]
    path: str | None = Field(None, description="array (.npy of the grid's shape) or image: the file")
    range: list[Annotated[Real, Field(gt=0)]] | None = Field(
        None, min_length=2, max_length=2, description="image: [D of black, D of white]")
    axis: str | None = Field(None, description="layers: the axis across the layers (x, y or z)")
    edges: list[Real] | None = Field(None, min_length=2, max_length=10_000,
                                     description="layers: increasing boundaries in physical units")
    values: list[Annotated[Real, Field(gt=0)]] | None = Field(None, min_length=1, max_length=10_000,
                                                               description="layers: D of each layer")


class VelocityField(_Strict):
    """``velocity: {kind: ...}`` — a velocity field (length/time)."""

    kind: Literal["array", "shear", "vortex"] = Field(..., description="array: a .npy of shape (ndim, *grid) "
                                                      "(the velocity at every cell centre); shear: v_x = rate (y - "
                                                      "centre); vortex: solid rotation at rate about centre")
    path: str | None = Field(None, description="array: the file")
    rate: Real | None = Field(None, description="shear and vortex: 1/time (vortex: counter-clockwise when > 0)")
    centre: list[Real] | None = Field(None, min_length=1, max_length=3,
                                      description="shear: [y]; vortex: [y, x]; default the domain's centre")

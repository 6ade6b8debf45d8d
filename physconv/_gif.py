"""GIF frames with one palette built for the picture: the colour map's own colours, the line colours and greys.

A GIF holds at most 256 colours. Left to Pillow, every frame gets its own palette by median cut over
all its pixels, and the colour bar's smooth ramp comes out in a few visible bands (a posterised bar
whose steps are not in the data). Here every frame is mapped, without dithering, to one palette of
:data:`CMAP_COLOURS` evenly spaced colours of the map, matplotlib's ten line colours and greys, so a
colour in a frame is never more than half a step of the map away from the one drawn.
"""

from __future__ import annotations

import numpy as np
from matplotlib import colormaps
from PIL import Image

CMAP_COLOURS = 200
GREYS = 256 - CMAP_COLOURS - 10


def palette(cmap: str = "viridis") -> Image.Image:
    """A 'P' image whose palette is the map's colours, the ten line colours C0-C9 and greys."""
    from matplotlib.colors import to_rgb

    ramp = colormaps[cmap](np.linspace(0.0, 1.0, CMAP_COLOURS))[:, :3]
    lines = np.array([to_rgb(f"C{i}") for i in range(10)])
    greys = np.repeat(np.linspace(0.0, 1.0, GREYS)[:, None], 3, axis=1)
    colours = np.round(255 * np.vstack([ramp, lines, greys])).astype(np.uint8)
    image = Image.new("P", (1, 1))
    image.putpalette(colours.ravel().tolist())
    return image


def write(frames, path, fps: int, cmap: str = "viridis") -> None:
    """Save RGB(A) uint8 arrays as a looping GIF at ``fps`` frames per second, all with one palette."""
    pal = palette(cmap)
    images = [Image.fromarray(np.ascontiguousarray(f[..., :3])).quantize(palette=pal, dither=Image.Dither.NONE)
              for f in frames]
    images[0].save(path, format="GIF", save_all=True, append_images=images[1:], duration=int(1000 / fps), loop=0)

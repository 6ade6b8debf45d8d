"""The pictures a notebook shows: a result's animation by ``physconv.plot.animate`` against matplotlib's own
``FuncAnimation`` saved with ``PillowWriter``, the way a user would animate the same panels. Both are checked to
make the same frames first (count, size, and pixels within the GIF palettes' rounding)."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image


def _frames(data: bytes) -> list[np.ndarray]:
    gif = Image.open(io.BytesIO(data))
    out = []
    for i in range(gif.n_frames):
        gif.seek(i)
        out.append(np.asarray(gif.convert("RGB"), dtype=float))
    return out


def matplotlib_gif(ds, methods, fps: int = 4) -> bytes:
    """The same panels (maps of each method, one colour scale) animated by FuncAnimation + PillowWriter."""
    import tempfile
    from pathlib import Path

    from matplotlib.animation import FuncAnimation, PillowWriter
    from matplotlib.figure import Figure

    fig = Figure(figsize=(3.0 * len(methods) + 1.0, 3.4), layout="constrained")
    axes = fig.subplots(1, len(methods), squeeze=False)[0]
    lo = min(float(ds[m].min()) for m in methods)
    hi = max(float(ds[m].max()) for m in methods)
    images = [ax.imshow(ds[m][0].values, origin="lower", vmin=lo, vmax=hi, cmap="viridis")
              for ax, m in zip(axes, methods)]
    for ax, m in zip(axes, methods):
        ax.set_title(m)
    fig.colorbar(images[0], ax=axes, shrink=0.8, label="concentration")
    title = fig.suptitle("")

    def update(i):
        for im, m in zip(images, methods):
            im.set_data(ds[m][i].values)
        title.set_text(f"{ds.attrs.get('title', '')}: t = {float(ds['time'][i]):g}")
        return images

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "peer.gif"
        FuncAnimation(fig, update, frames=ds.sizes["time"]).save(path, writer=PillowWriter(fps=fps))
        return path.read_bytes()


def animation(repeat: int, report, quick: bool = False):
    import physconv
    from physconv import plot

    from .timing import interleaved

    s = physconv.load("salt_aquarium", ["monte_carlo.particles=100000"] + (["time.steps=200"] if quick else []))
    ds = physconv.run(s, progress=False)
    methods = ["explicit", "spectral", "gaussian"]
    ours, peer = _frames(plot.animate(ds, methods=methods, scale="linear").data), _frames(matplotlib_gif(ds, methods))
    assert len(ours) == len(peer) == ds.sizes["time"] and ours[0].shape == peer[0].shape, (len(ours), len(peer))
    gap = max(float(np.abs(a - b).mean()) for a, b in zip(ours, peer)) / 255
    assert gap < 0.03, gap  # the same panels: only palettes, tick labels and the layout's rounding differ
    timings = interleaved({"physconv plot.animate": lambda: plot.animate(ds, methods=methods, scale="linear"),
                           "matplotlib FuncAnimation + PillowWriter": lambda: matplotlib_gif(ds, methods)}, repeat)
    checks = {"physconv plot.animate": f"{len(ours)} frames of {ours[0].shape[1]}x{ours[0].shape[0]}",
              "matplotlib FuncAnimation + PillowWriter": f"same frames: mean pixel gap {100 * gap:.1f} %"}
    report("animate a result", f"3 x {ds.sizes['x']}^2", timings, float(len(ours)), "frames/s",
           reference="physconv plot.animate", checks=checks)

"""A sphinx-gallery image scraper for physconv's figures.

physconv's plotting functions return :class:`matplotlib.figure.Figure` objects that pyplot does not manage
(they never open a window), so sphinx-gallery's own matplotlib scraper does not see them. This one looks
through the example's variables after each code block and saves every figure it has not saved before, in the
order the variables were made. It runs before sphinx-gallery's matplotlib scraper, so that it knows which
figures pyplot holds (those are that scraper's).
"""

from __future__ import annotations


def _figures(value):
    from matplotlib.figure import Figure, SubFigure

    from ..plot import root_figure

    if isinstance(value, SubFigure):
        value = root_figure(value)
    if isinstance(value, Figure):
        yield value
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _figures(v)


def returned_figures(block, block_vars, gallery_conf):
    """Save the figures the example's variables hold (sphinx-gallery's scraper interface); returns the reST."""
    import matplotlib.pyplot as plt
    from sphinx_gallery.scrapers import figure_rst

    seen = block_vars.setdefault("physconv_saved", set())
    seen.update(id(plt.figure(n)) for n in plt.get_fignums())  # pyplot's own: its scraper, after this one, saves them
    paths = []
    for value in list(block_vars["example_globals"].values()):
        for fig in _figures(value):
            if id(fig) in seen:
                continue
            seen.add(id(fig))
            path = next(block_vars["image_path_iterator"])
            fig.savefig(path, dpi=80)
            paths.append(path)
    return figure_rst(paths, gallery_conf["src_dir"])


"""Where progress goes: a bar in a terminal or a notebook, one line per method in a log, or nowhere.

``progress=None`` (the default everywhere) chooses: a bar when standard error is a terminal or the code runs in
a Jupyter kernel (a widget bar there when ipywidgets is installed, else a text bar the notebook redraws), one
line per method as it starts and ends otherwise (a log file, a pipe, CI). ``True`` asks for the bar, ``False``
for silence.
"""

from __future__ import annotations

import sys


def in_notebook() -> bool:
    """Whether this process is a Jupyter kernel (IPython's ZMQ shell)."""
    shell = sys.modules.get("IPython")
    if shell is None:
        return False
    try:
        ip = shell.get_ipython()
    except AttributeError:
        return False
    return ip is not None and type(ip).__name__ == "ZMQInteractiveShell"


def mode(progress: bool | None) -> str:
    """``'bar'``, ``'lines'`` or ``'off'`` for a ``progress`` argument (see the module)."""
    if progress is False:
        return "off"
    if progress is True or in_notebook() or sys.stderr.isatty():
        return "bar"
    return "lines"


def bar_class():
    """The tqdm class to draw with: the notebook widget in a Jupyter kernel with ipywidgets, else the text bar."""
    if in_notebook():
        from importlib.util import find_spec

        if find_spec("ipywidgets") is not None:
            from tqdm.notebook import tqdm

            return tqdm
    from tqdm.std import tqdm

    return tqdm

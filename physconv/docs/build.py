"""``python -m physconv.docs``: build the documentation site from the repository, warnings as errors.

The repository's ``docs/`` folder is copied to a staging folder beside the output, so that a build never
writes into the sources; there Sphinx reads the pages (MyST Markdown), writes the scenario reference from the
schema, draws the pages' figures anew (``docs/make_figures.py``), runs every ``examples/plot_*.py`` with
sphinx-gallery and every ``examples/*.ipynb`` with myst-nb, and writes the HTML. Only a build without a
warning replaces the output folder; a failed or interrupted one leaves the previous site as it was.

Sphinx was chosen over MkDocs because physconv's docstrings are numpydoc (rendered by the numpydoc extension,
which mkdocstrings reads less fully), because sphinx-gallery is the executed gallery of the peers it is read
beside (scikit-image, py-pde, matplotlib), and because ``-W`` makes a broken link, a stale cross-reference
and a failing example or notebook one error each.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

GENERATED = ("_generated", "auto_examples", "notebooks", "gen_modules", "jupyter_execute", "sg_execution_times.rst",
             "__pycache__", ".jupyter_cache", "_build", "build")


class DocsError(Exception):
    """The sources or the tools to build the site are missing."""


def repository() -> Path:
    """The clone physconv runs from (``pip install -e``), which holds ``docs/`` and ``examples/``."""
    root = Path(__file__).resolve().parents[2]
    if not (root / "docs" / "conf.py").is_file() or not (root / "examples").is_dir():
        raise DocsError(f"the documentation sources (docs/conf.py, examples/) are not beside this physconv "
                        f"({root}); build from a clone installed with pip install -e .")
    return root


def check_tools() -> None:
    from importlib.util import find_spec

    missing = [m for m in ("sphinx", "sphinx_gallery", "numpydoc", "myst_nb", "pydata_sphinx_theme", "ipykernel")
               if find_spec(m) is None]
    if missing:
        raise DocsError(f"the site needs {', '.join(missing)}: pip install -e '.[docs]'")


def command(source: Path, target: Path, quick: bool) -> list[str]:
    """The ``sphinx-build`` command line: warnings are errors; ``quick`` runs no example or notebook."""
    cmd = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html", str(source), str(target)]
    if quick:
        cmd += ["-D", "plot_gallery=0", "-D", "nb_execution_mode=off"]
    return cmd


def check_target(out: Path) -> None:
    """Refuse an ``--out`` that holds anything but a site this command built (or nothing): it is replaced whole."""
    if not out.exists():
        return
    if not out.is_dir():
        raise DocsError(f"--out {out}: a file, not a folder; the site is a folder that a build replaces whole")
    if any(out.iterdir()) and not (out / "index.html").is_file():
        raise DocsError(f"--out {out}: a folder that holds something else than a site (no index.html); a build "
                        "replaces its folder whole: choose an empty or new folder")


def _run(cmd, env, cwd) -> None:
    """Run Sphinx; an interrupt stops it too (within a second) before it is passed on."""
    proc = subprocess.Popen(cmd, env=env, cwd=cwd)
    try:
        code = proc.wait()
    except BaseException:
        proc.terminate()
        try:
            proc.wait(timeout=1.0)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        raise
    if code:
        raise subprocess.CalledProcessError(code, cmd)


def build(out, quick: bool = False, root=None) -> Path:
    """Build the site into ``out`` (replaced only by a successful build); returns its ``index.html``.
    ``root``: a repository other than the one physconv runs from (its ``docs/`` and ``examples/``).

    Raises
    ------
    DocsError
        When the sources or tools are missing.
    subprocess.CalledProcessError
        When Sphinx reports a warning or an error (its messages are on standard error).
    """
    root = repository() if root is None else Path(root).resolve()
    check_tools()
    out = Path(out).resolve()
    check_target(out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        stage = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    except OSError as exc:
        raise DocsError(f"--out {out}: cannot write there ({exc.strerror or exc})") from None
    try:
        source = stage / "docs"
        shutil.copytree(root / "docs", source, ignore=shutil.ignore_patterns(*GENERATED))
        env = dict(os.environ, PHYSCONV_REPO=str(root), PHYSCONV_DOCS_FIGURES="0" if quick else "1",
                   MPLBACKEND="Agg", PYTHONWARNINGS=os.environ.get("PYTHONWARNINGS", ""))
        _run(command(source, stage / "html", quick), env, stage)
        old = out.with_name(f".{out.name}.old")
        if out.exists():
            out.rename(old)
        (stage / "html").rename(out)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return out / "index.html"


def main(argv=None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m physconv.docs", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="build/site", help="the site's folder (default build/site)")
    parser.add_argument("--quick", action="store_true", help="pages, links and API only: run no example or notebook")
    args = parser.parse_args(argv)
    from .._interrupt import Terminated, handler

    signal.signal(signal.SIGTERM, handler)
    try:
        index = build(args.out, args.quick)
    except DocsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except subprocess.CalledProcessError:
        print("error: the site did not build (the messages above name each file and line); the previous site "
              "is unchanged", file=sys.stderr)
        return 1
    except KeyboardInterrupt as exc:
        print("interrupted: the previous site is unchanged", file=sys.stderr)
        return 143 if isinstance(exc, Terminated) else 130
    print(f"site: {index}")
    return 0

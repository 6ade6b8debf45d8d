"""Sphinx configuration of physconv's documentation site.

Build it with ``python -m physconv.docs`` (a staged copy of this folder, every example and notebook executed,
every figure of the pages drawn anew, warnings as errors), or in place with
``sphinx-build -W --keep-going docs build/site``.
"""

import os
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = Path(os.environ.get("PHYSCONV_REPO", HERE.parent))
sys.path.insert(0, str(REPO))

import physconv  # noqa: E402
from physconv.docs import schema_page  # noqa: E402

project = "physconv"
author = "the physconv developers"
copyright = "physconv developers, BSD-3-Clause"
release = version = physconv.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.intersphinx",
    "numpydoc",
    "myst_nb",
    "sphinx_gallery.gen_gallery",
]

# --- pages written or copied before the build reads them ---------------------------------------------------
schema_page.write(HERE / "_generated" / "scenario-reference.md")
(HERE / "notebooks").mkdir(exist_ok=True)
for nb in sorted((REPO / "examples").glob("*.ipynb")):
    target = HERE / "notebooks" / nb.name
    if not target.exists() or target.read_bytes() != nb.read_bytes():
        shutil.copyfile(nb, target)
if os.environ.get("PHYSCONV_DOCS_FIGURES") == "1":  # the pages' figures drawn from the code (docs/make_figures.py)
    import runpy

    runpy.run_path(str(HERE / "make_figures.py"), run_name="__main__")

source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}
exclude_patterns = ["_build", "auto_examples/*.ipynb", "auto_examples/*.py", "auto_examples/*.zip",
                    "auto_examples/*.json", "auto_examples/*.md5", "**.ipynb_checkpoints"]
suppress_warnings = ["myst.header"]

myst_enable_extensions = ["dollarmath", "colon_fence"]
myst_heading_anchors = 3
nb_execution_mode = "force"  # every notebook runs at build time; -D nb_execution_mode=off to skip
nb_execution_timeout = 600
nb_execution_raise_on_error = True
nb_execution_show_tb = True

autodoc_default_options = {"members": True, "undoc-members": False, "show-inheritance": False}
autodoc_typehints = "none"
autosummary_generate = False
numpydoc_show_class_members = False
numpydoc_validation_checks = set()
numpydoc_xref_param_type = False

intersphinx_mapping = {}

sphinx_gallery_conf = {
    "examples_dirs": str(REPO / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"__init__\.py|\.ipynb",
    "download_all_examples": False,
    "remove_config_comments": True,
    "within_subsection_order": "FileNameSortKey",
    "matplotlib_animations": False,
    "abort_on_example_error": True,
    "show_memory": False,
    "capture_repr": ("_repr_html_", "__repr__"),
    "image_scrapers": ("physconv.docs.scraper.returned_figures", "matplotlib"),
    "reset_modules": ("matplotlib",),
}

html_theme = "pydata_sphinx_theme"
html_title = "physconv"
html_theme_options = {"navigation_with_keys": False, "show_prev_next": True,
                      "secondary_sidebar_items": ["page-toc"]}
html_static_path = []
html_show_sourcelink = False

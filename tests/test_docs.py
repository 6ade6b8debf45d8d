"""The documentation site (DESIGN §13): the scenario reference is the schema, the site builds with warnings as
errors (a broken link fails it), every gallery example and notebook runs top to bottom, and a failed or
interrupted build leaves the previous site as it was."""

import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from physconv.docs import build, schema_page, scraper

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("plot_*.py"))
NOTEBOOKS = sorted((ROOT / "examples").glob("*.ipynb"))


def test_the_scenario_reference_lists_every_key_of_the_schema():
    from physconv.scenario import json_schema

    schema = json_schema()
    page = schema_page.markdown(schema)
    for key, prop in schema["properties"].items():
        assert re.search(rf"^\| `{key}` \|", page, flags=re.M), key
    for name, model in schema["$defs"].items():
        assert f"({schema_page._anchor(name)})=\n## {name}" in page, name
        for key in model.get("properties", {}):
            assert f"| `{key}` |" in page, (name, key)
    assert "| `units` | {ref}`UnitsSpec <scenario-unitsspec>` (optional) |" in page
    assert "a unit of length: m, mm, um, cm" in page  # a description, from the model's Field


def test_the_scraper_saves_each_returned_figure_once_and_leaves_pyplots_to_its_own(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    mine, managed = Figure(), plt.figure()
    sub = Figure().subfigures(1, 2)
    paths = iter(tmp_path / f"{i}.png" for i in range(10))
    block_vars = {"example_globals": {"fig": mine, "pair": (sub[0], 3), "p": managed},
                  "image_path_iterator": paths}
    conf = {"src_dir": str(tmp_path)}
    first = scraper.returned_figures(None, block_vars, conf)
    assert sorted(p.name for p in tmp_path.glob("*.png")) == ["0.png", "1.png"]
    assert "0.png" in first and "1.png" in first
    assert scraper.returned_figures(None, block_vars, conf) == ""  # nothing new in the next block
    plt.close(managed)


def _site_files(root: Path) -> dict:
    return {p.relative_to(root): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_the_site_builds_with_warnings_as_errors(quick_site):
    site = quick_site.parent
    for page in ("index.html", "getting-started.html", "methods.html", "media.html", "inverse.html",
                 "insights.html", "notebooks.html", "units.html", "api.html", "_generated/scenario-reference.html",
                 "auto_examples/index.html", "notebooks/diffusion_is_convolution.html", "notebooks/insights.html"):
        assert (site / page).is_file(), page
    api = (site / "api.html").read_text()
    for name in ("physconv.runner.run", "physconv.comparison.Comparison", "physconv.units.Units",
                 "physconv.inverse.fit.fit", "physconv.plot.animate"):
        assert f'id="{name}"' in api, name
    assert not [p for p in site.parent.iterdir() if p.name.startswith(".site.")]  # no staging left behind


def test_a_broken_link_fails_the_build_and_keeps_the_previous_site(tmp_path, capfd):
    root = tmp_path / "repo"  # the site's own configuration over one page and an empty gallery
    (root / "docs").mkdir(parents=True)
    shutil.copyfile(ROOT / "docs" / "conf.py", root / "docs" / "conf.py")
    (root / "examples").mkdir()
    shutil.copyfile(ROOT / "examples" / "README.rst", root / "examples" / "README.rst")
    index = "# A page\n\n```{toctree}\nauto_examples/index\n_generated/scenario-reference\n```\n"
    (root / "docs" / "index.md").write_text(index)
    out = tmp_path / "site"
    out.mkdir()
    (out / "index.html").write_text("the previous site")
    before = _site_files(out)
    (root / "docs" / "index.md").write_text(index + "\nSee [the missing page](no-such-page.md).\n")
    with pytest.raises(subprocess.CalledProcessError):
        build.build(out, quick=True, root=root)
    assert _site_files(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["repo", "site"]  # no staging left behind
    said = capfd.readouterr().err
    assert "index.md:" in said and "no-such-page" in said  # Sphinx names the file, the line and the link


def test_the_command_refuses_without_sources_in_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(build, "repository", lambda: (_ for _ in ()).throw(build.DocsError("no sources here")))
    assert build.main(["--out", str(tmp_path / "site")]) == 2
    assert capsys.readouterr().err.strip() == "error: no sources here"
    assert not (tmp_path / "site").exists()


@pytest.mark.parametrize("signum, status", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_stops_a_build_and_keeps_the_previous_site(tmp_path, signum, status):
    out = tmp_path / "site"
    out.mkdir()
    (out / "index.html").write_text("the previous site")
    proc = subprocess.Popen([sys.executable, "-m", "physconv.docs", "--out", str(out)], cwd=tmp_path,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not any(p.name.startswith(".site.") for p in tmp_path.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)  # Sphinx has started
    proc.send_signal(signum)
    assert proc.wait(timeout=30) == status
    assert "interrupted: the previous site is unchanged" in proc.stderr.read()
    assert [p.name for p in tmp_path.iterdir()] == ["site"] and (out / "index.html").read_text() == "the previous site"


def test_an_out_folder_that_is_no_site_is_refused_and_left_alone(tmp_path, capsys):
    notes = tmp_path / "notes.txt"
    notes.write_text("mine")
    papers = tmp_path / "papers"
    papers.mkdir()
    (papers / "draft.tex").write_text("mine too")
    for target, says in [(notes, "a file, not a folder"), (papers, "holds something else than a site")]:
        assert build.main(["--out", str(target), "--quick"]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith(f"error: --out {target}") and says in err[0]
    assert notes.read_text() == "mine" and (papers / "draft.tex").read_text() == "mine too"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt", "papers"]


@pytest.mark.parametrize("example", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_every_gallery_example_runs(example, tmp_path, monkeypatch):
    import runpy

    import matplotlib

    matplotlib.use("Agg")
    monkeypatch.chdir(tmp_path)
    runpy.run_path(str(example), run_name="__main__")  # each checks its own claim (an assert)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The site built quickly (pages, links, API; nothing executed) while every notebook runs top to bottom in a
    Jupyter kernel of its own: side by side, a third of the wall time of one after the other."""
    from concurrent.futures import ThreadPoolExecutor

    import nbformat
    from nbclient import NotebookClient

    def execute(path):
        nb = nbformat.read(path, as_version=4)
        where = tmp_path_factory.mktemp(path.stem)
        NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(where)}}).execute()
        return nb

    with ThreadPoolExecutor(len(NOTEBOOKS) + 1) as pool:
        site = pool.submit(build.build, tmp_path_factory.mktemp("site") / "site", True)
        notebooks = dict(zip(NOTEBOOKS, pool.map(execute, NOTEBOOKS)))
        return site.result(), notebooks


@pytest.fixture(scope="module")
def quick_site(built):
    return built[0]


@pytest.fixture(scope="module")
def executed(built):
    return built[1]


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_every_notebook_runs_top_to_bottom(notebook, executed):
    nb = executed[notebook]
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert all(c.execution_count for c in nb.cells if c.cell_type == "code")  # every cell ran
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) >= 3


def test_in_a_kernel_progress_is_a_widget_and_results_are_html(executed):
    nb = executed[ROOT / "examples" / "diffusion_is_convolution.ipynb"]
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    run = next(c for c in nb.cells if c.cell_type == "code" and c.source.startswith("ds = physconv.run(s)"))
    kinds = {k for o in run.outputs for k in o.get("data", {})}
    text = "".join(o.get("text", "") for o in run.outputs)
    assert "application/vnd.jupyter.widget-view+json" in kinds  # the progress bar is a notebook widget
    assert "started" not in text  # not the log's one line per method
    html = [o["data"]["text/html"] for o in outputs if "text/html" in o.get("data", {})]
    assert any("physconv scenario" in h for h in html)
    assert any("physconv result" in h and "agree to round-off" in h for h in html)
    assert any("data:image/gif;base64," in h for h in html)  # the animation plays inline


@pytest.mark.slow
def test_the_whole_site_builds_with_every_example_notebook_and_figure_executed(tmp_path):
    index = build.build(tmp_path / "site")
    site = index.parent
    gallery = sorted(p.name for p in (site / "_images").glob("sphx_glr_plot_*.png"))
    assert {p.stem for p in EXAMPLES} <= {re.sub(r"_\d{3}$", "", Path(n).stem).removeprefix("sphx_glr_")
                                          for n in gallery}
    page = (site / "notebooks" / "diffusion_is_convolution.html").read_text()
    assert "agree to round-off" in page and "data:image/gif;base64," in page

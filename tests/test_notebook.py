"""physconv in a notebook (DESIGN §13): rich HTML that parses, the comparison as a DataFrame equal to the printed
table, progress that goes where it can be seen, plots that return their Figure and draw on a given panel,
animations that play inline."""

import base64
import io
import sys
import xml.etree.ElementTree as ET

import matplotlib
import numpy as np
import pytest
from PIL import Image

from physconv import _progress, comparison, metrics, notebook, runner, scenario

matplotlib.use("Agg")

SMALL = {"name": "cells", "grid": {"shape": [20, 28]}, "boundary": {"y": "reflecting", "x": "periodic"},
         "diffusivity": 0.2, "initial": {"kind": "random_cubes", "seed": 2, "cube": 4},
         "time": {"dt": 1.0, "steps": 60, "save_every": 20},
         "methods": ["explicit", "implicit", "spectral", "gaussian", "monte_carlo"],
         "monte_carlo": {"particles": 20000, "seed": 1}}


@pytest.fixture(scope="module")
def ds():
    return runner.run(SMALL, progress=False)


def parses(html: str) -> ET.Element:
    return ET.fromstring(html)  # well-formed: every tag closed, every text escaped


def test_a_scenario_shows_its_keys():
    s = scenario.load(dict(SMALL, description="a <b>bold</b> & plain claim"))
    root = parses(s._repr_html_())
    text = "".join(root.itertext())
    for shown in ("cells", "20 x 28 cells", "y: reflecting, x: periodic", "explicit, implicit, spectral",
                  "20,000 lattice walkers", "a <b>bold</b> & plain claim"):  # the description shown, not run as HTML
        assert shown in text, shown
    assert root.find(".//b/b") is None


def test_a_result_shows_its_methods_walls_and_coloured_verdicts(ds):
    root = parses(ds.physconv._repr_html_())
    text = "".join(root.itertext())
    assert "explicit, implicit, spectral, gaussian, monte_carlo" in text and "y: reflecting, x: periodic" in text
    verdicts = [r[5] for r in metrics.rows(ds.physconv.compare().dataset)]
    spans = {s.text: s.get("style") for s in root.iter("span")}
    for v in verdicts:
        assert spans[v].startswith(f"color:{comparison.colour(v)};font-weight:bold")
    assert all(comparison.colour(v) == comparison.GOOD for v in verdicts)


def test_a_verdict_that_fails_is_red(ds):
    cmp = metrics.compare(ds).copy(deep=True)
    i = [str(p) for p in cmp["pair"].values].index("explicit-gaussian")
    cmp["predicted_rel_l2"][i] = cmp["predicted_rel_l2"][i] / 10  # theory now says ten times less
    c = comparison.Comparison(cmp)
    assert not c.ok
    row = c.frame.set_index("pair").loc["explicit-gaussian"]
    assert row.verdict.startswith("larger than predicted") and comparison.colour(row.verdict) == comparison.BAD
    red = [s for s in parses(c._repr_html_()).iter("span") if s.text == row.verdict]
    assert red and comparison.BAD in red[0].get("style")


@pytest.mark.parametrize("verdict, colour", [
    ("agree to round-off", comparison.GOOD), ("as predicted (measured/predicted 1.31)", comparison.GOOD),
    ("consistent (z bound 6.6, min chi2 p 0.2)", comparison.GOOD), ("DISAGREE", comparison.BAD),
    ("smaller than predicted (x2.5)", comparison.NOTE), ("INCONSISTENT (z bound 6.6, ...)", comparison.BAD),
    ("approximation (no prediction)", comparison.NOTE), (metrics.MISSING, comparison.BAD)])
def test_verdict_colours(verdict, colour):
    assert comparison.colour(verdict) == colour


def test_the_dataframe_is_the_printed_table(ds):
    cmp = ds.physconv.compare()
    df, text = cmp.frame, metrics.rows(cmp.dataset)
    assert list(df["pair"]) == [r[0] for r in text] and list(df["kind"]) == [r[1] for r in text]
    for (_, row), cells in zip(df.iterrows(), text):
        assert row.verdict == cells[5]
        assert f"{row.rel_l2_last:.3e}" == cells[3]
        assert ("" if np.isnan(row.predicted_rel_l2_last) else f"{row.predicted_rel_l2_last:.3e}") == cells[4] \
            or row.kind == "stat"
        if row.kind == "stat":
            assert f"max|z| {row.max_abs_z:.2f}" == cells[2] and f"{row.predicted_rel_l2_last:.3e}" == cells[4]
            assert f"z bound {row.z_bound:.2f}" in cells[5] and f"p {row.min_chi2_p:.2g}" in cells[5]
        else:
            assert f"{row.max_abs_diff_rel:.3e}" == cells[2]
    assert str(cmp) == metrics.table(cmp.dataset)
    mass = comparison.mass_frame(cmp.dataset)
    np.testing.assert_array_equal(mass["mass_drift_last"].values, cmp.dataset["mass_drift"][:, -1].values)


def test_progress_goes_where_it_can_be_seen(monkeypatch):
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False, raising=False)
    monkeypatch.setattr(_progress, "in_notebook", lambda: False)
    assert (_progress.mode(None), _progress.mode(True), _progress.mode(False)) == ("lines", "bar", "off")
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    assert _progress.mode(None) == "bar" and _progress.mode(False) == "off"
    from tqdm.std import tqdm as text_bar

    assert _progress.bar_class() is text_bar
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False, raising=False)
    monkeypatch.setattr(_progress, "in_notebook", lambda: True)
    assert _progress.mode(None) == "bar"
    from importlib.util import find_spec

    if find_spec("ipywidgets") is not None:
        from tqdm.notebook import tqdm as widget_bar

        assert _progress.bar_class() is widget_bar


def test_outside_a_kernel_there_is_no_notebook():
    assert _progress.in_notebook() is False  # pytest is no Jupyter kernel, whether or not IPython is imported


def test_a_log_gets_one_line_per_method_as_it_starts_and_ends(capsys, monkeypatch):
    monkeypatch.setattr(_progress, "in_notebook", lambda: False)
    runner.run(dict(SMALL, methods=["explicit", "gaussian"]), progress=None)
    err = [line for line in capsys.readouterr().err.splitlines() if line.startswith("cells: ")]
    assert err[0] == "cells: explicit started" and err[2] == "cells: gaussian started"
    assert err[1].startswith("cells: explicit done in ") and err[3].startswith("cells: gaussian done in ")
    assert len(err) == 4


@pytest.mark.parametrize("name", ["errors", "monte_carlo_errors", "profiles"])
def test_one_panel_plots_draw_on_the_panel_given_and_return_its_figure(ds, name):
    from matplotlib.figure import Figure

    from physconv import plot

    fig = Figure()
    left, right = fig.subplots(1, 2)
    assert getattr(plot, name)(ds, ax=right) is fig
    assert right.lines and not left.lines
    alone = getattr(plot, name)(ds)
    assert isinstance(alone, Figure) and len(alone.axes[0].lines) == len(right.lines)


def test_the_survival_panel_and_a_sub_figure_return_the_outer_figure():
    from matplotlib.figure import Figure

    from physconv.plot_medium import survival

    leaky = runner.run(dict(SMALL, boundary="absorbing", obstacles={"kind": "shapes", "shapes": [
        {"kind": "disc", "centre": [10, 14], "radius": 3}], "clear": True}, methods=["explicit", "semidiscrete"]),
        progress=False)
    fig = Figure()
    sub = fig.subfigures(1, 2)[1]
    ax = sub.subplots()
    assert survival(leaky, ax=ax) is fig and len(ax.lines) == 2


def test_an_animation_plays_inline_and_saves_the_same_gif(ds, tmp_path):
    movie = ds.physconv.animate(tmp_path / "a.gif", methods=["explicit", "monte_carlo"])
    html = movie._repr_html_()
    img = parses(html)
    data = base64.b64decode(img.get("src").split(",", 1)[1])
    assert data == (tmp_path / "a.gif").read_bytes() == movie.data
    gif = Image.open(io.BytesIO(data))
    assert gif.format == "GIF" and gif.n_frames == ds.sizes["time"]


def test_the_accessor_plots_by_name_and_refuses_unknown_kinds(ds):
    from matplotlib.figure import Figure

    assert isinstance(ds.physconv.plot(), Figure) and isinstance(ds.physconv.plot("snapshots"), Figure)
    with pytest.raises(ValueError, match="choose overview"):
        ds.physconv.plot("histogram")
    assert "agree to round-off" in repr(ds.physconv)


def test_a_dataset_that_is_no_result_says_so():
    import xarray as xr

    other = xr.Dataset({"a": ("x", [1.0])})
    assert "not a physconv result" in other.physconv._repr_html_() and "not a physconv result" in repr(other.physconv)


def test_notebook_rows_name_the_units():
    s = scenario.load("salt_in_water")
    rows = dict(notebook.scenario_rows(s))
    assert rows["diffusivity"] == "0.0015 mm²/s" and rows["units"] == "length mm, time s"
    assert "to t = 4 h" in rows["size"]


def test_in_a_notebook_without_ipywidgets_the_bar_is_text(monkeypatch):
    import importlib.util

    from tqdm.std import tqdm as text_bar

    real = importlib.util.find_spec
    monkeypatch.setattr(_progress, "in_notebook", lambda: True)
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "ipywidgets" else real(name, *a))
    assert _progress.mode(None) == "bar" and _progress.bar_class() is text_bar  # tqdm.auto would warn here instead

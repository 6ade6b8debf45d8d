"""The README's Python examples run as printed: each block on its own, from any working directory."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
PAGES = [README] + [ROOT / "docs" / f"{name}.md" for name in ("guide", "media", "inverse", "getting-started",
                                                             "notebooks", "units")]
BLOCKS = [(page, i, block) for page in PAGES
          for i, block in enumerate(re.findall(r"```python\n(.*?)```", page.read_text(), flags=re.S))]


def test_the_readme_and_the_guide_show_python_examples():
    assert sum(page == README for page, _, _ in BLOCKS) >= 1 and len(BLOCKS) >= 4


@pytest.mark.parametrize("page, index, block", BLOCKS, ids=[f"{p.name}-{i + 1}" for p, i, _ in BLOCKS])
def test_python_block_runs_alone_from_a_temporary_directory(page, index, block, tmp_path, monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    monkeypatch.chdir(tmp_path)  # nothing may depend on the repository being the working directory
    exec(compile(block, f"{page}, python block {index + 1}", "exec"), {})


ROUND_OFF = re.compile(r"\d\.\d{3}e-1[2-9]")  # a round-off figure: its digits depend on the machine


def test_the_readmes_sample_output_is_what_the_shipped_scenario_prints():
    """The README's table is the run's (round-off figures compared by their size only): regenerate it with
    `physconv run salt_aquarium` when a method or the scenario changes."""
    from physconv import metrics, runner

    shown = re.search(r"```\n(pair .*?)```", README.read_text(), flags=re.S).group(1).strip().splitlines()
    table = metrics.table(metrics.compare(runner.run("salt_aquarium", progress=False))).splitlines()
    printed = table[:len(shown)]
    assert [ROUND_OFF.sub("<round-off>", line) for line in printed] == \
        [ROUND_OFF.sub("<round-off>", line) for line in shown]


SCALE_OUT = Path(__file__).resolve().parents[1] / "docs" / "scale-out.md"


def test_the_chunked_grid_example_of_the_scale_out_guide_runs(tmp_path, monkeypatch):
    block = next(b for b in re.findall(r"```python\n(.*?)```", SCALE_OUT.read_text(), flags=re.S)
                 if "distributed.diffuse" in b)
    monkeypatch.chdir(tmp_path)
    exec(compile(block, f"{SCALE_OUT}, chunked grid example", "exec"), {})
    assert (tmp_path / "frames.zarr").is_dir()

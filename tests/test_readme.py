"""The README's Python examples run as printed: each block on its own, from any working directory."""

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_the_readme_shows_python_examples():
    assert len(BLOCKS) >= 3


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_python_block_runs_alone_from_a_temporary_directory(index, tmp_path, monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    monkeypatch.chdir(tmp_path)  # nothing may depend on the repository being the working directory
    exec(compile(BLOCKS[index], f"{README}, python block {index + 1}", "exec"), {})


SCALE_OUT = Path(__file__).resolve().parents[1] / "docs" / "scale-out.md"


def test_the_chunked_grid_example_of_the_scale_out_guide_runs(tmp_path, monkeypatch):
    block = next(b for b in re.findall(r"```python\n(.*?)```", SCALE_OUT.read_text(), flags=re.S)
                 if "distributed.diffuse" in b)
    monkeypatch.chdir(tmp_path)
    exec(compile(block, f"{SCALE_OUT}, chunked grid example", "exec"), {})
    assert (tmp_path / "frames.zarr").is_dir()

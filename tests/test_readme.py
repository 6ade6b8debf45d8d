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

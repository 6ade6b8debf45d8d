"""The benchmark suite runs: every peer is checked against physconv (tiny sizes; no speed is asserted)."""

import numpy as np
import pytest

from benchmarks import __main__ as suite
from benchmarks import peers


def test_each_peer_computes_the_same_field_and_the_suite_reports_it(capsys):
    suite.ROWS.clear()
    suite.ftcs(24, 5, 1)
    suite.gaussian(32, 1)
    suite.walks(20_000, 3, 1)
    suite.spectral_flat(16, 1)
    suite.float32_storage((12, 10, 8), 4, 1)
    suite.ftcs_1d(20_000, 70, 1)
    suite.kernel_steps(20, 5, 3, 1)
    rows = suite.ROWS
    assert {r["task"] for r in rows} >= {"FTCS reflecting 1-D", "kernel 5x5 periodic"}
    assert {r["method"] for r in rows if r["task"] == "FTCS reflecting"} >= {"physconv", "numpy in place",
                                                                            "scipy.ndimage"}
    assert all(r["check"].startswith(("reference", "same field", "consistent", "max diff")) for r in rows if "check" in r)
    assert "physconv" in capsys.readouterr().out


def test_the_integer_walk_moves_like_the_ftcs_kernel():
    rng = np.random.default_rng(0)
    pos = np.full((2, 200_000), 50, dtype=np.int16)
    moved = peers.numpy_walk_integers(pos.copy(), 1, (100, 100), rng) - 50
    share = np.mean(np.all(moved == 0, axis=0))
    assert abs(share - 0.2) < 5 * np.sqrt(0.2 * 0.8 / 200_000)  # stays with probability 1 - 4r = 0.2


@pytest.mark.slow  # depends on the system's accounting of kernel time, which a busy machine blurs
def test_kernel_time_is_measured_per_method_and_noted_where_it_is_large(capsys):
    """A method that maps and touches fresh memory on every call spends kernel time, and its row says so; a
    method that only computes in memory it already has does not."""
    from benchmarks.timing import interleaved

    kept, out = np.ones(2**20), np.empty(2**20)

    def compute():  # about 20 ms in memory it already has
        for _ in range(20):
            np.sin(kept, out=out)

    def fresh():
        a = np.empty(2**25)  # 256 MiB: the kernel maps and zeroes every page as it is first written
        a[::512] = 1.0

    seconds = interleaved({"physconv": compute, "fresh memory": fresh}, 3)
    assert seconds.system["fresh memory"] > 10 * seconds.system["physconv"]
    suite.ROWS.clear()
    suite.report("memory", "-", seconds, 1.0, "calls/s", checks={"physconv": "reference", "fresh memory": "none"})
    rows = {r["method"]: r for r in suite.ROWS}
    assert rows["fresh memory"]["check"].startswith("none; kernel ")
    assert rows["physconv"]["check"] == "reference"
    assert "a call" in capsys.readouterr().out

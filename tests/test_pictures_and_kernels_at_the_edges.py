"""Inputs at the edges: pictures of 16 and 32 bits, pictures with no orientation, things that are not
picture files, kernel weights whose sum overflows."""

import os

import numpy as np
import pytest
from PIL import Image

from physconv import cli, kernels
from physconv.errors import KernelError
from physconv.initial import read_picture


def test_a_float_picture_is_scaled_from_its_own_range(tmp_path):
    data = np.random.default_rng(1).normal(3.0, 50.0, (23, 31)).astype(np.float32)
    Image.fromarray(data, mode="F").save(tmp_path / "f.tif")
    got = np.flipud(read_picture(tmp_path / "f.tif", (23, 31)))
    np.testing.assert_allclose(got, (data - data.min()) / (data.max() - data.min()), atol=1e-6)


def test_a_16_bit_picture_is_read_over_its_full_range(tmp_path):
    data = np.random.default_rng(2).integers(0, 65536, (17, 12)).astype(np.uint16)
    Image.fromarray(data).save(tmp_path / "p.png")
    got = np.flipud(read_picture(tmp_path / "p.png", (17, 12)))
    np.testing.assert_allclose(got, data / 65535.0, atol=1e-6)


@pytest.mark.parametrize("size, value, says", [((5, 3), 90, "fewer than 8 pixels"), ((80, 100), 200, "constant"),
                                               ((9, 64), 0, "constant")])
def test_a_picture_without_orientation_is_refused_by_the_spectrum_insight(tmp_path, capsys, size, value, says):
    Image.fromarray(np.full(size, value, np.uint8)).save(tmp_path / "p.png")
    assert cli.main(["insight", "spectrum", "--image", str(tmp_path / "p.png"), "--out", str(tmp_path / "o.png")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and says in err[0] and not (tmp_path / "o.png").exists()


@pytest.mark.parametrize("make", ["fifo", "folder"])
def test_something_that_is_not_a_picture_file_is_named_as_such(tmp_path, capsys, make):
    target = tmp_path / "thing.png"
    os.mkfifo(target) if make == "fifo" else target.mkdir()
    assert cli.main(["insight", "edge", "--image", str(target)]) == 2
    err = capsys.readouterr().err
    assert "not a regular file" in err or "is a directory" in err


@pytest.mark.parametrize("weights", [[1e307] * 5, [[1e307, 0, 1e307]] * 3, [-1e308, 1.0, 1e308]])
def test_kernel_weights_whose_sum_overflows_are_refused(weights):
    with pytest.raises(KernelError, match="too large to sum"):
        kernels.check(weights)
    assert cli.main(["kernel", str(weights)]) == 2

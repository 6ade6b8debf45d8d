import numpy as np
import pytest


@pytest.fixture
def rng():
    """A fixed-seed generator: every test sees the same numbers on every run."""
    return np.random.default_rng(20261124)


@pytest.fixture(scope="module")
def client():
    """An in-process Dask cluster (threads) on the loopback: monkeypatched code is what the workers run."""
    from distributed import Client, LocalCluster

    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address="127.0.0.1:0")
    c = Client(cluster)
    yield c
    c.close()
    cluster.close()

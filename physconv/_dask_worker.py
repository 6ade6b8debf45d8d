"""Set-up of the worker processes of a local Dask cluster that physconv starts (a Dask preload module)."""

import signal


def dask_setup(worker) -> None:
    """Leave Ctrl-C to the process that started the cluster.

    A terminal sends SIGINT to every process of its group, the workers included; each used to stop
    with a traceback of its own while the starting process was already closing the cluster and
    printing its one line. Workers now ignore it and are closed by that process.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)

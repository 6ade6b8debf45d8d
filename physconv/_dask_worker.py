"""Set-up of the worker processes of a local Dask cluster that physconv starts (a Dask preload module)."""

import signal


def dask_setup(worker) -> None:
    """Leave Ctrl-C to the process that started the cluster.

    A terminal sends SIGINT to every process of its group, the workers included; each used to stop
    with a traceback of its own while the starting process was already closing the cluster and
    printing its one line. Workers now ignore it and are closed by that process.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    import logging

    logging.getLogger("distributed.worker").addFilter(_LostScheduler())


class _LostScheduler:
    """Drops the worker's "failed to communicate with scheduler during heartbeat" report (with its
    traceback): it comes only when the scheduler has gone, that is when the command that started the cluster
    is closing it after Ctrl-C, SIGTERM or an error, and says so itself in one line."""

    def filter(self, record) -> bool:
        return "Failed to communicate with scheduler during heartbeat" not in record.getMessage()

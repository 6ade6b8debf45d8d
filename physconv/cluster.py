"""The Dask cluster a sweep runs on: a local one started here (on the loopback only), or a running
scheduler given by its address, checked before anything connects; and closing it, at once after an
interrupt.
"""

from __future__ import annotations

import os
import re
import time

from .errors import PhysconvError

SCHEMES = ("tcp", "tls", "ws", "wss")  # the transports a scheduler in another process can be reached by
WAIT_NOTE_SECONDS = 5  # a scheduler without workers: said after this long, then waited for up to the timeout


class ClusterError(PhysconvError):
    """A scheduler address that cannot be used, or a cluster that cannot be reached or has no workers."""


def scheduler_address(text: str) -> str:
    """``[SCHEME://]HOST:PORT`` checked (SCHEME one of :data:`SCHEMES`, tcp when absent; PORT 1-65535);
    the address with its scheme. Raises ClusterError naming the option and what is wrong."""
    where = f"--scheduler {text!r}"
    if not text or not text.strip():
        raise ClusterError(f"{where}: empty; give the address of a running scheduler, e.g. tcp://10.0.0.5:8786 "
                           "(or leave --scheduler out for a local cluster)")
    text = text.strip()
    scheme, sep, rest = text.partition("://")
    if not sep:
        scheme, rest = "tcp", text
    if scheme not in SCHEMES:
        raise ClusterError(f"{where}: the scheme {scheme!r} is not one of {', '.join(SCHEMES)} "
                           "(a scheduler in another process)")
    m = re.fullmatch(r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):([0-9]+)/?", rest)
    if not m:
        raise ClusterError(f"{where}: expected {scheme}://HOST:PORT (a host name or IP address, then a port)")
    port = int(m.group(2))
    if not 1 <= port <= 65535:
        raise ClusterError(f"{where}: port {port} is not from 1 to 65535")
    return f"{scheme}://{m.group(1)}:{port}"


LOOPBACK = "127.0.0.1"  # where a local cluster listens: nothing of it is reachable from another machine


def connect(workers: int | None = None, scheduler: str | None = None, timeout: float = 30.0, say=None):
    """A dask.distributed Client: to the scheduler at ``scheduler`` (checked by :func:`scheduler_address`;
    reached and given at least one worker within ``timeout`` seconds, ``say`` told after
    :data:`WAIT_NOTE_SECONDS` of waiting for one), or to a new LocalCluster of ``workers`` processes
    (default: one per core) with one thread each, listening on the loopback only."""
    import logging

    from distributed import Client, LocalCluster

    if scheduler is not None:
        address = scheduler_address(scheduler)
        start = time.monotonic()
        try:
            client = Client(address, timeout=f"{timeout}s")
        except (OSError, TimeoutError) as exc:
            raise ClusterError(f"--scheduler {scheduler}: cannot reach a dask scheduler there within {timeout:g} s "
                               f"({type(exc).__name__}); is it running? (--timeout sets the wait)") from None
        try:
            _wait_for_a_worker(client, address, timeout - (time.monotonic() - start), timeout, say)
        except BaseException:
            client.close()
            raise
        return client
    n = workers or os.cpu_count() or 1
    _start_resource_tracker()
    # every socket on the loopback: the scheduler, the workers and the scheduler's web pages (a random port)
    cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, host=LOOPBACK,
                           dashboard_address=f"{LOOPBACK}:0", worker_dashboard_address=f"{LOOPBACK}:0",
                           silence_logs=logging.ERROR, preload=["physconv._dask_worker"])
    return Client(cluster)


def _start_resource_tracker() -> None:
    """Start multiprocessing's resource tracker (once) without its note about semaphores left behind.

    Workers ended after Ctrl-C (:func:`close`) leave their semaphores registered; the tracker removes
    them itself when this process exits, and its "leaked semaphore objects" warning is not news to
    someone who has just pressed Ctrl-C.
    """
    from multiprocessing import resource_tracker

    old = os.environ.get("PYTHONWARNINGS")
    os.environ["PYTHONWARNINGS"] = ",".join(filter(None, [old, "ignore::UserWarning:multiprocessing.resource_tracker"]))
    try:
        resource_tracker.ensure_running()
    finally:
        if old is None:
            del os.environ["PYTHONWARNINGS"]
        else:
            os.environ["PYTHONWARNINGS"] = old


HURRY_SECONDS = 0.25  # how long a worker gets to stop by itself after Ctrl-C before it is terminated


def close(client, local: bool, hurry: bool = False) -> None:
    """Close ``client``, and with ``local`` the cluster :func:`connect` started for it.

    ``hurry`` (after Ctrl-C, SIGTERM or an error): the local worker processes are ended at once
    (after :data:`HURRY_SECONDS`) instead of being given 4 s to finish the variants they run (those are
    not marked done, so the same command runs them again).
    """
    import asyncio

    cluster = client.cluster if local else None
    if hurry and cluster is not None:
        nannies = list(cluster.workers.values())

        async def end():  # each worker is asked to stop, and after HURRY_SECONDS terminated
            await asyncio.gather(*(n.close(timeout=HURRY_SECONDS) for n in nannies), return_exceptions=True)

        cluster.sync(end)
    client.close()
    if cluster is not None:
        cluster.close()




def _wait_for_a_worker(client, address: str, timeout: float, total: float, say) -> None:
    """Return once the scheduler has a worker; say so after WAIT_NOTE_SECONDS; ClusterError after ``timeout``
    more seconds (``total``: the whole wait the user gave)."""
    first = min(WAIT_NOTE_SECONDS, max(timeout, 0.1))
    try:
        client.wait_for_workers(1, timeout=first)
        return
    except TimeoutError:
        pass
    if timeout <= first:
        raise ClusterError(f"--scheduler {address}: the scheduler has no workers (waited {total:g} s; start "
                           "some with `dask worker ADDRESS`, or wait longer with --timeout)")
    if say is not None:
        say(f"the scheduler at {address} has no workers yet; waiting up to {total:g} s in all (--timeout) for "
            "one (`dask worker ADDRESS` starts one)")
    try:
        client.wait_for_workers(1, timeout=timeout - first)
    except TimeoutError:
        raise ClusterError(f"--scheduler {address}: no worker joined the scheduler within {total:g} s; start "
                           "some with `dask worker ADDRESS`, or wait longer with --timeout") from None

"""The cluster a sweep runs on: scheduler addresses checked before anything connects, an unreachable or
worker-less scheduler said in one line within the timeout."""

import socket
import subprocess
import sys
import time

import pytest

from physconv import cli, cluster

from .test_sweep import _write


@pytest.mark.parametrize("given, address", [
    ("tcp://127.0.0.1:8786", "tcp://127.0.0.1:8786"),
    ("10.1.2.3:9000", "tcp://10.1.2.3:9000"),
    (" tls://sched.example.org:443/ ", "tls://sched.example.org:443"),
    ("tcp://[::1]:8786", "tcp://[::1]:8786"),
    ("ws://node-7:1", "ws://node-7:1"),
])
def test_scheduler_addresses_that_are_accepted(given, address):
    assert cluster.scheduler_address(given) == address


@pytest.mark.parametrize("given, says", [
    ("", "empty"), ("   ", "empty"),
    ("foo", "expected tcp://HOST:PORT"), ("127.0.0.1", "expected tcp://HOST:PORT"), ("tcp://", "expected tcp://HOST:PORT"),
    ("tcp://127.0.0.1:abc", "expected tcp://HOST:PORT"), ("tcp://127.0.0.1:", "expected tcp://HOST:PORT"),
    ("tcp://host name:80", "expected tcp://HOST:PORT"),
    ("inproc://x", "the scheme 'inproc' is not one of"), ("http://127.0.0.1:8787", "the scheme 'http'"),
    ("bogus://x:1", "the scheme 'bogus'"),
    (":99999", "expected tcp://HOST:PORT"), ("tcp://127.0.0.1:99999", "port 99999 is not from 1 to 65535"),
    ("tcp://127.0.0.1:0", "port 0 is not from 1 to 65535"),
])
def test_bad_scheduler_addresses_are_one_line_before_any_work(tmp_path, capsys, given, says):
    path = _write(tmp_path)
    store = tmp_path / "s.zarr"
    t0 = time.monotonic()
    status = cli.main(["sweep", str(path), "--set", "diffusivity=0.1,0.2", "--scheduler", given, "--out", str(store)])
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2 and len(err) == 1 and err[0].startswith("error: --scheduler") and says in err[0], err
    assert time.monotonic() - t0 < 5 and not store.exists()


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_port_where_nothing_listens_is_refused_within_the_timeout(tmp_path, capsys):
    t0 = time.monotonic()
    status = cli.main(["sweep", str(_write(tmp_path)), "--set", "diffusivity=0.1,0.2", "--out", str(tmp_path / "s.zarr"),
                       "--scheduler", f"127.0.0.1:{_free_port()}", "--timeout", "1"])
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2 and err[-1].startswith("error: --scheduler") and "cannot reach a dask scheduler" in err[-1]
    assert time.monotonic() - t0 < 15


def test_a_scheduler_without_workers_is_said_and_refused_after_the_timeout(tmp_path, capsys, monkeypatch):
    """A real `dask scheduler` on 127.0.0.1 with no worker: a note after a short wait, one error at the timeout."""
    monkeypatch.setattr(cluster, "WAIT_NOTE_SECONDS", 1)
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port",
                             str(port), "--no-dashboard"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        from distributed import Client

        deadline = time.monotonic() + 60
        while True:  # until the scheduler answers
            try:
                Client(f"tcp://127.0.0.1:{port}", timeout="2s").close()
                break
            except (OSError, TimeoutError):
                assert time.monotonic() < deadline
        store = tmp_path / "s.zarr"
        status = cli.main(["sweep", str(_write(tmp_path)), "--set", "diffusivity=0.1,0.2", "--out", str(store),
                           "--scheduler", f"tcp://127.0.0.1:{port}", "--timeout", "3"])
        err = capsys.readouterr().err.strip().splitlines()
        assert status == 2
        assert any("has no workers yet; waiting up to 3 s" in line for line in err)
        assert err[-1].startswith("error: --scheduler") and "no worker joined the scheduler within 3 s" in err[-1]
        assert not any(line.startswith("[") for line in err)  # nothing ran
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@pytest.mark.parametrize("workers", [4096, 2000])
def test_too_many_local_workers_for_the_memory_is_blamed_on_workers(tmp_path, capsys, workers):
    status = cli.main(["sweep", str(_write(tmp_path)), "--set", "diffusivity=0.1,0.2", "--workers", str(workers),
                       "--out", str(tmp_path / "s.zarr")])
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2 and len(err) == 1 and err[0].startswith(f"error: --workers {workers}: the local workers share")
    fit = int(err[0].split("use --workers ")[1].split()[0])
    assert 1 <= fit < workers and not (tmp_path / "s.zarr").exists()


def test_a_workers_heartbeat_to_a_closed_scheduler_is_not_printed_and_other_errors_are():
    """While the command closes its cluster after Ctrl-C, a worker may still try to reach the scheduler;
    that report (with its traceback) was printed beside the command's one line."""
    import logging

    from physconv._dask_worker import _LostScheduler

    def record(message):
        return logging.LogRecord("distributed.worker", logging.ERROR, __file__, 1, message, None, None)

    keep = _LostScheduler()
    assert not keep.filter(record("Failed to communicate with scheduler during heartbeat."))
    assert keep.filter(record("Compute Failed"))

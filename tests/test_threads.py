"""Idle threads of the compiled loops sleep unless the user chose otherwise; short parallel regions give
way to one thread when that measures faster."""

import os
import subprocess
import sys

import numpy as np
import pytest


def _policy(env):
    code = "import os, physconv; print(os.environ.get('OMP_WAIT_POLICY'))"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return out.stdout.strip()


def test_importing_physconv_asks_for_sleeping_threads_unless_a_policy_or_spin_count_is_set():
    base = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
    assert _policy(base) == "PASSIVE"
    assert _policy(dict(base, OMP_WAIT_POLICY="active")) == "active"
    assert _policy(dict(base, GOMP_SPINCOUNT="1000")) == "None"


class _Clock:
    """Wall and CPU clocks that a test advances by hand."""

    def __init__(self):
        self.wall = self.cpu = 0.0

    def perf_counter(self):
        return self.wall

    def process_time(self):
        return self.cpu


def _run(monkeypatch, cost, chunks, work=1 << 20):
    """Threads used per chunk when a chunk of 10 steps on ``t`` threads takes ``cost(i, t)`` = (wall, cores busy)."""
    import numba

    from physconv import _threads

    clock = _Clock()
    monkeypatch.setattr(_threads, "time", clock)
    choice = _threads.ThreadChoice(work)
    used = []
    for i in range(chunks):
        with choice.chunk(10) as t:
            assert numba.get_num_threads() == t
            wall, cores = cost(i, t)
            clock.wall += wall
            clock.cpu += wall * cores
        used.append(t)
    return used, choice.all


def test_threads_that_keep_their_cores_busy_are_never_traded_for_one(monkeypatch):
    used, every = _run(monkeypatch, lambda i, t: (1.0 / t ** 0.5, 0.9 * t), 40)
    if every == 1:
        pytest.skip("numba runs one thread here")
    assert used == [every] * 40


def test_idle_threads_lead_to_one_thread_and_back_when_the_load_goes(monkeypatch):
    from physconv import _threads

    def busy_then_quiet(i, t):
        if i < 60:  # beside busy processes: all threads slower than one, their cores mostly idle
            return (3.0, 0.3 * t) if t > 1 else (1.0, 1.0)
        return (0.5, 0.95 * t) if t > 1 else (1.0, 1.0)

    used, every = _run(monkeypatch, busy_then_quiet, 160)
    if every == 1:
        pytest.skip("numba runs one thread here")
    early = used[:60]
    assert early[0] == every and early[1] == every and early[2] == 1  # measured, then one thread tried
    probes = [i for i in range(3, 60) if early[i] == every]
    gaps = np.diff(probes)
    assert len(probes) >= 3 and all(b >= a for a, b in zip(gaps, gaps[1:]))  # probes grow rarer while they lose
    assert max(gaps) <= _threads.MAX_GAP + 1 and gaps[-1] > gaps[0]
    after = used[60:]
    back = after.index(every)  # the next probe finds the quiet machine and keeps all threads
    assert back <= _threads.MAX_GAP + 1 and set(after[back:]) == {every}


def test_small_work_runs_on_one_thread_and_the_count_is_restored_after_an_error(monkeypatch):
    import numba

    from physconv import _threads

    before = numba.get_num_threads()
    used, every = _run(monkeypatch, lambda i, t: (1.0, 1.0), 5, work=_threads.SERIAL_BELOW - 1)
    assert every == 1 and used == [1] * 5
    choice = _threads.ThreadChoice(1 << 20)
    with pytest.raises(KeyboardInterrupt):
        with choice.chunk(1):
            numba.set_num_threads(1)
            raise KeyboardInterrupt
    assert numba.get_num_threads() == before

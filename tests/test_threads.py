"""Idle threads of the compiled loops sleep unless the user chose otherwise."""

import os
import subprocess
import sys


def _policy(env):
    code = "import os, physconv; print(os.environ.get('OMP_WAIT_POLICY'))"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return out.stdout.strip()


def test_importing_physconv_asks_for_sleeping_threads_unless_a_policy_or_spin_count_is_set():
    base = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
    assert _policy(base) == "PASSIVE"
    assert _policy(dict(base, OMP_WAIT_POLICY="active")) == "active"
    assert _policy(dict(base, GOMP_SPINCOUNT="1000")) == "None"

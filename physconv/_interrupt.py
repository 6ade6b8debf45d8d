"""Ctrl-C and SIGTERM that cannot be lost.

Python turns a signal into an exception in whatever Python code runs next; if that is a callback inside
a C library (llvmlite's, while Numba compiles), the exception is printed as "ignored" and lost. The
handlers here also record the request, and the long loops call :func:`check` between compiled chunks,
so an interrupt is honoured at the next chunk boundary even when its first exception was swallowed.
"""

from __future__ import annotations

import signal

_pending: list[int] = []


class Terminated(KeyboardInterrupt):
    """SIGTERM, handled like Ctrl-C (exit status 143 instead of 130)."""


def exception(signum: int) -> KeyboardInterrupt:
    """The exception a signal stands for: Terminated for SIGTERM, KeyboardInterrupt otherwise."""
    return Terminated() if signum == signal.SIGTERM else KeyboardInterrupt()


def handler(signum, frame):
    """Record the request, then raise at once (where that is possible)."""
    _pending.append(signum)
    raise exception(signum)


def check() -> None:
    """Raise the recorded interrupt, if any (called between chunks of compiled work)."""
    if _pending:
        signum = _pending[0]
        _pending.clear()
        raise exception(signum)


def clear() -> None:
    _pending.clear()


import sys  # noqa: F401

from .cli import entry

entry()

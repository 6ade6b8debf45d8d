"""physconv's benchmark suite: ``python -m benchmarks [--quick] [--json FILE]`` (see README.md here)."""

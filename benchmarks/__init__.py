"""Benchmarks: scripts anyone can run; results and method in docs/benchmarks.md."""

"""Benchmarks: never part of the test suite; each has its own Makefile target."""

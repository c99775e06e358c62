"""Benchmarks (not tests): each compares against a limit measured in the same run."""

"""Shared kernel: money, ids, settings, errors and the clock. Imports nothing of ours."""

"""Amortised intrinsic dimension and compression bounds for deep multi-task learning.

Each submodule has one job; see the data flow in README.md.
"""

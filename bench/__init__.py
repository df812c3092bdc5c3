"""Benchmarks: the lab's recipe against ours, side by side in one run (not tests).

Run ``python -m bench [--quick] [--json] [--load]``. Every compared figure is
measured in the same run, and the comparison is reported as a ratio, because the
machines these run on are shared and noisy. Importing this package does nothing.
"""

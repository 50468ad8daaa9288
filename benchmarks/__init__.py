"""Benchmarks and evaluation harnesses (``make bench``, ``make quality``): not part of the package.

Each prints its figures beside a baseline measured in the same run.
"""

"""Benchmarks and evaluation harnesses: kept out of the pipeline stages, run from the repository root."""

"""Benchmarks run by `electeur bench NAME`: one module each (NAME, HELP, register, run)."""

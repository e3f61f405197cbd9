"""Benchmarks: throughput of the sandbox, API calls per record of each sync direction, memory."""

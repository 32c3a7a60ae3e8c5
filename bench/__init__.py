"""Cobro's own benchmark: create-intent and webhook-ingest throughput and latency on loopback,
each beside a bare baseline measured in the same run. Run ``python -m bench.run --help``."""

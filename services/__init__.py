"""Cobro's application layer: use cases, persistence, the HTTP API, the worker and the CLI."""

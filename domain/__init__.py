"""Cobro's pure core: money, the payment intent and refund aggregates, domain events and the
provider protocol. Standard library and msgspec only; a test enforces it."""

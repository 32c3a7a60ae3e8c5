"""Inbound provider webhooks: raw-body capture, verification, store-once, hand-off."""

"""Metrics (Prometheus) and structured logs of a region process."""

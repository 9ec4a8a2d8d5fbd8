"""Strategies choosing targets (fallback, loadbalance, conditional), the executor (docs/architecture.md)."""

"""Request stages around a leaf, each a Handler: retry, cache, guardrails (see docs/architecture.md)."""

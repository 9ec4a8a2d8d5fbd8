"""The registry of built-in checks (a fresh one per call: registries belong to gateways)."""

from __future__ import annotations

from .builtin_json import JSON_CHECKS
from .builtin_text import TEXT_CHECKS
from .network import NETWORK_CHECKS
from .pii import PII_CHECKS
from .registry import CheckRegistry

__all__ = ["default_registry"]


def default_registry() -> CheckRegistry:
    """A new registry holding every built-in ``default.*`` check."""
    return CheckRegistry(
        {check.id: check for check in (*TEXT_CHECKS, *JSON_CHECKS, *NETWORK_CHECKS, *PII_CHECKS)}
    )

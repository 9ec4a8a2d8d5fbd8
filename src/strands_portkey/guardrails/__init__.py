"""Guardrails: Portkey's hook checks, implemented locally.

Checks are registered in a :class:`CheckRegistry` (``default_registry()`` holds the built-ins:
regex match, contains, word / sentence / character counts, JSON schema and keys, valid URLs,
contains code, ends with, model allow-list, required metadata keys, allowed request types, all
upper / lower case, not null, PII detection and redaction, webhook). Hooks from a config are
compiled against a registry when a gateway is built, and run by
:mod:`strands_portkey.pipeline.guardrails`.
"""

from __future__ import annotations

from .builtins import default_registry
from .context import CheckContext
from .registry import CheckOutcome, CheckRegistry, ParameterError

__all__ = ["CheckContext", "CheckOutcome", "CheckRegistry", "ParameterError", "default_registry"]

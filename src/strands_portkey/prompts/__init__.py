"""Prompt management (issue 19): references (``name@12``, ``name@staging``) and Mustache rendering.

Pure modules, no store: the control plane (``controlplane/prompts_api.py``) keeps the prompts and
their snapshot; :mod:`.render` is the only importer of the Mustache library.
"""

from .refs import DEFAULT_LABELS, LATEST, PromptRef, parse_ref

__all__ = ["DEFAULT_LABELS", "LATEST", "PromptRef", "parse_ref"]
